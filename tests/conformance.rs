//! Runs the AWS-recorded conformance cases in-process and prints per-tag pass counts: every
//! case that needs no service but a mocked Lambda, the slow and STANDARD-only ones included
//! (under tokio's paused clock), each replayed through the API it was recorded with where that
//! changes what `$$` shows.
//! Fails when the pass count drops below `tests/conformance/FLOOR` (which only ever rises).
//! `CONFORMANCE_FILTER=text` runs only cases whose id contains `text`; `CONFORMANCE_VERBOSE=1`
//! prints every failure with its reason.

#[path = "conformance/harness.rs"]
mod harness;

use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::tasks::MockLambdas;
use harness::{Answer, Case};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a case is not run here: it needs a service we do not mock.
fn skip_reason(case: &Case) -> Option<String> {
    let needs = case.needs();
    let mocked_lambda = needs == ["lambda"] && !case.raw["mock"].is_null();
    if needs != ["none"] && !mocked_lambda {
        return Some(format!("needs:{}", needs.join("+")));
    }
    None
}

/// Which set a case belongs to: run.py's default set, or one it leaves out unless asked.
#[derive(Clone, Copy, PartialEq)]
enum Set {
    Default,
    /// A Wait of over 3 s: run under tokio's paused clock, so it takes no time.
    Slow,
    /// Recorded on a STANDARD machine with StartExecution: run as one (paused clock too).
    Standard,
}

fn set_of(case: &Case) -> Set {
    let features = case.features();
    if features.iter().any(|f| f == "standard_only") {
        Set::Standard
    } else if features.iter().any(|f| f == "slow") {
        Set::Slow
    } else {
        Set::Default
    }
}

async fn run_case(engine: Arc<Engine>, case: &Case) -> Answer {
    let account = engine.settings().account.clone();
    let definition = case.raw["definition"].to_string();
    let input = case.raw["input"].to_string();
    let program = match engine.compile(&definition) {
        Ok(p) => p,
        Err(d) => {
            return Answer {
                status: "INVALID_DEFINITION".into(),
                output: None,
                error: d.first().map(|d| d.code.to_string()),
                cause: d
                    .first()
                    .map(|d| format!("{} at {}", d.message, d.location)),
                account,
            };
        }
    };
    // As run.py does by default: an EXPRESS machine started with StartSyncExecution; a
    // STANDARD-only case as `run.py --type STANDARD` runs it (StartExecution).
    let mut meta = ExecutionMeta::express(engine.settings(), "conformance", "execution");
    // An EXPRESS case recorded through StartExecution is replayed that way (`$$` differs).
    let source = &case.raw["source"];
    if source["state_machine_type"] == "EXPRESS" && source["api"] == "start_execution" {
        meta.asynchronous = true;
    }
    if set_of(case) == Set::Standard {
        let s = engine.settings();
        meta.execution_arn = format!(
            "arn:aws:states:{}:{}:execution:conformance:execution",
            s.region, s.account
        );
        meta.asynchronous = true;
    }
    let o = engine.execute(program, &input, meta).await;
    Answer {
        status: o.status.as_str().to_string(),
        output: o
            .output
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        error: o.error,
        cause: o.cause,
        account,
    }
}

