//! Nothing panics, leaks or hangs: a seeded mutation test over the AWS-recorded conformance cases
//! plus a table of hostile definitions, inputs and JSONata expressions.
//!
//! Every mutated definition goes through `definition::validate` and `Engine::compile`; what
//! compiles is executed on a fresh current-thread runtime with paused time (so Wait states, retry
//! backoff and timeouts cost no wall-clock time) on its own thread, so that a panic is caught and
//! reported with the input that caused it, and a hang is detected by a wall-clock bound.
//! `ROBUST_MUTATIONS=n` raises the number of mutations per case (default 1, on every other case;
//! `ROBUST_STRIDE=1` takes them all) and `ROBUST_SEED=n`
//! changes the seed, for longer local runs.

use expressway::definition;
use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::jsonata;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::mpsc;
use std::time::Duration;

/// Wall-clock bound on one execution (debug build, 2 shared cores): beyond it, a hang.
const HANG: Duration = Duration::from_secs(20);

/// A tokio worker's stack in release (what the server and spawned branches get); a debug
/// build's frames are several times larger, and its JSONata stack budgets assume 8 MiB or more.
const STACK: usize = if cfg!(debug_assertions) {
    12 << 20
} else {
    2 << 20
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// What went wrong with one input: a panic or a hang, with the input that caused it.
fn check(definition: &str, input: &str) -> Result<(), String> {
    let (def, inp) = (definition.to_string(), input.to_string());
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let r = std::panic::catch_unwind(|| run_one(&def, &inp));
            let _ = tx.send(r.map_err(|p| panic_text(&p)));
        })
        .map_err(|e| format!("cannot spawn: {e}"))?;
    let shown = |s: &str| s.chars().take(600).collect::<String>();
    let result = match rx.recv_timeout(HANG) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(p)) => Err(format!("PANIC ({p})")),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("PANIC (thread died)".to_string()),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // The thread is left behind: the test fails anyway.
            return Err(format!(
                "HANG (> {HANG:?}) on definition {} input {}",
                shown(definition),
                shown(input)
            ));
        }
    };
    let _ = handle.join();
    result.map_err(|what| {
        format!(
            "{what} on definition {} input {}",
            shown(definition),
            shown(input)
        )
    })
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

/// Validates, compiles and runs one definition on one input under paused time.
fn run_one(definition: &str, input: &str) {
    if let Ok(raw) = serde_json::from_str::<Value>(definition) {
        let _ = definition::validate(&raw);
    }
    let _ = definition::validate_text(definition);
    let _ = run_paused(definition, input);
}

/// Status and error of one execution of `definition` (`None` when it does not compile), on a
/// fresh current-thread runtime under paused time with a 60 s execution timeout.
fn run_paused(definition: &str, input: &str) -> Option<(String, Option<String>)> {
    let engine = Engine::new(Settings {
        max_execution_duration: Duration::from_secs(60),
        ..Settings::default()
    });
    let program = engine.compile(definition).ok()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    Some(rt.block_on(async {
        // Paused time jumps over sleeps when idle; the ticker also moves it while an execution
        // keeps the runtime busy, so the execution timeout ends CPU-bound loops too.
        let ticker = tokio::spawn(async {
            loop {
                tokio::time::advance(Duration::from_secs(5)).await;
                tokio::task::yield_now().await;
            }
        });
        let meta = ExecutionMeta::express(engine.settings(), "robust", "execution");
        let o = engine.execute(program, input, meta).await;
        ticker.abort();
        (o.status.as_str().to_string(), o.error)
    }))
}

// ---------------------------------------------------------------------------------------------
// Mutations

fn deep_array(n: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..n {
        v = Value::Array(vec![v]);
    }
    v
}

fn deep_object(n: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..n {
        let mut m = serde_json::Map::new();
        m.insert("a".into(), v);
        v = Value::Object(m);
    }
    v
}

