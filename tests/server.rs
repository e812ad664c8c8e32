//! The Step Functions API over raw HTTP: every operation, and malformed requests answered with
//! 4xx in AWS's shape. Each test starts its own server on 127.0.0.1:0 and stops it.

use std::sync::Arc;

use expressway::engine::{Engine, Settings};
use expressway::server::{Config, EngineBackend, ExecLog, Server, serve};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ROLE: &str = "arn:aws:iam::123456789012:role/r";
const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";
const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":1},"ResultPath":"$.r","End":true}}}"#;
const FAIL: &str = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"bad"}}}"#;

struct Srv {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Srv {
    async fn start() -> Srv {
        Srv::with(Config::default()).await
    }

    async fn with(config: Config) -> Srv {
        let backend = EngineBackend::new(Engine::new(Settings::default()));
        let server = Server::new(Arc::new(backend), config)
            .with_log(ExecLog::new(Box::new(std::io::sink())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(serve(listener, Arc::new(server), async {
            let _ = rx.await;
        }));
        Srv {
            addr,
            stop: Some(tx),
            done,
        }
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let finished =
            tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.done).await;
        assert!(finished.is_ok(), "serve did not stop");
    }

    /// Sends raw bytes and returns (status, headers text, body).
    async fn raw(&self, request: &[u8]) -> (u16, String, String) {
        let mut s = TcpStream::connect(&self.addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut buf = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, head.to_lowercase(), body.to_string())
    }

    async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> (u16, String, String) {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: sync-localhost\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.raw(req.as_bytes()).await
    }

    /// One AWS JSON 1.0 call: (status, parsed body).
    async fn call(&self, op: &str, body: Value) -> (u16, Value) {
        self.call_text(op, &body.to_string()).await
    }

    async fn call_text(&self, op: &str, body: &str) -> (u16, Value) {
        let headers = format!(
            "X-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\n"
        );
        let (status, head, body) = self.http("POST", "/", &headers, body).await;
        assert!(head.contains("x-amzn-requestid"), "no request id: {head}");
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn ok(&self, op: &str, body: Value) -> Value {
        let (status, out) = self.call(op, body).await;
        assert_eq!(status, 200, "{op}: {out}");
        out
    }

    /// Asserts an error answer: HTTP 400 and the error name after `#` in `__type`.
    async fn err(&self, op: &str, body: Value, kind: &str) -> String {
        let (status, out) = self.call(op, body).await;
        assert_eq!(status, 400, "{op}: {out}");
        let t = out["__type"].as_str().unwrap_or_default();
        assert_eq!(t.rsplit('#').next(), Some(kind), "{op}: {out}");
        out["message"].as_str().unwrap_or_default().to_string()
    }

    async fn create(&self, name: &str, def: &str, kind: &str) -> String {
        let out = self
            .ok(
                "CreateStateMachine",
                json!({"name": name, "definition": def, "roleArn": ROLE, "type": kind}),
            )
            .await;
        out["stateMachineArn"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn state_machine_lifecycle() {
    let s = Srv::start().await;
    let arn = s.create("sm1", PASS, "EXPRESS").await;
    assert_eq!(arn, format!("{SM}sm1"));
    let d = s
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(
        (d["name"].as_str(), d["type"].as_str(), d["status"].as_str()),
        (Some("sm1"), Some("EXPRESS"), Some("ACTIVE"))
    );
    assert_eq!(d["definition"], PASS);
    assert!(d["creationDate"].is_f64() || d["creationDate"].is_u64());
    assert_eq!(
        d["loggingConfiguration"],
        json!({"level": "OFF", "includeExecutionData": false})
    );
    // Idempotent create, then a conflicting one.
    assert_eq!(s.create("sm1", PASS, "EXPRESS").await, arn);
    let msg = s
        .err(
            "CreateStateMachine",
            json!({"name": "sm1", "definition": FAIL, "roleArn": ROLE, "type": "EXPRESS"}),
            "StateMachineAlreadyExists",
        )
        .await;
    assert_eq!(msg, format!("State Machine Already Exists: '{arn}'"));
    let u = s
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": FAIL}),
        )
        .await;
    assert!(u["revisionId"].is_string() && u["updateDate"].is_number());
    let d = s
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(d["definition"], FAIL);
    s.create("sm2", PASS, "STANDARD").await;
    s.create("sm3", PASS, "EXPRESS").await;
    let page = s.ok("ListStateMachines", json!({"maxResults": 2})).await;
    let names: Vec<&str> = page["stateMachines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sm1", "sm2"]);
    let rest = s
        .ok("ListStateMachines", json!({"nextToken": page["nextToken"]}))
        .await;
    assert_eq!(rest["stateMachines"][0]["name"], "sm3");
    assert!(rest.get("nextToken").is_none());
    s.ok("DeleteStateMachine", json!({"stateMachineArn": arn}))
        .await;
    s.ok("DeleteStateMachine", json!({"stateMachineArn": arn}))
        .await;
    let msg = s
        .err(
            "DescribeStateMachine",
            json!({"stateMachineArn": arn}),
            "StateMachineDoesNotExist",
        )
        .await;
    assert_eq!(msg, format!("State Machine Does Not Exist: '{arn}'"));
    s.shutdown().await;
}

#[tokio::test]
async fn sync_executions_answer_like_aws() {
    let s = Srv::start().await;
    let ok = s.create("ok", PASS, "EXPRESS").await;
    let out = s
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": ok, "input": "{\"a\":2}", "name": "run-1"}),
        )
        .await;
    assert_eq!(out["status"], "SUCCEEDED");
    assert_eq!(out["output"], r#"{"a":2,"r":{"ok":1}}"#);
    assert_eq!(out["input"], r#"{"a":2}"#);
    assert_eq!(out["name"], "run-1");
    assert_eq!(out["stateMachineArn"], ok);
    assert!(
        out["executionArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:states:us-east-1:123456789012:express:ok:run-1:")
    );
    assert_eq!(out["billingDetails"]["billedDurationInMilliseconds"], 100);
    assert_eq!(out["billingDetails"]["billedMemoryUsedInMB"], 64);
    let meta = s
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": ok, "includedData": "METADATA_ONLY"}),
        )
        .await;
    assert!(meta.get("output").is_none() && meta.get("input").is_none());
    let bad = s.create("bad", FAIL, "EXPRESS").await;
    let out = s
        .ok("StartSyncExecution", json!({"stateMachineArn": bad}))
        .await;
    assert_eq!(
        (
            out["status"].as_str(),
            out["error"].as_str(),
            out["cause"].as_str()
        ),
        (Some("FAILED"), Some("Boom"), Some("bad"))
    );
    let std_arn = s.create("std", PASS, "STANDARD").await;
    s.err(
        "StartSyncExecution",
        json!({"stateMachineArn": std_arn}),
        "StateMachineTypeNotSupported",
    )
    .await;
    s.shutdown().await;
}

#[tokio::test]
async fn async_executions_standard_and_express() {
    let s = Srv::start().await;
    let ex = s.create("ex", PASS, "EXPRESS").await;
    let started = s.ok("StartExecution", json!({"stateMachineArn": ex})).await;
    let earn = started["executionArn"].as_str().unwrap().to_string();
    assert!(earn.contains(":express:ex:"));
    let msg = s
        .err(
            "DescribeExecution",
            json!({"executionArn": earn}),
            "InvalidArn",
        )
        .await;
    assert_eq!(
        msg,
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
    s.err(
        "ListExecutions",
        json!({"stateMachineArn": ex}),
        "StateMachineTypeNotSupported",
    )
    .await;

    let st = s.create("st", PASS, "STANDARD").await;
    let started = s
        .ok(
            "StartExecution",
            json!({"stateMachineArn": st, "name": "e1", "input": "{}"}),
        )
        .await;
    let arn = started["executionArn"].as_str().unwrap().to_string();
    assert_eq!(arn, "arn:aws:states:us-east-1:123456789012:execution:st:e1");
    let mut d = Value::Null;
    for _ in 0..100 {
        d = s
            .ok("DescribeExecution", json!({"executionArn": arn}))
            .await;
        if d["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(d["output"], r#"{"r":{"ok":1}}"#);
    s.err(
        "StartExecution",
        json!({"stateMachineArn": st, "name": "e1"}),
        "ExecutionAlreadyExists",
    )
    .await;
    let list = s
        .ok(
            "ListExecutions",
            json!({"stateMachineArn": st, "statusFilter": "SUCCEEDED"}),
        )
        .await;
    assert_eq!(list["executions"][0]["executionArn"], arn);
    let h = s
        .ok("GetExecutionHistory", json!({"executionArn": arn}))
        .await;
    let types: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["ExecutionStarted", "ExecutionSucceeded"]);
    let f = s
        .ok(
            "DescribeStateMachineForExecution",
            json!({"executionArn": arn}),
        )
        .await;
    assert_eq!(f["definition"], PASS);
    let stop = s.ok("StopExecution", json!({"executionArn": arn})).await;
    assert!(stop["stopDate"].is_number());
    let missing = "arn:aws:states:us-east-1:123456789012:execution:st:nope";
    let msg = s
        .err(
            "DescribeExecution",
            json!({"executionArn": missing}),
            "ExecutionDoesNotExist",
        )
        .await;
    assert_eq!(msg, format!("Execution Does Not Exist: '{missing}'"));
    s.shutdown().await;
}

#[tokio::test]
async fn versions_and_aliases_route_executions() {
    let s = Srv::start().await;
    let out = s
        .ok("CreateStateMachine", json!({"name": "v", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS", "publish": true, "versionDescription": "first"}))
        .await;
    let arn = out["stateMachineArn"].as_str().unwrap().to_string();
    let v1 = out["stateMachineVersionArn"].as_str().unwrap().to_string();
    assert_eq!(v1, format!("{arn}:1"));
    let u = s
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": FAIL, "publish": true}),
        )
        .await;
    let v2 = u["stateMachineVersionArn"].as_str().unwrap().to_string();
    assert_eq!(v2, format!("{arn}:2"));
    // Publishing an unchanged revision returns the latest version.
    let again = s
        .ok(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": arn}),
        )
        .await;
    assert_eq!(again["stateMachineVersionArn"], v2);
    s.err(
        "PublishStateMachineVersion",
        json!({"stateMachineArn": arn, "revisionId": "old"}),
        "ConflictException",
    )
    .await;
    let vs = s
        .ok("ListStateMachineVersions", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(vs["stateMachineVersions"][0]["stateMachineVersionArn"], v2);
    let d = s
        .ok("DescribeStateMachine", json!({"stateMachineArn": v1}))
        .await;
    assert_eq!(
        (d["definition"].as_str(), d["description"].as_str()),
        (Some(PASS), Some("first"))
    );
    let r1 = s
        .ok("StartSyncExecution", json!({"stateMachineArn": v1}))
        .await;
    assert_eq!(r1["status"], "SUCCEEDED");
    let r2 = s
        .ok("StartSyncExecution", json!({"stateMachineArn": v2}))
        .await;
    assert_eq!(r2["status"], "FAILED");

    let routing = json!([{"stateMachineVersionArn": v1, "weight": 100}]);
    let a = s
        .ok(
            "CreateStateMachineAlias",
            json!({"name": "prod", "routingConfiguration": routing}),
        )
        .await;
    let alias = a["stateMachineAliasArn"].as_str().unwrap().to_string();
    assert_eq!(alias, format!("{arn}:prod"));
    assert_eq!(
        s.ok("StartSyncExecution", json!({"stateMachineArn": alias}))
            .await["status"],
        "SUCCEEDED"
    );
    let da = s
        .ok(
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": alias}),
        )
        .await;
    assert_eq!(da["routingConfiguration"], routing);
    s.err(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": v1}),
        "ConflictException",
    )
    .await;
    let split = json!([{"stateMachineVersionArn": v1, "weight": 50}, {"stateMachineVersionArn": v2, "weight": 40}]);
    let m = s
        .err(
            "UpdateStateMachineAlias",
            json!({"stateMachineAliasArn": alias, "routingConfiguration": split}),
            "ValidationException",
        )
        .await;
    assert!(m.contains("100"), "{m}");
    s.ok("UpdateStateMachineAlias", json!({"stateMachineAliasArn": alias, "routingConfiguration": [{"stateMachineVersionArn": v2, "weight": 100}]})).await;
    assert_eq!(
        s.ok("StartSyncExecution", json!({"stateMachineArn": alias}))
            .await["status"],
        "FAILED"
    );
    let la = s
        .ok("ListStateMachineAliases", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(la["stateMachineAliases"][0]["stateMachineAliasArn"], alias);
    s.ok(
        "DeleteStateMachineVersion",
        json!({"stateMachineVersionArn": v1}),
    )
    .await;
    s.ok(
        "DeleteStateMachineAlias",
        json!({"stateMachineAliasArn": alias}),
    )
    .await;
    s.err(
        "DescribeStateMachineAlias",
        json!({"stateMachineAliasArn": alias}),
        "ResourceNotFound",
    )
    .await;
    s.err(
        "CreateStateMachineAlias",
        json!({"name": "123", "routingConfiguration": routing}),
        "ValidationException",
    )
    .await;
    s.shutdown().await;
}

#[tokio::test]
async fn tags_validate_and_test_state() {
    let s = Srv::start().await;
    let arn = s.create("t", PASS, "EXPRESS").await;
    s.ok("TagResource", json!({"resourceArn": arn, "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]})).await;
    s.ok(
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["a"]}),
    )
    .await;
    let t = s
        .ok("ListTagsForResource", json!({"resourceArn": arn}))
        .await;
    assert_eq!(t["tags"], json!([{"key": "b", "value": "2"}]));
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"key": format!("k{i}"), "value": ""}))
        .collect();
    s.err(
        "TagResource",
        json!({"resourceArn": arn, "tags": many}),
        "TooManyTags",
    )
    .await;
    s.err(
        "ListTagsForResource",
        json!({"resourceArn": format!("{SM}nope")}),
        "ResourceNotFound",
    )
    .await;

    let v = s
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": PASS}),
        )
        .await;
    assert_eq!(
        v,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    let v = s
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": "{nope"}),
        )
        .await;
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["code"], "INVALID_JSON_DESCRIPTION");
    let sync = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","End":true}}}"#;
    let v = s
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": sync, "type": "EXPRESS"}),
        )
        .await;
    assert_eq!(v["diagnostics"][0]["location"], "/States/T/Resource");

    let pass = r#"{"Type":"Pass","Result":{"x":1},"Next":"Later"}"#;
    let out = s
        .ok("TestState", json!({"definition": pass, "input": "{}"}))
        .await;
    assert_eq!(
        out,
        json!({"output": "{\"x\":1}", "nextState": "Later", "status": "SUCCEEDED"})
    );
    let machine = format!(
        r#"{{"StartAt":"P","States":{{"P":{pass_end},"F":{FAIL_STATE}}}}}"#,
        pass_end = r#"{"Type":"Pass","End":true}"#,
        FAIL_STATE = r#"{"Type":"Fail","Error":"E","Cause":"C"}"#
    );
    let out = s
        .ok(
            "TestState",
            json!({"definition": machine, "stateName": "F"}),
        )
        .await;
    assert_eq!(
        (
            out["status"].as_str(),
            out["error"].as_str(),
            out["cause"].as_str()
        ),
        (Some("FAILED"), Some("E"), Some("C"))
    );
    let task = r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":"$.r","End":true}"#;
    let out = s.ok("TestState", json!({"definition": task, "input": "{\"a\":1}", "mock": {"result": "{\"m\":true}"}, "inspectionLevel": "DEBUG"})).await;
    assert_eq!(out["output"], r#"{"a":1,"r":{"m":true}}"#);
    let inspection = json!({"input": r#"{"a":1}"#, "afterInputPath": r#"{"a":1}"#, "afterParameters": r#"{"a":1}"#,
        "result": r#"{"m":true}"#, "afterResultSelector": r#"{"m":true}"#, "afterResultPath": r#"{"a":1,"r":{"m":true}}"#});
    assert_eq!(out["inspectionData"], inspection);
    let pass = r#"{"Type":"Pass","InputPath":"$.a","Parameters":{"v.$":"$"},"ResultPath":"$.out","End":true}"#;
    let out = s
        .ok(
            "TestState",
            json!({"definition": pass, "input": "{\"a\":[1]}", "inspectionLevel": "DEBUG"}),
        )
        .await;
    assert_eq!(out["inspectionData"]["afterInputPath"], "[1]");
    assert_eq!(out["inspectionData"]["afterParameters"], r#"{"v":[1]}"#);
    assert_eq!(
        out["inspectionData"]["afterResultPath"],
        r#"{"a":[1],"out":{"v":[1]}}"#
    );
    assert_eq!(out["output"], r#"{"a":[1],"out":{"v":[1]}}"#);
    s.err(
        "TestState",
        json!({"definition": "[1]"}),
        "InvalidDefinition",
    )
    .await;
    s.shutdown().await;
}

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

#[tokio::test]
async fn shutdown_lets_in_flight_executions_finish() {
    let s = Srv::start().await;
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let arn = s.create("slow", wait, "EXPRESS").await;
    let addr = s.addr.clone();
    let body = json!({"stateMachineArn": arn, "input": "{\"k\":1}"}).to_string();
    let probe = Srv {
        addr: addr.clone(),
        stop: None,
        done: tokio::spawn(async { Ok(()) }),
    };
    let in_flight = tokio::spawn(async move { probe.call_text("StartSyncExecution", &body).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.shutdown().await;
    let (status, out) = in_flight.await.unwrap();
    assert_eq!((status, out["status"].as_str()), (200, Some("SUCCEEDED")));
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn definitions_directory_loads_express_machines() {
    let dir = std::env::temp_dir().join(format!("ewy-defs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("orders.asl.json"), PASS).unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
    let files = expressway::server::definitions::read_dir(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["orders"]
    );
    let server = Server::new(
        Arc::new(EngineBackend::new(Engine::new(Settings::default()))),
        Config::default(),
    );
    let arn = server.load_definition("orders", &files[0].text).unwrap();
    assert_eq!(arn, format!("{SM}orders"));
    let err = server.load_definition("broken", "{").unwrap_err();
    assert_eq!(err.kind, "InvalidDefinition");
}

#[tokio::test]
async fn test_state_follows_choices() {
    let s = Srv::start().await;
    let choice = r#"{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"}"#;
    for (input, next) in [(r#"{"n":5}"#, "Big"), (r#"{"n":0}"#, "Small")] {
        let out = s
            .ok("TestState", json!({"definition": choice, "input": input}))
            .await;
        assert_eq!(
            (out["nextState"].as_str(), out["output"].as_str()),
            (Some(next), Some(input)),
            "{input}"
        );
    }
    let jsonata = r#"{"QueryLanguage":"JSONata","Type":"Pass","Output":"{% $states.input.a + 1 %}","Next":"N"}"#;
    let out = s
        .ok(
            "TestState",
            json!({"definition": jsonata, "input": "{\"a\":1}"}),
        )
        .await;
    assert_eq!(
        (out["output"].as_str(), out["nextState"].as_str()),
        (Some("2"), Some("N"))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn mock_test_cases_are_selected_by_arn_suffix() {
    let mocks = r#"{"StateMachines":{"mocked":{"TestCases":{"Happy":{"T":"R"}}}},
        "MockedResponses":{"R":{"0":{"Return":{"from":"mock"}}}}}"#;
    let mut engine = Engine::new(Settings::default());
    engine
        .tasks_mut()
        .set_mock_config(expressway::tasks::MockConfig::parse(mocks).unwrap());
    let server = Server::new(Arc::new(EngineBackend::new(engine)), Config::default())
        .with_log(ExecLog::new(Box::new(std::io::sink())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(serve(listener, Arc::new(server), async {
        let _ = rx.await;
    }));
    let s = Srv {
        addr,
        stop: Some(tx),
        done,
    };
    let task = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}}"#;
    let arn = s.create("mocked", task, "EXPRESS").await;
    let out = s
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": format!("{arn}#Happy")}),
        )
        .await;
    assert_eq!(
        (out["status"].as_str(), out["output"].as_str()),
        (Some("SUCCEEDED"), Some(r#"{"from":"mock"}"#)),
        "{out}"
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
