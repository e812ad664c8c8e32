//! Prometheus metrics: executions by status (and by state machine), state transitions (and
//! states entered by type), an execution latency histogram, and API requests by operation.
//!
//! Every request adds to a dozen counters, from every worker thread at once. PERF: the counters
//! live in shards, one per thread (up to `SHARDS`, cache-line aligned), so that two workers
//! never write the same cache line; `/metrics` adds the shards up. The histogram keeps one
//! count per bucket (one add per execution, not one per bucket above it) and is made
//! cumulative when rendered. Executions by state machine sit in each shard's own map behind a
//! mutex that only its thread and `/metrics` take.
//!
//! In: every request's operation and success, every execution's `Outcome`. Out: the Prometheus
//! text of `GET /metrics`.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use super::OPERATIONS;
use super::registry::lock;
use crate::engine::Status;

/// Request counters: one slot per operation, then the `/execute/{name}` route, then unknown targets.
const SLOTS: usize = OPERATIONS.len() + 2;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0,
];

/// Shards of the counters: threads beyond this many share one (still correct, atomics).
const SHARDS: usize = 16;

/// One thread's counters.
#[derive(Default)]
#[repr(align(128))]
struct Shard {
    /// Finished executions: `[SUCCEEDED, FAILED, TIMED_OUT]`.
    status: [AtomicU64; 3],
    transitions: AtomicU64,
    /// Executions by the first bucket that holds their latency; the last is above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
    /// Requests by operation slot, `[ok, error]`.
    requests: [[AtomicU64; 2]; SLOTS],
    /// States entered, by type (`vm::history::STATE_TYPES` order).
    entered: [AtomicU64; 8],
    /// Executions by state machine name: `[SUCCEEDED, FAILED, TIMED_OUT]`.
    by_machine: Mutex<HashMap<String, [u64; 3], foldhash::fast::RandomState>>,
}

/// The server's counters.
pub struct Metrics {
    shards: Box<[Shard]>,
    aborted: AtomicU64,
    /// Requests whose handler panicked (answered 500 `InternalFailure`).
    panics: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            aborted: AtomicU64::new(0),
            panics: AtomicU64::new(0),
        }
    }
}

/// This thread's shard number, handed out in turn on a thread's first use.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

impl Metrics {
    fn shard(&self) -> &Shard {
        &self.shards[shard_index()]
    }

    fn sum(&self, f: impl Fn(&Shard) -> &AtomicU64) -> u64 {
        self.shards.iter().map(|s| f(s).load(Relaxed)).sum()
    }

    /// Records one finished execution.
    pub fn execution(&self, machine: &str, result: &crate::engine::Outcome) {
        let (status, transitions, duration) = (result.status, result.transitions, result.duration);
        let slot = match status {
            Status::Succeeded => 0,
            Status::Failed => 1,
            Status::TimedOut => 2,
        };
        let shard = self.shard();
        shard.status[slot].fetch_add(1, Relaxed);
        for (total, n) in shard.entered.iter().zip(result.entered) {
            if n > 0 {
                total.fetch_add(n, Relaxed);
            }
        }
        {
            let mut machines = lock(&shard.by_machine);
            match machines.get_mut(machine) {
                Some(counts) => counts[slot] += 1,
                None => {
                    let mut counts = [0; 3];
                    counts[slot] = 1;
                    machines.insert(machine.to_string(), counts);
                }
            }
        }
        shard.transitions.fetch_add(transitions, Relaxed);
        let secs = duration.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        shard.buckets[bucket].fetch_add(1, Relaxed);
        shard
            .sum_micros
            .fetch_add(duration.as_micros() as u64, Relaxed);
    }

    /// Records an execution stopped by StopExecution.
    pub fn aborted(&self) {
        self.aborted.fetch_add(1, Relaxed);
    }

    /// Records a request whose handler panicked.
    pub fn panicked(&self) {
        self.panics.fetch_add(1, Relaxed);
    }

