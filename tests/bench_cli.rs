//! `expressway bench` as a process: folder mode keeps the peer harnesses' line format, definition
//! mode prints nothing but the result when stdout is not a terminal, and exits 1 when executions
//! fail. Every run here is bounded by an execution count or a fraction of a second.

use std::path::PathBuf;
use std::process::Command;

const PASS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":1},"End":true}}}"#;
const FAIL: &str = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"c"}}}"#;

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("expressway-bench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("a temp file");
    p
}

/// (exit code, stdout, stderr); stdout is a pipe, so no live line is drawn.
fn bench(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .arg("bench")
        .args(args)
        .env_remove("SFN_MOCK_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn folder_mode_keeps_the_peer_line_format() {
    let (code, out, err) = bench(&[
        "--only",
        "w1_pass_chain",
        "--seconds",
        "0.05",
        "--rounds",
        "1",
        "--warmup",
        "0",
        "--concurrency",
        "1,4",
    ]);
    assert_eq!(code, 0, "{err}");
    let line =
        regex::Regex::new(r"^expressway w1_pass_chain (seq|c4) \d+ min=\d+ max=\d+ n=1 check=ok$")
            .expect("a regex");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().all(|l| line.is_match(l)), "{out}");
}

#[test]
fn definition_mode_prints_only_the_result() {
    let def = file("pass.json", PASS);
    let expected = file("pass.expected.json", r#"{"ok":1}"#);
    let (code, out, err) = bench(&[
        def.to_str().expect("utf-8 path"),
        "--executions",
        "50",
        "--concurrency",
        "4",
        "--warmup",
        "0",
        "--expect",
        expected.to_str().expect("utf-8 path"),
        "--output",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("stdout is the JSON result alone");
    assert_eq!(
        (v["sent"].as_u64(), v["passed"].as_u64()),
        (Some(50), Some(50))
    );
    assert_eq!(v["workflow"], "pass");
    assert_eq!(v["expect"]["matched"], 50);

    let (code, out, _) = bench(&[
        def.to_str().expect("utf-8 path"),
        "--executions",
        "20",
        "--warmup",
        "0",
        "--output",
        "csv",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn failing_executions_exit_1_and_show_as_errors() {
    let def = file("fail.json", FAIL);
    let (code, out, _) = bench(&[
        def.to_str().expect("utf-8 path"),
        "--executions",
        "30",
        "--warmup",
        "0",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("executions/s  0.0 passing"), "{out}");
    assert!(out.contains("30 sent, 30 answered: FAILED 30"), "{out}");
    assert!(out.contains("errors        Boom 30"), "{out}");
}

#[test]
fn bad_flags_say_why() {
    let def = file("pass2.json", PASS);
    let d = def.to_str().expect("utf-8 path");
    for (args, says) in [
        (vec![d, "--rate", "0/s"], "must be above zero"),
        (vec![d, "--duration", "soon"], "not a duration"),
        (vec![d, "--concurrency", "1,64"], "not one number"),
        (
            vec![d, "--endpoint", "https://example.invalid", "--execute", "x"],
            "DEFINITION and --endpoint",
        ),
        (
            vec!["--endpoint", "https://example.invalid", "--execute", "x"],
            "http:// URL",
        ),
        (
            vec!["--endpoint", "http://127.0.0.1:9"],
            "--state-machine-arn or --execute",
        ),
    ] {
        let (code, _, err) = bench(&args);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
