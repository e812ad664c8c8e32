//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the entry functions the
//! cargo-fuzz targets call (`expressway::fuzzing`), so CI checks every seed and every past crash
//! without a fuzzer. Each input runs on a thread with a tokio worker's 2 MiB stack: what overflows
//! there would take a server worker down.

use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn committed_fuzz_corpus_replays_without_a_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut failures = Vec::new();
    for (target, entry) in expressway::fuzzing::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {target}");
        let started = Instant::now();
        for file in &files {
            let data = std::fs::read(file).unwrap();
            let entry = *entry;
            let run = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || entry(&data))
                .unwrap()
                .join();
            if run.is_err() {
                failures.push(file.display().to_string());
            }
        }
        println!(
            "fuzz corpus {target}: {} inputs in {:?}",
            files.len(),
            started.elapsed()
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{target} corpus too slow"
        );
    }
    assert!(failures.is_empty(), "inputs that crashed: {failures:#?}");
}
