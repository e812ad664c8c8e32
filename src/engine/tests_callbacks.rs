//! `.waitForTaskToken` Tasks under tokio's paused clock: the execution parks on its token until
//! SendTaskSuccess/Failure, its TimeoutSeconds or its HeartbeatSeconds.

use super::*;
use crate::tasks::TaskError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const SNS: &str = "arn:aws:states:::sns:publish";

/// A human-approval Task publishing its token, with the given extra fields.
fn approval(fields: &str) -> String {
    format!(
        r#"{{"StartAt":"Ask","States":{{"Ask":{{"Type":"Task","Resource":"{SNS}.waitForTaskToken",
        "Parameters":{{"TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":{{"token.$":"$$.Task.Token","order.$":"$.order"}}}},
        {fields}"End":true}}}}}}"#
    )
}

/// An engine whose SNS handler hands each published message to the test.
fn engine() -> (Arc<Engine>, mpsc::UnboundedReceiver<crate::value::Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut engine = Engine::new(Settings::default());
    engine.tasks_mut().register_fn(SNS, move |req| {
        let tx = tx.clone();
        async move {
            let message = req.input.get("Message").cloned().unwrap_or_default();
            tx.send(message)
                .map_err(|_| TaskError::runtime("test ended"))?;
            Ok(crate::value::parse(r#"{"MessageId":"m-1"}"#).expect("JSON"))
        }
    });
    (Arc::new(engine), rx)
}

fn start(engine: &Arc<Engine>, def: &str, input: &str) -> JoinHandle<Outcome> {
    let program = engine.compile(def).expect("the definition compiles");
    let (engine, input) = (engine.clone(), input.to_string());
    tokio::spawn(async move {
        let mut meta = ExecutionMeta::express(engine.settings(), "sm", "e");
        meta.asynchronous = true;
        meta.standard = true;
        engine.execute(program, &input, meta).await
    })
}

/// The token the Task published (its message also carries the input's `order`).
async fn token(rx: &mut mpsc::UnboundedReceiver<crate::value::Value>) -> String {
    let message = rx.recv().await.expect("the Task published its message");
    assert_eq!(message.get("order").map(|v| v.to_json()), Some("7".into()));
    let token = message
        .get("token")
        .and_then(|t| t.as_str())
        .expect("a token");
    token.to_string()
}

fn code(r: Result<(), CallbackError>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(e) => e.code,
    }
}

fn ok(v: &str) -> crate::value::Value {
    crate::value::parse(v).expect("JSON")
}

#[tokio::test(start_paused = true)]
async fn success_resumes_with_the_answer_and_the_token_then_closes() {
    let (engine, mut rx) = engine();
    let run = start(
        &engine,
        &approval(r#""TimeoutSeconds":86400,"#),
        r#"{"order":7}"#,
    );
    let t = token(&mut rx).await;
    // Longer than an Express execution may last: a Standard one waits for its person.
    tokio::time::sleep(Duration::from_secs(6 * 3600)).await;
    assert_eq!(engine.callbacks().waiting(), 1, "parked, not finished");
    let cb = engine.callbacks().clone();
    assert_eq!(code(cb.send_heartbeat(&t)), "ok");
    assert_eq!(code(cb.send_success(&t, ok(r#"{"approved":true}"#))), "ok");
    let o = run.await.expect("the execution ran");
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    assert_eq!(o.output.as_deref(), Some(r#"{"approved":true}"#));
    // A token answers once; afterwards AWS says the task no longer exists.
    assert_eq!(code(cb.send_success(&t, ok("1"))), "TaskTimedOut");
    assert_eq!(code(cb.send_failure(&t, Some("E"), None)), "TaskTimedOut");
    assert_eq!(code(cb.send_heartbeat(&t)), "TaskTimedOut");
    assert_eq!(
        cb.send_success(&t, ok("1")).unwrap_err().message,
        "Task Timed Out: 'Provided task does not exist anymore'"
    );
    assert_eq!(cb.waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn failure_fails_the_task_and_catch_sees_it() {
    let (engine, mut rx) = engine();
    let run = start(&engine, &approval(""), r#"{"order":7}"#);
    let t = token(&mut rx).await;
    let cb = engine.callbacks();
    assert_eq!(
        code(cb.send_failure(&t, Some("Rejected"), Some("too dear"))),
        "ok"
    );
    let o = run.await.expect("ran");
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("Rejected"));
    assert_eq!(o.cause.as_deref(), Some("too dear"));

    let caught =
        approval(r#""Catch":[{"ErrorEquals":["Rejected"],"ResultPath":"$.why","Next":"No"}],"#)
            .replace(
                r#""End":true}}}"#,
                r#""End":true},"No":{"Type":"Pass","End":true}}}"#,
            );
    let run = start(&engine, &caught, r#"{"order":7}"#);
    let t = token(&mut rx).await;
    assert_eq!(code(cb.send_failure(&t, Some("Rejected"), None)), "ok");
    let o = run.await.expect("ran");
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    assert_eq!(
        o.output.as_deref(),
        Some(r#"{"order":7,"why":{"Error":"Rejected"}}"#)
    );
}

#[tokio::test(start_paused = true)]
async fn heartbeats_keep_the_task_alive_until_they_stop() {
    let (engine, mut rx) = engine();
    let def = approval(r#""TimeoutSeconds":3600,"HeartbeatSeconds":10,"#);
    let run = start(&engine, &def, r#"{"order":7}"#);
    let t = token(&mut rx).await;
    let cb = engine.callbacks().clone();
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(8)).await;
        assert_eq!(code(cb.send_heartbeat(&t)), "ok", "40 s > 10 s, yet alive");
    }
    let o = run.await.expect("ran");
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("States.HeartbeatTimeout"));
    assert_eq!(code(cb.send_success(&t, ok("1"))), "TaskTimedOut");
    assert_eq!(cb.waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn timeout_seconds_ends_the_wait() {
    let (engine, mut rx) = engine();
    let run = start(
        &engine,
        &approval(r#""TimeoutSeconds":60,"#),
        r#"{"order":7}"#,
    );
    let t = token(&mut rx).await;
    let started = tokio::time::Instant::now();
    let o = run.await.expect("ran");
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        code(engine.callbacks().send_success(&t, ok("1"))),
        "TaskTimedOut"
    );
}

#[tokio::test(start_paused = true)]
async fn each_attempt_gets_a_fresh_token() {
    let (engine, mut rx) = engine();
    let def = approval(
        r#""TimeoutSeconds":5,"Retry":[{"ErrorEquals":["States.Timeout"],"IntervalSeconds":1,"MaxAttempts":1}],"#,
    );
    let run = start(&engine, &def, r#"{"order":7}"#);
    let first = token(&mut rx).await;
    let second = token(&mut rx).await;
    assert_ne!(first, second);
    let cb = engine.callbacks();
    assert_eq!(code(cb.send_success(&first, ok("1"))), "TaskTimedOut");
    assert_eq!(code(cb.send_success(&second, ok("2"))), "ok");
    assert_eq!(run.await.expect("ran").output.as_deref(), Some("2"));
}

#[tokio::test(start_paused = true)]
async fn unknown_and_malformed_tokens() {
    let (engine, _rx) = engine();
    let cb = engine.callbacks();
    assert_eq!(
        code(cb.send_success("not a token", ok("1"))),
        "InvalidToken"
    );
    assert_eq!(code(cb.send_heartbeat("")), "InvalidToken");
    let stranger = crate::vm::token::next();
    assert_eq!(
        code(cb.send_success(&stranger, ok("1"))),
        "TaskDoesNotExist"
    );
}

#[tokio::test(start_paused = true)]
async fn the_answer_may_come_before_the_resource_returns() {
    // A handler that answers its own token at once (an in-process worker).
    let mut engine = Engine::new(Settings::default());
    let callbacks = engine.callbacks().clone();
    engine.tasks_mut().register_fn(SNS, move |req| {
        let callbacks = callbacks.clone();
        async move {
            let token = req
                .input
                .get("Message")
                .and_then(|m| m.get("token"))
                .cloned();
            let token = token
                .and_then(|t| t.as_str().map(str::to_string))
                .unwrap_or_default();
            callbacks
                .send_success(&token, ok(r#""early""#))
                .map_err(|e| TaskError::runtime(e.message))?;
            Ok(ok("{}"))
        }
    });
    let engine = Arc::new(engine);
    let o = start(&engine, &approval(""), r#"{"order":7}"#)
        .await
        .expect("ran");
    assert_eq!(o.output.as_deref(), Some(r#""early""#), "{o:?}");
}

#[tokio::test(start_paused = true)]
async fn jsonata_reads_the_token_from_states_context() {
    let (engine, mut rx) = engine();
    let def = format!(
        r#"{{"QueryLanguage":"JSONata","StartAt":"Ask","States":{{"Ask":{{"Type":"Task","Resource":"{SNS}.waitForTaskToken",
        "Arguments":{{"Message":{{"token":"{{% $states.context.Task.Token %}}","order":"{{% $states.input.order %}}"}}}},
        "Output":"{{% $states.result.ok %}}","End":true}}}}}}"#
    );
    let run = start(&engine, &def, r#"{"order":7}"#);
    let t = token(&mut rx).await;
    assert_eq!(
        code(engine.callbacks().send_success(&t, ok(r#"{"ok":"yes"}"#))),
        "ok"
    );
    assert_eq!(run.await.expect("ran").output.as_deref(), Some(r#""yes""#));
}

#[tokio::test(start_paused = true)]
async fn the_token_is_only_in_the_callback_state_context() {
    let (engine, mut rx) = engine();
    let def = approval(r#""ResultPath":"$.answer","#).replace(
        r#""End":true}}}"#,
        r#""Next":"After"},"After":{"Type":"Pass","Parameters":{"ctx.$":"$$"},"End":true}}}"#,
    );
    let run = start(&engine, &def, r#"{"order":7}"#);
    let t = token(&mut rx).await;
    assert_eq!(code(engine.callbacks().send_success(&t, ok("1"))), "ok");
    let out = run.await.expect("ran").output.expect("output");
    assert!(!out.contains("Task"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn an_express_execution_does_not_wait_for_a_token() {
    let (engine, _rx) = engine();
    let program = engine.compile(&approval("")).expect("compiles");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    let o = engine.execute(program, r#"{"order":7}"#, meta).await;
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert!(o.cause.unwrap_or_default().contains("'.waitForTaskToken'"));
    assert_eq!(engine.callbacks().waiting(), 0);
}
