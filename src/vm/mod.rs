//! The interpreter: synchronous and sans-IO.
//!
//! In: a `Program`, an `Execution` (pc, current input, variables, counters) and the time now.
//! Out: `Step::Done` with the scope's output or failure, or `Step::Effect` when the execution
//! needs the outside world (invoke a task, sleep until, run branches or iterations). The driver
//! performs the effect and calls `resume`. Nothing here reads a clock, spawns or awaits.

mod choice;
mod data;
pub mod errors;
pub mod history;
mod jsonata_eval;
mod limits;
mod reader;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
pub mod time;
pub mod token;

pub use errors::{ErrorName, StatesError};
pub use history::{History, HistoryEvent};
pub use limits::Limits;
pub use reader::{BatchSpec, ReaderRun, WriterRun};

use crate::compile::{Catcher, MapOp, Op, Program, ScopeId, StateId};
use crate::value::{Map, Number, Str, Value};
use data::Frame;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Facts about the execution that the context object `$$` shows.
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    /// `$$.Execution.Id`.
    pub execution_arn: Str,
    /// `$$.Execution.Name`.
    pub name: Str,
    /// `$$.StateMachine.Id`.
    pub state_machine_arn: Str,
    /// `$$.StateMachine.Name`.
    pub state_machine_name: Str,
    /// `$$.Execution.RoleArn`.
    pub role_arn: Str,
    /// `$$.Execution.StartTime`.
    pub start_time: SystemTime,
    /// `$$.Execution.Input`.
    pub input: Value,
    /// `$$.Execution.RedriveCount`: AWS shows it for StartExecution, not StartSyncExecution.
    pub redrive_count: Option<u32>,
    /// The data quotas every scope of the execution checks.
    pub limits: Limits,
    /// Where the history events go, when anyone will read them (logging at `ALL`, the console).
    pub history: Option<Arc<History>>,
    /// When the execution times out, if it does: long evaluations inside one state (JSONata)
    /// stop there instead of running on past it. The VM itself reads no clock.
    pub deadline: Option<std::time::Instant>,
    /// `$$.Execution` and `$$.StateMachine`, built by the first state that reads the context
    /// (they do not change during the execution). `Default::default()` to construct.
    // PERF: w5_credit: every Task built both objects again, its start time formatted each time.
    pub context_parts: std::sync::OnceLock<(Value, Value)>,
}

/// Workflow variables visible to one scope: its own, then its parents' (read-only).
#[derive(Debug, Clone, Default)]
pub struct Variables {
    /// None until the scope's first Assign.
    // PERF: parked executions: no allocation for a scope that assigns nothing (two before).
    local: Option<Arc<Local>>,
    /// The sum of `sizes`: what this scope holds of the execution's `budget`.
    local_bytes: usize,
    parent: Option<Arc<Variables>>,
    /// Bytes stored by every scope of the execution (AWS's quota is per execution).
    budget: limits::Budget,
}

/// A scope's own variables.
#[derive(Debug, Clone, Default)]
struct Local {
    map: Map,
    /// The size of each of `map`'s values, index for index (measured when assigned).
    sizes: Vec<usize>,
}

impl Variables {
    /// A child scope (Parallel branch, Map iteration): reads ours, writes its own.
    pub fn child(&self) -> Variables {
        Variables {
            local: None,
            local_bytes: 0,
            parent: Some(Arc::new(self.clone())),
            budget: self.budget.clone(),
        }
    }

    /// Stores what a state assigned, unless the execution's variables would pass `limit`
    /// bytes together (values replaced in this scope stop counting).
    fn commit(
        &mut self,
        assigned: limits::Assigned,
        limit: usize,
        state: &str,
    ) -> Result<(), StatesError> {
        let added: usize = assigned.sizes.iter().sum();
        let freed: usize = match &self.local {
            Some(local) => assigned
                .map
                .keys()
                .filter_map(|k| local.map.get_index_of(k))
                .map(|i| local.sizes[i])
                .sum(),
            None => 0,
        };
        if !self.budget.take(freed, added, limit) {
            return Err(limits::variables_too_big(state));
        }
        let Local { map, sizes } = Arc::make_mut(self.local.get_or_insert_with(Arc::default));
        for ((k, v), size) in assigned.map.into_iter().zip(assigned.sizes) {
            let (i, _) = map.insert_full(k, v);
            if i == sizes.len() {
                sizes.push(size);
            } else {
                sizes[i] = size;
            }
        }
        self.local_bytes = self.local_bytes - freed + added;
        Ok(())
    }
}

