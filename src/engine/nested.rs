//! `states:startExecution.sync` and `.sync:2` whose target state machine this engine knows: the
//! child runs to its end in-process and the Task's result is what AWS's integration returns
//! (DescribeExecution's fields, capitalised; `Input`/`Output` as JSON text for `.sync`, as JSON
//! for `.sync:2`). A failed, timed-out child fails the Task with `States.TaskFailed` and that
//! object, as JSON text, for its cause.

use super::{Engine, ExecutionMeta, Status};
use crate::compile::Program;
use crate::tasks::TaskRequest;
use crate::value::{Map, Str, Value};
use crate::vm::StatesError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// State machines a `startExecution.sync` Task may run in-process, by ARN. A std lock: held
/// only to look up or replace an entry.
#[derive(Default)]
pub(super) struct Machines(RwLock<HashMap<String, Arc<Program>>>);

impl Machines {
    pub fn define(&self, arn: &str, program: Arc<Program>) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(arn.to_string(), program);
    }

    pub fn forget(&self, arn: &str) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(arn);
    }

    fn get(&self, arn: &str) -> Option<Arc<Program>> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
            .cloned()
    }
}

/// Whether the resource is `startExecution.sync` (`Some(false)`) or `.sync:2` (`Some(true)`).
pub(super) fn sync_flavour(resource: &str) -> Option<bool> {
    let rest = resource.split_once(":states:::states:startExecution")?.1;
    match rest {
        ".sync" => Some(false),
        ".sync:2" => Some(true),
        _ => None,
    }
}

/// The child's program, when the Task names a machine of this engine.
pub(super) fn target(engine: &Engine, req: &TaskRequest) -> Option<(Arc<Program>, String)> {
    let arn = req.input.get("StateMachineArn")?.as_str()?;
    // A version or alias ARN (`…:sm:1`, `…:sm:prod`) runs what the machine ARN was defined as
    // only when it was defined under that very ARN.
    let program = engine.machines.get(arn)?;
    Some((program, arn.to_string()))
}

/// Runs the child to its end and shapes the Task's result.
pub(super) async fn run_child(
    engine: &Engine,
    req: TaskRequest,
    program: Arc<Program>,
    machine_arn: String,
    json_io: bool,
) -> Result<Value, StatesError> {
    let input = match req.input.get("Input") {
        None => Value::empty_object(),
        // A string is the input's JSON text (AWS takes both forms).
        Some(Value::String(s)) => crate::value::parse(s).unwrap_or(Value::String(s.clone())),
        Some(v) => v.clone(),
    };
    let machine_name = machine_arn
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let name = match req.input.get("Name").and_then(Value::as_str) {
        Some(n) => n.to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let (region, account) = (&engine.settings.region, &engine.settings.account);
    let meta = ExecutionMeta {
        execution_arn: format!("arn:aws:states:{region}:{account}:execution:{machine_name}:{name}"),
        name: name.clone(),
        state_machine_arn: machine_arn.clone(),
        state_machine_name: machine_name,
        role_arn: format!("arn:aws:iam::{account}:role/expressway"),
        start_time: SystemTime::now(),
        test_case: None,
        asynchronous: true,
        // The child's type is not known here; a startExecution.sync parent is Standard, and
        // its child is bounded by its own TimeoutSeconds and the parent's ceiling.
        standard: true,
        variables: None,
        history: false,
        skip_waits: false,
    };
    let (execution_arn, started) = (meta.execution_arn.clone(), meta.start_time);
    let input_text = input.to_json();
    let outcome = engine.execute_value(program, input, meta).await;
    let stopped = SystemTime::now();
    let text_or_json = |text: &str| {
        if json_io {
            crate::value::parse(text).unwrap_or(Value::Null)
        } else {
            Value::from(text)
        }
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(Str::from(k), v);
    };
    put("ExecutionArn", Value::from(execution_arn.as_str()));
    put("Input", text_or_json(&input_text));
    put("InputDetails", included());
    put("Name", Value::from(name.as_str()));
    if let Some(o) = &outcome.output {
        put("Output", text_or_json(o));
        put("OutputDetails", included());
    }
    put("StartDate", Value::int(millis(started)));
    put("StateMachineArn", Value::from(machine_arn.as_str()));
    put("Status", Value::from(outcome.status.as_str()));
    put("StopDate", Value::int(millis(stopped)));
    if let Some(e) = &outcome.error {
        put("Error", Value::from(e.as_str()));
    }
    if let Some(c) = &outcome.cause {
        put("Cause", Value::from(c.as_str()));
    }
    let result = Value::object(out);
    match outcome.status {
        Status::Succeeded => Ok(result),
        Status::Failed | Status::TimedOut => Err(StatesError::new(
            crate::vm::ErrorName::TASK_FAILED,
            result.to_json(),
        )),
    }
}

fn included() -> Value {
    let mut m = Map::new();
    m.insert(Str::from("Included"), Value::Bool(true));
    Value::object(m)
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
