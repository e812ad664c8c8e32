//! Execution operations: StartSyncExecution, StartExecution, DescribeExecution, StopExecution,
//! GetExecutionHistory, ListExecutions, DescribeStateMachineForExecution.
//!
//! Express executions keep no history: StartExecution runs them in the background (their trace is
//! the execution log), and Describe/Stop/GetExecutionHistory on an `express:` ARN answer
//! `InvalidArn` as AWS does. STANDARD machines are accepted too; their executions are kept in
//! the registry's bounded store and can be described, listed and stopped.
//!
//! In: a parsed request (or StartSyncExecution's raw body), the registry and the engine. Out: the
//! answer's JSON (or text, on StartSyncExecution's fast path) or an `ApiError`; each execution's
//! metrics and log lines on the way.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::Server;
use super::logs::LogContext;
use super::protocol::{
    ApiError, OpResult, Req, epoch, invalid_name, no_machine, paged, valid_name,
};
use super::registry::{ExecRecord, ExecState, Kind, lock};
use super::versions::{Target, resolve};
use crate::engine::{ExecutionMeta, Outcome};

/// Largest execution input (256 KiB), as the service model bounds `input`.
pub const MAX_INPUT: usize = 262_144;

/// The checked members of a start request.
struct Start {
    target: Target,
    name: String,
    /// The input's text, and the value the engine runs (parsed once, here).
    input: String,
    value: crate::value::Value,
    /// A Step Functions Local mock test case, from `…:stateMachine:<sm>#<case>`.
    test_case: Option<String>,
    /// Record the history events (for the console) even if the machine does not log.
    trace: bool,
}

/// A JSON document checked the way the engine will parse it, without building it: serde_json's
/// rules (the engine's parser accepts exactly those), so a lone surrogate escape (`"\ud800"`), a
/// number beyond `f64` (`1e400`) or nesting past 128 levels is refused at the API with
/// `InvalidExecutionInput` rather than failing the execution. (`IgnoredAny` skips all three.)
/// Only the error path runs it now, for serde_json's message.
struct CheckedJson;

impl<'de> serde::Deserialize<'de> for CheckedJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CheckedJson, D::Error> {
        d.deserialize_any(CheckedJson)
    }
}

impl<'de> serde::de::Visitor<'de> for CheckedJson {
    type Value = CheckedJson;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<CheckedJson, E> {
        Ok(CheckedJson)
    }
    fn visit_i64<E>(self, _: i64) -> Result<CheckedJson, E> {
        Ok(CheckedJson)
    }
    fn visit_u64<E>(self, _: u64) -> Result<CheckedJson, E> {
        Ok(CheckedJson)
    }
    fn visit_f64<E>(self, _: f64) -> Result<CheckedJson, E> {
        Ok(CheckedJson)
    }
    fn visit_str<E>(self, _: &str) -> Result<CheckedJson, E> {
        Ok(CheckedJson)
    }
    fn visit_unit<E>(self) -> Result<CheckedJson, E> {
        Ok(CheckedJson)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<CheckedJson, A::Error> {
        while a.next_element::<CheckedJson>()?.is_some() {}
        Ok(CheckedJson)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<CheckedJson, A::Error> {
        while a.next_entry::<CheckedJson, CheckedJson>()?.is_some() {}
        Ok(CheckedJson)
    }
}

/// The members of a start request before the registry is asked: borrowed from the request,
/// whichever way it was decoded.
pub(super) struct StartArgs<'a> {
    arn: &'a str,
    name: Option<&'a str>,
    input: Cow<'a, str>,
    /// `input` as it was written in the body (a JSON string literal), echoed back verbatim in the
    /// answer instead of escaping the text again.
    input_literal: Option<&'a str>,
    included: Option<&'a str>,
}

/// A scanner for StartSyncExecution's (and StartExecution's) body as the common request spells
/// it: one object of the five members, none repeated, each a string or `null`, the ARN, name,
/// trace header and `includedData` without escapes. Anything else (including anything invalid,
/// however slightly) is `None`, and the general decode (`protocol::parse_body` and `Req`) takes
/// the request and words its error. PERF: replaced a serde derive with a borrowed raw value
/// (serde_json scanned the input literal twice, then unescaped it one escape at a time).
struct Scan<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == b).then(|| self.pos += 1)
    }

    /// A string literal starting here: the literal (quotes included) and whether it holds an
    /// escape. Raw control characters and malformed escapes are refused; `\u` escapes are
    /// checked when decoded.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        if bytes.get(start) != Some(&b'"') {
            return None;
        }
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match *bytes.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' => {
                            let hex = bytes.get(i + 2..i + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                b if b < 0x20 => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Some((&self.text[start..=i], escaped))
    }
}

