//! TestState: runs one state (given alone, or by `stateName` within a whole definition).
//!
//! The state becomes a small machine of its own: each transition it can take (`Next`, Choice
//! rules' and `Default`'s targets, Catch targets) leads to a generated Pass state that wraps the
//! state's output as `{"next": <target>, "output": <output>}`, so one ordinary execution tells the
//! output, the next state, and whether an error was caught. A `mock` replaces a Task by a Pass
//! state with the mocked result (`result`; in JSONata, `$states.result` in `Output`/`Assign` is
//! replaced by the mock) or a Fail state (`errorOutput`).
//!
//! In: TestState's request (`definition`, `input`, `stateName`, `mock`, `variables`,
//! `inspectionLevel`). Out: AWS's answer: `status`, `output` or `error`/`cause`, `nextState`, and
//! `inspectionData` at the level asked.

use serde_json::{Map, Value, json};
use std::sync::Arc;

use super::Server;
use super::definitions::invalid_definition_message;
use super::protocol::OpResult;
use super::protocol::{ApiError, Req};
use crate::engine::{ExecutionMeta, Status};

const NEXT_PREFIX: &str = "__expressway_next_";
const STATE: &str = "__expressway_state";

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::sfn("InvalidDefinition", msg)
}

/// A transition target found in the state, and whether it is a Catch's.
struct Exit {
    target: String,
    caught: bool,
}

fn redirect(slot: &mut Value, exits: &mut Vec<Exit>, caught: bool) {
    if let Some(t) = slot.as_str() {
        exits.push(Exit {
            target: t.to_string(),
            caught,
        });
        *slot = json!(format!("{NEXT_PREFIX}{}", exits.len() - 1));
    }
}

/// Redirects the `Next` of each item of the array `state[key]` (Choice rules, Catchers).
fn redirect_each(state: &mut Map<String, Value>, key: &str, exits: &mut Vec<Exit>, caught: bool) {
    if let Some(Value::Array(items)) = state.get_mut(key) {
        for n in items.iter_mut().filter_map(|item| item.get_mut("Next")) {
            redirect(n, exits, caught);
        }
    }
}

fn wrapper(target: &str, jsonata: bool) -> Value {
    if jsonata {
        json!({"Type": "Pass", "End": true, "QueryLanguage": "JSONata",
               "Output": {"next": target, "output": "{% $states.input %}"}})
    } else {
        json!({"Type": "Pass", "End": true,
               "Parameters": {"next": target, "output.$": "$"}})
    }
}

