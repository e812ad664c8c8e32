//! Runs one workflow N times, one after another on one thread, and prints nothing: a steady
//! workload for profilers and instruction counters, whose figures (unlike timings) do not move
//! with the load of a shared machine.
//!
//! `cargo build --release --example run_many`, then for example
//! `valgrind --tool=cachegrind --cache-sim=no target/release/examples/run_many \
//!     benches/workflows/w1_jsonata.json benches/workflows/w1_jsonata.input.json 2000`
//! (subtract a run with N = 0 and divide by N for instructions per execution).
//! `HISTORY=1` records every history event (what logging at `ALL` costs on the execution's
//! path); `MOCK_CONFIG=FILE TEST_CASE=NAME` serves Tasks from a mock configuration, as `run`
//! does (the state machine is named after the definition file).

use expressway::engine::{Engine, ExecutionMeta, Settings};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, definition, input, n] = args.as_slice() else {
        return Err("usage: run_many <definition.json> <input.json> <N>".into());
    };
    let n: usize = n.parse().map_err(|e| format!("N: {e}"))?;
    let definition_path = definition;
    let definition = std::fs::read_to_string(definition).map_err(|e| e.to_string())?;
    let input = std::fs::read_to_string(input).map_err(|e| e.to_string())?;
    let mut engine = Engine::new(Settings::default());
    let machine = std::path::Path::new(definition_path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("run_many")
        .to_string();
    if let Ok(path) = std::env::var("MOCK_CONFIG") {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let config =
            expressway::tasks::MockConfig::parse(&text).map_err(|e| format!("{path}: {e}"))?;
        engine.tasks_mut().set_mock_config(config);
    }
    let test_case = std::env::var("TEST_CASE").ok();
    let history = std::env::var_os("HISTORY").is_some();
    let program = engine.compile(&definition).map_err(|d| format!("{d:?}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        for _ in 0..n {
            let mut meta = ExecutionMeta::express(engine.settings(), &machine, "execution");
            meta.test_case = test_case.clone();
            meta.history = history;
            std::hint::black_box(engine.execute(program.clone(), &input, meta).await);
        }
    });
    Ok(())
}
