//! Performing effects: one `Run` per execution drives the VM and its child scopes.

use super::Engine;
use super::callbacks::Answer;
use super::items::{Next, Records, Source};
use super::nested;
use crate::compile::Program;
use crate::tasks::{ExecutionScope, TaskRequest};
use crate::value::{Map, Str, Value};
use crate::vm::{
    Effect, ErrorName, Execution, ExecutionInfo, Invoke, MapRun, Resume, StatesError, Step,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

/// How the first `step()` of an execution left it. Returned once per execution and taken apart
/// at once: boxing the large arm would cost an allocation per execution for nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Start {
    /// Finished without performing any effect: the result and, when asked for, the variables.
    Done(Result<Value, StatesError>, Option<Map>),
    /// Waiting on an effect (boxed: the top scope lives on the heap while it waits).
    Pending(Box<(Execution, Step)>),
}

/// The state of one execution's driver, shared by all of its scopes.
pub(super) struct Run<'e> {
    engine: &'e Engine,
    program: Arc<Program>,
    test_case: Option<Str>,
    /// A Standard execution: `.waitForTaskToken` Tasks wait for their token and
    /// `startExecution.sync` runs children of the engine (Express has neither pattern).
    standard: bool,
    transitions: AtomicU64,
    /// States entered by every scope, by type (`vm::history::STATE_TYPES` order).
    entered: [AtomicU64; 8],
    /// Per-execution task state (mock invocation counters), shared by every scope's tasks.
    scope: ExecutionScope,
    /// Set (to the cause) when the runtime has no time driver: whatever needs a timer (a Wait, a
    /// retry's backoff, a Task's `TimeoutSeconds`) then fails the execution with this cause
    /// instead of making one, which would panic.
    // PERF: parked executions: a byte (0: timers; 1, 2: the cause) instead of a 24-byte `OnceLock`.
    no_timer: AtomicU8,
    /// Map iterations and Parallel branches of this execution in flight: counted against
    /// `Settings::max_children_in_flight_per_execution` by `Slot`.
    in_flight: AtomicUsize,
    /// Sleeps end at once (`ExecutionMeta::skip_waits`).
    skip_waits: bool,
    /// When the top scope stops waiting: the execution's timeout (`None` without timers).
    deadline: Option<tokio::time::Instant>,
}

/// The execution ran past its deadline.
pub(super) struct TimedOut;

/// The top scope's next effect: a sleep, or the box any other effect runs in.
enum TopNext<'a> {
    Sleep(SystemTime),
    Boxed(BoxFuture<'a, Result<Resume, Stop>>),
}

/// How a sleep goes (see [`Run::sleep_plan`]).
enum Nap {
    /// Give the thread back once.
    Yield,
    /// Sleep until `at`; `timed_out` when `at` is the deadline.
    Until {
        at: tokio::time::Instant,
        timed_out: bool,
    },
}

/// Why a scope stopped before its end.
enum Stop {
    Failed(StatesError),
    TimedOut,
}

