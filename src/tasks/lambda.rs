//! Lambda as Step Functions calls it: the two resource forms, the shapes AWS returns, and how a
//! function error or a Lambda service error becomes the state's error and cause.
//!
//! A [`LambdaBackend`] answers the Lambda Invoke API (mocks, or HTTP to a real endpoint); the
//! [`LambdaIntegration`] handler turns a Task request into that call and the answer into what the
//! state sees:
//! - bare function ARN: the input is the event; the output is the function's payload; a function
//!   error fails with its `errorType` and the payload text exactly as the runtime wrote it;
//! - `arn:aws:states:::lambda:invoke`: `Parameters.FunctionName`/`Payload`; the output is
//!   `{ExecutedVersion, [LogResult], Payload, SdkHttpMetadata, SdkResponseMetadata, StatusCode}`;
//!   a function error's cause is the payload re-serialised compactly.
//!
//! In: a `TaskRequest` naming a Lambda function. Out: the state's result, or the `TaskError`
//! (`errorType` or `Lambda.<code>`, and the cause) it fails with.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::arn::{FunctionRef, is_lambda_function_arn, is_lambda_invoke, pattern_suffix};
use super::{TaskError, TaskFuture, TaskHandler, TaskRequest};
use crate::value::{self, Map, Value};

/// One call of Lambda's Invoke API.
#[derive(Clone, Debug)]
pub struct LambdaCall {
    /// The function, fully resolved.
    pub function: FunctionRef,
    /// The request body; `None` when Step Functions sends no payload (the function sees `{}`).
    pub payload: Option<String>,
    /// `RequestResponse` (default), `Event` or `DryRun`.
    pub invocation_type: Option<String>,
    /// `LogType: Tail` asks for the last 4 KB of log in `LogResult`.
    pub log_tail: bool,
    /// `ClientContext`: base64 JSON handed to the function (`X-Amz-Client-Context`).
    pub client_context: Option<String>,
}

/// Lambda's answer to an Invoke call that reached the function.
#[derive(Clone, Debug)]
pub struct LambdaResponse {
    /// HTTP status (200, or 202 for `Event`, 204 for `DryRun`).
    pub status: u16,
    /// `X-Amz-Function-Error` (`Unhandled`/`Handled`): the payload is an error document.
    pub function_error: Option<String>,
    /// The response body as the function's runtime wrote it.
    pub payload: String,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
    /// `X-Amz-Log-Result` (base64), when the tail was asked for.
    pub log_result: Option<String>,
    /// `x-amzn-RequestId`.
    pub request_id: String,
}

/// Lambda refusing the call (404 not found, 400 bad payload, 429 throttled, ...).
#[derive(Clone, Debug)]
pub struct LambdaServiceError {
    /// HTTP status.
    pub status: u16,
    /// Lambda's error code (`ResourceNotFoundException`): the state's error is `Lambda.<code>`.
    pub code: String,
    /// Lambda's message (`Function not found: arn:…:$LATEST`).
    pub message: String,
    /// `x-amzn-RequestId`.
    pub request_id: String,
}

