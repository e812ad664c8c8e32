//! Unit tests of `sdk.rs`.

use super::*;

fn service(name: &str) -> &'static SdkService {
    SERVICES
        .iter()
        .find(|s| s.name == name)
        .expect("in the table")
}

fn runtime_cause(resource: &str) -> String {
    let e = resolve(resource).expect_err("refused");
    assert_eq!(e.error, "States.Runtime");
    e.cause.expect("a cause")
}

fn json(text: &str) -> Value {
    value::parse(text).expect("JSON")
}

#[test]
fn resources_name_a_service_and_an_operation() {
    let (s, op) = resolve("arn:aws:states:::aws-sdk:dynamodb:putItem").expect("served");
    assert_eq!((s.name, op.as_str()), ("dynamodb", "PutItem"));
    let (s, op) = resolve("arn:aws-cn:states:::aws-sdk:sfn:sendTaskSuccess").expect("served");
    assert_eq!((s.prefix, op.as_str()), ("Sfn", "SendTaskSuccess"));
    let (_, op) =
        resolve("arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken").expect("served");
    assert_eq!(op, "SendMessage");
}

#[test]
fn unknown_services_actions_and_protocols_fail_naming_them() {
    let cause = runtime_cause("arn:aws:states:::aws-sdk:nosuchservice:doIt");
    assert!(cause.contains("the service 'nosuchservice'"), "{cause}");
    assert!(cause.contains("dynamodb, sqs"), "{cause}");
    let cause = runtime_cause("arn:aws:states:::aws-sdk:polly:startSpeechSynthesisTask");
    assert!(
        cause.contains("'polly', whose rest-json protocol"),
        "{cause}"
    );
    let cause = runtime_cause("arn:aws:states:::aws-sdk:ec2:describeInstances");
    assert!(cause.contains("ec2 protocol"), "{cause}");
    let cause = runtime_cause("arn:aws:states:::aws-sdk:sqs:");
    assert!(cause.contains("'' is not an API action name"), "{cause}");
    let cause = runtime_cause("arn:aws:states:::aws-sdk:sqs:send-message");
    assert!(cause.contains("'send-message'"), "{cause}");
    let cause = runtime_cause("arn:aws:states:::aws-sdk:sqs");
    assert!(
        cause.contains("does not name an action of 'sqs'"),
        "{cause}"
    );
    let cause = runtime_cause("arn:aws:states:::lambda:invoke");
    assert!(cause.contains("not an aws-sdk resource"), "{cause}");
}

#[tokio::test]
async fn parameters_that_are_not_an_object_never_leave() {
    // Port 9 of 127.0.0.1 listens to nothing: a call that went out would fail differently.
    let settings = super::super::AwsSettings {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    };
    let creds = super::super::CredentialSource::fixed("k", "s", None);
    let client = AwsClient::new(settings, creds).expect("client");
    let resource = "arn:aws:states:::aws-sdk:sqs:sendMessage";
    let e = call(&client, resource, &json("[1]"))
        .await
        .expect_err("refused");
    assert_eq!(e.error, "States.Runtime");
    assert_eq!(
        e.cause.as_deref(),
        Some(
            "The parameters of 'arn:aws:states:::aws-sdk:sqs:sendMessage' must be a JSON object, not array."
        )
    );
    let e = call(&client, resource, &json("{}"))
        .await
        .expect_err("no server");
    assert_eq!(e.error, "Sqs.SdkClientException");
}

#[test]
fn an_unknown_operation_is_a_runtime_error_naming_it() {
    let e = sdk_error(
        service("sqs"),
        "FlyAway",
        400,
        "r1",
        "UnknownOperationException",
        "no",
    );
    assert_eq!(e.error, "States.Runtime");
    assert_eq!(
        e.cause.as_deref(),
        Some(
            "The service 'sqs' has no action 'FlyAway' (it answered UnknownOperationException: no)."
        )
    );
    let e = sdk_error(service("sns"), "FlyAway", 404, "", "null", "");
    assert_eq!(
        e.cause.as_deref(),
        Some("The service 'sns' has no action 'FlyAway' (it answered 404 Not Found).")
    );
}

