//! The load loop, over any [`Target`]: closed (C requests in flight, each worker starting the next
//! when its last one answers) or open (a fixed arrival schedule of R per second).
//!
//! In the open loop each request's latency is measured from the moment the schedule said it should
//! start, not from when it could start: a stall that holds up the requests behind it shows in their
//! latencies too (no coordinated omission). All times are tokio's, so tests drive the schedule
//! under `tokio::time::pause()`.
//!
//! A run is split into shards, one per thread ([`run_threads`]), each on a current-thread runtime
//! of its own, as wrk runs one event loop per thread: a shard's workers are futures of one task,
//! its figures are plain fields only that task touches (no lock, no shared counter per answer),
//! and the shards' figures are merged once at the end. The live line reads a few per-shard atomics
//! each shard refreshes.

use hdrhistogram::Histogram;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::{Duration, Instant};

/// How one request ended.
#[derive(Debug)]
pub struct Answer {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` for an execution that ran; `HTTP 400` for an endpoint
    /// that refused the request; `NO_ANSWER` when none came (connection refused, timeout).
    pub status: Cow<'static, str>,
    /// The error name (`States.TaskFailed`, `StateMachineDoesNotExist`, `ConnectError`).
    pub error: Option<String>,
    /// The output JSON text of a SUCCEEDED execution (when it was asked for).
    pub output: Option<String>,
}

pub const SUCCEEDED: &str = "SUCCEEDED";

/// Something the loop can call: the engine in this process, or an endpoint.
pub trait Target: Send + Sync + 'static {
    type Worker: Worker;
    /// What one in-flight place owns (an HTTP connection of its own, as wrk's connections).
    /// Made on the thread that uses it.
    fn worker(self: &Arc<Self>) -> Self::Worker;
}

/// One in-flight place: calls one after another.
pub trait Worker: 'static {
    /// One execution or request, answered. `want_output`: the answer should carry the output
    /// text of a SUCCEEDED execution (for `--expect` or the JSON floor's sample); when false an
    /// endpoint's answer need not be parsed past its status.
    fn call(&mut self, want_output: bool) -> impl Future<Output = Answer>;
}

/// When a run stops starting requests.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    Elapsed(Duration),
    Count(u64),
}

/// The shape of the load.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub until: Until,
    /// In flight at once: the closed loop's workers, the open loop's cap.
    pub concurrency: usize,
    /// Arrivals per second (open loop), or `None` for the closed loop.
    pub rate: Option<f64>,
}

/// Output checking for `--expect`. Message ids are masked, as in folder mode.
pub struct Expect {
    expected: serde_json::Value,
    /// The first output text that matched: later outputs equal to it byte for byte need no parse.
    matched_text: OnceLock<String>,
}

impl Expect {
    pub fn new(text: &str) -> Result<Expect, String> {
        let expected = super::folder::masked(text).ok_or("the expected output is not JSON")?;
        Ok(Expect {
            expected,
            matched_text: OnceLock::new(),
        })
    }

    fn matches(&self, output: &str) -> bool {
        if self.matched_text.get().is_some_and(|m| m == output) {
            return true;
        }
        let ok = super::folder::masked(output).as_ref() == Some(&self.expected);
        if ok {
            let _ = self.matched_text.set(output.to_string());
        }
        ok
    }
}

/// One slice of the run's time line (for `--svg` and the JSON report).
pub struct Slice {
    pub passed: u64,
    pub errors: u64,
    pub latency: Histogram<u64>,
}

/// What a run counted. Latencies are in nanoseconds.
pub struct Stats {
    pub sent: u64,
    pub answered: u64,
    /// Succeeded, and matched `--expect` when given.
    pub passed: u64,
    pub latency: Histogram<u64>,
    pub statuses: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
    pub matched: u64,
    pub mismatched: u64,
    /// One succeeded output, for the JSON floor.
    pub sample_output: Option<String>,
    /// Time line slices of `slice` each, by completion time.
    pub slices: Vec<Slice>,
    pub slice: Duration,
    /// From the first start to the last answer.
    pub elapsed: Duration,
}

/// Slices kept at most: past this, neighbours merge and the slice doubles.
const MAX_SLICES: usize = 400;

/// An auto-resizing histogram: it grows to the largest latency recorded.
fn histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new(sigfig).expect("2 or 3 significant figures are valid")
}

fn add(h: &mut Histogram<u64>, nanos: u64) {
    // Only a value past what u64 buckets address fails: keep the histogram's top instead.
    if h.record(nanos).is_err() {
        h.saturating_record(nanos);
    }
}

impl Stats {
    pub(crate) fn new(slice: Duration) -> Stats {
        Stats {
            sent: 0,
            answered: 0,
            passed: 0,
            latency: histogram(3),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            matched: 0,
            mismatched: 0,
            sample_output: None,
            slices: Vec::new(),
            slice,
            elapsed: Duration::ZERO,
        }
    }

    /// Answers that were not a passing execution.
    pub fn failures(&self) -> u64 {
        self.answered - self.passed
    }

    fn slice_at(&mut self, since_start: Duration) -> &mut Slice {
        let mut i = (since_start.as_nanos() / self.slice.as_nanos().max(1)) as usize;
        while i >= MAX_SLICES {
            self.halve();
            i = (since_start.as_nanos() / self.slice.as_nanos().max(1)) as usize;
        }
        while self.slices.len() <= i {
            self.slices.push(Slice {
                passed: 0,
                errors: 0,
                latency: histogram(2),
            });
        }
        &mut self.slices[i]
    }

    /// Doubles the slice width, merging neighbours.
    fn halve(&mut self) {
        let old = std::mem::take(&mut self.slices);
        let mut it = old.into_iter();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.passed += b.passed;
                a.errors += b.errors;
                let _ = a.latency.add(&b.latency);
            }
            self.slices.push(a);
        }
        self.slice *= 2;
    }

    /// Adds one answer for a request scheduled (or started) at `since_t0_start` after the run's
    /// start and answered `since_t0_end` after it; true when it passed.
    pub(crate) fn record(
        &mut self,
        since_t0_start: Duration,
        since_t0_end: Duration,
        answer: Answer,
        expect: Option<&Expect>,
    ) -> bool {
        let nanos = since_t0_end.saturating_sub(since_t0_start).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX).max(1);
        let succeeded = answer.status == SUCCEEDED;
        let check = match (expect, &answer.output) {
            (Some(e), Some(out)) if succeeded => Some(e.matches(out)),
            // Asked for and missing: the answer cannot be compared, so it does not pass.
            (Some(_), None) if succeeded => Some(false),
            _ => None,
        };
        let passed = succeeded && check != Some(false);
        self.answered += 1;
        add(&mut self.latency, nanos);
        match self.statuses.get_mut(answer.status.as_ref()) {
            Some(n) => *n += 1,
            None => {
                self.statuses.insert(answer.status.into_owned(), 1);
            }
        }
        if let Some(e) = answer.error {
            *self.errors.entry(e).or_insert(0) += 1;
        }
        match check {
            Some(true) => self.matched += 1,
            Some(false) => self.mismatched += 1,
            None => {}
        }
        if passed {
            self.passed += 1;
            if self.sample_output.is_none() {
                self.sample_output = answer.output;
            }
        }
        let slice = self.slice_at(since_t0_end);
        if passed {
            slice.passed += 1;
        } else {
            slice.errors += 1;
        }
        add(&mut slice.latency, nanos);
        passed
    }

    /// Adds another shard's figures to these.
    pub(crate) fn merge(&mut self, mut other: Stats) {
        self.sent += other.sent;
        self.answered += other.answered;
        self.passed += other.passed;
        let _ = self.latency.add(&other.latency);
        for (k, n) in std::mem::take(&mut other.statuses) {
            *self.statuses.entry(k).or_insert(0) += n;
        }
        for (k, n) in std::mem::take(&mut other.errors) {
            *self.errors.entry(k).or_insert(0) += n;
        }
        self.matched += other.matched;
        self.mismatched += other.mismatched;
        if self.sample_output.is_none() {
            self.sample_output = other.sample_output.take();
        }
        // Slice widths are the first width doubled some times: bring both to the wider.
        while self.slice < other.slice {
            self.halve();
        }
        while other.slice < self.slice {
            other.halve();
        }
        for (i, s) in other.slices.into_iter().enumerate() {
            if self.slices.len() <= i {
                self.slices.push(s);
            } else {
                let mine = &mut self.slices[i];
                mine.passed += s.passed;
                mine.errors += s.errors;
                let _ = mine.latency.add(&s.latency);
            }
        }
        self.elapsed = self.elapsed.max(other.elapsed);
    }
}

/// Whether another request may start.
struct Gate {
    deadline: Option<Instant>,
    left: AtomicU64,
}

impl Gate {
    fn new(until: Until, t0: Instant) -> Gate {
        match until {
            Until::Elapsed(d) => Gate {
                deadline: Some(t0 + d),
                left: AtomicU64::new(u64::MAX),
            },
            Until::Count(n) => Gate {
                deadline: None,
                left: AtomicU64::new(n),
            },
        }
    }

    /// Takes one start if the run is not over at `at`.
    fn take(&self, at: Instant) -> bool {
        match self.deadline {
            Some(d) => at < d,
            None => self
                .left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// The time line's first slice width: a hundredth of a timed run (at least 100 ms), else 1 s.
pub fn first_slice(until: Until) -> Duration {
    match until {
        Until::Elapsed(d) => (d / 100).max(Duration::from_millis(100)),
        Until::Count(_) => Duration::from_secs(1),
    }
}

/// What one shard shows the live line: its own cache line of counters it alone writes.
#[derive(Default)]
#[repr(align(64))]
struct Glance {
    answered: AtomicU64,
    failed: AtomicU64,
    p50: AtomicU64,
    p99: AtomicU64,
}

/// The run so far, for the live line; shards refresh their percentiles about ten times a second.
pub struct Progress {
    shards: Vec<Glance>,
}

impl Progress {
    fn new(shards: usize) -> Progress {
        Progress {
            shards: (0..shards.max(1)).map(|_| Glance::default()).collect(),
        }
    }

    /// (answered, failed, p50, p99) so far: p50 the shards' answer-weighted mean, p99 their
    /// largest (each shard sees a share of the same load).
    pub fn glance(&self) -> (u64, u64, Duration, Duration) {
        let (mut n, mut failed, mut p50_sum, mut p99) = (0u64, 0u64, 0f64, 0u64);
        for g in &self.shards {
            let a = g.answered.load(Ordering::Relaxed);
            n += a;
            failed += g.failed.load(Ordering::Relaxed);
            p50_sum += a as f64 * g.p50.load(Ordering::Relaxed) as f64;
            p99 = p99.max(g.p99.load(Ordering::Relaxed));
        }
        let p50 = if n == 0 { 0.0 } else { p50_sum / n as f64 };
        (
            n,
            failed,
            Duration::from_nanos(p50 as u64),
            Duration::from_nanos(p99),
        )
    }
}

/// How often a shard refreshes its percentiles for the live line.
const GLANCE_EVERY: Duration = Duration::from_millis(100);

/// One phase's settings, shared by its shards.
struct Shared {
    t0: Instant,
    plan: Plan,
    gate: Gate,
    expect: Option<Arc<Expect>>,
    progress: Arc<Progress>,
    /// Someone reads the percentiles (the live line): refresh them.
    watched: bool,
}

impl Shared {
    fn new(plan: Plan, expect: Option<Arc<Expect>>, shards: usize, watched: bool) -> Shared {
        let t0 = Instant::now();
        Shared {
            t0,
            plan,
            gate: Gate::new(plan.until, t0),
            expect,
            progress: Arc::new(Progress::new(shards)),
            watched,
        }
    }
}

/// One shard's state, touched only by the futures of its one task.
struct Shard<'a> {
    shared: &'a Shared,
    /// Which shard of how many: the open loop's schedule is dealt out in turn.
    index: usize,
    of: usize,
    stats: RefCell<Stats>,
    /// The open loop's next turn of this shard's schedule.
    next: Cell<u64>,
    failed: Cell<u64>,
    glanced: Cell<Instant>,
    last_end: Cell<Instant>,
}

impl Shard<'_> {
    fn glance(&self) -> &Glance {
        &self.shared.progress.shards[self.index.min(self.shared.progress.shards.len() - 1)]
    }

    fn want_output(&self) -> bool {
        self.shared.expect.is_some() || self.stats.borrow().sample_output.is_none()
    }

    fn sent(&self) {
        self.stats.borrow_mut().sent += 1;
    }

    fn record(&self, start: Instant, end: Instant, answer: Answer) {
        let t0 = self.shared.t0;
        let mut stats = self.stats.borrow_mut();
        let passed = stats.record(
            start.saturating_duration_since(t0),
            end.saturating_duration_since(t0),
            answer,
            self.shared.expect.as_deref(),
        );
        if end > self.last_end.get() {
            self.last_end.set(end);
        }
        let g = self.glance();
        g.answered.store(stats.answered, Ordering::Relaxed);
        if !passed {
            self.failed.set(self.failed.get() + 1);
            g.failed.store(self.failed.get(), Ordering::Relaxed);
        }
        if self.shared.watched && end.saturating_duration_since(self.glanced.get()) >= GLANCE_EVERY
        {
            self.glanced.set(end);
            g.p50
                .store(stats.latency.value_at_quantile(0.5), Ordering::Relaxed);
            g.p99
                .store(stats.latency.value_at_quantile(0.99), Ordering::Relaxed);
        }
    }
}

/// A closed-loop worker: starts its next request when the last one answered.
async fn closed_loop<W: Worker>(mut worker: W, shard: &Shard<'_>) -> W {
    loop {
        let start = Instant::now();
        if !shard.shared.gate.take(start) {
            break;
        }
        shard.sent();
        let answer = worker.call(shard.want_output()).await;
        shard.record(start, Instant::now(), answer);
        // An in-process execution of Pass and mocked Task states never waits, so this loop would
        // never give its thread to the timers and the other workers: every 128 rounds (tokio's
        // budget) it yields once.
        tokio::task::consume_budget().await;
    }
    worker
}

/// An open-loop worker: takes the shard's next turn of the schedule, request `i` being due at
/// `t0 + i / rate`, and waits for it if it is ahead. A turn taken late (every worker was busy at
/// its due time) starts at once, and its latency still runs from its due time.
async fn open_loop<W: Worker>(mut worker: W, shard: &Shard<'_>, rate: f64) -> W {
    loop {
        let turn = shard.next.get();
        shard.next.set(turn + 1);
        let i = turn * shard.of as u64 + shard.index as u64;
        let due = shard.shared.t0 + Duration::from_secs_f64(i as f64 / rate);
        if !shard.shared.gate.take(due) {
            break;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        shard.sent();
        let answer = worker.call(shard.want_output()).await;
        shard.record(due, Instant::now(), answer);
        tokio::task::consume_budget().await;
    }
    worker
}

/// Runs one shard's workers to the end of `shared`'s plan, in the calling task.
async fn shard<W: Worker>(
    workers: Vec<W>,
    shared: &Shared,
    index: usize,
    of: usize,
) -> (Stats, Vec<W>) {
    use futures::StreamExt;
    let shard = Shard {
        shared,
        index,
        of,
        stats: RefCell::new(Stats::new(first_slice(shared.plan.until))),
        next: Cell::new(0),
        failed: Cell::new(0),
        glanced: Cell::new(shared.t0),
        last_end: Cell::new(shared.t0),
    };
    let mut running = futures::stream::FuturesUnordered::new();
    for w in workers {
        let shard = &shard;
        running.push(async move {
            match shard.shared.plan.rate {
                None => closed_loop(w, shard).await,
                Some(rate) => open_loop(w, shard, rate).await,
            }
        });
    }
    let mut back = Vec::with_capacity(running.len());
    while let Some(w) = running.next().await {
        back.push(w);
    }
    drop(running);
    let mut stats = shard.stats.into_inner();
    stats.elapsed = shard.last_end.get().saturating_duration_since(shared.t0);
    (stats, back)
}

/// Runs `plan` against `target` in the calling task as one shard of `plan.concurrency` workers,
/// handing the progress to `watch` first (the live line reads it). Returns when every request
/// sent has been answered. (The command runs [`run_threads`]; tests drive this one under
/// tokio's paused clock.)
#[cfg(test)]
pub async fn run<T: Target>(
    target: Arc<T>,
    plan: Plan,
    expect: Option<Arc<Expect>>,
    watch: impl FnOnce(Arc<Progress>),
) -> Stats {
    let shared = Shared::new(plan, expect, 1, true);
    watch(shared.progress.clone());
    let workers = (0..plan.concurrency.max(1))
        .map(|_| target.worker())
        .collect();
    let (mut stats, _) = shard(workers, &shared, 0, 1).await;
    stats.elapsed = stats
        .elapsed
        .max(Instant::now().saturating_duration_since(shared.t0));
    stats
}

/// One measured (or warm-up) phase of [`run_threads`].
pub struct Phase {
    pub plan: Plan,
    pub expect: Option<Arc<Expect>>,
    /// A live line reads this phase's percentiles (refreshing them costs a little).
    pub watched: bool,
}

/// Runs `phases` one after another against `target` on `threads` threads (at most one per
/// in-flight place), each a current-thread runtime with its share of the workers; the workers
/// (and their connections) last from one phase to the next. `on_phase` is called as each phase
/// starts with its progress, and what it returns is dropped when the phase is over. Returns each
/// phase's merged figures.
pub fn run_threads<T: Target, G>(
    target: Arc<T>,
    threads: usize,
    phases: Vec<Phase>,
    mut on_phase: impl FnMut(usize, Arc<Progress>) -> G,
) -> Result<Vec<Stats>, String> {
    let Some(concurrency) = phases.first().map(|p| p.plan.concurrency.max(1)) else {
        return Ok(Vec::new());
    };
    let n = threads.clamp(1, concurrency);
    type Start = Option<Arc<(Shared, tokio::sync::watch::Sender<usize>)>>;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Result<Stats, String>>();
    let mut results = Vec::with_capacity(phases.len());
    std::thread::scope(|scope| -> Result<(), String> {
        let mut starts = Vec::with_capacity(n);
        for k in 0..n {
            let (start_tx, start_rx) = std::sync::mpsc::channel::<Start>();
            starts.push(start_tx);
            let (target, done_tx) = (target.clone(), done_tx.clone());
            let places = concurrency / n + usize::from(k < concurrency % n);
            let spawned = std::thread::Builder::new()
                .name(format!("bench-{k}"))
                .spawn_scoped(scope, move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            // Each phase still counts this shard as done, so the others end.
                            while let Ok(Some(phase)) = start_rx.recv() {
                                phase.1.send_modify(|l| *l -= 1);
                                let _ = done_tx.send(Err(format!("cannot start a runtime: {e}")));
                            }
                            return;
                        }
                    };
                    let mut workers: Vec<T::Worker> = Vec::new();
                    while let Ok(Some(phase)) = start_rx.recv() {
                        let (shared, left) = &*phase;
                        let (stats, back) = rt.block_on(async {
                            if workers.is_empty() {
                                workers = (0..places).map(|_| target.worker()).collect();
                            }
                            let out = shard(std::mem::take(&mut workers), shared, k, n).await;
                            // Keep this runtime turning until every shard is done: a connection
                            // another shard borrowed from a pool may be driven from here.
                            left.send_modify(|l| *l -= 1);
                            let _ = left.subscribe().wait_for(|l| *l == 0).await;
                            out
                        });
                        workers = back;
                        if done_tx.send(Ok(stats)).is_err() {
                            return;
                        }
                    }
                });
            if let Err(e) = spawned {
                for s in &starts {
                    let _ = s.send(None);
                }
                return Err(format!("cannot start a thread: {e}"));
            }
        }
        drop(done_tx);
        for (p, phase) in phases.into_iter().enumerate() {
            let shared = Shared::new(phase.plan, phase.expect, n, phase.watched);
            let guard = on_phase(p, shared.progress.clone());
            let (left, _) = tokio::sync::watch::channel(n);
            let start = Arc::new((shared, left));
            for s in &starts {
                let _ = s.send(Some(start.clone()));
            }
            let mut merged: Option<Stats> = None;
            for _ in 0..n {
                let stats = done_rx
                    .recv()
                    .map_err(|_| "a load thread stopped".to_string())??;
                match &mut merged {
                    None => merged = Some(stats),
                    Some(m) => m.merge(stats),
                }
            }
            drop(guard);
            if let Some(m) = merged {
                results.push(m);
            }
        }
        for s in &starts {
            let _ = s.send(None);
        }
        Ok(())
    })?;
    Ok(results)
}