impl Variables {
    /// The variables this scope assigned (the top level's are the execution's).
    pub fn local(&self) -> Map {
        self.local
            .as_ref()
            .map_or_else(Map::new, |local| local.map.clone())
    }
}

impl crate::expr::Vars for Variables {
    fn get(&self, name: &str) -> Option<&Value> {
        match self.local.as_ref().and_then(|local| local.map.get(name)) {
            Some(v) => Some(v),
            None => self.parent.as_ref().and_then(|p| p.get(name)),
        }
    }
}

/// One running scope (the top level, a branch or an iteration) of one execution.
#[derive(Debug)]
pub struct Execution {
    pc: StateId,
    phase: Phase,
    /// The raw input of the current state.
    input: Value,
    /// An upper bound on `input`'s size in bytes (`limits::UNKNOWN` until measured).
    input_bound: usize,
    /// The bound of the output `commit` accepted, for the next state's `input_bound`.
    output_bound: usize,
    /// Effective input kept across retries (after InputPath/Parameters or Arguments).
    effective: Value,
    info: Arc<ExecutionInfo>,
    /// The workflow variables this scope sees (`Assign`, read as `$name`).
    pub vars: Variables,
    /// Counters of the current state's retriers.
    retry_counts: Vec<u32>,
    /// `$$.State.RetryCount`.
    retry_count: u32,
    entered_time: SystemTime,
    /// History event ids as a Standard execution would number them (AWS quotes them in causes).
    event_id: u64,
    entered_event: u64,
    /// `$$.Task.Token` of the current attempt of a `.waitForTaskToken` Task.
    task_token: Option<Str>,
    /// State transitions so far (billing and metrics).
    pub transitions: u64,
    /// States entered so far, by type (`STATE_TYPES` order): `/metrics` counts them.
    pub entered: [u32; 8],
    /// This scope's last history event (what the next one follows).
    last_event: u64,
    /// Transitions left before `step` yields (kept across effects: a loop through a Parallel
    /// whose branches finish inline never waits on anything).
    yield_budget: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Enter,
    AwaitTask,
    AwaitChildren,
    AwaitWait,
    AwaitRetry,
    /// Gave the thread back after `YIELD_EVERY` transitions; resumed by `Resume::Woke`.
    Yielded,
    Finished,
}

/// Transitions one `step` runs before it hands the thread back with an immediate `Sleep`, so
/// that a loop of Pass/Choice states (`"A": {"Next": "A"}`) cannot keep the driver from applying
/// the execution timeout or its other executions from running.
const YIELD_EVERY: u32 = 1_000;
/// Bounds on a state's data checked when `step` yields: deeper or larger, and the execution fails
/// with `States.DataLimitExceeded` (AWS's payload limit is 256 KiB; an embedder may raise it, so
/// this only stops runaway growth).
const LIVE_DEPTH: usize = 1_000;
const LIVE_BYTES: usize = 64 << 20;

impl Drop for Execution {
    fn drop(&mut self) {
        // A loop may have nested the data deeper than a recursive drop can go.
        std::mem::replace(&mut self.input, Value::Null).dismantle();
        std::mem::replace(&mut self.effective, Value::Null).dismantle();
        // The scope ends: its variables leave the execution's budget.
        self.vars.budget.release(self.vars.local_bytes);
        if let Some(Ok(vars)) = self.vars.local.take().map(Arc::try_unwrap) {
            vars.map.into_values().for_each(Value::dismantle);
        }
    }
}

/// What `step` returns.
#[derive(Debug)]
pub enum Step {
    /// The scope finished: its output, or the error that failed it.
    Done(Result<Value, StatesError>),
    /// The scope waits for the outside world: the driver serves the effect, then calls `resume`.
    Effect(Effect),
}

/// What the execution needs from the outside world.
#[derive(Debug)]
pub enum Effect {
    /// Run a Task's resource (boxed, as is a Map's run: a waiting scope keeps its `Step` and
    /// the small arms then decide its size).
    Invoke(Box<Invoke>),
    /// Resume at `until` (a Wait state or a Retry backoff).
    Sleep {
        /// The instant to wake at.
        until: SystemTime,
    },
    /// Run each branch on the same input; resume with their outputs in branch order.
    Parallel {
        /// The branches' scopes, in definition order.
        branches: Box<[ScopeId]>,
        /// The Parallel state's effective input, given to every branch.
        input: Value,
    },
    /// Run the processor on each item; resume with outputs in item order.
    Map(Box<MapRun>),
}

