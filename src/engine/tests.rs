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
    assert_eq!(
        (o.error, o.cause),
        (None, None),
        "as DescribeExecution shows it"
    );
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

use crate::tasks::TaskError;
use std::sync::atomic::{AtomicU32, Ordering};

fn flaky_engine(failures: u32, calls: Arc<AtomicU32>) -> Engine {
    let mut engine = Engine::new(Settings::default());
    engine.tasks_mut().register_fn(
        "arn:aws:lambda:us-east-1:123456789012:function:flaky",
        move |req| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < failures {
                    Err(TaskError::new("Flaky", format!("attempt {n}")))
                } else {
                    Ok(req.input)
                }
            }
        },
    );
    engine.tasks_mut().register_fn(
        "arn:aws:lambda:us-east-1:123456789012:function:slow",
        |_req| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(crate::value::Value::Null)
        },
    );
    engine
}

async fn run_with(engine: &Engine, def: &str, input: &str) -> Outcome {
    let program = engine.compile(def).expect("the definition compiles");
    engine
        .execute(
            program,
            input,
            ExecutionMeta::express(engine.settings(), "sm", "e"),
        )
        .await
}

#[tokio::test(start_paused = true)]
async fn retry_backs_off_then_succeeds() {
    let calls = Arc::new(AtomicU32::new(0));
    let engine = flaky_engine(2, calls.clone());
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky","Parameters":{"n":1},
        "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":10,"BackoffRate":3,"MaxAttempts":2}],"End":true}}}"#;
    let started = tokio::time::Instant::now();
    let o = run_with(&engine, def, "{}").await;
    assert_eq!(o.output.as_deref(), Some(r#"{"n":1}"#), "{o:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // 10 s, then 30 s of backoff.
    assert!(
        started.elapsed() >= Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn retries_exhausted_then_caught_with_result_path() {
    let calls = Arc::new(AtomicU32::new(0));
    let engine = flaky_engine(10, calls.clone());
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
        "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":1}],
        "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"C"}],"End":true},
        "C":{"Type":"Pass","End":true}}}"#;
    let o = run_with(&engine, def, r#"{"a":1}"#).await;
    assert_eq!(
        o.output.as_deref(),
        Some(r#"{"a":1,"err":{"Error":"Flaky","Cause":"attempt 1"}}"#),
        "{o:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn max_attempts_zero_never_retries() {
    let calls = Arc::new(AtomicU32::new(0));
    let engine = flaky_engine(10, calls.clone());
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
        "Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],"End":true}}}"#;
    let o = run_with(&engine, def, "{}").await;
    assert_eq!(
        (o.status, o.error.as_deref()),
        (Status::Failed, Some("Flaky"))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn task_timeout_is_states_timeout_and_task_failed_does_not_catch_it() {
    let engine = flaky_engine(0, Arc::new(AtomicU32::new(0)));
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:slow","TimeoutSeconds":5,
        "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}"#;
    let o = run_with(&engine, def, "{}").await;
    assert_eq!(
        (o.status, o.error.as_deref()),
        (Status::Failed, Some("States.Timeout")),
        "{o:?}"
    );
}

#[tokio::test]
async fn parallel_fails_with_the_failing_branch_error() {
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
        {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
        {"StartAt":"B","States":{"B":{"Type":"Fail","Error":"BranchError","Cause":"b"}}}]}}}"#;
    let o = run(def, "{}", Settings::default()).await;
    assert_eq!(
        (o.error.as_deref(), o.cause.as_deref()),
        (Some("BranchError"), Some("b"))
    );
}

#[tokio::test]
async fn item_batcher_groups_items() {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
        "ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"k.$":"$.k"}},
        "ItemsPath":"$.xs",
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}}}}"#;
    let o = run(def, r#"{"k":7,"xs":[1,2,3]}"#, Settings::default()).await;
    assert_eq!(
        o.output.as_deref(),
        Some(r#"[{"BatchInput":{"k":7},"Items":[1,2]},{"BatchInput":{"k":7},"Items":[3]}]"#),
        "{o:?}"
    );
}

#[tokio::test]
async fn tolerated_failures_let_a_map_finish_and_the_threshold_fails_it() {
    let def = |tolerated: u32| {
        format!(
            r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map","End":true,"ToleratedFailureCount":{tolerated},
            "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"}},"StartAt":"C","States":{{
              "C":{{"Type":"Choice","Choices":[{{"Variable":"$","NumericEquals":2,"Next":"F"}}],"Default":"OK"}},
              "F":{{"Type":"Fail","Error":"Two"}},"OK":{{"Type":"Pass","End":true}}}}}}}}}}}}"#
        )
    };
    let o = run(&def(1), "[1,2,3]", Settings::default()).await;
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    let o = run(&def(0), "[1,2,3]", Settings::default()).await;
    assert_eq!(
        o.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold"),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_map_of_ten_thousand_pass_items_runs_inline() {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"MaxConcurrency":0,
        "ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"$"},"Next":"B"},"B":{"Type":"Pass","OutputPath":"$.v","End":true}}}}}}"#;
    let items: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let input = format!("[{}]", items.join(","));
    let o = run(
        def,
        &input,
        Settings {
            max_payload_bytes: 1 << 20,
            ..Settings::default()
        },
    )
    .await;
    assert_eq!(o.output.as_deref(), Some(input.as_str()));
    assert_eq!(o.transitions, 1 + 20_000);
}

