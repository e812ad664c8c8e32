//! The registry: which handler serves a resource, and the one entry point the driver calls.
//!
//! In: handlers registered by exact ARN, prefix or Lambda function, an optional mock
//! configuration, then one `TaskRequest` per attempt. Out: the handler's future of the result or
//! the `TaskError` the state fails with (AWS's "not found" when nothing serves the resource).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use super::arn::{FunctionRef, is_lambda_function_arn, is_lambda_invoke, pattern_suffix};
use super::lambda::{
    HandlerFunction, LambdaBackend, LambdaIntegration, LambdaServiceError, unsupported_pattern,
};
use super::mock_config::MockConfig;
use super::{TaskError, TaskFuture, TaskHandler, TaskRequest};
use crate::value::Value;

/// Partitions whose Lambda resources [`TaskRegistry::register_lambda`] claims.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// Adapts a closure returning a future into a handler.
struct FnHandler<F>(F);

impl<F, Fut> TaskHandler for FnHandler<F>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
{
    fn invoke(&self, req: TaskRequest) -> TaskFuture {
        Box::pin((self.0)(req))
    }
}

/// Wraps `|req| async move { … }` as a handler, for `register_prefix` and friends.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn TaskHandler>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
{
    Arc::new(FnHandler(f))
}

/// Which handler serves a resource: exact ARN first, then the longest registered prefix; and the
/// mock configuration that overrides both for executions running a test case.
///
/// Built once, then shared (`Arc<TaskRegistry>`) by every execution: lookups take `&self`.
///
/// ```
/// use expressway::tasks::{TaskRegistry, TaskRequest};
/// use expressway::value::Value;
///
/// let mut registry = TaskRegistry::new();
/// registry.register_fn("arn:aws:states:::my:echo", |req| async move { Ok(req.input) });
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let req = TaskRequest::new("arn:aws:states:::my:echo", Value::int(1));
/// assert_eq!(rt.block_on(registry.invoke(req)), Ok(Value::int(1)));
/// ```
#[derive(Clone, Default)]
pub struct TaskRegistry {
    exact: HashMap<Arc<str>, Arc<dyn TaskHandler>>,
    /// Sorted longest first, so the first match is the longest.
    prefixes: Vec<(Arc<str>, Arc<dyn TaskHandler>)>,
    mock_config: Option<Arc<MockConfig>>,
    /// Exact registrations that name a Lambda function: only when there are some does a Lambda
    /// resource look for the handler of the function it names.
    function_handlers: usize,
    /// Where Distributed Map's ItemReader reads and ResultWriter writes (S3).
    #[cfg(feature = "http-client")]
    object_store: Option<Arc<dyn super::items::ObjectStore>>,
}

impl TaskRegistry {
    /// An empty registry: every resource is missing.
    pub fn new() -> TaskRegistry {
        TaskRegistry::default()
    }

    /// Serves the resource `arn` exactly as written (replacing an earlier registration).
    ///
    /// A handler registered at a Lambda function's ARN (`arn:aws:lambda:…:function:Name`) is that
    /// function: it serves every resource that names it (`lambda:invoke` with its name or ARN in
    /// `FunctionName`, the ARN with `:$LATEST` or a qualifier) with the event as its input, and
    /// its result is the function's payload. A handler at `…:function:Name:qualifier` serves that
    /// qualifier only, before the unqualified one.
    pub fn register_exact(&mut self, arn: &str, handler: Arc<dyn TaskHandler>) {
        let new = self.exact.insert(Arc::from(arn), handler).is_none();
        if new && is_lambda_function_arn(arn) {
            self.function_handlers += 1;
        }
    }

    /// Sets the store Distributed Map's `ItemReader` reads from and `ResultWriter` writes to
    /// (S3 by [`crate::tasks::aws::register_services`], or any other for tests and embedders).
    #[cfg(feature = "http-client")]
    pub fn set_object_store(&mut self, store: Arc<dyn super::items::ObjectStore>) {
        self.object_store = Some(store);
    }