/// The text of a string literal that holds escapes (all well-formed: `Scan::string` checked),
/// or `None` for a lone or misordered surrogate, which serde_json refuses.
fn unescape(literal: &str) -> Option<String> {
    let inner = &literal[1..literal.len() - 1];
    let bytes = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut run = 0;
    let mut i = 0;
    let hex = |at: usize| u32::from_str_radix(inner.get(at..at + 4)?, 16).ok();
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&inner[run..i]);
        let c = match bytes[i + 1] {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            _ => {
                let unit = hex(i + 2)?;
                i += 4;
                if (0xD800..0xDC00).contains(&unit) {
                    if inner.get(i + 2..i + 4) != Some("\\u") {
                        return None;
                    }
                    let low = hex(i + 4)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    i += 6;
                    char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                } else {
                    char::from_u32(unit)?
                }
            }
        };
        out.push(c);
        i += 2;
        run = i;
    }
    out.push_str(&inner[run..]);
    Some(out)
}

/// Whether `s` has between `min` and `max` characters (the model counts characters).
fn chars_within(s: &str, min: usize, max: usize) -> bool {
    // The byte length bounds the character count from above: most strings need no count.
    if s.len() >= min.saturating_mul(4) && s.len() <= max {
        return true;
    }
    (min..=max).contains(&s.chars().count())
}

