//! The driver under tokio's paused clock: waits and timeouts without real sleeping.

use super::*;

async fn run(def: &str, input: &str, settings: Settings) -> Outcome {
    let engine = Engine::new(settings);
    let program = engine.compile(def).expect("the definition compiles");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    engine.execute(program, input, meta).await
}

#[tokio::test(start_paused = true)]
async fn a_long_wait_times_out_at_the_express_ceiling() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}"#;
    let o = run(def, "{}", Settings::default()).await;
    assert_eq!(o.status, Status::TimedOut);
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
}

#[tokio::test(start_paused = true)]
async fn top_level_timeout_seconds_applies() {
    let def = r#"{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"End":true}}}"#;
    assert_eq!(
        run(def, "{}", Settings::default()).await.status,
        Status::TimedOut
    );
}

#[tokio::test]
async fn oversized_input_is_rejected() {
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let settings = Settings {
        max_payload_bytes: 10,
        ..Settings::default()
    };
    let o = run(def, r#"{"a":"0123456789"}"#, settings).await;
    assert_eq!(o.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[tokio::test]
async fn parallel_and_map_of_pass_states() {
    let def = r#"{"StartAt":"Par","States":{
      "Par":{"Type":"Parallel","Branches":[
        {"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},
        {"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}],"Next":"M"},
      "M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}"#;
    let o = run(def, "{}", Settings::default()).await;
    assert_eq!(o.output.as_deref(), Some("[1,2]"), "{o:?}");
}
