//! Runs one JSON parser N times over one file, for instruction counts that do not move with the
//! machine's load (issue 14 item 2; the timings are `benches/json_libs.rs`):
//!
//! `valgrind --tool=cachegrind --cache-sim=no target/release/examples/json_count LIB FILE N`,
//! minus the same with N = 0, divided by N. LIB: `ours`, `simd_tape`, `sonic_serde`,
//! `sonic_walk` (each into `expressway::value::Value`), or a library's own round trip
//! (`rt_ours`, `rt_serde_json`, `rt_sonic_rs`, `rt_simd_json`: parse + serialize).

#[path = "../benches/support/json_convert.rs"]
mod convert;

use simd_json::prelude::*;
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, lib, file, n] = &args[..] else {
        eprintln!("usage: json_count LIB FILE N");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(file).expect("a readable file");
    let n: usize = n.parse().expect("N is a number");
    let mut simd = convert::SimdTape::default();
    let mut buf = Vec::new();
    for _ in 0..n {
        let text = black_box(text.as_str());
        match lib.as_str() {
            "ours" => drop(black_box(expressway::value::parse(text).expect("parses"))),
            "simd_tape" => drop(black_box(simd.parse(text))),
            "sonic_serde" => drop(black_box(
                sonic_rs::from_str::<expressway::value::Value>(text).expect("parses"),
            )),
            "sonic_walk" => {
                let v: sonic_rs::Value = sonic_rs::from_str(text).expect("parses");
                drop(black_box(convert::from_sonic(&v)));
            }
            "rt_ours" => {
                let v = expressway::value::parse(text).expect("parses");
                drop(black_box(v.to_json()));
            }
            "rt_serde_json" => {
                let v: serde_json::Value = serde_json::from_str(text).expect("parses");
                drop(black_box(serde_json::to_string(&v).expect("serializes")));
            }
            "rt_sonic_rs" => {
                let v: sonic_rs::Value = sonic_rs::from_str(text).expect("parses");
                drop(black_box(sonic_rs::to_string(&v).expect("serializes")));
            }
            "rt_simd_json" => {
                buf.clear();
                buf.extend_from_slice(text.as_bytes());
                let v = simd_json::to_borrowed_value(&mut buf).expect("parses");
                drop(black_box(v.encode()));
            }
            other => {
                eprintln!("unknown LIB {other}");
                std::process::exit(2);
            }
        }
    }
}