#[test]
fn errors_take_the_sdk_v2_names_and_cause() {
    let e = sdk_error(
        service("sfn"),
        "SendTaskSuccess",
        400,
        "abc",
        "InvalidToken",
        "Invalid Token: 'Invalid token'",
    );
    assert_eq!(e.error, "Sfn.InvalidTokenException");
    assert_eq!(
        e.cause.as_deref(),
        Some(
            "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, Request ID: abc) \
             (SDK Attempt Count: 1)"
        )
    );
    let e = sdk_error(
        service("dynamodb"),
        "PutItem",
        400,
        "",
        "ValidationException",
        "m",
    );
    assert_eq!(e.error, "DynamoDb.DynamoDbException");
    assert!(e.cause.expect("cause").contains("Request ID: null)"));
    let e = sdk_error(
        service("kms"),
        "Encrypt",
        400,
        "x",
        "NotFoundException",
        "m",
    );
    assert_eq!(e.error, "Kms.NotFoundException");
    let e = sdk_error(service("secretsmanager"), "X", 500, "x", "null", "m");
    assert_eq!(e.error, "SecretsManager.SecretsManagerException");
}

#[test]
fn camel_case_services_get_lowered_names_and_answer_capitalised() {
    let sfn = service("sfn");
    let out = outgoing(
        sfn,
        &json(
            r#"{"StateMachineArn":"a","Input":"{}","Name":null,"Tags":[{"Key":"k","Value":"v"}]}"#,
        ),
        None,
    );
    assert_eq!(
        out.to_json(),
        r#"{"stateMachineArn":"a","input":"{}","tags":[{"key":"k","value":"v"}]}"#
    );
    let back = incoming(
        sfn,
        &json(r#"{"executionArn":"e","startDate":1.716133177455E9}"#),
        false,
    );
    assert_eq!(
        back.to_json(),
        r#"{"ExecutionArn":"e","StartDate":"2024-05-19T15:39:37.455Z"}"#
    );
    // Tag maps keep their keys both ways.
    let logs = service("cloudwatchlogs");
    let out = outgoing(
        logs,
        &json(r#"{"LogGroupName":"g","Tags":{"Team":"a","cost":"b"}}"#),
        None,
    );
    assert_eq!(
        out.to_json(),
        r#"{"logGroupName":"g","tags":{"Team":"a","cost":"b"}}"#
    );
    let back = incoming(logs, &json(r#"{"tags":{"team":"a"}}"#), false);
    assert_eq!(back.to_json(), r#"{"Tags":{"team":"a"}}"#);
}

#[test]
fn json_given_for_a_text_member_goes_as_its_text() {
    let out = outgoing(
        service("sfn"),
        &json(r#"{"StateMachineArn":"a","Input":{"key":"value"}}"#),
        None,
    );
    assert_eq!(
        out.to_json(),
        r#"{"stateMachineArn":"a","input":"{\"key\":\"value\"}"}"#
    );
    let out = outgoing(service("sqs"), &json(r#"{"MessageBody":"as is"}"#), None);
    assert_eq!(out.to_json(), r#"{"MessageBody":"as is"}"#);
}

#[test]
fn pascal_case_services_pass_names_and_data_through() {
    let ddb = service("dynamodb");
    let item = r#"{"TableName":"t","Item":{"id":{"S":"1"},"CreationDateTime":{"N":"5"}}}"#;
    assert_eq!(outgoing(ddb, &json(item), None).to_json(), item);
    assert_eq!(incoming(ddb, &json(item), false).to_json(), item);
    let desc = incoming(
        ddb,
        &json(r#"{"Table":{"CreationDateTime":1700000000,"ItemCount":3}}"#),
        false,
    );
    assert_eq!(
        desc.to_json(),
        r#"{"Table":{"CreationDateTime":"2023-11-14T22:13:20Z","ItemCount":3}}"#
    );
}

#[test]
fn services_only_aws_sdk_reaches_have_endpoints_of_their_own() {
    let settings = super::super::AwsSettings::from_lookup(|k| match k {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER" => Some("http://127.0.0.1:4000".into()),
        "AWS_REGION" => Some("eu-west-1".into()),
        _ => None,
    });
    assert_eq!(
        settings.endpoint(service("secretsmanager").service),
        "http://127.0.0.1:4000"
    );
    let logs = service("cloudwatchlogs").service;
    assert_eq!(
        settings.endpoint(logs),
        "https://logs.eu-west-1.amazonaws.com"
    );
    assert_eq!(logs.signing_name(), "logs");
    assert_eq!(
        settings.endpoint(service("sfn").service),
        "https://states.eu-west-1.amazonaws.com"
    );
}

#[test]
fn instants_print_as_java_does() {
    assert_eq!(instant(0.0).as_deref(), Some("1970-01-01T00:00:00Z"));
    assert_eq!(instant(1.5).as_deref(), Some("1970-01-01T00:00:01.500Z"));
    assert_eq!(instant(f64::NAN), None);
    assert_eq!(instant(1e300), None);
}
