//! Issue 14 item 2: our JSON parser against simd-json and sonic-rs, on every bench workflow's
//! input and expected output.
//!
//! Group `into_value`: the document parsed into `expressway::value::Value` by
//! - `ours`: `value::parse`;
//! - `simd_tape`: simd-json's tape (buffers reused between documents, the input copied into a
//!   reused mutable buffer first, as simd-json unescapes in place), walked into a `Value`;
//! - `sonic_serde`: sonic-rs's serde deserializer driving our `Value`'s `Deserialize`;
//! - `sonic_walk`: sonic-rs's own `Value`, walked into ours.
//!
//! Group `round_trip`: each library's own parse + serialize of the same document (its native
//! value type), the "fastest JSON round trip" the issue compares the engine against; `ours` is
//! `value::parse` + `Value::to_json`.
//!
//! `cargo bench --bench json_libs -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
#[path = "support/json_convert.rs"]
mod convert;

use convert::{SimdTape, from_sonic};
use expressway::value::Value;
use simd_json::prelude::*;
use std::hint::black_box;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows");

const WORKFLOWS: [&str; 6] = [
    "w1_pass_chain",
    "w1_jsonata",
    "w2_choice",
    "w3_map100",
    "w4_parallel",
    "w5_credit",
];

fn files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in WORKFLOWS {
        for kind in ["input", "expected"] {
            let name = format!("{w}.{kind}");
            let text = std::fs::read_to_string(format!("{DIR}/{name}.json"))
                .expect("bench workflows are in the repository");
            out.push((name, text));
        }
    }
    out
}

fn bench_into_value(c: &mut Criterion) {
    let mut group = c.benchmark_group("into_value");
    let mut simd = SimdTape::default();
    for (name, text) in files() {
        let ours = expressway::value::parse(&text).expect("parses");
        // Every converter builds the same value, member order included.
        assert_eq!(simd.parse(&text).to_json(), ours.to_json(), "{name} simd");
        let sonic_serde: Value = sonic_rs::from_str(&text).expect("parses");
        assert_eq!(sonic_serde.to_json(), ours.to_json(), "{name} sonic serde");
        let sv: sonic_rs::Value = sonic_rs::from_str(&text).expect("parses");
        assert_eq!(
            from_sonic(&sv).to_json(),
            ours.to_json(),
            "{name} sonic walk"
        );

        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}/ours"), |b| {
            b.iter(|| black_box(expressway::value::parse(black_box(&text)).expect("parses")))
        });
        group.bench_function(format!("{name}/simd_tape"), |b| {
            b.iter(|| black_box(simd.parse(black_box(&text))))
        });
        group.bench_function(format!("{name}/sonic_serde"), |b| {
            b.iter(|| black_box(sonic_rs::from_str::<Value>(black_box(&text)).expect("parses")))
        });
        group.bench_function(format!("{name}/sonic_walk"), |b| {
            b.iter(|| {
                let sv: sonic_rs::Value = sonic_rs::from_str(black_box(&text)).expect("parses");
                black_box(from_sonic(&sv))
            })
        });
    }
    group.finish();
}

fn bench_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    let mut buf = Vec::new();
    for (name, text) in files() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}/ours"), |b| {
            b.iter(|| {
                let v = expressway::value::parse(black_box(&text)).expect("parses");
                black_box(v.to_json())
            })
        });
        group.bench_function(format!("{name}/serde_json"), |b| {
            b.iter(|| {
                let v: serde_json::Value = serde_json::from_str(black_box(&text)).expect("parses");
                black_box(serde_json::to_string(&v).expect("serializes"))
            })
        });
        group.bench_function(format!("{name}/sonic_rs"), |b| {
            b.iter(|| {
                let v: sonic_rs::Value = sonic_rs::from_str(black_box(&text)).expect("parses");
                black_box(sonic_rs::to_string(&v).expect("serializes"))
            })
        });
        group.bench_function(format!("{name}/simd_json"), |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(text.as_bytes()));
                let v = simd_json::to_borrowed_value(&mut buf).expect("parses");
                black_box(v.encode())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_into_value, bench_round_trip);
criterion_main!(benches);