/// Values that replace a node of a definition or input.
fn hostile_value(rng: &mut StdRng) -> Value {
    const STRINGS: &[&str] = &[
        "",
        "$",
        "$$",
        "$.",
        "$[",
        "$..",
        "$.a[",
        "$[?(@.a",
        "$.a[-1]",
        "$[9999999999999999999]",
        "$$.Map.Item.Value",
        "$$.Execution.Input.a.b.c",
        "States.Format(",
        "States.Format('{}{}{}', $)",
        "States.ArrayRange(1, 100000000, 1)",
        "States.ArrayRange(1, 1000, 0)",
        "States.StringSplit($, '')",
        "States.JsonToString($)",
        "States.StringToJson('{')",
        "States.ArrayPartition($, 0)",
        "States.MathAdd(9223372036854775807, 1)",
        "States.Base64Decode('@@')",
        "States.Hash($, 'MD5')",
        "States.ArrayGetItem($, -1)",
        "{% %}",
        "{% $undefined %}",
        "{% $states.input %}",
        "{% [1..100000000] %}",
        "{% [1..9999999] ~> $count() %}",
        "{% $range(0, 99999999) %}",
        "{% $string($states) %}",
        "{% $string($) %}",
        "{% (function($f){$f($f)})(function($f){$f($f)}) %}",
        "{% ($f := function($x){$f($x)}; $f(1)) %}",
        "{% ($f := function($x){$x > 0 ? $x + $f($x - 1) : 0}; $f(100000)) %}",
        "{% $pad('', 999999999) %}",
        "{% $join($map([1..1000000], function($v){'aaaaaaaaaa'})) %}",
        "{% $parse('{') %}",
        "{% $power(10, 400) %}",
        "{% 1/0 %}",
        "{% $partition([1,2,3], 0) %}",
        "{% $hash('a', 'nope') %}",
        "{% ( %}",
        "{%",
        "%}",
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::states:startExecution.sync",
        "Missing",
        "\u{0}\u{ffff}",
    ];
    match rng.gen_range(0..24) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(1.5),
        5 => json!(1e308),
        6 => json!(-9223372036854775808i64),
        7 => json!(18446744073709551615u64),
        8 => json!(99999999999u64),
        9 => json!(-0.0000001),
        10 => json!({}),
        11 => json!([]),
        12 => Value::String("a".repeat(300_000)),
        13 => deep_array(rng.gen_range(50..1000)),
        14 => deep_object(rng.gen_range(50..1000)),
        15 => Value::Array((0..rng.gen_range(1000..6000)).map(|i| json!(i)).collect()),
        16 => json!({"a.$": "$", "b.$": "$$", "c.$": "States.Format('{}', $)"}),
        _ => Value::String(STRINGS[rng.gen_range(0..STRINGS.len())].to_string()),
    }
}

