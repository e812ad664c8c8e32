//! Prometheus metrics: executions by status (and by state machine), state transitions (and
//! states entered by type), an execution latency histogram, and API requests by operation.
//! Counters are atomics; the per-machine ones sit in a map behind a read-mostly lock taken for
//! one lookup (a write only for a machine's first execution).

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use super::OPERATIONS;
use super::backend::ExecStatus;

/// Request counters: one slot per operation, then the `/execute/{name}` route, then unknown targets.
const SLOTS: usize = OPERATIONS.len() + 2;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0,
];

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    succeeded: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    aborted: AtomicU64,
    transitions: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
    /// Requests by operation slot, `[ok, error]`.
    requests: [[AtomicU64; 2]; SLOTS],
    /// Requests whose handler panicked (answered 500 `InternalFailure`).
    panics: AtomicU64,
    /// States entered, by type (`vm::history::STATE_TYPES` order).
    entered: [AtomicU64; 8],
    /// Executions by state machine name: `[SUCCEEDED, FAILED, TIMED_OUT]`.
    by_machine: RwLock<HashMap<String, Arc<[AtomicU64; 3]>>>,
}

impl Metrics {
    /// Records one finished execution.
    pub fn execution(&self, machine: &str, result: &super::backend::ExecResult) {
        let (status, transitions, duration) = (result.status, result.transitions, result.duration);
        match status {
            ExecStatus::Succeeded => &self.succeeded,
            ExecStatus::Failed => &self.failed,
            ExecStatus::TimedOut => &self.timed_out,
        }
        .fetch_add(1, Relaxed);
        for (total, n) in self.entered.iter().zip(result.entered) {
            if n > 0 {
                total.fetch_add(n, Relaxed);
            }
        }
        let slot = match status {
            ExecStatus::Succeeded => 0,
            ExecStatus::Failed => 1,
            ExecStatus::TimedOut => 2,
        };
        let known = self
            .by_machine
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(machine)
            .cloned();
        let counters = known.unwrap_or_else(|| {
            self.by_machine
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(machine.to_string())
                .or_default()
                .clone()
        });
        counters[slot].fetch_add(1, Relaxed);
        self.transitions.fetch_add(transitions, Relaxed);
        let secs = duration.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.sum_micros
            .fetch_add(duration.as_micros() as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
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
        self.requests[slot][usize::from(!ok)].fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP expressway_executions_total Executions finished, by status.\n");
        s.push_str("# TYPE expressway_executions_total counter\n");
        for (status, c) in [
            ("SUCCEEDED", &self.succeeded),
            ("FAILED", &self.failed),
            ("TIMED_OUT", &self.timed_out),
            ("ABORTED", &self.aborted),
        ] {
            let _ = writeln!(
                s,
                "expressway_executions_total{{status=\"{status}\"}} {}",
                c.load(Relaxed)
            );
        }
        s.push_str("# HELP expressway_state_transitions_total State transitions run.\n");
        s.push_str("# TYPE expressway_state_transitions_total counter\n");
        let _ = writeln!(
            s,
            "expressway_state_transitions_total {}",
            self.transitions.load(Relaxed)
        );
        s.push_str("# HELP expressway_execution_duration_seconds Execution latency.\n");
        s.push_str("# TYPE expressway_execution_duration_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "expressway_execution_duration_seconds_bucket{{le=\"{b}\"}} {}",
                self.buckets[i].load(Relaxed)
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(
            s,
            "expressway_execution_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(s, "expressway_execution_duration_seconds_sum {sum}");
        let _ = writeln!(s, "expressway_execution_duration_seconds_count {count}");
        s.push_str("# HELP expressway_states_entered_total States entered, by state type.\n");
        s.push_str("# TYPE expressway_states_entered_total counter\n");
        for (kind, c) in crate::vm::history::STATE_TYPES.iter().zip(&self.entered) {
            let _ = writeln!(
                s,
                "expressway_states_entered_total{{state_type=\"{kind}\"}} {}",
                c.load(Relaxed)
            );
        }
        s.push_str(
            "# HELP expressway_state_machine_executions_total Executions finished, by state machine and status.\n",
        );
        s.push_str("# TYPE expressway_state_machine_executions_total counter\n");
        let machines = self.by_machine.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = machines.keys().collect();
        names.sort();
        for name in names {
            for (status, c) in ["SUCCEEDED", "FAILED", "TIMED_OUT"]
                .iter()
                .zip(machines[name].iter())
            {
                let _ = writeln!(
                    s,
                    "expressway_state_machine_executions_total{{state_machine=\"{}\",status=\"{status}\"}} {}",
                    label(name),
                    c.load(Relaxed)
                );
            }
        }
        drop(machines);
        s.push_str(
            "# HELP expressway_api_requests_total API requests, by operation and outcome.\n",
        );
        s.push_str("# TYPE expressway_api_requests_total counter\n");
        let names = OPERATIONS.iter().copied().chain(["execute", "unknown"]);
        for (name, counts) in names.zip(self.requests.iter()) {
            for (outcome, c) in ["ok", "error"].iter().zip(counts) {
                let n = c.load(Relaxed);
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
    use super::super::backend::ExecResult;
    use super::*;

    fn ended(status: ExecStatus, transitions: u64, duration: std::time::Duration) -> ExecResult {
        ExecResult {
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
        m.execution("a", &ended(ExecStatus::Succeeded, 3, ms(200)));
        m.execution("b", &ended(ExecStatus::Failed, 1, ms(20_000)));
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
