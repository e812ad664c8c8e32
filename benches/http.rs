//! StartSyncExecution's HTTP hot path without the socket: the request body decoded down to the
//! input value the engine runs, and the answer written, each on every bench workflow's input
//! (and its expected output as the answer's `output`), beside the way it was done before
//! (a serde_json map, the input checked, copied and parsed again; the answer built as a
//! serde_json value and serialized).
//!
//! `cargo bench --bench http -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use expressway::server::hot_path;
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

/// The workflow's compact input and expected output.
fn read(w: &str) -> (String, String) {
    let compact = |name: &str| {
        let text = std::fs::read_to_string(format!("{DIR}/{name}.json"))
            .expect("bench workflows are in the repository");
        expressway::value::parse(&text)
            .expect("bench files are JSON")
            .to_json()
    };
    (
        compact(&format!("{w}.input")),
        compact(&format!("{w}.expected")),
    )
}

fn body(w: &str, input: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "stateMachineArn": format!("arn:aws:states:us-east-1:123456789012:stateMachine:{w}"),
        "input": input,
    }))
    .expect("serializes")
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("request_decode");
    for w in WORKFLOWS {
        let (input, _) = read(w);
        let body = body(w, &input);
        let fast = hot_path::decode(&body).expect("decodes");
        assert_eq!(Some(fast), hot_path::decode_general(&body), "{w}");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{w}/one_pass"), |b| {
            b.iter(|| black_box(hot_path::decode(black_box(&body))))
        });
        group.bench_function(format!("{w}/general"), |b| {
            b.iter(|| black_box(hot_path::decode_general(black_box(&body))))
        });
    }
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("response_encode");
    for w in WORKFLOWS {
        let (input, output) = read(w);
        let sample = hot_path::sample(&input, &output);
        let text = hot_path::encode(&sample);
        assert_eq!(text, hot_path::encode_value(&sample), "{w}");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{w}/direct"), |b| {
            b.iter(|| black_box(hot_path::encode(black_box(&sample))))
        });
        group.bench_function(format!("{w}/serde_value"), |b| {
            b.iter(|| black_box(hot_path::encode_value(black_box(&sample))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_decode, bench_encode);
criterion_main!(benches);