/// `fut`, stopped at `deadline` if it does not answer on its first poll: what answers at once
/// (a mocked or in-process task, a Map of Pass states) makes no timer.
async fn within<T>(
    deadline: Option<tokio::time::Instant>,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, Stop> {
    let mut fut = std::pin::pin!(fut);
    if let Some(at) = deadline {
        if let std::task::Poll::Ready(r) = futures::poll!(fut.as_mut()) {
            return Ok(r);
        }
        return tokio::time::timeout_at(at, fut)
            .await
            .map_err(|_elapsed| Stop::TimedOut);
    }
    Ok(fut.await)
}

impl<'e> Run<'e> {
    pub fn new(
        engine: &'e Engine,
        program: Arc<Program>,
        test_case: Option<Str>,
        standard: bool,
    ) -> Run<'e> {
        Run {
            engine,
            program,
            // Only a mock test case counts invocations (the rest would allocate for nothing).
            scope: if test_case.is_some() {
                ExecutionScope::new()
            } else {
                ExecutionScope::default()
            },
            test_case,
            standard,
            transitions: AtomicU64::new(0),
            entered: Default::default(),
            no_timer: AtomicU8::new(0),
            in_flight: AtomicUsize::new(0),
            skip_waits: false,
            deadline: None,
        }
    }

    /// Makes every sleep end at once (TestState).
    pub fn skipping_waits(mut self, skip: bool) -> Run<'e> {
        self.skip_waits = skip;
        self
    }

    /// From now on, fail what needs a timer with `cause` (see [`super::timers`]).
    pub fn without_timers(&self, cause: &'static str) {
        let code = if cause == super::timers::NO_RUNTIME {
            2
        } else {
            1
        };
        self.no_timer.store(code, Ordering::Relaxed);
    }

    /// Why there are no timers, if there are none.
    fn no_timer_cause(&self) -> Option<&'static str> {
        match self.no_timer.load(Ordering::Relaxed) {
            0 => None,
            2 => Some(super::timers::NO_RUNTIME),
            _ => Some(super::timers::NO_TIME_DRIVER),
        }
    }

    /// The failure for something that needs a timer when there is none.
    fn timer_missing(&self) -> Option<StatesError> {
        let cause = self.no_timer_cause()?;
        Some(StatesError::new(ErrorName::RUNTIME, cause))
    }

    pub fn transitions(&self) -> u64 {
        self.transitions.load(Ordering::Relaxed)
    }

    /// States entered so far, by type.
    pub fn entered(&self) -> [u64; 8] {
        std::array::from_fn(|i| self.entered[i].load(Ordering::Relaxed))
    }

    /// Adds a finished scope's transitions and states entered.
    fn count(&self, exec: &Execution) {
        self.transitions
            .fetch_add(exec.transitions, Ordering::Relaxed);
        for (total, n) in self.entered.iter().zip(exec.entered) {
            if n > 0 {
                total.fetch_add(u64::from(n), Ordering::Relaxed);
            }
        }
    }

    /// Starts the top scope: its first `step()`, which needs no timer. A workflow of
    /// Pass/Choice/Succeed/Fail states ends here; anything else comes back as
    /// [`Start::Pending`] for [`Run::finish`]. `input_bound` bounds the input's size in bytes
    /// (`usize::MAX` when unknown).
    pub fn start(
        &self,
        info: Arc<ExecutionInfo>,
        input: Value,
        input_bound: usize,
        preset: Option<&Map>,
    ) -> Start {
        let mut exec = Execution::new(&self.program, info, input, SystemTime::now());
        exec.set_input_bound(input_bound);
        if let Some(vars) = preset
            && let Err(e) = exec.preset_variables(vars)
        {
            return Start::Done(Err(e), None);
        }
        match exec.step(&self.program, SystemTime::now()) {
            Step::Done(r) => {
                self.count(&exec);
                // The variables at the end are kept only for whoever set some (TestState).
                let vars = preset.map(|_| exec.vars.local());
                Start::Done(r, vars)
            }
            step => Start::Pending(Box::new((exec, step))),
        }
    }

    /// From now on the top scope stops at `deadline` (the execution's timeout): a Wait or a
    /// retry's backoff sleeps until the earlier of its end and the deadline, and a Task, a
    /// Parallel or a Map that does not answer at once waits at most until it.
    // PERF: parked executions: one timer for a Wait and the timeout (two before, one of them
    // wrapping the whole execution), and none made for what answers at once.
    pub fn set_deadline(&mut self, deadline: tokio::time::Instant) {
        self.deadline = Some(deadline);
    }

    /// Drives a started top scope to its end; `keep_variables` returns its variables then.
    /// `Err` when it ran past the deadline.
    // PERF: parked executions: the top scope's sleeps (Wait, a retry's backoff) are awaited
    // here, holding a tokio `Sleep` and nothing else (`perform`'s arms box what they await). The whole execution waiting in a Wait so keeps this future, its `Run`
    // and its top scope: 975 → ~330 bytes for the box `Engine::begin` makes (massif on
    // `examples/parked`).
    pub async fn finish(
        &self,
        mut pending: Box<(Execution, Step)>,
        keep_variables: bool,
    ) -> Result<(Result<Value, StatesError>, Option<Map>), TimedOut> {
        let (exec, step) = &mut *pending;
        let result = 'run: loop {
            // Taken apart in a statement of its own: what is kept across the await below is
            // `next` and the sleep, not the room of a whole `Step`.
            let resume = 'effect: {
                let next = match std::mem::replace(step, Step::Done(Ok(Value::Null))) {
                    Step::Done(r) => {
                        self.count(exec);
                        break 'run r;
                    }
                    Step::Effect(Effect::Sleep { until }) => TopNext::Sleep(until),
                    Step::Effect(effect) => TopNext::Boxed(self.perform_boxed(exec, effect, true)),
                };
                let until = match next {
                    TopNext::Sleep(until) => until,
                    TopNext::Boxed(fut) => break 'effect fut.await,
                };
                // The sleep inline, each value taken out in a statement of its own: what waits
                // is the `Sleep`, a flag and the loop's references.
                let nap = match self.sleep_plan(until, self.deadline) {
                    Ok(nap) => nap,
                    Err(stop) => break 'effect Err(stop),
                };
                match nap {
                    Nap::Yield => self.yield_once().await,
                    Nap::Until { at, timed_out } => {
                        tokio::time::sleep_until(at).await;
                        if timed_out {
                            break 'effect Err(Stop::TimedOut);
                        }
                    }
                }
                Ok(Resume::Woke)
            };
            match resume {
                Ok(resume) => *step = exec.resume(&self.program, resume, SystemTime::now()),
                Err(Stop::Failed(e)) => {
                    self.count(exec);
                    break Err(e);
                }
                Err(Stop::TimedOut) => {
                    self.count(exec);
                    return Err(TimedOut);
                }
            }
        };
        let vars = keep_variables.then(|| exec.vars.local());
        Ok((result, vars))
    }

    /// Drives one child scope from `step` to its end (boxed: scopes nest).
    fn drive<'a>(
        &'a self,
        mut exec: Execution,
        step: Step,
    ) -> BoxFuture<'a, (Result<Value, StatesError>, Execution)> {
        Box::pin(async move {
            let r = match self.drive_in_place(&mut exec, step, false).await {
                Ok(v) => Ok(v),
                Err(Stop::Failed(e)) => Err(e),
                // Only the top scope has a deadline: its own effect (this child's parent)
                // stops the children.
                Err(Stop::TimedOut) => Err(StatesError::new(ErrorName::TIMEOUT, "")),
            };
            (r, exec)
        })
    }

    /// Drives a scope from `step` to its end where it lies; `top` applies the deadline.
    async fn drive_in_place(
        &self,
        exec: &mut Execution,
        mut step: Step,
        top: bool,
    ) -> Result<Value, Stop> {
        loop {
            match step {
                Step::Done(r) => {
                    self.count(exec);
                    return r.map_err(Stop::Failed);
                }
                Step::Effect(effect) => match self.perform(exec, effect, top).await {
                    Ok(resume) => step = exec.resume(&self.program, resume, SystemTime::now()),
                    Err(e) => {
                        self.count(exec);
                        return Err(e);
                    }
                },
            }
        }
    }

    /// How long a sleep until `until` lasts (scaled; zero when past or skipped).
    fn sleep_length(&self, until: SystemTime) -> Duration {
        let scale = self.engine.settings.wait_time_scale;
        match until.duration_since(SystemTime::now()) {
            _ if self.skip_waits => Duration::ZERO,
            Ok(d) if scale == 1.0 || !scale.is_finite() || scale < 0.0 => d,
            Ok(d) => d.mul_f64(scale),
            Err(_) => Duration::ZERO,
        }
    }

    /// How a sleep until `until` goes, stopped at `deadline`: at once when past, skipped or a
    /// yield (the thread given back once), else until a time (the deadline's when it comes
    /// first, and then the scope times out). `Err` when it needs a timer and there is none.
    fn sleep_plan(
        &self,
        until: SystemTime,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Nap, Stop> {
        let d = self.sleep_length(until);
        if d.is_zero() {
            if deadline.is_some_and(|at| tokio::time::Instant::now() >= at) {
                return Err(Stop::TimedOut);
            }
            return Ok(Nap::Yield);
        }
        if let Some(e) = self.timer_missing() {
            return Err(Stop::Failed(e));
        }
        let wake = tokio::time::Instant::now() + d;
        Ok(match deadline {
            Some(at) if at <= wake => Nap::Until {
                at,
                timed_out: true,
            },
            _ => Nap::Until {
                at: wake,
                timed_out: false,
            },
        })
    }

    /// The effect's result; `Err` ends the execution (a timer needed and missing, or the
    /// deadline of the top scope passed).
    async fn perform(&self, exec: &Execution, effect: Effect, top: bool) -> Result<Resume, Stop> {
        let until = match effect {
            Effect::Sleep { until } => until,
            effect => return self.perform_boxed(exec, effect, top).await,
        };
        self.sleep(until, self.deadline.filter(|_| top)).await
    }

    /// Gives the thread back once (a past time, the VM yielding, or no waiting).
    async fn yield_once(&self) {
        if self.no_timer_cause().is_some() {
            super::timers::yield_now().await;
        } else {
            tokio::task::yield_now().await;
        }
    }

    /// A sleep until `until`, stopped at `deadline` (a child scope's: the top scope's sleeps
    /// are awaited in [`Run::finish`]).
    async fn sleep(
        &self,
        until: SystemTime,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Resume, Stop> {
        match self.sleep_plan(until, deadline)? {
            Nap::Yield => self.yield_once().await,
            Nap::Until { at, timed_out } => {
                tokio::time::sleep_until(at).await;
                if timed_out {
                    return Err(Stop::TimedOut);
                }
            }
        }
        Ok(Resume::Woke)
    }

    /// Any effect but a sleep, in the box it is awaited in.
    // PERF: parked executions: every effect but the sleep is boxed, so that a scope waiting in
    // a Wait holds a sleep and not room for the largest of them (a Map's children). One box per
    // effect, as before (it held the `within` future).
    fn perform_boxed<'a>(
        &'a self,
        exec: &'a Execution,
        effect: Effect,
        top: bool,
    ) -> BoxFuture<'a, Result<Resume, Stop>> {
        let deadline = self.deadline.filter(|_| top);
        match effect {
            Effect::Invoke(inv) => Box::pin(async move {
                within(deadline, self.invoke(exec, *inv))
                    .await
                    .map(Resume::Task)
            }),
            Effect::Sleep { until } => Box::pin(self.sleep(until, deadline)),
            Effect::Parallel { branches, input } => {
                let children: Vec<_> = branches.iter().map(|b| (*b, input.clone(), None)).collect();
                let source = Source::Fixed(children.into_iter());
                let run = self.children(exec, source, 0, Tolerance::None, None);
                Box::pin(async move { within(deadline, run).await.map(Resume::Children) })
            }
            Effect::Map(run) => Box::pin(within(deadline, self.map(exec, *run))),
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
        let tasks = &self.engine.tasks;
        // A mocked Task answers at once, whatever its integration pattern (Step Functions Local).
        // Mocked or Express: the task registry answers (an Express execution fails such
        // patterns, as AWS refuses them in Express machines).
        let mocked = tasks.is_mocked(&req) || !self.standard;
        let nested = match nested::sync_flavour(&req.resource) {
            Some(json_io) if !mocked => {
                nested::target(self.engine, &req).map(|(p, arn)| (p, arn, json_io))
            }
            _ => None,
        };
        let fut: BoxFuture<'_, Result<Value, StatesError>> = match (inv.task_token, nested) {
            (Some(token), _) if !mocked => Box::pin(self.callback(req, token, inv.heartbeat)),
            (_, Some((program, arn, json_io))) => {
                Box::pin(nested::run_child(self.engine, req, program, arn, json_io))
            }
            _ => Box::pin(async move { tasks.invoke(req).await.map_err(task_error) }),
        };
        if (inv.timeout.is_some() || inv.heartbeat.is_some())
            && let Some(e) = self.timer_missing()
        {
            return Err(e);
        }
        match inv.timeout {
            Some(t) => match tokio::time::timeout(t, fut).await {
                Ok(r) => r,
                Err(_) => Err(StatesError {
                    error: Some(Str::from(ErrorName::TIMEOUT)),
                    cause: None,
                }),
            },
            None => fut.await,
        }
    }

    /// A `.waitForTaskToken` Task: park under its token, call its resource (whose input holds
    /// the token), then wait for SendTaskSuccess/Failure, failing with
    /// `States.HeartbeatTimeout` when `heartbeat` passes without SendTaskHeartbeat. Waiting is
    /// a channel receive: no thread is held and nothing polls.
    async fn callback(
        &self,
        req: TaskRequest,
        token: Str,
        heartbeat: Option<std::time::Duration>,
    ) -> Result<Value, StatesError> {
        let mut parked = self.engine.callbacks.park(token);
        let beat = |now: tokio::time::Instant| heartbeat.map(|h| now + h);
        let mut deadline = beat(tokio::time::Instant::now());
        self.engine
            .tasks
            .invoke_callback(req)
            .await
            .map_err(task_error)?;
        loop {
            let answer = match deadline {
                Some(d) => match tokio::time::timeout_at(d, parked.answers.recv()).await {
                    Ok(a) => a,
                    Err(_) => {
                        return Err(StatesError {
                            error: Some(Str::from(ErrorName::HEARTBEAT_TIMEOUT)),
                            cause: None,
                        });
                    }
                },
                None => parked.answers.recv().await,
            };
            match answer {
                Some(Answer::Heartbeat) => deadline = beat(tokio::time::Instant::now()),
                Some(Answer::Success(v)) => return Ok(v),
                Some(Answer::Failure { error, cause }) => {
                    return Err(StatesError {
                        error: error.map(|e| Str::from(e.as_str())),
                        cause: cause.map(|c| Str::from(c.as_str())),
                    });
                }
                // The sender lives in the live table until `parked` is dropped.
                None => {
                    return Err(StatesError::new(
                        ErrorName::RUNTIME,
                        "The task token was closed without an answer.",
                    ));
                }
            }
        }
    }

    async fn map(&self, exec: &Execution, run: MapRun) -> Resume {
        let tolerance = if run.tolerated_count.is_some() || run.tolerated_percentage.is_some() {
            Tolerance::Limits {
                count: run.tolerated_count,
                percentage: run.tolerated_percentage,
            }
        } else {
            Tolerance::None
        };
        let limit = if run.max_concurrency == 0 {
            self.engine.settings.map_unbounded_concurrency
        } else {
            run.max_concurrency as usize
        };
        #[cfg(feature = "http-client")]
        let store = self.engine.tasks.object_store().cloned();
        let (reader, batching, writer, effective) = match run.io {
            Some(io) => {
                let io = *io;
                (io.reader, io.batching, io.writer, io.effective)
            }
            None => (None, None, None, Value::Null),
        };
        let source = match reader {
            None => Source::Fixed(
                run.items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| (run.processor, item, Some(i)))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            #[cfg(feature = "http-client")]
            Some(reader) => match &store {
                Some(store) => Source::Read(Box::new(super::items::Reader::open(
                    store.clone(),
                    reader,
                    run.processor,
                    effective,
                    batching,
                ))),
                None => return Resume::Children(Err(no_store())),
            },
            #[cfg(not(feature = "http-client"))]
            Some(_) => return Resume::Children(Err(no_store())),
        };
        #[cfg(not(feature = "http-client"))]
        let _ = (effective, batching);
        let Some(writer) = writer else {
            return Resume::Children(self.children(exec, source, limit, tolerance, None).await);
        };
        let mut records = Records::default();
        let ran = self
            .children(exec, source, limit, tolerance, Some(&mut records))
            .await;
        #[cfg(feature = "http-client")]
        {
            let name = exec.state_name(&self.program).to_string();
            let done = records.into_done();
            match ran {
                Ok(_) => {
                    Resume::MapResult(super::items::write(store, writer, exec, &name, done).await)
                }
                // A failed Map Run still exports what its iterations did (FAILED_0.json is
                // where to look), then fails with its own error.
                Err(e) => {
                    if !done.is_empty() && writer.resource.is_some() {
                        let _ = super::items::write(store, writer, exec, &name, done).await;
                    }
                    Resume::MapResult(Err(e))
                }
            }
        }
        #[cfg(not(feature = "http-client"))]
        {
            if let Err(e) = ran {
                return Resume::MapResult(Err(e));
            }
            let _ = (writer, records);
            Resume::MapResult(Err(StatesError::new(
                ErrorName::RESULT_WRITER_FAILED,
                "This build has no object store for ResultWriter (feature http-client)",
            )))
        }
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
        mut source: Source,
        limit: usize,
        tolerance: Tolerance,
        mut records: Option<&mut Records>,
    ) -> Result<Vec<Value>, StatesError> {
        // Unknown for items still being read: a failure percentage is judged once it is known.
        // PERF: children from a `Source` instead of a Vec (callgrind, debug build, `expressway bench
        // <w> --executions 60 --concurrency 1 --threads 1`, inclusive Run::finish): w3_map100
        // 320.40 M → 321.23 M (+0.26 %), w4_parallel 17.72 M → 17.83 M (+0.64 %).
        let mut total = source.total();
        let mut results: Vec<Value> = Vec::with_capacity(total.unwrap_or(0));
        let mut failures = 0usize;
        let mut pending = FuturesUnordered::new();
        // The source has more, but not yet: wait for it or a child, whichever comes first.
        let mut waiting;
        // Map iterations are history events of their own (Parallel branches are not).
        let map_name = exec
            .has_history()
            .then(|| Str::from(exec.state_name(&self.program)));
        let limit = if limit == 0 { usize::MAX } else { limit };
        // A child already started that waits for a slot.
        let mut parked: Option<Parked> = None;
        // Whether this call's one child without a slot is in flight.
        let mut unslotted = false;
        loop {
            waiting = false;
            while pending.len() < limit {
                let (i, child, step, iteration) = match parked.take() {
                    Some(p) => p,
                    None => {
                        let (scope, input, item) = match source.next_ready(exec, &self.program)? {
                            Next::Child(c) => c,
                            Next::Done => {
                                if total.is_none() {
                                    total = Some(results.len());
                                    check_percentage(failures, results.len(), &tolerance)?;
                                }
                                break;
                            }
                            Next::Pending if pending.is_empty() => {
                                source.wait().await;
                                continue;
                            }
                            Next::Pending => {
                                waiting = true;
                                break;
                            }
                        };
                        let i = results.len();
                        results.push(Value::Null);
                        if let Some(r) = records.as_deref_mut() {
                            r.start(i, &input);
                        }
                        let mut child = exec.child(&self.program, scope, input, SystemTime::now());
                        let iteration = item.zip(map_name.clone());
                        if let Some((index, name)) = &iteration {
                            iteration_event(&mut child, "MapIterationStarted", *index, name);
                        }
                        match child.step(&self.program, SystemTime::now()) {
                            Step::Done(r) => {
                                self.count(&child);
                                iteration_end(&mut child, &r, iteration.as_ref());
                                if let Some(rec) = records.as_deref_mut() {
                                    rec.finish(i, &r);
                                }
                                self.record(&mut results, &mut failures, i, r, total, &tolerance)?;
                                continue;
                            }
                            step => (i, child, step, iteration),
                        }
                    }
                };
                let slot = if unslotted {
                    match self.slot() {
                        Some(s) => Some(s),
                        None => {
                            parked = Some((i, child, step, iteration));
                            break;
                        }
                    }
                } else {
                    unslotted = true;
                    None
                };
                pending.push(async move {
                    let (r, mut child) = self.drive(child, step).await;
                    iteration_end(&mut child, &r, iteration.as_ref());
                    let had_slot = slot.is_some();
                    drop(slot);
                    (i, r, had_slot)
                });
            }
            let done = if waiting {
                let next = std::pin::pin!(pending.next());
                let more = std::pin::pin!(source.wait());
                match futures::future::select(next, more).await {
                    futures::future::Either::Left((d, _)) => d,
                    futures::future::Either::Right(_) => continue,
                }
            } else {
                pending.next().await
            };
            match done {
                Some((i, r, had_slot)) => {
                    unslotted &= had_slot;
                    if let Some(rec) = records.as_deref_mut() {
                        rec.finish(i, &r);
                    }
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
        total: Option<usize>,
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
                    if let Some(total) = total {
                        check_percentage(*failures, total, tolerance)?;
                    } else if count.is_some_and(|c| *failures as u64 > c) && percentage.is_none() {
                        return Err(threshold_exceeded());
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

/// A Map iteration's history event: its index and the Map state's name.
fn iteration_event(child: &mut Execution, kind: &'static str, index: usize, name: &Str) {
    child.record(kind, SystemTime::now(), || {
        crate::vm::history::details([
            (
                "index",
                Value::Number(crate::value::Number::Int(index as i64)),
            ),
            ("name", Value::String(name.clone())),
        ])
    });
}

/// `MapIterationSucceeded` or `MapIterationFailed`, when the iteration is recorded.
fn iteration_end(
    child: &mut Execution,
    r: &Result<Value, StatesError>,
    iteration: Option<&(usize, Str)>,
) {
    if let Some((index, name)) = iteration {
        let kind = if r.is_ok() {
            "MapIterationSucceeded"
        } else {
            "MapIterationFailed"
        };
        iteration_event(child, kind, *index, name);
    }
}

/// Whether `failures` of `total` children exceed the tolerated count and/or percentage.
fn check_percentage(
    failures: usize,
    total: usize,
    tolerance: &Tolerance,
) -> Result<(), StatesError> {
    let Tolerance::Limits { count, percentage } = tolerance else {
        return Ok(());
    };
    let over_count = count.is_some_and(|c| failures as u64 > c);
    let over_pct =
        percentage.is_some_and(|p| (failures as f64) * 100.0 / (total.max(1) as f64) > p);
    let over = match (count, percentage) {
        (Some(_), Some(_)) => over_count && over_pct,
        _ => over_count || over_pct,
    };
    if over {
        return Err(threshold_exceeded());
    }
    Ok(())
}

fn threshold_exceeded() -> StatesError {
    StatesError::new(
        ErrorName::EXCEED_TOLERATED_FAILURE_THRESHOLD,
        "The specified tolerated failure threshold was exceeded",
    )
}

/// An ItemReader with no store to read from.
fn no_store() -> StatesError {
    StatesError::new(
        ErrorName::ITEM_READER_FAILED,
        "No object store is configured for ItemReader: run with real services enabled (S3), or set one with TaskRegistry::set_object_store",
    )
}

fn task_error(e: crate::tasks::TaskError) -> StatesError {
    StatesError {
        error: Some(Str::from(e.error.as_str())),
        cause: e.cause.map(|c| Str::from(c.as_str())),
    }
}

/// A child already started that waits for a slot: its index, its scope, its next step, and
/// (for a recorded Map iteration) its index and the Map's name.
type Parked = (usize, Execution, Step, Option<(usize, Str)>);

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
