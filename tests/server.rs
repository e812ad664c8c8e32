//! The Step Functions API over raw HTTP: every operation, and malformed requests answered with
//! 4xx in AWS's shape. Each test starts its own server on 127.0.0.1:0 and stops it.

use std::sync::Arc;

use expressway::engine::{Engine, Settings};
use expressway::server::{Config, ExecLog, Server, serve};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "server/hardening.rs"]
mod hardening;
#[path = "server/harness.rs"]
mod harness;
#[path = "server/malformed.rs"]
mod malformed;

use harness::Srv;

const ROLE: &str = "arn:aws:iam::123456789012:role/r";
const SM: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";
const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":1},"ResultPath":"$.r","End":true}}}"#;
const FAIL: &str = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"bad"}}}"#;

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
    let server = Server::new(Engine::new(Settings::default()), Config::default());
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
    let task = r#"{"QueryLanguage":"JSONata","Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"x":"{% $states.input.a * 2 %}"},"End":true}"#;
    let out = s
        .ok("TestState", json!({"definition": task, "input": "{\"a\":2}", "inspectionLevel": "DEBUG", "mock": {"result": "{\"y\":1}"}}))
        .await;
    assert_eq!(
        out["inspectionData"],
        json!({"input": "{\"a\":2}", "afterArguments": "{\"x\":4}", "result": "{\"y\":1}"})
    );
    let task = r#"{"QueryLanguage":"JSONata","Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Output":"{% $states.result.y + 1 %}","Next":"M"}"#;
    let out = s
        .ok(
            "TestState",
            json!({"definition": task, "mock": {"result": "{\"y\":1}"}}),
        )
        .await;
    assert_eq!(
        (out["output"].as_str(), out["nextState"].as_str()),
        (Some("2"), Some("M"))
    );
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

