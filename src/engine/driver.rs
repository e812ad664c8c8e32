//! Performing effects: one `Run` per execution drives the VM and its child scopes.

use super::Engine;
use crate::compile::{Program, ScopeId};
use crate::tasks::{ExecutionScope, TaskRequest};
use crate::value::{Map, Str, Value};
use crate::vm::{
    Effect, ErrorName, Execution, ExecutionInfo, Invoke, MapRun, Resume, StatesError, Step,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::SystemTime;

/// The state of one execution's driver, shared by all of its scopes.
pub(super) struct Run<'e> {
    engine: &'e Engine,
    program: &'e Arc<Program>,
    test_case: Option<Str>,
    transitions: AtomicU64,
    /// Per-execution task state (mock invocation counters), shared by every scope's tasks.
    scope: ExecutionScope,
    /// Map iterations and Parallel branches of this execution in flight: counted against
    /// `Settings::max_children_in_flight_per_execution` by `Slot`.
    in_flight: AtomicUsize,
    /// Sleeps end at once (`ExecutionMeta::skip_waits`).
    skip_waits: bool,
}

impl<'e> Run<'e> {
    pub fn new(engine: &'e Engine, program: &'e Arc<Program>, test_case: Option<Str>) -> Run<'e> {
        Run {
            engine,
            program,
            test_case,
            transitions: AtomicU64::new(0),
            scope: ExecutionScope::new(),
            in_flight: AtomicUsize::new(0),
            skip_waits: false,
        }
    }

    /// Makes every sleep end at once (TestState).
    pub fn skipping_waits(mut self, skip: bool) -> Run<'e> {
        self.skip_waits = skip;
        self
    }

    pub fn transitions(&self) -> u64 {
        self.transitions.load(Ordering::Relaxed)
    }

    /// Runs the top scope; `input_bound` bounds the input's size in bytes (`usize::MAX` when
    /// unknown).
    pub async fn execute(
        &self,
        info: Arc<ExecutionInfo>,
        input: Value,
        input_bound: usize,
        preset: Option<&Map>,
    ) -> (Result<Value, StatesError>, Option<Map>) {
        let mut exec = Execution::new(self.program, info, input, SystemTime::now());
        exec.set_input_bound(input_bound);
        if let Some(vars) = preset
            && let Err(e) = exec.preset_variables(vars)
        {
            return (Err(e), None);
        }
        let step = exec.step(self.program, SystemTime::now());
        let (result, exec) = self.drive(exec, step).await;
        // The variables at the end are kept only for whoever set some (TestState shows them).
        let vars = preset.map(|_| exec.vars.local().clone());
        (result, vars)
    }

    /// Drives one scope from `step` to its end.
    fn drive<'a>(
        &'a self,
        mut exec: Execution,
        mut step: Step,
    ) -> BoxFuture<'a, (Result<Value, StatesError>, Execution)> {
        Box::pin(async move {
            loop {
                match step {
                    Step::Done(r) => {
                        self.transitions
                            .fetch_add(exec.transitions, Ordering::Relaxed);
                        return (r, exec);
                    }
                    Step::Effect(effect) => {
                        let resume = self.perform(&exec, effect).await;
                        step = exec.resume(self.program, resume, SystemTime::now());
                    }
                }
            }
        })
    }

    async fn perform(&self, exec: &Execution, effect: Effect) -> Resume {
        match effect {
            Effect::Invoke(inv) => Resume::Task(self.invoke(exec, inv).await),
            Effect::Sleep { until } => {
                match until.duration_since(SystemTime::now()) {
                    Ok(d) if !self.skip_waits => tokio::time::sleep(d).await,
                    // A past time (or the VM yielding, or no waiting): still give the thread
                    // back once.
                    _ => tokio::task::yield_now().await,
                }
                Resume::Woke
            }
            Effect::Parallel { branches, input } => {
                let children = branches.iter().map(|b| (*b, input.clone(), None)).collect();
                Resume::Children(self.children(exec, children, 0, Tolerance::None).await)
            }
            Effect::Map(run) => Resume::Children(self.map(exec, run).await),
        }
    }

    async fn invoke(&self, exec: &Execution, inv: Invoke) -> Result<Value, StatesError> {
        let req = TaskRequest {
            resource: inv.resource.clone(),
            state_name: inv.state_name.clone(),
            state_machine_name: exec.info().state_machine_name.clone(),
            test_case: self.test_case.clone(),
            input: inv.input,
            attempt: inv.attempt,
            context: inv.context,
            scope: self.scope.clone(),
        };
        let fut = self.engine.tasks.invoke(req);
        let result = match inv.timeout {
            Some(t) => match tokio::time::timeout(t, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(StatesError {
                        error: Some(Str::from(ErrorName::TIMEOUT)),
                        cause: None,
                    });
                }
            },
            None => fut.await,
        };
        result.map_err(|e| StatesError {
            error: Some(Str::from(e.error.as_str())),
            cause: e.cause.map(|c| Str::from(c.as_str())),
        })
    }

    async fn map(&self, exec: &Execution, run: MapRun) -> Result<Vec<Value>, StatesError> {
        let tolerance = if run.tolerated_count.is_some() || run.tolerated_percentage.is_some() {
            Tolerance::Limits {
                count: run.tolerated_count,
                percentage: run.tolerated_percentage,
            }
        } else {
            Tolerance::None
        };
        let children = run
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| (run.processor, item, Some(i)))
            .collect::<Vec<_>>();
        let limit = if run.max_concurrency == 0 {
            self.engine.settings.map_unbounded_concurrency
        } else {
            run.max_concurrency as usize
        };
        self.children(exec, children, limit, tolerance).await
    }

    /// Runs child scopes: inline while they need nothing, concurrently (up to `limit`, 0 = no
    /// limit) when they wait on the outside world. Outputs in order; the first failure that
    /// is not tolerated fails them all (dropping the others' futures cancels them).
    ///
    /// A child in flight holds a `Slot` of the execution's and the engine's bounds, except one
    /// per call: that one keeps every level of a nested Map or Parallel moving, so the bounds
    /// can never starve a child that its own parent's slot waits on. In flight at once are
    /// so at most (slots + 1) × nesting depth scopes.
    async fn children(
        &self,
        exec: &Execution,
        children: Vec<(ScopeId, Value, Option<usize>)>,
        limit: usize,
        tolerance: Tolerance,
    ) -> Result<Vec<Value>, StatesError> {
        let total = children.len();
        let mut results: Vec<Value> = vec![Value::Null; total];
        let mut failures = 0usize;
        let mut pending = FuturesUnordered::new();
        let mut queue = children.into_iter().enumerate();
        let limit = if limit == 0 { usize::MAX } else { limit };
        // A child already started that waits for a slot.
        let mut parked: Option<(usize, Execution, Step)> = None;
        // Whether this call's one child without a slot is in flight.
        let mut unslotted = false;
        loop {
            while pending.len() < limit {
                let (i, child, step) = match parked.take() {
                    Some(p) => p,
                    None => {
                        let Some((i, (scope, input, _item))) = queue.next() else {
                            break;
                        };
                        let mut child = exec.child(self.program, scope, input, SystemTime::now());
                        match child.step(self.program, SystemTime::now()) {
                            Step::Done(r) => {
                                self.transitions
                                    .fetch_add(child.transitions, Ordering::Relaxed);
                                self.record(&mut results, &mut failures, i, r, total, &tolerance)?;
                                continue;
                            }
                            step => (i, child, step),
                        }
                    }
                };
                let slot = if unslotted {
                    match self.slot() {
                        Some(s) => Some(s),
                        None => {
                            parked = Some((i, child, step));
                            break;
                        }
                    }
                } else {
                    unslotted = true;
                    None
                };
                pending.push(async move {
                    let r = self.drive(child, step).await.0;
                    let had_slot = slot.is_some();
                    drop(slot);
                    (i, r, had_slot)
                });
            }
            match pending.next().await {
                Some((i, r, had_slot)) => {
                    unslotted &= had_slot;
                    self.record(&mut results, &mut failures, i, r, total, &tolerance)?
                }
                None => break,
            }
        }
        Ok(results)
    }

    /// A place in flight for one more child, if both bounds allow it.
    fn slot(&self) -> Option<Slot<'_>> {
        let settings = &self.engine.settings;
        let engine = &self.engine.children_in_flight;
        if !take(
            &self.in_flight,
            settings.max_children_in_flight_per_execution,
        ) {
            return None;
        }
        if !take(engine, settings.max_children_in_flight) {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot {
            execution: &self.in_flight,
            engine,
        })
    }

    fn record(
        &self,
        results: &mut [Value],
        failures: &mut usize,
        i: usize,
        r: Result<Value, StatesError>,
        total: usize,
        tolerance: &Tolerance,
    ) -> Result<(), StatesError> {
        match r {
            Ok(v) => {
                results[i] = v;
                Ok(())
            }
            Err(e) => match tolerance {
                Tolerance::None => Err(e),
                Tolerance::Limits { count, percentage } => {
                    *failures += 1;
                    let over_count = count.is_some_and(|c| *failures as u64 > c);
                    let over_pct = percentage
                        .is_some_and(|p| (*failures as f64) * 100.0 / (total.max(1) as f64) > p);
                    let over = match (count, percentage) {
                        (Some(_), Some(_)) => over_count && over_pct,
                        _ => over_count || over_pct,
                    };
                    if over {
                        return Err(StatesError::new(
                            ErrorName::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        ));
                    }
                    let mut m = Map::new();
                    m.insert(
                        Str::from("Error"),
                        e.error.map(Value::String).unwrap_or(Value::Null),
                    );
                    m.insert(
                        Str::from("Cause"),
                        e.cause.map(Value::String).unwrap_or(Value::Null),
                    );
                    results[i] = Value::object(m);
                    Ok(())
                }
            },
        }
    }
}

/// Takes one from `counter` if fewer than `max` are taken.
fn take(counter: &AtomicUsize, max: usize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
            (n < max).then_some(n + 1)
        })
        .is_ok()
}

/// One Map iteration or Parallel branch in flight, counted against the execution's and the
/// engine's bounds until dropped.
struct Slot<'a> {
    execution: &'a AtomicUsize,
    engine: &'a AtomicUsize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.execution.fetch_sub(1, Ordering::AcqRel);
        self.engine.fetch_sub(1, Ordering::AcqRel);
    }
}

enum Tolerance {
    None,
    Limits {
        count: Option<u64>,
        percentage: Option<f64>,
    },
}
