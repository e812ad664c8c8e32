//! Mocked Lambda functions in the conformance cases' format:
//! `{"lambda": {<function ARN>: {"kind": "identity"|"constant"|"raise", ...}}}`.
//!
//! They behave as the Python functions the cases were recorded with: the response body is what
//! Python's `json.dumps` prints, a raised exception is the runtime's error document
//! (`{"errorMessage": …, "errorType": …, "requestId": …, "stackTrace": […]}`), and a function not
//! listed does not exist (`ResourceNotFoundException`).
//!
//! In: the cases' `lambda` mock object (or functions inserted one by one), then a `LambdaCall`.
//! Out: the `LambdaResponse` that function's Python original would give, or a
//! `LambdaServiceError`.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;

use super::arn::FunctionRef;
use super::lambda::{LambdaBackend, LambdaCall, LambdaFuture, LambdaResponse, LambdaServiceError};
use super::pyjson;
use crate::value::{self, Map, Value};

/// What one mocked function does.
#[derive(Clone, Debug, PartialEq)]
pub enum MockLambda {
    /// Returns its event unchanged.
    Identity,
    /// Ignores its event and returns this value.
    Constant(Value),
    /// Raises: an unhandled function error of this type and message.
    Raise {
        /// Becomes the state's error name.
        error_type: String,
        /// The exception's message (may be empty).
        error_message: String,
        /// The runtime's stack trace lines; a one-frame trace is made up when absent.
        stack_trace: Option<Value>,
    },
}

/// A set of mocked functions keyed by function name, usable as a [`LambdaBackend`].
#[derive(Clone, Debug, Default)]
pub struct MockLambdas {
    /// Function name → behaviour. Names, not ARNs: a call may name the function by its bare name
    /// in another account than the one the case recorded.
    functions: HashMap<String, MockLambda>,
}

impl MockLambdas {
    /// An empty set: every function is missing.
    pub fn new() -> MockLambdas {
        MockLambdas::default()
    }

    /// Adds (or replaces) the function `function` (name or ARN) with behaviour `mock`.
    pub fn insert(&mut self, function: &str, mock: MockLambda) -> Result<(), String> {
        let f = FunctionRef::parse(function, &Value::Null)
            .ok_or_else(|| format!("'{function}' is not a Lambda function name or ARN"))?;
        self.functions.insert(f.name, mock);
        Ok(())
    }

    /// Reads a conformance case's `mock` object (`{"lambda": {...}}`); other services' mocks are
    /// ignored. Errors name the offending function.
    pub fn from_case_mock(mock: &Value) -> Result<MockLambdas, String> {
        let mut out = MockLambdas::new();
        let Some(lambdas) = mock.get("lambda") else {
            return Ok(out);
        };
        let lambdas = lambdas
            .as_object()
            .ok_or("mock.lambda must be an object of function ARN → behaviour")?;
        for (arn, spec) in lambdas.iter() {
            let kind = spec.get("kind").and_then(Value::as_str).unwrap_or("");
            let behaviour = match kind {
                "identity" => MockLambda::Identity,
                "constant" => MockLambda::Constant(spec.get("value").cloned().unwrap_or_default()),
                "raise" => MockLambda::Raise {
                    error_type: spec
                        .get("errorType")
                        .and_then(Value::as_str)
                        .unwrap_or("Exception")
                        .to_string(),
                    error_message: spec
                        .get("errorMessage")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    stack_trace: spec.get("stackTrace").cloned(),
                },
                other => return Err(format!("mock.lambda['{arn}']: unknown kind '{other}'")),
            };
            out.insert(arn, behaviour)
                .map_err(|e| format!("mock.lambda: {e}"))?;
        }
        Ok(out)
    }

    /// How many functions exist.
    pub fn len(&self) -> usize {
        self.functions.len()
    }

    /// Whether no function exists.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The response the mocked function gives to `call`: synchronous, since mocks do no I/O.
    pub fn respond(&self, call: &LambdaCall) -> Result<LambdaResponse, LambdaServiceError> {
        let mock = self
            .functions
            .get(&call.function.name)
            .ok_or_else(|| LambdaServiceError::not_found(&call.function))?;
        let request_id = uuid::Uuid::new_v4().to_string();
        let event = match call.payload.as_deref() {
            None | Some("") => Value::empty_object(),
            Some(text) => value::parse(text).map_err(|e| LambdaServiceError {
                status: 400,
                code: "InvalidRequestContentException".into(),
                message: format!("Could not parse request body into json: {e}"),
                request_id: request_id.clone(),
            })?,
        };
        let (payload, function_error) = match mock {
            MockLambda::Identity => (pyjson::dumps(&event), None),
            MockLambda::Constant(v) => (pyjson::dumps(v), None),
            MockLambda::Raise {
                error_type,
                error_message,
                stack_trace,
            } => {
                let doc = error_document(error_type, error_message, stack_trace, &request_id);
                (pyjson::dumps(&doc), Some("Unhandled".to_string()))
            }
        };
        let (status, payload) = match call.invocation_type.as_deref() {
            Some("Event") => (202, String::new()),
            Some("DryRun") => (204, String::new()),
            _ => (200, payload),
        };
        let log_result = call.log_tail.then(|| log_tail(&request_id));
        Ok(LambdaResponse {
            status,
            function_error: if status == 200 { function_error } else { None },
            payload,
            executed_version: call
                .function
                .qualifier
                .clone()
                .unwrap_or_else(|| "$LATEST".into()),
            log_result,
            request_id,
        })
    }
}

impl LambdaBackend for MockLambdas {
    fn invoke(&self, call: LambdaCall) -> LambdaFuture {
        let result = self.respond(&call);
        Box::pin(std::future::ready(result))
    }
}

impl LambdaBackend for Arc<MockLambdas> {
    fn invoke(&self, call: LambdaCall) -> LambdaFuture {
        let result = self.respond(&call);
        Box::pin(std::future::ready(result))
    }
}

/// The document Python's Lambda runtime returns for an unhandled exception.
fn error_document(
    error_type: &str,
    message: &str,
    stack_trace: &Option<Value>,
    request_id: &str,
) -> Value {
    let trace = stack_trace.clone().unwrap_or_else(|| {
        let raise = if message.is_empty() {
            format!("{error_type}()")
        } else {
            format!("{error_type}({})", pyjson::dumps(&Value::str(message)))
        };
        Value::array(vec![Value::str(&format!(
            "  File \"/var/task/handler.py\", line 2, in handler\n    raise {raise}\n"
        ))])
    });
    let mut m = Map::new();
    m.insert("errorMessage".into(), Value::str(message));
    m.insert("errorType".into(), Value::str(error_type));
    m.insert("requestId".into(), Value::str(request_id));
    m.insert("stackTrace".into(), trace);
    Value::object(m)
}

/// A base64 log tail like the one Lambda returns for `LogType: Tail`.
fn log_tail(request_id: &str) -> String {
    let text = format!(
        "START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n\
         REPORT RequestId: {request_id}\tDuration: 1.00 ms\tBilled Duration: 1 ms\t\
         Memory Size: 128 MB\tMax Memory Used: 32 MB\t\n"
    );
    base64::engine::general_purpose::STANDARD.encode(text)
}