#[tokio::test]
async fn a_parallel_of_one_hundred_branches_keeps_branch_order() {
    let branches: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"StartAt":"B{i}","States":{{"B{i}":{{"Type":"Pass","Result":{i},"End":true}}}}}}"#))
        .collect();
    let def = format!(
        r#"{{"StartAt":"P","States":{{"P":{{"Type":"Parallel","End":true,"Branches":[{}]}}}}}}"#,
        branches.join(",")
    );
    let o = run(&def, "{}", Settings::default()).await;
    let want: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    assert_eq!(o.output, Some(format!("[{}]", want.join(","))));
}

#[tokio::test]
async fn redrive_count_shows_for_start_execution_only() {
    let def = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$$.Execution.RedriveCount","End":true}}}"#;
    let engine = Engine::new(Settings::default());
    let program = engine.compile(def).expect("compiles");
    let mut meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    meta.asynchronous = true;
    let o = engine.execute(program.clone(), "{}", meta).await;
    assert_eq!(o.output.as_deref(), Some("0"));
    let o = engine
        .execute(
            program,
            "{}",
            ExecutionMeta::express(engine.settings(), "sm", "e"),
        )
        .await;
    assert_eq!(
        o.status,
        Status::Failed,
        "StartSyncExecution has no RedriveCount: {o:?}"
    );
}

/// The quotas in `Settings` reach every scope: concurrent branches share the variable budget,
/// finished iterations give theirs back.
#[tokio::test(start_paused = true)]
async fn settings_quotas_reach_every_scope() {
    let limits = |total: usize| Settings {
        max_payload_bytes: 100,
        max_variables_total_bytes: total,
        ..Settings::default()
    };
    let pass = |n: usize| {
        format!(
            r#"{{"StartAt":"P","States":{{"P":{{"Type":"Pass","Result":"{}","End":true}}}}}}"#,
            "x".repeat(n)
        )
    };
    assert_eq!(
        run(&pass(98), "{}", limits(1000)).await.status,
        Status::Succeeded
    );
    let o = run(&pass(99), "{}", limits(1000)).await;
    assert_eq!(
        o.cause.as_deref(),
        Some(
            "The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit."
        )
    );
    // Each branch stores 40 bytes, then waits: three at once pass 100 bytes, two do not.
    let branch = |i: usize| {
        format!(
            r#"{{"StartAt":"A{i}","States":{{"A{i}":{{"Type":"Pass","Assign":{{"v.$":"$"}},"Next":"W{i}"}},"W{i}":{{"Type":"Wait","Seconds":1,"End":true}}}}}}"#
        )
    };
    let parallel = |n: usize| {
        let branches = (0..n).map(branch).collect::<Vec<_>>().join(",");
        format!(
            r#"{{"StartAt":"Par","States":{{"Par":{{"Type":"Parallel","Branches":[{branches}],"ResultPath":null,"End":true}}}}}}"#
        )
    };
    let input = format!("\"{}\"", "x".repeat(38));
    assert_eq!(
        run(&parallel(2), &input, limits(100)).await.status,
        Status::Succeeded
    );
    let o = run(&parallel(3), &input, limits(100)).await;
    assert_eq!(
        o.error.as_deref(),
        Some("States.DataLimitExceeded"),
        "{o:?}"
    );
    // One iteration at a time: each one's variables leave with it.
    let map = r#"{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":1,"ResultPath":null,"End":true,
        "ItemProcessor":{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"v.$":"$"},"Next":"W"},"W":{"Type":"Wait","Seconds":1,"End":true}}}}}}"#;
    let items = format!("[{}]", [input.as_str(); 5].join(","));
    let o = run(
        map,
        &items,
        Settings {
            max_payload_bytes: 1000,
            ..limits(100)
        },
    )
    .await;
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
}