    /// Records one API request (`"execute"` for the `/execute/{name}` route; any unknown name is
    /// counted as `unknown`).
    pub fn request(&self, operation: &str, ok: bool) {
        let slot = match operation {
            "execute" => OPERATIONS.len(),
            op => OPERATIONS
                .iter()
                .position(|o| *o == op)
                .unwrap_or(OPERATIONS.len() + 1),
        };
        self.shard().requests[slot][usize::from(!ok)].fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP expressway_executions_total Executions finished, by status.\n");
        s.push_str("# TYPE expressway_executions_total counter\n");
        for (i, status) in ["SUCCEEDED", "FAILED", "TIMED_OUT"].iter().enumerate() {
            let _ = writeln!(
                s,
                "expressway_executions_total{{status=\"{status}\"}} {}",
                self.sum(|sh| &sh.status[i])
            );
        }
        let _ = writeln!(
            s,
            "expressway_executions_total{{status=\"ABORTED\"}} {}",
            self.aborted.load(Relaxed)
        );
        s.push_str("# HELP expressway_state_transitions_total State transitions run.\n");
        s.push_str("# TYPE expressway_state_transitions_total counter\n");
        let _ = writeln!(
            s,
            "expressway_state_transitions_total {}",
            self.sum(|sh| &sh.transitions)
        );
        s.push_str("# HELP expressway_execution_duration_seconds Execution latency.\n");
        s.push_str("# TYPE expressway_execution_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, b) in BUCKETS.iter().enumerate() {
            cumulative += self.sum(|sh| &sh.buckets[i]);
            let _ = writeln!(
                s,
                "expressway_execution_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        let count = cumulative + self.sum(|sh| &sh.buckets[BUCKETS.len()]);
        let _ = writeln!(
            s,
            "expressway_execution_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sum(|sh| &sh.sum_micros) as f64 / 1e6;
        let _ = writeln!(s, "expressway_execution_duration_seconds_sum {sum}");
        let _ = writeln!(s, "expressway_execution_duration_seconds_count {count}");
        s.push_str("# HELP expressway_states_entered_total States entered, by state type.\n");
        s.push_str("# TYPE expressway_states_entered_total counter\n");
        for (i, kind) in crate::vm::history::STATE_TYPES.iter().enumerate() {
            let _ = writeln!(
                s,
                "expressway_states_entered_total{{state_type=\"{kind}\"}} {}",
                self.sum(|sh| &sh.entered[i])
            );
        }
        s.push_str(
            "# HELP expressway_state_machine_executions_total Executions finished, by state machine and status.\n",
        );
        s.push_str("# TYPE expressway_state_machine_executions_total counter\n");
        let mut machines: HashMap<String, [u64; 3]> = HashMap::new();
        for shard in self.shards.iter() {
            for (name, counts) in lock(&shard.by_machine).iter() {
                let total = machines.entry(name.clone()).or_default();
                for (t, c) in total.iter_mut().zip(counts) {
                    *t += c;
                }
            }
        }
        let mut names: Vec<&String> = machines.keys().collect();
        names.sort();
        for name in names {
            for (status, c) in ["SUCCEEDED", "FAILED", "TIMED_OUT"]
                .iter()
                .zip(machines[name].iter())
            {
                let _ = writeln!(
                    s,
                    "expressway_state_machine_executions_total{{state_machine=\"{}\",status=\"{status}\"}} {c}",
                    label(name),
                );
            }
        }
        s.push_str(
            "# HELP expressway_api_requests_total API requests, by operation and outcome.\n",
        );
        s.push_str("# TYPE expressway_api_requests_total counter\n");
        let names = OPERATIONS.iter().copied().chain(["execute", "unknown"]);
        for (slot, name) in names.enumerate() {
            for (k, outcome) in ["ok", "error"].iter().enumerate() {
                let n = self.sum(|sh| &sh.requests[slot][k]);
                if n > 0 {
                    let _ = writeln!(
                        s,
                        "expressway_api_requests_total{{operation=\"{name}\",outcome=\"{outcome}\"}} {n}"
                    );
                }
            }
        }
        s.push_str("# HELP expressway_request_panics_total Requests whose handler panicked (answered 500).\n");
        s.push_str("# TYPE expressway_request_panics_total counter\n");
        let _ = writeln!(
            s,
            "expressway_request_panics_total {}",
            self.panics.load(Relaxed)
        );
        s
    }
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Outcome;

    fn ended(status: Status, transitions: u64, duration: std::time::Duration) -> Outcome {
        Outcome {
            status,
            output: None,
            error: None,
            cause: None,
            transitions,
            entered: [transitions, 0, 0, 0, 0, 0, 0, 0],
            duration,
            variables: None,
            history: None,
        }
    }

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        let ms = std::time::Duration::from_micros;
        m.execution("a", &ended(Status::Succeeded, 3, ms(200)));
        m.execution("b", &ended(Status::Failed, 1, ms(20_000)));
        let text = m.render();
        assert!(text.contains("expressway_executions_total{status=\"SUCCEEDED\"} 1"));
        assert!(text.contains("expressway_state_transitions_total 4"));
        assert!(text.contains("expressway_execution_duration_seconds_bucket{le=\"0.00025\"} 1"));
        assert!(text.contains("expressway_execution_duration_seconds_bucket{le=\"0.025\"} 2"));
        assert!(text.contains("expressway_execution_duration_seconds_count 2"));
        assert!(text.contains("expressway_states_entered_total{state_type=\"Pass\"} 4"));
        assert!(text.contains(
            "expressway_state_machine_executions_total{state_machine=\"b\",status=\"FAILED\"} 1"
        ));
    }

    #[test]
    fn counts_from_many_threads_add_up() {
        let m = Metrics::default();
        let ms = std::time::Duration::from_micros;
        std::thread::scope(|scope| {
            for t in 0..(SHARDS + 3) {
                let m = &m;
                scope.spawn(move || {
                    for _ in 0..10 {
                        m.execution("x", &ended(Status::Succeeded, 2, ms(50 + t as u64)));
                        m.request("StartSyncExecution", true);
                    }
                });
            }
        });
        let text = m.render();
        let n = 10 * (SHARDS + 3);
        for line in [
            format!("expressway_executions_total{{status=\"SUCCEEDED\"}} {n}"),
            format!("expressway_state_transitions_total {}", 2 * n),
            format!("expressway_execution_duration_seconds_bucket{{le=\"0.0001\"}} {n}"),
            format!("expressway_execution_duration_seconds_count {n}"),
            format!(
                "expressway_state_machine_executions_total{{state_machine=\"x\",status=\"SUCCEEDED\"}} {n}"
            ),
            format!(
                "expressway_api_requests_total{{operation=\"StartSyncExecution\",outcome=\"ok\"}} {n}"
            ),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }

    #[test]
    fn requests_are_counted_by_operation_and_outcome() {
        let m = Metrics::default();
        m.request("execute", true);
        m.request("execute", false);
        m.request("StartSyncExecution", true);
        m.request("NoSuchOperation", false);
        let text = m.render();
        for line in [
            r#"expressway_api_requests_total{operation="execute",outcome="ok"} 1"#,
            r#"expressway_api_requests_total{operation="execute",outcome="error"} 1"#,
            r#"expressway_api_requests_total{operation="StartSyncExecution",outcome="ok"} 1"#,
            r#"expressway_api_requests_total{operation="unknown",outcome="error"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        assert!(!text.contains("gateway"), "{text}");
    }
}
