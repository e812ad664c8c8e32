//! Tables: resource form → output shape; raise → error/cause; mock file → responses per
//! invocation; malformed mock files → errors; the HTTP client against a tiny hyper server.

use std::sync::Arc;

use super::*;
use crate::value::{self, Value};

const SM_ARN: &str = "arn:aws:states:us-east-1:111111111111:stateMachine:sm";
const INVOKE: &str = "arn:aws:states:::lambda:invoke";
const FN: &str = "arn:aws:lambda:us-east-1:111111111111:function:";

fn json(text: &str) -> Value {
    value::parse(text).expect("test JSON parses")
}

fn context() -> Value {
    json(&format!(
        r#"{{"StateMachine":{{"Id":"{SM_ARN}","Name":"sm"}}}}"#
    ))
}

/// A registry serving the conformance-format Lambda mocks `mock`.
fn lambdas(mock: &str) -> TaskRegistry {
    let mocks = MockLambdas::from_case_mock(&json(mock)).expect("mock parses");
    let mut reg = TaskRegistry::new();
    reg.register_lambda(Arc::new(mocks));
    reg
}

fn request(resource: &str, input: Value) -> TaskRequest {
    let mut req = TaskRequest::new(resource, input);
    req.context = context();
    req.state_name = Arc::from("Task");
    req.state_machine_name = Arc::from("sm");
    req
}

async fn run(reg: &TaskRegistry, resource: &str, input: &str) -> Result<Value, TaskError> {
    reg.invoke(request(resource, json(input))).await
}

const FUNCS: &str = r#"{"lambda": {
  "arn:aws:lambda:us-east-1:111111111111:function:id": {"kind": "identity"},
  "arn:aws:lambda:us-east-1:111111111111:function:const": {"kind": "constant", "value": {"Return": "HelloWorld"}},
  "arn:aws:lambda:us-east-1:111111111111:function:boom": {"kind": "raise", "errorType": "Exception", "errorMessage": "Some exception was raised."},
  "arn:aws:lambda:us-east-1:111111111111:function:custom": {"kind": "raise", "errorType": "CustomException", "errorMessage": ""}
}}"#;

