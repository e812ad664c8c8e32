//! AWS's data quotas, checked where the data flows: a state's effective input, its task or
//! sub-workflow result and its output against the payload quota, and the values an `Assign`
//! stores against the variable quotas.
//!
//! In: the `Limits` of the execution (from `engine::Settings`), the values to measure. Out:
//! `States.DataLimitExceeded` errors. Sizes are the bytes of the compact JSON, measured on the
//! value without serialising it (`Value::json_len_within`, which stops as soon as it knows).

use super::{ErrorName, StatesError};
use crate::expr::{Path, ReferencePath, Root};
use crate::jsonata;
use crate::value::{Map, Str, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The quotas one execution runs under. `engine::Settings` holds them (an embedder may raise
/// them); the defaults are AWS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A state's input (after `Parameters`/`Arguments`), a task or sub-workflow result, a
    /// state's output (AWS: 262,144 bytes as UTF-8).
    pub payload_bytes: usize,
    /// One variable's value (AWS: 256 KiB).
    pub variable_bytes: usize,
    /// All the values one `Assign` field stores together (AWS: 256 KiB).
    pub assign_bytes: usize,
    /// All variables an execution stores at once, every scope together (AWS: 10 MiB).
    pub variables_total_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            payload_bytes: 256 * 1024,
            variable_bytes: 256 * 1024,
            assign_bytes: 256 * 1024,
            variables_total_bytes: 10 * 1024 * 1024,
        }
    }
}