impl<'a> StartArgs<'a> {
    /// The one-pass decode of a well-formed start request, or `None` for the general path. Every
    /// check the general path makes holds for what this accepts, so both answer alike.
    pub(super) fn decode(body: &'a [u8]) -> Option<StartArgs<'a>> {
        let text = std::str::from_utf8(body).ok()?;
        let mut scan = Scan { text, pos: 0 };
        scan.eat(b'{')?;
        // Members seen: stateMachineArn, name, input, traceHeader, includedData.
        let mut seen = [false; 5];
        let mut members: [Option<(&'a str, bool)>; 5] = [None; 5];
        scan.skip_ws();
        if scan.peek()? != b'}' {
            loop {
                scan.skip_ws();
                let (key, escaped) = scan.string()?;
                if escaped {
                    return None;
                }
                let slot = match key {
                    "\"stateMachineArn\"" => 0,
                    "\"name\"" => 1,
                    "\"input\"" => 2,
                    "\"traceHeader\"" => 3,
                    "\"includedData\"" => 4,
                    _ => return None,
                };
                if std::mem::replace(&mut seen[slot], true) {
                    return None;
                }
                scan.eat(b':')?;
                scan.skip_ws();
                if scan.text[scan.pos..].starts_with("null") {
                    scan.pos += 4;
                } else {
                    members[slot] = Some(scan.string()?);
                }
                scan.skip_ws();
                match scan.peek()? {
                    b',' => scan.pos += 1,
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        scan.pos += 1;
        scan.skip_ws();
        if scan.pos != text.len() {
            return None;
        }
        // The members other than `input`, without their quotes; escapes go the general way.
        let plain = |m: Option<(&'a str, bool)>| -> Option<Option<&'a str>> {
            match m {
                None => Some(None),
                Some((_, true)) => None,
                Some((lit, false)) => Some(Some(&lit[1..lit.len() - 1])),
            }
        };
        let arn = plain(members[0])?.filter(|a| chars_within(a, 1, 256))?;
        let name = plain(members[1])?;
        if let Some(n) = name
            && !(chars_within(n, 1, 80) && valid_name(n))
        {
            return None;
        }
        if plain(members[3])?.is_some_and(|t| !chars_within(t, 0, 256)) {
            return None;
        }
        let included = plain(members[4])?;
        if included.is_some_and(|i| i != "ALL_DATA" && i != "METADATA_ONLY") {
            return None;
        }
        let (input, input_literal) = match members[2] {
            None => (Cow::Borrowed("{}"), None),
            Some((lit, false)) => (Cow::Borrowed(&lit[1..lit.len() - 1]), Some(lit)),
            Some((lit, true)) => (Cow::Owned(unescape(lit)?), Some(lit)),
        };
        if !chars_within(&input, 0, MAX_INPUT) {
            return None;
        }
        Some(StartArgs {
            arn,
            name,
            input,
            input_literal,
            included,
        })
    }

    /// The members through `Req`'s checks, in the order they have always been made.
    pub(super) fn from_req(r: &Req<'a>, with_included: bool) -> Result<StartArgs<'a>, ApiError> {
        let included = if with_included {
            r.opt_enum("includedData", &["ALL_DATA", "METADATA_ONLY"])?
        } else {
            None
        };
        let arn = r.str("stateMachineArn", 1, 256)?;
        let name = r.opt_str("name", 1, 80)?;
        let input = r.opt_str("input", 0, MAX_INPUT)?.unwrap_or("{}");
        r.opt_str("traceHeader", 0, 256)?;
        Ok(StartArgs {
            arn,
            name,
            input: Cow::Borrowed(input),
            input_literal: None,
            included,
        })
    }
}

/// `InvalidExecutionInput` for an input that is not JSON, in serde_json's words.
#[cold]
fn invalid_input(input: &str, ours: crate::value::ParseError) -> ApiError {
    let e = match serde_json::from_str::<CheckedJson>(input) {
        Err(e) => e.to_string(),
        Ok(_) => ours.0,
    };
    ApiError::sfn(
        "InvalidExecutionInput",
        format!("Invalid State Machine Execution Input: '{e}'"),
    )
}

fn parse_start(server: &Server, args: StartArgs) -> Result<Start, ApiError> {
    if let Some(n) = args.name
        && !valid_name(n)
    {
        return Err(invalid_name(n));
    }
    // PERF: the input is parsed once, here, and the engine runs the value (it was checked with
    // serde_json, copied, then parsed again by the engine).
    let value = match crate::value::parse(&args.input) {
        Ok(v) => v,
        Err(e) => return Err(invalid_input(&args.input, e)),
    };
    let (arn, test_case) = split_test_case(args.arn);
    let target = resolve(server, arn)?;
    if let Some(case) = test_case
        && !server
            .engine
            .tasks()
            .mock_config()
            .is_some_and(|c| c.has_test_case(&target.name, case))
    {
        // Step Functions Local runs `<machine ARN>#<case>` only with a mock configuration
        // holding that case; anything else is not a state machine ARN.
        return Err(ApiError::sfn(
            "InvalidArn",
            format!(
                "Invalid Arn: 'Test case {case} not found for state machine {}: no mock configuration holds it'",
                target.name
            ),
        ));
    }
    let name = match args.name {
        Some(n) => n.to_string(),
        None => super::ids::uuid_string(),
    };
    Ok(Start {
        target,
        name,
        input: args.input.into_owned(),
        value,
        test_case: test_case.map(str::to_string),
        trace: server.console.trace_all,
    })
}

fn meta(start: &Start, execution_arn: &str, now: SystemTime, asynchronous: bool) -> ExecutionMeta {
    let logging = start.target.revision.logging.as_ref();
    ExecutionMeta {
        history: start.trace || super::logs::ExecLog::wants_history(logging),
        execution_arn: execution_arn.to_string(),
        name: start.name.clone(),
        state_machine_arn: start.target.machine_arn.clone(),
        state_machine_name: start.target.name.clone(),
        role_arn: start.target.revision.role_arn.clone(),
        start_time: now,
        test_case: start.test_case.clone(),
        asynchronous,
        standard: start.target.kind == Kind::Standard,
        skip_waits: false,
        variables: None,
    }
}

/// Splits a Step Functions Local state machine ARN `…:stateMachine:<sm>#<case>` into the ARN and
/// the test case, because StartExecution selects a mock test case that way.
fn split_test_case(arn: &str) -> (&str, Option<&str>) {
    match arn.split_once('#') {
        Some((sm, case)) if !case.is_empty() => (sm, Some(case)),
        Some((sm, _)) => (sm, None),
        None => (arn, None),
    }
}

/// Runs one execution on the engine, records its metrics and writes its log lines.
async fn run(
    server: &Arc<Server>,
    start: &Start,
    arn: &str,
    now: SystemTime,
    asynchronous: bool,
) -> Outcome {
    let program = start.target.revision.program.clone();
    // PERF: the engine's own future, neither boxed nor behind a downcast of a type-erased
    // program: StartSyncExecution of w1_pass_chain 112.1 k / 112.4 k → 111.4 k / 111.7 k
    // instructions per request (scripts/profile-serve.sh, 2000 requests, two runs each).
    let result = server
        .engine
        .execute_parsed(
            program,
            start.value.clone(),
            start.input.len(),
            meta(start, arn, now, asynchronous),
        )
        .await;
    server.metrics.execution(&start.target.name, &result);
    let ctx = LogContext {
        logging: start.target.revision.logging.as_ref(),
        execution_arn: arn,
        role_arn: &start.target.revision.role_arn,
        input: &start.input,
        start: now,
    };
    server.logs.execution(&ctx, &result);
    result
}

/// Express billing: duration rounded up to 100 ms, memory in 64 MB steps.
fn billed_ms(duration: Duration) -> u64 {
    let ms = duration.as_millis() as u64;
    ms.div_ceil(100).max(1) * 100
}

/// A finished synchronous execution: what StartSyncExecution answers, `/execute` and the
/// console's start turn into their own shapes.
pub(super) struct SyncAnswer {
    pub arn: String,
    machine: String,
    machine_arn: String,
    name: String,
    start: SystemTime,
    pub result: Outcome,
    /// `includedData` is not `METADATA_ONLY`: the answer carries input and output.
    data: bool,
    input: String,
}

impl SyncAnswer {
    /// StartSyncExecution's answer as a JSON value.
    pub fn to_value(&self) -> Value {
        let r = &self.result;
        let mut out = json!({
            "executionArn": self.arn,
            "stateMachineArn": self.machine_arn,
            "name": self.name,
            "startDate": epoch(self.start),
            "stopDate": epoch(self.start + r.duration),
            "status": r.status.as_str(),
            "inputDetails": {"included": self.data},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed_ms(r.duration)},
        });
        if self.data {
            out["input"] = json!(self.input);
        }
        if let Some(o) = r.output.as_ref().filter(|_| self.data) {
            out["output"] = json!(o);
            out["outputDetails"] = json!({"included": true});
        }
        if let Some(e) = &r.error {
            out["error"] = json!(e);
        }
        if let Some(c) = &r.cause {
            out["cause"] = json!(c);
        }
        out
    }

    /// The same answer written straight as JSON text, member for member what `to_value`
    /// serializes to; `input_literal` (the request's own `input` literal) is echoed as it came.
    pub fn write_json(&self, input_literal: Option<&str>) -> String {
        use crate::value::write_str;
        let r = &self.result;
        let payload = self.input.len() + r.output.as_ref().map_or(0, String::len);
        let mut out = String::with_capacity(384 + self.arn.len() * 2 + payload + payload / 8);
        out.push_str("{\"executionArn\":");
        write_str(&mut out, &self.arn);
        out.push_str(",\"stateMachineArn\":");
        write_str(&mut out, &self.machine_arn);
        out.push_str(",\"name\":");
        write_str(&mut out, &self.name);
        out.push_str(",\"startDate\":");
        write_epoch(&mut out, self.start);
        out.push_str(",\"stopDate\":");
        write_epoch(&mut out, self.start + r.duration);
        out.push_str(",\"status\":\"");
        out.push_str(r.status.as_str());
        out.push_str("\",\"inputDetails\":{\"included\":");
        out.push_str(if self.data { "true" } else { "false" });
        out.push_str(
            "},\"billingDetails\":{\"billedMemoryUsedInMB\":64,\"billedDurationInMilliseconds\":",
        );
        out.push_str(itoa::Buffer::new().format(billed_ms(r.duration)));
        out.push('}');
        if self.data {
            out.push_str(",\"input\":");
            match input_literal {
                Some(lit) => out.push_str(lit),
                None => write_str(&mut out, &self.input),
            }
            if let Some(o) = &r.output {
                out.push_str(",\"output\":");
                write_str(&mut out, o);
                out.push_str(",\"outputDetails\":{\"included\":true}");
            }
        }
        if let Some(e) = &r.error {
            out.push_str(",\"error\":");
            write_str(&mut out, e);
        }
        if let Some(c) = &r.cause {
            out.push_str(",\"cause\":");
            write_str(&mut out, c);
        }
        out.push('}');
        out
    }

    /// Hands the execution to the console's ring (moved, not copied: the answer is written).
    pub fn record(self, server: &Server) -> u64 {
        server
            .console
            .record(self.machine, self.arn, self.input, self.start, self.result)
    }
}

/// `epoch` written as serde_json writes that number.
fn write_epoch(out: &mut String, t: SystemTime) {
    match epoch(t) {
        Value::Number(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        _ => out.push_str("null"),
    }
}

/// StartSyncExecution: runs an EXPRESS execution to completion and answers with its result.
pub async fn start_sync(server: &Arc<Server>, r: &Req<'_>) -> OpResult {
    let args = StartArgs::from_req(r, true)?;
    let answer = run_to_end(server, args, false, false).await?;
    let out = answer.to_value();
    answer.record(server);
    Ok(out)
}

/// StartSyncExecution's work; `any_type` lets a STANDARD machine run too (the `/execute`
/// route: a Standard execution waiting on a task token answers once the token is answered);
/// `trace` records the execution's history events (the console's own starts), as the
/// machine's logging or `--ui-trace` also do. The caller records the answer in the console.
pub(super) async fn run_to_end(
    server: &Arc<Server>,
    args: StartArgs<'_>,
    any_type: bool,
    trace: bool,
) -> Result<SyncAnswer, ApiError> {
    let included = args.included;
    let mut start = parse_start(server, args)?;
    start.trace |= trace;
    let arn = match start.target.kind {
        Kind::Express => server
            .registry
            .arns
            .express_new(&start.target.name, &start.name),
        _ if any_type => server
            .registry
            .arns
            .execution(&start.target.name, &start.name),
        _ => {
            return Err(ApiError::sfn(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            ));
        }
    };
    let now = SystemTime::now();
    let result = run(server, &start, &arn, now, false).await;
    let Start {
        target,
        name,
        input,
        ..
    } = start;
    Ok(SyncAnswer {
        arn,
        machine: target.name,
        machine_arn: target.machine_arn,
        name,
        start: now,
        result,
        data: included != Some("METADATA_ONLY"),
        input,
    })
}

/// StartSyncExecution over AWS JSON 1.0 from the raw body: the common request is decoded in one
/// pass and its answer written straight as text; any other goes through `Req` (and words the
/// error). `None` when the body does not decode either way (the caller answers as for any op).
pub(super) async fn start_sync_body(
    server: &Arc<Server>,
    body: &[u8],
) -> Option<Result<String, ApiError>> {
    let args = StartArgs::decode(body)?;
    let literal = args.input_literal;
    Some(match run_to_end(server, args, false, false).await {
        Ok(answer) => {
            let text = answer.write_json(literal);
            answer.record(server);
            Ok(text)
        }
        Err(e) => Err(e),
    })
}

/// StartExecution: starts in the background and answers at once.
pub fn start(server: &Arc<Server>, r: &Req) -> OpResult {
    let start = parse_start(server, StartArgs::from_req(r, false)?)?;
    let now = SystemTime::now();
    let (arn, record) = match start.target.kind {
        Kind::Express => {
            let arn = server
                .registry
                .arns
                .express_new(&start.target.name, &start.name);
            (arn, None)
        }
        Kind::Standard => {
            let arn = server
                .registry
                .arns
                .execution(&start.target.name, &start.name);
            if server.registry.execution(&arn).is_some() {
                return Err(ApiError::sfn(
                    "ExecutionAlreadyExists",
                    format!("Execution Already Exists: '{arn}'"),
                ));
            }
            let rec = Arc::new(ExecRecord {
                arn: arn.clone(),
                name: start.name.clone(),
                machine_arn: start.target.machine_arn.clone(),
                version_arn: start.target.version_arn.clone(),
                alias_arn: start.target.alias_arn.clone(),
                input: start.input.clone(),
                start: now,
                definition: start.target.revision.definition.clone(),
                role_arn: start.target.revision.role_arn.clone(),
                revision_id: start.target.revision.revision_id.clone(),
                state: Mutex::new(ExecState {
                    status: "RUNNING",
                    stop: None,
                    output: None,
                    error: None,
                    cause: None,
                }),
                abort: Mutex::new(None),
            });
            server.registry.add_execution(rec.clone());
            (arn, Some(rec))
        }
    };
    let task_server = server.clone();
    let task_arn = arn.clone();
    let task_record = record.clone();
    // Registered before the spawn, so that a shutdown signal that follows this answer sees it.
    server.in_flight.add(&arn);
    let running = Running(server.clone(), arn.clone());
    let handle = tokio::spawn(async move {
        let _running = running;
        let result = run(&task_server, &start, &task_arn, now, true).await;
        if let Some(rec) = task_record {
            let mut st = lock(&rec.state);
            if st.status == "RUNNING" {
                *st = ExecState {
                    status: result.status.as_str(),
                    stop: Some(now + result.duration),
                    output: result.output.clone(),
                    error: result.error.clone(),
                    cause: result.cause.clone(),
                };
            }
        }
        let Start { target, input, .. } = start;
        task_server
            .console
            .record(target.name, task_arn, input, now, result);
    });
    if let Some(rec) = record {
        *lock(&rec.abort) = Some(handle.abort_handle());
    }
    Ok(json!({"executionArn": arn, "startDate": epoch(now)}))
}

/// An asynchronous execution's entry in `Server::in_flight`, removed however its task ends
/// (finished, aborted by StopExecution, or panicked).
struct Running(Arc<Server>, String);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.in_flight.remove(&self.1);
    }
}

fn no_execution(arn: &str) -> ApiError {
    ApiError::sfn(
        "ExecutionDoesNotExist",
        format!("Execution Does Not Exist: '{arn}'"),
    )
}

/// Finds a kept (STANDARD) execution; `express:` ARNs are not valid here, as on AWS.
fn find(server: &Server, arn: &str) -> Result<Arc<ExecRecord>, ApiError> {
    let parsed = server.registry.arns.parse_execution(arn)?;
    if parsed.express {
        return Err(ApiError::sfn(
            "InvalidArn",
            "Invalid Arn: 'Resource type not valid in this context: express'",
        ));
    }
    server
        .registry
        .execution(arn)
        .ok_or_else(|| no_execution(arn))
}

/// DescribeExecution.
pub fn describe(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("executionArn", 1, 256)?;
    let included = r.opt_enum("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    let rec = find(server, arn)?;
    let st = rec.snapshot();
    let data = included != Some("METADATA_ONLY");
    let mut out = json!({
        "executionArn": rec.arn,
        "stateMachineArn": rec.machine_arn,
        "name": rec.name,
        "status": st.status,
        "startDate": epoch(rec.start),
        "inputDetails": {"included": data},
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
    });
    if data {
        out["input"] = json!(rec.input);
    }
    if let Some(stop) = st.stop {
        out["stopDate"] = epoch(stop);
    }
    if let Some(o) = st.output.filter(|_| data) {
        out["output"] = json!(o);
        out["outputDetails"] = json!({"included": true});
    }
    for (k, v) in [("error", st.error), ("cause", st.cause)] {
        if let Some(v) = v {
            out[k] = json!(v);
        }
    }
    if let Some(v) = &rec.version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    if let Some(a) = &rec.alias_arn {
        out["stateMachineAliasArn"] = json!(a);
    }
    Ok(out)
}

/// StopExecution: aborts a running execution; a finished one is left as it is.
pub fn stop(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("executionArn", 1, 256)?;
    let error = r.opt_str("error", 0, 256)?;
    let cause = r.opt_str("cause", 0, 32768)?;
    let rec = find(server, arn)?;
    let now = SystemTime::now();
    let mut st = lock(&rec.state);
    if st.status == "RUNNING" {
        if let Some(h) = lock(&rec.abort).take() {
            h.abort();
        }
        *st = ExecState {
            status: "ABORTED",
            stop: Some(now),
            output: None,
            error: error.map(str::to_string),
            cause: cause.map(str::to_string),
        };
        server.metrics.aborted();
    }
    Ok(json!({"stopDate": epoch(st.stop.unwrap_or(now))}))
}

/// GetExecutionHistory: the execution-level events of a kept execution.
pub fn history(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("executionArn", 1, 256)?;
    let reverse = r.opt_bool("reverseOrder")?.unwrap_or(false);
    let data = r.opt_bool("includeExecutionData")?.unwrap_or(true);
    let rec = find(server, arn)?;
    let st = rec.snapshot();
    let mut started = json!({"roleArn": rec.role_arn, "inputDetails": {"truncated": false}});
    if data {
        started["input"] = json!(rec.input);
    }
    let mut events = vec![json!({
        "timestamp": epoch(rec.start), "type": "ExecutionStarted", "id": 1, "previousEventId": 0,
        "executionStartedEventDetails": started,
    })];
    let end = |kind: &str, key: &str, details: Value| {
        json!({"timestamp": epoch(st.stop.unwrap_or(rec.start)), "type": kind, "id": 2,
               "previousEventId": 1, key: details})
    };
    let fail = json!({"error": st.error, "cause": st.cause});
    match st.status {
        "SUCCEEDED" => {
            let mut d = json!({"outputDetails": {"truncated": false}});
            if data {
                d["output"] = json!(st.output.clone().unwrap_or_else(|| "null".into()));
            }
            events.push(end(
                "ExecutionSucceeded",
                "executionSucceededEventDetails",
                d,
            ));
        }
        "FAILED" => events.push(end("ExecutionFailed", "executionFailedEventDetails", fail)),
        "TIMED_OUT" => events.push(end(
            "ExecutionTimedOut",
            "executionTimedOutEventDetails",
            json!({"error": st.error.as_deref().unwrap_or("States.Timeout"), "cause": st.cause}),
        )),
        "ABORTED" => events.push(end(
            "ExecutionAborted",
            "executionAbortedEventDetails",
            fail,
        )),
        _ => {}
    }
    if reverse {
        events.reverse();
    }
    paged(r, "events", events)
}

/// ListExecutions of a STANDARD machine (Express executions are not listed, as on AWS).
pub fn list(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let status = r.opt_enum(
        "statusFilter",
        &[
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
            "TIMED_OUT",
            "ABORTED",
            "PENDING_REDRIVE",
        ],
    )?;
    let target = resolve(server, arn).map_err(|e| match e.kind {
        "InvalidArn" => e,
        _ => no_machine(arn),
    })?;
    if target.kind == Kind::Express {
        return Err(ApiError::sfn(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        ));
    }
    let items = server
        .registry
        .executions_of(&target.machine_arn)
        .into_iter()
        .filter_map(|rec| {
            let st = rec.snapshot();
            if status.is_some_and(|s| s != st.status) {
                return None;
            }
            let mut item = json!({"executionArn": rec.arn, "stateMachineArn": rec.machine_arn,
                "name": rec.name, "status": st.status, "startDate": epoch(rec.start)});
            if let Some(stop) = st.stop {
                item["stopDate"] = epoch(stop);
            }
            Some(item)
        })
        .collect();
    paged(r, "executions", items)
}

/// DescribeStateMachineForExecution: the definition the execution ran.
pub fn describe_machine_for(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("executionArn", 1, 256)?;
    let rec = find(server, arn)?;
    let name = rec.machine_arn.rsplit(':').next().unwrap_or_default();
    Ok(json!({
        "stateMachineArn": rec.machine_arn, "name": name, "definition": &*rec.definition,
        "roleArn": rec.role_arn, "updateDate": epoch(rec.start), "revisionId": rec.revision_id,
    }))
}

/// StartSyncExecution's request decode and answer encode on their own, for `benches/http.rs`.
#[doc(hidden)]
pub mod hot_path {
    use super::*;

    /// The one-pass decode of a body down to the input value the engine runs.
    pub fn decode(body: &[u8]) -> Option<crate::value::Value> {
        let args = StartArgs::decode(body)?;
        crate::value::parse(&args.input).ok()
    }

    /// The general decode (serde_json map, `Req`), then what the input went through before:
    /// checked with serde_json, copied, parsed by the engine.
    pub fn decode_general(body: &[u8]) -> Option<crate::value::Value> {
        let map = super::super::protocol::parse_body(body).ok()?;
        let req = Req::new(&map);
        let args = StartArgs::from_req(&req, true).ok()?;
        serde_json::from_str::<CheckedJson>(&args.input).ok()?;
        let copy = args.input.to_string();
        crate::value::parse(&copy).ok()
    }

    /// A finished execution of `input` with `output`, and the request's literal of its input.
    pub struct Sample(SyncAnswer, String);

    /// A sample answer.
    pub fn sample(input: &str, output: &str) -> Sample {
        let answer = SyncAnswer {
            arn: "arn:aws:states:us-east-1:123456789012:express:bench:0b8e3f5c-9a41-4d6e-8f0a-2c7b1d9e4a35:5d2f8c1a-7e3b-4f90-a6d2-1b8c9e0f3a47".into(),
            machine: "bench".into(),
            machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:bench".into(),
            name: "0b8e3f5c-9a41-4d6e-8f0a-2c7b1d9e4a35".into(),
            start: SystemTime::now(),
            result: Outcome {
                status: crate::engine::Status::Succeeded,
                output: Some(output.to_string()),
                error: None,
                cause: None,
                transitions: 10,
                entered: [0; 8],
                duration: Duration::from_micros(12),
                variables: None,
                history: None,
            },
            data: true,
            input: input.to_string(),
        };
        let literal = serde_json::to_string(input).unwrap_or_default();
        Sample(answer, literal)
    }

    /// The answer written straight as text, the input literal echoed.
    pub fn encode(s: &Sample) -> String {
        s.0.write_json(Some(&s.1))
    }

    /// The answer built as a serde_json value and serialized (as it was).
    pub fn encode_value(s: &Sample) -> String {
        s.0.to_value().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Status;

    #[test]
    fn a_test_case_follows_the_machine_arn_after_a_hash() {
        assert_eq!(
            split_test_case("arn:sm#HappyPath"),
            ("arn:sm", Some("HappyPath"))
        );
        assert_eq!(split_test_case("arn:sm#"), ("arn:sm", None));
        assert_eq!(split_test_case("arn:sm"), ("arn:sm", None));
    }

    fn answer(data: bool, output: Option<&str>, error: Option<&str>) -> SyncAnswer {
        SyncAnswer {
            arn: "arn:aws:states:us-east-1:123456789012:express:m:n:id".into(),
            machine: "m".into(),
            machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
            name: "n \"quoted\"".into(),
            start: std::time::UNIX_EPOCH + Duration::from_millis(1_700_000_000_120),
            result: Outcome {
                status: if error.is_some() {
                    Status::Failed
                } else {
                    Status::Succeeded
                },
                output: output.map(str::to_string),
                error: error.map(str::to_string),
                cause: error.map(|e| format!("because {e}\n\u{1}")),
                transitions: 3,
                entered: [0; 8],
                duration: Duration::from_micros(250_300),
                variables: None,
                history: None,
            },
            data,
            input: "{\"a\":\"x\\\\y\",\"é\":[1,2.5]}".into(),
        }
    }

    #[test]
    fn the_written_answer_is_the_serialized_value() {
        for a in [
            answer(true, Some(r#"{"k":"v\"w","n":1}"#), None),
            answer(false, Some("[]"), None),
            answer(true, None, Some("States.TaskFailed")),
            answer(false, None, Some("E")),
        ] {
            let want = a.to_value().to_string();
            assert_eq!(a.write_json(None), want);
            // The request's literal of the same input is echoed as sent.
            let literal = serde_json::to_string(&a.input).unwrap();
            assert_eq!(a.write_json(Some(&literal)), want);
        }
        let whole = answer(true, Some("{}"), None);
        let mut whole = whole;
        whole.start = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        whole.result.duration = Duration::ZERO;
        assert_eq!(whole.write_json(None), whole.to_value().to_string());
        assert!(
            whole
                .write_json(None)
                .contains(r#""startDate":1700000000.0,"#)
        );
    }

    fn general(body: &[u8]) -> Result<(String, Option<String>, String, Option<String>), ApiError> {
        let map = super::super::protocol::parse_body(body)?;
        let r = Req::new(&map);
        let a = StartArgs::from_req(&r, true)?;
        Ok((
            a.arn.to_string(),
            a.name.map(str::to_string),
            a.input.into_owned(),
            a.included.map(str::to_string),
        ))
    }

    #[test]
    fn the_one_pass_decode_agrees_with_the_general_one_or_declines() {
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        let accepted = [
            format!(r#"{{"stateMachineArn":"{arn}"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":"{{\"a\":[1,\"\\u00e9\"]}}"}}"#),
            format!(r#" {{ "input" : "[]", "stateMachineArn" : "{arn}", "name": "run-1" }} "#),
            format!(r#"{{"stateMachineArn":"{arn}","input":null,"name":null}}"#),
            format!(
                r#"{{"stateMachineArn":"{arn}","includedData":"METADATA_ONLY","traceHeader":"t"}}"#
            ),
            format!(r#"{{"stateMachineArn":"{arn}","input":"plain text is checked later"}}"#),
            format!(
                "{{\n\t\"stateMachineArn\" :\r\n \"{arn}\" ,\"input\":\"[\\\"\\ud83d\\ude00\\u00e9\\/\\n\\t\\b\\f\\r\\\\\\\"]\"}}"
            ),
            format!(r#"{{"stateMachineArn":"{arn}","input":"\"\u0000\""}}"#),
        ];
        for body in &accepted {
            let fast = StartArgs::decode(body.as_bytes()).expect(body);
            let want = general(body.as_bytes()).expect(body);
            assert_eq!(fast.arn, want.0, "{body}");
            assert_eq!(fast.name.map(str::to_string), want.1, "{body}");
            assert_eq!(fast.input, want.2, "{body}");
            assert_eq!(fast.included.map(str::to_string), want.3, "{body}");
            if let Some(lit) = fast.input_literal {
                assert_eq!(serde_json::from_str::<String>(lit).unwrap(), want.2);
            }
        }
        // Everything unusual, valid or not, is left to the general decode and its errors.
        let declined = [
            String::new(),
            "[]".to_string(),
            "{".to_string(),
            r#"{"name":"x"}"#.to_string(),
            format!(r#"{{"stateMachineArn":"{arn}","stateMachineArn":"{arn}"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","extra":1e400}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","other":"\ud800"}}"#),
            format!(r#"{{"stateMachineArn":"arn\u003a{arn}"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":{{}}}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":"\ud800"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":"\udc00\ud800"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":"\ud800\u0041"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":"\x"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":"\u12"}}"#),
            format!("{{\"stateMachineArn\":\"{arn}\",\"input\":\"a\u{1}b\"}}"),
            format!(r#"{{"stateMachineArn":"{arn}","input":nul}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","input":nullx}}"#),
            format!(r#"{{"stateMachineArn":"{arn}",}}"#),
            format!(r#"{{"stateMachineArn":"{arn}"}} x"#),
            format!(r#"{{"stateMachineArn":"{arn}""#),
            format!(r#"{{"state\u004dachineArn":"{arn}"}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","name":"r\u0031"}}"#),
            "{}".to_string(),
            format!(r#"{{"stateMachineArn":"{arn}","name":""}}"#),
            format!(r#"{{"stateMachineArn":"{arn}","name":"a b"}}"#),
            format!(
                r#"{{"stateMachineArn":"{arn}","name":"{}"}}"#,
                "x".repeat(81)
            ),
            format!(r#"{{"stateMachineArn":"{arn}","includedData":"SOME"}}"#),
            format!(
                r#"{{"stateMachineArn":"{arn}","traceHeader":"{}"}}"#,
                "t".repeat(257)
            ),
            format!(r#"{{"stateMachineArn":"{}"}}"#, "a".repeat(257)),
            r#"{"stateMachineArn":""}"#.to_string(),
            r#"{"stateMachineArn":7}"#.to_string(),
        ];
        for body in &declined {
            assert!(StartArgs::decode(body.as_bytes()).is_none(), "{body}");
        }
        // Multi-byte characters count once, as the model counts them.
        let name = "é".repeat(80);
        let body = format!(r#"{{"stateMachineArn":"{arn}","name":"{name}"}}"#);
        assert_eq!(
            StartArgs::decode(body.as_bytes()).unwrap().name,
            Some(&*name)
        );
        let body = format!(r#"{{"stateMachineArn":"{arn}","name":"{name}é"}}"#);
        assert!(StartArgs::decode(body.as_bytes()).is_none());
    }
}
