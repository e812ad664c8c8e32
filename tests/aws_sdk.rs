//! `aws-sdk:*` Tasks against moto's server, started here on 127.0.0.1: SQS, SNS (query
//! protocol), DynamoDB, Step Functions (camelCase on the wire), Secrets Manager, KMS, SSM,
//! CloudWatch Logs and Kinesis, each creating what it uses first, and the errors AWS names.
//! Skips without moto locally; fails without it on CI (see tests/real/mod.rs).

mod real;

use std::sync::Arc;

use expressway::engine::{Engine, ExecutionMeta, Outcome, Settings, Status};
use expressway::tasks::aws::{AwsClient, AwsSettings, CredentialSource, register_services};
use real::{ACCESS_KEY, Moto, SECRET_KEY};
use serde_json::{Value, json};

struct Env {
    engine: Engine,
}

impl Env {
    fn new(moto: &Moto) -> Env {
        let settings = AwsSettings {
            endpoint_url: Some(moto.url.clone()),
            ..AwsSettings::default()
        };
        let creds = CredentialSource::fixed(ACCESS_KEY, SECRET_KEY, None);
        let client = Arc::new(AwsClient::new(settings, creds).expect("client"));
        let mut engine = Engine::new(Settings::default());
        register_services(engine.tasks_mut(), client);
        Env { engine }
    }

    /// One `aws-sdk:<call>` Task with `params`.
    async fn call(&self, call: &str, params: Value) -> Outcome {
        let def = json!({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": format!("arn:aws:states:::aws-sdk:{call}"),
            "Parameters": params, "End": true}}});
        let program = self.engine.compile(&def.to_string()).expect("valid");
        let meta = ExecutionMeta::express(self.engine.settings(), "sm", "exec");
        self.engine.execute(program, "{}", meta).await
    }

    async fn ok(&self, call: &str, params: Value) -> Value {
        let o = self.call(call, params).await;
        assert_eq!(
            o.status,
            Status::Succeeded,
            "{call}: {:?} {:?}",
            o.error,
            o.cause
        );
        serde_json::from_str(o.output.as_deref().expect("output")).expect("JSON")
    }

    async fn fails(&self, call: &str, params: Value) -> (String, String) {
        let o = self.call(call, params).await;
        assert_eq!(o.status, Status::Failed, "{call}: {:?}", o.output);
        (o.error.unwrap_or_default(), o.cause.unwrap_or_default())
    }
}