/// Replaces `$states.result` in JSONata expressions (`{% … %}` strings) by the mocked result,
/// written as a JSON literal (which is valid JSONata).
fn substitute_result(v: &Value, literal: &str) -> Value {
    match v {
        Value::String(s) if s.starts_with("{%") && s.ends_with("%}") => {
            Value::String(s.replace("$states.result", &format!("({literal})")))
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute_result(x, literal)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute_result(x, literal)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A JSONata Task with a mocked result becomes a Pass state whose `Output` and `Assign` see the
/// mock where they said `$states.result`.
fn mock_jsonata(state: &mut Map<String, Value>, result: Value) {
    let literal = result.to_string();
    let mut pass = Map::new();
    pass.insert("Type".into(), json!("Pass"));
    for k in ["QueryLanguage", "Comment", "Next", "End"] {
        if let Some(v) = state.get(k) {
            pass.insert(k.into(), v.clone());
        }
    }
    let output = match state.get("Output") {
        Some(o) => substitute_result(o, &literal),
        None => json!(format!("{{% {literal} %}}")),
    };
    pass.insert("Output".into(), output);
    if let Some(a) = state.get("Assign") {
        pass.insert("Assign".into(), substitute_result(a, &literal));
    }
    *state = pass;
}

fn apply_mock(
    state: &mut Map<String, Value>,
    mock: &Map<String, Value>,
    jsonata: bool,
) -> Result<(), ApiError> {
    if state.get("Type").and_then(Value::as_str) != Some("Task") {
        return Err(ApiError::sfn(
            "ValidationException",
            "Mock can only be provided for Task states",
        ));
    }
    if let Some(result) = mock.get("result").and_then(Value::as_str) {
        let parsed: Value = serde_json::from_str(result).map_err(|e| {
            ApiError::sfn(
                "ValidationException",
                format!("Mock result is not valid JSON: {e}"),
            )
        })?;
        if jsonata {
            mock_jsonata(state, parsed);
            return Ok(());
        }
        state.insert("Type".into(), json!("Pass"));
        state.insert("Result".into(), parsed);
        for k in [
            "Resource",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "HeartbeatSeconds",
            "Credentials",
            "TimeoutSecondsPath",
            "HeartbeatSecondsPath",
        ] {
            state.remove(k);
        }
        return Ok(());
    }
    if let Some(err) = mock.get("errorOutput").and_then(Value::as_object) {
        let mut fail = Map::new();
        fail.insert("Type".into(), json!("Fail"));
        for (from, to) in [("error", "Error"), ("cause", "Cause")] {
            if let Some(v) = err.get(from) {
                fail.insert(to.into(), v.clone());
            }
        }
        *state = fail;
        return Ok(());
    }
    Err(ApiError::sfn(
        "ValidationException",
        "Mock must contain either result or errorOutput",
    ))
}

/// TestState.
pub async fn test_state(server: &Server, r: &Req<'_>) -> OpResult {
    let definition = r.str("definition", 1, 1_048_576)?;
    r.opt_str("roleArn", 1, 256)?;
    let input = r.opt_str("input", 0, 262_144)?.unwrap_or("{}");
    let level = r
        .opt_enum("inspectionLevel", &["INFO", "DEBUG", "TRACE"])?
        .unwrap_or("INFO");
    r.opt_bool("revealSecrets")?;
    let state_name = r.opt_str("stateName", 1, 80)?;
    // Workflow variables the state sees, as a JSON object text.
    let variables = match r.opt_str("variables", 0, 262_144)? {
        None => None,
        Some(text) => match crate::value::parse(text) {
            Ok(crate::value::Value::Object(vars)) => Some(vars),
            _ => {
                return Err(ApiError::sfn(
                    "ValidationException",
                    format!("Invalid variables: '{text}' is not a JSON object"),
                ));
            }
        },
    };
    let mock = r.opt_obj("mock")?;
    if serde_json::from_str::<serde::de::IgnoredAny>(input).is_err() {
        return Err(ApiError::sfn(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{input}'"),
        ));
    }
    let raw: Value = serde_json::from_str(definition).map_err(|e| {
        invalid(format!(
            "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"
        ))
    })?;
    let (state, top_language) = match state_name {
        Some(name) => {
            let s = raw
                .get("States")
                .and_then(|s| s.get(name))
                .cloned()
                .ok_or_else(|| invalid(format!("State '{name}' not found in the definition")))?;
            (s, raw.get("QueryLanguage").cloned())
        }
        None => (raw, None),
    };
    let Value::Object(mut state) = state else {
        return Err(invalid(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: the state must be a JSON object'",
        ));
    };
    let original = state.clone();
    let jsonata = state
        .get("QueryLanguage")
        .or(top_language.as_ref())
        .and_then(Value::as_str)
        == Some("JSONata");
    if let Some(m) = mock {
        apply_mock(&mut state, m, jsonata)?;
    }
    let mut exits = Vec::new();
    if let Some(mut next) = state.remove("Next") {
        redirect(&mut next, &mut exits, false);
        state.insert("Next".into(), next);
    }
    redirect_each(&mut state, "Choices", &mut exits, false);
    if let Some(d) = state.get_mut("Default") {
        redirect(d, &mut exits, false);
    }
    redirect_each(&mut state, "Catch", &mut exits, true);
    let mut states = Map::new();
    states.insert(STATE.into(), Value::Object(state));
    for (i, e) in exits.iter().enumerate() {
        states.insert(format!("{NEXT_PREFIX}{i}"), wrapper(&e.target, jsonata));
    }
    let mut machine = json!({"StartAt": STATE, "States": states});
    if let Some(l) = top_language {
        machine["QueryLanguage"] = l;
    }
    let program = server.engine.compile(&machine.to_string()).map_err(|d| {
        invalid(invalid_definition_message(&d).replace(STATE, state_name.unwrap_or("State")))
    })?;
    let meta = test_meta(
        server,
        "test",
        "00000000-0000-0000-0000-000000000000",
        variables.clone(),
    );
    let result = server.engine.execute(program, input, meta).await;
    let mut out = Map::new();
    match result.status {
        Status::Succeeded => {
            let output: Value = result
                .output
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(Value::Null);
            let (shown, next) = match (exits.is_empty(), output.get("next").and_then(Value::as_str))
            {
                (false, Some(target)) => (
                    output.get("output").cloned().unwrap_or(Value::Null),
                    Some(target.to_string()),
                ),
                _ => (output, None),
            };
            let caught = next.as_ref().is_some_and(|n| {
                exits.iter().any(|e| e.caught && e.target == *n)
                    && !exits.iter().any(|e| !e.caught && e.target == *n)
            });
            out.insert("output".into(), json!(shown.to_string()));
            if let Some(n) = next {
                out.insert("nextState".into(), json!(n));
            }
            out.insert(
                "status".into(),
                json!(if caught { "CAUGHT_ERROR" } else { "SUCCEEDED" }),
            );
        }
        Status::Failed => {
            if let Some(e) = result.error {
                out.insert("error".into(), json!(e));
            }
            if let Some(c) = result.cause {
                out.insert("cause".into(), json!(c));
            }
            out.insert("status".into(), json!("FAILED"));
        }
        // AWS: "TestState can run for up to five minutes. If the execution of a state exceeds
        // this duration, it fails with the States.Timeout error."
        Status::TimedOut => {
            out.insert("error".into(), json!("States.Timeout"));
            out.insert(
                "cause".into(),
                json!("The state did not finish within the TestState limit of five minutes."),
            );
            out.insert("status".into(), json!("FAILED"));
        }
    }
    if level != "INFO" {
        let mocked = mock
            .and_then(|m| m.get("result"))
            .and_then(Value::as_str)
            .and_then(|r| serde_json::from_str(r).ok());
        let data = if jsonata {
            inspect_jsonata(server, &original, input, mocked, variables.as_ref()).await
        } else {
            inspect(server, &original, input, mocked, variables.as_ref()).await
        };
        let mut data = data;
        if let (Some(vars), Value::Object(d)) = (&result.variables, &mut data) {
            d.insert(
                "variables".into(),
                json!(crate::value::Value::object(vars.clone()).to_json()),
            );
        }
        out.insert("inspectionData".into(), data);
    }
    Ok(Value::Object(out))
}

/// Runs one generated Pass state on `input`: its output, if it succeeded.
async fn run_pass(
    server: &Server,
    pass: Value,
    input: &str,
    vars: Option<&Arc<crate::value::Map>>,
) -> Option<Value> {
    let machine = json!({"StartAt": STATE, "States": {STATE: pass}});
    let program = server.engine.compile(&machine.to_string()).ok()?;
    let meta = test_meta(server, "inspect", "0", vars.cloned());
    let result = server.engine.execute(program, input, meta).await;
    result.output.and_then(|o| serde_json::from_str(&o).ok())
}

/// What a generated machine's execution is named: an execution `name` (with id `id`) of the
/// machine `TestState`, which exists nowhere else.
fn test_meta(
    server: &Server,
    name: &str,
    id: &str,
    variables: Option<Arc<crate::value::Map>>,
) -> ExecutionMeta {
    ExecutionMeta {
        execution_arn: server.registry.arns.express("TestState", name, id),
        name: name.into(),
        state_machine_arn: server.registry.arns.machine("TestState"),
        state_machine_name: "TestState".into(),
        role_arn: String::new(),
        start_time: std::time::SystemTime::now(),
        test_case: None,
        asynchronous: false,
        standard: false,
        variables,
        history: false,
        skip_waits: true,
    }
}

/// DEBUG inspection data of a JSONPath state: the input after each processing step, each
/// computed by a generated Pass state doing just that step. Steps that cannot be computed
/// (a Task's result without a mock) are left out.
async fn inspect(
    server: &Server,
    state: &Map<String, Value>,
    input: &str,
    mocked: Option<Value>,
    vars: Option<&Arc<crate::value::Map>>,
) -> Value {
    let text = |v: &Value| json!(v.to_string());
    let mut data = Map::new();
    data.insert("input".into(), json!(input));
    let mut pass = json!({"Type": "Pass", "End": true});
    if let Some(p) = state.get("InputPath") {
        pass["InputPath"] = p.clone();
    }
    let Some(after_input) = run_pass(server, pass.clone(), input, vars).await else {
        return Value::Object(data);
    };
    data.insert("afterInputPath".into(), text(&after_input));
    let mut after_params = after_input;
    if let Some(p) = state.get("Parameters") {
        pass["Parameters"] = p.clone();
        match run_pass(server, pass, input, vars).await {
            Some(v) => after_params = v,
            None => return Value::Object(data),
        }
    }
    data.insert("afterParameters".into(), text(&after_params));
    let kind = state.get("Type").and_then(Value::as_str);
    let result = match (kind, mocked) {
        (_, Some(m)) => m,
        (Some("Pass"), None) => state.get("Result").cloned().unwrap_or(after_params),
        _ => return Value::Object(data),
    };
    data.insert("result".into(), text(&result));
    let mut selected = result;
    if let Some(rs) = state.get("ResultSelector") {
        let select = json!({"Type": "Pass", "Parameters": rs, "End": true});
        match run_pass(server, select, &selected.to_string(), vars).await {
            Some(v) => selected = v,
            None => return Value::Object(data),
        }
    }
    data.insert("afterResultSelector".into(), text(&selected));
    let mut graft = json!({"Type": "Pass", "Result": selected, "End": true});
    if let Some(rp) = state.get("ResultPath") {
        graft["ResultPath"] = rp.clone();
    }
    if let Some(v) = run_pass(server, graft, input, vars).await {
        data.insert("afterResultPath".into(), text(&v));
    }
    Value::Object(data)
}

/// DEBUG inspection data of a JSONata state: the input, `Arguments` evaluated (by a generated
/// Pass state whose `Output` is the state's `Arguments`), and a mocked result.
async fn inspect_jsonata(
    server: &Server,
    state: &Map<String, Value>,
    input: &str,
    mocked: Option<Value>,
    vars: Option<&Arc<crate::value::Map>>,
) -> Value {
    let mut data = Map::new();
    data.insert("input".into(), json!(input));
    if let Some(args) = state.get("Arguments") {
        let pass = json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": args, "End": true});
        if let Some(v) = run_pass(server, pass, input, vars).await {
            data.insert("afterArguments".into(), json!(v.to_string()));
        }
    }
    if let Some(m) = mocked {
        data.insert("result".into(), json!(m.to_string()));
    }
    Value::Object(data)
}
