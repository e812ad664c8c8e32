//! What a hostile or careless client must not be able to do: run a workflow unsigned, swap a
//! signed body, replay a signature as another operation, hold connections forever, or slip inputs
//! past the API check that the engine refuses. (That a handler's panic answers that request 500
//! and nothing else is tested in `src/server/conn.rs`, where a handler can be made to panic.)

use super::*;
use expressway::server::Credentials;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::Duration;

fn quiet(server: Server) -> Arc<Server> {
    Arc::new(server.with_log(ExecLog::new(Box::new(std::io::sink()))))
}

// ---- SigV4 ------------------------------------------------------------------------------------

const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now_amz() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

/// A request to sign, as a reference signer independent of the server's verifier sees it.
struct Signed<'a> {
    path: &'a str,
    target: Option<&'a str>,
    body: &'a str,
    date: String,
    /// (region, service) of the credential scope.
    scope: (&'a str, &'a str),
    /// Headers signed, in order; their values come from the request.
    signed: &'a [&'a str],
    /// The payload hash the client signs (the real one unless a test says otherwise).
    payload_hash: Option<String>,
    /// `X-Amz-Content-Sha256` sent (and signed when listed in `signed`).
    content_sha: Option<String>,
    secret: &'a str,
}

impl<'a> Signed<'a> {
    fn new(path: &'a str, target: Option<&'a str>, body: &'a str) -> Signed<'a> {
        let signed: &'static [&'static str] = if target.is_some() {
            &["host", "x-amz-date", "x-amz-target"]
        } else {
            &["host", "x-amz-date"]
        };
        Signed {
            path,
            target,
            body,
            date: now_amz(),
            scope: ("us-east-1", "states"),
            signed,
            payload_hash: None,
            content_sha: None,
            secret: SK,
        }
    }

