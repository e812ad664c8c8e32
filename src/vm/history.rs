//! An execution's history events, as Step Functions writes them to CloudWatch Logs for an
//! Express execution (`ExecutionStarted`, `TaskStateEntered`, `TaskScheduled`, …).
//!
//! In: the VM's and the driver's calls to [`History::record`] at each event, when the execution
//! was started with a history (a machine logging at `ALL`, the console). Out: the events, in
//! order, each with its id and the id of the event before it in the same scope (a branch's or an
//! iteration's first event points at the event that started it). An execution without a history
//! pays one `Option` check per event.

use std::sync::Mutex;
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
    /// AWS's `details` object: `name`, `input`/`output` as JSON text, `error`, `cause`, ….
    pub details: Map,
}

/// The events of one execution, shared by all its scopes.
#[derive(Debug, Default)]
pub struct History {
    /// Appended by whichever scope records; a std mutex, held for one push.
    events: Mutex<Vec<HistoryEvent>>,
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
        details: Map,
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

    /// The id of the last event (0 when empty).
    pub fn last_id(&self) -> u64 {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len() as u64
    }
}

/// Builds a `details` object from pairs.
pub fn details<const N: usize>(pairs: [(&'static str, Value); N]) -> Map {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(Str::from(k), v);
    }
    m
}

/// A payload as `details` carry it: JSON text.
pub fn text(v: &Value) -> Value {
    Value::String(Str::from(v.to_json().as_str()))
}

/// `{"truncated": false}`, as AWS adds beside every input and output.
pub fn not_truncated() -> Value {
    Value::object(details([("truncated", Value::Bool(false))]))
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