/// JSON pointers of every node of `v` (bounded).
fn nodes(v: &Value, at: String, out: &mut Vec<String>) {
    if out.len() > 5000 {
        return;
    }
    out.push(at.clone());
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                nodes(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                nodes(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

const TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Nope",
];

/// One random mutation of `v` in place.
fn mutate(v: &mut Value, rng: &mut StdRng) {
    let mut all = Vec::new();
    nodes(v, String::new(), &mut all);
    let at = all[rng.gen_range(0..all.len())].clone();
    let Some(node) = v.pointer_mut(&at) else {
        return;
    };
    match rng.gen_range(0..10) {
        // Another value of another type.
        0..=3 => *node = hostile_value(rng),
        // Drop or duplicate a field.
        4 => {
            if let Value::Object(m) = node
                && !m.is_empty()
            {
                let k = m.keys().nth(rng.gen_range(0..m.len())).cloned();
                if let Some(k) = k {
                    m.shift_remove(&k);
                }
            }
        }
        5 => {
            if let Value::Object(m) = node
                && let Some((k, x)) = m.iter().nth(rng.gen_range(0..m.len().max(1)))
            {
                let (k, x) = (format!("{k}.$"), x.clone());
                m.insert(k, x);
            }
        }
        // Swap a state's type or point Next at a missing state.
        6 => {
            if let Value::Object(m) = node {
                if m.contains_key("Type") {
                    m.insert("Type".into(), json!(TYPES[rng.gen_range(0..TYPES.len())]));
                } else if m.contains_key("Next") {
                    m.insert("Next".into(), json!("Missing"));
                } else {
                    m.insert("Type".into(), json!("Map"));
                }
            }
        }
        // Numbers that bound time and retries.
        7 => {
            if let Value::Object(m) = node {
                let k = [
                    "Seconds",
                    "MaxAttempts",
                    "IntervalSeconds",
                    "BackoffRate",
                    "MaxConcurrency",
                    "TimeoutSeconds",
                    "HeartbeatSeconds",
                    "MaxDelaySeconds",
                    "ToleratedFailureCount",
                    "ToleratedFailurePercentage",
                ][rng.gen_range(0..10)];
                let n = [
                    json!(0),
                    json!(-1),
                    json!(99999999),
                    json!(1e300),
                    json!(0.0001),
                    json!(2147483648u64),
                ][rng.gen_range(0..6)]
                .clone();
                m.insert(k.into(), n);
            }
        }
        // Wrap in deep nesting.
        8 => {
            let inner = node.take();
            let mut w = inner;
            for _ in 0..rng.gen_range(10..1000) {
                w = if rng.gen_bool(0.5) {
                    Value::Array(vec![w])
                } else {
                    json!({ "a": w })
                };
            }
            *node = w;
        }
        _ => {
            if let Value::Array(a) = node
                && let Some(x) = a.first().cloned()
            {
                let n = rng.gen_range(100..3000);
                a.extend(std::iter::repeat_n(x, n));
            } else {
                *node = hostile_value(rng);
            }
        }
    }
}

#[test]
fn mutated_conformance_cases_never_panic_or_hang() {
    // serde_json's writer and drop recurse over the deep mutations: a big stack for them.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(mutations)
        .expect("a thread")
        .join()
        .expect("the mutation run");
}

fn mutations() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/cases.jsonl"
    ))
    .expect("the cases are part of the repository");
    let cases: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let per_case = env_usize("ROBUST_MUTATIONS", 1);
    // Every `stride`-th case (ROBUST_STRIDE=1 for all of them): keeps the default run near a minute.
    let stride = env_usize("ROBUST_STRIDE", 2).max(1);
    let seed = env_usize("ROBUST_SEED", 20261126) as u64;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut jobs = Vec::new();
    for case in cases.iter().step_by(stride) {
        let (def, input) = (&case["definition"], &case["input"]);
        for _ in 0..per_case {
            let mut d = def.clone();
            let mut i = input.clone();
            let n = rng.gen_range(1..4);
            for _ in 0..n {
                if rng.gen_bool(0.7) {
                    mutate(&mut d, &mut rng);
                } else {
                    mutate(&mut i, &mut rng);
                }
            }
            jobs.push((d.to_string(), i.to_string()));
        }
    }
    let failures = run_jobs(jobs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs jobs on two threads; the failures found.
fn run_jobs(jobs: Vec<(String, String)>) -> Vec<String> {
    let total = jobs.len();
    let trace = std::env::var("ROBUST_TRACE").is_ok();
    let jobs = std::sync::Mutex::new(jobs.into_iter());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let next = jobs.lock().map(|mut j| j.next()).ok().flatten();
                    let Some((d, i)) = next else { break };
                    if trace {
                        eprintln!("run: {d} INPUT {i}");
                    }
                    if let Err(e) = check(&d, &i) {
                        eprintln!("{e}");
                        if let Ok(mut f) = failures.lock() {
                            f.push(e);
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_default();
    println!("robustness: {total} runs, {} failures", failures.len());
    failures
}

// ---------------------------------------------------------------------------------------------
// Hand-written hostile definitions and inputs

fn pass_map(items: usize) -> (String, String) {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}"#;
    let input = format!("[{}]", vec!["1"; items].join(","));
    (def.to_string(), input)
}

fn parallel(branches: usize) -> String {
    let b = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
    format!(
        r#"{{"StartAt":"P","States":{{"P":{{"Type":"Parallel","Branches":[{}],"End":true}}}}}}"#,
        vec![b; branches].join(",")
    )
}

fn jsonata_pass(expr: &str) -> String {
    json!({"QueryLanguage": "JSONata", "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": expr, "End": true}}})
    .to_string()
}