/// The history of one execution: event types in order, with the ids they follow.
async fn history_of(engine: &Engine, def: &str, input: &str) -> (Outcome, Vec<(String, u64, u64)>) {
    let program = engine.compile(def).expect("the definition compiles");
    let mut meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    meta.history = true;
    let o = engine.execute(program, input, meta).await;
    let events = o.history.clone().expect("a history was asked for");
    let list = events
        .iter()
        .map(|e| (e.kind.to_string(), e.id, e.previous_event_id))
        .collect();
    (o, list)
}

#[tokio::test(start_paused = true)]
async fn history_events_name_every_step_as_aws_does() {
    let calls = Arc::new(AtomicU32::new(0));
    let engine = flaky_engine(1, calls);
    let def = r#"{"StartAt":"P","States":{
      "P":{"Type":"Pass","Next":"T"},
      "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
           "Catch":[{"ErrorEquals":["Flaky"],"ResultPath":"$.error","Next":"C"}],"Next":"C"},
      "C":{"Type":"Choice","Choices":[{"Variable":"$.error","IsPresent":true,"Next":"M"}],"Default":"F"},
      "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"ResultPath":null,"Next":"Par"},
      "Par":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":1,"End":true}}}],"Next":"S"},
      "S":{"Type":"Succeed"},
      "F":{"Type":"Fail","Error":"No"}}}"#;
    let (o, events) = history_of(&engine, def, r#"{"items":[1]}"#).await;
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded",
        ]
    );
    // Ids count up from 1; each event follows the one before it in its scope.
    for (i, (_, id, _)) in events.iter().enumerate() {
        assert_eq!(*id, i as u64 + 1);
    }
    assert_eq!(events[0].2, 0);
    assert_eq!(events[1].2, 1);
    // The iteration's first event follows MapStateStarted; the Map's result follows the Map's
    // last own event, not the iteration's.
    let started = events
        .iter()
        .find(|e| e.0 == "MapStateStarted")
        .expect("started")
        .1;
    let iteration = events
        .iter()
        .find(|e| e.0 == "MapIterationStarted")
        .expect("iteration");
    assert_eq!(iteration.2, started);
    let succeeded = events
        .iter()
        .find(|e| e.0 == "MapStateSucceeded")
        .expect("succeeded");
    assert_eq!(succeeded.2, started);
}

#[tokio::test(start_paused = true)]
async fn history_of_failures_and_timeouts() {
    let calls = Arc::new(AtomicU32::new(0));
    let engine = flaky_engine(5, calls);
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky","End":true}}}"#;
    let (o, events) = history_of(&engine, def, "{}").await;
    assert_eq!(o.status, Status::Failed);
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "ExecutionFailed"
        ]
    );
    let last = o.history.as_ref().and_then(|h| h.last()).expect("events");
    assert_eq!(last.detail("error").and_then(|v| v.as_str()), Some("Flaky"));
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:slow","TimeoutSeconds":1,"End":true}}}"#;
    let (_, events) = history_of(&engine, def, "{}").await;
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(&kinds[4..], ["TaskTimedOut", "ExecutionFailed"]);
    // Without asking, nothing is kept.
    let o = run_with(&engine, def, "{}").await;
    assert!(o.history.is_none());
}

/// Runs `def` on a current-thread tokio runtime built without `enable_time`.
fn run_without_timers(engine: &Engine, def: &str) -> Outcome {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let program = engine.compile(def).expect("the definition compiles");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    rt.block_on(engine.execute(program, "{}", meta))
}

