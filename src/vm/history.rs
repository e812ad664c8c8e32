//! An execution's history events, as Step Functions writes them to CloudWatch Logs for an
//! Express execution (`ExecutionStarted`, `TaskStateEntered`, `TaskScheduled`, …).
//!
//! In: the VM's and the driver's calls to [`History::record`] at each event, when the execution
//! was started with a history (a machine logging at `ALL`, the console). Out: the events, in
//! order, each with its id and the id of the event before it in the same scope (a branch's or an
//! iteration's first event points at the event that started it). An execution without a history
//! pays one `Option` check per event.
//!
//! PERF: w5_credit with its HappyPath mocks, instructions per execution
//! (`cargo build --release --example run_many`, then `[HISTORY=1] MOCK_CONFIG=examples/mock-config.json
//! TEST_CASE=HappyPath valgrind --tool=cachegrind --cache-sim=no target/release/examples/run_many
//! benches/workflows/w5_credit.json benches/workflows/w5_credit.input.json 2000`, minus N = 0, / N):
//! 301.2 k without a history, 375.4 k with one (1.25×; details as maps and payloads as JSON text
//! were 786 k, 2.6×: payloads stay values until a log line is written, details are short lists).

use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

use crate::compile::Op;
use crate::value::{Map, Str, Value};

/// One event: AWS's `id`, `previous_event_id`, `event_timestamp`, `type` and `details`.
#[derive(Clone, Debug)]
pub struct HistoryEvent {
    /// 1 for `ExecutionStarted`, then one more per event.
    pub id: u64,
    /// The event this one follows in its scope (0 for the first).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp: SystemTime,
    /// AWS's event type (`PassStateEntered`, `MapIterationStarted`, …).
    pub kind: &'static str,
    /// AWS's `details` object: `name`, `input`/`output` (values: see [`PAYLOAD_KEYS`]),
    /// `error`, `cause`, ….
    pub details: Details,
}

impl HistoryEvent {
    /// The value of one of its `details`.
    pub fn detail(&self, key: &str) -> Option<&Value> {
        self.details.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// The events of one execution, shared by all its scopes.
#[derive(Debug, Default)]
pub struct History {
    /// Appended by whichever scope records; a std mutex, held for one push.
    events: Mutex<Vec<HistoryEvent>>,
    /// The execution's output, kept as a value for `ExecutionSucceeded`.
    output: Mutex<Option<Value>>,
}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Appends an event after `previous` and returns its id.
    pub fn record(
        &self,
        previous: u64,
        timestamp: SystemTime,
        kind: &'static str,
        details: Details,
    ) -> u64 {
        // A poisoned lock only means a recorder panicked mid-push of a plain vector.
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        let id = events.len() as u64 + 1;
        events.push(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp,
            kind,
            details,
        });
        id
    }

    /// The events so far, in order.
    pub fn events(&self) -> Vec<HistoryEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Keeps the execution's output for its `ExecutionSucceeded` event.
    pub fn set_output(&self, v: Value) {
        *self.output.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    }

    /// The output kept by `set_output` (`null` if none).
    pub fn take_output(&self) -> Value {
        self.output
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or(Value::Null)
    }

    /// The events, leaving the history empty: for the execution's end, when nothing records
    /// any more.
    pub fn take_events(&self) -> Vec<HistoryEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The id of the last event (0 when empty).
    pub fn last_id(&self) -> u64 {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }
}

/// An event's `details`: AWS's keys in order (a few per event: a list beats a map here).
pub type Details = Vec<(&'static str, Value)>;

/// Builds a `details` list from pairs.
pub fn details<const N: usize>(pairs: [(&'static str, Value); N]) -> Details {
    Vec::from(pairs)
}

/// Keys whose values are payloads: kept as values (a reference count, not a copy) and written
/// as JSON text, as AWS's events carry them, only when a log line is made.
pub const PAYLOAD_KEYS: [&str; 3] = ["input", "output", "parameters"];

/// `{"truncated": false}`, as AWS adds beside every input and output.
pub fn not_truncated() -> Value {
    static NOT_TRUNCATED: LazyLock<Value> = LazyLock::new(|| {
        let mut m = Map::new();
        m.insert(Str::from("truncated"), Value::Bool(false));
        Value::object(m)
    });
    NOT_TRUNCATED.clone()
}

/// A Task resource as AWS's events name it: `arn:aws:states:::lambda:invoke` is resource type
/// `lambda`, resource `invoke`; a Lambda function ARN is `lambda`/`invoke` too; anything else
/// keeps the service's name and the rest.
pub fn resource_parts(resource: &str) -> (String, String) {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        let rest = rest.strip_prefix("aws-sdk:").unwrap_or(rest);
        return match rest.split_once(':') {
            Some((service, action)) => (service.to_string(), action.to_string()),
            None => (rest.to_string(), String::new()),
        };
    }
    if resource.contains(":lambda:") {
        return ("lambda".into(), "invoke".into());
    }
    if let Some(i) = resource.find(":activity:") {
        return ("activity".into(), resource[i + 10..].to_string());
    }
    (resource.to_string(), String::new())
}

/// `<Type>StateEntered` for a state's op.
pub fn entered(op: &Op) -> &'static str {
    match op {
        Op::Pass { .. } => "PassStateEntered",
        Op::Task(_) => "TaskStateEntered",
        Op::Choice { .. } => "ChoiceStateEntered",
        Op::Wait(_) => "WaitStateEntered",
        Op::Succeed => "SucceedStateEntered",
        Op::Fail { .. } => "FailStateEntered",
        Op::Parallel { .. } => "ParallelStateEntered",
        Op::Map(_) => "MapStateEntered",
    }
}

/// `<Type>StateExited` for a state's op (a Fail state never exits).
pub fn exited(op: &Op) -> &'static str {
    match op {
        Op::Pass { .. } => "PassStateExited",
        Op::Task(_) => "TaskStateExited",
        Op::Choice { .. } => "ChoiceStateExited",
        Op::Wait(_) => "WaitStateExited",
        Op::Succeed => "SucceedStateExited",
        Op::Fail { .. } => "FailStateExited",
        Op::Parallel { .. } => "ParallelStateExited",
        Op::Map(_) => "MapStateExited",
    }
}

/// The region of an ARN (`arn:aws:states:<region>:…`), or `us-east-1`.
pub fn region(arn: &str) -> Str {
    Str::from(
        arn.split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .unwrap_or("us-east-1"),
    )
}

/// The state types in the order of [`type_index`] (and of `Execution::entered`).
pub const STATE_TYPES: [&str; 8] = [
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// A state's type as an index into [`STATE_TYPES`].
pub fn type_index(op: &Op) -> usize {
    match op {
        Op::Pass { .. } => 0,
        Op::Task(_) => 1,
        Op::Choice { .. } => 2,
        Op::Wait(_) => 3,
        Op::Succeed => 4,
        Op::Fail { .. } => 5,
        Op::Parallel { .. } => 6,
        Op::Map(_) => 7,
    }
}
