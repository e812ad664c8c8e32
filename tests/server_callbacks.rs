//! Task tokens and nested executions through the JSON API: a STANDARD machine's
//! `.waitForTaskToken` Task waits until SendTaskSuccess/SendTaskFailure, through StartExecution
//! and through `POST /execute/{name}`; `startExecution.sync:2` runs a machine of the server.

use std::sync::Arc;
use std::time::Duration;

use expressway::engine::{Engine, Settings};
use expressway::server::{Config, ExecLog, Server, serve};
use expressway::tasks::TaskError;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

// Shared with tests/server.rs, which uses the constructors this file does not.
#[allow(dead_code)]
#[path = "server/harness.rs"]
mod harness;

use harness::Srv;

const ROLE: &str = "arn:aws:iam::123456789012:role/r";

/// The tutorial's approval step: publish the token, wait for a person.
const APPROVAL: &str = r#"{"StartAt":"Wait for human approval","States":{"Wait for human approval":{
  "Type":"Task","Resource":"arn:aws:states:::sns:publish.waitForTaskToken",
  "Parameters":{"TopicArn":"arn:aws:sns:us-east-1:123456789012:approvals",
    "Message":{"Input.$":"$","TaskToken.$":"$$.Task.Token"}},
  "TimeoutSeconds":30,"HeartbeatSeconds":20,"End":true}}}"#;

/// A server whose SNS publish hands each message's token to the test.
async fn server() -> (Srv, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut engine = Engine::new(Settings::default());
    engine
        .tasks_mut()
        .register_fn("arn:aws:states:::sns:publish", move |req| {
            let tx = tx.clone();
            async move {
                let token = req
                    .input
                    .get("Message")
                    .and_then(|m| m.get("TaskToken"))
                    .and_then(|t| t.as_str().map(str::to_string))
                    .ok_or_else(|| TaskError::runtime("no token in the message"))?;
                tx.send(token)
                    .map_err(|_| TaskError::runtime("test ended"))?;
                Ok(expressway::value::parse(r#"{"MessageId":"m-1"}"#).expect("JSON"))
            }
        });
    let sink = ExecLog::new(Box::new(std::io::sink()));
    (Srv::with_engine(engine, Config::default(), sink).await, rx)
}

async fn next_token(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the Task publishes within 10 s")
        .expect("a token")
}

/// DescribeExecution until the execution leaves RUNNING (bounded).
async fn finished(s: &Srv, exec: &Value) -> Value {
    for _ in 0..200 {
        let d = s
            .ok("DescribeExecution", json!({"executionArn": exec}))
            .await;
        if d["status"] != "RUNNING" {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the execution is still running");
}

#[tokio::test]
async fn send_task_success_and_failure_answer_a_waiting_standard_execution() {
    let (s, mut rx) = server().await;
    let arn = s.create("approval", APPROVAL, "STANDARD").await;
    let start =
        |name: &str| json!({"stateMachineArn": arn, "name": name, "input": r#"{"order":7}"#});

    // Approved.
    let exec = s.ok("StartExecution", start("yes")).await["executionArn"].clone();
    let token = next_token(&mut rx).await;
    assert_eq!(
        s.ok("DescribeExecution", json!({"executionArn": exec}))
            .await["status"],
        "RUNNING"
    );
    s.ok("SendTaskHeartbeat", json!({"taskToken": token})).await;
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": r#"{"approved":true}"#}),
    )
    .await;
    let d = finished(&s, &exec).await;
    assert_eq!(
        (d["status"].as_str(), d["output"].as_str()),
        (Some("SUCCEEDED"), Some(r#"{"approved":true}"#)),
        "{d}"
    );
    let msg = s
        .err(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
            "TaskTimedOut",
        )
        .await;
    assert_eq!(
        msg,
        "Task Timed Out: 'Provided task does not exist anymore'"
    );

    // Rejected.
    let exec = s.ok("StartExecution", start("no")).await["executionArn"].clone();
    let token = next_token(&mut rx).await;
    s.err(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{not json"}),
        "InvalidOutput",
    )
    .await;
    s.ok(
        "SendTaskFailure",
        json!({"taskToken": token, "error": "Rejected", "cause": "too dear"}),
    )
    .await;
    let d = finished(&s, &exec).await;
    assert_eq!(
        (
            d["status"].as_str(),
            d["error"].as_str(),
            d["cause"].as_str()
        ),
        (Some("FAILED"), Some("Rejected"), Some("too dear")),
        "{d}"
    );
    s.err(
        "SendTaskHeartbeat",
        json!({"taskToken": token}),
        "TaskTimedOut",
    )
    .await;

    // Tokens that were never issued, or are not tokens at all.
    s.err(
        "SendTaskSuccess",
        json!({"taskToken": "AQ00000000000000000000000000000000000000000000000", "output": "1"}),
        "InvalidToken",
    )
    .await;
    let stranger = format!("AQ{}", "0".repeat(48));
    s.err(
        "SendTaskFailure",
        json!({"taskToken": stranger}),
        "TaskDoesNotExist",
    )
    .await;
    s.err(
        "SendTaskHeartbeat",
        json!({"taskToken": ""}),
        "ValidationException",
    )
    .await;

    // Express machines may not wait for a token (AWS rejects them at creation).
    let out = s
        .err(
            "CreateStateMachine",
            json!({"name": "x", "definition": APPROVAL, "roleArn": ROLE, "type": "EXPRESS"}),
            "InvalidDefinition",
        )
        .await;
    assert!(out.contains("waitForTaskToken"), "{out}");
    s.shutdown().await;
}

#[tokio::test]
async fn the_execute_route_answers_once_the_token_is_answered() {
    let (s, mut rx) = server().await;
    s.create("approval", APPROVAL, "STANDARD").await;
    let call = s.http("POST", "/execute/approval", "", r#"{"order":7}"#);
    let answer = async {
        let token = next_token(&mut rx).await;
        s.ok(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": r#"{"approved":"by a person"}"#}),
        )
        .await;
    };
    let ((status, head, body), ()) = tokio::join!(call, answer);
    assert_eq!(status, 200, "{body}");
    assert!(
        head.contains(
            "x-amzn-execution-arn: arn:aws:states:us-east-1:123456789012:execution:approval:"
        ),
        "{head}"
    );
    assert_eq!(body, r#"{"approved":"by a person"}"#);
    s.shutdown().await;
}

#[tokio::test]
async fn start_execution_sync_runs_a_machine_of_this_server() {
    let (s, _rx) = server().await;
    let child = s
        .create(
            "child",
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"got.$":"$.n"},"End":true}}}"#,
            "EXPRESS",
        )
        .await;
    let parent = format!(
        r#"{{"StartAt":"Run","States":{{"Run":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
        "Parameters":{{"StateMachineArn":"{child}","Input":{{"n.$":"$.n"}}}},"OutputPath":"$.Output","End":true}}}}}}"#
    );
    let arn = s.create("parent", &parent, "STANDARD").await;
    let exec = s
        .ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "input": r#"{"n":5}"#}),
        )
        .await["executionArn"]
        .clone();
    let d = finished(&s, &exec).await;
    assert_eq!(d["output"], r#"{"got":5}"#, "{d}");
    // A deleted child is no longer run in-process.
    s.ok("DeleteStateMachine", json!({"stateMachineArn": child}))
        .await;
    let exec = s
        .ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "input": r#"{"n":5}"#}),
        )
        .await["executionArn"]
        .clone();
    assert_eq!(finished(&s, &exec).await["status"], "FAILED");
    s.shutdown().await;
}