    fn header(&self, name: &str) -> String {
        match name {
            "host" => "sync-localhost".into(),
            "x-amz-date" => self.date.clone(),
            "x-amz-target" => self
                .target
                .map(|t| format!("AWSStepFunctions.{t}"))
                .unwrap_or_default(),
            "x-amz-content-sha256" => self.content_sha.clone().unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The extra request headers: date, target, content hash, and the authorization.
    fn headers(&self) -> String {
        let payload = self
            .payload_hash
            .clone()
            .unwrap_or_else(|| hex(&Sha256::digest(self.body.as_bytes())));
        let mut canonical = format!("POST\n{}\n\n", self.path);
        for h in self.signed {
            canonical.push_str(&format!("{h}:{}\n", self.header(h)));
        }
        let names = self.signed.join(";");
        canonical.push_str(&format!("\n{names}\n{payload}"));
        let day = &self.date[..8];
        let (region, service) = self.scope;
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{day}/{region}/{service}/aws4_request\n{}",
            self.date,
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let k = hmac(format!("AWS4{}", self.secret).as_bytes(), day);
        let k = hmac(&k, region);
        let k = hmac(&k, service);
        let k = hmac(&k, "aws4_request");
        let sig = hex(&hmac(&k, &to_sign));
        let mut out = format!(
            "X-Amz-Date: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={AK}/{day}/{region}/{service}/aws4_request, SignedHeaders={names}, Signature={sig}\r\n",
            self.date
        );
        if let Some(t) = self.target {
            out.push_str(&format!(
                "X-Amz-Target: AWSStepFunctions.{t}\r\nContent-Type: application/x-amz-json-1.0\r\n"
            ));
        }
        if let Some(c) = &self.content_sha {
            out.push_str(&format!("X-Amz-Content-Sha256: {c}\r\n"));
        }
        out
    }
}

async fn signed_server() -> Srv {
    let creds = Credentials::from_pairs([(AK.to_string(), SK.to_string())]);
    let server =
        Server::new(Engine::new(Settings::default()), Config::default()).with_credentials(creds);
    Srv::serving(quiet(server)).await
}

/// Sends a signed (or tampered) request; returns (status, `__type` suffix or gateway `error`,
/// message, raw body).
async fn send(s: &Srv, req: &Signed<'_>, body: &str) -> (u16, String, String, String) {
    let (status, _, text) = s.http("POST", req.path, &req.headers(), body).await;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let kind = v["__type"]
        .as_str()
        .or(v["error"].as_str())
        .unwrap_or_default()
        .rsplit('#')
        .next()
        .unwrap_or_default()
        .to_string();
    let msg = v["message"].as_str().unwrap_or_default().to_string();
    (status, kind, msg, text)
}

const LIST: &str = "{}";

#[tokio::test]
async fn signatures_are_checked_as_aws_checks_them() {
    let s = signed_server().await;
    // A good signature on the JSON API.
    let ok = Signed::new("/", Some("ListStateMachines"), LIST);
    let (status, kind, _, text) = send(&s, &ok, LIST).await;
    assert_eq!((status, kind.as_str()), (200, ""), "{text}");

    // Unsigned.
    let (status, out) = s.call("ListStateMachines", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        out["__type"],
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );

    // (what changes, expected error, expected message start)
    type Tamper = fn(&mut Signed<'_>);
    let cases: Vec<(Tamper, &str, &str)> = vec![
        (
            |r| r.date = "2026x207T000000Z".into(),
            "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got '2026x207T000000Z'.",
        ),
        (
            |r| r.date = "20261307T000000Z".into(),
            "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got '20261307T000000Z'.",
        ),
        (
            |r| {
                r.date = (chrono::Utc::now() - chrono::Duration::minutes(20))
                    .format("%Y%m%dT%H%M%SZ")
                    .to_string()
            },
            "InvalidSignatureException",
            "Signature expired: ",
        ),
        (
            |r| {
                r.date = (chrono::Utc::now() + chrono::Duration::minutes(20))
                    .format("%Y%m%dT%H%M%SZ")
                    .to_string()
            },
            "InvalidSignatureException",
            "Signature not yet current: ",
        ),
        (
            |r| r.scope = ("us-west-2", "states"),
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'us-west-2'.",
        ),
        (
            |r| r.scope = ("us-east-1", "lambda"),
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'states'.",
        ),
        (
            |r| r.signed = &["x-amz-date", "x-amz-target"],
            "InvalidSignatureException",
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            |r| r.signed = &["host", "x-amz-target"],
            "InvalidSignatureException",
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            |r| r.signed = &["host", "x-amz-date"],
            "InvalidSignatureException",
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
        ),
        (
            |r| r.secret = "not-the-secret",
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
        (
            // Signed as "unsigned payload": the body would not be covered, so it is refused.
            |r| {
                r.payload_hash = Some("UNSIGNED-PAYLOAD".into());
                r.content_sha = Some("UNSIGNED-PAYLOAD".into());
                r.signed = &["host", "x-amz-content-sha256", "x-amz-date", "x-amz-target"];
            },
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
    ];
    for (tamper, kind, msg) in cases {
        let mut r = Signed::new("/", Some("ListStateMachines"), LIST);
        tamper(&mut r);
        let (status, got, text, raw) = send(&s, &r, LIST).await;
        assert_eq!((status, got.as_str()), (400, kind), "{raw}");
        assert!(text.starts_with(msg), "{msg:?} in {raw}");
    }
    // An unknown key.
    let r = Signed::new("/", Some("ListStateMachines"), LIST);
    let headers = r.headers().replace(AK, "AKIDUNKNOWN");
    let (status, _, text) = s.http("POST", "/", &headers, LIST).await;
    assert_eq!(status, 400);
    assert!(text.contains("#UnrecognizedClientException"), "{text}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_signed_body_cannot_be_swapped_nor_a_signature_replayed_as_another_operation() {
    let s = signed_server().await;
    let signed = r#"{"maxResults":1}"#;
    let swapped = r#"{"maxResults":9}"#;
    // The body received is not the body signed: with or without the content-hash header.
    let mut r = Signed::new("/", Some("ListStateMachines"), signed);
    let (status, kind, _, raw) = send(&s, &r, swapped).await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidSignatureException"),
        "{raw}"
    );
    r.content_sha = Some(hex(&Sha256::digest(signed.as_bytes())));
    r.signed = &["host", "x-amz-content-sha256", "x-amz-date", "x-amz-target"];
    let (status, kind, _, raw) = send(&s, &r, swapped).await;
    assert_eq!(
        (status, kind.as_str()),
        (400, "InvalidSignatureException"),
        "{raw}"
    );
    let (status, _, _, raw) = send(&s, &r, signed).await;
    assert_eq!(status, 200, "{raw}");
    // A signature over ListStateMachines, sent as DeleteStateMachine.
    let r = Signed::new("/", Some("ListStateMachines"), LIST);
    let headers = r.headers().replace(
        "AWSStepFunctions.ListStateMachines",
        "AWSStepFunctions.DeleteStateMachine",
    );
    let (status, _, text) = s.http("POST", "/", &headers, LIST).await;
    assert_eq!(status, 400);
    assert!(text.contains("#InvalidSignatureException"), "{text}");
    s.shutdown().await;
}

#[tokio::test]
async fn credentials_guard_the_gateway_route() {
    let s = signed_server().await;
    let create =
        json!({"name": "gw", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS"}).to_string();
    let r = Signed::new("/", Some("CreateStateMachine"), &create);
    let (status, _, _, raw) = send(&s, &r, &create).await;
    assert_eq!(status, 200, "{raw}");
    // Unsigned: refused before anything runs.
    let (status, _, body) = s.http("POST", "/execute/gw", "", r#"{"a":1}"#).await;
    assert_eq!(status, 403, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "MissingAuthenticationTokenException", "{body}");
    // Signed for another route's path: refused.
    let r = Signed::new("/execute/other", None, r#"{"a":1}"#);
    let headers = r.headers();
    let (status, _, body) = s.http("POST", "/execute/gw", &headers, r#"{"a":1}"#).await;
    assert_eq!(status, 403, "{body}");
    // Signed: runs.
    let r = Signed::new("/execute/gw", None, r#"{"a":1}"#);
    let (status, _, _, raw) = send(&s, &r, r#"{"a":1}"#).await;
    assert_eq!(status, 200, "{raw}");
    assert_eq!(raw, r#"{"a":1,"r":{"ok":1}}"#);
    let (_, _, metrics) = s.http("GET", "/metrics", "", "").await;
    assert!(
        metrics.contains("expressway_executions_total{status=\"SUCCEEDED\"} 1"),
        "only the signed call ran: {metrics}"
    );
    s.shutdown().await;
}

// ---- Connections --------------------------------------------------------------------------------

fn short_timeouts() -> Config {
    Config {
        header_timeout: Duration::from_millis(400),
        body_timeout: Duration::from_millis(400),
        ..Config::default()
    }
}

/// Reads until the server closes the connection; `None` if it is still open after `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    match tokio::time::timeout(wait, stream.read_to_end(&mut buf)).await {
        Ok(_) => Some(buf),
        Err(_) => None,
    }
}

#[tokio::test]
async fn slow_and_silent_connections_are_closed_and_do_not_block_others() {
    let s = Srv::with(short_timeouts()).await;
    let mut held = Vec::new();
    for i in 0..50 {
        let mut c = TcpStream::connect(&s.addr).await.unwrap();
        match i % 3 {
            // Half the headers, never finished.
            0 => c
                .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar")
                .await
                .unwrap(),
            // A whole request head, kept alive, then silence.
            1 => {
                c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .unwrap();
            }
            // Nothing at all.
            _ => {}
        }
        held.push(c);
    }
    // Meanwhile the server answers.
    let (status, _, _) = s.http("GET", "/health", "", "").await;
    assert_eq!(status, 200);
    for c in &mut held {
        assert!(
            closed_within(c, Duration::from_secs(5)).await.is_some(),
            "a connection was held past the header timeout"
        );
    }
    // A body that never finishes arriving: 408 after the body timeout.
    let mut c = TcpStream::connect(&s.addr).await.unwrap();
    c.write_all(b"POST /execute/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    let answer = closed_within(&mut c, Duration::from_secs(5)).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("RequestTimeoutException"), "{text}");
    s.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_are_answered_503_and_closed() {
    let config = Config {
        max_connections: 8,
        ..Config::default()
    };
    let s = Srv::with(config).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(TcpStream::connect(&s.addr).await.unwrap());
    }
    // Let the server accept them all before the ninth.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _, body) = s.http("GET", "/health", "", "").await;
    assert_eq!(status, 503, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["__type"],
        "com.amazon.coral.service#ServiceUnavailableException"
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _, _) = s.http("GET", "/health", "", "").await;
    assert_eq!(status, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_does_not_wait_for_idle_or_half_open_connections() {
    // The grace period is long; the connections have nothing in flight, so it is not used.
    let config = Config {
        shutdown_grace: Duration::from_secs(30),
        ..Config::default()
    };
    let s = Srv::with(config).await;
    let mut held = Vec::new();
    for i in 0..20 {
        let mut c = TcpStream::connect(&s.addr).await.unwrap();
        if i % 2 == 0 {
            c.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        held.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    s.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn shutdown_waits_for_asynchronous_executions_within_the_grace_period() {
    let wait = |secs: u32| {
        format!(
            r#"{{"StartAt":"W","States":{{"W":{{"Type":"Wait","Seconds":{secs},"End":true}}}}}}"#
        )
    };
    for (grace_ms, finishes) in [(3_000, true), (100, false)] {
        let config = Config {
            shutdown_grace: Duration::from_millis(grace_ms),
            ..Config::default()
        };
        let engine = Engine::new(Settings::default());
        let server = quiet(Server::new(engine, config));
        let s = Srv::serving(server.clone()).await;
        let arn = s
            .create("w", &wait(if finishes { 1 } else { 5 }), "EXPRESS")
            .await;
        let out = s
            .ok("StartExecution", json!({"stateMachineArn": arn}))
            .await;
        let started = std::time::Instant::now();
        s.shutdown().await;
        if finishes {
            assert!(server.running_executions().is_empty());
            assert!(started.elapsed() >= Duration::from_millis(700));
        } else {
            assert_eq!(
                server.running_executions(),
                vec![out["executionArn"].as_str().unwrap().to_string()]
            );
        }
    }
}

/// Splits what a server wrote into (status, lowercased head, body) answers, by content-length.
fn answers(mut text: &str) -> Vec<(u16, String, String)> {
    let mut out = Vec::new();
    while let Some((head, rest)) = text.split_once("\r\n\r\n") {
        let head = head.to_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        let len = len.min(rest.len());
        out.push((status, head, rest[..len].to_string()));
        text = &rest[len..];
    }
    out
}

#[tokio::test]
async fn requests_hyper_cannot_parse_get_aws_error_bodies() {
    let s = Srv::start().await;
    let many_headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            414,
            "RequestUriTooLongException",
        ),
        (
            format!("GET /health HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
            431,
            "RequestHeaderFieldsTooLargeException",
        ),
        (
            b"GARB\x01GE / HTTP/1.1\r\n\r\n".to_vec(),
            400,
            "SerializationException",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n".to_vec(),
            400,
            "SerializationException",
        ),
        (
            b"GET / HTTP/7.3\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "SerializationException",
        ),
    ];
    for (request, status, kind) in &cases {
        let mut c = TcpStream::connect(&s.addr).await.unwrap();
        c.write_all(request).await.unwrap();
        let written = closed_within(&mut c, Duration::from_secs(10))
            .await
            .expect("the connection is closed after the answer");
        let text = String::from_utf8_lossy(&written).into_owned();
        let got = answers(&text);
        assert_eq!(got.len(), 1, "{text}");
        let (got_status, head, body) = &got[0];
        assert_eq!(got_status, status, "{text}");
        assert!(
            head.contains("\r\ncontent-type: application/x-amz-json-1.0"),
            "{head}"
        );
        assert!(head.contains("\r\nx-amzn-requestid: "), "{head}");
        assert!(head.contains("\r\nconnection: close"), "{head}");
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(v["__type"], format!("com.amazon.coral.service#{kind}"));
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    // A malformed request after a good one on the same connection: the good one is answered as
    // usual, the bad one in AWS's shape.
    let mut c = TcpStream::connect(&s.addr).await.unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nBad Header\r\n\r\n")
        .await
        .unwrap();
    let written = closed_within(&mut c, Duration::from_secs(10))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&written).into_owned();
    let got = answers(&text);
    assert_eq!(got.len(), 2, "{text}");
    assert_eq!((got[0].0, got[0].2.as_str()), (200, r#"{"status":"ok"}"#));
    assert_eq!(got[1].0, 400, "{text}");
    let v: Value = serde_json::from_str(&got[1].2).unwrap();
    assert_eq!(
        v["__type"],
        "com.amazon.coral.service#SerializationException"
    );
    // And the server goes on serving.
    let (status, _, _) = s.http("GET", "/health", "", "").await;
    assert_eq!(status, 200);
    s.shutdown().await;
}

/// Long JSONata evaluations on every worker of a two-worker runtime: they stop at their
/// execution's timeout (TIMED_OUT), and meanwhile the server answers `/health` at once, since an
/// evaluation that runs long is moved off the runtime's workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_evaluations_time_out_and_leave_the_workers_to_others() {
    let s = Arc::new(Srv::start().await);
    let def = r#"{"TimeoutSeconds":3,"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",
        "Output":"{% ($loop := function($n){ $n = 0 ? 0 : $loop($n - 1) }; $loop(1000000000)) %}",
        "End":true}}}"#;
    let arn = s.create("spin", def, "EXPRESS").await;
    let started = std::time::Instant::now();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (s, arn) = (s.clone(), arn.clone());
            tokio::spawn(async move {
                let out = s
                    .ok("StartSyncExecution", json!({"stateMachineArn": arn}))
                    .await;
                (out, started.elapsed())
            })
        })
        .collect();
    // Let the evaluations take both workers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let asked = std::time::Instant::now();
        let (status, _, _) = s.http("GET", "/health", "", "").await;
        assert_eq!(status, 200);
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the checks ran past the executions' timeout: {:?}",
        started.elapsed()
    );
    assert!(
        slowest < Duration::from_millis(700),
        "/health waited {slowest:?} behind the evaluations"
    );
    for run in runs {
        let (out, took) = run.await.unwrap();
        assert_eq!(out["status"], "TIMED_OUT", "{out}");
        assert!(
            took >= Duration::from_millis(2_900) && took < Duration::from_secs(8),
            "{took:?}"
        );
    }
    match Arc::try_unwrap(s) {
        Ok(s) => s.shutdown().await,
        Err(_) => panic!("the server is still shared"),
    }
}

// ---- Inputs and small answers ---------------------------------------------------------------

#[tokio::test]
async fn inputs_the_engine_would_refuse_are_refused_at_the_api() {
    let s = Srv::start().await;
    let arn = s.create("in", PASS, "EXPRESS").await;
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let bad = [
        nested(200),
        nested(128),
        r#"{"s":"\ud800"}"#.to_string(),
        r#"{"\udc00":1}"#.to_string(),
        r#"{"n":1e400}"#.to_string(),
        r#"[-1e999]"#.to_string(),
    ];
    for input in &bad {
        for op in ["StartSyncExecution", "StartExecution"] {
            let msg = s
                .err(
                    op,
                    json!({"stateMachineArn": arn, "input": input}),
                    "InvalidExecutionInput",
                )
                .await;
            assert!(
                msg.starts_with("Invalid State Machine Execution Input: "),
                "{msg}"
            );
        }
        let (status, _, body) = s.http("POST", "/execute/in", "", input).await;
        assert_eq!(status, 400, "{input}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "InvalidExecutionInput", "{body}");
    }
    // The deepest input the engine takes is taken.
    let deepest = format!("{{\"a\":{}}}", nested(126));
    let out = s
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "input": deepest}),
        )
        .await;
    assert_eq!(out["status"], "SUCCEEDED", "{out}");
    s.shutdown().await;
}

#[tokio::test]
async fn unknown_operations_carry_a_message() {
    let s = Srv::start().await;
    let msg = s
        .err("Frobnicate", json!({}), "UnknownOperationException")
        .await;
    assert_eq!(
        msg,
        "The requested operation is not recognized by the service."
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_test_case_suffix_needs_a_mock_configuration_holding_it() {
    let s = Srv::start().await;
    let arn = s.create("nomock", PASS, "EXPRESS").await;
    for op in ["StartSyncExecution", "StartExecution"] {
        let msg = s
            .err(
                op,
                json!({"stateMachineArn": format!("{arn}#Happy")}),
                "InvalidArn",
            )
            .await;
        assert!(msg.contains("Happy"), "{msg}");
    }
    s.shutdown().await;
    // With a configuration that lacks the case.
    let mocks = r#"{"StateMachines":{"m":{"TestCases":{"Happy":{"T":"R"}}}},
        "MockedResponses":{"R":{"0":{"Return":{"from":"mock"}}}}}"#;
    let mut engine = Engine::new(Settings::default());
    engine
        .tasks_mut()
        .set_mock_config(expressway::tasks::MockConfig::parse(mocks).unwrap());
    let s = Srv::with_engine(
        engine,
        Config::default(),
        ExecLog::new(Box::new(std::io::sink())),
    )
    .await;
    let arn = s.create("m", PASS, "EXPRESS").await;
    s.err(
        "StartSyncExecution",
        json!({"stateMachineArn": format!("{arn}#Sad")}),
        "InvalidArn",
    )
    .await;
    let out = s
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": format!("{arn}#Happy")}),
        )
        .await;
    assert_eq!(out["status"], "SUCCEEDED");
    s.shutdown().await;
}
