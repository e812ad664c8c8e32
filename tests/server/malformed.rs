//! Malformed requests, the gateway route, body limits, random bodies, and a throughput
//! measurement.

use super::*;

#[tokio::test]
async fn malformed_requests_get_aws_errors() {
    let s = Srv::start().await;
    let arn = s.create("m", PASS, "EXPRESS").await;
    // (operation, body, expected error)
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "CreateStateMachine",
            json!({"definition": PASS, "roleArn": ROLE}),
            "ValidationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "roleArn": ROLE}),
            "ValidationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS}),
            "ValidationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": 5, "definition": PASS, "roleArn": ROLE}),
            "SerializationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "a b", "definition": PASS, "roleArn": ROLE}),
            "InvalidName",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x".repeat(81), "definition": PASS, "roleArn": ROLE}),
            "ValidationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": "{", "roleArn": ROLE}),
            "InvalidDefinition",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": "[]", "roleArn": ROLE}),
            "InvalidDefinition",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": "role"}),
            "InvalidArn",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": ROLE, "type": "FAST"}),
            "ValidationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": ROLE, "publish": "yes"}),
            "SerializationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": ROLE, "versionDescription": "d"}),
            "ValidationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": ROLE, "tags": "t"}),
            "SerializationException",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": ROLE, "loggingConfiguration": {"level": "ALL"}}),
            "InvalidLoggingConfiguration",
        ),
        (
            "CreateStateMachine",
            json!({"name": "x", "roleArn": ROLE, "type": "EXPRESS",
            "definition": r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}"#}),
            "InvalidDefinition",
        ),
        ("DescribeStateMachine", json!({}), "ValidationException"),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": "not-an-arn"}),
            "InvalidArn",
        ),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:activity:a"}),
            "InvalidArn",
        ),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": format!("{SM}ghost")}),
            "StateMachineDoesNotExist",
        ),
        (
            "DescribeStateMachine",
            json!({"stateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:m"}),
            "StateMachineDoesNotExist",
        ),
        (
            "UpdateStateMachine",
            json!({"stateMachineArn": arn}),
            "MissingRequiredParameter",
        ),
        (
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": "{}"}),
            "InvalidDefinition",
        ),
        (
            "UpdateStateMachine",
            json!({"stateMachineArn": format!("{SM}ghost"), "roleArn": ROLE}),
            "StateMachineDoesNotExist",
        ),
        (
            "ListStateMachines",
            json!({"maxResults": 5000}),
            "ValidationException",
        ),
        (
            "ListStateMachines",
            json!({"nextToken": "garbage"}),
            "InvalidToken",
        ),
        (
            "ListStateMachines",
            json!({"maxResults": "1"}),
            "SerializationException",
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "input": "{nope"}),
            "InvalidExecutionInput",
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "name": "a/b"}),
            "InvalidName",
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "input": "x".repeat(262_145)}),
            "ValidationException",
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": format!("{SM}ghost")}),
            "StateMachineDoesNotExist",
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": format!("{arn}:7")}),
            "StateMachineDoesNotExist",
        ),
        (
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "includedData": "SOME"}),
            "ValidationException",
        ),
        (
            "StartExecution",
            json!({"input": "{}"}),
            "ValidationException",
        ),
        (
            "StopExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:express:m:n:u"}),
            "InvalidArn",
        ),
        (
            "GetExecutionHistory",
            json!({"executionArn": arn}),
            "InvalidArn",
        ),
        (
            "TagResource",
            json!({"resourceArn": arn}),
            "ValidationException",
        ),
        (
            "TagResource",
            json!({"resourceArn": arn, "tags": [{"value": "v"}]}),
            "ValidationException",
        ),
        (
            "CreateStateMachineAlias",
            json!({"name": "a", "routingConfiguration": []}),
            "ValidationException",
        ),
        (
            "CreateStateMachineAlias",
            json!({"name": "a", "routingConfiguration": [{"stateMachineVersionArn": format!("{arn}:9"), "weight": 100}]}),
            "ResourceNotFound",
        ),
        (
            "ValidateStateMachineDefinition",
            json!({"definition": ""}),
            "ValidationException",
        ),
        (
            "TestState",
            json!({"definition": r#"{"Type":"Pass","End":true}"#, "input": "nope"}),
            "InvalidExecutionInput",
        ),
        (
            "TestState",
            json!({"definition": r#"{"Type":"Pass","End":true}"#, "mock": {"result": "{}"}}),
            "ValidationException",
        ),
        ("Frobnicate", json!({}), "UnknownOperationException"),
        ("", json!({}), "UnknownOperationException"),
    ];
    for (op, body, kind) in cases {
        s.err(op, body.clone(), kind).await;
    }
    // Bodies that are not a JSON object.
    for text in ["{", "[1,2]", "\"s\"", "nul", "{\"name\":}"] {
        let (status, out) = s.call_text("CreateStateMachine", text).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            out["__type"]
                .as_str()
                .unwrap()
                .ends_with("#SerializationException"),
            "{text}: {out}"
        );
    }
    // A declared oversize body is refused before it is read.
    let req = "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 99999999\r\n\r\n";
    let (status, _, body) = s.raw(req.as_bytes()).await;
    assert_eq!(status, 413);
    assert!(body.contains("RequestEntityTooLargeException"), "{body}");
    // A chunked body that grows past the limit is cut off too.
    let chunk = "x".repeat(1 << 20);
    let mut req = String::from(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..5 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    let (status, _, _) = s.raw(req.as_bytes()).await;
    assert_eq!(status, 413);
    // Garbage that is not HTTP closes the connection without a hang.
    let (status, _, _) = s.raw(b"\x00\x01garbage\r\n\r\n").await;
    assert!(status == 0 || status == 400, "{status}");
    s.shutdown().await;
}

#[tokio::test]
async fn gateway_route_health_and_metrics() {
    let s = Srv::start().await;
    s.create("gw", PASS, "EXPRESS").await;
    s.create("gwfail", FAIL, "EXPRESS").await;
    let (status, head, body) = s.http("POST", "/execute/gw", "", r#"{"a":1}"#).await;
    assert_eq!((status, body.as_str()), (200, r#"{"a":1,"r":{"ok":1}}"#));
    assert!(
        head.contains("x-amzn-execution-arn: arn:aws:states:us-east-1:123456789012:express:gw:")
    );
    let (status, _, body) = s.http("POST", "/execute/gwfail", "", "").await;
    assert_eq!(status, 500);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "Boom", "cause": "bad"})
    );
    let (status, _, body) = s.http("POST", "/execute/ghost", "", "{}").await;
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "StateMachineDoesNotExist"
    );
    let (status, _, _) = s.http("POST", "/execute/gw", "", "{bad").await;
    assert_eq!(status, 400);
    let (status, _, body) = s.http("GET", "/health", "", "").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _, body) = s.http("GET", "/metrics", "", "").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("expressway_executions_total{status=\"SUCCEEDED\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("expressway_executions_total{status=\"FAILED\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("expressway_execution_duration_seconds_count 2"),
        "{body}"
    );
    assert!(body.contains("operation=\"CreateStateMachine\""), "{body}");
    // The route is counted under its own name: gw and gwfail ran, ghost and {bad did not.
    assert!(
        body.contains("expressway_api_requests_total{operation=\"execute\",outcome=\"ok\"} 2"),
        "{body}"
    );
    assert!(
        body.contains("expressway_api_requests_total{operation=\"execute\",outcome=\"error\"} 2"),
        "{body}"
    );
    let (status, _, _) = s.http("GET", "/nowhere", "", "").await;
    assert_eq!(status, 404);
    s.shutdown().await;
}

#[tokio::test]
async fn small_body_limit_is_configurable() {
    let s = Srv::with(Config {
        max_body: 64,
        ..Config::default()
    })
    .await;
    let big = json!({"name": "x".repeat(100)});
    let (status, out) = s.call("CreateStateMachine", big).await;
    assert_eq!(status, 413);
    assert!(
        out["__type"]
            .as_str()
            .unwrap()
            .ends_with("#RequestEntityTooLargeException")
    );
    s.shutdown().await;
}

/// Reads one HTTP/1.1 response (headers + Content-Length body) from a kept-alive connection.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> u16 {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                buf.drain(..end + 4 + len);
                return status;
            }
        }
        let mut chunk = [0u8; 8192];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// StartSyncExecution throughput over kept-alive connections (a measurement, not a check):
