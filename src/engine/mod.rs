//! The async shell around the VM.
//!
//! In: compiled `Program`s, execution inputs, task handlers. Out: `Outcome`s (status, output,
//! error, cause). It performs the VM's effects on tokio: invokes tasks (with their timeouts),
//! sleeps for Wait states and retry backoff, runs Parallel branches and Map iterations
//! concurrently within their limits, and enforces the execution timeout and payload limits.
//! Cheap iterations (a Map of Pass states) run inline: a task is spawned for nothing.

mod callbacks;
mod driver;
mod items;
mod nested;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_callbacks;
#[cfg(test)]
mod tests_nested;
mod timers;

pub use callbacks::{CallbackError, Callbacks};

use crate::compile::{self, Program};
use crate::definition::Diagnostic;
use crate::tasks::TaskRegistry;
use crate::value::{self, Map, Str};
use crate::vm::{
    ErrorName, Execution, ExecutionInfo, History, HistoryEvent, Limits, StatesError, Step, history,
};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant, SystemTime};

/// Limits and defaults. Each one is AWS's value by default and an embedder may raise it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Express executions stop after this long (AWS: 5 minutes).
    pub max_execution_duration: Duration,
    /// Standard executions ([`ExecutionMeta::standard`]) stop after this long (AWS: one year):
    /// a Task waiting for a task token may wait for a person.
    pub max_standard_execution_duration: Duration,
    /// Largest payload in bytes of compact UTF-8 JSON (AWS: 256 KiB): the execution's input
    /// and output, a state's input after `Parameters`/`Arguments`, a Task's result, a
    /// Parallel's or Map's combined result, a state's output.
    pub max_payload_bytes: usize,
    /// Largest value of one variable (AWS: 256 KiB).
    pub max_variable_bytes: usize,
    /// Largest sum of the values one `Assign` field stores (AWS: 256 KiB).
    pub max_assign_bytes: usize,
    /// Largest sum of the values an execution's variables hold at once, every Parallel branch
    /// and Map iteration included (AWS: 10 MiB).
    pub max_variables_total_bytes: usize,
    /// Region and account used to make ARNs.
    pub region: String,
    /// Account id used to make ARNs.
    pub account: String,
    /// Inline Map iterations running at once when `MaxConcurrency` is 0 (unbounded in AWS;
    /// a bound keeps one execution from taking every worker).
    pub map_unbounded_concurrency: usize,
    /// Multiplies every wait (Wait states, Retry backoff), as Step Functions Local's
    /// `WAIT_TIME_SCALE` does: 0 skips them, 0.01 makes an hour 36 s. 1 (AWS) by default;
    /// negative or non-finite values count as 1.
    pub wait_time_scale: f64,
    /// Map iterations and Parallel branches one execution may have in flight at once (started
    /// and waiting on a task, a Wait or their own children), every nesting level together;
    /// beyond it they queue. Each Map or Parallel may still run one of its own beyond the bound,
    /// so nested ones always make progress. Unbounded, a Map of 1,000 inside a Map of 1,000
    /// (each item a short Wait) held 1.8 GB in one execution.
    pub max_children_in_flight_per_execution: usize,
    /// The same bound across every execution of the engine at once.
    pub max_children_in_flight: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_execution_duration: Duration::from_secs(300),
            max_standard_execution_duration: Duration::from_secs(365 * 24 * 3600),
            max_payload_bytes: 256 * 1024,
            max_variable_bytes: 256 * 1024,
            max_assign_bytes: 256 * 1024,
            max_variables_total_bytes: 10 * 1024 * 1024,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            map_unbounded_concurrency: 1_000,
            wait_time_scale: 1.0,
            max_children_in_flight_per_execution: 10_000,
            max_children_in_flight: 100_000,
        }
    }
}

impl Settings {
    /// The data quotas as the VM checks them.
    pub fn limits(&self) -> Limits {
        Limits {
            payload_bytes: self.max_payload_bytes,
            variable_bytes: self.max_variable_bytes,
            assign_bytes: self.max_assign_bytes,
            variables_total_bytes: self.max_variables_total_bytes,
        }
    }
}

