//! How a Task state's `Resource` is served.
//!
//! In: a [`TaskRequest`] (the resource ARN as written, the effective input, the attempt, the
//! context object) from the engine's driver when the VM yields an Invoke effect. Out: a future of
//! the task's result `Value` or a [`TaskError`] (`error`/`cause` exactly as the state fails with
//! them). What serves it, in order: a Step Functions Local mock configuration
//! ([`MockConfig`], when the execution runs a test case), an exact-ARN handler, the rejection of
//! `.sync`/`.waitForTaskToken` (Express has no such patterns), the longest registered prefix,
//! and finally AWS's "not found" failure. A handler registered at a Lambda function's ARN serves
//! every resource naming that function. Real AWS services (and emulators) are reached through the
//! one request layer in [`aws`] (feature `http-client`), registered after native handlers and
//! mocks so that they keep their resources.
//!
//! Never here: JSONPath/JSONata evaluation (the input arrives already shaped), retries and
//! timeouts (the driver owns them: it drops the future to cancel), and blocking I/O.

mod arn;
#[cfg(feature = "demo")]
pub mod demo;
mod lambda;
mod mock_config;
mod mock_lambdas;
mod pyjson;
mod registry;

#[cfg(feature = "http-client")]
pub mod aws;
#[cfg(feature = "http-client")]
pub mod http_invoke;
#[cfg(feature = "http-client")]
pub mod items;
#[cfg(feature = "http-client")]
mod lambda_client;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::value::Value;

pub use arn::FunctionRef;
pub use lambda::{
    LambdaBackend, LambdaCall, LambdaFuture, LambdaIntegration, LambdaResponse, LambdaServiceError,
};
pub use mock_config::{MockConfig, MockStep, MockedResponse};
pub use mock_lambdas::{MockLambda, MockLambdas};
pub use registry::{TaskRegistry, handler_fn};

#[cfg(feature = "http-client")]
pub use lambda_client::LambdaHttpClient;

/// Everything a handler may need to serve one Task invocation; built by the driver per attempt.
#[derive(Clone, Debug)]
pub struct TaskRequest {
    /// The Task's `Resource` ARN exactly as written: handlers are chosen by it.
    pub resource: Arc<str>,
    /// The Task state's name: mock test cases map state names to responses.
    pub state_name: Arc<str>,
    /// The state machine's name: mock configurations are keyed by it.
    pub state_machine_name: Arc<str>,
    /// Step Functions Local test case (from `…:stateMachine:<sm>#<case>`), selecting mocks.
    pub test_case: Option<Arc<str>>,
    /// The effective input (after InputPath/Parameters or Arguments).
    pub input: Value,
    /// 0 for the first try, +1 per retry (handlers that simulate flakiness use it).
    pub attempt: u32,
    /// The context object `$$`: Lambda resolves bare function names in its region/account.
    pub context: Value,
    /// Per-execution state shared by every Task of one execution (mock invocation counters).
    pub scope: ExecutionScope,
}

impl TaskRequest {
    /// A request with empty names, no test case, attempt 0, a null context and no scope: tests and
    /// embedders set the fields they care about afterwards.
    pub fn new(resource: &str, input: Value) -> TaskRequest {
        TaskRequest {
            resource: Arc::from(resource),
            state_name: Arc::from(""),
            state_machine_name: Arc::from(""),
            test_case: None,
            input,
            attempt: 0,
            context: Value::Null,
            scope: ExecutionScope::default(),
        }
    }
}

/// A failed task, as the state fails with it: `Catch`/`Retry` match `error`; `cause` is the text
/// AWS would show (`None` = absent, not empty).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskError {
    /// The error name (`Lambda.ResourceNotFoundException`, a function's `errorType`, ...).
    pub error: String,
    /// The cause text, when AWS gives one.
    pub cause: Option<String>,
}

impl TaskError {
    /// An error with a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: Some(cause.into()),
        }
    }

    /// `States.Runtime`: a misconfiguration the workflow cannot catch as a task failure.
    pub fn runtime(cause: impl Into<String>) -> TaskError {
        TaskError::new("States.Runtime", cause)
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(c) => write!(f, "{}: {}", self.error, c),
            None => f.write_str(&self.error),
        }
    }
}

impl std::error::Error for TaskError {}

/// The future a handler returns: `Send` so the driver may poll it on any worker; dropping it
/// cancels the task (timeouts, a failed Parallel sibling).
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// Serves Task resources. Object-safe and `Send + Sync` so one registry serves every execution.
pub trait TaskHandler: Send + Sync + 'static {
    /// Starts serving `req`; the work happens when the returned future is polled.
    fn invoke(&self, req: TaskRequest) -> TaskFuture;
}

/// State name → invocations so far in one execution.
type Counters = Mutex<HashMap<Arc<str>, u32>>;

/// Per-execution state the driver creates once per execution and clones into every
/// [`TaskRequest`] of that execution (Map iterations and Parallel branches included).
///
/// It holds the Step Functions Local invocation counters: a mocked state's Nth invocation in an
/// execution (retries and re-entries in loops both count, across Map iterations too) gets the
/// response listed for `N`. The counter advances when [`TaskRegistry::invoke`] is *called*, not
/// when its future is polled, so a driver that starts Map iterations in index order gets the
/// responses in index order.
///
/// `ExecutionScope::default()` holds nothing and allocates nothing: without a scope a mocked
/// state uses the request's `attempt` as its invocation number (right for retries, not for loops).
#[derive(Clone, Debug, Default)]
pub struct ExecutionScope {
    /// State name → invocations so far. A std mutex: held for one map update, never across await.
    counters: Option<Arc<Counters>>,
}

impl ExecutionScope {
    /// A scope that counts invocations; one per execution that runs a mock test case.
    pub fn new() -> ExecutionScope {
        ExecutionScope {
            counters: Some(Arc::new(Mutex::new(HashMap::new()))),
        }
    }

    /// The invocation number for this call of `state` (0 for the first), advancing the counter;
    /// `None` when this scope does not count.
    pub fn next_invocation(&self, state: &Arc<str>) -> Option<u32> {
        let counters = self.counters.as_ref()?;
        // A poisoned lock only means another thread panicked mid-update of a plain map: the
        // counts are still usable.
        let mut map = counters.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(state.clone()).or_insert(0);
        let current = *n;
        *n = n.saturating_add(1);
        Some(current)
    }
}