/// A Task invocation.
#[derive(Debug)]
pub struct Invoke {
    /// The Task's `Resource`, as written.
    pub resource: Str,
    /// The Task state's name.
    pub state_name: Str,
    /// The effective input (after `Parameters`/`Arguments`).
    pub input: Value,
    /// `TimeoutSeconds`, when set.
    pub timeout: Option<Duration>,
    /// `HeartbeatSeconds`, when set.
    pub heartbeat: Option<Duration>,
    /// Which attempt this is: 0 first, then one more per retry.
    pub attempt: u32,
    /// The context object (`$$`) as the Task sees it.
    pub context: Value,
    /// The token a `.waitForTaskToken` Task waits for (also in `context` as `Task.Token`).
    pub task_token: Option<Str>,
}

/// A Map state's iterations.
#[derive(Debug)]
pub struct MapRun {
    /// The item processor's scope.
    pub processor: ScopeId,
    /// The items, after `ItemSelector` and batching.
    pub items: Vec<Value>,
    /// 0 = unbounded.
    pub max_concurrency: u64,
    /// `ToleratedFailureCount`, when set.
    pub tolerated_count: Option<u64>,
    /// `ToleratedFailurePercentage`, when set.
    pub tolerated_percentage: Option<f64>,
    /// `ProcessorConfig.Mode` is `DISTRIBUTED`: each iteration is a child execution.
    pub distributed: bool,
    /// The Map state's name.
    pub state_name: Str,
    /// `ItemReader`/`ResultWriter` (boxed: most Maps have neither).
    pub io: Option<Box<MapIo>>,
}

/// A Distributed Map's reading and writing, done by the driver.
#[derive(Debug)]
pub struct MapIo {
    /// `ItemReader`: `items` is empty and the driver reads them, takes each through
    /// [`Execution::select_read_item`] and batches them with `batching`.
    pub reader: Option<ReaderRun>,
    /// `ItemBatcher` for read items (items from the input come batched already).
    pub batching: Option<BatchSpec>,
    /// `ResultWriter`: the driver writes the results and resumes with
    /// [`Resume::MapResult`].
    pub writer: Option<WriterRun>,
    /// The Map's effective input (what `ItemSelector` reads besides the item).
    pub effective: Value,
}

/// What the driver hands back after an effect.
#[derive(Debug)]
pub enum Resume {
    /// A Task's result or its error.
    Task(Result<Value, StatesError>),
    /// A Sleep's instant has come.
    Woke,
    /// A Parallel's branch outputs or a Map's iteration outputs, in order, or the first error.
    Children(Result<Vec<Value>, StatesError>),
    /// A Map's whole result when it is not the array of its iterations' outputs (a
    /// `ResultWriter`'s `MapRunArn`/`ResultWriterDetails`).
    MapResult(Result<Value, StatesError>),
}

/// How a state ends.
enum Flow {
    Next(StateId, Value),
    End(Value),
    Effect(Effect),
    Fail(StatesError),
}

impl Execution {
    /// A new top-level execution of `program` on `input`.
    pub fn new(
        program: &Program,
        info: Arc<ExecutionInfo>,
        input: Value,
        now: SystemTime,
    ) -> Execution {
        let last = info.history.as_ref().map_or(0, |h| h.last_id());
        let mut exec =
            Execution::scope(program, ScopeId(0), info, input, Variables::default(), now);
        exec.last_event = last;
        exec
    }

    /// An execution of one scope (branch or iteration) with the given variables.
    pub fn scope(
        program: &Program,
        scope: ScopeId,
        info: Arc<ExecutionInfo>,
        input: Value,
        vars: Variables,
        now: SystemTime,
    ) -> Execution {
        Execution {
            pc: program.scopes[scope.0 as usize].start,
            phase: Phase::Enter,
            input,
            input_bound: limits::UNKNOWN,
            output_bound: limits::UNKNOWN,
            effective: Value::Null,
            info,
            vars,
            retry_counts: Vec::new(),
            retry_count: 0,
            entered_time: now,
            event_id: 1,
            entered_event: 0,
            last_event: 0,
            task_token: None,
            transitions: 0,
            entered: [0; 8],
            yield_budget: YIELD_EVERY,
        }
    }

    /// An upper bound on the size of the input in bytes, when the caller knows one (the
    /// length of the JSON text it parsed, times 8: see `engine`), so that small executions
    /// never measure their whole data.
    pub fn set_input_bound(&mut self, bytes: usize) {
        self.input_bound = bytes;
    }

