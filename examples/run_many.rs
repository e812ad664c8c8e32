//! Runs one workflow N times, one after another on one thread, and prints nothing: a steady
//! workload for profilers and instruction counters, whose figures (unlike timings) do not move
//! with the load of a shared machine.
//!
//! `cargo build --release --example run_many`, then for example
//! `valgrind --tool=cachegrind --cache-sim=no target/release/examples/run_many \
//!     benches/workflows/w1_jsonata.json benches/workflows/w1_jsonata.input.json 2000`
//! (subtract a run with N = 0 and divide by N for instructions per execution).

use expressway::engine::{Engine, ExecutionMeta, Settings};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, definition, input, n] = args.as_slice() else {
        return Err("usage: run_many <definition.json> <input.json> <N>".into());
    };
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let definition = std::fs::read_to_string(definition).map_err(|e| e.to_string())?;
    let input = std::fs::read_to_string(input).map_err(|e| e.to_string())?;
    let engine = Engine::new(Settings::default());
    let program = engine.compile(&definition).map_err(|d| format!("{d:?}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        for _ in 0..n {
            let meta = ExecutionMeta::express(engine.settings(), "run_many", "execution");
            std::hint::black_box(engine.execute(program.clone(), &input, meta).await);
        }
    });
    Ok(())
}