/// `2026-12-07T22:29:56.614Z` or `2026-12-07T22:29:56Z`, as the SDK prints an Instant.
fn is_instant(v: &Value) -> bool {
    let re = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$").expect("regex");
    v.as_str().is_some_and(|s| re.is_match(s))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_calls_reach_each_service() {
    let Some(moto) = Moto::start() else { return };
    let env = Env::new(&moto);

    // SQS (awsJson 1.0): create, send, receive.
    let out = env
        .ok("sqs:createQueue", json!({"QueueName": "jobs"}))
        .await;
    let queue = out["QueueUrl"].as_str().expect("a QueueUrl").to_string();
    let out = env
        .ok(
            "sqs:sendMessage",
            json!({"QueueUrl": queue, "MessageBody": "hello"}),
        )
        .await;
    assert_eq!(out["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
    assert!(out.get("SdkHttpMetadata").is_none(), "{out}");
    let out = env
        .ok("sqs:receiveMessage", json!({"QueueUrl": queue}))
        .await;
    assert_eq!(out["Messages"][0]["Body"], "hello");
    let (error, cause) = env
        .fails("sqs:getQueueUrl", json!({"QueueName": "no-such-queue"}))
        .await;
    assert_eq!(error, "Sqs.QueueDoesNotExistException");
    assert!(
        cause.contains("(Service: Sqs, Status Code: 400, Request ID: "),
        "{cause}"
    );

    // SNS (query protocol): create, list, attributes (a map), publish with attributes.
    let out = env.ok("sns:createTopic", json!({"Name": "news"})).await;
    let topic = out["TopicArn"].as_str().expect("a TopicArn").to_string();
    let out = env.ok("sns:listTopics", json!({})).await;
    assert_eq!(out["Topics"], json!([{"TopicArn": topic}]));
    let out = env
        .ok("sns:getTopicAttributes", json!({"TopicArn": topic}))
        .await;
    assert_eq!(out["Attributes"]["TopicArn"], topic.as_str());
    let sub = env
        .ok(
            "sns:subscribe",
            json!({"TopicArn": topic, "Protocol": "sqs",
                   "Endpoint": "arn:aws:sqs:us-east-1:123456789012:jobs",
                   "Attributes": {"RawMessageDelivery": "true"}}),
        )
        .await;
    assert!(sub["SubscriptionArn"].is_string(), "{sub}");
    let out = env
        .ok(
            "sns:publish",
            json!({"TopicArn": topic, "Message": "news & more",
                   "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "x"}}}),
        )
        .await;
    assert!(out["MessageId"].is_string(), "{out}");
    let out = env
        .ok(
            "sqs:receiveMessage",
            json!({"QueueUrl": queue, "MessageAttributeNames": ["All"]}),
        )
        .await;
    assert_eq!(out["Messages"][0]["Body"], "news & more", "{out}");
    assert_eq!(
        out["Messages"][0]["MessageAttributes"]["kind"]["StringValue"],
        "x"
    );
    let (error, cause) = env
        .fails(
            "sns:publish",
            json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:missing", "Message": "m"}),
        )
        .await;
    assert_eq!(error, "Sns.NotFoundException");
    assert!(cause.contains("(Service: Sns, Status Code: 404"), "{cause}");

    // DynamoDB: timestamps as instants, items untouched, errors named.
    let out = env
        .ok(
            "dynamodb:createTable",
            json!({"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                   "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}),
        )
        .await;
    assert!(
        is_instant(&out["TableDescription"]["CreationDateTime"]),
        "{out}"
    );
    let item = json!({"id": {"S": "1"}, "CreationDateTime": {"N": "5"}});
    assert_eq!(
        env.ok("dynamodb:putItem", json!({"TableName": "t", "Item": item}))
            .await,
        json!({})
    );
    let out = env
        .ok(
            "dynamodb:getItem",
            json!({"TableName": "t", "Key": {"id": {"S": "1"}}}),
        )
        .await;
    assert_eq!(out["Item"], item);
    let (error, cause) = env
        .fails(
            "dynamodb:getItem",
            json!({"TableName": "missing", "Key": {"id": {"S": "1"}}}),
        )
        .await;
    assert_eq!(error, "DynamoDb.ResourceNotFoundException");
    assert!(
        cause.ends_with(") (SDK Attempt Count: 1)") && cause.contains("Service: DynamoDb, "),
        "{cause}"
    );

    // Step Functions: PascalCase in, camelCase on the wire, PascalCase out.
    let out = env
        .ok(
            "sfn:createStateMachine",
            json!({"Name": "m", "RoleArn": "arn:aws:iam::123456789012:role/r",
                   "Definition": r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#}),
        )
        .await;
    let machine = out["StateMachineArn"].as_str().expect("an ARN").to_string();
    assert!(is_instant(&out["CreationDate"]), "{out}");
    let out = env
        .ok(
            "sfn:startExecution",
            json!({"StateMachineArn": machine, "Input": "{}"}),
        )
        .await;
    assert!(
        out["ExecutionArn"]
            .as_str()
            .is_some_and(|a| a.contains(":execution:m:"))
    );
    assert!(is_instant(&out["StartDate"]), "{out}");
    let out = env.ok("sfn:listStateMachines", json!({})).await;
    assert_eq!(out["StateMachines"][0]["Name"], "m");
    let (error, _) = env
        .fails(
            "sfn:describeStateMachine",
            json!({"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:none"}),
        )
        .await;
    assert_eq!(error, "Sfn.StateMachineDoesNotExistException");

    // Secrets Manager: null members the service sends are absent, as in the SDK.
    env.ok(
        "secretsmanager:createSecret",
        json!({"Name": "db", "SecretString": "pw"}),
    )
    .await;
    let out = env
        .ok("secretsmanager:getSecretValue", json!({"SecretId": "db"}))
        .await;
    assert_eq!(out["SecretString"], "pw");
    assert!(is_instant(&out["CreatedDate"]), "{out}");
    let out = env.ok("secretsmanager:listSecrets", json!({})).await;
    assert!(out["SecretList"][0].get("DeletedDate").is_none(), "{out}");
    let (error, _) = env
        .fails("secretsmanager:describeSecret", json!({"SecretId": "nope"}))
        .await;
    assert_eq!(error, "SecretsManager.ResourceNotFoundException");

    // KMS: a key, and a round trip through it (blobs travel as base64).
    let out = env.ok("kms:createKey", json!({})).await;
    let key = out["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("a KeyId")
        .to_string();
    assert!(is_instant(&out["KeyMetadata"]["CreationDate"]), "{out}");
    let out = env
        .ok(
            "kms:encrypt",
            json!({"KeyId": key, "Plaintext": "aGVsbG8="}),
        )
        .await;
    let blob = out["CiphertextBlob"].as_str().expect("a blob").to_string();
    let out = env.ok("kms:decrypt", json!({"CiphertextBlob": blob})).await;
    assert_eq!(out["Plaintext"], "aGVsbG8=");

    // SSM, CloudWatch Logs (camelCase, tag keys kept), Kinesis, EventBridge.
    env.ok(
        "ssm:putParameter",
        json!({"Name": "p", "Value": "v", "Type": "String"}),
    )
    .await;
    let out = env.ok("ssm:getParameter", json!({"Name": "p"})).await;
    assert_eq!(out["Parameter"]["Value"], "v");
    env.ok(
        "cloudwatchlogs:createLogGroup",
        json!({"LogGroupName": "g", "Tags": {"team": "a"}}),
    )
    .await;
    let out = env
        .ok(
            "cloudwatchlogs:listTagsLogGroup",
            json!({"LogGroupName": "g"}),
        )
        .await;
    assert_eq!(out["Tags"], json!({"team": "a"}));
    let out = env.ok("cloudwatchlogs:describeLogGroups", json!({})).await;
    assert_eq!(out["LogGroups"][0]["LogGroupName"], "g");
    env.ok(
        "kinesis:createStream",
        json!({"StreamName": "s", "ShardCount": 1}),
    )
    .await;
    let out = env
        .ok("kinesis:describeStream", json!({"StreamName": "s"}))
        .await;
    assert!(is_instant(
        &out["StreamDescription"]["StreamCreationTimestamp"]
    ));
    let out = env
        .ok(
            "eventbridge:putEvents",
            json!({"Entries": [{"Source": "a", "DetailType": "b", "Detail": "{}"}]}),
        )
        .await;
    assert_eq!(out["FailedEntryCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_served_fails_clearly() {
    let Some(moto) = Moto::start() else { return };
    let env = Env::new(&moto);
    let runtime = |(error, cause): (String, String), needle: &str| {
        assert_eq!(error, "States.Runtime", "{cause}");
        assert!(cause.contains(needle), "{cause}");
    };
    runtime(
        env.fails("nosuch:doThing", json!({})).await,
        "names the service 'nosuch', which aws-sdk does not serve",
    );
    runtime(
        env.fails("lambda:listFunctions", json!({})).await,
        "whose rest-json protocol",
    );
    runtime(
        env.fails("ec2:describeInstances", json!({})).await,
        "whose ec2 protocol",
    );
    // Unknown operations, on both protocols.
    runtime(
        env.fails("sqs:flyAway", json!({})).await,
        "The service 'sqs' has no action 'FlyAway'",
    );
    runtime(
        env.fails("sns:flyAway", json!({})).await,
        "The service 'sns' has no action 'FlyAway'",
    );
    // A parameter of the wrong type reaches the service, whose error names the problem; moto
    // answers a Key that is not a map with a server error, which stays the service's error.
    let (error, cause) = env
        .fails("dynamodb:getItem", json!({"TableName": "t", "Key": "x"}))
        .await;
    assert_eq!(error, "DynamoDb.DynamoDbException", "{cause}");
    assert!(
        cause.starts_with("Internal Server Error (Service: DynamoDb, Status Code: 500"),
        "{cause}"
    );
}

/// A server answering every call as DynamoDB answers a member of the wrong type.
fn serialization_error_server() -> String {
    use std::io::{BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut writer = stream.try_clone().expect("clone");
            let mut reader = BufReader::new(stream);
            while real::read_request(&mut reader).is_some() {
                let body = r#"{"__type":"com.amazon.coral.service#SerializationException","Message":"Start of structure or map found where not expected."}"#;
                let resp = format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: R1\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if writer.write_all(resp.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_is_the_services_own_error() {
    let url = serialization_error_server();
    let settings = AwsSettings {
        endpoint_url: Some(url),
        ..AwsSettings::default()
    };
    let creds = CredentialSource::fixed(ACCESS_KEY, SECRET_KEY, None);
    let client = Arc::new(AwsClient::new(settings, creds).expect("client"));
    let mut engine = Engine::new(Settings::default());
    register_services(engine.tasks_mut(), client);
    let env = Env { engine };
    let (error, cause) = env
        .fails(
            "dynamodb:getItem",
            json!({"TableName": {"x": 1}, "Key": {}}),
        )
        .await;
    assert_eq!(error, "DynamoDb.DynamoDbException");
    assert_eq!(
        cause,
        "Start of structure or map found where not expected. (Service: DynamoDb, Status Code: 400, Request ID: R1) (SDK Attempt Count: 1)"
    );
}
