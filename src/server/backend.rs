//! What the server needs from the engine, as one object-safe trait.
//!
//! `EngineBackend` puts the engine (`crate::engine::Engine`) behind `Backend`; the server holds
//! an `Arc<dyn Backend>`, so protocol tests can also run on `StandIn`, a tiny interpreter of
//! Pass/Succeed/Fail that needs nothing else.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::definition::Diagnostic;

/// A compiled program, type-erased so the server does not depend on the engine's types.
pub type Program = Arc<dyn Any + Send + Sync>;

/// A boxed execution future: executions run on the server's tokio runtime.
pub type ExecFuture = Pin<Box<dyn Future<Output = ExecResult> + Send>>;

/// Who an execution is, as the context object (`$$.Execution`, `$$.StateMachine`) shows it.
pub use crate::engine::ExecutionMeta as ExecMeta;

/// How an execution ended and what it produced: the engine's own types, so that a stand-in
/// backend and the engine report alike.
pub use crate::engine::{Outcome as ExecResult, Status as ExecStatus};

/// The engine as the server sees it: compile definitions once, run executions many times.
pub trait Backend: Send + Sync + 'static {
    /// Validates and compiles a definition: the program, or every diagnostic.
    fn compile(&self, definition: &str) -> Result<Program, Vec<Diagnostic>>;
    /// Runs one execution to completion with Express semantics.
    fn execute(&self, program: Program, input: String, meta: ExecMeta) -> ExecFuture;
    /// Runs one execution whose input text (`text`) the server has already parsed into `input`:
    /// a backend that runs values skips a second parse. The default runs the text.
    fn execute_parsed(
        &self,
        program: Program,
        input: crate::value::Value,
        text: &str,
        meta: ExecMeta,
    ) -> ExecFuture {
        let _ = input;
        self.execute(program, text.to_string(), meta)
    }
    /// Where SendTaskSuccess/Failure/Heartbeat go; `None` when nothing ever waits for a token.
    fn callbacks(&self) -> Option<crate::engine::Callbacks> {
        None
    }
    /// The machine `arn` now runs `program` (CreateStateMachine, UpdateStateMachine), so that
    /// `startExecution.sync` Tasks naming it run it in-process.
    fn machine_defined(&self, _arn: &str, _program: &Program) {}
    /// The machine `arn` was deleted.
    fn machine_deleted(&self, _arn: &str) {}
    /// Whether the mock configuration holds test case `case` of state machine `machine`
    /// (`StartExecution` on `<machine ARN>#<case>` needs one).
    fn has_test_case(&self, machine: &str, case: &str) -> bool {
        let _ = (machine, case);
        false
    }
}

/// A stand-in for the engine: runs Pass (`Result`, flat `Parameters`, `InputPath`, `ResultPath`, `OutputPath` as
/// `$` or `$.a.b`), Succeed and Fail, and fails any other state with `States.Runtime`. It lets
/// the protocol be tested end to end without the engine.
#[derive(Default)]
pub struct StandIn;

struct StandInProgram {
    start_at: String,
    states: serde_json::Map<String, serde_json::Value>,
}

impl Backend for StandIn {
    fn compile(&self, definition: &str) -> Result<Program, Vec<Diagnostic>> {
        crate::definition::load(definition)?;
        let raw: serde_json::Value = serde_json::from_str(definition).map_err(|e| {
            vec![Diagnostic::error(
                "INVALID_JSON_DESCRIPTION",
                "",
                e.to_string(),
            )]
        })?;
        let start_at = raw["StartAt"].as_str().unwrap_or_default().to_string();
        let states = raw["States"].as_object().cloned().unwrap_or_default();
        Ok(Arc::new(StandInProgram { start_at, states }))
    }

    fn execute(&self, program: Program, input: String, _meta: ExecMeta) -> ExecFuture {
        Box::pin(async move {
            let started = Instant::now();
            let mut result = match program.downcast::<StandInProgram>() {
                Ok(p) => run_stand_in(&p, &input),
                Err(_) => failed(
                    "States.Runtime",
                    "program was not compiled by this backend",
                    0,
                ),
            };
            result.duration = started.elapsed();
            result
        })
    }
}

fn failed(error: &str, cause: &str, transitions: u64) -> ExecResult {
    ExecResult {
        status: ExecStatus::Failed,
        output: None,
        error: Some(error.to_string()),
        cause: Some(cause.to_string()),
        transitions,
        entered: [0; 8],
        duration: Duration::ZERO,
        variables: None,
        history: None,
    }
}

