//! The load loop, over any [`Target`]: closed (C requests in flight, each worker starting the next
//! when its last one answers) or open (a fixed arrival schedule of R per second).
//!
//! In the open loop each request's latency is measured from the moment the schedule said it should
//! start, not from when it could start: a stall that holds up the requests behind it shows in their
//! latencies too (no coordinated omission). All times are tokio's, so tests drive the schedule
//! under `tokio::time::pause()`.

use hdrhistogram::Histogram;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::time::{Duration, Instant};

/// How one request ended.
#[derive(Debug)]
pub struct Answer {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` for an execution that ran; `HTTP 400` for an endpoint
    /// that refused the request; `NO_ANSWER` when none came (connection refused, timeout).
    pub status: Cow<'static, str>,
    /// The error name (`States.TaskFailed`, `StateMachineDoesNotExist`, `ConnectError`).
    pub error: Option<String>,
    /// The output JSON text of a SUCCEEDED execution.
    pub output: Option<String>,
}

pub const SUCCEEDED: &str = "SUCCEEDED";

/// Something the loop can call: the engine in this process, or an endpoint.
pub trait Target: Send + Sync + 'static {
    type Worker: Worker;
    /// What one in-flight place owns (an HTTP connection of its own, as wrk's connections).
    fn worker(self: &Arc<Self>) -> Self::Worker;
}

/// One in-flight place: calls one after another.
pub trait Worker: Send + 'static {
    /// One execution or request, answered.
    fn call(&mut self) -> impl Future<Output = Answer> + Send;
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
    fn new(slice: Duration) -> Stats {
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
}

/// Shards of a recorder's counts: threads beyond this many share one.
const SHARDS: usize = 8;

/// One thread's share of the counts, on its own cache lines.
#[repr(align(128))]
struct Shard(Mutex<Stats>);

/// This thread's shard number, handed out in turn on a thread's first use.
fn shard_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

/// Shared by every in-flight request. PERF: the counts are kept per thread (each thread locks
/// only its own shard, uncontended) and added up when read: one shared mutex taken twice per
/// execution had the workers of `--concurrency 64` queue on each other.
pub struct Recorder {
    t0: Instant,
    shards: Box<[Shard]>,
    expect: Option<Arc<Expect>>,
    /// Answers so far, read by the live line without the lock.
    answered: AtomicU64,
    failed: AtomicU64,
}

fn lock_stats(m: &Mutex<Stats>) -> std::sync::MutexGuard<'_, Stats> {
    // A panic while holding this lock leaves plain counters behind: still readable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Recorder {
    pub fn new(t0: Instant, slice: Duration, expect: Option<Arc<Expect>>) -> Recorder {
        Recorder {
            t0,
            shards: (0..SHARDS)
                .map(|_| Shard(Mutex::new(Stats::new(slice))))
                .collect(),
            expect,
            answered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    fn sent(&self) {
        self.lock().sent += 1;
    }

    /// This thread's shard.
    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        lock_stats(&self.shards[shard_index()].0)
    }

    /// Every shard's counts added up.
    fn merged(&self) -> Stats {
        let first = lock_stats(&self.shards[0].0);
        let mut out = Stats::new(first.slice);
        drop(first);
        for shard in self.shards.iter() {
            out.absorb(&mut lock_stats(&shard.0));
        }
        out
    }

    /// Adds one answer for a request scheduled (or started) at `start` and answered at `end`.
    pub fn record(&self, start: Instant, end: Instant, answer: Answer) {
        let nanos = end.saturating_duration_since(start).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX).max(1);
        let succeeded = answer.status == SUCCEEDED;
        let check = match (&self.expect, &answer.output) {
            (Some(e), Some(out)) if succeeded => Some(e.matches(out)),
            _ => None,
        };
        let passed = succeeded && check != Some(false);
        self.answered.fetch_add(1, Ordering::Relaxed);
        if !passed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let mut s = self.lock();
        s.answered += 1;
        add(&mut s.latency, nanos);
        match s.statuses.get_mut(answer.status.as_ref()) {
            Some(n) => *n += 1,
            None => {
                s.statuses.insert(answer.status.into_owned(), 1);
            }
        }
        if let Some(e) = answer.error {
            *s.errors.entry(e).or_insert(0) += 1;
        }
        match check {
            Some(true) => s.matched += 1,
            Some(false) => s.mismatched += 1,
            None => {}
        }
        if passed {
            s.passed += 1;
            if s.sample_output.is_none() {
                s.sample_output = answer.output;
            }
        }
        let slice = s.slice_at(end.saturating_duration_since(self.t0));
        if passed {
            slice.passed += 1;
        } else {
            slice.errors += 1;
        }
        add(&mut slice.latency, nanos);
    }

    /// (answered, failed, p50, p99) so far, for the live line.
    pub fn glance(&self) -> (u64, u64, Duration, Duration) {
        let mut latency = histogram(3);
        for shard in self.shards.iter() {
            let _ = latency.add(&lock_stats(&shard.0).latency);
        }
        let q = |q| Duration::from_nanos(latency.value_at_quantile(q));
        (
            self.answered.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            q(0.5),
            q(0.99),
        )
    }

    pub fn into_stats(self, end: Instant) -> Stats {
        let mut s = self.merged();
        s.elapsed = end.saturating_duration_since(self.t0);
        s
    }
}

impl Stats {
    /// Moves `other`'s counts into these (both started with the same slice width).
    fn absorb(&mut self, other: &mut Stats) {
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
        // Widths only double from the same start: bring both to the wider, then add slice by slice.
        while self.slice < other.slice {
            self.halve();
        }
        while other.slice < self.slice {
            other.halve();
        }
        for (i, b) in std::mem::take(&mut other.slices).into_iter().enumerate() {
            if self.slices.len() <= i {
                self.slices.push(b);
            } else {
                let a = &mut self.slices[i];
                a.passed += b.passed;
                a.errors += b.errors;
                let _ = a.latency.add(&b.latency);
            }
        }
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
        if self.deadline.is_some_and(|d| at >= d) {
            return false;
        }
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// The time line's first slice width: a hundredth of a timed run (at least 100 ms), else 1 s.
pub fn first_slice(until: Until) -> Duration {
    match until {
        Until::Elapsed(d) => (d / 100).max(Duration::from_millis(100)),
        Until::Count(_) => Duration::from_secs(1),
    }
}

/// Runs `plan` against `target`, recording into a fresh recorder handed to `watch` as soon as it
/// exists (the live line reads it). Returns when every request sent has been answered.
pub async fn run<T: Target>(
    target: Arc<T>,
    plan: Plan,
    expect: Option<Arc<Expect>>,
    watch: impl FnOnce(Arc<Recorder>),
) -> Stats {
    let t0 = Instant::now();
    let rec = Arc::new(Recorder::new(t0, first_slice(plan.until), expect));
    watch(rec.clone());
    let gate = Arc::new(Gate::new(plan.until, t0));
    match plan.rate {
        None => closed(target, plan.concurrency, gate, rec.clone()).await,
        Some(rate) => open(target, rate, plan.concurrency, gate, rec.clone()).await,
    }
    let end = Instant::now();
    match Arc::try_unwrap(rec) {
        Ok(rec) => rec.into_stats(end),
        Err(rec) => {
            // The watcher still holds it: add the counts up under the locks.
            let mut out = rec.merged();
            out.elapsed = end.saturating_duration_since(t0);
            out
        }
    }
}

/// `concurrency` workers, each starting its next request when the last one answered.
async fn closed<T: Target>(
    target: Arc<T>,
    concurrency: usize,
    gate: Arc<Gate>,
    rec: Arc<Recorder>,
) {
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (mut worker, gate, rec) = (target.worker(), gate.clone(), rec.clone());
        workers.spawn(async move {
            loop {
                let start = Instant::now();
                if !gate.take(start) {
                    break;
                }
                rec.sent();
                let answer = worker.call().await;
                rec.record(start, Instant::now(), answer);
                // An in-process execution of Pass and mocked Task states never waits, so this
                // loop would never give its thread to the timers and the live line: every 128
                // rounds (tokio's budget) it yields once.
                tokio::task::consume_budget().await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

/// Request `i` is due at `t0 + i / rate`, and its latency runs from then. `cap` workers take the
/// due times in order: a request waiting for a free worker is already late, and its wait counts.
async fn open<T: Target>(
    target: Arc<T>,
    rate: f64,
    cap: usize,
    gate: Arc<Gate>,
    rec: Arc<Recorder>,
) {
    let t0 = rec.t0;
    // The schedule's queue: the dispatcher below sends due times, the workers share the receiver
    // (the one holding its lock is the next to start).
    let (due_tx, due_rx) = tokio::sync::mpsc::channel::<Instant>(cap.max(1));
    let due_rx = Arc::new(tokio::sync::Mutex::new(due_rx));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..cap.max(1) {
        let (mut worker, due_rx, rec) = (target.worker(), due_rx.clone(), rec.clone());
        workers.spawn(async move {
            loop {
                let next = due_rx.lock().await.recv().await;
                let Some(due) = next else { break };
                rec.sent();
                let answer = worker.call().await;
                rec.record(due, Instant::now(), answer);
            }
        });
    }
    let period = 1.0 / rate;
    for i in 0u64.. {
        let due = t0 + Duration::from_secs_f64(i as f64 * period);
        if !gate.take(due) {
            break;
        }
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        if due_tx.send(due).await.is_err() {
            break;
        }
    }
    drop(due_tx);
    while workers.join_next().await.is_some() {}
}
