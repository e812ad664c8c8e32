//! Execution operations: StartSyncExecution, StartExecution, DescribeExecution, StopExecution,
//! GetExecutionHistory, ListExecutions, DescribeStateMachineForExecution.
//!
//! Express executions keep no history: StartExecution runs them in the background (their trace is
//! the execution log), and Describe/Stop/GetExecutionHistory on an `express:` ARN answer
//! `InvalidArn` as AWS does. STANDARD machines are accepted too; their executions are kept in
//! the registry's bounded store and can be described, listed and stopped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::Server;
use super::backend::{ExecMeta, ExecResult};
use super::logs::LogContext;
use super::ops::{OpResult, no_machine, paged};
use super::protocol::{ApiError, Req, epoch, invalid_name, valid_name};
use super::registry::{ExecRecord, ExecState, Kind, lock};
use super::versions::{Target, resolve};

/// Largest execution input (256 KiB), as the service model bounds `input`.
pub const MAX_INPUT: usize = 262_144;

/// The checked members of a start request.
struct Start {
    target: Target,
    name: String,
    input: String,
    /// A Step Functions Local mock test case, from `…:stateMachine:<sm>#<case>`.
    test_case: Option<String>,
    /// Record the history events (for the console) even if the machine does not log.
    trace: bool,
}

/// A JSON document checked the way the engine will parse it, without building it: serde_json's
/// rules (the engine's parser accepts exactly those), so a lone surrogate escape (`"\ud800"`), a
/// number beyond `f64` (`1e400`) or nesting past 128 levels is refused at the API with
/// `InvalidExecutionInput` rather than failing the execution. (`IgnoredAny` skips all three.)
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

fn parse_start(server: &Server, r: &Req) -> Result<Start, ApiError> {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let name = r.opt_str("name", 1, 80)?;
    let input = r.opt_str("input", 0, MAX_INPUT)?.unwrap_or("{}");
    r.opt_str("traceHeader", 0, 256)?;
    if let Some(n) = name
        && !valid_name(n)
    {
        return Err(invalid_name(n));
    }
    if let Err(e) = serde_json::from_str::<CheckedJson>(input) {
        return Err(ApiError::sfn(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{e}'"),
        ));
    }
    let (arn, test_case) = crate::tasks::split_test_case(arn);
    let target = resolve(server, arn)?;
    if let Some(case) = test_case
        && !server.backend.has_test_case(&target.name, case)
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
    let name = name.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    Ok(Start {
        target,
        name,
        input: input.to_string(),
        test_case: test_case.map(str::to_string),
        trace: server.console.trace_all,
    })
}

fn meta(start: &Start, execution_arn: &str, now: SystemTime, asynchronous: bool) -> ExecMeta {
    let logging = start.target.revision.logging.as_ref();
    ExecMeta {
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

/// Runs one execution on the backend, records its metrics and writes its log lines.
async fn run(
    server: &Arc<Server>,
    start: &Start,
    arn: &str,
    now: SystemTime,
    asynchronous: bool,
) -> ExecResult {
    let program = start.target.revision.program.clone();
    let result = server
        .backend
        .execute(
            program,
            start.input.clone(),
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
    server
        .console
        .record(&start.target.name, arn, &start.input, now, &result);
    result
}

/// Express billing: duration rounded up to 100 ms, memory in 64 MB steps.
fn billing(duration: Duration) -> Value {
    let ms = duration.as_millis() as u64;
    let billed = ms.div_ceil(100).max(1) * 100;
    json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed})
}

/// StartSyncExecution: runs an EXPRESS execution to completion and answers with its result.
pub async fn start_sync(server: &Arc<Server>, r: &Req<'_>) -> OpResult {
    run_to_end(server, r, false, false).await
}

/// StartSyncExecution's work; `any_type` lets a STANDARD machine run too (the `/execute`
/// route: a Standard execution waiting on a task token answers once the token is answered);
/// `trace` records the execution's history events (the console's own starts), as the
/// machine's logging or `--ui-trace` also do.
pub async fn run_to_end(
    server: &Arc<Server>,
    r: &Req<'_>,
    any_type: bool,
    trace: bool,
) -> OpResult {
    let included = r.opt_enum("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    let mut start = parse_start(server, r)?;
    start.trace |= trace;
    let arn = match start.target.kind {
        Kind::Express => {
            let id = uuid::Uuid::new_v4().to_string();
            server
                .registry
                .arns
                .express(&start.target.name, &start.name, &id)
        }
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
    let data = included != Some("METADATA_ONLY");
    let mut out = json!({
        "executionArn": arn,
        "stateMachineArn": start.target.machine_arn,
        "name": start.name,
        "startDate": epoch(now),
        "stopDate": epoch(now + result.duration),
        "status": result.status.as_str(),
        "inputDetails": {"included": data},
        "billingDetails": billing(result.duration),
    });
    if data {
        out["input"] = json!(start.input);
    }
    if let Some(o) = result.output.as_ref().filter(|_| data) {
        out["output"] = json!(o);
        out["outputDetails"] = json!({"included": true});
    }
    if let Some(e) = &result.error {
        out["error"] = json!(e);
    }
    if let Some(c) = &result.cause {
        out["cause"] = json!(c);
    }
    Ok(out)
}

/// StartExecution: starts in the background and answers at once.
pub fn start(server: &Arc<Server>, r: &Req) -> OpResult {
    let start = parse_start(server, r)?;
    let now = SystemTime::now();
    let (arn, record) = match start.target.kind {
        Kind::Express => {
            let id = uuid::Uuid::new_v4().to_string();
            let arn = server
                .registry
                .arns
                .express(&start.target.name, &start.name, &id);
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
                    output: result.output,
                    error: result.error,
                    cause: result.cause,
                };
            }
        }
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