/// Who started an execution and under which names; `$$` shows these.
#[derive(Debug, Clone)]
pub struct ExecutionMeta {
    /// The execution's ARN (`$$.Execution.Id`).
    pub execution_arn: String,
    /// The execution's name (`$$.Execution.Name`).
    pub name: String,
    /// The state machine's ARN (`$$.StateMachine.Id`).
    pub state_machine_arn: String,
    /// The state machine's name (`$$.StateMachine.Name`).
    pub state_machine_name: String,
    /// The IAM role the execution runs as (`$$.Execution.RoleArn`).
    pub role_arn: String,
    /// When the execution started (`$$.Execution.StartTime`).
    pub start_time: SystemTime,
    /// Step Functions Local mock test case (`…:stateMachine:<sm>#<case>`).
    pub test_case: Option<String>,
    /// Started by StartExecution (`$$.Execution.RedriveCount` is shown) rather than
    /// StartSyncExecution.
    pub asynchronous: bool,
    /// A Standard execution (StartExecution of a STANDARD machine): its ceiling is
    /// [`Settings::max_standard_execution_duration`].
    pub standard: bool,
    /// Workflow variables set before the first state (TestState's `variables`); when set, the
    /// execution's variables at its end come back in [`Outcome::variables`].
    pub variables: Option<Arc<Map>>,
    /// Keep the execution's history events (for logging at `ALL` and the console); they come
    /// back in [`Outcome::history`]. Off, recording costs one check per event.
    pub history: bool,
    /// Wait states and Retry backoff end at once instead of sleeping (TestState tests a Wait
    /// state's fields and output; it does not wait).
    pub skip_waits: bool,
}

impl ExecutionMeta {
    /// Names for an execution of state machine `sm` under `settings`' region and account.
    pub fn express(settings: &Settings, sm: &str, name: &str) -> ExecutionMeta {
        // PERF: w1_pass_chain: the ARNs pushed piece by piece and the UUID from the thread's
        // generator, instead of three `format!`s and the OS's random source.
        let (r, a) = (settings.region.as_str(), settings.account.as_str());
        let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut buf = uuid::Uuid::encode_buffer();
        let concat = |parts: &[&str]| {
            let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
            parts.iter().for_each(|p| s.push_str(p));
            s
        };
        ExecutionMeta {
            execution_arn: concat(&[
                "arn:aws:states:",
                r,
                ":",
                a,
                ":express:",
                sm,
                ":",
                name,
                ":",
                uuid.hyphenated().encode_lower(&mut buf),
            ]),
            name: name.to_string(),
            state_machine_arn: concat(&["arn:aws:states:", r, ":", a, ":stateMachine:", sm]),
            state_machine_name: sm.to_string(),
            role_arn: concat(&["arn:aws:iam::", a, ":role/expressway"]),
            start_time: SystemTime::now(),
            test_case: None,
            asynchronous: false,
            standard: false,
            variables: None,
            history: false,
            skip_waits: false,
        }
    }
}

/// How an execution ended, as StartSyncExecution reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Reached a Succeed state or an `End`: `output` holds the result.
    Succeeded,
    /// Failed (a Fail state, or an error nothing caught): `error` and `cause` say why.
    Failed,
    /// Ran past the machine's `TimeoutSeconds` or the engine's execution limit.
    TimedOut,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
        }
    }
}

/// The end of one execution.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// JSON text of the output (SUCCEEDED only).
    pub output: Option<String>,
    /// The error name when it failed or timed out (`States.Timeout`, a Fail state's `Error`, …).
    pub error: Option<String>,
    /// The cause text when it failed or timed out, if there was one.
    pub cause: Option<String>,
    /// State transitions taken (what Express bills and `/metrics` counts).
    pub transitions: u64,
    /// States entered, by type (`vm::history::STATE_TYPES` order).
    pub entered: [u64; 8],
    /// Wall-clock time from start to end.
    pub duration: Duration,
    /// The top-level variables at the end, when [`ExecutionMeta::variables`] set some.
    pub variables: Option<Map>,
    /// Every history event, `ExecutionStarted` to its end, when [`ExecutionMeta::history`] asked.
    pub history: Option<Vec<HistoryEvent>>,
}

/// Runs compiled state machines. Cheap to share as `Arc<Engine>`.
pub struct Engine {
    settings: Settings,
    tasks: TaskRegistry,
    /// Tasks waiting for a task token, and the handle that answers them.
    callbacks: Callbacks,
    /// Machines a `startExecution.sync` Task runs in-process.
    machines: nested::Machines,
    /// Map iterations and Parallel branches in flight in every execution: counted against
    /// `Settings::max_children_in_flight` by the drivers (`driver::Slot`).
    children_in_flight: AtomicUsize,
}

