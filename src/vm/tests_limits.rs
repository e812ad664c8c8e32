//! AWS's data quotas: each one passes at its limit and fails one byte past it, with AWS's error
//! name and cause, caught or not as AWS does it.
//!
//! Limits here are small (`L` bytes) so that sizes are easy to count: a JSON string of `n`
//! characters (`x(n)`) is `n + 2` bytes.

use super::tests::info;
use super::*;
use crate::compile::compile_text;
use crate::value::parse;

/// The payload limit of these tests; variables get `L`, 1.5 `L` per Assign, 2.5 `L` in total.
const L: usize = 1000;

fn limits() -> Limits {
    Limits {
        payload_bytes: L,
        variable_bytes: L,
        assign_bytes: L * 3 / 2,
        variables_total_bytes: L * 5 / 2,
    }
}

fn exec(def: &str, input: &str) -> (Arc<Program>, Execution) {
    let program = Arc::new(compile_text(def).expect("the definition compiles"));
    let mut facts = (*info()).clone();
    facts.limits = limits();
    let exec = Execution::new(
        &program,
        Arc::new(facts),
        parse(input).expect("input parses"),
        SystemTime::UNIX_EPOCH,
    );
    (program, exec)
}

/// The output JSON, or `error|cause`.
fn show(step: Step) -> String {
    match step {
        Step::Done(Ok(v)) => v.to_json(),
        Step::Done(Err(e)) => format!("{}|{}", e.name(), e.cause.as_deref().unwrap_or("")),
        Step::Effect(e) => format!("effect {e:?}"),
    }
}

/// Runs a definition that needs no effects.
fn run(def: &str, input: &str) -> String {
    let (program, mut exec) = exec(def, input);
    show(exec.step(&program, SystemTime::UNIX_EPOCH))
}

/// Runs a definition whose first state is a Task, resuming it with `result`.
fn task(def: &str, input: &str, result: &str) -> String {
    let (program, mut exec) = exec(def, input);
    match exec.step(&program, SystemTime::UNIX_EPOCH) {
        Step::Effect(Effect::Invoke(_)) => {}
        other => return format!("no invoke: {other:?}"),
    }
    let result = Resume::Task(Ok(parse(result).expect("result parses")));
    show(exec.resume(&program, result, SystemTime::UNIX_EPOCH))
}

/// Runs a definition whose first state is a Parallel, resuming it with `outputs`.
fn parallel(def: &str, outputs: &[&str]) -> String {
    let (program, mut exec) = exec(def, "{}");
    match exec.step(&program, SystemTime::UNIX_EPOCH) {
        Step::Effect(Effect::Parallel { .. }) => {}
        other => return format!("no fork: {other:?}"),
    }
    let items = outputs.iter().map(|o| parse(o).expect("parses")).collect();
    show(exec.resume(
        &program,
        Resume::Children(Ok(items)),
        SystemTime::UNIX_EPOCH,
    ))
}

/// A JSON string literal `n + 2` bytes long.
fn x(n: usize) -> String {
    format!("\"{}\"", "x".repeat(n))
}

