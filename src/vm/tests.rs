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
        deadline: None,
        context_parts: Default::default(),
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
    // Runs between stars in order, at both ends, overlapping candidates, multi-byte text.
    for (text, pattern, expected) in [
        ("abc", "abc", true),
        ("abc", "ab", false),
        ("abc", "a*c", true),
        ("ac", "a*c", true),
        ("a", "a*a", false),
        ("aa", "a*a", true),
        ("abcabd", "*abd", true),
        ("abab", "*ab*ab", true),
        ("aba", "*ab*ab", false),
        ("xaaab", "x*aab", true),
        ("héllo wörld", "h*ö*d", true),
        ("a\\b", r"a\\b", true),
        ("a\\", "a\\", true),
        ("a*", r"a\*", true),
        ("ab", r"a\*", false),
        ("", "", true),
        ("", "**", true),
        ("x", "", false),
    ] {
        assert_eq!(
            string_matches(text, pattern),
            expected,
            "{text:?} ~ {pattern:?}"
        );
    }
}

/// The matcher agrees with a plain recursive glob on every short text and pattern over a small
/// alphabet.
#[test]
fn string_matches_agrees_with_a_reference_glob() {
    fn reference(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| reference(&t[i..], rest)),
            Some(('\\', rest)) => {
                let (c, rest) = rest.split_first().map_or(('\\', rest), |(c, r)| (*c, r));
                t.first() == Some(&c) && reference(&t[1..], rest)
            }
            Some((c, rest)) => t.first() == Some(c) && reference(&t[1..], rest),
        }
    }
    fn strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            out.extend(last.iter().cloned());
        }
        out
    }
    let texts = strings(&['a', 'b', '*', '\\'], 4);
    let patterns = strings(&['a', 'b', '*', '\\'], 4);
    for t in &texts {
        let tc: Vec<char> = t.chars().collect();
        for p in &patterns {
            let pc: Vec<char> = p.chars().collect();
            assert_eq!(
                super::choice::string_matches(t, p),
                reference(&tc, &pc),
                "{t:?} ~ {p:?}"
            );
        }
    }
}

/// Issue 11, defect 6: the backtracking matcher was O(n·m); this pair took it about 10^10 steps.
#[test]
fn string_matches_is_linear() {
    let text = "a".repeat(256 * 1024);
    let pattern = format!("*{}b*", "a".repeat(100_000));
    let started = std::time::Instant::now();
    assert!(!super::choice::string_matches(&text, &pattern));
    let pattern = format!("*{}*", "a".repeat(100_000));
    assert!(super::choice::string_matches(&text, &pattern));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// Issue 11, defect 8: a negative `SecondsPath` fails as AWS fails it (it used to wait 0 s).
#[test]
fn negative_seconds_path_is_a_runtime_error() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#;
    assert_eq!(
        run(def, r#"{"s":-5}"#),
        "States.Runtime|An error occurred while executing the state 'W' (entered at the event id #2). The SecondsPath parameter references a negative value: $.s == -5"
    );
}

/// A Fail state's ErrorPath/CausePath (and JSONata Error/Cause) must produce a string, as AWS
/// documents; anything else fails the state instead of being written out as JSON.
#[test]
fn fail_fields_must_be_strings() {
    let fail =
        |fields: &str| format!(r#"{{"StartAt":"F","States":{{"F":{{"Type":"Fail",{fields}}}}}}}"#);
    let input = r#"{"e":"Custom","c":"why","n":5,"o":{"a":1},"l":["x",2]}"#;
    assert_eq!(
        run(&fail(r#""ErrorPath":"$.e","CausePath":"$.c""#), input),
        "Custom|why"
    );
    assert_eq!(
        run(&fail(r#""ErrorPath":"$.e","CausePath":"$.n""#), input),
        "States.Runtime|An error occurred while executing the state 'F' (entered at the event id #2). The CausePath field refers to value \"5\" which is not a valid string: $.n"
    );
    assert_eq!(
        run(&fail(r#""ErrorPath":"$.o""#), input),
        "States.Runtime|An error occurred while executing the state 'F' (entered at the event id #2). The ErrorPath field refers to value \"{\"a\":1}\" which is not a valid string: $.o"
    );
    assert_eq!(
        run(&fail(r#""CausePath":"States.ArrayGetItem($.l, 1)""#), input),
        "States.Runtime|An error occurred while executing the state 'F' (entered at the event id #2). The CausePath field refers to value \"2\" which is not a valid string: States.ArrayGetItem($.l, 1)"
    );
    assert_eq!(
        run(&fail(r#""CausePath":"States.ArrayGetItem($.l, 0)""#), input),
        "|x"
    );
    let ata = |fields: &str| {
        format!(
            r#"{{"QueryLanguage":"JSONata","StartAt":"F","States":{{"F":{{"Type":"Fail",{fields}}}}}}}"#
        )
    };
    assert_eq!(
        run(&ata(r#""Error":"{% $states.input.e %}""#), input),
        "Custom|"
    );
    assert_eq!(
        run(&ata(r#""Cause":"{% $states.input.n %}""#), input),
        "States.QueryEvaluationError|An error occurred while executing the state 'F' (entered at the event id #2). The JSONata expression '$states.input.n' specified for the field 'Cause' returned an unexpected result type. Expected 'string', but was 'number' for value: 5"
    );
}