impl Engine {
    /// An engine with no task handlers registered.
    pub fn new(settings: Settings) -> Engine {
        Engine {
            settings,
            tasks: TaskRegistry::default(),
            callbacks: Callbacks::default(),
            machines: nested::Machines::default(),
            children_in_flight: AtomicUsize::new(0),
        }
    }

    /// The engine's limits.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Registers handlers for Task resources.
    pub fn tasks_mut(&mut self) -> &mut TaskRegistry {
        &mut self.tasks
    }

    /// The task handlers.
    pub fn tasks(&self) -> &TaskRegistry {
        &self.tasks
    }

    /// Answers task tokens (`$$.Task.Token` of `.waitForTaskToken` Tasks) in-process: what
    /// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat do through the API. Clone it to
    /// keep a handle.
    pub fn callbacks(&self) -> &Callbacks {
        &self.callbacks
    }

    /// Makes `program` the state machine `arn`, so that `states:startExecution.sync` (and
    /// `.sync:2`) Tasks naming it run it in-process to its end (replacing an earlier one).
    pub fn define_machine(&self, arn: &str, program: Arc<Program>) {
        self.machines.define(arn, program);
    }

    /// Forgets the state machine `arn` (a later `startExecution.sync` goes to the task handlers).
    pub fn forget_machine(&self, arn: &str) {
        self.machines.forget(arn);
    }

    /// Validates and compiles a definition: the program, or every diagnostic.
    pub fn compile(&self, definition: &str) -> Result<Arc<Program>, Vec<Diagnostic>> {
        compile::compile_text(definition).map(Arc::new)
    }