/// Issue 11, defect 8: TestState of a Wait until year 9999 held the request for the whole five
/// minutes and answered FAILED with neither error nor cause. TestState tests the Wait's fields
/// and output and does not wait; a bad wait time still fails as in an execution.
#[tokio::test]
async fn test_state_of_a_wait_does_not_wait() {
    let s = Srv::start().await;
    let started = std::time::Instant::now();
    for wait in [
        r#"{"Type":"Wait","Timestamp":"9999-12-31T23:59:59Z","Next":"After"}"#,
        r#"{"Type":"Wait","Seconds":99999999,"Next":"After"}"#,
        r#"{"Type":"Wait","SecondsPath":"$.s","Next":"After"}"#,
    ] {
        let out = s
            .ok(
                "TestState",
                json!({"definition": wait, "input": "{\"s\":3600}"}),
            )
            .await;
        assert_eq!(
            (
                out["status"].as_str(),
                out["nextState"].as_str(),
                out["output"].as_str()
            ),
            (Some("SUCCEEDED"), Some("After"), Some("{\"s\":3600}")),
            "{wait}: {out}"
        );
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let wait = r#"{"Type":"Wait","SecondsPath":"$.s","End":true}"#;
    let out = s
        .ok(
            "TestState",
            json!({"definition": wait, "input": "{\"s\":-1}"}),
        )
        .await;
    assert_eq!(out["status"], "FAILED");
    assert_eq!(out["error"], "States.Runtime");
    assert!(
        out["cause"]
            .as_str()
            .unwrap_or_default()
            .contains("negative value"),
        "{out}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn test_state_takes_variables_and_shows_them_after() {
    let s = Srv::start().await;
    // JSONata reads a preset variable and assigns another; both show after the state.
    let pass = r#"{"QueryLanguage":"JSONata","Type":"Pass","Output":"{% $x + $states.input.a %}","Assign":{"y":"{% $x * 10 %}"},"End":true}"#;
    let out = s
        .ok(
            "TestState",
            json!({"definition": pass, "input": "{\"a\":1}", "variables": "{\"x\":2}", "inspectionLevel": "DEBUG"}),
        )
        .await;
    assert_eq!(out["output"].as_str(), Some("3"), "{out}");
    assert_eq!(
        out["inspectionData"]["variables"].as_str(),
        Some(r#"{"x":2,"y":20}"#),
        "{out}"
    );
    // JSONPath: `$x` in a path field, without inspection data.
    let pass = r#"{"Type":"Pass","Parameters":{"v.$":"$x"},"End":true}"#;
    let out = s
        .ok(
            "TestState",
            json!({"definition": pass, "variables": "{\"x\":[1,2]}"}),
        )
        .await;
    assert_eq!(out["output"].as_str(), Some(r#"{"v":[1,2]}"#), "{out}");
    assert!(out.get("inspectionData").is_none(), "{out}");
    // Without the variable, AWS's unassigned-variable error.
    let out = s.ok("TestState", json!({"definition": pass})).await;
    assert_eq!(out["status"].as_str(), Some("FAILED"), "{out}");
    // Not an object: refused.
    let msg = s
        .err(
            "TestState",
            json!({"definition": pass, "variables": "[1]"}),
            "ValidationException",
        )
        .await;
    assert!(msg.contains("variables"), "{msg}");
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
    let sink = ExecLog::new(Box::new(std::io::sink()));
    let s = Srv::with_engine(engine, Config::default(), sink).await;
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
    // The same through `/execute/{name}?testCase=`; an unknown case is refused, not run unmocked.
    let (status, _, body) = s
        .http("POST", "/execute/mocked?testCase=Happy", "", "{}")
        .await;
    assert_eq!((status, body.as_str()), (200, r#"{"from":"mock"}"#));
    let (status, _, body) = s
        .http("POST", "/execute/mocked?testCase=Nope", "", "{}")
        .await;
    assert!(
        status == 404 && body.contains("InvalidArn"),
        "{status} {body}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn stop_aborts_a_running_standard_execution() {
    let s = Srv::start().await;
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}"#;
    let arn = s.create("stoppable", wait, "STANDARD").await;
    let started = s
        .ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "long"}),
        )
        .await;
    let exec = started["executionArn"].clone();
    assert_eq!(
        s.ok("DescribeExecution", json!({"executionArn": exec}))
            .await["status"],
        "RUNNING"
    );
    s.ok(
        "StopExecution",
        json!({"executionArn": exec, "error": "Halt", "cause": "by test"}),
    )
    .await;
    let d = s
        .ok("DescribeExecution", json!({"executionArn": exec}))
        .await;
    assert_eq!(
        (
            d["status"].as_str(),
            d["error"].as_str(),
            d["cause"].as_str()
        ),
        (Some("ABORTED"), Some("Halt"), Some("by test"))
    );
    let h = s
        .ok(
            "GetExecutionHistory",
            json!({"executionArn": exec, "reverseOrder": true}),
        )
        .await;
    assert_eq!(h["events"][0]["type"], "ExecutionAborted");
    s.shutdown().await;
}

#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logging_configuration_writes_execution_events() {
    let sink = Captured::default();
    let s = Srv::with_log(Config::default(), ExecLog::new(Box::new(sink.clone()))).await;
    let logging = json!({"level": "ALL", "includeExecutionData": true,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]});
    let created = s
        .ok("CreateStateMachine", json!({"name": "logged", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS", "loggingConfiguration": logging}))
        .await;
    let arn = created["stateMachineArn"].clone();
    let out = s
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "input": "{}"}),
        )
        .await;
    // Lines are written off the request path: wait (boundedly) for the last one.
    let mut text = String::new();
    for _ in 0..500 {
        text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        if text.contains("ExecutionSucceeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(events[3]["execution_arn"], out["executionArn"]);
    assert_eq!(events[3]["details"]["output"], r#"{"r":{"ok":1}}"#);
    assert_eq!(events[1]["details"]["input"], "{}");
    assert_eq!(events[2]["details"]["output"], r#"{"r":{"ok":1}}"#);
    let ids: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap(),
                e["previous_event_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(ids, [("1", "0"), ("2", "1"), ("3", "2"), ("4", "3")]);
    let d = s
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(d["loggingConfiguration"]["level"], "ALL");
    s.shutdown().await;
}

#[tokio::test]
async fn the_console_serves_its_page_machines_graphs_and_recent_executions() {
    let s = Srv::with(Config::default()).await;
    let choice = r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"Yes"}],"Default":"No"},"Yes":{"Type":"Pass","End":true},"No":{"Type":"Fail","Error":"Nope"}}}"#;
    s.create("pick", choice, "EXPRESS").await;
    let (status, head, page) = s.http("GET", "/ui", "", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("text/html") && page.contains("<title>Expressway console</title>"));
    let (_, _, machines) = s.http("GET", "/ui/api/machines", "", "").await;
    assert!(machines.contains(r#""name":"pick""#), "{machines}");
    // A console start records the path; an API start (no logging) is listed without one.
    let (status, _, started) = s
        .http("POST", "/ui/api/start/pick", "", r#"{"go":true}"#)
        .await;
    assert_eq!(status, 200, "{started}");
    let started: Value = serde_json::from_str(&started).unwrap();
    assert_eq!(started["status"], "SUCCEEDED");
    let id = started["id"].as_u64().expect("a console id");
    let arn = s.create("plain", PASS, "EXPRESS").await;
    s.ok("StartSyncExecution", json!({"stateMachineArn": arn}))
        .await;
    let (_, _, list) = s.http("GET", "/ui/api/executions", "", "").await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let items = list["executions"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            items[0]["stateMachine"].as_str(),
            items[0]["traced"].as_bool()
        ),
        (Some("plain"), Some(false))
    );
    assert_eq!(
        (
            items[1]["stateMachine"].as_str(),
            items[1]["traced"].as_bool()
        ),
        (Some("pick"), Some(true))
    );
    let (_, _, detail) = s
        .http("GET", &format!("/ui/api/executions/{id}"), "", "")
        .await;
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["path"], json!(["C", "Yes"]));
    assert_eq!(detail["states"]["Yes"]["output"], r#"{"go":true}"#);
    assert_eq!(detail["events"][0]["type"], "ExecutionStarted");
    let (status, head, svg) = s
        .http(
            "GET",
            &format!("/ui/api/graph/pick.svg?execution={id}"),
            "",
            "",
        )
        .await;
    assert!(status == 200 && head.contains("image/svg+xml"));
    assert!(svg.contains(r##"data-state="Yes" opacity="1""##), "{svg}");
    assert!(svg.contains(r##"data-state="No" opacity="0.5""##), "{svg}");
    // Unknown things are 404s with a message; a failing start shows AWS's error.
    for path in [
        "/ui/api/graph/nope.svg",
        "/ui/api/executions/999",
        "/ui/api/whatever",
    ] {
        let (status, _, body) = s.http("GET", path, "", "").await;
        assert!(
            status == 404 && body.contains("message"),
            "{path}: {status} {body}"
        );
    }
    let (status, _, body) = s.http("POST", "/ui/api/start/nope", "", "{}").await;
    assert!(
        status >= 400 && body.contains("StateMachineDoesNotExist"),
        "{status} {body}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn the_console_ring_keeps_only_the_newest() {
    let config = Config {
        ui_executions: 2,
        ..Config::default()
    };
    let s = Srv::with(config).await;
    let arn = s.create("p", PASS, "EXPRESS").await;
    for _ in 0..5 {
        s.ok("StartSyncExecution", json!({"stateMachineArn": arn}))
            .await;
    }
    let (_, _, list) = s.http("GET", "/ui/api/executions", "", "").await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let ids: Vec<u64> = list["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [5, 4]);
    s.shutdown().await;
}

#[tokio::test]
async fn metrics_count_executions_per_machine_and_states_per_type() {
    let s = Srv::with(Config::default()).await;
    let choice = r#"{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"Yes"}],"Default":"No"},"Yes":{"Type":"Pass","End":true},"No":{"Type":"Fail","Error":"Nope"}}}"#;
    let arn = s.create("pick-one", choice, "EXPRESS").await;
    for go in [true, true, false] {
        let input = json!({"go": go}).to_string();
        s.ok(
            "StartSyncExecution",
            json!({"stateMachineArn": arn, "input": input}),
        )
        .await;
    }
    let (status, _, text) = s.http("GET", "/metrics", "", "").await;
    assert_eq!(status, 200);
    for line in [
        r#"expressway_state_machine_executions_total{state_machine="pick-one",status="SUCCEEDED"} 2"#,
        r#"expressway_state_machine_executions_total{state_machine="pick-one",status="FAILED"} 1"#,
        r#"expressway_states_entered_total{state_type="Choice"} 3"#,
        r#"expressway_states_entered_total{state_type="Pass"} 2"#,
        r#"expressway_states_entered_total{state_type="Fail"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing in:\n{text}"
        );
    }
    s.shutdown().await;
}
