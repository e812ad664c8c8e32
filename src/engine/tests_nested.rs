//! `startExecution.sync`/`.sync:2` run children of this engine in-process; under a mock
//! configuration `.sync` and `.waitForTaskToken` Tasks answer with their mocks at once.

use super::*;
use crate::tasks::MockConfig;

const CHILD_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:child";

fn parent(resource_suffix: &str) -> String {
    format!(
        r#"{{"StartAt":"Run","States":{{"Run":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution{resource_suffix}",
        "Parameters":{{"StateMachineArn":"{CHILD_ARN}","Name":"kid","Input":{{"n.$":"$.n"}}}},"End":true}}}}}}"#
    )
}

async fn run_parent(engine: &Engine, def: &str, test_case: Option<&str>) -> Outcome {
    let program = engine.compile(def).expect("compiles");
    let mut meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    meta.test_case = test_case.map(str::to_string);
    meta.standard = true;
    engine.execute(program, r#"{"n":2}"#, meta).await
}

fn with_child(child: &str) -> Engine {
    let engine = Engine::new(Settings::default());
    let program = engine.compile(child).expect("child compiles");
    engine.define_machine(CHILD_ARN, program);
    engine
}

const DOUBLE: &str = r#"{"StartAt":"D","States":{"D":{"Type":"Pass","Parameters":{"twice.$":"States.MathAdd($.n, $.n)"},"End":true}}}"#;

fn output(o: &Outcome) -> serde_json::Value {
    serde_json::from_str(o.output.as_deref().expect("an output")).expect("JSON")
}

#[tokio::test(start_paused = true)]
async fn sync_returns_the_child_as_describe_execution_shows_it() {
    let engine = with_child(DOUBLE);
    let o = run_parent(&engine, &parent(".sync"), None).await;
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    let out = output(&o);
    assert_eq!(out["Output"], r#"{"twice":4}"#, "JSON text for .sync");
    assert_eq!(out["Input"], r#"{"n":2}"#);
    assert_eq!(out["Status"], "SUCCEEDED");
    assert_eq!(out["Name"], "kid");
    assert_eq!(out["StateMachineArn"], CHILD_ARN);
    assert_eq!(
        out["ExecutionArn"],
        "arn:aws:states:us-east-1:123456789012:execution:child:kid"
    );
    assert_eq!(out["OutputDetails"], serde_json::json!({"Included": true}));
    assert!(out["StartDate"].is_i64() && out["StopDate"].is_i64());

    let o = run_parent(&engine, &parent(".sync:2"), None).await;
    let out = output(&o);
    assert_eq!(
        out["Output"],
        serde_json::json!({"twice": 4}),
        "JSON for .sync:2"
    );
    assert_eq!(out["Input"], serde_json::json!({"n": 2}));
}

#[tokio::test(start_paused = true)]
async fn a_failed_child_fails_the_task() {
    let engine = with_child(
        r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"child said no"}}}"#,
    );
    let o = run_parent(&engine, &parent(".sync"), None).await;
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("States.TaskFailed"));
    let cause: serde_json::Value =
        serde_json::from_str(o.cause.as_deref().expect("a cause")).expect("JSON cause");
    assert_eq!(
        (&cause["Status"], &cause["Error"], &cause["Cause"]),
        (
            &serde_json::json!("FAILED"),
            &serde_json::json!("Nope"),
            &serde_json::json!("child said no")
        )
    );
    assert!(cause.get("Output").is_none());
}

#[tokio::test(start_paused = true)]
async fn an_unknown_child_goes_to_the_task_handlers() {
    let engine = Engine::new(Settings::default());
    let o = run_parent(&engine, &parent(".sync"), None).await;
    assert_eq!(o.status, Status::Failed);
    assert!(o.cause.unwrap_or_default().contains("'.sync'"));
}

#[tokio::test(start_paused = true)]
async fn mocked_sync_and_callback_tasks_answer_at_once() {
    let mocks = r#"{"StateMachines":{"sm":{"TestCases":{"Happy":{"Run":"Ran","Ask":"Approved"}}}},
      "MockedResponses":{"Ran":{"0":{"Return":{"Status":"SUCCEEDED","Output":"{}"}}},
                         "Approved":{"0":{"Return":{"approved":true}}}}}"#;
    let mut engine = with_child(DOUBLE);
    engine
        .tasks_mut()
        .set_mock_config(MockConfig::parse(mocks).expect("mock config"));
    let def = format!(
        r#"{{"StartAt":"Run","States":{{"Run":{{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
          "Parameters":{{"StateMachineArn":"{CHILD_ARN}","Input":{{}}}},"ResultPath":"$.run","Next":"Ask"}},
          "Ask":{{"Type":"Task","Resource":"arn:aws:states:::sns:publish.waitForTaskToken",
          "Parameters":{{"Message":{{"token.$":"$$.Task.Token"}}}},"ResultPath":"$.ask","TimeoutSeconds":5,"End":true}}}}}}"#
    );
    let started = tokio::time::Instant::now();
    let o = run_parent(&engine, &def, Some("Happy")).await;
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    assert_eq!(started.elapsed(), Duration::ZERO, "nothing waited");
    let out = output(&o);
    assert_eq!(out["run"]["Output"], "{}", "the mock, not the child");
    assert_eq!(out["ask"], serde_json::json!({"approved": true}));
    assert_eq!(engine.callbacks().waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_express_parent_does_not_run_children() {
    let engine = with_child(DOUBLE);
    let program = engine.compile(&parent(".sync")).expect("compiles");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    let o = engine.execute(program, r#"{"n":2}"#, meta).await;
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert!(o.cause.unwrap_or_default().contains("'.sync'"));
}