    /// Runs one execution to completion.
    ///
    /// The returned future does nothing until polled. It holds the names of `meta` on the heap
    /// until then and drops them once the execution's facts are built from them, so that an
    /// execution parked on a Wait or a Task keeps only what it still needs (see
    /// `examples/parked.rs`).
    pub fn execute<'a>(
        &'a self,
        program: Arc<Program>,
        input: &'a str,
        meta: ExecutionMeta,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        // PERF: parked executions: an `async fn` keeps its arguments for its whole life; a box
        // read on the first poll keeps 8 bytes instead of the 176 of `ExecutionMeta`.
        let meta = Box::new(meta);
        async move {
            let started = Instant::now();
            if input.len() > self.settings.max_payload_bytes {
                return failed(
                    ErrorName::DATA_LIMIT_EXCEEDED,
                    "The input to the execution exceeds the maximum number of bytes service limit.",
                    started,
                );
            }
            let text = input;
            let input = match value::parse(text) {
                Ok(v) => v,
                Err(e) => {
                    return failed(
                        "States.Runtime",
                        &format!("Invalid execution input: {e}"),
                        started,
                    );
                }
            };
            // The compact JSON of a parsed text is at most 8 times as long: only a number can
            // grow (`1e5` prints as `100000.0`), and none prints longer than 24 bytes or reads
            // shorter than 3 with its separator. A small input so never needs measuring.
            let bound = text.len().saturating_mul(8);
            // Taken apart before the await, so the future keeps only the box.
            let rest = match self.begin(program, input, bound, unbox(meta)) {
                Begun::Done(outcome) => return outcome,
                Begun::Pending(rest) => rest,
            };
            rest.await
        }
    }

    /// Runs one execution whose input text (`text_len` bytes) the caller has already parsed
    /// into `input` (the HTTP endpoint decodes a request's `input` once, straight into a value).
    /// The same checks and the same parked footprint as `execute`.
    pub fn execute_parsed(
        &self,
        program: Arc<Program>,
        input: value::Value,
        text_len: usize,
        meta: ExecutionMeta,
    ) -> impl Future<Output = Outcome> + Send + '_ {
        let meta = Box::new(meta);
        async move {
            let started = Instant::now();
            if text_len > self.settings.max_payload_bytes {
                return failed(
                    ErrorName::DATA_LIMIT_EXCEEDED,
                    "The input to the execution exceeds the maximum number of bytes service limit.",
                    started,
                );
            }
            // See `execute` for the bound.
            let bound = text_len.saturating_mul(8);
            let rest = match self.begin(program, input, bound, unbox(meta)) {
                Begun::Done(outcome) => return outcome,
                Begun::Pending(rest) => rest,
            };
            rest.await
        }
    }

    /// Runs one execution on an already parsed input.
    pub fn execute_value(
        &self,
        program: Arc<Program>,
        input: value::Value,
        meta: ExecutionMeta,
    ) -> impl Future<Output = Outcome> + Send + '_ {
        let first = Box::new((program, input, meta));
        async move {
            let (program, input, meta) = unbox(first);
            let rest = match self.begin(program, input, usize::MAX, meta) {
                Begun::Done(outcome) => return outcome,
                Begun::Pending(rest) => rest,
            };
            rest.await
        }
    }

    /// Starts one execution (`input_bound` bounds the input's compact JSON size) and runs it
    /// as far as it goes without waiting: its outcome, or the rest of it as one boxed future
    /// that holds only what a waiting execution needs.
    fn begin(
        &self,
        program: Arc<Program>,
        input: value::Value,
        input_bound: usize,
        meta: ExecutionMeta,
    ) -> Begun<'_> {
        let started = Instant::now();
        let ceiling = if meta.standard {
            self.settings.max_standard_execution_duration
        } else {
            self.settings.max_execution_duration
        };
        let limit = program
            .timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(ceiling)
            .min(ceiling);
        // The timeout future below ends an execution that waits past its time; one that keeps a
        // worker busy past it (a long evaluation) is stopped inside by `deadline`, and one that
        // ends past it anyway is reported TIMED_OUT below, as AWS would have stopped it.
        // PERF: this, the panic guard and the children bounds: w1_pass_chain 88.4 k → 90.1 k
        // instructions per execution (run_many under cachegrind, N = 2000 minus N = 0; most of it
        // moved inlining, the added work is a clock read and the unwind guard).
        let machine = machine_names(
            meta.state_machine_arn,
            meta.state_machine_name,
            meta.role_arn,
        );
        let info = Arc::new(ExecutionInfo {
            execution_arn: Str::from(meta.execution_arn),
            name: Str::from(meta.name),
            state_machine_arn: machine.0,
            state_machine_name: machine.1,
            role_arn: machine.2,
            start_time: meta.start_time,
            // PERF: w1_pass_chain: its first ResultPath no longer copies the input's map,
            // which `$$.Execution.Input` shared (no state of it reads the context).
            input: if program.reads_execution_input || meta.history {
                input.clone()
            } else {
                value::Value::Null
            },
            redrive_count: meta.asynchronous.then_some(0),
            limits: self.settings.limits(),
            deadline: started.checked_add(limit),
            context_parts: Default::default(),
            history: meta.history.then(|| Arc::new(History::new())),
        });
        if let Some(h) = &info.history {
            let details = history::details([
                ("input", input.clone()),
                ("inputDetails", history::not_truncated()),
                ("roleArn", value::Value::String(info.role_arn.clone())),
            ]);
            h.record(0, meta.start_time, "ExecutionStarted", details);
        }
        let recorded = info.history.clone();
        let run = driver::Run::new(
            self,
            program,
            meta.test_case.as_deref().map(Str::from),
            meta.standard,
        )
        .skipping_waits(meta.skip_waits);
        let preset = meta.variables;
        // A panic anywhere in the execution (the VM, a task handler, an expression) is our bug
        // or a handler's, never the other executions' problem: it ends this one FAILED with
        // `States.Runtime`. Everything it touched is its own (its `Run`, its `Execution`s), so
        // nothing shared is left half-updated. The first step needs no timer; the rest runs
        // under the execution's timeout.
        let first = std::panic::catch_unwind(AssertUnwindSafe(|| {
            run.start(info, input, input_bound, preset.as_deref())
        }));
        let result = match first {
            Err(panic) => Ok((Err(internal_error(&*panic)), None)),
            Ok(driver::Start::Done(r, vars)) => Ok((r, vars)),
            Ok(driver::Start::Pending(pending)) => {
                let keep_variables = preset.is_some();
                return Begun::Pending(Box::pin(self.finish(
                    run,
                    pending,
                    keep_variables,
                    started,
                    limit,
                    recorded,
                )));
            }
        };
        Begun::Done(self.conclude(&run, started, limit, result, recorded))
    }

    /// The rest of an execution that waits: everything it keeps while parked lives here, in
    /// the one box [`Engine::begin`] makes (`Run` with the program, the top scope, the timer).
    // PERF: parked executions: an `async fn` keeps a second copy of its arguments (the `Run`
    // among them) in its future; an `async move` block keeps the one it captured.
    #[allow(clippy::manual_async_fn)]
    fn finish<'a>(
        &'a self,
        mut run: driver::Run<'a>,
        pending: Box<(Execution, Step)>,
        keep_variables: bool,
        started: Instant,
        limit: Duration,
        recorded: Option<Arc<History>>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        async move {
            let finished: Finished = match timers::probe() {
                Ok(()) => {
                    let left = limit.saturating_sub(started.elapsed());
                    run.set_deadline(tokio::time::Instant::now() + left);
                    match AssertUnwindSafe(run.finish(pending, keep_variables))
                        .catch_unwind()
                        .await
                    {
                        Ok(Ok(done)) => Ok(Ok(done)),
                        Ok(Err(driver::TimedOut)) => Err(()),
                        Err(panic) => Ok(Err(panic)),
                    }
                }
                // No time driver: go on as long as nothing needs one.
                Err(cause) => untimed(&run, pending, keep_variables, cause, started + limit).await,
            };
            let result = match finished {
                Ok(Ok(done)) => Ok(done),
                Ok(Err(panic)) => Ok((Err(internal_error(&*panic)), None)),
                Err(()) => Err(()),
            };
            self.conclude(&run, started, limit, result, recorded)
        }
    }

    /// The outcome of an execution that ended (`Err` when it timed out) and its last history
    /// event.
    fn conclude(
        &self,
        run: &driver::Run<'_>,
        started: Instant,
        limit: Duration,
        result: Result<(Result<value::Value, StatesError>, Option<Map>), ()>,
        recorded: Option<Arc<History>>,
    ) -> Outcome {
        let late = started.elapsed() >= limit;
        let (result, variables) = match result {
            Ok(_) if late => (Err(()), None),
            Ok((r, vars)) => (Ok(r), vars),
            Err(()) => (Err(()), None),
        };
        let transitions = run.transitions();
        let entered = run.entered();
        let mut outcome = match result {
            Err(_) => Outcome {
                status: Status::TimedOut,
                output: None,
                // AWS's DescribeExecution (recorded) and StartSyncExecution carry no error or
                // cause for a timed-out execution: `States.Timeout` is only in its history event.
                error: None,
                cause: None,
                transitions,
                entered,
                duration: started.elapsed(),
                variables: None,
                history: None,
            },
            Ok(Err(e)) => Outcome {
                status: Status::Failed,
                output: None,
                error: e.error.map(|s| s.to_string()),
                cause: e.cause.map(|s| s.to_string()),
                transitions,
                entered,
                duration: started.elapsed(),
                variables: None,
                history: None,
            },
            Ok(Ok(v)) => Outcome {
                status: Status::Succeeded,
                output: Some({
                    if let Some(h) = &recorded {
                        h.set_output(v.clone());
                    }
                    v.to_json()
                }),
                error: None,
                cause: None,
                transitions,
                entered,
                duration: started.elapsed(),
                variables: None,
                history: None,
            },
        };
        outcome.variables = variables;
        if outcome
            .output
            .as_ref()
            .is_some_and(|o| o.len() > self.settings.max_payload_bytes)
        {
            outcome = failed(
                ErrorName::DATA_LIMIT_EXCEEDED,
                "The state/task returned a result with a size exceeding the maximum number of bytes service limit.",
                started,
            );
        }
        if let Some(h) = &recorded {
            let (kind, details) = match outcome.status {
                Status::Succeeded => (
                    "ExecutionSucceeded",
                    history::details([
                        ("output", h.take_output()),
                        ("outputDetails", history::not_truncated()),
                    ]),
                ),
                status => {
                    let mut d = history::Details::new();
                    let error = match status {
                        Status::TimedOut => Some(ErrorName::TIMEOUT),
                        _ => outcome.error.as_deref(),
                    };
                    for (k, v) in [("error", error), ("cause", outcome.cause.as_deref())] {
                        if let Some(v) = v {
                            d.push((k, value::Value::String(v.into())));
                        }
                    }
                    let kind = if status == Status::TimedOut {
                        "ExecutionTimedOut"
                    } else {
                        "ExecutionFailed"
                    };
                    (kind, d)
                }
            };
            h.record(h.last_id(), SystemTime::now(), kind, details);
            outcome.history = Some(h.take_events());
        }
        outcome
    }
}