    /// Sets workflow variables before the first state (TestState's `variables`), within the
    /// same quotas as an `Assign`.
    pub fn preset_variables(&mut self, vars: &Map) -> Result<(), StatesError> {
        let limits = self.info.limits;
        let mut assigned = limits::Assigned::default();
        assigned.add(&limits, "", vars)?;
        self.vars.commit(assigned, limits.variables_total_bytes, "")
    }

    /// The exact size of `v` when within `limit` (objects remember theirs for later walks).
    fn measure(&self, v: &Value, limit: usize) -> Option<usize> {
        v.json_len_within(limit)
    }

    /// A child scope for a branch or iteration of the current state.
    pub fn child(
        &self,
        program: &Program,
        scope: ScopeId,
        input: Value,
        now: SystemTime,
    ) -> Execution {
        let mut child = Execution::scope(
            program,
            scope,
            self.info.clone(),
            input,
            self.vars.child(),
            now,
        );
        child.last_event = self.last_event;
        child
    }

    /// Records a history event of this scope, when the execution keeps a history; `details`
    /// is built only then.
    #[inline]
    pub fn record(
        &mut self,
        kind: &'static str,
        now: SystemTime,
        details: impl FnOnce() -> history::Details,
    ) {
        if let Some(h) = &self.info.history {
            self.last_event = h.record(self.last_event, now, kind, details());
        }
    }

    /// Whether history events are being recorded.
    pub fn has_history(&self) -> bool {
        self.info.history.is_some()
    }

    /// The execution facts shared by every scope.
    pub fn info(&self) -> &Arc<ExecutionInfo> {
        &self.info
    }

