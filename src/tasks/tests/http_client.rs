//! The Lambda Invoke API client against a tiny hyper server on 127.0.0.1:0.
use super::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;

/// A Lambda stand-in: `missing` → 404, `boom` → function error, anything else echoes.
async fn fake_lambda(
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().to_string();
    let tail = req.headers().contains_key("x-amz-log-type");
    let signed = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
                && v.contains("/lambda/aws4_request")
        });
    assert!(signed, "every call is SigV4-signed for lambda");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let resp = Response::builder().header("x-amzn-RequestId", "rid-1");
    let resp = if path.contains("missing") {
        resp.status(404)
            .header("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/")
            .body(Full::new(Bytes::from(r#"{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:111111111111:function:missing"}"#)))
    } else if path.contains("boom") {
        resp.header("X-Amz-Function-Error", "Unhandled").body(Full::new(Bytes::from(
            r#"{"errorMessage": "bad", "errorType": "ValueError", "requestId": "rid-1", "stackTrace": []}"#,
        )))
    } else {
        let resp = resp.header(
            "X-Amz-Executed-Version",
            if path.contains("Qualifier=v1") {
                "1"
            } else {
                "$LATEST"
            },
        );
        let resp = if tail {
            resp.header("X-Amz-Log-Result", "bG9n")
        } else {
            resp
        };
        resp.body(Full::new(body))
    };
    Ok(resp.expect("valid response"))
}

/// A Lambda client for `endpoint` signing with fixed test keys (never the credential chain, which
/// could look for an instance role off this machine).
fn client(endpoint: &str) -> LambdaHttpClient {
    use crate::tasks::aws::{AwsClient, AwsSettings, CredentialSource, Service};
    let mut settings = AwsSettings::default();
    settings.set_endpoint(Service::Lambda, endpoint);
    let creds = CredentialSource::fixed("AKIDTEST", "secret", None);
    LambdaHttpClient::with_client(Arc::new(AwsClient::new(settings, creds).unwrap()))
}

async fn start() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(fake_lambda);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn invokes_over_http() {
    let endpoint = start().await;
    let mut reg = TaskRegistry::new();
    reg.register_lambda(Arc::new(client(&endpoint)));
    let got = run(&reg, &format!("{FN}echo"), r#"{"a":[1,2.5]}"#).await;
    assert_eq!(got, Ok(json(r#"{"a":[1,2.5]}"#)));
    let got = run(
        &reg,
        INVOKE,
        r#"{"FunctionName":"echo:v1","Payload":"7","LogType":"Tail"}"#,
    )
    .await
    .unwrap();
    assert_eq!(got.get("Payload"), Some(&Value::int(7)));
    assert_eq!(got.get("ExecutedVersion"), Some(&Value::str("1")));
    assert_eq!(got.get("LogResult"), Some(&Value::str("bG9n")));
    let rid = got
        .get("SdkResponseMetadata")
        .and_then(|m| m.get("RequestId"));
    assert_eq!(rid, Some(&Value::str("rid-1")));

    let err = run(&reg, &format!("{FN}boom"), "{}").await.unwrap_err();
    assert_eq!(err.error, "ValueError");
    assert_eq!(
        err.cause.as_deref(),
        Some(
            r#"{"errorMessage": "bad", "errorType": "ValueError", "requestId": "rid-1", "stackTrace": []}"#
        )
    );
    let err = run(&reg, INVOKE, r#"{"FunctionName":"boom"}"#)
        .await
        .unwrap_err();
    assert_eq!(
        err.cause.as_deref(),
        Some(
            r#"{"errorMessage":"bad","errorType":"ValueError","requestId":"rid-1","stackTrace":[]}"#
        )
    );

    let err = run(&reg, INVOKE, r#"{"FunctionName":"missing"}"#)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TaskError::new(
            "Lambda.ResourceNotFoundException",
            "Function not found: arn:aws:lambda:us-east-1:111111111111:function:missing (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: rid-1; Proxy: null)",
        )
    );
}

#[tokio::test]
async fn connection_failures_and_bad_endpoints() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut reg = TaskRegistry::new();
    reg.register_lambda(Arc::new(client(&endpoint)));
    let err = run(&reg, &format!("{FN}f"), "{}").await.unwrap_err();
    assert_eq!(err.error, "Lambda.SdkClientException");
    assert!(
        err.cause
            .unwrap()
            .starts_with("Unable to execute HTTP request")
    );
    assert!(LambdaHttpClient::new("ftp://lambda.us-east-1.amazonaws.com").is_err());
    assert!(LambdaHttpClient::new("http://bad host").is_err());
    assert!(LambdaHttpClient::new("https://lambda.us-east-1.amazonaws.com").is_ok());
}