thread_local! {
    /// The state machine's ARN and name and the role of the last execution this thread began.
    static MACHINE_NAMES: std::cell::RefCell<Option<(Str, Str, Str)>> =
        const { std::cell::RefCell::new(None) };
}

/// The state machine's ARN and name and the role ARN as shared strings: those of the last
/// execution this thread began when they are the same (most often they are), else new ones
/// that the next execution may share.
// PERF: parked executions: a million executions of one machine hold its names once, not a
// million times (~190 bytes each with the allocator's overhead); and for every execution three
// comparisons instead of three allocations and their frees. Per thread: no lock, no contention.
fn machine_names(arn: String, name: String, role: String) -> (Str, Str, Str) {
    MACHINE_NAMES.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((a, n, r)) = &*last
            && **a == *arn
            && **n == *name
            && **r == *role
        {
            return (a.clone(), n.clone(), r.clone());
        }
        let names = (Str::from(arn), Str::from(name), Str::from(role));
        *last = Some(names.clone());
        names
    })
}

/// How the rest of an execution ended: `Err` when it timed out, `Ok(Err)` when it panicked.
type Finished = Result<
    Result<(Result<value::Value, StatesError>, Option<Map>), Box<dyn std::any::Any + Send>>,
    (),
>;

/// [`Engine::finish`] where the runtime has no time driver (`cause`): made in a box of its own,
/// so that the future of every execution does not keep room for it.
fn untimed<'a>(
    run: &'a driver::Run<'_>,
    pending: Box<(Execution, Step)>,
    keep_variables: bool,
    cause: &'static str,
    deadline: Instant,
) -> futures::future::BoxFuture<'a, Finished> {
    run.without_timers(cause);
    let rest = AssertUnwindSafe(run.finish(pending, keep_variables)).catch_unwind();
    Box::pin(async move {
        let rest = std::pin::pin!(rest);
        match timers::untimed(rest, deadline).await {
            timers::Untimed::Done(Ok(Ok(done))) => Ok(Ok(done)),
            timers::Untimed::Done(Ok(Err(driver::TimedOut))) => Err(()),
            timers::Untimed::Done(Err(panic)) => Ok(Err(panic)),
            timers::Untimed::TimedOut => Err(()),
            timers::Untimed::Waits => {
                Ok(Ok((Err(StatesError::new(ErrorName::RUNTIME, cause)), None)))
            }
        }
    })
}