impl LambdaServiceError {
    /// The error AWS reports for a function that does not exist.
    pub fn not_found(function: &FunctionRef) -> LambdaServiceError {
        LambdaServiceError {
            status: 404,
            code: "ResourceNotFoundException".into(),
            message: format!("Function not found: {}", function.qualified_arn()),
            request_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// A failure before any HTTP answer (connection refused, timeout): status 0, as the AWS SDK's
    /// `SdkClientException`.
    pub fn client(message: String) -> LambdaServiceError {
        LambdaServiceError {
            status: 0,
            code: "SdkClientException".into(),
            message: format!("Unable to execute HTTP request: {message}"),
            request_id: String::new(),
        }
    }

    /// As Step Functions fails the state: `Lambda.<code>` with the AWS SDK's message format.
    pub fn to_task_error(&self) -> TaskError {
        if self.status == 0 {
            return TaskError::new(format!("Lambda.{}", self.code), self.message.clone());
        }
        TaskError::new(
            format!("Lambda.{}", self.code),
            format!(
                "{} (Service: AWSLambda; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
                self.message, self.status, self.code, self.request_id
            ),
        )
    }
}

/// The future a backend returns; dropping it abandons the call.
pub type LambdaFuture =
    Pin<Box<dyn Future<Output = Result<LambdaResponse, LambdaServiceError>> + Send>>;

/// Something that answers Lambda's Invoke API: mocked functions or an HTTP endpoint.
pub trait LambdaBackend: Send + Sync + 'static {
    /// Invokes one function; a function error is an `Ok` response with `function_error` set.
    fn invoke(&self, call: LambdaCall) -> LambdaFuture;
}

/// The Task handler for both Lambda resource forms, over any [`LambdaBackend`].
#[derive(Clone)]
pub struct LambdaIntegration {
    backend: Arc<dyn LambdaBackend>,
}

impl LambdaIntegration {
    /// Serves Lambda resources with `backend`.
    pub fn new(backend: Arc<dyn LambdaBackend>) -> LambdaIntegration {
        LambdaIntegration { backend }
    }
}

impl TaskHandler for LambdaIntegration {
    fn invoke(&self, req: TaskRequest) -> TaskFuture {
        let backend = self.backend.clone();
        Box::pin(async move {
            if let Some(suffix) = pattern_suffix(&req.resource) {
                return Err(unsupported_pattern(&req.resource, suffix));
            }
            if is_lambda_invoke(&req.resource) {
                let call = service_call(&req)?;
                let resp = backend.invoke(call).await.map_err(|e| e.to_task_error())?;
                service_result(resp)
            } else if is_lambda_function_arn(&req.resource) {
                let function = FunctionRef::parse(&req.resource, &req.context)
                    .ok_or_else(|| invalid_function(&req.resource))?;
                let call = LambdaCall {
                    function,
                    payload: Some(req.input.to_json()),
                    invocation_type: None,
                    log_tail: false,
                    client_context: None,
                };
                let resp = backend.invoke(call).await.map_err(|e| e.to_task_error())?;
                legacy_result(resp)
            } else {
                Err(TaskError::runtime(format!(
                    "The resource '{}' is not a Lambda function ARN nor the lambda:invoke integration.",
                    req.resource
                )))
            }
        })
    }
}

/// A native handler registered at a function's ARN, answering the Invoke API as that function:
/// its result is the payload; its error is a function error (`errorType`/`errorMessage`).
pub(crate) struct HandlerFunction {
    handler: Arc<dyn TaskHandler>,
    /// The Task request the call comes from: names, context and scope go to the handler.
    origin: TaskRequest,
}

impl HandlerFunction {
    pub(crate) fn new(handler: Arc<dyn TaskHandler>, origin: &TaskRequest) -> HandlerFunction {
        HandlerFunction {
            handler,
            origin: origin.clone(),
        }
    }
}

impl LambdaBackend for HandlerFunction {
    fn invoke(&self, call: LambdaCall) -> LambdaFuture {
        let mut req = self.origin.clone();
        req.resource = Arc::from(call.function.arn().as_str());
        req.input = match &call.payload {
            None => Value::empty_object(),
            Some(text) => payload_value(text),
        };
        let fut = self.handler.invoke(req);
        Box::pin(async move {
            let request_id = uuid::Uuid::new_v4().to_string();
            let (function_error, payload) = match fut.await {
                Ok(v) => (None, v.to_json()),
                Err(e) => {
                    let mut doc = Map::new();
                    doc.insert("errorType".into(), Value::str(&e.error));
                    doc.insert(
                        "errorMessage".into(),
                        Value::str(e.cause.as_deref().unwrap_or_default()),
                    );
                    (Some("Unhandled".to_string()), Value::object(doc).to_json())
                }
            };
            Ok(LambdaResponse {
                status: 200,
                function_error,
                payload,
                executed_version: call
                    .function
                    .qualifier
                    .clone()
                    .unwrap_or_else(|| "$LATEST".into()),
                log_result: None,
                request_id,
            })
        })
    }
}

/// The error for `.sync` / `.waitForTaskToken` resources, which Express workflows cannot run.
pub(crate) fn unsupported_pattern(resource: &str, suffix: &str) -> TaskError {
    TaskError::runtime(format!(
        "Express state machines do not support the '{suffix}' service integration pattern \
         (resource '{resource}')."
    ))
}

fn invalid_function(name: &str) -> TaskError {
    TaskError::new(
        "Lambda.AWSLambdaException",
        format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?\
             (function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))? \
             (Service: AWSLambda; Status Code: 400; Error Code: ValidationException; \
             Request ID: {}; Proxy: null)",
            uuid::Uuid::new_v4()
        ),
    )
}