fn run_stand_in(p: &StandInProgram, input: &str) -> ExecResult {
    use serde_json::Value as J;
    let Ok(mut data) = serde_json::from_str::<J>(input) else {
        return failed("States.Runtime", "invalid input", 0);
    };
    let mut at = p.start_at.clone();
    for transitions in 1..=10_000u64 {
        let Some(state) = p.states.get(&at) else {
            return failed("States.Runtime", "missing state", transitions);
        };
        match state["Type"].as_str().unwrap_or_default() {
            "Pass" => {
                let effective = select(&data, state.get("InputPath"));
                let effective = match state.get("Parameters").and_then(J::as_object) {
                    Some(params) => parameters(params, &effective),
                    None => effective,
                };
                let result = state.get("Result").cloned().unwrap_or(effective);
                data = graft(data, state.get("ResultPath"), result);
                data = select(&data, state.get("OutputPath"));
            }
            "Succeed" => {
                let out = select(
                    &select(&data, state.get("InputPath")),
                    state.get("OutputPath"),
                );
                return succeeded(out, transitions);
            }
            "Fail" => {
                let text = |k: &str| state.get(k).and_then(J::as_str).map(str::to_string);
                return ExecResult {
                    status: ExecStatus::Failed,
                    output: None,
                    error: text("Error"),
                    cause: text("Cause"),
                    transitions,
                    entered: [0; 8],
                    duration: Duration::ZERO,
                    variables: None,
                    history: None,
                };
            }
            other => {
                let cause = format!("state type {other} needs the engine");
                return failed("States.Runtime", &cause, transitions);
            }
        }
        if state.get("End").and_then(J::as_bool) == Some(true) {
            return succeeded(data, transitions);
        }
        match state.get("Next").and_then(J::as_str) {
            Some(next) => at = next.to_string(),
            None => return failed("States.Runtime", "no Next", transitions),
        }
    }
    failed("States.Runtime", "too many transitions", 10_000)
}

fn succeeded(out: serde_json::Value, transitions: u64) -> ExecResult {
    ExecResult {
        status: ExecStatus::Succeeded,
        output: Some(out.to_string()),
        error: None,
        cause: None,
        transitions,
        entered: [0; 8],
        duration: Duration::ZERO,
        variables: None,
        history: None,
    }
}

/// `Parameters` one level deep: `"k.$": "$.path"` selects, other members are literal.
fn parameters(
    params: &serde_json::Map<String, serde_json::Value>,
    input: &serde_json::Value,
) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (k, v) in params {
        match k.strip_suffix(".$") {
            Some(key) => out.insert(key.to_string(), select(input, Some(v))),
            None => out.insert(k.clone(), v.clone()),
        };
    }
    serde_json::Value::Object(out)
}

fn path_keys(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    Some(rest.strip_prefix('.')?.split('.').collect())
}

fn select(data: &serde_json::Value, path: Option<&serde_json::Value>) -> serde_json::Value {
    match path {
        None => data.clone(),
        Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(p) => {
            let keys = p.as_str().and_then(path_keys).unwrap_or_default();
            let mut cur = data;
            for k in keys {
                cur = &cur[k];
            }
            cur.clone()
        }
    }
}

fn graft(
    data: serde_json::Value,
    path: Option<&serde_json::Value>,
    result: serde_json::Value,
) -> serde_json::Value {
    match path {
        None => result,
        Some(serde_json::Value::Null) => data,
        Some(p) => {
            let keys = p.as_str().and_then(path_keys).unwrap_or_default();
            let Some((last, parents)) = keys.split_last() else {
                return result;
            };
            let mut root = data;
            let mut cur = &mut root;
            for k in parents {
                if !cur.is_object() {
                    *cur = serde_json::json!({});
                }
                cur = cur
                    .as_object_mut()
                    .expect("made an object just above")
                    .entry(k.to_string())
                    .or_insert(serde_json::json!({}));
            }
            if !cur.is_object() {
                *cur = serde_json::json!({});
            }
            if let Some(o) = cur.as_object_mut() {
                o.insert(last.to_string(), result);
            }
            root
        }
    }
}

/// The real engine behind the server.
pub struct EngineBackend {
    engine: Arc<crate::engine::Engine>,
}

impl EngineBackend {
    /// Serves executions with `engine`.
    pub fn new(engine: crate::engine::Engine) -> EngineBackend {
        EngineBackend {
            engine: Arc::new(engine),
        }
    }
}

impl Backend for EngineBackend {
    fn callbacks(&self) -> Option<crate::engine::Callbacks> {
        Some(self.engine.callbacks().clone())
    }

    fn machine_defined(&self, arn: &str, program: &Program) {
        if let Ok(p) = program.clone().downcast::<crate::compile::Program>() {
            self.engine.define_machine(arn, p);
        }
    }

    fn machine_deleted(&self, arn: &str) {
        self.engine.forget_machine(arn);
    }

    fn compile(&self, definition: &str) -> Result<Program, Vec<Diagnostic>> {
        let program: Program = self.engine.compile(definition)?;
        Ok(program)
    }

    fn execute(&self, program: Program, input: String, meta: ExecMeta) -> ExecFuture {
        let engine = self.engine.clone();
        Box::pin(async move {
            let Ok(program) = program.downcast::<crate::compile::Program>() else {
                return failed(
                    "States.Runtime",
                    "program was not compiled by this backend",
                    0,
                );
            };
            engine.execute(program, &input, meta).await
        })
    }

    fn execute_parsed(
        &self,
        program: Program,
        input: crate::value::Value,
        text: &str,
        meta: ExecMeta,
    ) -> ExecFuture {
        let engine = self.engine.clone();
        let len = text.len();
        Box::pin(async move {
            let Ok(program) = program.downcast::<crate::compile::Program>() else {
                return failed(
                    "States.Runtime",
                    "program was not compiled by this backend",
                    0,
                );
            };
            engine.execute_parsed(program, input, len, meta).await
        })
    }

    fn has_test_case(&self, machine: &str, case: &str) -> bool {
        self.engine
            .tasks()
            .mock_config()
            .is_some_and(|c| c.has_test_case(machine, case))
    }
}