    /// The store of [`set_object_store`](Self::set_object_store), if any.
    #[cfg(feature = "http-client")]
    pub fn object_store(&self) -> Option<&Arc<dyn super::items::ObjectStore>> {
        self.object_store.as_ref()
    }

    /// Whether a handler serves exactly `arn`.
    pub fn has_exact(&self, arn: &str) -> bool {
        self.exact.contains_key(arn)
    }

    /// Whether a handler is registered for the prefix `prefix`.
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.prefixes.iter().any(|(p, _)| &**p == prefix)
    }

    /// Serves every resource starting with `prefix` that no exact or longer prefix claims.
    pub fn register_prefix(&mut self, prefix: &str, handler: Arc<dyn TaskHandler>) {
        self.prefixes.retain(|(p, _)| &**p != prefix);
        self.prefixes.push((Arc::from(prefix), handler));
        self.prefixes.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    }

    /// Serves the resource `arn` with a closure: `register_fn(arn, |req| async move { … })`.
    pub fn register_fn<F, Fut>(&mut self, arn: &str, f: F)
    where
        F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        self.register_exact(arn, handler_fn(f));
    }

    /// Serves both Lambda resource forms (bare function ARNs and `lambda:invoke`, in every
    /// partition) with `backend` (mocked functions or an HTTP endpoint).
    pub fn register_lambda(&mut self, backend: Arc<dyn LambdaBackend>) {
        let handler: Arc<dyn TaskHandler> = Arc::new(LambdaIntegration::new(backend));
        for p in PARTITIONS {
            self.register_exact(&format!("arn:{p}:states:::lambda:invoke"), handler.clone());
            self.register_prefix(&format!("arn:{p}:lambda:"), handler.clone());
        }
    }

    /// [`register_lambda`](Self::register_lambda), leaving alone every Lambda resource that
    /// already has a handler (so real services never displace native handlers or mocks).
    pub fn register_lambda_if_absent(&mut self, backend: Arc<dyn LambdaBackend>) {
        let handler: Arc<dyn TaskHandler> = Arc::new(LambdaIntegration::new(backend));
        for p in PARTITIONS {
            let invoke = format!("arn:{p}:states:::lambda:invoke");
            if !self.has_exact(&invoke) {
                self.register_exact(&invoke, handler.clone());
            }
            let prefix = format!("arn:{p}:lambda:");
            if !self.has_prefix(&prefix) {
                self.register_prefix(&prefix, handler.clone());
            }
        }
    }

    /// The handler registered for the Lambda function `req` names, when `req` is a Lambda
    /// resource not itself registered exactly.
    fn function_handler(&self, req: &TaskRequest) -> Option<Arc<dyn TaskHandler>> {
        if self.function_handlers == 0 {
            return None;
        }
        let function = if is_lambda_invoke(&req.resource) {
            let name = req.input.get("FunctionName").and_then(Value::as_str)?;
            let mut f = FunctionRef::parse(name, &req.context)?;
            if let Some(q) = req.input.get("Qualifier").and_then(Value::as_str) {
                f.qualifier = Some(q.to_string());
            }
            f
        } else if is_lambda_function_arn(&req.resource) && !self.exact.contains_key(&req.resource) {
            FunctionRef::parse(&req.resource, &req.context)?
        } else {
            return None;
        };
        let unqualified = function.arn();
        function
            .qualifier
            .as_ref()
            .and_then(|q| self.exact.get(format!("{unqualified}:{q}").as_str()))
            .or_else(|| self.exact.get(unqualified.as_str()))
            .cloned()
    }

    /// Uses a Step Functions Local mock configuration for executions that run a test case.
    pub fn set_mock_config(&mut self, config: MockConfig) {
        self.mock_config = Some(Arc::new(config));
    }

    /// The mock configuration in use, so the engine can check a test case at StartExecution.
    pub fn mock_config(&self) -> Option<&MockConfig> {
        self.mock_config.as_deref()
    }

    /// The registered handler for the request's resource: exact ARN, else the longest prefix.
    pub fn resolve(&self, req: &TaskRequest) -> Option<Arc<dyn TaskHandler>> {
        self.exact.get(&req.resource).cloned().or_else(|| {
            self.prefixes
                .iter()
                .find(|(p, _)| req.resource.starts_with(&**p))
                .map(|(_, h)| h.clone())
        })
    }

    /// The one entry point: serves `req` by its test case's mock, an exact handler, or a prefix
    /// handler; `.sync`/`.waitForTaskToken` without an exact handler fail (Express has no such
    /// patterns); anything else unresolved fails as AWS fails a missing function or service.
    ///
    /// The mock invocation counter advances here, before the future is returned.
    pub fn invoke(&self, req: TaskRequest) -> TaskFuture {
        if let Some(result) = self.mocked(&req) {
            return Box::pin(std::future::ready(result));
        }
        if let Some(function) = self.function_handler(&req) {
            let backend = HandlerFunction::new(function, &req);
            return LambdaIntegration::new(Arc::new(backend)).invoke(req);
        }
        if let Some(h) = self.exact.get(&req.resource) {
            return h.invoke(req);
        }
        if let Some(suffix) = pattern_suffix(&req.resource) {
            let err = unsupported_pattern(&req.resource, suffix);
            return Box::pin(std::future::ready(Err(err)));
        }
        match self.resolve(&req) {
            Some(h) => h.invoke(req),
            None => Box::pin(std::future::ready(Err(not_found(&req)))),
        }
    }

    /// Whether `req`'s test case mocks its state: a mocked `.sync` or `.waitForTaskToken` Task
    /// returns its mocked response at once, as in Step Functions Local.
    pub fn is_mocked(&self, req: &TaskRequest) -> bool {
        let (Some(config), Some(case)) = (self.mock_config.as_deref(), req.test_case.as_deref())
        else {
            return false;
        };
        config
            .response_name(&req.state_machine_name, case, &req.state_name)
            .is_some()
    }

    /// Serves the service call of a `.waitForTaskToken` Task (a Standard execution then waits
    /// for the token): a handler of the full ARN, else that of the ARN without the suffix
    /// (`sns:publish.waitForTaskToken` publishes as `sns:publish` does).
    pub fn invoke_callback(&self, mut req: TaskRequest) -> TaskFuture {
        if !self.exact.contains_key(&req.resource)
            && let Some(base) = req.resource.strip_suffix(".waitForTaskToken")
        {
            req.resource = Arc::from(base);
        }
        self.invoke(req)
    }

    /// The mocked outcome of `req`, when its execution runs a test case that mocks its state.
    fn mocked(&self, req: &TaskRequest) -> Option<Result<Value, TaskError>> {
        let config = self.mock_config.as_deref()?;
        let case = req.test_case.as_deref()?;
        // Only states the test case mocks count invocations.
        config.response_name(&req.state_machine_name, case, &req.state_name)?;
        let invocation = req
            .scope
            .next_invocation(&req.state_name)
            .unwrap_or(req.attempt);
        config.resolve(&req.state_machine_name, case, &req.state_name, invocation)
    }
}

/// The failure for a resource nobody serves, as AWS reports a missing function or integration.
fn not_found(req: &TaskRequest) -> TaskError {
    let function = if is_lambda_invoke(&req.resource) {
        req.input
            .get("FunctionName")
            .and_then(Value::as_str)
            .and_then(|n| FunctionRef::parse(n, &req.context))
    } else if is_lambda_function_arn(&req.resource) {
        FunctionRef::parse(&req.resource, &req.context)
    } else {
        None
    };
    match function {
        Some(f) => LambdaServiceError::not_found(&f).to_task_error(),
        None => TaskError::runtime(format!(
            "No handler is registered for the resource '{}'.",
            req.resource
        )),
    }
}