#[tokio::test]
async fn bare_function_arn_returns_the_payload() {
    let reg = lambdas(FUNCS);
    for (resource, input, output) in [
        ("id", "0.0", "0.0"),
        ("id", "0", "0"),
        ("id", r#""HelloWorld""#, r#""HelloWorld""#),
        ("id", "true", "true"),
        ("id", "{}", "{}"),
        ("id", "[]", "[]"),
        ("id", "null", "null"),
        ("id", r#"{"loop":{"count":0}}"#, r#"{"loop":{"count":0}}"#),
        ("id:prod", r#"{"a":1}"#, r#"{"a":1}"#),
        ("const", r#"{"ignored":1}"#, r#"{"Return":"HelloWorld"}"#),
    ] {
        let got = run(&reg, &format!("{FN}{resource}"), input).await;
        assert_eq!(
            got.map(|v| v.to_json()),
            Ok(output.to_string()),
            "{resource} {input}"
        );
    }
}

#[tokio::test]
async fn lambda_invoke_returns_the_invoke_response() {
    let reg = lambdas(FUNCS);
    // (FunctionName, Payload parameter, expected Payload, ExecutedVersion, Content-Length)
    for (name, payload, out, version, length) in [
        ("id", r#""0.0""#, "0.0", "$LATEST", "3"),
        ("id", r#""0""#, "0", "$LATEST", "1"),
        ("id", r#""true""#, "true", "$LATEST", "4"),
        ("id", r#""{}""#, "{}", "$LATEST", "2"),
        ("id", r#""[]""#, "[]", "$LATEST", "2"),
        ("id", "null", "{}", "$LATEST", "2"),
        (
            "id",
            r#"{"input_value":"string literal","input_values":[1,2,3]}"#,
            r#"{"input_value":"string literal","input_values":[1,2,3]}"#,
            "$LATEST",
            "60",
        ),
        ("111111111111:function:id", "{}", "{}", "$LATEST", "2"),
        (
            "arn:aws:lambda:us-east-1:111111111111:function:id",
            "{}",
            "{}",
            "$LATEST",
            "2",
        ),
        ("id:live", "{}", "{}", "live", "2"),
        ("const", "{}", r#"{"Return":"HelloWorld"}"#, "$LATEST", "24"),
    ] {
        let input = format!(r#"{{"FunctionName":"{name}","Payload":{payload}}}"#);
        let got = run(&reg, INVOKE, &input).await.expect("invoke succeeds");
        let keys: Vec<&str> = got.as_object().unwrap().keys().map(|k| &**k).collect();
        assert_eq!(
            keys,
            [
                "ExecutedVersion",
                "Payload",
                "SdkHttpMetadata",
                "SdkResponseMetadata",
                "StatusCode"
            ]
        );
        assert_eq!(
            got.get("Payload").unwrap().to_json(),
            out,
            "{name} {payload}"
        );
        assert_eq!(got.get("StatusCode"), Some(&Value::int(200)));
        assert_eq!(got.get("ExecutedVersion"), Some(&Value::str(version)));
        let meta = got.get("SdkHttpMetadata").unwrap();
        assert_eq!(meta.get("HttpStatusCode"), Some(&Value::int(200)));
        let headers = meta.get("HttpHeaders").unwrap();
        assert_eq!(
            headers.get("Content-Length"),
            Some(&Value::str(length)),
            "{name} {payload}"
        );
        let rid = got
            .get("SdkResponseMetadata")
            .unwrap()
            .get("RequestId")
            .unwrap();
        assert_eq!(headers.get("x-amzn-RequestId"), Some(rid));
    }
}

#[tokio::test]
async fn lambda_invoke_options() {
    let reg = lambdas(FUNCS);
    let tail = r#"{"FunctionName":"id","Payload":null,"LogType":"Tail"}"#;
    let got = run(&reg, INVOKE, tail).await.unwrap();
    assert!(
        got.get("LogResult")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    );
    let all = got
        .get("SdkHttpMetadata")
        .unwrap()
        .get("AllHttpHeaders")
        .unwrap();
    assert!(all.get("X-Amz-Log-Result").is_some());
    let event = r#"{"FunctionName":"id","Payload":{"a":1},"InvocationType":"Event"}"#;
    let got = run(&reg, INVOKE, event).await.unwrap();
    assert_eq!(got.get("StatusCode"), Some(&Value::int(202)));
    assert_eq!(got.get("Payload"), Some(&Value::str("")));
}

/// The runtime's error document with its request id replaced, to compare texts exactly.
fn mask_request_id(cause: &str) -> String {
    let doc = json(cause);
    let rid = doc
        .get("requestId")
        .and_then(Value::as_str)
        .expect("requestId present");
    assert_eq!(rid.len(), 36, "request id is a uuid");
    cause.replace(rid, "<uuid:1>")
}

#[tokio::test]
async fn a_raising_function_fails_with_its_error_type() {
    let reg = lambdas(FUNCS);
    // Built from the recorded case texts (error_handling/test_task_lambda.py and states_variables).
    let spaced_expected = r#"{"errorMessage": "Some exception was raised.", "errorType": "Exception", "requestId": "<uuid:1>", "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"]}"#;
    let compact_expected = r#"{"errorMessage":"Some exception was raised.","errorType":"Exception","requestId":"<uuid:1>","stackTrace":["  File \"/var/task/handler.py\", line 2, in handler\n    raise Exception(\"Some exception was raised.\")\n"]}"#;
    let custom_expected = r#"{"errorMessage": "", "errorType": "CustomException", "requestId": "<uuid:1>", "stackTrace": ["  File \"/var/task/handler.py\", line 2, in handler\n    raise CustomException()\n"]}"#;
    for (resource, input, error, cause) in [
        (
            format!("{FN}boom"),
            "{}".to_string(),
            "Exception",
            spaced_expected,
        ),
        (
            format!("{FN}custom"),
            "{}".to_string(),
            "CustomException",
            custom_expected,
        ),
        (
            INVOKE.to_string(),
            r#"{"FunctionName":"boom","Payload":{"foo":"foobar"}}"#.to_string(),
            "Exception",
            compact_expected,
        ),
    ] {
        let err = run(&reg, &resource, &input)
            .await
            .expect_err("the function raises");
        assert_eq!(err.error, error, "{resource}");
        assert_eq!(
            mask_request_id(err.cause.as_deref().unwrap()),
            cause,
            "{resource}"
        );
    }
}

#[tokio::test]
async fn a_missing_function_is_resource_not_found() {
    let with_mocks = lambdas(FUNCS);
    let empty = TaskRegistry::new();
    let prefix = "Function not found: arn:aws:lambda:us-east-1:111111111111:function:";
    let tail = " (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ";
    for (reg, resource, input, function) in [
        (
            &with_mocks,
            INVOKE,
            r#"{"FunctionName":"no_such_fn","Payload":null}"#,
            "no_such_fn:$LATEST",
        ),
        (
            &with_mocks,
            INVOKE,
            r#"{"FunctionName":"no_such_fn:v2"}"#,
            "no_such_fn:v2",
        ),
        (
            &with_mocks,
            &format!("{FN}no_such_fn") as &str,
            "{}",
            "no_such_fn:$LATEST",
        ),
        (&empty, INVOKE, r#"{"FunctionName":"id"}"#, "id:$LATEST"),
        (&empty, &format!("{FN}id") as &str, "{}", "id:$LATEST"),
    ] {
        let err = run(reg, resource, input)
            .await
            .expect_err("no such function");
        assert_eq!(err.error, "Lambda.ResourceNotFoundException");
        let cause = err.cause.unwrap();
        let expected_head = format!("{prefix}{function}{tail}");
        assert!(cause.starts_with(&expected_head), "{cause}");
        assert!(cause.ends_with("; Proxy: null)"), "{cause}");
    }
}

#[tokio::test]
async fn unsupported_patterns_and_unknown_resources_fail_clearly() {
    let reg = lambdas(FUNCS);
    for (resource, needle) in [
        (
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "'.waitForTaskToken'",
        ),
        ("arn:aws:states:::states:startExecution.sync", "'.sync'"),
        ("arn:aws:states:::states:startExecution.sync:2", "'.sync:2'"),
        ("arn:aws:states:::sns:publish", "No handler is registered"),
    ] {
        let err = run(&reg, resource, r#"{"FunctionName":"id"}"#)
            .await
            .unwrap_err();
        assert_eq!(err.error, "States.Runtime", "{resource}");
        assert!(
            err.cause.as_deref().unwrap().contains(needle),
            "{resource}: {err}"
        );
    }
    let err = run(&reg, INVOKE, r#"{"Payload":{}}"#).await.unwrap_err();
    assert_eq!(err.error, "States.Runtime");
    let err = run(&reg, INVOKE, r#"{"FunctionName":"bad name!"}"#)
        .await
        .unwrap_err();
    assert_eq!(err.error, "Lambda.AWSLambdaException");
}

fn constant(tag: &'static str) -> Arc<dyn TaskHandler> {
    handler_fn(move |_req| async move { Ok(Value::str(tag)) })
}

#[tokio::test]
async fn exact_beats_prefix_and_the_longest_prefix_wins() {
    let mut reg = TaskRegistry::new();
    reg.register_prefix("arn:aws:states:::", constant("any-service"));
    reg.register_prefix("arn:aws:states:::sqs:", constant("sqs"));
    reg.register_exact("arn:aws:states:::sqs:sendMessage", constant("send"));
    reg.register_fn("arn:aws:states:::sns:publish", |req| async move {
        Ok(Value::str(&format!(
            "published {} on try {}",
            req.input.to_json(),
            req.attempt
        )))
    });
    // An exact registration may serve a pattern Express otherwise rejects.
    reg.register_exact(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        constant("token"),
    );
    for (resource, out) in [
        ("arn:aws:states:::sqs:sendMessage", "send"),
        ("arn:aws:states:::sqs:deleteMessage", "sqs"),
        ("arn:aws:states:::dynamodb:getItem", "any-service"),
        ("arn:aws:states:::sns:publish", "published 1 on try 0"),
        ("arn:aws:states:::sqs:sendMessage.waitForTaskToken", "token"),
    ] {
        assert_eq!(
            run(&reg, resource, "1").await,
            Ok(Value::str(out)),
            "{resource}"
        );
    }
    let req = request("arn:aws:states:::sqs:purgeQueue", Value::Null);
    assert!(reg.resolve(&req).is_some());
    assert!(
        reg.resolve(&request("arn:aws:lambda:x", Value::Null))
            .is_none()
    );
}

const DOC_EXAMPLE: &str = r#"{
  "StateMachines": {"LambdaSQSIntegration": {"TestCases": {
    "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
    "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
    "HybridPath": {"LambdaState": "MockedLambdaSuccess"},
    "Broken": {"LambdaState": "NoSuchResponse"}}}},
  "MockedResponses": {
    "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}},
    "MockedSQSSuccess": {"0": {"Return": {"MD5OfMessageBody": "3bcb6e8e", "MessageId": "3bcb6e8e-8b51"}}},
    "MockedLambdaRetry": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
      "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
      "3": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}}}}"#;

fn mocked_registry() -> TaskRegistry {
    let mut reg = TaskRegistry::new();
    reg.set_mock_config(MockConfig::parse(DOC_EXAMPLE).expect("the documented example parses"));
    reg.register_fn("arn:aws:states:::sqs:sendMessage", |_req| async {
        Ok(Value::str("real sqs"))
    });
    reg
}

fn mock_request(
    case: Option<&str>,
    state: &str,
    resource: &str,
    scope: &ExecutionScope,
) -> TaskRequest {
    let mut req = request(resource, json("{}"));
    req.state_machine_name = Arc::from("LambdaSQSIntegration");
    req.test_case = case.map(Arc::from);
    req.state_name = Arc::from(state);
    req.scope = scope.clone();
    req
}

/// `Ok(json)` or `Err(error name)`, to keep table rows short.
fn outcome(r: Result<Value, TaskError>) -> Result<String, String> {
    r.map(|v| v.to_json()).map_err(|e| e.error)
}

#[tokio::test]
async fn mock_responses_follow_the_invocation_count_per_state() {
    let reg = mocked_registry();
    let scope = ExecutionScope::new();
    let ok = r#"{"StatusCode":200,"Payload":{"StatusCode":200,"body":"Hello from Lambda!"}}"#;
    let sqs = r#"{"MD5OfMessageBody":"3bcb6e8e","MessageId":"3bcb6e8e-8b51"}"#;
    let rows: [(&str, Result<&str, &str>); 7] = [
        ("LambdaState", Err("Lambda.ResourceNotReadyException")),
        ("SQSState", Ok(sqs)),
        ("LambdaState", Err("Lambda.TimeoutException")),
        ("LambdaState", Err("Lambda.TimeoutException")),
        ("LambdaState", Ok(ok)),
        ("LambdaState", Err("States.Runtime")), // invocation 4: none listed
        ("SQSState", Err("States.Runtime")),    // invocation 1 of SQSState
    ];
    for (i, (state, expected)) in rows.into_iter().enumerate() {
        let req = mock_request(Some("RetryPath"), state, INVOKE, &scope);
        let got = outcome(reg.invoke(req).await);
        assert_eq!(
            got,
            expected.map(str::to_string).map_err(str::to_string),
            "row {i}"
        );
    }
    let err = reg.invoke(mock_request(
        Some("RetryPath"),
        "LambdaState",
        INVOKE,
        &scope,
    ));
    let cause = err.await.unwrap_err().cause.unwrap();
    assert!(cause.contains("no response for invocation 5"), "{cause}");
}

#[tokio::test]
async fn mock_throw_keeps_error_and_cause() {
    let reg = mocked_registry();
    let req = mock_request(
        Some("RetryPath"),
        "LambdaState",
        INVOKE,
        &ExecutionScope::new(),
    );
    let err = reg.invoke(req).await.unwrap_err();
    assert_eq!(
        err,
        TaskError::new(
            "Lambda.ResourceNotReadyException",
            "Lambda resource is not ready."
        )
    );
}

#[tokio::test]
async fn without_a_scope_the_attempt_is_the_invocation() {
    let reg = mocked_registry();
    for (attempt, expected) in [
        (0, Err("Lambda.ResourceNotReadyException")),
        (2, Err("Lambda.TimeoutException")),
        (3, Ok(())),
    ] {
        let mut req = mock_request(
            Some("RetryPath"),
            "LambdaState",
            INVOKE,
            &ExecutionScope::default(),
        );
        req.attempt = attempt;
        let got = reg.invoke(req).await.map(|_| ()).map_err(|e| e.error);
        assert_eq!(got, expected.map_err(str::to_string), "attempt {attempt}");
    }
}

#[tokio::test]
async fn unmocked_states_fall_through_to_handlers() {
    let reg = mocked_registry();
    let scope = ExecutionScope::new();
    let sqs = "arn:aws:states:::sqs:sendMessage";
    for (case, state, expected) in [
        (Some("HybridPath"), "SQSState", Ok(r#""real sqs""#)),
        (
            Some("HappyPath"),
            "SQSState",
            Ok(r#"{"MD5OfMessageBody":"3bcb6e8e","MessageId":"3bcb6e8e-8b51"}"#),
        ),
        (Some("NoSuchCase"), "SQSState", Ok(r#""real sqs""#)),
        (None, "SQSState", Ok(r#""real sqs""#)),
        (Some("Broken"), "LambdaState", Err("States.Runtime")),
    ] {
        let got = outcome(reg.invoke(mock_request(case, state, sqs, &scope)).await);
        assert_eq!(
            got,
            expected.map(str::to_string).map_err(str::to_string),
            "{case:?} {state}"
        );
    }
    let config = reg.mock_config().unwrap();
    assert!(config.has_test_case("LambdaSQSIntegration", "HybridPath"));
    assert!(!config.has_test_case("LambdaSQSIntegration", "NoSuchCase"));
}

#[tokio::test]
async fn the_counter_advances_when_invoke_is_called() {
    let reg = mocked_registry();
    let scope = ExecutionScope::new();
    // Start two invocations, then poll them in reverse order: they keep their call order.
    let first = reg.invoke(mock_request(
        Some("RetryPath"),
        "LambdaState",
        INVOKE,
        &scope,
    ));
    let second = reg.invoke(mock_request(
        Some("RetryPath"),
        "LambdaState",
        INVOKE,
        &scope,
    ));
    assert_eq!(second.await.unwrap_err().error, "Lambda.TimeoutException");
    assert_eq!(
        first.await.unwrap_err().error,
        "Lambda.ResourceNotReadyException"
    );
}

#[test]
fn malformed_mock_files_report_where() {
    for (text, needle) in [
        ("{", "not valid JSON"),
        ("[]", "/: the mock configuration must be a JSON object"),
        (
            r#"{"StateMachines": [], "MockedResponses": {}}"#,
            "/StateMachines: must be an object",
        ),
        (r#"{"Other": 1}"#, "/Other: unknown field"),
        (
            r#"{"StateMachines": {"sm": {}}}"#,
            "/StateMachines/sm: missing field TestCases",
        ),
        (
            r#"{"StateMachines": {"sm": {"TestCases": {"c": {"S": 1}}}}}"#,
            "/StateMachines/sm/TestCases/c/S: must be the name",
        ),
        (
            r#"{"MockedResponses": {"R": {"a": {"Return": 1}}}}"#,
            "/MockedResponses/R/a: an invocation must be",
        ),
        (
            r#"{"MockedResponses": {"R": {"2-1": {"Return": 1}}}}"#,
            "/MockedResponses/R/2-1: an invocation must be",
        ),
        (
            r#"{"MockedResponses": {"R": {"-1": {"Return": 1}}}}"#,
            "/MockedResponses/R/-1: an invocation must be",
        ),
        (
            r#"{"MockedResponses": {"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}}"#,
            "/MockedResponses/R: invocations 0-2 and 2-2 overlap",
        ),
        (
            r#"{"MockedResponses": {"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}}"#,
            "/MockedResponses/R/0: must contain exactly one field",
        ),
        (
            r#"{"MockedResponses": {"R": {"0": {}}}}"#,
            "/MockedResponses/R/0: must contain exactly one field",
        ),
        (
            r#"{"MockedResponses": {"R": {"0": {"Throw": {"Cause": "c"}}}}}"#,
            "/MockedResponses/R/0/Throw/Error: must be a string",
        ),
        (
            r#"{"MockedResponses": {"R": {"0": {"Throw": {"Error": "E", "Cause": 1}}}}}"#,
            "/MockedResponses/R/0/Throw/Cause: must be a string",
        ),
        (
            r#"{"MockedResponses": {"R": {"0": {"Throw": "E"}}}}"#,
            "/MockedResponses/R/0/Throw: must be an object",
        ),
    ] {
        let err = MockConfig::parse(text).expect_err(text);
        assert!(err.contains(needle), "{text}\n  got: {err}");
    }
    // Every problem is reported, not the first.
    let err =
        MockConfig::parse(r#"{"MockedResponses": {"A": {"x": {}}, "B": {"0": 1}}}"#).unwrap_err();
    assert_eq!(err.lines().count(), 3, "{err}");
    // Lenient where Step Functions Local is: Return may be any JSON value; an empty response and a
    // missing Cause parse (they fail only when used).
    for text in [
        r#"{"MockedResponses": {"R": {"0": {"Return": "text"}, "1-999": {"Return": null}}}}"#,
        r#"{"MockedResponses": {"R": {}}}"#,
        r#"{"MockedResponses": {"R": {"0": {"Throw": {"Error": "E"}}}}}"#,
        r#"{}"#,
    ] {
        assert!(MockConfig::parse(text).is_ok(), "{text}");
    }
}

#[test]
fn function_names_resolve_like_lambda() {
    let ctx = context();
    for (name, arn, qualifier) in [
        (
            "f",
            "arn:aws:lambda:us-east-1:111111111111:function:f",
            None,
        ),
        (
            "f:1",
            "arn:aws:lambda:us-east-1:111111111111:function:f",
            Some("1"),
        ),
        (
            "222222222222:function:f",
            "arn:aws:lambda:us-east-1:222222222222:function:f",
            None,
        ),
        (
            "arn:aws-cn:lambda:cn-north-1:3:function:f:al",
            "arn:aws-cn:lambda:cn-north-1:3:function:f",
            Some("al"),
        ),
    ] {
        let f = FunctionRef::parse(name, &ctx).expect(name);
        assert_eq!(
            (f.arn().as_str(), f.qualifier.as_deref()),
            (arn, qualifier),
            "{name}"
        );
    }
    for bad in ["", "a b", "arn:aws:lambda:r:a:layer:x", "f:", "a:b:c:d:e"] {
        assert_eq!(FunctionRef::parse(bad, &ctx), None, "{bad:?}");
    }
    let f = FunctionRef::parse("f", &Value::Null).unwrap();
    assert_eq!(
        f.qualified_arn(),
        "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"
    );
}

#[test]
fn case_mocks_reject_unknown_kinds() {
    let err = MockLambdas::from_case_mock(&json(
        r#"{"lambda": {"arn:aws:lambda:r:1:function:f": {"kind": "sleep"}}}"#,
    ));
    assert!(err.unwrap_err().contains("unknown kind 'sleep'"));
    assert!(MockLambdas::from_case_mock(&json(r#"{"lambda": []}"#)).is_err());
    assert!(
        MockLambdas::from_case_mock(&json(r#"{"sqs": {}}"#))
            .unwrap()
            .is_empty()
    );
}

/// A file of the project's `shared/` folder (beside the repository, or beside its worktree).
fn shared_text(rel: &str) -> Option<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared"), root.join("../../shared")]
        .iter()
        .find_map(|dir| std::fs::read_to_string(dir.join(rel)).ok())
}

/// A JSON file of `shared/`.
fn shared_file(rel: &str) -> Option<Value> {
    shared_text(rel).map(|text| json(&text))
}

#[tokio::test]
async fn the_w5_example_mock_config_gives_the_expected_results() {
    let text = include_str!("../../examples/mock-config.json");
    let mut reg = TaskRegistry::new();
    reg.set_mock_config(MockConfig::parse(text).expect("examples/mock-config.json parses"));
    let Some(expected) = shared_file("bench/workflows/w5_credit.expected.json") else {
        eprintln!("shared/ not found beside the repository: skipping the w5 comparison");
        return;
    };
    let scope = ExecutionScope::new();
    let call = |state: &str, resource: &str| {
        let mut req = request(resource, json("{}"));
        req.state_machine_name = Arc::from("w5_credit");
        req.test_case = Some(Arc::from("HappyPath"));
        req.state_name = Arc::from(state);
        req.scope = scope.clone();
        reg.invoke(req)
    };
    let limit = call("Get credit limit", INVOKE).await.unwrap();
    let limit = limit.get("Payload").and_then(|p| p.get("credit_applied"));
    assert_eq!(limit, expected.get("credit").and_then(|c| c.get("limit")));
    let sns = call("Wait for human approval", "arn:aws:states:::sns:publish")
        .await
        .unwrap();
    assert_eq!(
        sns.get("MessageId").and_then(Value::as_str).map(str::len),
        Some(36)
    );
    let verification = expected
        .get("verification")
        .and_then(Value::as_array)
        .unwrap();
    for (i, (state, key)) in [
        ("Verify identity", "identity"),
        ("Verify address", "address"),
    ]
    .into_iter()
    .enumerate()
    {
        let got = call(state, INVOKE).await.unwrap();
        assert_eq!(got.get("Payload"), verification[i].get(key), "{state}");
    }
    let scan = call(
        "Get list of credit bureaus",
        "arn:aws:states:::aws-sdk:dynamodb:scan",
    )
    .await
    .unwrap();
    assert_eq!(
        scan.get("Items"),
        expected.get("bureaus").and_then(|b| b.get("Items"))
    );
    let scores = expected.get("scores").and_then(Value::as_array).unwrap();
    for score in scores {
        let got = call("Get all scores", INVOKE).await.unwrap();
        assert_eq!(got.get("Payload"), score.get("score"));
    }
}

#[cfg(feature = "http-client")]
mod aws_settings;
#[cfg(all(feature = "http-client", feature = "server"))]
mod http_client;

/// The recorded Lambda cases whose whole workflow is one Task (`Type`, `Resource`, `End` and
/// nothing else), so the task's answer is the execution's answer: run them through the mocks.
#[tokio::test]
async fn recorded_single_task_lambda_cases() {
    let Some(text) = shared_text("conformance/cases.jsonl") else {
        eprintln!("shared/ not found beside the repository: skipping the recorded cases");
        return;
    };
    let (mut mocks_read, mut ran) = (0, 0);
    for line in text.lines().filter(|l| l.contains("\"kind\"")) {
        let case = json(line);
        let Some(mock) = case.get("mock").filter(|m| m.get("lambda").is_some()) else {
            continue;
        };
        let id = case.get("id").and_then(Value::as_str).unwrap_or("?");
        let mocks = MockLambdas::from_case_mock(mock).unwrap_or_else(|e| panic!("{id}: {e}"));
        mocks_read += 1;
        let def = case.get("definition").unwrap();
        let states = def.get("States").and_then(Value::as_object).unwrap();
        let Some(task) = states.values().next().filter(|_| states.len() == 1) else {
            continue;
        };
        let keys: Vec<&str> = task.as_object().unwrap().keys().map(|k| &**k).collect();
        if keys != ["Type", "Resource", "End"] {
            continue;
        }
        let mut reg = TaskRegistry::new();
        reg.register_lambda(Arc::new(mocks));
        let resource = task.get("Resource").and_then(Value::as_str).unwrap();
        let got = reg
            .invoke(request(resource, case.get("input").cloned().unwrap()))
            .await;
        let expected = case.get("expected").unwrap();
        match expected.get("status").and_then(Value::as_str) {
            Some("SUCCEEDED") => assert_eq!(got.as_ref().ok(), expected.get("output"), "{id}"),
            _ => assert_eq!(
                got.err().map(|e| Value::str(&e.error)).as_ref(),
                expected.get("error"),
                "{id}"
            ),
        }
        ran += 1;
    }
    eprintln!("recorded Lambda cases: {mocks_read} mocks read, {ran} single-task cases passed");
    assert_eq!(mocks_read, 64);
    assert!(ran >= 8, "only {ran} single-task cases found");
}