    /// Name of the state the execution is in.
    pub fn state_name<'p>(&self, program: &'p Program) -> &'p str {
        &program.states[self.pc.0 as usize].name
    }

    /// Hands the result of the last effect back.
    pub fn resume(&mut self, program: &Program, resume: Resume, now: SystemTime) -> Step {
        if self.has_history() {
            self.record_result(program, &resume, now);
        }
        let flow = match (self.phase, resume) {
            (Phase::AwaitTask, Resume::Task(Ok(result))) => {
                match self.task_result_fits(program, &result) {
                    Ok(size) => self.finish_with_result(program, result, size),
                    // Recorded: a Catch on States.ALL catches this one (a TaskFailed event).
                    Err(e) => self.handle_failure(program, e, true),
                }
            }
            (Phase::AwaitTask, Resume::Task(Err(e)))
            | (Phase::AwaitChildren, Resume::Children(Err(e)))
            | (Phase::AwaitChildren, Resume::MapResult(Err(e))) => self.state_failed(program, e),
            (Phase::AwaitChildren, Resume::MapResult(Ok(result))) => {
                match self.measure(&result, self.info.limits.payload_bytes) {
                    Some(size) => self.finish_with_result(program, result, size),
                    None => {
                        let e = limits::too_big(self.state_name(program));
                        self.state_failed(program, e)
                    }
                }
            }
            (Phase::AwaitChildren, Resume::Children(Ok(items))) => {
                let result = Value::array(items);
                match self.measure(&result, self.info.limits.payload_bytes) {
                    Some(size) => self.finish_with_result(program, result, size),
                    None => {
                        let e = limits::too_big(self.state_name(program));
                        self.state_failed(program, e)
                    }
                }
            }
            (Phase::AwaitWait, Resume::Woke) => self.finish_passthrough(program),
            (Phase::Yielded, Resume::Woke) => {
                self.phase = Phase::Enter;
                return self.run(program, now, false);
            }
            (Phase::AwaitRetry, Resume::Woke) => {
                self.phase = Phase::Enter;
                self.retry_count += 1;
                return self.run(program, now, true);
            }
            (phase, r) => {
                panic!("resume {r:?} does not fit phase {phase:?}: the driver broke the protocol")
            }
        };
        self.after(program, flow, now)
    }

    /// The history event of a Task's, a Parallel's or a Map's result.
    fn record_result(&mut self, program: &Program, resume: &Resume, now: SystemTime) {
        let op = &program.states[self.pc.0 as usize].def;
        let (ok, err) = match resume {
            Resume::Task(Ok(v)) => (Some(v), None),
            // A Parallel's or Map's result shows in its Exited event.
            Resume::Children(Ok(_)) | Resume::MapResult(Ok(_)) => (Some(&Value::Null), None),
            Resume::Task(Err(e)) | Resume::Children(Err(e)) | Resume::MapResult(Err(e)) => {
                (None, Some(e))
            }
            Resume::Woke => return,
        };
        let mut details = history::Details::new();
        if let Op::Task(task) = op {
            let (kind, name) = history::resource_parts(&task.resource);
            details.push(("resourceType", Value::String(Str::from(kind.as_str()))));
            details.push(("resource", Value::String(Str::from(name.as_str()))));
        }
        if let Some(v) = ok
            && matches!(op, Op::Task(_))
        {
            details.push(("output", v.clone()));
            details.push(("outputDetails", history::not_truncated()));
        }
        if let Some(e) = err {
            if let Some(error) = &e.error {
                details.push(("error", Value::String(error.clone())));
            }
            if let Some(cause) = &e.cause {
                details.push(("cause", Value::String(cause.clone())));
            }
        }
        let timed_out = err.is_some_and(|e| e.matches(ErrorName::TIMEOUT));
        let kind = match (op, ok.is_some(), timed_out) {
            (Op::Task(_), true, _) => "TaskSucceeded",
            (Op::Task(_), false, true) => "TaskTimedOut",
            (Op::Task(_), false, false) => "TaskFailed",
            (Op::Parallel { .. }, true, _) => "ParallelStateSucceeded",
            (Op::Parallel { .. }, false, _) => "ParallelStateFailed",
            (Op::Map(_), true, _) => "MapStateSucceeded",
            (Op::Map(_), false, _) => "MapStateFailed",
            _ => return,
        };
        self.record(kind, now, || details);
    }

    /// Runs transitions until the scope finishes or needs an effect.
    pub fn step(&mut self, program: &Program, now: SystemTime) -> Step {
        self.run(program, now, false)
    }

    fn run(&mut self, program: &Program, now: SystemTime, retrying: bool) -> Step {
        debug_assert_eq!(self.phase, Phase::Enter);
        let mut retrying = retrying;
        loop {
            if !retrying {
                self.retry_counts.clear();
                self.retry_count = 0;
            }
            self.entered_time = now;
            self.entered_event = self.event_id + 1;
            self.event_id += 1;
            self.transitions += 1;
            // PERF: counting states by type (for /metrics): w1_pass_chain 89.9 k → 91.0 k
            // instructions per execution (run_many under cachegrind, N = 2000 minus N = 0).
            let kind = history::type_index(&program.states[self.pc.0 as usize].def);
            self.entered[kind] = self.entered[kind].saturating_add(1);
            if self.has_history() {
                let state = &program.states[self.pc.0 as usize];
                let (name, input) = (state.name.clone(), &self.input);
                let details = history::details([
                    ("name", Value::String(name)),
                    ("input", input.clone()),
                    ("inputDetails", history::not_truncated()),
                ]);
                self.record(history::entered(&state.def), now, || details);
            }
            let flow = self.enter(program, now);
            match self.after_inner(program, flow, now) {
                Some(step) => return step,
                None => retrying = false,
            }
            self.yield_budget = self.yield_budget.saturating_sub(1);
            if self.yield_budget == 0 {
                self.yield_budget = YIELD_EVERY;
                // A loop that grows its data each turn is stopped here, before its memory, or a
                // recursive walk of its depth, can run away.
                if self.input.exceeds(LIVE_DEPTH, LIVE_BYTES)
                    || self.vars.local.as_ref().is_some_and(|local| {
                        local
                            .map
                            .values()
                            .any(|v| v.exceeds(LIVE_DEPTH, LIVE_BYTES))
                    })
                {
                    self.phase = Phase::Finished;
                    return Step::Done(Err(limits::too_big(self.state_name(program))));
                }
                self.phase = Phase::Yielded;
                return Step::Effect(Effect::Sleep { until: now });
            }
        }
    }

    /// Continues after a state finished asynchronously.
    fn after(&mut self, program: &Program, flow: Flow, now: SystemTime) -> Step {
        match self.after_inner(program, flow, now) {
            Some(step) => step,
            None => self.run(program, now, false),
        }
    }

    /// Applies a state's flow: `None` means "entered the next state, keep running".
    fn after_inner(&mut self, program: &Program, flow: Flow, now: SystemTime) -> Option<Step> {
        if let (Flow::Next(_, output) | Flow::End(output), true) = (&flow, self.has_history()) {
            let state = &program.states[self.pc.0 as usize];
            let details = history::details([
                ("name", Value::String(state.name.clone())),
                ("output", output.clone()),
                ("outputDetails", history::not_truncated()),
            ]);
            self.record(history::exited(&state.def), now, || details);
        }
        match flow {
            Flow::Next(next, output) => {
                self.event_id += 1; // StateExited
                self.pc = next;
                self.input = output;
                self.input_bound = self.output_bound;
                self.phase = Phase::Enter;
                None
            }
            Flow::End(output) => {
                self.phase = Phase::Finished;
                Some(Step::Done(Ok(output)))
            }
            Flow::Effect(effect) => Some(Step::Effect(effect)),
            Flow::Fail(e) => {
                self.phase = Phase::Finished;
                Some(Step::Done(Err(e)))
            }
        }
    }

    /// Enters the state at `pc` and runs it as far as it goes without the outside world.
    fn enter(&mut self, program: &Program, now: SystemTime) -> Flow {
        let state = &program.states[self.pc.0 as usize];
        self.task_token = None;
        let f = Frame::new(state);
        match &state.def {
            // Pass: Result (or the effective input) is the result.
            Op::Pass { result } => {
                let (effective, bound) = match f.effective_input(self) {
                    Ok(v) => v,
                    Err(e) => return Flow::Fail(e),
                };
                let (result, bound) = match result {
                    Some(r) if !state.jsonata => {
                        let limit = self.info.limits.payload_bytes;
                        (r.clone(), self.measure(r, limit).unwrap_or(limits::UNKNOWN))
                    }
                    _ => (effective, bound),
                };
                self.finish_state(program, result, bound, false)
            }
            // Task: invoke the resource with the effective input.
            Op::Task(task) => {
                // A callback Task's attempt gets a fresh token before its input is built.
                self.task_token = task.callback.then(token::next);
                let effective = match f.effective_input(self) {
                    Ok((v, _)) => v,
                    Err(e) => return Flow::Fail(e),
                };
                self.effective = effective.clone();
                let timeout = match f.dyn_u64(self, task.timeout.as_ref(), "TimeoutSeconds") {
                    Ok(t) => t,
                    Err(e) => return Flow::Fail(e),
                };
                let heartbeat = match f.dyn_u64(self, task.heartbeat.as_ref(), "HeartbeatSeconds") {
                    Ok(t) => t,
                    Err(e) => return Flow::Fail(e),
                };
                self.event_id += 2; // TaskScheduled, TaskStarted
                if self.has_history() {
                    let (kind, name) = history::resource_parts(&task.resource);
                    let region = history::region(&self.info.execution_arn);
                    let scheduled = history::details([
                        ("resourceType", Value::String(Str::from(kind.as_str()))),
                        ("resource", Value::String(Str::from(name.as_str()))),
                        ("region", Value::String(region)),
                        ("parameters", effective.clone()),
                    ]);
                    self.record("TaskScheduled", now, || scheduled);
                    self.record("TaskStarted", now, || {
                        history::details([
                            ("resourceType", Value::String(Str::from(kind.as_str()))),
                            ("resource", Value::String(Str::from(name.as_str()))),
                        ])
                    });
                }
                self.phase = Phase::AwaitTask;
                Flow::Effect(Effect::Invoke(Box::new(Invoke {
                    resource: task.resource.clone(),
                    state_name: state.name.clone(),
                    input: effective,
                    timeout: timeout.map(Duration::from_secs),
                    heartbeat: heartbeat.map(Duration::from_secs),
                    attempt: self.retry_count,
                    context: f.context(self, true),
                    task_token: self.task_token.clone(),
                })))
            }
            // Choice: first matching rule wins, else Default, else States.NoChoiceMatched.
            Op::Choice { rules, default } => choice::run(self, &f, rules, *default),
            // Wait: compute the wake-up time, then pass the input through.
            Op::Wait(w) => match f.wait_until(self, w, now) {
                Ok(until) => {
                    self.phase = Phase::AwaitWait;
                    Flow::Effect(Effect::Sleep { until })
                }
                Err(e) => Flow::Fail(e),
            },
            // Succeed: the (filtered) input is the scope's output.
            Op::Succeed => match f.passthrough_output(self).and_then(|(out, bound)| {
                if bound > self.info.limits.payload_bytes {
                    limits::check_payload(self.info.limits.payload_bytes, &state.name, &out)?;
                }
                Ok(out)
            }) {
                Ok(out) => Flow::End(out),
                Err(e) => Flow::Fail(e),
            },
            // Fail: Error/Cause from literals, paths or expressions.
            Op::Fail { error, cause } => {
                match f.fail_fields(self, error.as_ref(), cause.as_ref()) {
                    Ok(e) => Flow::Fail(e),
                    Err(e) => Flow::Fail(e),
                }
            }
            // Parallel: every branch gets the effective input.
            Op::Parallel { branches } => {
                let effective = match f.effective_input(self) {
                    Ok((v, _)) => v,
                    Err(e) => return Flow::Fail(e),
                };
                self.event_id += 1; // ParallelStateStarted
                self.record("ParallelStateStarted", now, Vec::new);
                self.phase = Phase::AwaitChildren;
                Flow::Effect(Effect::Parallel {
                    branches: branches.clone(),
                    input: effective,
                })
            }
            // Map: items from ItemsPath/Items, each through ItemSelector.
            Op::Map(m) => self.enter_map(&f, m, state.name.clone(), now),
        }
    }

    fn enter_map(&mut self, f: &Frame, m: &MapOp, state_name: Str, now: SystemTime) -> Flow {
        let run = (|| {
            let effective = f.map_input(self)?;
            let reader = match &m.reader {
                Some(r) => Some(f.reader_run(self, r, &effective)?),
                None => None,
            };
            let items = match reader {
                Some(_) => Vec::new(),
                None => f.map_items(self, m, &effective)?,
            };
            let max_concurrency = f
                .dyn_u64(self, m.max_concurrency.as_ref(), "MaxConcurrency")?
                .unwrap_or(0);
            let (tolerated_count, tolerated_percentage) = f.tolerance(self, m)?;
            let writer = match &m.writer {
                Some(w) => Some(f.writer_run(self, w, &effective)?),
                None => None,
            };
            let (items, batching) = match (&reader, &m.batcher) {
                (Some(_), Some(b)) => (items, Some(f.batch_spec(self, b, &effective)?)),
                (Some(_), None) => (items, None),
                (None, batcher) => {
                    let items = f.select_items(self, m, &effective, items)?;
                    match batcher {
                        Some(b) => (f.batch(self, b, &effective, items)?, None),
                        None => (items, None),
                    }
                }
            };
            Ok(MapRun {
                processor: m.processor,
                items,
                max_concurrency,
                tolerated_count,
                tolerated_percentage,
                distributed: m.distributed,
                state_name,
                io: (reader.is_some() || writer.is_some()).then(|| {
                    Box::new(MapIo {
                        reader,
                        batching,
                        writer,
                        effective,
                    })
                }),
            })
        })();
        match run {
            Ok(run) => {
                self.event_id += 1; // MapStateStarted
                let length = run.items.len() as i64;
                self.record("MapStateStarted", now, || {
                    history::details([("length", Value::Number(Number::Int(length)))])
                });
                self.phase = Phase::AwaitChildren;
                Flow::Effect(Effect::Map(Box::new(run)))
            }
            Err(e) => Flow::Fail(e),
        }
    }

    /// A Task/Parallel/Map result (of `size` bytes) arrived: ResultSelector, ResultPath,
    /// OutputPath, Assign.
    fn finish_with_result(&mut self, program: &Program, result: Value, size: usize) -> Flow {
        self.event_id += 1; // …Succeeded
        self.finish_state(program, result, size, true)
    }

    /// Wait finished: its input passes through.
    fn finish_passthrough(&mut self, program: &Program) -> Flow {
        let state = &program.states[self.pc.0 as usize];
        let f = Frame::new(state);
        match f.passthrough_output(self) {
            Ok((out, bound)) => self.transition(program, out, bound, f.take_assigned()),
            Err(e) => Flow::Fail(e),
        }
    }

    /// The state's result, its size bounded by `bound`, becomes its output.
    fn finish_state(
        &mut self,
        program: &Program,
        result: Value,
        bound: usize,
        selector: bool,
    ) -> Flow {
        let state = &program.states[self.pc.0 as usize];
        let f = Frame::new(state);
        // The input moves out while the output is built (a ResultPath grafts into it in
        // place); a state that fails gets it back as it was, for its Retry or Catch.
        let mut input = std::mem::take(&mut self.input);
        match f.output_from_result(self, &mut input, result, bound, selector) {
            Ok((out, bound, restore)) => {
                if let Err(e) = self.commit(&state.name, &out, bound, f.take_assigned()) {
                    drop(out);
                    self.input = match restore {
                        Some(r) => f.restore_input(r),
                        None => input,
                    };
                    return self.state_failed(program, e);
                }
                drop(restore);
                self.input = input;
                match state.next {
                    Some(next) => Flow::Next(next, out),
                    None => Flow::End(out),
                }
            }
            Err(e) => {
                self.input = input;
                self.state_failed(program, e)
            }
        }
    }

    /// Commits assigned variables and moves on (or ends the scope); an output or variables
    /// past their quotas fail the state instead.
    fn transition(
        &mut self,
        program: &Program,
        output: Value,
        bound: usize,
        assigned: Option<limits::Assigned>,
    ) -> Flow {
        let state = &program.states[self.pc.0 as usize];
        if let Err(e) = self.commit(&state.name, &output, bound, assigned) {
            return self.state_failed(program, e);
        }
        match state.next {
            Some(next) => Flow::Next(next, output),
            None => Flow::End(output),
        }
    }

    /// The state's output within the payload quota (measured only when its `bound` does not
    /// already prove it), then its variables within theirs: only then are they stored.
    fn commit(
        &mut self,
        state: &str,
        output: &Value,
        bound: usize,
        assigned: Option<limits::Assigned>,
    ) -> Result<(), StatesError> {
        let limits = self.info.limits;
        self.output_bound = if bound <= limits.payload_bytes {
            bound
        } else {
            self.measure(output, limits.payload_bytes)
                .ok_or_else(|| limits::too_big(state))?
        };
        match assigned {
            Some(a) => self.vars.commit(a, limits.variables_total_bytes, state),
            None => Ok(()),
        }
    }

    /// A Task's result within the payload quota (its size), or AWS's error naming the
    /// resource.
    fn task_result_fits(&self, program: &Program, result: &Value) -> Result<usize, StatesError> {
        if let Some(size) = self.measure(result, self.info.limits.payload_bytes) {
            return Ok(size);
        }
        match &program.states[self.pc.0 as usize].def {
            Op::Task(task) => Err(limits::too_big(limits::resource_label(&task.resource))),
            _ => Err(limits::too_big(self.state_name(program))),
        }
    }

    /// A state failed: Retry, then Catch, then fail the scope.
    fn state_failed(&mut self, program: &Program, err: StatesError) -> Flow {
        self.handle_failure(program, err, false)
    }

    /// `state_failed`, where `by_all` lets `States.ALL` and `States.TaskFailed` match an error
    /// they otherwise leave alone (a Task's oversized result, as AWS recorded it).
    fn handle_failure(&mut self, program: &Program, err: StatesError, by_all: bool) -> Flow {
        let state = &program.states[self.pc.0 as usize];
        self.event_id += 1; // …Failed
        let hits = |p: &str| {
            err.matches(p) || (by_all && (p == ErrorName::ALL || p == ErrorName::TASK_FAILED))
        };
        if let Some((i, r)) = state
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| r.errors.iter().any(|p| hits(p)))
        {
            if self.retry_counts.len() < state.retry.len() {
                self.retry_counts.resize(state.retry.len(), 0);
            }
            let attempts = self.retry_counts[i];
            if attempts < r.max_attempts {
                self.retry_counts[i] += 1;
                let mut delay = r.interval_seconds * r.backoff_rate.powi(attempts as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max);
                }
                if r.jitter_full {
                    delay *= rand::random::<f64>();
                }
                self.phase = Phase::AwaitRetry;
                let until = self.entered_time + Duration::from_secs_f64(delay.clamp(0.0, 1e9));
                return Flow::Effect(Effect::Sleep { until });
            }
        }
        if let Some(c) = state
            .catch
            .iter()
            .find(|c| c.errors.iter().any(|p| hits(p)))
        {
            return self.caught(program, c, err);
        }
        Flow::Fail(err)
    }

    fn caught(&mut self, program: &Program, c: &Catcher, err: StatesError) -> Flow {
        let state = &program.states[self.pc.0 as usize];
        let f = Frame::new(state);
        let mut error_output = Map::new();
        error_output.insert(
            Str::from("Error"),
            err.error.clone().map(Value::String).unwrap_or(Value::Null),
        );
        if let Some(cause) = &err.cause {
            error_output.insert(Str::from("Cause"), Value::String(cause.clone()));
        }
        let error_output = Value::object(error_output);
        match f.catch_output(self, c, error_output) {
            Ok((out, bound, assigned)) => match self.commit(&state.name, &out, bound, assigned) {
                Ok(()) => Flow::Next(c.next, out),
                Err(e) => Flow::Fail(e),
            },
            Err(e) => Flow::Fail(e),
        }
    }
}

/// The AWS cause prefix naming the state and the event it was entered at.
fn prefix(state: &str, event: u64, detail: &str) -> String {
    format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{event}). {detail}"
    )
}