/// AWS's cause when a payload passes the quota; `who` is the state's name, or for a Task's
/// result the resource (`resource_label`).
pub(super) fn too_big(who: &str) -> StatesError {
    StatesError::new(
        ErrorName::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// `States.DataLimitExceeded` naming `who` when `v` is larger than `limit` bytes.
#[inline]
pub(super) fn check_payload(limit: usize, who: &str, v: &Value) -> Result<(), StatesError> {
    match v.json_len_within(limit) {
        Some(_) => Ok(()),
        None => Err(too_big(who)),
    }
}

/// A size bound nothing cheap gives: the value is measured where the bound matters.
pub(super) const UNKNOWN: usize = usize::MAX;

// PERF: sizes travel as upper bounds, so that a state measures only what it built (a template's
// output, a task's result) and never the whole of its data again: the output of a ResultPath
// merge is bounded by its input's bound plus the result's, and objects remember their length
// (`Map::json_len_memo`).
// Measuring every output whole: `cargo bench --bench workflows -- w1_pass_chain` 15.8-19.0 µs
// → 32.2-36.6 µs (alternated runs, machine under load 5). Instructions per execution
// (cachegrind, since the load made criterion's times swing ±30%), before these quotas → with
// bounds only → now: w1_pass_chain 81.8 k → 96.8 k → 92.4 k; w1_jsonata 251.3 k → 283.6 k
// now (each JSONata Output is new data, measured member by member). Still +13%: what remains
// is walking every template's output once (~35 values a run of w1, ~60 instructions each).
// Since objects remember their length themselves, the ring of measured containers (and its
// mutex) went: w1 91.0 k → 88.5 k, w1_jsonata 131.5 k → 127.4 k, w3_map100 1.49 M → 1.43 M.

/// The bound of what `InputPath`/`OutputPath` selects from a value bounded by `b`: a definite
/// path from `$` yields a part of it; `null` yields `{}`; other paths may collect more.
pub(super) fn path_bound(path: &Option<Option<Path>>, b: usize) -> usize {
    match path {
        None => b,
        Some(None) => 2,
        Some(Some(p)) if p.is_definite() && matches!(p.root(), Root::Input) => b,
        Some(Some(_)) => UNKNOWN,
    }
}

/// The bound of `ResultPath`'s combination of an input bounded by `input` and a result bounded
/// by `result`.
pub(super) fn result_path_bound(
    path: &Option<Option<ReferencePath>>,
    input: usize,
    result: usize,
) -> usize {
    match path {
        None => result,
        Some(None) => input,
        // The result replaces a member or joins the input under the path's keys: at most the
        // keys quoted, their colons, commas and braces (six bytes a character covers escapes).
        Some(Some(p)) => input
            .saturating_add(result)
            .saturating_add(6 * p.text().len() + 8),
    }
}

/// How AWS names a Task's resource in the cause of an oversized result (recorded: `'lambda'`
/// for `arn:aws:states:::lambda:invoke`, the function ARN for a Lambda ARN): an optimised
/// integration by its resource type (`lambda`, `aws-sdk:s3`), anything else by its ARN.
pub(super) fn resource_label(resource: &str) -> &str {
    let Some((_, rest)) = resource.split_once(":states:::") else {
        return resource;
    };
    let mut parts = rest.splitn(3, ':');
    let service = parts.next().unwrap_or(rest);
    match (service, parts.next()) {
        ("aws-sdk", Some(sdk)) => &rest[..service.len() + 1 + sdk.len()],
        _ => service,
    }
}

/// The variables one state assigns, with each value's size measured once, when assigned.
#[derive(Debug, Default)]
pub(super) struct Assigned {
    pub map: Map,
    /// `sizes[i]` is the size of `map`'s `i`th value.
    pub sizes: Vec<usize>,
}

impl Assigned {
    /// Adds the values of one `Assign` field: each within the single-variable quota, all of
    /// them together within the per-`Assign` quota.
    pub fn add(&mut self, limits: &Limits, state: &str, values: &Map) -> Result<(), StatesError> {
        let mut together = 0usize;
        for (name, v) in values.iter() {
            let Some(size) = v.json_len_within(limits.variable_bytes) else {
                return Err(variable_too_big(state, name));
            };
            together += size;
            if together > limits.assign_bytes {
                return Err(assign_too_big(state));
            }
            let (i, _) = self.map.insert_full(name.clone(), v.clone());
            if i == self.sizes.len() {
                self.sizes.push(size);
            } else {
                self.sizes[i] = size;
            }
        }
        Ok(())
    }
}

/// The bytes of variables one execution stores, shared by all its scopes (Parallel branches
/// and Map iterations run on other futures, hence the atomic). A scope's variables count from
/// their assignment until the scope ends (`release`).
#[derive(Debug, Default, Clone)]
pub(super) struct Budget(Arc<AtomicUsize>);

impl Budget {
    /// Replaces `freed` stored bytes by `added`, unless the total would pass `limit`.
    pub fn take(&self, freed: usize, added: usize, limit: usize) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                let next = now.saturating_sub(freed).checked_add(added)?;
                (next <= limit).then_some(next)
            })
            .is_ok()
    }

    /// A scope ended: its variables no longer count.
    pub fn release(&self, bytes: usize) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_sub(bytes))
            });
    }

    /// Bytes stored now (tests).
    #[cfg(test)]
    pub fn stored(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// The cause when one variable is larger than its quota.
// AWS's text for the variable quotas was not found (no recorded case, no document quotes it):
// these follow the wording of its payload cause.
fn variable_too_big(state: &str, name: &Str) -> StatesError {
    StatesError::new(
        ErrorName::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{state}' assigned a value to the variable '{name}' with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

fn assign_too_big(state: &str) -> StatesError {
    StatesError::new(
        ErrorName::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{state}' assigned variables with a combined size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// The cause when the variables of the execution together would pass their quota.
pub(super) fn variables_too_big(state: &str) -> StatesError {
    StatesError::new(
        ErrorName::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{state}' assigned variables that would take the execution's variables past the maximum number of bytes service limit."
        ),
    )
}

/// How long one JSONata evaluation may hold an async runtime's worker thread.
#[cfg(feature = "server")]
pub(super) const HOLD_WORKER: Duration = Duration::from_millis(20);

/// Runs a JSONata evaluation (`eval`, given its `Limits::hand_off_after`) so that a long one
/// does not hold a worker of a multi-threaded tokio runtime, whose other tasks (other
/// executions, `/health`) would wait behind it: first for at most [`HOLD_WORKER`]; if it is not
/// done by then, once more from the start, inside `tokio::task::block_in_place` on a
/// multi-threaded runtime's worker (which hands the worker's queue to another thread while this
/// one finishes the evaluation), elsewhere in place (a current-thread runtime, no runtime).
/// Either way the execution's deadline and JSONata's own limits still bound it. Evaluations have
/// no side effects, so running one again changes nothing but time: 20 ms of work, done twice.
/// Without the `server` feature (which brings tokio's multi-threaded runtime) it runs once.
// PERF: the runtime is looked up only once an evaluation has run 20 ms, and the hand-off point
// is compared where JSONata already reads the clock for its deadline (every 256 steps; the
// direct tier never gets there). Instructions per execution, before → after this and the
// hand-off (run_many under cachegrind, N = 2000 minus N = 0, same sitting): w1_jsonata
// 128.76 k → 129.52 k (+0.6 %), and w1_pass_chain, which evaluates no JSONata, 90.28 k →
// 90.84 k (+0.6 %) too: the same shift in both, code layout rather than the check.
pub(super) fn off_the_workers<T>(
    eval: impl Fn(Option<Duration>) -> Result<T, jsonata::Error>,
) -> Result<T, jsonata::Error> {
    #[cfg(feature = "server")]
    {
        use tokio::runtime::{Handle, RuntimeFlavor};
        match eval(Some(HOLD_WORKER)) {
            Err(e) if e.is_handed_off() => {}
            done => return done,
        }
        let on_worker =
            Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
        if on_worker {
            return tokio::task::block_in_place(|| eval(None));
        }
    }
    eval(None)
}
