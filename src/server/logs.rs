//! Execution logs as CloudWatch Logs would receive them from Step Functions, since an Express
//! execution's history exists only there: one JSON line per event, filtered by the machine's
//! `loggingConfiguration` (`ALL` logs every event, `ERROR` and `FATAL` only the failures; `OFF`
//! nothing) and stripped of input/output unless `includeExecutionData` is true.

use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::registry::lock;
use crate::engine::{Outcome as ExecResult, Status as ExecStatus};
use crate::vm::HistoryEvent;
use crate::vm::history::PAYLOAD_KEYS;

/// Executions' lines queued for the writer before a producer waits for it: a burst of
/// executions never waits on the disk, a sustained flood is slowed to the disk's pace rather
/// than buffered without bound.
const QUEUE: usize = 16_384;

/// Where log lines go: stderr, or a file given with `--log-file`. Lines are formatted and
/// written on a thread of their own, off the request path.
pub struct ExecLog {
    /// To the writer thread; a std mutex only to make the sender `Sync`, held for one send.
    tx: Mutex<SyncSender<Job>>,
}

/// One execution's events for the writer, or a request to report when all before it are out.
enum Job {
    Events {
        execution_arn: String,
        data: bool,
        level: &'static str,
        events: Vec<HistoryEvent>,
    },
    /// Without a history (recording was off): the started and finished lines from the result.
    Summary(Vec<String>),
    Flush(SyncSender<()>),
}

/// What one execution's log lines say about it.
pub struct LogContext<'a> {
    pub logging: Option<&'a Value>,
    pub execution_arn: &'a str,
    pub role_arn: &'a str,
    pub input: &'a str,
    pub start: SystemTime,
}

fn millis(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .to_string()
}

/// Whether a logging configuration at `level` writes an event of type `kind`: `ALL` every
/// event, `ERROR` the failures of every kind, `FATAL` only how the execution failed.
fn logged_at(level: &str, kind: &str) -> bool {
    match level {
        "ALL" => true,
        "ERROR" => {
            kind.ends_with("Failed") || kind.ends_with("TimedOut") || kind.ends_with("Aborted")
        }
        "FATAL" => matches!(
            kind,
            "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted"
        ),
        _ => false,
    }
}

fn writer(rx: Receiver<Job>, mut sink: Box<dyn Write + Send>) {
    for job in rx {
        match job {
            Job::Events {
                execution_arn,
                data,
                level,
                events,
            } => {
                for e in events.iter().filter(|e| logged_at(level, e.kind)) {
                    let _ = writeln!(sink, "{}", event_line(&execution_arn, data, e));
                }
            }
            Job::Summary(lines) => {
                for l in lines {
                    let _ = writeln!(sink, "{l}");
                }
            }
            Job::Flush(done) => {
                let _ = sink.flush();
                let _ = done.send(());
            }
        }
        let _ = sink.flush();
    }
}

/// An event's `details` as AWS shows them: payloads as JSON text, the rest as JSON; without
/// `data` (`includeExecutionData`) the payloads stay out (their `…Details` stay in).
pub(super) fn details_json(e: &HistoryEvent, data: bool) -> serde_json::Map<String, Value> {
    let mut details = serde_json::Map::new();
    for (k, v) in &e.details {
        let payload = PAYLOAD_KEYS.contains(k);
        if payload && !data {
            continue;
        }
        let v = if payload {
            Value::String(v.to_json())
        } else {
            v.to_serde()
        };
        details.insert(k.to_string(), v);
    }
    details
}

/// One event as CloudWatch Logs receives it from Step Functions.
fn event_line(execution_arn: &str, data: bool, e: &HistoryEvent) -> String {
    let details = details_json(e, data);
    json!({
        "id": e.id.to_string(),
        "type": e.kind,
        "details": details,
        "previous_event_id": e.previous_event_id.to_string(),
        "event_timestamp": millis(e.timestamp),
        "execution_arn": execution_arn,
    })
    .to_string()
}

impl ExecLog {
    /// A log writing to `sink` on a thread of its own.
    pub fn new(sink: Box<dyn Write + Send>) -> ExecLog {
        let (tx, rx) = sync_channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("expressway-log".into())
            .spawn(move || writer(rx, sink));
        if let Err(e) = spawned {
            // The receiver is gone with the closure: sends fail and lines are dropped.
            eprintln!("expressway: no thread for the execution log ({e}); logging is off");
        }
        ExecLog { tx: Mutex::new(tx) }
    }

    /// A log that writes to stderr.
    pub fn stderr() -> ExecLog {
        ExecLog::new(Box::new(std::io::stderr()))
    }

