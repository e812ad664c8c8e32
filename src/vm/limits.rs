//! AWS's data quotas, checked where the data flows: a state's effective input, its task or
//! sub-workflow result and its output against the payload quota, and the values an `Assign`
//! stores against the variable quotas.
//!
//! In: the `Limits` of the execution (from `engine::Settings`), the values to measure. Out:
//! `States.DataLimitExceeded` errors. Sizes are the bytes of the compact JSON, measured on the
//! value without serialising it (`Value::json_len_within`, which stops as soon as it knows).

use super::{ErrorName, StatesError};
use crate::expr::{Path, ReferencePath, Root};
use crate::value::{Map, Str, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
// merge is bounded by its input's bound plus the result's, and `Measured` remembers containers.
// Measuring every output whole: `cargo bench --bench workflows -- w1_pass_chain` 15.8-19.0 µs
// → 32.2-36.6 µs (alternated runs, machine under load 5). Instructions per execution
// (cachegrind, since the load made criterion's times swing ±30%), before these quotas → with
// bounds only → now: w1_pass_chain 81.8 k → 96.8 k → 92.4 k; w1_jsonata 251.3 k → 283.6 k
// now (each JSONata Output is new data, measured member by member). Still +13%: what remains
// is walking every template's output once (~35 values a run of w1, ~60 instructions each).

/// Containers measured lately, by identity: a state's template often takes whole parts of
/// what earlier states built (`"who.$": "$.p01"`), and a loop wraps its last output; those
/// are not walked again. The values are kept so that their addresses cannot be reused.
#[derive(Debug)]
pub(super) struct Measured {
    ids: [usize; MEASURED],
    sizes: [usize; MEASURED],
    keep: [Value; MEASURED],
    next: usize,
    /// Whether `next` has wrapped around (every slot holds something).
    full: bool,
}

/// How many measured containers an execution remembers.
const MEASURED: usize = 16;

impl Default for Measured {
    fn default() -> Measured {
        Measured {
            ids: [0; MEASURED],
            sizes: [0; MEASURED],
            keep: Default::default(),
            next: 0,
            full: false,
        }
    }
}

impl Measured {
    fn id(v: &Value) -> Option<usize> {
        match v {
            Value::Array(a) => Some(Arc::as_ptr(a) as *const u8 as usize),
            Value::Object(o) => Some(Arc::as_ptr(o) as *const u8 as usize),
            _ => None,
        }
    }

    fn known(&self, v: &Value) -> Option<usize> {
        if let Value::Object(o) = v
            && let Some(n) = o.json_len_memo()
        {
            return Some(n);
        }
        let id = Self::id(v)?;
        self.ids
            .iter()
            .position(|&i| i == id)
            .map(|i| self.sizes[i])
    }

    /// The exact size of `v` when within `limit`; a container's is remembered, and so are an
    /// object's member containers (a state's output keeps most members of its input: the next
    /// output, a new object, then costs a look at each member).
    pub fn measure(&mut self, v: &Value, limit: usize) -> Option<usize> {
        if let Some(n) = self.known(v) {
            return (n <= limit).then_some(n);
        }
        let n = match v {
            Value::Object(o) if !o.is_empty() => {
                // Braces, commas and colons.
                let mut total = 2 + (o.len() - 1) + o.len();
                for (key, member) in o.iter() {
                    total += Value::json_str_len(key);
                    let rest = limit.checked_sub(total)?;
                    total += match member {
                        Value::Array(_) | Value::Object(_) => self.measure_walk(member, rest)?,
                        scalar => scalar.json_len_within(rest)?,
                    };
                }
                if total > limit {
                    return None;
                }
                total
            }
            _ => v.json_len_within_known(limit, &|x| self.known(x))?,
        };
        self.remember(v, n);
        Some(n)
    }

    /// A container measured by a walk (skipping what is known), then remembered.
    fn measure_walk(&mut self, v: &Value, limit: usize) -> Option<usize> {
        if let Some(n) = self.known(v) {
            return (n <= limit).then_some(n);
        }
        let n = v.json_len_within_known(limit, &|x| self.known(x))?;
        self.remember(v, n);
        Some(n)
    }

    fn remember(&mut self, v: &Value, n: usize) {
        // Objects remember their own length.
        if let Value::Object(o) = v {
            o.set_json_len_memo(n);
            return;
        }
        if let Some(id) = Self::id(v) {
            let slot = self.next;
            self.ids[slot] = id;
            self.sizes[slot] = n;
            // The value it replaces may nest deeper than a recursive drop goes.
            let old = std::mem::replace(&mut self.keep[slot], v.clone());
            if !old.is_null() {
                old.dismantle();
            }
            self.next = (slot + 1) % MEASURED;
            self.full |= self.next == 0;
        }
    }

    /// Drops what it keeps without recursion (an execution's end).
    pub fn clear(&mut self) {
        // PERF: only the slots ever filled (objects remember their own lengths, so most
        // executions fill none): 1.4 k instructions per execution of w1 → none.
        let used = if self.full { MEASURED } else { self.next };
        self.ids[..used].fill(0);
        for v in &mut self.keep[..used] {
            std::mem::replace(v, Value::Null).dismantle();
        }
        self.next = 0;
        self.full = false;
    }
}

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