#[test]
fn conformance() {
    let cases = harness::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/cases.jsonl"
    ));
    let filter = std::env::var("CONFORMANCE_FILTER").ok();
    let verbose = std::env::var("CONFORMANCE_VERBOSE").is_ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut per_tag: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let (mut passed, mut failed) = (0u32, 0u32);
    // The default set alone (no Lambda mocks): what `run.py --endpoint` scores.
    let (mut default_passed, mut default_failed) = (0u32, 0u32);
    let mut failures = Vec::new();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| skip_reason(c).is_none())
        .filter(|c| filter.as_deref().is_none_or(|f| c.id.contains(f)))
        .collect();
    let judge = |ans: Result<Answer, tokio::time::error::Elapsed>, case: &Case| match ans {
        Ok(ans) => harness::compare(case, &ans),
        Err(_) => Err("no answer in 30 s".to_string()),
    };
    let mut results: Vec<(usize, Result<(), String>)> = rt.block_on(async {
        let mut handles = Vec::new();
        for (i, case) in selected.iter().enumerate() {
            if set_of(case) != Set::Default {
                continue;
            }
            let engine = Arc::new(harness_engine(case));
            let case_raw = Case {
                id: case.id.clone(),
                raw: case.raw.clone(),
            };
            handles.push(tokio::spawn(async move {
                let ans = tokio::time::timeout(
                    std::time::Duration::from_secs(30),
                    run_case(engine, &case_raw),
                )
                .await;
                (i, judge(ans, &case_raw))
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(
                h.await
                    .unwrap_or((usize::MAX, Err("the case panicked".into()))),
            );
        }
        out
    });
    // Slow and STANDARD-only cases, one at a time under a paused clock.
    for (i, case) in selected.iter().enumerate() {
        if set_of(case) == Set::Default {
            continue;
        }
        let paused = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("paused runtime");
        let engine = Arc::new(harness_engine(case));
        let ans = paused.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(30), run_case(engine, case)).await
        });
        results.push((i, judge(ans, case)));
    }
    let (mut slow, mut standard) = ((0u32, 0u32), (0u32, 0u32));
    for (i, r) in results {
        let Some(case) = selected.get(i) else {
            failed += 1;
            continue;
        };
        let ok = r.is_ok();
        if ok {
            passed += 1
        } else {
            failed += 1
        }
        let tally = match set_of(case) {
            _ if case.needs() != ["none"] => None,
            Set::Default => Some((&mut default_passed, &mut default_failed)),
            Set::Slow => Some((&mut slow.0, &mut slow.1)),
            Set::Standard => Some((&mut standard.0, &mut standard.1)),
        };
        if let Some((p, f)) = tally {
            *(if ok { p } else { f }) += 1;
        }
        for tag in case.features() {
            let e = per_tag.entry(tag).or_default();
            if ok { e.0 += 1 } else { e.1 += 1 }
        }
        if let Err(reason) = r {
            failures.push(format!("{}: {}", case.id, reason));
        }
    }
    println!("{:<18} {:>6} {:>6}", "tag", "passed", "failed");
    for (tag, (p, f)) in &per_tag {
        println!("{tag:<18} {p:>6} {f:>6}");
    }
    if verbose {
        for f in &failures {
            println!("FAIL {}", truncate(f, 700));
        }
    }
    // The counts reach the terminal even when the test's output is captured (plain `cargo test`).
    summary(&format!(
        "default set (needs none): {default_passed} passed, {default_failed} failed\n\
         slow (paused clock): {} passed, {} failed\n\
         standard_only (as STANDARD): {} passed, {} failed\n\
         all of these with the mocked Lambda cases:\n\
         conformance: {passed} passed, {failed} failed",
        slow.0, slow.1, standard.0, standard.1
    ));
    if filter.is_none() {
        let floor: u32 = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/conformance/FLOOR"
        ))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
        assert!(
            passed >= floor,
            "conformance dropped: {passed} passed, the floor is {floor}"
        );
    }
}

/// Writes `lines` to stderr past libtest's output capture (which takes only `print!`/`eprint!`), so
/// plain `cargo test` shows the counts.
fn summary(lines: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{lines}");
}

/// An engine per case: Lambda cases get their mocked functions.
fn harness_engine(case: &Case) -> Engine {
    let mut engine = Engine::new(Settings::default());
    if !case.raw["mock"].is_null() {
        let mock = expressway::value::Value::from_serde(&case.raw["mock"]);
        let lambdas = MockLambdas::from_case_mock(&mock).expect("every case's mock object loads");
        engine.tasks_mut().register_lambda(Arc::new(lambdas));
    }
    engine
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
