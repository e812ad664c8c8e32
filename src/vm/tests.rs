//! The VM as a function of its inputs: feed input, assert the step.

use super::*;
use crate::compile::compile_text;
use crate::value::parse;

pub(super) fn info() -> Arc<ExecutionInfo> {
    Arc::new(ExecutionInfo {
        execution_arn: Str::from("arn:aws:states:us-east-1:123456789012:express:sm:e:1"),
        name: Str::from("e"),
        state_machine_arn: Str::from("arn:aws:states:us-east-1:123456789012:stateMachine:sm"),
        state_machine_name: Str::from("sm"),
        role_arn: Str::from("arn:aws:iam::123456789012:role/r"),
        start_time: SystemTime::UNIX_EPOCH,
        input: Value::Null,
        redrive_count: None,
        limits: Limits::default(),
        history: None,
    })
}

/// Runs a definition that needs no effects; returns the output JSON or `error|cause`.
fn run(def: &str, input: &str) -> String {
    let program = compile_text(def).expect("the definition compiles");
    let mut exec = Execution::new(
        &program,
        info(),
        parse(input).expect("input parses"),
        SystemTime::UNIX_EPOCH,
    );
    match exec.step(&program, SystemTime::UNIX_EPOCH) {
        Step::Done(Ok(v)) => v.to_json(),
        Step::Done(Err(e)) => format!("{}|{}", e.name(), e.cause.as_deref().unwrap_or("")),
        Step::Effect(e) => format!("effect {e:?}"),
    }
}

fn pass(fields: &str) -> String {
    format!(r#"{{"StartAt":"P","States":{{"P":{{"Type":"Pass",{fields},"End":true}}}}}}"#)
}

#[test]
fn result_path_merges_into_input() {
    assert_eq!(
        run(&pass(r#""Result": 2, "ResultPath": "$.b""#), r#"{"a":1}"#),
        r#"{"a":1,"b":2}"#
    );
}

#[test]
fn parameters_then_output_path() {
    assert_eq!(
        run(
            &pass(r#""Parameters": {"x.$": "$.a", "k": 1}, "OutputPath": "$.x""#),
            r#"{"a":[1,2]}"#
        ),
        "[1,2]"
    );
}

#[test]
fn null_paths() {
    assert_eq!(run(&pass(r#""InputPath": null"#), r#"{"a":1}"#), "{}");
    assert_eq!(
        run(&pass(r#""Result": 5, "ResultPath": null"#), r#"{"a":1}"#),
        r#"{"a":1}"#
    );
    assert_eq!(run(&pass(r#""OutputPath": null"#), r#"{"a":1}"#), "{}");
}

#[test]
fn missing_input_path_is_a_runtime_error() {
    let out = run(&pass(r#""InputPath": "$.nope""#), "{}");
    assert!(out.starts_with("States.Runtime|An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.nope'"), "{out}");
}

#[test]
fn choice_picks_first_match_then_default() {
    let def = r#"{"StartAt":"C","States":{
        "C":{"Type":"Choice","Choices":[
            {"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"},
            {"And":[{"Variable":"$.s","StringMatches":"a*c"},{"Not":{"Variable":"$.n","IsNull":true}}],"Next":"Match"}],
            "Default":"Other"},
        "Big":{"Type":"Pass","Result":"big","End":true},
        "Match":{"Type":"Pass","Result":"match","End":true},
        "Other":{"Type":"Pass","Result":"other","End":true}}}"#;
    assert_eq!(run(def, r#"{"n":11,"s":"x"}"#), r#""big""#);
    assert_eq!(run(def, r#"{"n":1,"s":"abbc"}"#), r#""match""#);
    assert_eq!(run(def, r#"{"n":1,"s":"abd"}"#), r#""other""#);
}

#[test]
fn fail_state_reports_error_and_cause() {
    let def = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}"#;
    assert_eq!(run(def, "{}"), "E|C");
}

#[test]
fn wait_yields_a_sleep_effect() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}"#;
    let program = compile_text(def).expect("compiles");
    let mut exec = Execution::new(&program, info(), Value::Null, SystemTime::UNIX_EPOCH);
    match exec.step(&program, SystemTime::UNIX_EPOCH) {
        Step::Effect(Effect::Sleep { until }) => {
            assert_eq!(until, SystemTime::UNIX_EPOCH + Duration::from_secs(5))
        }
        other => panic!("expected a sleep, got {other:?}"),
    }
    assert!(matches!(
        exec.resume(&program, Resume::Woke, SystemTime::UNIX_EPOCH),
        Step::Done(Ok(Value::Null))
    ));
}

#[test]
fn string_matches_escapes() {
    use super::choice::string_matches;
    assert!(string_matches("log-2024.txt", "log-*.txt"));
    assert!(string_matches("a*b", r"a\*b"));
    assert!(!string_matches("axb", r"a\*b"));
    assert!(string_matches("", "*"));
    assert!(!string_matches("abc", "abd*"));
}
