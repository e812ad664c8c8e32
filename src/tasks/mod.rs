//! Interim placeholder until task handlers land: every resource is unknown.

use crate::value::{Str, Value};
use std::future::Future;
use std::pin::Pin;

/// One Task invocation.
pub struct TaskRequest {
    pub resource: Str,
    pub state_name: Str,
    pub state_machine_name: Str,
    pub test_case: Option<Str>,
    pub input: Value,
    pub attempt: u32,
    pub invocation: u32,
    pub context: Value,
}

/// How a task failed.
pub struct TaskError {
    pub error: String,
    pub cause: Option<String>,
}

/// A pending task result.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// Handlers by resource.
#[derive(Default)]
pub struct TaskRegistry;

impl TaskRegistry {
    pub fn invoke(&self, req: TaskRequest) -> TaskFuture {
        let resource = req.resource.to_string();
        Box::pin(async move {
            Err(TaskError {
                error: "States.Runtime".into(),
                cause: Some(format!("No handler for {resource}")),
            })
        })
    }
}