/// `cargo test --release --test server -- --ignored --nocapture sync_throughput`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn sync_throughput() {
    let s = Srv::start().await;
    let arn = s.create("load", PASS, "EXPRESS").await;
    let body = json!({"stateMachineArn": arn, "input": "{\"a\":1}"}).to_string();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.StartSyncExecution\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (conns, per_conn) = (32, 2_000);
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (addr, req) = (s.addr.clone(), req.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(&addr).await.unwrap();
            let mut buf = Vec::new();
            for _ in 0..per_conn {
                c.write_all(req.as_bytes()).await.unwrap();
                assert_eq!(read_response(&mut c, &mut buf).await, 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let n = (conns * per_conn) as f64;
    println!(
        "StartSyncExecution: {n} requests in {secs:.2}s = {:.0}/s over {conns} connections",
        n / secs
    );
    s.shutdown().await;
}

#[tokio::test]
async fn random_bodies_never_crash_or_hang() {
    use rand::{Rng, SeedableRng};
    let s = Srv::start().await;
    let arn = s.create("fz", PASS, "EXPRESS").await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let ops = [
        "CreateStateMachine",
        "StartSyncExecution",
        "TestState",
        "TagResource",
        "CreateStateMachineAlias",
        "ListStateMachines",
        "ValidateStateMachineDefinition",
    ];
    let pieces = [
        json!(null),
        json!(1),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!(""),
        json!(true),
        json!([]),
        json!({}),
        json!(arn),
        json!(format!("{arn}:1")),
        json!(ROLE),
        json!(PASS),
        json!("{\"Type\":\"Pass\",\"End\":true}"),
        json!([{"key": 1}]),
        json!([{"stateMachineVersionArn": arn, "weight": 101}]),
        json!("a".repeat(300)),
    ];
    let members = [
        "name",
        "definition",
        "roleArn",
        "type",
        "input",
        "stateMachineArn",
        "tags",
        "routingConfiguration",
        "maxResults",
        "nextToken",
        "mock",
        "stateName",
        "inspectionLevel",
        "publish",
        "resourceArn",
        "loggingConfiguration",
    ];
    for i in 0..300 {
        let mut body = serde_json::Map::new();
        for _ in 0..rng.gen_range(0..6) {
            let m = members[rng.gen_range(0..members.len())];
            body.insert(m.into(), pieces[rng.gen_range(0..pieces.len())].clone());
        }
        let op = ops[i % ops.len()];
        let (status, out) = s.call(op, Value::Object(body.clone())).await;
        assert!(
            status == 200 || status == 400,
            "{op} {body:?} → {status} {out}"
        );
        if status == 400 {
            assert!(
                out["__type"].as_str().is_some_and(|t| t.contains('#')),
                "{op} {body:?} → {out}"
            );
        }
    }
    s.shutdown().await;
}