/// The value of a box, freeing the box now: `*b` on a captured box leaves its allocation to the
/// end of the future that captured it.
#[allow(clippy::boxed_local)]
fn unbox<T>(b: Box<T>) -> T {
    *b
}

// What an execution parked in a Wait or on a Task keeps, besides its data and the future that
// `Engine::finish` makes (see `tests::a_parked_execution_keeps_a_small_future`): its top scope
// and the facts `$$` shows, each in one allocation, and the driver's `Run` in that future.
const _: () = assert!(std::mem::size_of::<Execution>() <= 240);
const _: () = assert!(std::mem::size_of::<Step>() <= 48);
const _: () = assert!(std::mem::size_of::<ExecutionInfo>() <= 240);
const _: () = assert!(std::mem::size_of::<driver::Run<'static>>() <= 144);

/// How [`Engine::begin`] left an execution: taken apart at once, never kept across an await.
#[allow(clippy::large_enum_variant)]
enum Begun<'e> {
    Done(Outcome),
    /// The rest of it, waiting on something.
    Pending(futures::future::BoxFuture<'e, Outcome>),
}

/// `States.Runtime` for an execution stopped by a panic, naming it as ours.
fn internal_error(panic: &(dyn std::any::Any + Send)) -> StatesError {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic");
    StatesError {
        error: Some(Str::from(ErrorName::RUNTIME)),
        cause: Some(Str::from(
            format!("Internal error: the execution was stopped by an error in the engine or a task handler ({what})").as_str(),
        )),
    }
}

fn failed(error: &str, cause: &str, started: Instant) -> Outcome {
    Outcome {
        status: Status::Failed,
        output: None,
        error: Some(error.into()),
        cause: Some(cause.into()),
        transitions: 0,
        entered: [0; 8],
        duration: started.elapsed(),
        variables: None,
        history: None,
    }
}
