//! Validation cases, one per line, and the AWS-recorded definitions, which must all pass.

use super::*;

/// Every definition AWS accepted (the conformance cases) validates without errors, loads and
/// lowers to a typed `Machine`.
#[test]
fn conformance_definitions_are_accepted() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/cases.jsonl");
    let text = std::fs::read_to_string(path).expect("tests/conformance/cases.jsonl is checked in");
    let (mut total, mut rejected) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("cases.jsonl holds JSON lines");
        total += 1;
        let def = &case["definition"];
        let errors: Vec<_> = validate(def).into_iter().filter(|d| d.severity == Severity::Error).collect();
        if !errors.is_empty() {
            rejected += 1;
            println!("REJECTED {}: {}", case["id"], invalid_definition_message(&errors));
        } else if let Err(e) = load_json(def).and_then(|d| typed::lower(&d)) {
            // `lower` reports only where it and `validate` disagree: never, for these.
            rejected += 1;
            println!("NOT LOADED {}: {:?}", case["id"], e);
        }
    }
    println!("conformance definitions: {} accepted, {rejected} rejected", total - rejected);
    assert_eq!(rejected, 0);
}

/// A JSONPath machine starting at `A` with the given states.
fn sm(states: &str) -> String {
    format!(r#"{{"StartAt":"A","States":{{{states}}}}}"#)
}

/// A JSONata machine starting at `A` with the given states.
fn ata(states: &str) -> String {
    format!(r#"{{"QueryLanguage":"JSONata","StartAt":"A","States":{{{states}}}}}"#)
}

fn diagnostics(def: &str) -> Vec<Diagnostic> {
    match serde_json::from_str::<serde_json::Value>(def) {
        Ok(raw) => validate(&raw),
        Err(e) => panic!("test definition is not JSON ({e}): {def}"),
    }
}

/// The definition is rejected with `code` at `location` (among possibly other errors).
#[track_caller]
fn bad(def: impl AsRef<str>, code: &str, location: &str) {
    let ds = diagnostics(def.as_ref());
    assert!(
        ds.iter().any(|d| d.severity == Severity::Error && d.code == code && d.location == location),
        "expected {code} at {location:?} for {}\n got {ds:#?}",
        def.as_ref()
    );
}

/// Like `bad`, and the message is exactly `message`.
#[track_caller]
fn bad_msg(def: impl AsRef<str>, code: &str, location: &str, message: &str) {
    let ds = diagnostics(def.as_ref());
    assert!(
        ds.iter().any(|d| d.code == code && d.location == location && d.message == message),
        "expected {code} at {location:?}: {message:?} for {}\n got {ds:#?}",
        def.as_ref()
    );
}

/// The definition is accepted: no error diagnostics.
#[track_caller]
fn good(def: impl AsRef<str>) {
    let ds = diagnostics(def.as_ref());
    let errors: Vec<_> = ds.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "expected no errors for {}\n got {errors:#?}", def.as_ref());
}

const PASS_END: &str = r#""A":{"Type":"Pass","End":true}"#;

#[test]
fn definition_shape() {
    bad_msg("[]", "SCHEMA_VALIDATION_FAILED", "", "Definition must be a valid JSON object");
    bad_msg("{}", "SCHEMA_VALIDATION_FAILED", "/", "These fields are required: [States, StartAt]");
    assert_eq!(diagnostics(r#"{"States":{"A":{"Type":"Pass","End":true}}}"#), [Diagnostic::error("SCHEMA_VALIDATION_FAILED", "/", "These fields are required: [StartAt]".into())]);
    bad_msg(r#"{"StartAt":"A"}"#, "SCHEMA_VALIDATION_FAILED", "/", "These fields are required: [States]");
    bad_msg(r#"{"Coment":"x","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#, "SCHEMA_VALIDATION_FAILED", "/", "Field 'Coment' is not supported");
    bad(r#"{"StartAt":1,"States":{"A":{"Type":"Pass","End":true}}}"#, "SCHEMA_VALIDATION_FAILED", "/StartAt");
    bad(r#"{"StartAt":"A","States":[]}"#, "SCHEMA_VALIDATION_FAILED", "/States");
    bad(r#"{"StartAt":"A","States":{}}"#, "SCHEMA_VALIDATION_FAILED", "/States");
    bad_msg(r#"{"StartAt":"A","TimeoutSeconds":-1,"States":{"A":{"Type":"Pass","End":true}}}"#, "SCHEMA_VALIDATION_FAILED", "/TimeoutSeconds", "Minimum value is 0");
    good(r#"{"StartAt":"A","TimeoutSeconds":0,"States":{"A":{"Type":"Pass","End":true}}}"#);
    bad_msg(r#"{"Version":"2.0","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#, "SCHEMA_VALIDATION_FAILED", "/Version", "Value should be one of the following: [1.0]");
    good(r#"{"Comment":"c","Version":"1.0","TimeoutSeconds":30,"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#);
}

#[test]
fn transitions_and_reachability() {
    bad_msg(r#"{"StartAt":"B","States":{"A":{"Type":"Pass","End":true}}}"#, "MISSING_TRANSITION_TARGET", "/StartAt", "Missing 'Next' target: B");
    bad_msg(sm(r#""A":{"Type":"Pass","Next":"Foo"},"B":{"Type":"Succeed"}"#), "MISSING_TRANSITION_TARGET", "/States/A/Next", "Missing 'Next' target: Foo");
    bad(sm(r#""A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"Z"}],"Default":"B"},"B":{"Type":"Succeed"}"#), "MISSING_TRANSITION_TARGET", "/States/A/Choices[0]/Next");
    bad(sm(r#""A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"B"}],"Default":"Z"},"B":{"Type":"Succeed"}"#), "MISSING_TRANSITION_TARGET", "/States/A/Default");
    bad(sm(r#""A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Z"}],"End":true}"#), "MISSING_TRANSITION_TARGET", "/States/A/Catch[0]/Next");
    bad_msg(sm(r#""A":{"Type":"Pass","End":true},"C":{"Type":"Pass","End":true}"#), "MISSING_TRANSITION_TARGET", "/States/C", "State \"C\" is not reachable.");
    bad_msg(sm(r#""A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}"#), "MISSING_END_STATE", "", "Workflow has no terminal state");
    bad(sm(r#""A":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"A"}}}],"End":true}"#), "MISSING_TRANSITION_TARGET", "/States/A/Branches[0]/States/X/Next");
    bad(sm(r#""A":{"Type":"Map","ItemProcessor":{"StartAt":"Q","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#), "MISSING_TRANSITION_TARGET", "/States/A/ItemProcessor/StartAt");
    bad(sm(r#""A":{"Type":"Map","Iterator":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true},"Y":{"Type":"Pass","End":true}}},"End":true}"#), "MISSING_TRANSITION_TARGET", "/States/A/Iterator/States/Y");
    good(sm(r#""A":{"Type":"Pass","Next":"B"},"B":{"Type":"Wait","Seconds":1,"Next":"C"},"C":{"Type":"Succeed"}"#));
}

#[test]
fn state_names() {
    let long = "N".repeat(81);
    bad(format!(r#"{{"StartAt":"{long}","States":{{"{long}":{{"Type":"Pass","End":true}}}}}}"#), "INVALID_STATE_NAME", &format!("/States/{long}"));
    bad(r#"{"StartAt":"","States":{"":{"Type":"Pass","End":true}}}"#, "INVALID_STATE_NAME", "/States/");
    let ok80 = "N".repeat(80);
    good(format!(r#"{{"StartAt":"{ok80}","States":{{"{ok80}":{{"Type":"Pass","End":true}}}}}}"#));
    bad_msg(sm(r#""A":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}],"End":true}"#), "DUPLICATE_STATE_NAME", "/States/A/Branches[0]/States/A", "Duplicate State name: A");
}

#[test]
fn terminal_rules() {
    bad_msg(sm(r#""A":{"Type":"Pass"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "This object should have only one of the following fields: [Next, End]");
    bad_msg(sm(r#""A":{"Type":"Pass","End":true,"Next":"A"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "There should only be one of the following fields: [Next, End]");
    bad(sm(r#""A":{"Type":"Pass","End":"yes"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/End");
    bad_msg(sm(r#""A":{"Type":"Succeed","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "Field 'End' is not supported");
    bad_msg(sm(r#""A":{"Type":"Fail","Next":"A"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "Field 'Next' is not supported");
    bad(sm(r#""A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"Next":"B"}],"End":true},"B":{"Type":"Succeed"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
}

#[test]
fn types_and_fields() {
    bad_msg(sm(r#""A":{"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "These fields are required: [Type]");
    bad_msg(sm(r#""A":{"Type":"Bogus","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Type", "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]");
    bad(sm(r#""A":"Pass""#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad_msg(sm(r#""A":{"Type":"Pass","Foo":1,"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "Field 'Foo' is not supported");
    bad_msg(sm(r#""A":{"Type":"Pass","TimeoutSeconds":1,"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "Field 'TimeoutSeconds' is not supported");
    bad_msg(sm(r#""A":{"Type":"Pass","Retry":[],"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "Field 'Retry' is not supported");
    bad(sm(r#""A":{"Type":"Map","TimeoutSeconds":5,"ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad_msg(sm(r#""A":{"Type":"Task","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "These fields are required: [Resource]");
    bad_msg(sm(r#""A":{"Type":"Parallel","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "These fields are required: [Branches]");
    bad_msg(sm(r#""A":{"Type":"Map","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "This object should have only one of the following fields: [ItemProcessor, Iterator]");
    bad_msg(sm(r#""A":{"Type":"Choice"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "These fields are required: [Choices]");
    bad(sm(r#""A":{"Type":"Pass","Comment":5,"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Comment");
    bad(sm(r#""A":{"Type":"Task","Resource":"lambda","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Resource");
    bad(sm(r#""A":{"Type":"Parallel","Branches":[],"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Branches");
    bad(sm(r#""A":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}},"Version":"1.0"}],"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Branches[0]");
}

#[test]
fn query_language() {
    bad_msg(r#"{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}"#, "SCHEMA_VALIDATION_FAILED", "/States/A", "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine");
    good(sm(r#""A":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input %}","End":true}"#));
    bad_msg(r#"{"QueryLanguage":"Python","StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#, "SCHEMA_VALIDATION_FAILED", "/QueryLanguage", "Value should be one of the following: [JSONPath, JSONata]");
    bad(sm(r#""A":{"Type":"Pass","QueryLanguage":7,"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/QueryLanguage");
    bad_msg(ata(r#""A":{"Type":"Pass","InputPath":"$.a","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage");
    bad(ata(r#""A":{"Type":"Pass","Parameters":{},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad(ata(r#""A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultSelector":{},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad(ata(r#""A":{"Type":"Map","ItemsPath":"$.x","ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad(ata(r#""A":{"Type":"Wait","SecondsPath":"$.x","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad_msg(sm(r#""A":{"Type":"Pass","Output":{},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage");
    bad(sm(r#""A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad(sm(r#""A":{"Type":"Map","Items":[1],"ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad_msg(sm(r#""A":{"Type":"Map","ItemProcessor":{"QueryLanguage":"JSONata","StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor", "Field 'QueryLanguage' is not supported");
    // Nested states inherit the machine's language, not the Map's.
    bad(ata(r#""A":{"Type":"Map","ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","InputPath":"$","End":true}}},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/States/X");
    good(ata(r#""A":{"Type":"Map","Items":"{% [1,2] %}","ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","Output":"{% $states.input %}","End":true}}},"End":true}"#));
}

#[test]
fn choice_rules() {
    let choice = |rule: &str| sm(&format!(r#""A":{{"Type":"Choice","Choices":[{rule}],"Default":"B"}},"B":{{"Type":"Succeed"}}"#));
    good(choice(r#"{"Variable":"$.x","StringEquals":"a","Next":"B"}"#));
    good(choice(r#"{"And":[{"Variable":"$.x","IsPresent":true},{"Not":{"Variable":"$$.Execution.Id","IsNull":true}}],"Next":"B"}"#));
    bad(choice(r#"{"Variable":"$.x","StringEquals":"a","NumericEquals":1,"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
    bad(choice(r#"{"Variable":"$.x","IsNull":true,"And":[{"Variable":"$.y","IsNull":true}],"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
    bad(choice(r#"{"And":[{"Variable":"$.y","IsNull":true}],"IsNull":true,"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
    bad(choice(r#"{"Variable":"$.x","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
    bad(choice(r#"{"Variable":"$.x","StringEqualz":"a","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
    bad_msg(choice(r#"{"StringEquals":"a","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]", "The object must have only one of the following fields, [And, Or, Not, Variable, Condition]");
    bad_msg(choice(r#"{"Variable":"$.x","StringEquals":"a"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]", "These fields are required: [Next]");
    bad_msg(choice(r#"{"Not":{"Variable":"$.x","IsNull":true,"Next":"B"},"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/Not", "Field 'Next' is not supported");
    bad(choice(r#"{"Variable":"$.x","StringEquals":1,"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/StringEquals");
    bad(choice(r#"{"Variable":"$.x","NumericEquals":"1","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/NumericEquals");
    bad(choice(r#"{"Variable":"$.x","BooleanEquals":"true","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/BooleanEquals");
    bad(choice(r#"{"Variable":"$.x","TimestampEquals":"yesterday","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/TimestampEquals");
    good(choice(r#"{"Variable":"$.x","TimestampLessThan":"2016-03-14T01:59:00Z","Next":"B"}"#));
    bad(choice(r#"{"Variable":"$.x","StringEqualsPath":"x","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/StringEqualsPath");
    bad(choice(r#"{"Variable":"x","IsNull":true,"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/Variable");
    bad(choice(r#"{"And":[],"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/And");
    bad(sm(r#""A":{"Type":"Choice","Choices":[],"Default":"B"},"B":{"Type":"Succeed"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices");
    let jchoice = |rule: &str| ata(&format!(r#""A":{{"Type":"Choice","Choices":[{rule}],"Default":"B"}},"B":{{"Type":"Succeed"}}"#));
    good(jchoice(r#"{"Condition":"{% $states.input.x = 1 %}","Next":"B","Output":{"a":1}}"#));
    bad(jchoice(r#"{"Variable":"$.x","IsNull":true,"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
    bad(jchoice(r#"{"Condition":"$.x","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]/Condition");
    bad(choice(r#"{"Condition":"{% true %}","Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices[0]");
}

const TASK: &str = r#""Type":"Task","Resource":"arn:aws:states:::lambda:invoke""#;

#[test]
fn retry_and_catch() {
    let retry = |r: &str| sm(&format!(r#""A":{{{TASK},"Retry":[{r}],"End":true}}"#));
    good(retry(r#"{"ErrorEquals":["States.Http.StatusCode.404","States.Http.Socket"]}"#));
    good(retry(r#"{"ErrorEquals":["States.Timeout","Custom"],"IntervalSeconds":1,"MaxAttempts":0,"BackoffRate":1.5,"MaxDelaySeconds":10,"JitterStrategy":"FULL"}"#));
    bad_msg(retry(r#"{"ErrorEquals":[]}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/ErrorEquals", "Value cannot be empty");
    bad(retry(r#"{"MaxAttempts":1}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]");
    bad(retry(r#"{"ErrorEquals":["States.ALL","X"]}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/ErrorEquals");
    bad(retry(r#"{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/ErrorEquals");
    // The user's own names may start with `States.` (AWS's quorum and either-or samples catch `States.QuorumMet`).
    good(retry(r#"{"ErrorEquals":["States.TaskFailedId"]}"#));
    bad(retry(r#"{"ErrorEquals":["X"],"MaxAttempts":-1}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/MaxAttempts");
    bad(retry(r#"{"ErrorEquals":["X"],"BackoffRate":0.5}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/BackoffRate");
    bad(retry(r#"{"ErrorEquals":["X"],"IntervalSeconds":-1}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/IntervalSeconds");
    bad(retry(r#"{"ErrorEquals":["X"],"MaxDelaySeconds":0}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/MaxDelaySeconds");
    bad(retry(r#"{"ErrorEquals":["X"],"JitterStrategy":"SOME"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/JitterStrategy");
    bad_msg(retry(r#"{"ErrorEquals":["X"],"_comment":"x"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]", "Field '_comment' is not supported");
    let catch = |c: &str| sm(&format!(r#""A":{{{TASK},"Catch":[{c}],"End":true}},"B":{{"Type":"Succeed"}}"#));
    good(catch(r#"{"ErrorEquals":["States.QuorumMet"],"Next":"B"},{"ErrorEquals":["States.RanOutOfTime","States.FauxFailure1"],"Next":"B"}"#));
    bad(catch(r#"{"ErrorEquals":["States.QuorumMet","States.ALL"],"Next":"B"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Catch[0]/ErrorEquals");
    good(catch(r#"{"ErrorEquals":["States.ALL"],"Next":"B","ResultPath":"$.error"}"#));
    bad_msg(catch(r#"{"ErrorEquals":["X"]}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Catch[0]", "These fields are required: [Next]");
    bad(catch(r#"{"ErrorEquals":["X"],"Next":"B","ResultPath":"$.a[*]"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Catch[0]/ResultPath");
    bad(catch(r#"{"ErrorEquals":["X"],"Next":"B","Output":{}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Catch[0]");
    good(ata(&format!(r#""A":{{{TASK},"Catch":[{{"ErrorEquals":["States.ALL"],"Next":"B","Output":"{{% $states.errorOutput %}}"}}],"End":true}},"B":{{"Type":"Succeed"}}"#)));
}

#[test]
fn wait_fail_task_map_fields() {
    bad(sm(r#""A":{"Type":"Wait","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad(sm(r#""A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A");
    bad(sm(r#""A":{"Type":"Wait","Seconds":-1,"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Seconds");
    bad(sm(r#""A":{"Type":"Wait","Timestamp":"tomorrow","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Timestamp");
    good(ata(r#""A":{"Type":"Wait","Seconds":"{% $states.input.s %}","End":true}"#));
    bad(ata(r#""A":{"Type":"Wait","Seconds":"5","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Seconds");
    bad_msg(sm(r#""A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ErrorPath", "There should only be one of the following fields: [Error, ErrorPath]");
    bad(sm(r#""A":{"Type":"Fail","Cause":"C","CausePath":"$.c"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/CausePath");
    bad(sm(r#""A":{"Type":"Fail","ErrorPath":5}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ErrorPath");
    good(sm(r#""A":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('x {}', $.c)"}"#));
    bad(sm(&format!(r#""A":{{{TASK},"TimeoutSeconds":5,"TimeoutSecondsPath":"$.t","End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSecondsPath");
    bad(sm(&format!(r#""A":{{{TASK},"TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/HeartbeatSeconds");
    bad(sm(&format!(r#""A":{{{TASK},"TimeoutSeconds":0,"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSeconds");
    bad(sm(&format!(r#""A":{{{TASK},"TimeoutSecondsPath":"$.t[*]","End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSecondsPath");
    let map = |extra: &str| sm(&format!(r#""A":{{"Type":"Map",{extra}"ItemProcessor":{{"StartAt":"X","States":{{"X":{{"Type":"Pass","End":true}}}}}},"End":true}}"#));
    bad_msg(map(r#""MaxConcurrency":2,"MaxConcurrencyPath":"$.m","#), "SCHEMA_VALIDATION_FAILED", "/States/A/MaxConcurrencyPath", "There should only be one of the following fields: [MaxConcurrency, MaxConcurrencyPath]");
    bad(map(r#""MaxConcurrency":-1,"#), "SCHEMA_VALIDATION_FAILED", "/States/A/MaxConcurrency");
    bad(map(r#""MaxConcurrencyPath":"$.limits[*]","#), "SCHEMA_VALIDATION_FAILED", "/States/A/MaxConcurrencyPath");
    bad(map(r#""ToleratedFailurePercentage":101,"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ToleratedFailurePercentage");
    bad(map(r#""ToleratedFailureCount":1,"ToleratedFailureCountPath":"$.c","#), "SCHEMA_VALIDATION_FAILED", "/States/A/ToleratedFailureCountPath");
    bad(map(r#""ItemsPath":"$..items","#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemsPath");
    bad(map(r#""Label":"has space","#), "INVALID_LABEL_NAME", "/States/A/Label");
    bad(sm(r#""A":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"FAST"},"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig/Mode");
    bad(map(r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Bogus":1},"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader");
    good(map(r#""MaxConcurrency":0,"ToleratedFailurePercentage":5.5,"ItemsPath":"$.items","ItemSelector":{"v.$":"$$.Map.Item.Value"},"#));
}

#[test]
fn paths_and_templates() {
    let pass = |fields: &str| sm(&format!(r#""A":{{"Type":"Pass",{fields},"End":true}}"#));
    good(pass(r#""InputPath":"$.a.b[0]","OutputPath":null,"ResultPath":null"#));
    good(pass(r#""InputPath":"$.a[?(@.x > 1)]","OutputPath":"$..b""#));
    bad_msg(pass(r#""InputPath":"a.b""#), "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath", "Value must be a valid JSONPath.");
    bad(pass(r#""OutputPath":"$.a[""#), "SCHEMA_VALIDATION_FAILED", "/States/A/OutputPath");
    bad(pass(r#""ResultPath":"$.a[*]""#), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath");
    bad(pass(r#""ResultPath":"$.a[?(@.x)]""#), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath");
    bad(pass(r#""ResultPath":"$$.Execution""#), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath");
    good(pass(r#""ResultPath":"$.a['b c'][2]""#));
    good(pass(r#""Parameters":{"a.$":"$.x","b.$":"$$.Execution.Id","c.$":"$myVar.field","d.$":"States.Format('{} {}', $.a, 'x')","e":{"f.$":"States.ArrayLength(States.Array(1, 2))"},"g":[{"h.$":"$"}]}"#));
    bad_msg(pass(r#""Parameters":{"a.$":"x"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$", "The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call");
    bad(pass(r#""Parameters":{"a.$":5}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$");
    bad(pass(r#""Parameters":{"n":{"a.$":"States.Nope(1)"}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/n/a.$");
    bad(pass(r#""Parameters":{"l":[{"a.$":"States.Format('x'"}]}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/l[0]/a.$");
    bad(pass(r#""Parameters":"$.x""#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters");
    bad(sm(&format!(r#""A":{{{TASK},"ResultSelector":{{"x.$":"States.Format('{{}}', $.a) extra"}},"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultSelector/x.$");
    bad(pass(r#""InputPath":"$bad-var.x""#), "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath");
    // Shapes from AWS's sample workflows: a dot before a bracket, unquoted filter words.
    good(pass(r#""InputPath":"$.[0]","OutputPath":"$.Snapshots.[0].State""#));
    good(pass(r#""Parameters":{"a.$":"$.[?(@.OU > 0)]","b.$":"$.[*].['bucket', 'key']","c.$":"States.StringToJson($.[0].body)"}"#));
    good(pass(r#""Parameters":{"es.$":"$[?(@.TargetLanguageCode==es)].TranslatedText","p.$":"$.F[0].S[?(@.Type.Text==AMOUNT_PAID)].V"}"#));
    bad(pass(r#""InputPath":"$.a.""#), "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath");
    bad(pass(r#""Parameters":{"a.$":"$[?(@.c==)]"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$");
}

#[test]
fn jsonata_expressions() {
    let pass = |fields: &str| ata(&format!(r#""A":{{"Type":"Pass",{fields},"End":true}}"#));
    good(pass(r#""Output":{"a":"{% $states.input.a %}","b":"literal","c":[1,"{% 1 + 2 %}"]}"#));
    bad_msg(pass(r#""Output":"{% $states.input""#), "SCHEMA_VALIDATION_FAILED", "/States/A/Output", "JSONata string must start with {% and end with %}");
    bad_msg(pass(r#""Result":{}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "The QueryLanguage is set to 'JSONata', but field 'Result' is only supported for the 'JSONPath' QueryLanguage");
    bad(pass(r#""Output":{"x":"{% ($states.input %}"}"#), "INVALID_JSONATA_EXPRESSION", "/States/A/Output/x");
    bad(pass(r#""Output":"{%   %}""#), "INVALID_JSONATA_EXPRESSION", "/States/A/Output");
    bad(pass(r#""Output":["{% 'unclosed %}"]"#), "INVALID_JSONATA_EXPRESSION", "/States/A/Output[0]");
    bad(ata(&format!(r#""A":{{{TASK},"Arguments":{{"p":"{{% $x ] %}}"}},"End":true}}"#)), "INVALID_JSONATA_EXPRESSION", "/States/A/Arguments/p");
    bad(ata(&format!(r#""A":{{{TASK},"TimeoutSeconds":"{{% $t %}}}}","End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSeconds");
    good(ata(&format!(r#""A":{{{TASK},"TimeoutSeconds":"{{% $t %}}","HeartbeatSeconds":"{{% $h %}}","End":true}}"#)));
    good(ata(r#""A":{"Type":"Fail","Error":"{% 'E' %}","Cause":"plain"}"#));
}

#[test]
fn variables() {
    let pass = |fields: &str| sm(&format!(r#""A":{{"Type":"Pass",{fields},"End":true}}"#));
    good(pass(r#""Assign":{"x":1,"y.$":"$.a","_z":"s","ü":true}"#));
    bad_msg(pass(r#""Assign":{"states":1}"#), "RESERVED_VARIABLE_NAME", "/States/A/Assign/states", "Cannot assign to reserved variable '$states'.");
    bad(pass(r#""Assign":{"1x":1}"#), "INVALID_VARIABLE_NAME", "/States/A/Assign/1x");
    bad_msg(pass(r#""Assign":{"a-b":1}"#), "INVALID_VARIABLE_NAME", "/States/A/Assign/a-b", "Invalid variable name 'a-b': the variable name contains invalid characters.");
    bad(pass(r#""Assign":{"y.$":"nope"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Assign/y.$");
    bad(pass(r#""Assign":[]"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Assign");
    let long = "v".repeat(81);
    bad(pass(&format!(r#""Assign":{{"{long}":1}}"#)), "INVALID_VARIABLE_NAME", &format!("/States/A/Assign/{long}"));
    bad(ata(r#""A":{"Type":"Pass","Assign":{"x.$":"{% 1 %}"},"End":true}"#), "INVALID_VARIABLE_NAME", "/States/A/Assign/x.$");
    bad(ata(r#""A":{"Type":"Pass","Assign":{"x":"{% (1 %}"},"End":true}"#), "INVALID_JSONATA_EXPRESSION", "/States/A/Assign/x");
    bad_msg(sm(r#""A":{"Type":"Succeed","Assign":{"x":1}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "Field 'Assign' is not supported");
    let big = "x".repeat(300 * 1024);
    bad(pass(&format!(r#""Assign":{{"x":"{big}"}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/Assign");
}

#[test]
fn every_problem_is_reported() {
    let ds = diagnostics(&sm(r#""A":{"Type":"Pass","Next":"X","Foo":1},"B":{"Type":"Bogus"}"#));
    let found: Vec<(&str, &str)> = ds.iter().map(|d| (d.code, d.location.as_str())).collect();
    let expected = [
        ("SCHEMA_VALIDATION_FAILED", "/States/A"),
        ("MISSING_TRANSITION_TARGET", "/States/A/Next"),
        ("SCHEMA_VALIDATION_FAILED", "/States/B/Type"),
        ("MISSING_END_STATE", ""),
    ];
    assert_eq!(found, expected);
}

#[test]
fn invalid_definition_messages() {
    let one: Vec<_> = diagnostics(&sm(r#""A":{"Type":"Pass","Next":"Foo"},"B":{"Type":"Succeed"}"#)).into_iter().filter(|d| d.location == "/States/A/Next").collect();
    assert_eq!(invalid_definition_message(&one), "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Foo at /States/A/Next'");
    let loop_ = diagnostics(&sm(r#""A":{"Type":"Pass","Next":"A"}"#));
    assert_eq!(invalid_definition_message(&loop_), "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'");
    let two = [
        Diagnostic::error("DUPLICATE_STATE_NAME", "/States/A", "Duplicate State name: A".into()),
        Diagnostic::warning("NO_DOLLAR", "/States/A/Parameters", "ignored".into()),
        Diagnostic::error("DUPLICATE_STATE_NAME", "/States/B", "Duplicate State name: B".into()),
    ];
    assert_eq!(invalid_definition_message(&two), "Invalid State Machine Definition: ''DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A', 'DUPLICATE_STATE_NAME: Duplicate State name: B at /States/B''");
}

#[test]
fn load_reports_or_builds() {
    assert_eq!(load("not a definition").unwrap_err()[0].code, "INVALID_JSON_DESCRIPTION");
    assert_eq!(load("").unwrap_err()[0].message, "Definition must be a valid JSON object");
    assert_eq!(load(&sm(r#""A":{"Type":"Pass","Next":"Z"}"#)).unwrap_err()[0].code, "MISSING_TRANSITION_TARGET");
    let def = load(&sm(PASS_END)).expect("a one-state machine loads");
    assert_eq!(def.start_at, "A");
    assert_eq!(def.states["A"].kind, StateType::Pass);
}

#[test]
fn hostile_input_does_not_panic() {
    // Deeply nested Parallel branches: reported, not recursed without bound.
    let mut raw = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
    for _ in 0..(validate::MAX_NESTING + 5) {
        raw = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [raw], "End": true}}});
    }
    assert!(validate(&raw).iter().any(|d| d.code == "TOO_DEEPLY_NESTED"));
    // Deep Choice rules.
    let mut rule = r#"{"Variable":"$.x","IsNull":true}"#.to_string();
    for _ in 0..40 {
        rule = format!(r#"{{"Not":{rule}}}"#);
    }
    let rule = format!(r#"{{"Not":{rule},"Next":"B"}}"#);
    bad(sm(&format!(r#""A":{{"Type":"Choice","Choices":[{rule}]}},"B":{{"Type":"Succeed"}}"#)), "TOO_DEEPLY_NESTED", &format!("/States/A/Choices[0]{}", "/Not".repeat(33)));
    // Odd strings in every syntax check.
    for s in ["$", "$$", "$[", "$.[", "$['", "$[?(", "States.", "States.Format(", "States.Format('\\", "$.é[0]", "{%", "{%%}", "{% '\\ %}", "$..", "$.a..", "$[1:2:x]"] {
        let _ = syntax::check_path(s);
        let _ = syntax::check_reference_path(s);
        let _ = syntax::check_intrinsic(s);
        let _ = syntax::jsonata_body(s).map(syntax::check_jsonata);
        let _ = syntax::check_jsonata(s);
    }
}

/// Every JSON pointer under `v`, `v` itself excluded.
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &serde_json::Value)> = match v {
        serde_json::Value::Object(m) => m.iter().map(|(k, c)| (format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), c)).collect(),
        serde_json::Value::Array(a) => a.iter().enumerate().map(|(i, c)| (format!("{at}/{i}"), c)).collect(),
        _ => return,
    };
    for (p, c) in children {
        out.push(p.clone());
        pointers(c, p, out);
    }
}

/// Replaces every value inside AWS-accepted definitions by values of other types: validation
/// never panics, and whatever it accepts, serde loads.
#[test]
fn mutated_conformance_definitions_never_slip_past_validation() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/cases.jsonl");
    let text = std::fs::read_to_string(path).expect("tests/conformance/cases.jsonl is checked in");
    let replacements = [serde_json::json!(null), serde_json::json!(-1), serde_json::json!(1.5), serde_json::json!("x"), serde_json::json!("$"), serde_json::json!([]), serde_json::json!({}), serde_json::json!(true)];
    let (mut tried, mut slipped) = (0, Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()).step_by(5) {
        let case: serde_json::Value = serde_json::from_str(line).expect("cases.jsonl holds JSON lines");
        let def = &case["definition"];
        let mut all = Vec::new();
        pointers(def, String::new(), &mut all);
        for p in &all {
            for r in &replacements {
                let mut m = def.clone();
                let Some(slot) = m.pointer_mut(p) else { continue };
                *slot = r.clone();
                tried += 1;
                let accepted = !validate(&m).iter().any(|d| d.severity == Severity::Error);
                if accepted && Definition::from_json(&m).is_err() {
                    slipped.push(format!("{} {p} = {r}: {}", case["id"], Definition::from_json(&m).unwrap_err()));
                }
            }
        }
    }
    println!("mutations tried: {tried}, accepted by validate but not by serde: {}", slipped.len());
    assert!(slipped.is_empty(), "{slipped:#?}");
}

/// `validate_text` finds what the parsed JSON no longer shows: a name repeated in one `States`.
#[track_caller]
fn bad_text(text: &str, code: &str, location: &str) {
    let (_, ds) = validate_text(text);
    assert!(ds.iter().any(|d| d.code == code && d.location == location), "expected {code} at {location:?} for {text}\n got {ds:#?}");
}

#[test]
fn definition_text() {
    bad_text(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Succeed"}}}"#, "DUPLICATE_STATE_NAME", "/States/A");
    bad_text(r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true},"X":{"Type":"Pass","End":true}}}],"End":true}}}"#, "DUPLICATE_STATE_NAME", "/States/P/Branches[0]/States/X");
    bad_text(r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true},"X":{"Type":"Pass","End":true}}},"End":true}}}"#, "DUPLICATE_STATE_NAME", "/States/M/ItemProcessor/States/X");
    bad_text("not a definition", "INVALID_JSON_DESCRIPTION", "line: 1, column: 2");
    bad_text(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}} trailing"#, "INVALID_JSON_DESCRIPTION", "line: 1, column: 59");
    bad_text("   ", "SCHEMA_VALIDATION_FAILED", "");
    // A repeated key inside a payload is not a state name.
    let (raw, ds) = validate_text(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"States":{"k":1,"k":2}},"End":true}}}"#);
    assert!(raw.is_some() && ds.is_empty(), "{ds:#?}");
    assert_eq!(load(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"A":{"Type":"Pass","End":true}}}"#).unwrap_err()[0].code, "DUPLICATE_STATE_NAME");
}

#[test]
fn express_only_rules() {
    let express = |def: &str| express_diagnostics(&serde_json::from_str(def).expect("test JSON"));
    let ds = express(&sm(r#""A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}"#));
    assert_eq!((ds[0].location.as_str(), ds[0].message.as_str()), ("/States/A/Resource", "Express state machine does not support '.waitForTaskToken' service integration "));
    let ds = express(&sm(r#""A":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","End":true}}}],"End":true}"#));
    assert_eq!((ds[0].location.as_str(), ds[0].message.as_str()), ("/States/A/Branches[0]/States/B/Resource", "Express state machine does not support '.sync' service integration "));
    assert_eq!(express(&sm(r#""A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:111111111111:activity:a","End":true}"#)).len(), 1);
    assert!(express(&sm(r#""A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}"#)).is_empty());
}

#[test]
fn processor_config() {
    let map = |cfg: &str| sm(&format!(r#""A":{{"Type":"Map","ItemProcessor":{{"ProcessorConfig":{cfg},"StartAt":"X","States":{{"X":{{"Type":"Pass","End":true}}}}}},"End":true}}"#));
    good(map(r#"{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}"#));
    good(map(r#"{"Mode":"INLINE"}"#));
    bad_msg(map(r#"{"Mode":"DISTRIBUTED"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig", "These fields are required: [ExecutionType]");
    bad_msg(map(r#"{"Mode":"INLINE","ExecutionType":"EXPRESS"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig", "Field 'ExecutionType' is not supported");
    bad(map(r#"{"Mode":"DISTRIBUTED","ExecutionType":"FAST"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig/ExecutionType");
    bad(map(r#"{"Mode":"INLINE","Extra":1}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemProcessor/ProcessorConfig");
}

#[test]
fn warnings_do_not_reject() {
    let ds = diagnostics(&sm(r#""A":{"Type":"Pass","Parameters":{"a":"$.x","b":{"c":"States.UUID()"},"d":"plain"},"Result":"$.y","End":true}"#));
    let found: Vec<(Severity, &str, &str)> = ds.iter().map(|d| (d.severity, d.code, d.location.as_str())).collect();
    assert_eq!(found, [(Severity::Warning, "NO_DOLLAR", "/States/A/Parameters/a"), (Severity::Warning, "NO_DOLLAR", "/States/A/Parameters/b/c"), (Severity::Warning, "PASS_RESULT_IS_STATIC", "/States/A/Result")]);
    assert!(load(&sm(r#""A":{"Type":"Pass","Parameters":{"a":"$.x"},"End":true}"#)).is_ok());
}

/// Message texts AWS is known to use, each pinned once.
#[test]
fn aws_message_texts() {
    let pass = |fields: &str| sm(&format!(r#""A":{{"Type":"Pass",{fields},"End":true}}"#));
    bad_msg(pass(r#""ResultPath":"$.a[*]""#), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath", "Value is not a Reference Path");
    bad_msg(pass(r#""ResultPath":"a""#), "SCHEMA_VALIDATION_FAILED", "/States/A/ResultPath", "Value is not a Reference Path: Reference path didn't start with '$'");
    bad_msg(pass(r#""Parameters":{"a.$":"$.a["}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters/a.$", "The value for the field 'a.$' must be a valid JSONPath");
    bad_msg(sm(&format!(r#""A":{{{TASK},"TimeoutSeconds":"5","End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSeconds", "Expected value of type Integer");
    bad_msg(sm(&format!(r#""A":{{{TASK},"TimeoutSeconds":100000000,"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/TimeoutSeconds", "Maximum value is 99999999");
    bad_msg(sm(&format!(r#""A":{{{TASK},"Retry":[{{"ErrorEquals":["X"],"BackoffRate":0.5}}],"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/BackoffRate", "Minimum value is 1");
    bad_msg(sm(&format!(r#""A":{{{TASK},"Retry":[{{"ErrorEquals":["X"],"JitterStrategy":"ALL"}}],"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/JitterStrategy", "Value should be one of the following: [NONE, FULL]");
    bad_msg(sm(&format!(r#""A":{{{TASK},"Retry":[{{"ErrorEquals":["States.ALL"]}},{{"ErrorEquals":["X"]}}],"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/Retry[0]/ErrorEquals", "States.ALL must appear alone and at end of list");
    good(sm(&format!(r#""A":{{{TASK},"Retry":[{{"ErrorEquals":["X"],"IntervalSeconds":0}}],"End":true}}"#)));
    bad_msg(sm(r#""A":{"Type":"Task","Resource":"${LambdaArn}","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Resource", "Value is not a valid resource ARN");
    bad_msg(sm(r#""A":{"Type":"Choice","Choices":[],"Default":"B"},"B":{"Type":"Succeed"}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Choices", "Value cannot be empty");
}

#[test]
fn credentials_and_distributed_express() {
    good(sm(&format!(r#""A":{{{TASK},"Credentials":{{"RoleArn.$":"$.role"}},"End":true}}"#)));
    bad_msg(sm(&format!(r#""A":{{{TASK},"Credentials":{{}},"End":true}}"#)), "SCHEMA_VALIDATION_FAILED", "/States/A/Credentials", "The field 'RoleArn' is required but was missing");
    let map = sm(r#""A":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}"#);
    // Expressway runs a Distributed Map inside an Express execution (in-process child workflows).
    assert!(express_diagnostics(&serde_json::from_str(&map).expect("test JSON")).is_empty());
    let sync = sm(r#""A":{"Type":"Task","Resource":"arn:aws:states:::glue:startJobRun.sync","End":true}"#);
    let ds = express_diagnostics(&serde_json::from_str(&sync).expect("test JSON"));
    assert_eq!(ds[0].location, "/States/A/Resource");
}

#[test]
fn item_reader() {
    let map = |reader: &str| sm(&format!(r#""A":{{"Type":"Map","ItemReader":{reader},"ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},"StartAt":"X","States":{{"X":{{"Type":"Pass","End":true}}}}}},"End":true}}"#));
    good(map(r#"{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["a"]},"Parameters":{"Bucket.$":"$.b","Key":"k"}}"#));
    bad(map(r#"{"Resource":"arn:aws:states:::s3:unknownOperation","Parameters":{}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/Resource");
    bad_msg(map(r#"{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"XML"}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig/InputType", "Value should be one of the following: [MANIFEST, JSON, CSV, JSONL, PARQUET]");
    bad_msg(map(r#"{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig", "The field 'CSVHeaderLocation' is required");
    bad(map(r#"{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","CSVHeaderLocation":"FIRST_ROW"}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig/CSVHeaderLocation");
    bad_msg(map(r#"{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN"}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig", "These fields are required: [CSVHeaders]");
    bad(map(r#"{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItems":-1}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/ReaderConfig/MaxItems");
    bad(map(r#"{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket.$":"bucket"}}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/ItemReader/Parameters/Bucket.$");
}

#[test]
fn integration_patterns_and_timestamps() {
    let task = |resource: &str| sm(&format!(r#""A":{{"Type":"Task","Resource":"{resource}","End":true}}"#));
    good(task("arn:aws:states:::lambda:invoke.waitForTaskToken"));
    good(task("arn:aws:states:::states:startExecution.sync:2"));
    good(task("arn:aws:states:::glue:startJobRun.sync"));
    bad_msg(task("arn:aws:states:::lambda:invoke.sync"), "SCHEMA_VALIDATION_FAILED", "/States/A/Resource", "The resource provided arn:aws:states:::lambda:invoke.sync is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.");
    bad(task("arn:aws:states:::glue:startJobRun.waitForTaskToken"), "SCHEMA_VALIDATION_FAILED", "/States/A/Resource");
    bad(task("arn:aws:states:::ecs:runTask.sync:2"), "SCHEMA_VALIDATION_FAILED", "/States/A/Resource");
    bad_msg(sm(r#""A":{"Type":"Wait","Timestamp":"2016-03-14t01:59:00Z","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A/Timestamp", "String does not match RFC3339 timestamp");
    bad_msg(sm(r#""A":{"Type":"Wait","Seconds":1,"Timestamp":"2016-03-14T01:59:00Z","End":true}"#), "SCHEMA_VALIDATION_FAILED", "/States/A", "There should only be one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp]");
}

/// Pseudo-random strings over the characters the syntax checks care about (and some multi-byte
/// ones): no check may panic, whatever it answers.
#[test]
fn syntax_checks_never_panic() {
    let alphabet: Vec<char> = "$.[]()'\"\\,{}%@?*:-1 aSé€States.Format".chars().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for _ in 0..20_000 {
        let len = next() % 24;
        let s: String = (0..len).map(|_| alphabet[next() % alphabet.len()]).collect();
        for candidate in [s.clone(), format!("${s}"), format!("States.Format({s})"), format!("{{%{s}%}}")] {
            let _ = syntax::check_path(&candidate);
            let _ = syntax::check_reference_path(&candidate);
            let _ = syntax::check_intrinsic(&candidate);
            let _ = syntax::check_dynamic_value(&candidate);
            let _ = syntax::check_variable_name(&candidate);
            let _ = syntax::check_jsonata(&candidate);
            let _ = syntax::jsonata_body(&candidate).map(syntax::check_jsonata);
        }
    }
}

#[test]
fn jsonata_references_step_functions_does_not_provide() {
    let pass = |output: &str| ata(&format!(r#""A":{{"Type":"Pass","Output":{output},"End":true}}"#));
    bad_msg(pass(r#"{"p":"{% phone %}"}"#), "UNSUPPORTED_JSONATA_EXPRESSION", "/States/A/Output/p", "Reference to 'phone' at the top level is not supported.");
    bad_msg(pass(r#""{% $.a %}""#), "UNSUPPORTED_JSONATA_EXPRESSION", "/States/A/Output", "Reference to '$' at the top level is not supported.");
    bad_msg(pass(r#""{% $$ %}""#), "UNSUPPORTED_JSONATA_EXPRESSION", "/States/A/Output", "Reference to '$$' is not supported.");
    bad_msg(pass(r#""{% $states.errorOutput %}""#), "UNSUPPORTED_JSONATA_EXPRESSION", "/States/A/Output", "Field '$states.errorOutput' does not exist.");
    // Read from the parsed tree: anywhere in the expression, however it is spaced.
    bad_msg(pass(r#""{% $string($states.errorOutput.Error) %}""#), "UNSUPPORTED_JSONATA_EXPRESSION", "/States/A/Output", "Field '$states.errorOutput' does not exist.");
    bad_msg(pass(r#""{% 'x' & $states . errorOutput %}""#), "UNSUPPORTED_JSONATA_EXPRESSION", "/States/A/Output", "Field '$states.errorOutput' does not exist.");
    bad_msg(pass(r#""{% (1 %}""#), "INVALID_JSONATA_EXPRESSION", "/States/A/Output", "S0203: Expected ) before end of expression");
    for fine in [r#""{% $states.input.phone %}""#, r#""{% true %}""#, r#""{% 1 + 2 %}""#, r#""{% '$states.errorOutput' %}""#, r#""{% $x.y %}""#, r#""{% $count($states.input) %}""#, r#""{% $states.input.errorOutput %}""#, r#""{% \"$states.errorOutput\" %}""#] {
        good(pass(fine));
    }
    good(ata(&format!(r#""A":{{{TASK},"Catch":[{{"ErrorEquals":["States.ALL"],"Next":"B","Assign":{{"e":"{{% $states.errorOutput.Error %}}"}}}}],"End":true}},"B":{{"Type":"Succeed"}}"#)));
}

#[test]
fn validation_response_shape() {
    let (_, ds) = validate_text(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","Parameters":{"a":"$.x"}}}}"#);
    let body = validation_response(&ds, 100);
    assert_eq!(body, serde_json::json!({"result": "FAIL", "truncated": false, "diagnostics": [
        {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "Workflow has no terminal state"},
        {"severity": "WARNING", "code": "NO_DOLLAR", "location": "/States/A/Parameters/a", "message": "The value of the field 'a' looks like a JSONPath or an intrinsic function, but the field name does not end with '.$'"},
    ]}));
    assert_eq!(validation_response(&ds, 1)["truncated"], true);
    assert_eq!(validation_response(&[], 100), serde_json::json!({"result": "OK", "diagnostics": [], "truncated": false}));
}

/// Issue 11, defect 1: one ValidateStateMachineDefinition or CreateStateMachine holding a 55 KB
/// JSONata chain (27,000 terms) aborted the whole server with a stack overflow. On a tokio
/// worker's 2 MiB stack, each is now an `INVALID_JSONATA_EXPRESSION` diagnostic.
#[test]
fn jsonata_operator_chains_are_diagnostics_not_a_stack_overflow() {
    for (first, term) in [("1", "+1"), ("a", ".a"), ("'a'", "&'a'"), ("1", "=1")] {
        let expr = format!("{{% {first}{} %}}", term.repeat(27_000));
        let def = serde_json::json!({"QueryLanguage": "JSONata", "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Output": expr, "End": true}}})
        .to_string();
        let (text, diags) = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let compiled = crate::compile::compile_text(&def).map(|_| ());
                (compiled, crate::definition::validate_text(&def).1)
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(text.is_err(), "{first}{term}...");
        assert!(
            diags.iter().any(|d| d.code == "INVALID_JSONATA_EXPRESSION"
                && d.location == "/States/A/Output"
                && d.message.starts_with("S0201")),
            "{first}{term}...: {diags:?}"
        );
    }
}