    /// The configured level and `includeExecutionData`.
    fn level(logging: Option<&Value>) -> (&'static str, bool) {
        let Some(l) = logging else {
            return ("OFF", false);
        };
        let level = match l.get("level").and_then(Value::as_str) {
            Some("ALL") => "ALL",
            Some("ERROR") => "ERROR",
            Some("FATAL") => "FATAL",
            _ => "OFF",
        };
        let data = l.get("includeExecutionData").and_then(Value::as_bool) == Some(true);
        (level, data)
    }

    /// Whether executions under `logging` should record their history events.
    pub fn wants_history(logging: Option<&Value>) -> bool {
        Self::level(logging).0 != "OFF"
    }

    fn send(&self, job: Job) {
        let _ = lock(&self.tx).send(job);
    }

    /// Returns once every line queued before it is written.
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        self.send(Job::Flush(done));
        let _ = wait.recv();
    }

    /// Queues one execution's events, as its configuration asks: every history event when the
    /// execution recorded them, else its started and finished lines.
    pub fn execution(&self, ctx: &LogContext, result: &ExecResult) {
        let (level, data) = Self::level(ctx.logging);
        if level == "OFF" {
            return;
        }
        if let Some(events) = &result.history {
            self.send(Job::Events {
                execution_arn: ctx.execution_arn.to_string(),
                data,
                level,
                events: events.clone(),
            });
            return;
        }
        let failure = result.status != ExecStatus::Succeeded;
        if level != "ALL" && !failure {
            return;
        }
        let mut lines = Vec::new();
        if level == "ALL" {
            let mut details =
                json!({"roleArn": ctx.role_arn, "inputDetails": {"truncated": false}});
            if data {
                details["input"] = json!(ctx.input);
            }
            lines.push(self.line(ctx, 1, "ExecutionStarted", ctx.start, details));
        }
        let end = ctx.start + result.duration;
        let (kind, details) = match result.status {
            ExecStatus::Succeeded => {
                let mut d = json!({"outputDetails": {"truncated": false}});
                if data {
                    d["output"] = json!(result.output.as_deref().unwrap_or("null"));
                }
                ("ExecutionSucceeded", d)
            }
            ExecStatus::Failed => (
                "ExecutionFailed",
                json!({"error": result.error, "cause": result.cause}),
            ),
            ExecStatus::TimedOut => (
                "ExecutionTimedOut",
                json!({"error": result.error.as_deref().unwrap_or("States.Timeout"), "cause": result.cause}),
            ),
        };
        let id = if level == "ALL" { 2 } else { 1 };
        lines.push(self.line(ctx, id, kind, end, details));
        self.send(Job::Summary(lines));
    }

    fn line(
        &self,
        ctx: &LogContext,
        id: u64,
        kind: &str,
        at: SystemTime,
        details: Value,
    ) -> String {
        json!({
            "id": id.to_string(),
            "type": kind,
            "details": details,
            "previous_event_id": (id - 1).to_string(),
            "event_timestamp": millis(at),
            "execution_arn": ctx.execution_arn,
        })
        .to_string()
    }
}

/// Execution log files in a directory, rotated by size: lines go to `executions.log`; once it
/// holds `max_bytes`, at the next flush (the log thread flushes after each execution's lines, so
/// a line is never split across files) it becomes `executions.log.1`, older files shift up, and
/// at most `keep` of them are kept. The command line's `--log-dir` is its only user.
#[cfg(feature = "cli")]
pub struct RotatingDir {
    dir: std::path::PathBuf,
    max_bytes: u64,
    keep: usize,
    file: std::fs::File,
    written: u64,
}

#[cfg(feature = "cli")]
impl RotatingDir {
    /// Creates `dir` if needed and appends to its `executions.log`.
    pub fn open(
        dir: &std::path::Path,
        max_bytes: u64,
        keep: usize,
    ) -> std::io::Result<RotatingDir> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("executions.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(RotatingDir {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(1),
            keep,
            file,
            written,
        })
    }

    fn name(&self, n: usize) -> std::path::PathBuf {
        match n {
            0 => self.dir.join("executions.log"),
            n => self.dir.join(format!("executions.log.{n}")),
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        if self.keep == 0 {
            std::fs::remove_file(self.name(0))?;
        } else {
            let _ = std::fs::remove_file(self.name(self.keep));
            for n in (1..self.keep).rev() {
                if self.name(n).exists() {
                    std::fs::rename(self.name(n), self.name(n + 1))?;
                }
            }
            std::fs::rename(self.name(0), self.name(1))?;
        }
        self.file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.name(0))?;
        self.written = 0;
        Ok(())
    }
}

