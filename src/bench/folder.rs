//! Folder mode of `expressway bench`: executions per second on a folder of workflow files, with the
//! flags and output lines of the shared peer harnesses (`../shared/bench/peers/*`), so the figures
//! sit beside theirs: `expressway <workflow> <seq|cN> <median> min=.. max=.. n=.. check=ok|FAILED`.
//! `scripts/bench-vs-peers.sh` and the shared harnesses parse these lines: keep their shape.

use expressway::engine::{Engine, ExecutionMeta, Settings};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What folder mode reads from the flags.
pub struct FolderArgs {
    pub workflows: String,
    pub only: Option<String>,
    pub seconds: f64,
    pub rounds: usize,
    pub warmup: f64,
    pub concurrency: String,
}

fn workflows(args: &FolderArgs) -> Vec<String> {
    if let Some(only) = &args.only {
        return only.split(',').map(str::to_string).collect();
    }
    let mut names: Vec<String> = std::fs::read_dir(&args.workflows)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| {
                    n.ends_with(".json")
                        && !n.ends_with(".input.json")
                        && !n.ends_with(".expected.json")
                })
                .map(|n| n.trim_end_matches(".json").to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Message ids differ run to run: the output check masks them, as the peers' harnesses do.
pub fn masked(text: &str) -> Option<serde_json::Value> {
    fn mask(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k.eq_ignore_ascii_case("messageid") {
                        *x = serde_json::Value::Null;
                    } else {
                        mask(x);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(mask),
            _ => {}
        }
    }
    let mut v = serde_json::from_str(text).ok()?;
    mask(&mut v);
    Some(v)
}

/// Runs the benchmark; returns false when a workflow failed its output check.
pub fn run(args: FolderArgs) -> bool {
    let Some(rt) = crate::runtime() else {
        return false;
    };
    let mut engine = Engine::new(Settings::default());
    expressway::tasks::demo::register_tutorial_handlers(engine.tasks_mut());
    let engine = Arc::new(engine);
    let concurrency: Vec<usize> = args
        .concurrency
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let mut ok = true;
    for name in workflows(&args) {
        let read =
            |suffix: &str| std::fs::read_to_string(format!("{}/{name}{suffix}", args.workflows));
        let (Ok(def), Ok(input)) = (read(".json"), read(".input.json")) else {
            eprintln!("# {name}: missing files in {}", args.workflows);
            ok = false;
            continue;
        };
        let program = match engine.compile(&def) {
            Ok(p) => p,
            Err(d) => {
                eprintln!("# {name}: invalid definition: {d:?}");
                ok = false;
                continue;
            }
        };
        let meta = ExecutionMeta::express(engine.settings(), &name, "bench");
        let first = rt.block_on(engine.execute(program.clone(), &input, meta.clone()));
        let expected = read(".expected.json").ok().and_then(|t| masked(&t));
        let check = match (&first.output, &expected) {
            (Some(out), Some(exp)) => masked(out).as_ref() == Some(exp),
            (Some(_), None) => true,
            _ => false,
        };
        if !check {
            ok = false;
        }
        for &c in &concurrency {
            let mode = if c <= 1 {
                "seq".to_string()
            } else {
                format!("c{c}")
            };
            let round = |secs: f64| -> f64 {
                let deadline = Instant::now() + Duration::from_secs_f64(secs);
                let started = Instant::now();
                let n = rt.block_on(async {
                    let mut handles = Vec::with_capacity(c.max(1));
                    for _ in 0..c.max(1) {
                        let (engine, program, input, meta) =
                            (engine.clone(), program.clone(), input.clone(), meta.clone());
                        handles.push(tokio::spawn(async move {
                            let mut n = 0u64;
                            while Instant::now() < deadline {
                                let out =
                                    engine.execute(program.clone(), &input, meta.clone()).await;
                                std::hint::black_box(out.output);
                                n += 1;
                            }
                            n
                        }));
                    }
                    let mut total = 0;
                    for h in handles {
                        total += h.await.unwrap_or(0);
                    }
                    total
                });
                n as f64 / started.elapsed().as_secs_f64()
            };
            round(args.warmup);
            let mut rates: Vec<f64> = (0..args.rounds.max(1))
                .map(|_| round(args.seconds))
                .collect();
            rates.sort_by(f64::total_cmp);
            let median = rates[rates.len() / 2];
            println!(
                "expressway {name} {mode} {median:.0} min={:.0} max={:.0} n={} check={}",
                rates[0],
                rates[rates.len() - 1],
                rates.len(),
                if check { "ok" } else { "FAILED" }
            );
        }
    }
    ok
}
