//! Executions per second on the shared bench workflows, string in → string out, in-process.
//! Beside each workflow, the JSON floor: parsing its input and serializing its output alone.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::tasks::MockConfig;
use std::hint::black_box;
use std::sync::Arc;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).expect("bench workflows are in the repository")
}

fn engine_for(workflow: &str) -> Engine {
    let mut engine = Engine::new(Settings::default());
    if workflow == "w5_credit" {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/mock-config.json"
        ))
        .expect("the w5 mock configuration is in examples/");
        engine.tasks_mut().set_mock_config(
            MockConfig::parse(&text).expect("the example mock configuration parses"),
        );
    }
    engine
}

fn bench_workflows(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("workflows");
    group.throughput(Throughput::Elements(1));
    for w in [
        "w1_pass_chain",
        "w1_jsonata",
        "w2_choice",
        "w3_map100",
        "w4_parallel",
        "w5_credit",
    ] {
        let engine = engine_for(w);
        let program = engine
            .compile(&read(&format!("{w}.json")))
            .expect("bench workflows compile");
        let input = read(&format!("{w}.input.json"));
        let mut meta = ExecutionMeta::express(engine.settings(), w, "bench");
        if w == "w5_credit" {
            meta.test_case = Some("HappyPath".into());
        }
        let first = rt.block_on(engine.execute(program.clone(), &input, meta.clone()));
        assert_eq!(first.status.as_str(), "SUCCEEDED", "{w}: {first:?}");
        group.bench_function(format!("{w}/execute"), |b| {
            b.iter(|| {
                let out = rt.block_on(engine.execute(
                    Arc::clone(&program),
                    black_box(&input),
                    meta.clone(),
                ));
                black_box(out.output)
            })
        });
        let output = first.output.expect("succeeded");
        group.bench_function(format!("{w}/json_floor"), |b| {
            b.iter(|| {
                let i = expressway::value::parse(black_box(&input)).expect("parses");
                let o = expressway::value::parse(black_box(&output)).expect("parses");
                black_box((i, o.to_json()))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_workflows);
criterion_main!(benches);
