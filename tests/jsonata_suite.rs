//! Runs the official JSONata 2.0.6 test suite (`tests/jsonata-suite/`) against our evaluator.
//!
//! Prints pass counts per group and a last line `jsonata-suite: N passed, M failed`; fails when
//! N drops below `tests/jsonata-suite/FLOOR`. `JSONATA_SUITE_VERBOSE=1` lists each failure,
//! `JSONATA_SUITE_GROUP=name` runs one group.

use std::path::{Path, PathBuf};
use std::time::Duration;

use expressway::jsonata::{Limits, compile};
use expressway::value::{Map, Value};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jsonata-suite")
}

fn load(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    expressway::value::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Deep equality with numbers compared by value, allowing the last-bit differences of doubles
/// (the suite's expectations were written from JavaScript's printed, rounded output).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64(), y.as_f64());
            x == y || (x - y).abs() <= 1e-13 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Outcome of one case: `Ok(())` or a description of the mismatch.
fn run_case(case: &Value, datasets: &Path, group: &Path) -> Result<(), String> {
    let from_file;
    let expr = match case.get("expr-file").and_then(|f| f.as_str()) {
        Some(file) => {
            from_file = std::fs::read_to_string(group.join(file)).map_err(|e| e.to_string())?;
            from_file.as_str()
        }
        None => case.get("expr").and_then(|e| e.as_str()).ok_or("no expr")?,
    };
    let input: Option<Value> = if let Some(d) = case.get("data") {
        Some(d.clone())
    } else {
        match case.get("dataset").and_then(|d| d.as_str()) {
            Some(name) => Some(load(&datasets.join(format!("{name}.json")))?),
            None => None,
        }
    };
    let bindings: Map = case
        .get("bindings")
        .and_then(|b| b.as_object())
        .cloned()
        .unwrap_or_default();
    let mut limits = Limits {
        max_depth: 1000,
        max_items: 10_000_000,
        max_stack: 6 << 20,
        ..Limits::default()
    };
    if let Some(d) = case.get("depth").and_then(|d| d.as_i64()) {
        limits.max_depth = d as usize;
    }
    if let Some(t) = case.get("timelimit").and_then(|d| d.as_i64()) {
        limits.max_time = Duration::from_millis(t as u64);
    }
    let outcome = compile(expr).and_then(|e| e.evaluate(input.as_ref(), &bindings, &limits));
    let expected_error = case
        .get("code")
        .or_else(|| case.get("error").and_then(|e| e.get("code")));
    if let Some(code) = expected_error.and_then(|c| c.as_str()) {
        let message = case
            .get("error")
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str());
        return match outcome {
            Err(e) if e.code == code && message.is_none_or(|m| m == e.message) => Ok(()),
            Err(e) => Err(format!(
                "expected error {code} {message:?}, got {} ({})",
                e.code, e.message
            )),
            Ok(v) => Err(format!(
                "expected error {code}, got {:?}",
                v.map(|v| v.to_json())
            )),
        };
    }
    let got = outcome.map_err(|e| format!("unexpected error {}: {}", e.code, e.message))?;
    if case.get("undefinedResult").and_then(|u| u.as_bool()) == Some(true) {
        return match got {
            None => Ok(()),
            Some(v) => Err(format!("expected undefined, got {}", v.to_json())),
        };
    }
    let want = case.get("result").cloned();
    match (&want, &got) {
        (Some(w), Some(g)) if same(w, g) => Ok(()),
        (None, None) => Ok(()),
        _ => Err(format!(
            "expected {:?}, got {:?}",
            want.map(|v| v.to_json()),
            got.map(|v| v.to_json())
        )),
    }
}

fn run_suite() -> (usize, usize) {
    let dir = suite_dir();
    let datasets = dir.join("datasets");
    let verbose = std::env::var("JSONATA_SUITE_VERBOSE").is_ok();
    let only = std::env::var("JSONATA_SUITE_GROUP").ok();
    let mut groups: Vec<PathBuf> = std::fs::read_dir(dir.join("groups"))
        .expect("groups dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    groups.sort();
    let (mut passed, mut failed) = (0, 0);
    for g in groups {
        let name = g
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if only.as_ref().is_some_and(|o| *o != name) {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&g)
            .expect("group dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let (mut gp, mut gf) = (0, 0);
        for f in files {
            let cases = match load(&f) {
                Ok(Value::Array(a)) => a.to_vec(),
                Ok(one) => vec![one],
                Err(e) => {
                    // serde_json rejects lone surrogate escapes, which a few cases use
                    gf += 1;
                    if verbose {
                        println!("FAIL {}: unreadable case file: {e}", f.display());
                    }
                    continue;
                }
            };
            for (i, case) in cases.iter().enumerate() {
                let r = std::panic::catch_unwind(|| run_case(case, &datasets, &g))
                    .unwrap_or_else(|_| Err("panicked".into()));
                match r {
                    Ok(()) => gp += 1,
                    Err(why) => {
                        gf += 1;
                        if verbose {
                            let fname = f.file_name().unwrap_or_default().to_string_lossy();
                            let expr = case.get("expr").map(|e| e.to_json()).unwrap_or_default();
                            println!("FAIL {name}/{fname}#{i}: {expr} -- {why}");
                        }
                    }
                }
            }
        }
        println!("{name}: {gp}/{}", gp + gf);
        passed += gp;
        failed += gf;
    }
    (passed, failed)
}

#[test]
fn jsonata_suite() {
    let (passed, failed) = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(run_suite)
        .expect("spawn suite thread")
        .join()
        .expect("suite thread");
    // Past libtest's output capture (which takes only `print!`/`eprint!`): plain `cargo test`
    // shows the count too.
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "jsonata-suite: {passed} passed, {failed} failed"
        );
    }
    let floor: usize = std::fs::read_to_string(suite_dir().join("FLOOR"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        passed >= floor,
        "pass count {passed} fell below the floor {floor}"
    );
}