#[test]
fn pass_choice_and_inline_map_need_no_timer() {
    let def = r#"{"StartAt":"P","States":{
      "P":{"Type":"Pass","Result":[1,2],"Next":"C"},
      "C":{"Type":"Choice","Choices":[{"Variable":"$[0]","NumericEquals":1,"Next":"M"}],"Default":"F"},
      "M":{"Type":"Map","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true},
      "F":{"Type":"Fail","Error":"No"}}}"#;
    let engine = Engine::new(Settings::default());
    let o = run_without_timers(&engine, def);
    assert_eq!(o.output.as_deref(), Some("[1,2]"), "{o:?}");
    // Nor any runtime at all.
    let program = engine.compile(def).expect("compiles");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    let o = futures::executor::block_on(engine.execute(program, "{}", meta));
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
}

#[test]
fn a_wait_without_a_time_driver_fails_with_the_reason_instead_of_panicking() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let o = run_without_timers(&Engine::new(Settings::default()), def);
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert_eq!(o.cause.as_deref(), Some(timers::NO_TIME_DRIVER));
    assert!(o.cause.is_some_and(|c| c.contains("enable_time()")));
    // A retry's backoff is a wait too.
    let engine = flaky_engine(1, Arc::new(AtomicU32::new(0)));
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
      "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1}],"End":true}}}"#;
    let o = run_without_timers(&engine, def);
    assert_eq!(o.cause.as_deref(), Some(timers::NO_TIME_DRIVER), "{o:?}");
}

