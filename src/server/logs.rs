//! Execution logs as CloudWatch Logs would receive them from Step Functions, since an Express
//! execution's history exists only there: one JSON line per event, filtered by the machine's
//! `loggingConfiguration` (`ALL` logs every event, `ERROR` and `FATAL` only the failures; `OFF`
//! nothing) and stripped of input/output unless `includeExecutionData` is true.

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::backend::{ExecResult, ExecStatus};
use super::registry::lock;

/// Where log lines go: stderr, or a file given with `--log-file`.
pub struct ExecLog {
    /// Serialises whole lines from concurrent executions.
    sink: Mutex<Box<dyn Write + Send>>,
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

impl ExecLog {
    /// A log writing to `sink`.
    pub fn new(sink: Box<dyn Write + Send>) -> ExecLog {
        ExecLog {
            sink: Mutex::new(sink),
        }
    }

    /// A log that writes to stderr.
    pub fn stderr() -> ExecLog {
        ExecLog::new(Box::new(std::io::stderr()))
    }

    fn level(ctx: &LogContext) -> (&'static str, bool) {
        let Some(l) = ctx.logging else {
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

    /// Writes the started and finished events of one execution, as its configuration asks.
    pub fn execution(&self, ctx: &LogContext, result: &ExecResult) {
        let (level, data) = Self::level(ctx);
        if level == "OFF" {
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
        let mut sink = lock(&self.sink);
        for l in lines {
            let _ = writeln!(sink, "{l}");
        }
        let _ = sink.flush();
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
            duration: Duration::from_millis(5),
            variables: None,
        };
        log.execution(&ctx, &result);
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
}