#[cfg(feature = "cli")]
impl Write for RotatingDir {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        if self.written >= self.max_bytes {
            self.rotate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(config: Value, status: ExecStatus) -> Vec<Value> {
        let buf = Buf::default();
        let log = ExecLog::new(Box::new(buf.clone()));
        let ctx = LogContext {
            logging: Some(&config),
            execution_arn: "arn",
            role_arn: "role",
            input: "{\"a\":1}",
            start: UNIX_EPOCH,
        };
        let result = ExecResult {
            status,
            output: Some("{}".into()),
            error: Some("E".into()),
            cause: None,
            transitions: 1,
            entered: [0; 8],
            duration: Duration::from_millis(5),
            variables: None,
            history: None,
        };
        log.execution(&ctx, &result);
        log.flush();
        let text = String::from_utf8(lock(&buf.0).clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn levels_filter_events() {
        let all = logged(
            json!({"level":"ALL","includeExecutionData":true}),
            ExecStatus::Succeeded,
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["details"]["input"], "{\"a\":1}");
        assert_eq!(all[1]["type"], "ExecutionSucceeded");
        assert_eq!(all[1]["event_timestamp"], "5");
        let no_data = logged(json!({"level":"ALL"}), ExecStatus::Succeeded);
        assert!(no_data[0]["details"].get("input").is_none());
        assert!(logged(json!({"level":"ERROR"}), ExecStatus::Succeeded).is_empty());
        assert_eq!(
            logged(json!({"level":"FATAL"}), ExecStatus::Failed)[0]["type"],
            "ExecutionFailed"
        );
        assert!(logged(json!({"level":"OFF"}), ExecStatus::Failed).is_empty());
    }

    #[test]
    fn history_events_filtered_by_level_and_data() {
        use crate::value::Value as V;
        use crate::vm::history::details;
        let h = crate::vm::History::new();
        let input = crate::value::parse("{\"a\":1}").unwrap();
        h.record(
            0,
            UNIX_EPOCH,
            "ExecutionStarted",
            details([("input", input.clone())]),
        );
        h.record(
            1,
            UNIX_EPOCH,
            "TaskStateEntered",
            details([("input", input)]),
        );
        h.record(
            2,
            UNIX_EPOCH,
            "TaskFailed",
            details([("error", V::String("E".into()))]),
        );
        h.record(
            3,
            UNIX_EPOCH,
            "ExecutionFailed",
            details([("error", V::String("E".into()))]),
        );
        let lines = |config: Value| {
            let buf = Buf::default();
            let log = ExecLog::new(Box::new(buf.clone()));
            let ctx = LogContext {
                logging: Some(&config),
                execution_arn: "arn",
                role_arn: "role",
                input: "{}",
                start: UNIX_EPOCH,
            };
            let result = ExecResult {
                status: ExecStatus::Failed,
                output: None,
                error: Some("E".into()),
                cause: None,
                transitions: 1,
                entered: [0; 8],
                duration: Duration::from_millis(5),
                variables: None,
                history: Some(h.events()),
            };
            log.execution(&ctx, &result);
            log.flush();
            let text = String::from_utf8(lock(&buf.0).clone()).unwrap();
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        };
        let all = lines(json!({"level": "ALL", "includeExecutionData": true}));
        let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "TaskFailed",
                "ExecutionFailed"
            ]
        );
        assert_eq!(all[1]["details"]["input"], "{\"a\":1}");
        assert_eq!(all[2]["previous_event_id"], "2");
        let no_data = lines(json!({"level": "ALL"}));
        assert!(no_data[1]["details"].get("input").is_none());
        let errors = lines(json!({"level": "ERROR"}));
        let types: Vec<&str> = errors.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["TaskFailed", "ExecutionFailed"]);
        let fatal = lines(json!({"level": "FATAL"}));
        assert_eq!(fatal.len(), 1);
        assert!(lines(json!({"level": "OFF"})).is_empty());
    }

    #[test]
    #[cfg(feature = "cli")]
    fn a_rotating_directory_keeps_whole_lines_in_a_bounded_number_of_files() {
        let dir = std::env::temp_dir().join(format!("expressway-logdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut sink = RotatingDir::open(&dir, 200, 2).unwrap();
        for i in 0..50 {
            writeln!(sink, "{{\"line\":{i},\"pad\":\"{}\"}}", "x".repeat(40)).unwrap();
            sink.flush().unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["executions.log", "executions.log.1", "executions.log.2"]
        );
        let mut lines = 0;
        for n in &names {
            let text = std::fs::read_to_string(dir.join(n)).unwrap();
            assert!(text.len() < 400, "{n}: {} bytes", text.len());
            for l in text.lines() {
                serde_json::from_str::<Value>(l).expect("whole JSON lines");
                lines += 1;
            }
        }
        // The newest lines are kept, the oldest rotated away.
        let newest = std::fs::read_to_string(dir.join("executions.log.1")).unwrap();
        assert!(lines < 50 && newest.contains("\"line\":4"), "{newest}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