#[test]
fn tasks_run_without_a_timer_until_one_is_needed() {
    let mut engine = Engine::new(Settings::default());
    let tasks = engine.tasks_mut();
    tasks.register_fn(
        "arn:aws:states:::my:echo",
        |req| async move { Ok(req.input) },
    );
    // Waits for something outside the engine (here: forever).
    tasks.register_fn("arn:aws:states:::my:never", |_req| async move {
        std::future::pending::<()>().await;
        Ok(crate::value::Value::Null)
    });
    let task = |resource: &str, extra: &str| {
        format!(
            r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"arn:aws:states:::my:{resource}"{extra},"End":true}}}}}}"#
        )
    };
    let outside = |def: &str| {
        let program = engine.compile(def).expect("compiles");
        let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
        futures::executor::block_on(engine.execute(program, r#"{"a":1}"#, meta))
    };
    // A handler that answers at once needs no timer, in a Map of 100 too (its futures take turns).
    let o = outside(&task("echo", ""));
    assert_eq!(o.output.as_deref(), Some(r#"{"a":1}"#), "{o:?}");
    let map = r#"{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map",
      "Items":"{% [1..100] %}","Output":"{% $count($states.result) %}","End":true,
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::my:echo","End":true}}}}}}"#;
    assert_eq!(outside(map).output.as_deref(), Some("100"));
    // A TimeoutSeconds needs one; so does waiting on the outside world.
    let o = outside(&task("echo", r#","TimeoutSeconds":5"#));
    assert_eq!(
        (o.error.as_deref(), o.cause.as_deref()),
        (Some("States.Runtime"), Some(timers::NO_RUNTIME))
    );
    let o = run_without_timers(&engine, &task("never", ""));
    assert_eq!(
        (o.error.as_deref(), o.cause.as_deref()),
        (Some("States.Runtime"), Some(timers::NO_TIME_DRIVER))
    );
    // The same task on a runtime with timers runs.
    let o = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
        .block_on(
            engine.execute(
                engine
                    .compile(&task("echo", r#","TimeoutSeconds":5"#))
                    .expect("compiles"),
                r#"{"a":1}"#,
                ExecutionMeta::express(engine.settings(), "sm", "e2"),
            ),
        );
    assert_eq!(o.output.as_deref(), Some(r#"{"a":1}"#), "{o:?}");
}

/// Issue 11: a panic in a task handler (here, in a Map iteration) ends its own execution FAILED
/// with `States.Runtime`; an execution running beside it on the same runtime is unaffected.
#[tokio::test]
async fn a_panicking_task_handler_fails_only_its_execution() {
    let mut engine = Engine::new(Settings::default());
    engine.tasks_mut().register_fn(
        "arn:aws:lambda:us-east-1:123456789012:function:boom",
        |req| async move {
            if req.input.as_i64() == Some(3) {
                panic!("handler bug");
            }
            tokio::task::yield_now().await;
            Ok(req.input)
        },
    );
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{
        "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:boom","End":true}}},
        "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},
        "Caught":{"Type":"Succeed"}}}"#;
    let program = engine.compile(def).expect("compiles");
    let meta = |n: &str| ExecutionMeta::express(engine.settings(), "sm", n);
    let (bad, good) = tokio::join!(
        engine.execute(program.clone(), "[1,2,3,4]", meta("bad")),
        engine.execute(program.clone(), "[1,2,4]", meta("good")),
    );
    assert_eq!(bad.status, Status::Failed, "{bad:?}");
    assert_eq!(bad.error.as_deref(), Some("States.Runtime"));
    let cause = bad.cause.unwrap_or_default();
    assert!(
        cause.contains("Internal error") && cause.contains("handler bug"),
        "{cause}"
    );
    assert_eq!(good.status, Status::Succeeded, "{good:?}");
    assert_eq!(good.output.as_deref(), Some("[1,2,4]"));
    // The engine keeps running executions afterwards.
    let again = engine.execute(program, "[5]", meta("again")).await;
    assert_eq!(again.output.as_deref(), Some("[5]"));
}

/// Issue 11, defect 6: one Choice matching a 256 KiB input took 14 s under `TimeoutSeconds: 1`
/// and then reported SUCCEEDED. Matching is linear now, so it answers at once.
#[tokio::test]
async fn string_matches_on_a_full_payload_is_fast() {
    let pattern = format!("*{}b*", "a".repeat(50_000));
    let def = serde_json::json!({"TimeoutSeconds": 1, "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringMatches": pattern, "Next": "Y"}],
              "Default": "N"},
        "Y": {"Type": "Pass", "Result": "yes", "End": true},
        "N": {"Type": "Pass", "Result": "no", "End": true}}})
    .to_string();
    let input = serde_json::json!({"s": "a".repeat(256 * 1024 - 16)}).to_string();
    let started = Instant::now();
    let o = run(&def, &input, Settings::default()).await;
    assert_eq!(o.output.as_deref(), Some(r#""no""#), "{o:?}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

/// A state whose evaluation runs past the execution's timeout stops there (not after JSONata's
/// own 5 s bound), and the execution is TIMED_OUT, not FAILED or SUCCEEDED.
#[tokio::test]
async fn a_long_evaluation_stops_at_the_execution_timeout() {
    let def = r#"{"TimeoutSeconds":1,"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",
        "Output":"{% ($loop := function($n){ $n = 0 ? 0 : $loop($n - 1) }; $loop(1000000000)) %}",
        "End":true}}}"#;
    let started = Instant::now();
    let o = run(def, "{}", Settings::default()).await;
    assert_eq!(o.status, Status::TimedOut, "{o:?}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

/// A task handler that sleeps a second and records how many of its calls ran at once.
fn counting_engine(settings: Settings) -> (Engine, Arc<(AtomicU32, AtomicU32)>) {
    let mut engine = Engine::new(settings);
    let stats = Arc::new((AtomicU32::new(0), AtomicU32::new(0)));
    let s = stats.clone();
    engine.tasks_mut().register_fn(
        "arn:aws:lambda:us-east-1:123456789012:function:count",
        move |req| {
            let s = s.clone();
            async move {
                let now = s.0.fetch_add(1, Ordering::SeqCst) + 1;
                s.1.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                s.0.fetch_sub(1, Ordering::SeqCst);
                Ok(req.input)
            }
        },
    );
    (engine, stats)
}

const NESTED_MAPS: &str = r#"{"StartAt":"Outer","States":{"Outer":{"Type":"Map","ItemProcessor":{
    "StartAt":"Inner","States":{"Inner":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:count","End":true}}},
    "End":true}}},"End":true}}}"#;

/// Issue 11, defect 5: Map iterations in flight are bounded per execution, over every nesting
/// level (a Map of 1,000 in a Map of 1,000 held a million at once), and every item still runs.
#[tokio::test(start_paused = true)]
async fn children_in_flight_are_bounded_per_execution() {
    let (engine, stats) = counting_engine(Settings {
        max_children_in_flight_per_execution: 5,
        ..Settings::default()
    });
    let program = engine.compile(NESTED_MAPS).expect("compiles");
    let input = serde_json::to_string(&vec![vec![1; 10]; 10]).unwrap();
    let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
    let o = engine.execute(program, &input, meta).await;
    assert_eq!(o.output.as_deref(), Some(input.as_str()), "{o:?}");
    // Each in-flight inner Map runs one task beyond the bound; those Maps are the outer Map's
    // own child plus the outer iterations holding slots; the other slots hold tasks: 1 + 5.
    // (Unbounded: 100 at once.)
    let most = stats.1.load(Ordering::SeqCst);
    assert!((2..=6).contains(&most), "{most} tasks at once");
    assert_eq!(engine.children_in_flight.load(Ordering::SeqCst), 0);
}

