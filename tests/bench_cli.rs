//! `expressway bench` as a process: folder mode keeps the peer harnesses' line format, definition
//! mode prints nothing but the result when stdout is not a terminal, and exits 1 when executions
//! fail. Every run here is bounded by an execution count or a fraction of a second.

#[path = "real/mod.rs"]
mod real;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

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
    bench_env(args, &[])
}

/// As [`bench`], in the real-service tests' clean environment (test keys, no endpoints, no
/// certificate variables) plus `env`.
fn bench_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_expressway"));
    real::clean_env(&mut cmd);
    cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .arg("bench")
        .args(args)
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
    assert!((1..=4).contains(&v["threads"].as_u64().unwrap_or(0)), "{v}");

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
            vec!["--endpoint", "ftp://example.invalid", "--execute", "x"],
            "http:// or https:// URL",
        ),
        (
            vec![
                "--endpoint",
                "https://example.invalid",
                "--execute",
                "x",
                "--ca-cert",
                "/nonexistent/ca.pem",
            ],
            "cannot read /nonexistent/ca.pem",
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

/// A Task workflow in-process calls the services `run` would, through the same flags: here a
/// Lambda Invoke API server on 127.0.0.1, over 2 threads sharing one connection pool.
#[test]
fn in_process_tasks_call_real_services_as_run_does() {
    let lambda = real::LambdaServer::start();
    let def = file(
        "lambda.json",
        r#"{"StartAt":"L","States":{"L":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
            "Parameters":{"FunctionName":"Echo","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}"#,
    );
    let input = file("lambda.input.json", r#"{"a":1}"#);
    let expected = file("lambda.expected.json", r#"{"a":1}"#);
    let (code, out, err) = bench_env(
        &[
            def.to_str().expect("utf-8 path"),
            "--input",
            input.to_str().expect("utf-8 path"),
            "--executions",
            "40",
            "--concurrency",
            "4",
            "--threads",
            "2",
            "--warmup",
            "0",
            "--lambda-endpoint",
            &lambda.url,
            "--expect",
            expected.to_str().expect("utf-8 path"),
            "--output",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("the JSON result");
    assert_eq!(
        (v["passed"].as_u64(), v["expect"]["matched"].as_u64()),
        (Some(40), Some(40))
    );
    assert_eq!(lambda.functions(), vec!["Echo".to_string(); 40]);

    // Without the endpoint flag, the environment's (as `run`): a refused port fails every one.
    let (code, out, _) = bench_env(
        &[
            def.to_str().expect("utf-8 path"),
            "--executions",
            "3",
            "--warmup",
            "0",
        ],
        &[("LAMBDA_ENDPOINT", "http://127.0.0.1:9")],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("3 sent, 3 answered: FAILED 3"), "{out}");
    assert_eq!(lambda.functions().len(), 40);
}

/// A TLS endpoint on 127.0.0.1 with a self-signed certificate: every request is answered with a
/// SUCCEEDED StartSyncExecution body over keep-alive connections. Returns (endpoint, PEM path).
fn tls_server() -> (String, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .expect("a self-signed certificate");
    let pem = file("tls-ca.pem", &cert.cert.pem());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("a server configuration");
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let endpoint = format!("https://{}", listener.local_addr().expect("bound"));
    // The listener thread ends with the test process.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
                loop {
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if tls.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if tls.read_exact(&mut body).is_err() {
                        return;
                    }
                    let answer = r#"{"status":"SUCCEEDED","output":"{\"tls\":true}"}"#;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    let w = tls.get_mut();
                    if w.write_all(resp.as_bytes())
                        .and_then(|()| w.flush())
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, pem)
}

#[test]
fn https_endpoints_trust_a_ca_cert_or_ssl_cert_file() {
    let (endpoint, pem) = tls_server();
    let pem = pem.to_str().expect("utf-8 path");
    let expected = file("tls.expected.json", r#"{"tls":true}"#);
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![
            "--endpoint",
            &endpoint,
            "--state-machine-arn",
            arn,
            "--executions",
            "30",
            "--concurrency",
            "3",
            "--warmup",
            "0",
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = bench_env(&args, env);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        (code, v, err)
    };
    let expect = ["--expect", expected.to_str().expect("utf-8 path")];
    let (code, v, err) = run(&[&["--ca-cert", pem][..], &expect].concat(), &[]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(
        (v["passed"].as_u64(), v["expect"]["matched"].as_u64()),
        (Some(30), Some(30))
    );

    let (code, v, err) = run(&[], &[("SSL_CERT_FILE", pem)]);
    assert_eq!(code, 0, "{v} {err}");
    assert_eq!(v["passed"], 30);

    // Untrusted: every request is a TLS failure, never an answer.
    let (code, v, _) = run(&[], &[]);
    assert_eq!(code, 1);
    assert_eq!(
        (v["passed"].as_u64(), v["statuses"]["NO_ANSWER"].as_u64()),
        (Some(0), Some(30))
    );
    assert_eq!(v["errors"]["TlsError"], 30, "{v}");
}
