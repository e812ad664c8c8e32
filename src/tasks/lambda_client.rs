//! Lambda's Invoke API over the AWS request layer, for workflows run against real (or emulated)
//! Lambda: `POST {endpoint}/2015-03-31/functions/{name}/invocations`, SigV4-signed, on the shared
//! connection pool.
//!
//! In: a `LambdaCall` (the resolved function, payload, invocation type, log tail). Out: the
//! `LambdaResponse` Lambda sent (status, function error, payload text, executed version), or a
//! `LambdaServiceError` (status, Lambda's error code and message).

use std::sync::Arc;

use bytes::Bytes;

use super::aws::{AwsClient, AwsRequest, AwsSettings, CredentialSource, Service};
use super::lambda::{LambdaBackend, LambdaCall, LambdaFuture, LambdaResponse, LambdaServiceError};
use crate::percent::percent_encode;
use crate::value::{self, Value};

/// A Lambda Invoke API client; cheap to clone (the request layer is shared).
#[derive(Clone, Debug)]
pub struct LambdaHttpClient {
    client: Arc<AwsClient>,
}

impl LambdaHttpClient {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:3001`, or Lambda's own https endpoint),
    /// with the other settings and the credentials from the environment. Fails on anything but
    /// an `http://`/`https://` URL.
    pub fn new(endpoint: &str) -> Result<LambdaHttpClient, String> {
        let mut settings = AwsSettings::from_env();
        settings.set_endpoint(Service::Lambda, endpoint);
        settings.check()?;
        let creds = CredentialSource::default_chain(&settings.region);
        Ok(LambdaHttpClient::with_client(Arc::new(AwsClient::new(
            settings, creds,
        )?)))
    }

    /// A client calling through an existing request layer (one pool for every service).
    pub fn with_client(client: Arc<AwsClient>) -> LambdaHttpClient {
        LambdaHttpClient { client }
    }

    fn request(call: &LambdaCall) -> AwsRequest {
        let mut path = format!(
            "/2015-03-31/functions/{}/invocations",
            percent_encode(&call.function.arn(), false)
        );
        if let Some(q) = &call.function.qualifier {
            path.push_str("?Qualifier=");
            path.push_str(&percent_encode(q, false));
        }
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(t) = &call.invocation_type {
            headers.push(("x-amz-invocation-type", t.clone()));
        }
        if call.log_tail {
            headers.push(("x-amz-log-type", "Tail".into()));
        }
        if let Some(c) = &call.client_context {
            headers.push(("x-amz-client-context", c.clone()));
        }
        AwsRequest {
            service: Service::Lambda,
            method: hyper::Method::POST,
            path,
            headers,
            body: Bytes::from(call.payload.clone().unwrap_or_default()),
        }
    }
}

impl LambdaBackend for LambdaHttpClient {
    fn invoke(&self, call: LambdaCall) -> LambdaFuture {
        let client = self.client.clone();
        Box::pin(async move {
            let resp = client
                .call(LambdaHttpClient::request(&call))
                .await
                .map_err(|e| LambdaServiceError::client(e.0))?;
            let function_error = resp.header("x-amz-function-error").map(str::to_string);
            let request_id = resp.request_id();
            let text = String::from_utf8_lossy(&resp.body).into_owned();
            if resp.status >= 300 && function_error.is_none() {
                let error_type = resp.header("x-amzn-errortype").map(str::to_string);
                return Err(service_error(resp.status, error_type, &text, request_id));
            }
            Ok(LambdaResponse {
                status: resp.status,
                function_error,
                executed_version: resp
                    .header("x-amz-executed-version")
                    .unwrap_or("$LATEST")
                    .to_string(),
                log_result: resp.header("x-amz-log-result").map(str::to_string),
                payload: text,
                request_id,
            })
        })
    }
}

/// Lambda's error answer: the code from `x-amzn-ErrorType` (or the body's `__type`), the message
/// from the body's `Message`/`message`; a body that is not JSON is the message itself.
fn service_error(
    status: u16,
    error_type: Option<String>,
    body: &str,
    request_id: String,
) -> LambdaServiceError {
    let doc = value::parse(body).unwrap_or(Value::Null);
    let code = error_type
        .map(|t| t.split(':').next().unwrap_or_default().to_string())
        .or_else(|| {
            doc.get("__type")
                .and_then(Value::as_str)
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
        })
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| {
            match status {
                404 => "ResourceNotFoundException",
                429 => "TooManyRequestsException",
                s if s >= 500 => "ServiceException",
                _ => "AWSLambdaException",
            }
            .to_string()
        });
    let message = doc
        .get("Message")
        .or_else(|| doc.get("message"))
        .and_then(Value::as_str)
        .map_or_else(
            || body.trim().chars().take(200).collect::<String>(),
            str::to_string,
        );
    let request_id = if request_id.is_empty() {
        "null".to_string()
    } else {
        request_id
    };
    LambdaServiceError {
        status,
        code,
        message,
        request_id,
    }
}
