//! The command line on bad input: every case gets a clear message and the documented exit code
//! (0 succeeded, 1 failed or timed out, 2 invalid definition / unreadable or non-JSON file),
//! never a panic or a backtrace.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const PASS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
const FAIL: &str = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"c"}}}"#;

/// A scratch file holding `bytes`, removed when the test process ends (names are unique).
fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("expressway-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("a temp file");
    p
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str], stdin: &[u8]) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("SFN_MOCK_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut pipe = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().expect("the binary ends");
    let _ = writer.join();
    let out = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked") && !out.stderr.contains("stack backtrace"),
        "a panic: {}",
        out.stderr
    );
    out
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Runs `run DEF [--input IN]` and checks the exit code and a text in stdout or stderr.
fn run(def: &[u8], input: Option<&[u8]>, code: i32, says: &str) {
    let d = file(&format!("def-{}.json", unique()), def);
    let mut args = vec!["run".to_string(), p(&d).to_string()];
    if let Some(i) = input {
        let f = file(&format!("in-{}.json", unique()), i);
        args.extend(["--input".to_string(), p(&f).to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli(&args, b"");
    assert_eq!(
        o.code, code,
        "exit code; stdout {} stderr {}",
        o.stdout, o.stderr
    );
    let both = format!("{}{}", o.stdout, o.stderr);
    assert!(both.contains(says), "expected {says:?} in {both}");
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn definitions_that_are_not_asl() {
    run(b"not json", None, 2, "INVALID_JSON");
    run(b"", None, 2, "Definition must be a valid JSON object");
    run(
        &[0xff, 0xfe, 0x00, 0x9f, 0x92, 0x96],
        None,
        2,
        "cannot read",
    );
    run(b"[1,2,3]", None, 2, "FAIL");
    run(b"{}", None, 2, "SCHEMA_VALIDATION_FAILED");
    run(
        br#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#,
        None,
        2,
        "MISSING_TRANSITION_TARGET",
    );
    run(
        br#"{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}"#,
        None,
        2,
        "SCHEMA_VALIDATION_FAILED",
    );
    run("[".repeat(100_000).as_bytes(), None, 2, "FAIL");
}

#[test]
fn missing_files() {
    let o = cli(&["run", "/nonexistent/def.json"], b"");
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("cannot read /nonexistent/def.json"),
        "{}",
        o.stderr
    );
    let d = file("pass-missing-input.json", PASS.as_bytes());
    let o = cli(&["run", p(&d), "--input", "/nonexistent/in.json"], b"");
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("cannot read /nonexistent/in.json"),
        "{}",
        o.stderr
    );
    let o = cli(&["validate", "/nonexistent/def.json"], b"");
    assert_eq!(o.code, 2);
    let o = cli(&["run", p(&d), "--mocks", "/nonexistent/mocks.json"], b"");
    assert_eq!(o.code, 2);
}

#[test]
fn inputs_that_are_not_json_or_too_big() {
    run(PASS.as_bytes(), Some(b"not json"), 2, "not valid JSON");
    run(PASS.as_bytes(), Some(b""), 2, "not valid JSON");
    run(PASS.as_bytes(), Some(&[0xff, 0x00, 0xc3]), 2, "cannot read");
    run(
        PASS.as_bytes(),
        Some("[".repeat(100_000).as_bytes()),
        2,
        "not valid JSON",
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    run(PASS.as_bytes(), Some(deep.as_bytes()), 2, "not valid JSON");
    let deep = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    run(PASS.as_bytes(), Some(deep.as_bytes()), 2, "not valid JSON");
    // 10 MiB of valid JSON: AWS's payload limit answers.
    let big = format!("[{}1]", "1,".repeat(5 << 20));
    run(
        PASS.as_bytes(),
        Some(big.as_bytes()),
        1,
        "States.DataLimitExceeded",
    );
}

#[test]
fn runs_exit_with_the_status() {
    run(
        PASS.as_bytes(),
        Some(br#"{"a":1}"#),
        0,
        r#""status":"SUCCEEDED""#,
    );
    run(FAIL.as_bytes(), None, 1, r#""error":"Boom""#);
    let wait = br#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}},"TimeoutSeconds":1}"#;
    run(wait, None, 1, "TIMED_OUT");
}

#[test]
fn stdin_as_a_file() {
    let d = file("pass-stdin.json", PASS.as_bytes());
    let o = cli(&["run", p(&d), "--input", "-"], br#"{"x":[1,2]}"#);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains(r#"{\"x\":[1,2]}"#), "{}", o.stdout);
    let o = cli(&["run", "-"], PASS.as_bytes());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = cli(&["run", "-"], b"garbage");
    assert_eq!(o.code, 2);
    let o = cli(&["validate", "-"], PASS.as_bytes());
    assert_eq!(o.code, 0);
}

#[test]
fn validate_good_and_bad_files() {
    let good = file("good.json", PASS.as_bytes());
    let o = cli(&["validate", p(&good)], b"");
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(o.stdout.contains(r#""result": "OK""#), "{}", o.stdout);
    let bad = file(
        "bad.json",
        br#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#,
    );
    let o = cli(&["validate", p(&bad)], b"");
    assert_eq!(o.code, 2);
    assert!(
        o.stdout.contains("MISSING_TRANSITION_TARGET"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("/States/A/Next"), "{}", o.stdout);
    for garbage in [&b""[..], b"{", b"\x00\x01", b"[]", b"null"] {
        let f = file(&format!("garbage-{}.json", unique()), garbage);
        let o = cli(&["validate", p(&f)], b"");
        assert_eq!(o.code, 2, "{garbage:?}: {}", o.stdout);
    }
    let deep = file("deep.json", "[".repeat(100_000).as_bytes());
    assert_eq!(cli(&["validate", p(&deep)], b"").code, 2);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let o = cli(&[], b"");
    assert_eq!(o.code, 2);
    let o = cli(&["frobnicate"], b"");
    assert_eq!(o.code, 2);
    let o = cli(&["run"], b"");
    assert_eq!(o.code, 2);
}

#[test]
fn graph_in_each_format_to_stdout_or_a_file() {
    let def = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/workflows/w5_credit.json"
    );
    let o = cli(&["graph", def], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("<svg"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("Verify applicant&apos;s identity and address")
    );
    let o = cli(&["graph", def, "--format", "dot"], b"");
    assert!(
        o.code == 0 && o.stdout.starts_with("digraph"),
        "{}",
        o.stdout
    );
    let o = cli(&["graph", "-", "--format", "mermaid"], PASS.as_bytes());
    assert!(
        o.code == 0 && o.stdout.starts_with("flowchart TD"),
        "{}",
        o.stdout
    );
    let out = file(&format!("graph-{}.svg", unique()), b"");
    let o = cli(&["graph", def, "--output", p(&out)], b"");
    assert_eq!((o.code, o.stdout.as_str()), (0, ""));
    assert!(
        std::fs::read_to_string(&out)
            .expect("written")
            .starts_with("<svg")
    );
    // Bad definitions and formats: the diagnostics, exit 2; a usage error for the format.
    let bad = file("graph-bad.json", br#"{"StartAt":"A","States":{}}"#);
    let o = cli(&["graph", p(&bad)], b"");
    assert_eq!(o.code, 2);
    assert!(o.stdout.contains("MISSING_TRANSITION_TARGET") || o.stdout.contains("FAIL"));
    assert_eq!(cli(&["graph", def, "--format", "png"], b"").code, 2);
    let o = cli(&["graph", def, "--output", "/nonexistent-dir/x.svg"], b"");
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("cannot write"), "{}", o.stderr);
}

/// A path in the repository, for the examples the help and README give.
fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_subcommand_s_long_help_has_examples() {
    for sub in ["run", "validate", "serve", "bench", "graph"] {
        let o = cli(&[sub, "--help"], b"");
        assert_eq!(o.code, 0, "{sub}: {}", o.stderr);
        assert!(o.stdout.contains("Examples:"), "{sub}: {}", o.stdout);
        assert!(
            o.stdout.contains(&format!("  expressway {sub} ")),
            "{sub}: {}",
            o.stdout
        );
    }
}

#[test]
fn run_demo_tasks_serves_the_credit_workflow_as_serve_does() {
    let (def, input) = (
        repo("benches/workflows/w5_credit.json"),
        repo("benches/workflows/w5_credit.input.json"),
    );
    let o = cli(&["run", &def, "--input", &input, "--demo-tasks"], b"");
    assert_eq!(o.code, 0, "{} {}", o.stdout, o.stderr);
    let out: serde_json::Value = serde_json::from_str(&o.stdout).expect("one JSON line");
    assert_eq!(out["status"], "SUCCEEDED");
    assert_eq!(out["account"], "123456789012", "documented in README");
    // Without it the Task calls Lambda itself: here an endpoint where nothing listens (so the
    // test never leaves the machine), which fails as the SDK's client error.
    let o = cli(
        &[
            "run",
            &def,
            "--input",
            &input,
            "--lambda-endpoint",
            "http://127.0.0.1:9",
        ],
        b"",
    );
    assert_eq!(o.code, 1);
    assert!(
        o.stdout.contains("Lambda.SdkClientException"),
        "{}",
        o.stdout
    );
}

/// One HTTP/1.1 request to a running `expressway serve`; the answer's body.
#[cfg(unix)]
fn post(addr: &str, target: &str, body: &str) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).expect("the server accepts");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: AWSStepFunctions.{target}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("the request is sent");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

/// SIGTERM with an asynchronous execution still running past the grace period: the server stops
/// within the grace and names the execution it drops.
#[cfg(unix)]
#[test]
fn serve_names_executions_dropped_at_shutdown() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["serve", "--listen", "127.0.0.1:0", "--shutdown-grace", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the listening line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .expect("listening on http://ADDR")
        .to_string();
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#;
    let create = format!(
        r#"{{"name":"slow","definition":{},"roleArn":"arn:aws:iam::123456789012:role/r","type":"EXPRESS"}}"#,
        serde_json::to_string(wait).unwrap()
    );
    let out = post(&addr, "CreateStateMachine", &create);
    assert!(out.contains("stateMachineArn"), "{out}");
    let out = post(
        &addr,
        "StartExecution",
        r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:slow","name":"e1"}"#,
    );
    let arn: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let arn = arn["executionArn"]
        .as_str()
        .expect("an execution ARN")
        .to_string();
    let started = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("the server exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains(&format!(
            "warn: execution still running at shutdown, dropped: {arn}"
        )),
        "{stderr}"
    );
}