fn path_pass_text(params: &str) -> String {
    format!(
        r#"{{"StartAt":"A","States":{{"A":{{"Type":"Pass","Parameters":{params},"End":true}}}}}}"#
    )
}

fn path_pass(params: Value) -> String {
    json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": params, "End": true}}})
        .to_string()
}

#[test]
fn hostile_definitions_never_panic_or_hang() {
    // Built as text: serde_json's own writer and drop recurse.
    let deep_in = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_obj = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let deep_ok = format!("{}1{}", r#"{"a":"#.repeat(120), "}".repeat(120));
    let mut jobs: Vec<(String, String)> = vec![
        // Loops of Pass/Choice states with no effect: bounded by the execution timeout.
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}"#.into(), "{}".into()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsPresent":false,"Next":"A"}],"Default":"B"},"B":{"Type":"Succeed"}}}"#.into(), "{}".into()),
        // Loops with a way out that is never taken: CPU-bound until the execution timeout,
        // some nesting the data one level deeper per turn.
        (looping(json!({"Type":"Pass","Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Pass","Parameters":{"a.$":"$"},"Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Pass","Parameters":{"a.$":"$","b.$":"$"},"Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Pass","Parameters":{"a.$":"States.Array($, $)"},"Next":"B"})), "{}".into()),
        // KNOWN: `"a.$": "States.JsonToString($)"` in such a loop doubles the data each turn
        // (escaping) and exhausts memory before the check every 1,000 transitions; AWS's 256 KiB
        // limit on each state's output would stop it. Not run until a per-state check exists.
        // KNOWN: JSONata `[$states.input, $states.input]` in a loop: the data is shared, but
        // converting it for JSONata copies it out (2^turns); `Assign {"v": "{% {'a': $v} %}"}`
        // in a loop is far slower than it should be. Both left out for the same reason.
        (looping(json!({"Type":"Pass","QueryLanguage":"JSONata","Output":"{% [$states.input] %}","Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Pass","Assign":{"v.$":"$"},"Parameters":{"a.$":"$"},"Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}}],"Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"ResultPath":"$.r","Next":"B"})), r#"{"items":[1,2,3]}"#.into()),
        (looping(json!({"Type":"Wait","Seconds":0,"Next":"B"})), "{}".into()),
        (looping(json!({"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:none","Catch":[{"ErrorEquals":["States.ALL"],"Next":"B"}],"Next":"B"})), "{}".into()),
        // Loops that nest the data one level deeper per transition.
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$"},"Next":"A"}}}"#.into(), "{}".into()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$"},"Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a","IsPresent":true,"Next":"C"}],"Default":"A"},"C":{"Type":"Succeed"}}}"#.into(), "{}".into()),
        (json!({"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% [$states.input] %}","Next":"A"}}}).to_string(), "{}".into()),
        (json!({"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"v":"{% {'a': $v} %}"},"Next":"A"}}}).to_string(), "{}".into()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$","b.$":"$"},"Next":"A"}}}"#.into(), "{}".into()),
        // Wait with huge seconds and timestamps.
        (r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":99999999,"End":true}}}"#.into(), "{}".into()),
        (r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#.into(), r#"{"s":1e300}"#.into()),
        (r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#.into(), r#"{"s":-5}"#.into()),
        (r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#.into(), r#"{"s":9223372036854775807}"#.into()),
        (r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}"#.into(), r#"{"t":"9999-12-31T23:59:59Z"}"#.into()),
        (r#"{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.t","End":true}}}"#.into(), r#"{"t":"0000-01-01T00:00:00Z"}"#.into()),
        (json!({"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% 1e300 %}","End":true}}}).to_string(), "{}".into()),
        // Retry with huge MaxAttempts and tiny intervals, on a failing Parallel.
        (r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}],"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":99999999,"IntervalSeconds":1,"BackoffRate":1}],"End":true}}}"#.into(), "{}".into()),
        (r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}],"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":99999999,"IntervalSeconds":99999999,"BackoffRate":2,"JitterStrategy":"FULL"}],"End":true}}}"#.into(), "{}".into()),
        (r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:none","Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":99999999,"IntervalSeconds":1,"BackoffRate":1.0}],"End":true}}}"#.into(), "{}".into()),
        // Deep and large inputs.
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(), deep_in.clone()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(), deep_obj.clone()),
        (path_pass(json!({"a.$": "States.JsonToString($)"})), deep_obj.clone()),
        (path_pass(json!({"a.$": "$..a"})), deep_obj.clone()),
        (path_pass_text(&format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000))), "{}".into()),
        (path_pass(json!({"a.$": "States.JsonToString($)"})), deep_ok.clone()),
        (path_pass(json!({"a.$": "$..a"})), deep_ok.clone()),
        (jsonata_pass("{% $string($states.input) %}"), deep_ok.clone()),
        (jsonata_pass("{% $states.input ~> $each(function($v){$v}) %}"), deep_ok.clone()),
        (jsonata_pass("{% $states.input.** %}"), deep_ok.clone()),
        (path_pass(json!({"a.$": "States.ArrayRange(1, 100000000, 1)"})), "{}".into()),
        (path_pass(json!({"a.$": "States.ArrayRange(1, 1000000, 1)"})), "{}".into()),
        (path_pass(json!({"a.$": "States.StringSplit($.s, '')"})), json!({"s": "ab".repeat(100_000)}).to_string()),
        (path_pass(json!({"a.$": "States.Format($.s, $.s, $.s)"})), json!({"s": "{}".repeat(50_000)}).to_string()),
        (path_pass(json!({"a.$": format!("States.Format({})", "States.Format(".repeat(5000))})), "{}".into()),
        (path_pass(json!({"a.$": format!("$.{}", "a.".repeat(20_000))})), "{}".into()),
        (path_pass(json!({"a.$": format!("$.{}", "[".repeat(20_000))})), "{}".into()),
        (path_pass(json!({"a.$": "$[?(@.a > 1)]"})), deep_in.clone()),
        // JSONata that recurses or builds huge data.
        (jsonata_pass("{% [1..100000000] %}"), "{}".into()),
        (jsonata_pass("{% $count([1..999999]) %}"), "{}".into()),
        (jsonata_pass("{% $range(0, 100000000) %}"), "{}".into()),
        (jsonata_pass("{% $string($states.input) %}"), deep_in.clone()),
        (jsonata_pass("{% $string($states.input) %}"), deep_obj.clone()),
        (jsonata_pass("{% $states.input.a.a.a.a.a.a.a.a.a.a.a.a %}"), deep_obj.clone()),
        (jsonata_pass("{% $states.input ~> $each(function($v){$v}) %}"), deep_obj.clone()),
        (jsonata_pass("{% (function($f){$f($f)})(function($f){$f($f)}) %}"), "{}".into()),
        (jsonata_pass("{% ($f := function($x){$f($x)}; $f(1)) %}"), "{}".into()),
        (jsonata_pass("{% ($f := function($x){$x > 0 ? 1 + $f($x - 1) : 0}; $f(100000)) %}"), "{}".into()),
        (jsonata_pass("{% $pad('', 999999999) %}"), "{}".into()),
        (jsonata_pass("{% $join($map([1..1000000], function($v){'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'})) %}"), "{}".into()),
        (jsonata_pass(&format!("{{% {}1{} %}}", "(".repeat(10_000), ")".repeat(10_000))), "{}".into()),
        (jsonata_pass(&format!("{{% {}1{} %}}", "[".repeat(10_000), "]".repeat(10_000))), "{}".into()),
        (jsonata_pass(&format!("{{% {}1 %}}", "-".repeat(10_000))), "{}".into()),
        (jsonata_pass(&format!("{{% 1{} %}}", "+1".repeat(50_000))), "{}".into()),
        (jsonata_pass(&format!("{{% $states.input{} %}}", ".a".repeat(20_000))), "{}".into()),
        (jsonata_pass("{% $power(2, 99999) %}"), "{}".into()),
        (jsonata_pass("{% 9223372036854775807 * 9223372036854775807 %}"), "{}".into()),
        (jsonata_pass("{% $formatNumber(1e300, '#,##0.00') %}"), "{}".into()),
        (jsonata_pass("{% $formatInteger(1e300, 'w') %}"), "{}".into()),
        (jsonata_pass("{% $fromMillis(1e300) %}"), "{}".into()),
        (jsonata_pass("{% $toMillis('99999-99-99') %}"), "{}".into()),
        (jsonata_pass("{% $substring('abc', -9999999999, 9999999999) %}"), "{}".into()),
        (jsonata_pass("{% $partition([1,2,3], 0) %}"), "{}".into()),
        (jsonata_pass("{% $partition([1,2,3], -1) %}"), "{}".into()),
        (jsonata_pass("{% $random() * 1e308 * 10 %}"), "{}".into()),
        (jsonata_pass("{% $parse($states.input.s) %}"), json!({"s": "[".repeat(100_000)}).to_string()),
        (jsonata_pass("{% $split('aaaa', '') %}"), "{}".into()),
        (jsonata_pass("{% $replace('aaaa', /a*/, 'b') %}"), "{}".into()),
        (jsonata_pass("{% $match('aaaa', /(a*)*/) %}"), "{}".into()),
        (jsonata_pass("{% $sort([1..100000], function($a,$b){$a < $b}) %}"), "{}".into()),
        // Map/Parallel with thousands of items/branches.
        pass_map(20_000),
        (parallel(2_000), "{}".into()),
        (r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.a","MaxConcurrency":99999999,"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}},"End":true}}}"#.into(), json!({"a": vec![1; 5000]}).to_string()),
        (json!({"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% [1..100000] %}","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}).to_string(), "{}".into()),
        (json!({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$","ItemSelector":{"a.$":"$$.Map.Item.Value","b.$":"$"},"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}).to_string(), json!(vec![deep_object(300); 100]).to_string()),
        // Maps nested in maps.
        (nested_maps(12), json!([[1, 2], [3, 4]]).to_string()),
        // Not JSON, or not ASL.
        ("".into(), "{}".into()),
        ("\u{0}\u{1}\u{ff}".into(), "{}".into()),
        ("[".repeat(200_000), "{}".into()),
        ("{\"StartAt\":".to_string() + &"{\"a\":".repeat(100_000), "{}".into()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(), "not json".into()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(), "[".repeat(100_000)),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(), "1e999999".into()),
        (r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#.into(), "\"\\ud800\"".into()),
        (nested_parallel(2_000), "{}".into()),
    ];
    for e in JSONATA_ODD {
        jobs.push((jsonata_pass(&format!("{{% {e} %}}")), "{}".into()));
    }
    let failures = run_jobs(jobs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A state `A` followed by a Choice `B` that goes back to `A` unless `$.never` shows up.
fn looping(a: Value) -> String {
    json!({"StartAt": "A", "States": {
        "A": a,
        "B": {"Type": "Choice", "Choices": [{"Variable": "$.never", "IsPresent": true, "Next": "C"}], "Default": "A"},
        "C": {"Type": "Succeed"}}})
    .to_string()
}

fn nested_maps(depth: usize) -> String {
    let mut inner = json!({"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}});
    for _ in 0..depth {
        inner = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": inner, "End": true}}});
    }
    inner.to_string()
}

fn nested_parallel(depth: usize) -> String {
    let open = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":["#;
    let inner = r#"{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}"#;
    format!("{}{inner}{}", open.repeat(depth), "]}}}".repeat(depth))
}

/// Odd JSONata sources: each is compiled on its own and run in a Pass state.
const JSONATA_ODD: &[&str] = &[
    "",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "$",
    "$$",
    "$.",
    "..",
    "...",
    "1..",
    "[1..]",
    "[..1]",
    "$[",
    "a[",
    "a{",
    "a.b.c[0][",
    "?:",
    "1 ? : 2",
    "function",
    "function(",
    "function($x)",
    "function($x){",
    "λ($x){$x}",
    "$f :=",
    ":= 1",
    "$a := $a",
    "~>",
    "1 ~> 2",
    "$map(",
    "/",
    "/a",
    "/(/",
    "/a/z",
    "\"",
    "'",
    "`",
    "`a",
    "\\",
    "\u{0}",
    "%",
    "#",
    "#$i",
    "@",
    "@$a",
    "^(",
    "^(a",
    "a^(>b, <c)",
    "**",
    "*.*.*",
    "**.**",
    "$sum(**)",
    "1e",
    "1e+",
    "0x10",
    "-",
    "--1",
    "!",
    "&",
    "&&",
    "| a |",
    "|a|b|",
    "{}{}",
    "[][]",
    "(1;2;)",
    "(;)",
    "$string",
    "$string()",
    "$string(1,2,3,4)",
    "$lookup()",
    "$eval('1')",
    "$sift()",
    "$zip()",
    "$reduce([1,2], function($a){$a})",
    "$reduce([], function($a,$b){$a})",
    "$each()",
    "$keys(1)",
    "$spread(1)",
    "$merge(1)",
    "$error()",
    "$error('x')",
    "$assert(false)",
    "$assert(false, 'no')",
    "$single([1,2])",
    "$number('0x1p3')",
    "$number('1e400')",
    "$floor(1e400)",
    "$round(1.5, 400)",
    "$round(1.5, -400)",
    "$sqrt(-1)",
    "$power(-1, 0.5)",
    "$base64decode('@@@')",
    "$decodeUrl('%')",
    "$decodeUrlComponent('%E0%A4%A')",
    "$encodeUrl('\u{d7ff}')",
    "$formatBase(10, 99)",
    "$formatBase(10, 1)",
    "$formatInteger(5, '')",
    "$formatNumber(1, '')",
    "$formatNumber(1, ';;;')",
    "$fromMillis(0, '[')",
    "$fromMillis(0, '[Y,9999]')",
    "$toMillis('2020', '[')",
    "$now('[', '[')",
    "$pad('a', -99999999)",
    "$substring('a', 1e300)",
    "$substringBefore()",
    "$split('a', 'a', -1)",
    "$join(['a'], 1)",
    "$replace('a', '', 'b')",
    "$replace('a', /a/, function(){1})",
    "$contains('a', /(/)",
    "$distinct(1..2)",
    "$shuffle([1..1000])",
    "$sort(1)",
    "$count(1, 2)",
    "$append([1..500000], [1..500000])",
    "$hash('a', 'SHA-999')",
    "$uuid(1)",
    "$partition()",
    "$range(1, 2, 0)",
    "$range(1, 1e300, 1e299)",
    "$parse('1e999')",
    "$parse('{\"a\":')",
    "$states",
    "$states.context.Execution.Input",
    "$states.result",
    "$states.errorOutput",
    "1 = 1 = 1",
    "'a' < 1",
    "[1] = [1]",
    "{} + 1",
    "1 in 1",
    "null.a",
    "null[0]",
    "true()",
    "$x()",
    "1()",
    "(1)(2)",
    "$f := function($g){$g($g)}; $f($f)",
    "[1,2,3][$ > $$]",
    "$[0][0][0][0]",
    "a.b[c.d[e.f[g]]]",
    "%.%.%",
    "$$.$$.$$",
    "{'a': 1}.%",
    "[1,2]@$x#$i.$x",
    "$string({'a': function(){1}})",
    "$keys($)",
    "{'a': $}.a.a.a",
    "$.**",
    "$sum([1..100000] ~> $map(function($v){$v*$v}))",
];

#[test]
fn jsonata_compiler_takes_odd_sources() {
    // Compiled alone (both dialects) and evaluated on a small input, on a thread so a panic
    // names its source.
    let mut failures = Vec::new();
    let mut sources: Vec<String> = JSONATA_ODD.iter().map(|s| s.to_string()).collect();
    sources.push("(".repeat(100_000));
    sources.push("[".repeat(100_000));
    sources.push("{".repeat(100_000));
    sources.push("-".repeat(100_000) + "1");
    sources.push("$f(".repeat(50_000));
    sources.push("a.".repeat(100_000) + "a");
    sources.push("1+".repeat(100_000) + "1");
    sources.push("function($x){".repeat(20_000));
    sources.push("'".to_string() + &"\\u".repeat(10_000));
    let trace = std::env::var("ROBUST_TRACE").is_ok();
    for src in sources {
        if trace {
            eprintln!("jsonata: {}", src.chars().take(80).collect::<String>());
        }
        let s = src.clone();
        let r = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || {
                for step_functions in [false, true] {
                    let options = jsonata::Options { step_functions };
                    if let Ok(expr) = jsonata::compile_with(&s, options) {
                        let input = expressway::value::parse(r#"{"a":[1,2,{"b":3}]}"#).ok();
                        let _ = expr.evaluate(input.as_ref(), &(), &jsonata::Limits::default());
                    }
                }
            })
            .map(|h| h.join());
        if !matches!(r, Ok(Ok(()))) {
            failures.push(format!(
                "PANIC on JSONata {}",
                src.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Status and error of one execution (as `run_paused`) on a thread with `STACK`.
fn outcome(definition: &str, input: &str) -> (String, Option<String>) {
    let (def, inp) = (definition.to_string(), input.to_string());
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || run_paused(&def, &inp).expect("the definition compiles"))
        .expect("a thread")
        .join()
        .expect("no panic")
}

/// Each input here once crashed or hung the engine; the comment says what broke.
#[test]
fn fixed_crashes() {
    // No error on a timed-out execution, as AWS's DescribeExecution shows it.
    let timed_out = ("TIMED_OUT".to_string(), None);
    let too_big = (
        "FAILED".to_string(),
        Some("States.DataLimitExceeded".to_string()),
    );
    // A loop of Pass/Choice states: step() never returned, so the timeout never fired.
    assert_eq!(
        outcome(&looping(json!({"Type":"Pass","Next":"B"})), "{}"),
        timed_out
    );
    // A loop through a Parallel whose branch finishes inline never awaited anything.
    let par = json!({"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","End":true}}}],"ResultPath":null,"Next":"B"});
    assert_eq!(outcome(&looping(par), "{}"), timed_out);
    // A loop nesting its input one level per turn: dropping it at the end overflowed the stack.
    let nest = json!({"Type":"Pass","Parameters":{"a.$":"$"},"Next":"B"});
    assert_eq!(outcome(&looping(nest), "{}"), too_big);
    // A Wait of i64::MAX seconds: the clock overflowed (panic).
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#;
    assert_eq!(outcome(wait, r#"{"s":9223372036854775807}"#), timed_out);
    // JSONata nested 100,000 deep or chained 100,000 long: the parser, or dropping its tree,
    // overflowed the stack (a debug build at only 50 levels of parentheses).
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| {
            for src in [
                "(".repeat(100_000),
                "a.".repeat(100_000) + "a",
                "1+".repeat(100_000) + "1",
            ] {
                let e = jsonata::compile(&src).expect_err("too deep");
                assert_eq!(e.code, "S0201", "{}", &src[..10]);
            }
        })
        .expect("a thread")
        .join()
        .expect("S0201 for each");
    // Non-tail recursion 100,000 deep: U1001 before the stack runs out, in either profile.
    let rec = jsonata_pass("{% ($f := function($x){$x > 0 ? 1 + $f($x - 1) : 0}; $f(100000)) %}");
    assert_eq!(outcome(&rec, "{}").0, "FAILED");
}
