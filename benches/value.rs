//! JSON parse and serialize throughput of `expressway::value::Value` beside `serde_json::Value`
//! (preserve_order on, as in this crate), on each bench workflow's input and expected output.
//!
//! `cargo bench --bench value -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows");

const FILES: [&str; 10] = [
    "w1_pass_chain.input",
    "w1_pass_chain.expected",
    "w2_choice.input",
    "w2_choice.expected",
    "w3_map100.input",
    "w3_map100.expected",
    "w4_parallel.input",
    "w4_parallel.expected",
    "w5_credit.input",
    "w5_credit.expected",
];

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}.json"))
        .expect("bench workflows are in the repository")
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for name in FILES {
        let text = read(name);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}/value"), |b| {
            b.iter(|| black_box(expressway::value::parse(black_box(&text)).expect("parses")))
        });
        group.bench_function(format!("{name}/serde_json"), |b| {
            b.iter(|| {
                black_box(
                    serde_json::from_str::<serde_json::Value>(black_box(&text)).expect("parses"),
                )
            })
        });
    }
    group.finish();
}

fn bench_serialize(c: &mut Criterion) {
    let mut group = c.benchmark_group("serialize");
    for name in FILES {
        let text = read(name);
        let ours = expressway::value::parse(&text).expect("parses");
        let theirs: serde_json::Value = serde_json::from_str(&text).expect("parses");
        // Throughput counts the compact output, which is what both write.
        let compact = ours.to_json();
        assert_eq!(
            compact,
            serde_json::to_string(&theirs).expect("serializes"),
            "{name}"
        );
        group.throughput(Throughput::Bytes(compact.len() as u64));
        group.bench_function(format!("{name}/value"), |b| {
            b.iter(|| black_box(black_box(&ours).to_json()))
        });
        group.bench_function(format!("{name}/serde_json"), |b| {
            b.iter(|| black_box(serde_json::to_string(black_box(&theirs)).expect("serializes")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse, bench_serialize);
criterion_main!(benches);