fn sm(states: &str) -> String {
    format!(r#"{{"StartAt":"S","States":{{{states}}}}}"#)
}

fn too_big(who: &str) -> String {
    format!(
        "States.DataLimitExceeded|The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
    )
}

const CATCH_ALL: &str = r#""Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}]"#;
const CATCH_NAMED: &str = r#""Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"Next":"H"}]"#;
const NO_CATCH: &str = r#""Catch":[{"ErrorEquals":["Other"],"Next":"H"}]"#;
const HANDLER: &str = r#""H":{"Type":"Pass","Result":"caught","End":true}"#;
const LAMBDA: &str = "arn:aws:states:::lambda:invoke";

#[test]
fn value_sizes_are_the_compact_json_bytes() {
    for text in [
        "null",
        "true",
        "false",
        "0",
        "-9223372036854775808",
        "1.5",
        "1e+300",
        r#""""#,
        r#""a\"b\\c\n\t\r\b\f\u0001\u001f""#,
        r#""é€😀""#,
        "[]",
        "{}",
        r#"[1,[2,{"a":[]}],"x"]"#,
        r#"{"k\"ey":{"":null},"b":[true,false]}"#,
    ] {
        let v = parse(text).expect("parses");
        let len = v.to_json().len();
        assert_eq!(v.json_len_within(usize::MAX), Some(len), "{text}");
        assert_eq!(v.json_len_within(len), Some(len), "{text} at its size");
        assert_eq!(v.json_len_within(len - 1), None, "{text} one byte short");
    }
    // Every escape at every position of short and longer strings (eight bytes are tested at
    // once, the rest one by one); bytes past ASCII need none.
    for len in 1..20 {
        for at in 0..len {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é', ' ', '~'] {
                let mut s: String = "a".repeat(len);
                s.replace_range(at..at + 1, &special.to_string());
                let v = Value::from(s.as_str());
                assert_eq!(
                    v.json_len_within(usize::MAX),
                    Some(v.to_json().len()),
                    "{s:?}"
                );
            }
        }
    }
    // Deeper than recursion goes: the heap walk gives the same sum.
    let mut v = Value::int(1);
    for _ in 0..5_000 {
        v = Value::array(vec![v]);
    }
    assert_eq!(v.json_len_within(usize::MAX), Some(10_001));
    assert_eq!(v.json_len_within(10_000), None);
    v.dismantle();
}

#[test]
fn resource_labels_follow_aws() {
    for (resource, label) in [
        (LAMBDA, "lambda"),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", "lambda"),
        ("arn:aws:states:::dynamodb:getItem", "dynamodb"),
        ("arn:aws:states:::aws-sdk:s3:getObject", "aws-sdk:s3"),
        ("arn:aws:states:::states:startExecution.sync:2", "states"),
        (
            "arn:aws:lambda:us-east-1:111111111111:function:f",
            "arn:aws:lambda:us-east-1:111111111111:function:f",
        ),
    ] {
        assert_eq!(limits::resource_label(resource), label, "{resource}");
    }
}

