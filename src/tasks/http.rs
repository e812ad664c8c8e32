//! Lambda's Invoke API over HTTP, for workflows run against real (or emulated) Lambda:
//! `POST {endpoint}/2015-03-31/functions/{name}/invocations`.
//!
//! Plain `http://` only and no SigV4 signing: point it at a local emulator, a signing proxy, or
//! a Lambda-compatible server that needs no signature.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::lambda::{LambdaBackend, LambdaCall, LambdaFuture, LambdaResponse, LambdaServiceError};
use super::percent_encode;
use crate::value::{self, Value};

/// Largest response body read: Lambda's 6 MB synchronous payload limit plus headroom.
const MAX_BODY: usize = 7 * 1024 * 1024;

/// A Lambda Invoke API client for one endpoint; cheap to clone (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct LambdaHttpClient {
    /// `http://host:port[/base]`, without a trailing slash.
    endpoint: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl LambdaHttpClient {
    /// A client for `endpoint` (e.g. `http://127.0.0.1:3001`). Fails on anything but a valid
    /// `http://` URL, because TLS is not built in.
    pub fn new(endpoint: &str) -> Result<LambdaHttpClient, String> {
        let endpoint = endpoint.trim_end_matches('/');
        if !endpoint.starts_with("http://") {
            return Err(format!(
                "Lambda endpoint '{endpoint}' must be an http:// URL"
            ));
        }
        endpoint
            .parse::<hyper::Uri>()
            .map_err(|e| format!("Lambda endpoint '{endpoint}' is not a valid URL: {e}"))?;
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(LambdaHttpClient {
            endpoint: endpoint.to_string(),
            client,
        })
    }

    fn request(
        &self,
        call: &LambdaCall,
    ) -> Result<hyper::Request<Full<Bytes>>, LambdaServiceError> {
        let mut url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.endpoint,
            percent_encode(&call.function.arn(), false)
        );
        if let Some(q) = &call.function.qualifier {
            url.push_str("?Qualifier=");
            url.push_str(&percent_encode(q, false));
        }
        let mut builder = hyper::Request::builder()
            .method(hyper::Method::POST)
            .uri(url)
            .header("content-type", "application/json");
        if let Some(t) = &call.invocation_type {
            builder = builder.header("x-amz-invocation-type", t.as_str());
        }
        if call.log_tail {
            builder = builder.header("x-amz-log-type", "Tail");
        }
        let body = Bytes::from(call.payload.clone().unwrap_or_default());
        builder
            .body(Full::new(body))
            .map_err(|e| LambdaServiceError::client(e.to_string()))
    }
}

impl LambdaBackend for LambdaHttpClient {
    fn invoke(&self, call: LambdaCall) -> LambdaFuture {
        let this = self.clone();
        Box::pin(async move {
            let req = this.request(&call)?;
            let resp = this
                .client
                .request(req)
                .await
                .map_err(|e| LambdaServiceError::client(e.to_string()))?;
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let function_error = header("x-amz-function-error");
            let executed_version = header("x-amz-executed-version");
            let log_result = header("x-amz-log-result");
            let request_id = header("x-amzn-requestid").unwrap_or_default();
            let error_type = header("x-amzn-errortype");
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| LambdaServiceError::client(e.to_string()))?
                .to_bytes();
            let text = String::from_utf8_lossy(&body).into_owned();
            if status >= 300 && function_error.is_none() {
                return Err(service_error(status, error_type, &text, request_id));
            }
            Ok(LambdaResponse {
                status,
                function_error,
                payload: text,
                executed_version: executed_version.unwrap_or_else(|| "$LATEST".into()),
                log_result,
                request_id,
            })
        })
    }
}

/// Lambda's error answer: the code from `x-amzn-ErrorType` (or the body's `__type`), the message
/// from the body's `Message`/`message`.
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
            if status == 404 {
                "ResourceNotFoundException"
            } else {
                "ServiceException"
            }
            .to_string()
        });
    let message = doc
        .get("Message")
        .or_else(|| doc.get("message"))
        .and_then(Value::as_str)
        .map_or_else(|| body.to_string(), str::to_string);
    LambdaServiceError {
        status,
        code,
        message,
        request_id,
    }
}
