//! Parks N executions at once in a Wait state of SECONDS and prints what each one keeps
//! resident while it waits: the growth of the process's resident set (`VmRSS` in
//! `/proc/self/status`) from before the first start to when all N wait, divided by N. Then it
//! lets them finish and checks every output.
//!
//! `cargo build --release --example parked`, then `target/release/examples/parked 1000000 20`.
//! It fails (exit status 1) when any execution ends other than as expected.

use expressway::engine::{Engine, ExecutionMeta, Settings, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A Wait, then a Pass that adds to the input: the output shows the execution ran past the Wait
/// with its own input.
const DEFINITION: &str = r#"{
  "StartAt": "Park",
  "States": {
    "Park": { "Type": "Wait", "SecondsPath": "$.seconds", "Next": "Done" },
    "Done": { "Type": "Pass", "Result": "woke", "ResultPath": "$.state", "End": true }
  }
}"#;

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> Result<usize, String> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    let kib: usize = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|e| format!("{field}: {e}"))?;
    Ok(kib * 1024)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, n, seconds] = args.as_slice() else {
        return Err("usage: parked <N> <SECONDS>".into());
    };
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let seconds: u64 = seconds.parse().map_err(|e| format!("SECONDS: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let engine = Arc::new(Engine::new(Settings::default()));
        let program = engine.compile(DEFINITION).map_err(|d| format!("{d:?}"))?;
        // Everything the measurement should not count is made first: the handles' vector, and
        // one execution run through, so the allocator and the runtime hold their pools.
        let mut handles = Vec::with_capacity(n);
        let warm = engine
            .execute(
                program.clone(),
                r#"{"seconds":0}"#,
                ExecutionMeta::express(engine.settings(), "parked", "warm"),
            )
            .await;
        if warm.status != Status::Succeeded {
            return Err(format!("the warm-up execution ended {warm:?}"));
        }
        let before = status_bytes("VmRSS")?;
        let started = Instant::now();
        for i in 0..n {
            let (engine, program) = (engine.clone(), program.clone());
            handles.push(tokio::spawn(async move {
                let input = format!(r#"{{"seconds":{seconds},"i":{i}}}"#);
                let meta = ExecutionMeta::express(engine.settings(), "parked", "parked");
                let outcome = engine.execute(program, &input, meta).await;
                (i, outcome)
            }));
            if i % 4096 == 4095 {
                // Let the workers start what was spawned, so the queue does not hold them all.
                tokio::task::yield_now().await;
            }
        }
        let spawned = started.elapsed();
        // Every execution has parked once the runtime's queue is empty and the resident set
        // stops growing: wait for that (within half the Wait), then read it.
        let settle = Instant::now();
        let mut last = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = status_bytes("VmRSS")?;
            let queued = tokio::runtime::Handle::current().metrics().global_queue_depth();
            if queued == 0 && now == last {
                break;
            }
            last = now;
            if settle.elapsed() > Duration::from_secs(seconds) / 2 {
                return Err("the executions did not all park within half the Wait".into());
            }
        }
        let parked = status_bytes("VmRSS")?;
        let per = (parked.saturating_sub(before)) as f64 / n.max(1) as f64;
        let finished_early = handles.iter().filter(|h| h.is_finished()).count();
        println!(
            "parked {n} executions in a Wait of {seconds} s (started in {:.2} s): resident {:.1} MiB → {:.1} MiB, {per:.0} bytes per execution",
            spawned.as_secs_f64(),
            before as f64 / (1 << 20) as f64,
            parked as f64 / (1 << 20) as f64,
        );
        let mut wrong = 0usize;
        for h in handles {
            let (i, outcome) = h.await.map_err(|e| e.to_string())?;
            let expected = format!(r#"{{"seconds":{seconds},"i":{i},"state":"woke"}}"#);
            if outcome.status != Status::Succeeded || outcome.output.as_deref() != Some(&expected) {
                if wrong < 3 {
                    eprintln!("execution {i}: {outcome:?}");
                }
                wrong += 1;
            }
        }
        let peak = status_bytes("VmHWM")?;
        println!(
            "all {n} completed in {:.2} s: {} correct, {wrong} wrong; peak resident {:.1} MiB; {finished_early} finished before the measurement",
            started.elapsed().as_secs_f64(),
            n - wrong,
            peak as f64 / (1 << 20) as f64,
        );
        if wrong > 0 {
            return Err(format!("{wrong} executions ended wrong"));
        }
        Ok(())
    })
}