/// The engine-wide bound holds across executions.
#[tokio::test(start_paused = true)]
async fn children_in_flight_are_bounded_per_engine() {
    let (engine, stats) = counting_engine(Settings {
        max_children_in_flight: 3,
        ..Settings::default()
    });
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{
        "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:count","End":true}}},
        "End":true}}}"#;
    let program = engine.compile(def).expect("compiles");
    let input = serde_json::to_string(&vec![7; 20]).unwrap();
    let meta = |n: &str| ExecutionMeta::express(engine.settings(), "sm", n);
    let (a, b) = tokio::join!(
        engine.execute(program.clone(), &input, meta("a")),
        engine.execute(program.clone(), &input, meta("b")),
    );
    assert_eq!(a.output.as_deref(), Some(input.as_str()));
    assert_eq!(b.output.as_deref(), Some(input.as_str()));
    // One beyond the bound per Map, and 3 shared: at most 5 (40 unbounded).
    let most = stats.1.load(Ordering::SeqCst);
    assert!((3..=5).contains(&most), "{most} tasks at once");
    assert_eq!(engine.children_in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn wait_time_scale_shortens_waits_and_backoff() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}"#;
    for (scale, expect) in [(0.01, 1.0), (0.0, 0.0), (1.0, 100.0)] {
        let settings = Settings {
            wait_time_scale: scale,
            ..Settings::default()
        };
        let started = tokio::time::Instant::now();
        let o = run(def, "{}", settings).await;
        assert_eq!(o.status, Status::Succeeded);
        let took = started.elapsed().as_secs_f64();
        assert!((took - expect).abs() < 0.5, "scale {scale}: {took} s");
    }
    // A retry's backoff scales too: 10 s + 30 s of backoff at 0.1 take 4 s.
    let calls = Arc::new(AtomicU32::new(0));
    let mut engine = flaky_engine(2, calls);
    engine.settings.wait_time_scale = 0.1;
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
        "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":10,"BackoffRate":3,"MaxAttempts":2}],"End":true}}}"#;
    let started = tokio::time::Instant::now();
    let o = run_with(&engine, def, "{}").await;
    assert_eq!(o.status, Status::Succeeded, "{o:?}");
    let took = started.elapsed().as_secs_f64();
    assert!((took - 4.0).abs() < 0.5, "{took} s");
}

#[tokio::test(start_paused = true)]
async fn history_of_a_task_that_succeeds_and_an_execution_that_times_out() {
    let calls = Arc::new(AtomicU32::new(0));
    let engine = flaky_engine(0, calls);
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky","End":true}}}"#;
    let (o, events) = history_of(&engine, def, r#"{"a":1}"#).await;
    assert_eq!(o.status, Status::Succeeded);
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let def = r#"{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}"#;
    let (o, events) = history_of(&engine, def, "{}").await;
    assert_eq!(o.status, Status::TimedOut);
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
    );
}

/// What an execution parked in a Wait keeps besides its data: the future `Engine::begin` boxes
/// (its `Run` and a tokio `Sleep` among it), and the top scope. Sizes of a debug build (a
/// release build's are the same or smaller): a regression shows here before `examples/parked`.
#[test]
fn a_parked_execution_keeps_a_small_future() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let engine = Engine::new(Settings::default());
        let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}"#;
        let program = engine.compile(def).expect("the definition compiles");
        let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
        let rest = match engine.begin(program, value::Value::Null, 4, meta) {
            Begun::Pending(rest) => rest,
            Begun::Done(o) => panic!("the Wait ended at once: {o:?}"),
        };
        // PERF: 984 bytes before the top scope's sleep was awaited in place (debug build).
        assert!(
            std::mem::size_of_val(&*rest) <= 440,
            "the parked future holds {} bytes",
            std::mem::size_of_val(&*rest)
        );
    });
}