/// The Invoke call the `lambda:invoke` integration makes from its parameters.
fn service_call(req: &TaskRequest) -> Result<LambdaCall, TaskError> {
    let params = req.input.as_object().ok_or_else(|| {
        TaskError::runtime(format!(
            "The parameters of the lambda:invoke integration must be an object, got {}.",
            req.input.type_name()
        ))
    })?;
    let name = params
        .get("FunctionName")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            TaskError::runtime(
                "The lambda:invoke integration requires the string parameter 'FunctionName'.",
            )
        })?;
    let mut function =
        FunctionRef::parse(name, &req.context).ok_or_else(|| invalid_function(name))?;
    if let Some(q) = params.get("Qualifier").and_then(Value::as_str) {
        function.qualifier = Some(q.to_string());
    }
    let payload = match params.get("Payload") {
        None | Some(Value::Null) => None,
        // A string payload is sent as the raw request body (AWS sends `"0.0"` as `0.0`).
        Some(Value::String(s)) => Some(s.to_string()),
        Some(v) => Some(v.to_json()),
    };
    Ok(LambdaCall {
        function,
        payload,
        invocation_type: params
            .get("InvocationType")
            .and_then(Value::as_str)
            .map(str::to_string),
        log_tail: params.get("LogType").and_then(Value::as_str) == Some("Tail"),
        client_context: params
            .get("ClientContext")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// A response body as a value: JSON when it parses, else the text itself; empty is `""`.
fn payload_value(text: &str) -> Value {
    if text.is_empty() {
        return Value::str("");
    }
    value::parse(text).unwrap_or_else(|_| Value::str(text))
}

/// A function error as the state's error: the document's `errorType`, else `Lambda.Unknown`.
fn function_error(resp: &LambdaResponse, cause: String) -> TaskError {
    let error = value::parse(&resp.payload)
        .ok()
        .and_then(|v| {
            v.get("errorType")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "Lambda.Unknown".to_string());
    TaskError::new(error, cause)
}

/// Bare-ARN result: the payload itself; errors carry the runtime's text unchanged.
fn legacy_result(resp: LambdaResponse) -> Result<Value, TaskError> {
    if resp.function_error.is_some() {
        let cause = resp.payload.clone();
        return Err(function_error(&resp, cause));
    }
    Ok(payload_value(&resp.payload))
}

/// `lambda:invoke` result: the Invoke API response with the SDK's metadata.
fn service_result(resp: LambdaResponse) -> Result<Value, TaskError> {
    if resp.function_error.is_some() {
        let cause = value::parse(&resp.payload)
            .map(|v| v.to_json())
            .unwrap_or_else(|_| resp.payload.clone());
        return Err(function_error(&resp, cause));
    }
    let mut out = Map::new();
    out.insert("ExecutedVersion".into(), Value::str(&resp.executed_version));
    if let Some(log) = &resp.log_result {
        out.insert("LogResult".into(), Value::str(log));
    }
    out.insert("Payload".into(), payload_value(&resp.payload));
    out.insert("SdkHttpMetadata".into(), http_metadata(&resp));
    let mut sdk = Map::new();
    sdk.insert("RequestId".into(), Value::str(&resp.request_id));
    out.insert("SdkResponseMetadata".into(), Value::object(sdk));
    out.insert("StatusCode".into(), Value::int(i64::from(resp.status)));
    Ok(Value::object(out))
}

/// `SdkHttpMetadata` as the AWS Java SDK reports it: every header twice (lists and strings).
fn http_metadata(resp: &LambdaResponse) -> Value {
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let trace = format!(
        "Root=1-{:08x}-{};Sampled=0",
        chrono::Utc::now().timestamp(),
        &uuid::Uuid::new_v4().simple().to_string()[..24]
    );
    let length = resp.payload.len().to_string();
    let mut headers: Vec<(&str, String)> = Vec::with_capacity(9);
    if let Some(log) = &resp.log_result {
        headers.push(("X-Amz-Log-Result", log.clone()));
    }
    headers.extend([
        ("X-Amz-Executed-Version", resp.executed_version.clone()),
        ("x-amzn-Remapped-Content-Length", "0".to_string()),
        ("Connection", "keep-alive".to_string()),
        ("x-amzn-RequestId", resp.request_id.clone()),
        ("Content-Length", length),
        ("Date", date),
        ("X-Amzn-Trace-Id", trace),
        ("Content-Type", "application/json".to_string()),
    ]);
    let all: Map = headers
        .iter()
        .map(|(k, v)| (Arc::from(*k), Value::array(vec![Value::str(v)])))
        .collect();
    let mut sorted = headers.clone();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let single: Map = sorted
        .iter()
        .map(|(k, v)| (Arc::from(*k), Value::str(v)))
        .collect();
    let mut m = Map::new();
    m.insert("AllHttpHeaders".into(), Value::object(all));
    m.insert("HttpHeaders".into(), Value::object(single));
    m.insert("HttpStatusCode".into(), Value::int(i64::from(resp.status)));
    Value::object(m)
}