#[test]
fn state_payloads_pass_at_the_limit_and_fail_past_it() {
    let pass_result = |n: usize| {
        sm(&format!(
            r#""S":{{"Type":"Pass","Result":{},"End":true}}"#,
            x(n)
        ))
    };
    // Parameters builds `{"v":<input>}`: 6 bytes around the input; the output stays the input.
    let parameters =
        sm(r#""S":{"Type":"Pass","Parameters":{"v.$":"$"},"ResultPath":null,"End":true}"#);
    let arguments = sm(&format!(
        r#""S":{{"Type":"Task","QueryLanguage":"JSONata","Resource":"{LAMBDA}","Arguments":{{"v":"{{% $states.input %}}"}},"End":true}}"#
    ));
    // The input merged with a 2-byte result under "r": 7 bytes more than the input.
    let result_path = sm(r#""S":{"Type":"Pass","Result":{},"ResultPath":"$.r","End":true}"#);
    let succeed = sm(
        r#""S":{"Type":"Succeed","QueryLanguage":"JSONata","Output":"{% $states.input & $states.input %}"}"#,
    );
    let choice = sm(
        r#""S":{"Type":"Choice","QueryLanguage":"JSONata","Choices":[{"Condition":"{% true %}","Output":{"v":"{% $states.input %}"},"Next":"E"}]},"E":{"Type":"Succeed"}"#,
    );
    let input_obj = |n: usize| format!(r#"{{"a":{}}}"#, x(n)); // n + 8 bytes, output n + 15
    for (case, def, input, ok) in [
        ("Pass Result", pass_result(L - 2), "{}".to_string(), true),
        ("Pass Result", pass_result(L - 1), "{}".into(), false),
        ("Parameters", parameters.clone(), x(L - 8), true),
        ("Parameters", parameters, x(L - 7), false),
        ("ResultPath", result_path.clone(), input_obj(L - 15), true),
        ("ResultPath", result_path, input_obj(L - 14), false),
        // A string doubled: 2n + 2 bytes, so one character more is two bytes past.
        ("Succeed Output", succeed.clone(), x(L / 2 - 1), true),
        ("Succeed Output", succeed, x(L / 2), false),
        ("Choice Output", choice.clone(), x(L - 8), true),
        ("Choice Output", choice, x(L - 7), false),
    ] {
        let out = run(&def, &input);
        if ok {
            assert!(!out.starts_with("States."), "{case} at the limit: {out}");
        } else {
            assert_eq!(out, too_big("S"), "{case} past the limit");
        }
    }
    // Arguments (JSONata) build the Task's input: checked before the task is invoked.
    let (program, mut e) = exec(&arguments, &x(L - 8));
    assert!(matches!(
        e.step(&program, SystemTime::UNIX_EPOCH),
        Step::Effect(Effect::Invoke(_))
    ));
    assert_eq!(run(&arguments, &x(L - 7)), too_big("S"));
}

#[test]
fn task_results_name_the_resource_and_are_caught_by_states_all() {
    let def = |resource: &str, catch: &str| {
        sm(&format!(
            r#""S":{{"Type":"Task","Resource":"{resource}","ResultPath":null,{catch}"End":true}},{HANDLER}"#
        ))
    };
    let function = "arn:aws:lambda:us-east-1:111111111111:function:f";
    let cases = [
        (
            def(LAMBDA, &format!("{NO_CATCH},")),
            x(L - 2),
            "{}".to_string(),
        ),
        (
            def(LAMBDA, &format!("{NO_CATCH},")),
            x(L - 1),
            too_big("lambda"),
        ),
        (
            def(function, &format!("{NO_CATCH},")),
            x(L - 1),
            too_big(function),
        ),
        // Recorded on AWS: a Catch on States.ALL, or naming the error, catches it.
        (
            def(LAMBDA, &format!("{CATCH_ALL},")),
            x(L - 1),
            r#""caught""#.into(),
        ),
        (
            def(LAMBDA, &format!("{CATCH_NAMED},")),
            x(L - 1),
            r#""caught""#.into(),
        ),
        (
            def(
                LAMBDA,
                r#""Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"H"}],"#,
            ),
            x(L - 1),
            r#""caught""#.into(),
        ),
    ];
    for (def, result, want) in cases {
        assert_eq!(
            task(&def, "{}", &result),
            want,
            "{def} with {} bytes",
            result.len()
        );
    }
}

#[test]
fn terminal_payload_errors_escape_states_all_but_not_their_name() {
    // A Task's output grows past the limit through ResultPath: the state's output is too big.
    let output = |catch: &str| {
        sm(&format!(
            r#""S":{{"Type":"Task","Resource":"{LAMBDA}","ResultPath":"$.r",{catch},"End":true}},{HANDLER}"#
        ))
    };
    let input = format!(r#"{{"a":{}}}"#, x(L - 20));
    assert_eq!(task(&output(CATCH_ALL), &input, &x(10)), too_big("S"));
    assert_eq!(task(&output(CATCH_NAMED), &input, &x(10)), r#""caught""#);
    // A Parallel's branches together: the cause names the state; States.ALL does not catch it.
    let par = |catch: &str| {
        sm(&format!(
            r#""S":{{"Type":"Parallel","Branches":[{{"StartAt":"B","States":{{"B":{{"Type":"Pass","End":true}}}}}}],"ResultPath":null,{catch},"End":true}},{HANDLER}"#
        ))
    };
    // `[a,b]` is 3 bytes more than its members: L, then L + 1.
    let (a, b, over) = (x(L / 2 - 4), x(L / 2 - 3), x(L / 2 - 2));
    assert_eq!(parallel(&par(CATCH_ALL), &[&a, &b]), "{}");
    assert_eq!(parallel(&par(CATCH_ALL), &[&a, &over]), too_big("S"));
    assert_eq!(parallel(&par(CATCH_NAMED), &[&a, &over]), r#""caught""#);
    // The Catch's own output (the error merged into the input) is a state output too.
    let catch_output = sm(&format!(
        r#""S":{{"Type":"Task","Resource":"{LAMBDA}","Catch":[{{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"H"}}],"End":true}},{HANDLER}"#
    ));
    let (program, mut e) = exec(&catch_output, &format!(r#"{{"a":{}}}"#, x(L - 40)));
    let _ = e.step(&program, SystemTime::UNIX_EPOCH);
    let failed = StatesError::new("Boom", "a cause long enough to pass the limit");
    let out = show(e.resume(&program, Resume::Task(Err(failed)), SystemTime::UNIX_EPOCH));
    assert_eq!(out, too_big("S"));
}

fn var_cause(state: &str, what: &str) -> String {
    format!("States.DataLimitExceeded|The state/task '{state}' {what}")
}

#[test]
fn variables_pass_at_their_limits_and_fail_past_them() {
    let one = |name: &str, n: usize| format!(r#""{name}":{}"#, x(n));
    let pass = |assign: &str| {
        sm(&format!(
            r#""S":{{"Type":"Pass","Assign":{{{assign}}},"End":true}}"#
        ))
    };
    let single = |n| pass(&one("v", n));
    let pair = |n| pass(&format!("{},{}", one("a", L * 3 / 4 - 2), one("b", n)));
    // L + L + L / 2 bytes reach the execution's total; replacing `a` frees its bytes.
    let chain = |n: usize, last: &str| {
        sm(&format!(
            r#""S":{{"Type":"Pass","Assign":{{{}}},"Next":"T"}},"T":{{"Type":"Pass","Assign":{{{}}},"Next":"U"}},"U":{{"Type":"Pass","Assign":{{{}}},"End":true}}"#,
            one("a", L - 2),
            one("b", L - 2),
            one(last, n)
        ))
    };
    let single_cause = var_cause(
        "S",
        "assigned a value to the variable 'v' with a size exceeding the maximum number of bytes service limit.",
    );
    let pair_cause = var_cause(
        "S",
        "assigned variables with a combined size exceeding the maximum number of bytes service limit.",
    );
    let total_cause = var_cause(
        "U",
        "assigned variables that would take the execution's variables past the maximum number of bytes service limit.",
    );
    for (case, def, want) in [
        ("one variable", single(L - 2), None),
        ("one variable", single(L - 1), Some(&single_cause)),
        ("one Assign", pair(L * 3 / 4 - 2), None),
        ("one Assign", pair(L * 3 / 4 - 1), Some(&pair_cause)),
        ("the execution", chain(L / 2 - 2, "c"), None),
        ("the execution", chain(L / 2 - 1, "c"), Some(&total_cause)),
        ("a replaced value", chain(L - 2, "a"), None),
    ] {
        let out = run(&def, "{}");
        match want {
            None => assert!(!out.starts_with("States."), "{case} at the limit: {out}"),
            Some(cause) => assert_eq!(&out, cause, "{case} past the limit"),
        }
    }
}

#[test]
fn every_assign_is_measured() {
    let big = x(L - 1);
    let fits = x(L - 2);
    let cause = |state: &str| {
        var_cause(
            state,
            "assigned a value to the variable 'v' with a size exceeding the maximum number of bytes service limit.",
        )
    };
    // JSONata Assign, and a Choice rule's Assign in both query languages.
    let jsonata = sm(
        r#""S":{"Type":"Pass","QueryLanguage":"JSONata","Assign":{"v":"{% $states.input %}"},"End":true}"#,
    );
    assert!(!run(&jsonata, &fits).starts_with("States."));
    assert_eq!(run(&jsonata, &big), cause("S"));
    let choice_path = sm(
        r#""S":{"Type":"Choice","Choices":[{"Variable":"$","IsString":true,"Assign":{"v.$":"$"},"Next":"E"}]},"E":{"Type":"Succeed"}"#,
    );
    assert!(!run(&choice_path, &fits).starts_with("States."));
    assert_eq!(run(&choice_path, &big), cause("S"));
    let choice_ata = sm(
        r#""S":{"Type":"Choice","QueryLanguage":"JSONata","Choices":[{"Condition":"{% true %}","Assign":{"v":"{% $states.input %}"},"Next":"E"}]},"E":{"Type":"Succeed"}"#,
    );
    assert_eq!(run(&choice_ata, &big), cause("S"));
    // A Catch's Assign: the state's name in the cause, and not caught again.
    let catcher = sm(&format!(
        r#""S":{{"Type":"Task","Resource":"{LAMBDA}","Catch":[{{"ErrorEquals":["States.ALL"],"Assign":{{"v.$":"$.Cause"}},"ResultPath":null,"Next":"H"}}],"End":true}},{HANDLER}"#
    ));
    let (program, mut e) = exec(&catcher, "{}");
    let _ = e.step(&program, SystemTime::UNIX_EPOCH);
    let failed = StatesError::new("Boom", "x".repeat(L - 1));
    let out = show(e.resume(&program, Resume::Task(Err(failed)), SystemTime::UNIX_EPOCH));
    assert_eq!(out, cause("S"));
}

#[test]
fn variable_errors_escape_states_all_but_not_their_name() {
    // The result fits the payload quota; stored twice, it passes the per-Assign quota.
    let def = |catch: &str| {
        sm(&format!(
            r#""S":{{"Type":"Task","Resource":"{LAMBDA}","Assign":{{"v.$":"$","w.$":"$"}},"ResultPath":null,{catch},"End":true}},{HANDLER}"#
        ))
    };
    let cause = var_cause(
        "S",
        "assigned variables with a combined size exceeding the maximum number of bytes service limit.",
    );
    assert_eq!(task(&def(CATCH_ALL), "{}", &x(L - 2)), cause);
    assert_eq!(task(&def(CATCH_NAMED), "{}", &x(L - 2)), r#""caught""#);
    assert_eq!(task(&def(CATCH_ALL), "{}", &x(L * 3 / 4 - 2)), "{}");
}

#[test]
fn scopes_share_the_execution_budget_and_give_it_back() {
    let def = sm(r#""S":{"Type":"Pass","Assign":{"a.$":"$"},"End":true}"#);
    let (program, mut parent) = exec(&def, &x(L - 2));
    let _ = parent.step(&program, SystemTime::UNIX_EPOCH);
    assert_eq!(parent.vars.budget.stored(), L);
    {
        let mut child = parent.child(
            &program,
            ScopeId(0),
            parse(&x(L - 2)).expect("x"),
            SystemTime::UNIX_EPOCH,
        );
        let _ = child.step(&program, SystemTime::UNIX_EPOCH);
        assert_eq!(parent.vars.budget.stored(), 2 * L);
    }
    assert_eq!(
        parent.vars.budget.stored(),
        L,
        "a finished scope's variables stop counting"
    );
}

#[test]
fn size_bounds_never_hide_an_oversized_output() {
    // Each state replaces "r": the bound grows past the limit, the measured size does not.
    let replace = |name: &str, next: &str| {
        format!(
            r#""{name}":{{"Type":"Pass","Result":{},"ResultPath":"$.r",{next}}}"#,
            x(300)
        )
    };
    let chain = sm(&format!(
        "{},{},{},{},{}",
        replace("S", r#""Next":"T""#),
        replace("T", r#""Next":"U""#),
        replace("U", r#""Next":"V""#),
        replace("V", r#""Next":"W""#),
        replace("W", r#""End":true"#)
    ));
    assert_eq!(run(&chain, "{}"), format!(r#"{{"r":{}}}"#, x(300)));
    // A path that is not definite can collect more than its input holds.
    let deep = format!(r#"{{"a":{{"a":{{"a":{{"b":{}}}}}}}}}"#, x(400));
    let collect = sm(r#""S":{"Type":"Pass","OutputPath":"$..a","End":true}"#);
    assert_eq!(run(&collect, &deep), too_big("S"));
    let pick = sm(r#""S":{"Type":"Pass","OutputPath":"$.a.a","End":true}"#);
    assert!(!run(&pick, &deep).starts_with("States."));
}
