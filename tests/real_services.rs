//! Task states against real servers started by the tests: moto's server for SNS, SQS, DynamoDB
//! and EventBridge, a Lambda Invoke API server for Lambda, and small misbehaving servers for the
//! faults. Every server binds 127.0.0.1 and is stopped by the test that started it.

mod real;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use expressway::engine::{Engine, ExecutionMeta, Outcome, Settings, Status};
use expressway::tasks::aws::{AwsClient, AwsSettings, CredentialSource, register_services};
use real::*;

/// An engine whose Tasks call the services `configure` points at, signing with the test keys.
fn engine(configure: impl FnOnce(&mut AwsSettings)) -> (Engine, Arc<AwsClient>) {
    let mut settings = AwsSettings::default();
    configure(&mut settings);
    let creds = CredentialSource::fixed(ACCESS_KEY, SECRET_KEY, None);
    let client = Arc::new(AwsClient::new(settings, creds).expect("a client"));
    let mut engine = Engine::new(Settings::default());
    register_services(engine.tasks_mut(), client.clone());
    (engine, client)
}

async fn exec(engine: &Engine, definition: &str, input: &str) -> Outcome {
    let program = engine.compile(definition).expect("a valid definition");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "exec");
    engine.execute(program, input, meta).await
}

/// One Task state on `resource` with `params` as its Parameters.
fn task(resource: &str, params: &str) -> String {
    format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{resource}","Parameters":{params},"End":true}}}}}}"#
    )
}

fn output(o: &Outcome) -> serde_json::Value {
    assert_eq!(o.status, Status::Succeeded, "{:?} {:?}", o.error, o.cause);
    serde_json::from_str(o.output.as_deref().expect("an output")).expect("JSON output")
}

fn failure(o: &Outcome) -> (String, String) {
    assert_eq!(o.status, Status::Failed, "{:?}", o.output);
    (
        o.error.clone().unwrap_or_default(),
        o.cause.clone().unwrap_or_default(),
    )
}

/// `expressway` with the clean test environment plus `env`.
fn expressway(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_expressway"));
    cmd.args(args);
    clean_env(&mut cmd);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

#[test]
fn w5_end_to_end_through_run_configured_only_by_environment() {
    let Some(moto) = Moto::start() else { return };
    let lambda = LambdaServer::start();
    let queue = w5_resources(&moto);
    let dir = std::env::temp_dir().join(format!("expressway-real-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let input = dir.join("input.json");
    std::fs::write(&input, W5_INPUT).expect("the input file");
    let out = expressway(
        &[
            "run",
            &w5_definition_path(),
            "--input",
            input.to_str().expect("utf-8"),
        ],
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("LAMBDA_ENDPOINT", &lambda.url),
        ],
    )
    .output()
    .expect("expressway runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let output: serde_json::Value =
        serde_json::from_str(result["output"].as_str().expect("output text")).expect("JSON");
    check_w5_output(&output, &moto, &queue, &lambda);
}

/// `expressway serve` on a free port, killed on drop.
struct Serve {
    child: std::process::Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(definitions: &std::path::Path, env: &[(&str, &str)]) -> Serve {
    let mut child = expressway(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-level",
            "error",
            "--definitions",
            definitions.to_str().expect("utf-8"),
        ],
        env,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    Serve { child, addr }
}

/// One Step Functions API call over a fresh connection; the JSON answer.
fn sfn(addr: &str, op: &str, body: &str) -> serde_json::Value {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let (_, json) = resp.split_once("\r\n\r\n").expect("a body");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {resp}"))
}

#[test]
fn w5_end_to_end_through_serve_configured_only_by_environment() {
    let Some(moto) = Moto::start() else { return };
    let lambda = LambdaServer::start();
    let queue = w5_resources(&moto);
    let dir = std::env::temp_dir().join(format!("expressway-real-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    std::fs::copy(w5_definition_path(), dir.join("w5.asl.json")).expect("copy w5");
    let server = serve(
        &dir,
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("LAMBDA_ENDPOINT", &lambda.url),
        ],
    );
    let body = serde_json::json!({
        "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:w5",
        "input": W5_INPUT,
    });
    let result = sfn(&server.addr, "StartSyncExecution", &body.to_string());
    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    let output: serde_json::Value =
        serde_json::from_str(result["output"].as_str().expect("output text")).expect("JSON");
    check_w5_output(&output, &moto, &queue, &lambda);
}

#[test]
fn start_execution_runs_this_servers_machines_in_process() {
    let dir = std::env::temp_dir().join(format!("expressway-real-sfn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    std::fs::write(
        dir.join("child.asl.json"),
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
    )
    .expect("child");
    std::fs::write(
        dir.join("parent.asl.json"),
        task(
            "arn:aws:states:::states:startExecution",
            r#"{"StateMachineArn.$":"$.target","Input":{"from":"parent"}}"#,
        ),
    )
    .expect("parent");
    // No Step Functions endpoint is reachable: a local target must not need one.
    let server = serve(&dir, &[("STEP_FUNCTIONS_ENDPOINT", "http://127.0.0.1:9")]);
    let start = |target: &str| {
        let input = serde_json::json!({ "target": target }).to_string();
        let body = serde_json::json!({
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:parent",
            "input": input,
        });
        sfn(&server.addr, "StartSyncExecution", &body.to_string())
    };
    let result = start("arn:aws:states:us-east-1:123456789012:stateMachine:child");
    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    let output: serde_json::Value =
        serde_json::from_str(result["output"].as_str().expect("output")).expect("JSON");
    let keys: Vec<&String> = output.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "ExecutionArn",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StartDate"
        ]
    );
    assert!(
        output["ExecutionArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:states:us-east-1:123456789012:express:child:")),
        "{output}"
    );
    let result = start("arn:aws:states:us-east-1:123456789012:stateMachine:nope");
    assert_eq!(result["status"], "FAILED");
    assert_eq!(
        result["error"],
        "StepFunctions.StateMachineDoesNotExistException"
    );
    let cause = result["cause"].as_str().expect("cause");
    assert!(
        cause.starts_with("State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:nope' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: "),
        "{cause}"
    );
    // Another account's machine goes to the (unreachable) Step Functions endpoint.
    let result = start("arn:aws:states:us-east-1:999999999999:stateMachine:far");
    assert_eq!(
        result["error"], "StepFunctions.SdkClientException",
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_integration_against_moto() {
    let Some(moto) = Moto::start() else { return };
    let url = moto.url.clone();
    let (engine, client) = engine(|s| s.endpoint_url = Some(url));
    let setup = moto.py(
        "ddb.create_table(TableName='t1', KeySchema=[{'AttributeName':'id','KeyType':'HASH'}], AttributeDefinitions=[{'AttributeName':'id','AttributeType':'S'}], BillingMode='PAY_PER_REQUEST')\n\
         t = sns.create_topic(Name='topic1')['TopicArn']\n\
         q = sqs.create_queue(QueueName='q1')['QueueUrl']\n\
         print(json.dumps([t, q]))",
    );
    let names: Vec<String> = serde_json::from_str(&setup).expect("names");
    let (topic, queue) = (&names[0], &names[1]);

    // SNS: the MessageId with the SDK's metadata; a missing topic is SNS.NotFoundException.
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::sns:publish",
            &format!(r#"{{"TopicArn":"{topic}","Message":{{"a":1}}}}"#),
        ),
        "{}",
    )
    .await;
    let out = output(&o);
    let keys: Vec<&String> = out.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    );
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::sns:publish",
            r#"{"TopicArn":"arn:aws:sns:us-east-1:123456789012:nope","Message":"m"}"#,
        ),
        "{}",
    )
    .await;
    let (error, cause) = failure(&o);
    assert_eq!(error, "SNS.NotFoundException");
    assert!(
        cause.contains("(Service: AmazonSNS; Status Code: 404; Error Code: NotFound; Request ID: ")
            && cause.ends_with("; Proxy: null)"),
        "{cause}"
    );

    // SQS: MD5OfMessageBody and MessageId; the message body is the JSON text of an object.
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::sqs:sendMessage",
            &format!(r#"{{"QueueUrl":"{queue}","MessageBody":{{"k":"v"}}}}"#),
        ),
        "{}",
    )
    .await;
    let out = output(&o);
    assert_eq!(
        out["MD5OfMessageBody"],
        format!("{:x}", md5_of(br#"{"k":"v"}"#))
    );
    assert!(out["MessageId"].is_string());
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::sqs:sendMessage",
            &format!(
                r#"{{"QueueUrl":"{}/123456789012/missing","MessageBody":"x"}}"#,
                moto.url
            ),
        ),
        "{}",
    )
    .await;
    let (error, cause) = failure(&o);
    assert!(error.starts_with("SQS."), "{error}");
    assert!(
        cause.contains("(Service: AmazonSQS; Status Code: 400;"),
        "{cause}"
    );

    // DynamoDB: put, update, get, delete, in the optimized shapes.
    let def = r#"{"StartAt":"Put","States":{
        "Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"t1","Item":{"id":{"S":"k1"},"v":{"S":"one"}}},"ResultPath":"$.put","Next":"Update"},
        "Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","Parameters":{"TableName":"t1","Key":{"id":{"S":"k1"}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{":v":{"S":"two"}}},"ResultPath":"$.update","Next":"Get"},
        "Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"t1","Key":{"id":{"S":"k1"}}},"ResultPath":"$.get","Next":"Scan"},
        "Scan":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:scan","Parameters":{"TableName":"t1"},"ResultPath":"$.scan","Next":"Delete"},
        "Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem","Parameters":{"TableName":"t1","Key":{"id":{"S":"k1"}}},"ResultPath":"$.delete","End":true}}}"#;
    let out = output(&exec(&engine, def, "{}").await);
    let put: Vec<&String> = out["put"].as_object().expect("put").keys().collect();
    assert_eq!(put, ["SdkHttpMetadata", "SdkResponseMetadata"]);
    assert_eq!(out["get"]["Item"]["v"]["S"], "two");
    assert_eq!(out["scan"]["Count"], 1);
    assert!(
        out["scan"].get("SdkHttpMetadata").is_none(),
        "aws-sdk has no metadata"
    );
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::dynamodb:putItem",
            r#"{"TableName":"no_such_table","Item":{"id":{"S":"k"}}}"#,
        ),
        "{}",
    )
    .await;
    let (error, cause) = failure(&o);
    assert_eq!(error, "DynamoDB.ResourceNotFoundException");
    assert!(
        cause.starts_with("Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: "),
        "{cause}"
    );
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::aws-sdk:dynamodb:getItem",
            r#"{"TableName":"no_such_table","Key":{"id":{"S":"k"}}}"#,
        ),
        "{}",
    )
    .await;
    let (error, cause) = failure(&o);
    assert_eq!(error, "DynamoDb.ResourceNotFoundException");
    assert!(
        cause.contains("(Service: DynamoDb, Status Code: 400, Request ID: "),
        "{cause}"
    );

    // EventBridge: Entries and FailedEntryCount; Detail objects go as JSON text.
    let o = exec(
        &engine,
        &task(
            "arn:aws:states:::events:putEvents",
            r#"{"Entries":[{"Source":"my.source","DetailType":"t","Detail":{"x":1}}]}"#,
        ),
        "{}",
    )
    .await;
    let out = output(&o);
    assert_eq!(out["FailedEntryCount"], 0);
    assert!(out["Entries"][0]["EventId"].is_string(), "{out}");

    // Every call went through one pool: far fewer connections than calls would need if the
    // server kept them open (moto closes each, so only the count's sanity is checked here).
    assert!(client.connections_opened() >= 1);
}

fn md5_of(bytes: &[u8]) -> u128 {
    use md5::{Digest, Md5};
    u128::from_be_bytes(Md5::digest(bytes).into())
}

/// A server on 127.0.0.1 that answers every connection with `respond`.
fn fake(respond: impl Fn(std::net::TcpStream) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let respond = Arc::new(respond);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let r = respond.clone();
            std::thread::spawn(move || r(s));
        }
    });
    format!("http://{addr}")
}

/// Answers every request with `head` (status line and headers) and `body`.
fn answer(
    head: &'static str,
    body: &'static str,
) -> impl Fn(std::net::TcpStream) + Send + Sync + 'static {
    let answer = format!("{head}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    move |s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        while read_request(&mut r).is_some() {
            if w.write_all(answer.as_bytes()).is_err() {
                return;
            }
        }
    }
}

async fn fault_case(
    url: &str,
    resource: &str,
    params: &str,
    timeout: u32,
) -> (String, String, Duration) {
    let url = url.to_string();
    let (engine, _) = engine(|s| {
        s.endpoint_url = Some(url);
        s.read_timeout = Duration::from_secs(1);
        s.connect_timeout = Duration::from_secs(1);
    });
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{resource}","Parameters":{params},"TimeoutSeconds":{timeout},"End":true}}}}}}"#
    );
    let start = Instant::now();
    let o = exec(&engine, &def, "{}").await;
    let (e, c) = failure(&o);
    (e, c, start.elapsed())
}

const DDB_PUT: (&str, &str) = (
    "arn:aws:states:::dynamodb:putItem",
    r#"{"TableName":"t","Item":{"id":{"S":"k"}}}"#,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_end_as_the_errors_aws_shows() {
    // Unreachable: nothing listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let (e, c, _) = fault_case(
        &format!("http://127.0.0.1:{port}"),
        DDB_PUT.0,
        DDB_PUT.1,
        30,
    )
    .await;
    assert_eq!(e, "DynamoDB.SdkClientException");
    assert!(
        c.starts_with("Unable to execute HTTP request: Connect to the endpoint failed"),
        "{c}"
    );

    // Connection reset: the server reads the request and closes without answering.
    let url = fake(|s| {
        let mut r = BufReader::new(s);
        let _ = read_request(&mut r);
    });
    let (e, c, _) = fault_case(
        &url,
        "arn:aws:states:::sns:publish",
        r#"{"TopicArn":"a","Message":"m"}"#,
        30,
    )
    .await;
    assert_eq!(e, "SNS.SdkClientException");
    assert!(c.starts_with("Unable to execute HTTP request: "), "{c}");

    // 4xx with AWS's JSON error.
    let url = fake(answer(
        "HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: R1\r\nContent-Type: application/x-amz-json-1.0",
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
    ));
    let (e, c, _) = fault_case(&url, DDB_PUT.0, DDB_PUT.1, 30).await;
    assert_eq!(e, "DynamoDB.ConditionalCheckFailedException");
    assert_eq!(
        c,
        "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: R1; Proxy: null)"
    );

    // 5xx whose body is not JSON: the generic exception, the body as the message.
    let url = fake(answer(
        "HTTP/1.1 503 Service Unavailable",
        "<html>down</html>\r\n",
    ));
    let (e, c, _) = fault_case(&url, DDB_PUT.0, DDB_PUT.1, 30).await;
    assert_eq!(e, "DynamoDB.AmazonDynamoDBException");
    assert_eq!(
        c,
        "<html>down</html> (Service: AmazonDynamoDBv2; Status Code: 503; Error Code: null; Request ID: null; Proxy: null)"
    );

    // 200 whose body is neither JSON nor XML.
    let url = fake(answer("HTTP/1.1 200 OK", "not json!"));
    let (e, c, _) = fault_case(&url, DDB_PUT.0, DDB_PUT.1, 30).await;
    assert_eq!(e, "DynamoDB.SdkClientException");
    assert!(c.starts_with("Unable to unmarshall response ("), "{c}");
    let (e, c, _) = fault_case(
        &url,
        "arn:aws:states:::sns:publish",
        r#"{"TopicArn":"a","Message":"m"}"#,
        30,
    )
    .await;
    assert_eq!(e, "SNS.SdkClientException");
    assert!(c.starts_with("Unable to unmarshall response ("), "{c}");

    // A Lambda that answers 500 with HTML.
    let (e, c, _) = fault_case(
        &fake(answer("HTTP/1.1 502 Bad Gateway", "no way!")),
        "arn:aws:states:::lambda:invoke",
        r#"{"FunctionName":"f","Payload":{}}"#,
        30,
    )
    .await;
    assert_eq!(e, "Lambda.ServiceException");
    assert_eq!(
        c,
        "no way! (Service: AWSLambda; Status Code: 502; Error Code: ServiceException; Request ID: null; Proxy: null)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalling_and_trickling_services_end_within_the_timeouts() {
    // A service that accepts and never answers: the state's TimeoutSeconds ends it.
    let url = fake(|s| {
        let mut r = BufReader::new(s);
        let _ = read_request(&mut r);
        std::thread::sleep(Duration::from_secs(20));
    });
    let (e, _, took) = fault_case(&url, DDB_PUT.0, DDB_PUT.1, 1).await;
    assert_eq!(e, "States.Timeout");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // A Lambda that sends its headers and then a byte a second: the read timeout (1 s here)
    // ends the call long before the state's 30 s.
    let url = fake(|s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let _ = read_request(&mut r);
        let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n");
        for _ in 0..30 {
            if w.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let (e, c, took) = fault_case(
        &url,
        "arn:aws:states:::lambda:invoke",
        r#"{"FunctionName":"slow","Payload":{}}"#,
        30,
    )
    .await;
    assert_eq!(e, "Lambda.SdkClientException");
    assert_eq!(c, "Unable to execute HTTP request: Read timed out");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_handlers_serve_every_form_that_names_their_function() {
    let lambda = LambdaServer::start();
    let url = lambda.url.clone();
    let settings = AwsSettings {
        endpoint_url: Some(url),
        ..AwsSettings::default()
    };
    let client = Arc::new(
        AwsClient::new(
            settings,
            CredentialSource::fixed(ACCESS_KEY, SECRET_KEY, None),
        )
        .expect("client"),
    );
    let mut engine = Engine::new(Settings::default());
    engine.tasks_mut().register_fn(
        "arn:aws:lambda:us-east-1:123456789012:function:Native",
        |req| async move {
            let mut m = expressway::value::Map::new();
            m.insert("native".into(), req.input);
            Ok(expressway::value::Value::object(m))
        },
    );
    register_services(engine.tasks_mut(), client);
    let forms = [
        task(
            "arn:aws:states:::lambda:invoke",
            r#"{"FunctionName":"Native","Payload":{"a":1}}"#,
        ),
        task(
            "arn:aws:states:::lambda:invoke",
            r#"{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:Native:$LATEST","Payload":{"a":1}}"#,
        ),
        task(
            "arn:aws:lambda:us-east-1:123456789012:function:Native",
            r#"{"a":1}"#,
        ),
        task(
            "arn:aws:lambda:us-east-1:123456789012:function:Native:$LATEST",
            r#"{"a":1}"#,
        ),
        task(
            "arn:aws:lambda:us-east-1:123456789012:function:Native:live",
            r#"{"a":1}"#,
        ),
    ];
    for def in &forms {
        let out = output(&exec(&engine, def, "{}").await);
        let got = out.get("Payload").unwrap_or(&out);
        assert_eq!(got, &serde_json::json!({"native": {"a": 1}}), "{def}");
    }
    // Another function goes to the real (test) Lambda, signed.
    let out = output(
        &exec(
            &engine,
            &task(
                "arn:aws:states:::lambda:invoke",
                r#"{"FunctionName":"Echo","Payload":{"b":2}}"#,
            ),
            "{}",
        )
        .await,
    );
    assert_eq!(out["Payload"], serde_json::json!({"b": 2}));
    assert_eq!(lambda.functions(), ["Echo"]);
    let (e, c) = failure(
        &exec(
            &engine,
            &task(
                "arn:aws:states:::lambda:invoke",
                r#"{"FunctionName":"FailHard"}"#,
            ),
            "{}",
        )
        .await,
    );
    assert_eq!(e, "Boom");
    assert_eq!(c, r#"{"errorType":"Boom","errorMessage":"it failed"}"#);
}

/// w5 throughput against moto and the Lambda server, and the connections the pool opened:
/// `cargo test --release --test real_services w5_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check: run it by name"]
async fn w5_throughput() {
    let Some(moto) = Moto::start() else { return };
    let lambda = LambdaServer::start();
    w5_resources(&moto);
    let (moto_url, lambda_url) = (moto.url.clone(), lambda.url.clone());
    let (engine, client) = engine(|s| {
        s.endpoint_url = Some(moto_url);
        s.set_endpoint(expressway::tasks::aws::Service::Lambda, &lambda_url);
    });
    measure("moto + Lambda server", Arc::new(engine), &lambda, &client).await;
    // The same with SNS and the scan served in-process: what the Lambda calls alone cost.
    let settings = AwsSettings {
        endpoint_url: Some(lambda.url.clone()),
        ..AwsSettings::default()
    };
    let creds = CredentialSource::fixed(ACCESS_KEY, SECRET_KEY, None);
    let client = Arc::new(AwsClient::new(settings, creds).expect("a client"));
    let mut engine = Engine::new(Settings::default());
    engine
        .tasks_mut()
        .register_fn("arn:aws:states:::sns:publish", |_| async {
            Ok(expressway::value::parse(r#"{"MessageId":"m"}"#).expect("JSON"))
        });
    engine
        .tasks_mut()
        .register_fn("arn:aws:states:::aws-sdk:dynamodb:scan", |_| async {
            Ok(expressway::value::parse(
                r#"{"Items":[{"bureau_name":{"S":"A"}},{"bureau_name":{"S":"B"}},{"bureau_name":{"S":"C"}}]}"#,
            )
            .expect("JSON"))
        });
    register_services(engine.tasks_mut(), client.clone());
    lambda.calls.lock().expect("calls").clear();
    measure(
        "Lambda server only (SNS, scan in-process)",
        Arc::new(engine),
        &lambda,
        &client,
    )
    .await;
}

async fn measure(label: &str, engine: Arc<Engine>, lambda: &LambdaServer, client: &AwsClient) {
    let before = client.connections_opened();
    let definition = std::fs::read_to_string(w5_definition_path()).expect("w5");
    let program = engine.compile(&definition).expect("w5 compiles");
    let executions = 1000;
    let concurrency = 16;
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut handles = Vec::new();
    for i in 0..executions {
        let (engine, program, sem) = (engine.clone(), program.clone(), sem.clone());
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.expect("semaphore");
            let meta = ExecutionMeta::express(engine.settings(), "w5", &format!("e{i}"));
            engine.execute(program, W5_INPUT, meta).await.status
        }));
    }
    let mut ok = 0;
    for h in handles {
        if h.await.expect("joined") == Status::Succeeded {
            ok += 1;
        }
    }
    let took = start.elapsed();
    let calls = lambda.calls.lock().expect("calls").len();
    println!(
        "w5 against {label}: {ok}/{executions} succeeded in {took:?} = {:.1} executions/s \
         (concurrency {concurrency}); Lambda calls {calls}; connections opened {} \
         (moto closes every connection it answers, so each of its calls opens one)",
        f64::from(ok) / took.as_secs_f64(),
        client.connections_opened() - before
    );
}

/// The tutorial as written: a STANDARD machine whose approval state publishes its task token to
/// SNS (`sns:publish.waitForTaskToken`, the token in the message) and waits for a person.
fn tutorial_with_a_human(timeout_seconds: u64) -> String {
    let text = std::fs::read_to_string(w5_definition_path()).expect("w5");
    let mut def: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let approval = &mut def["States"]["Wait for human approval"];
    approval["Resource"] = "arn:aws:states:::sns:publish.waitForTaskToken".into();
    approval["Parameters"]["Message.$"] = "States.Format('{}', $$.Task.Token)".into();
    approval["TimeoutSeconds"] = timeout_seconds.into();
    approval
        .as_object_mut()
        .expect("a state")
        .remove("ResultSelector");
    def.to_string()
}

/// A person answering through boto3: `send_task_success` or `send_task_failure`.
fn answer_as_a_person(addr: &str, call: &str) {
    let script = format!(
        "import boto3\n\
         c = boto3.client('stepfunctions', endpoint_url='http://{addr}', region_name='us-east-1', \
         aws_access_key_id='t', aws_secret_access_key='t')\n\
         {call}\n"
    );
    let out = Command::new(real::python())
        .args(["-c", &script])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls DescribeExecution until the execution is no longer RUNNING (at most 30 s).
fn finished(addr: &str, execution_arn: &str) -> serde_json::Value {
    let start = std::time::Instant::now();
    loop {
        let d = sfn(
            addr,
            "DescribeExecution",
            &serde_json::json!({"executionArn": execution_arn}).to_string(),
        );
        if d["status"] != "RUNNING" {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still running: {d}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The token the approval state published, read from the queue subscribed to the topic.
fn token_from_queue(moto: &Moto, queue: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Some(token) = queue_bodies(moto, queue).into_iter().next() {
            return token;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no token reached the queue"
        );
    }
}

#[test]
fn the_tutorial_as_written_waits_for_a_person_over_sns() {
    let Some(moto) = Moto::start() else { return };
    let lambda = LambdaServer::start();
    let queue = w5_resources(&moto);
    let dir = std::env::temp_dir().join(format!("expressway-human-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let server = serve(
        &dir,
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("LAMBDA_ENDPOINT", &lambda.url),
        ],
    );
    let role = "arn:aws:iam::123456789012:role/r";
    // A person gets 60 s to answer (starting Python and boto3 on a loaded CI machine can take
    // seconds); the machine nobody answers times out after 3.
    let create = |name: &str, timeout: u64| {
        let created = sfn(
            &server.addr,
            "CreateStateMachine",
            &serde_json::json!({"name": name, "definition": tutorial_with_a_human(timeout),
                "roleArn": role, "type": "STANDARD"})
            .to_string(),
        );
        created["stateMachineArn"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_string()
    };
    let patient = create("credit", 60);
    let impatient = create("credit-impatient", 3);
    let start = |machine: &str, name: &str| {
        let started = sfn(
            &server.addr,
            "StartExecution",
            &serde_json::json!({"stateMachineArn": machine, "name": name, "input": W5_INPUT})
                .to_string(),
        );
        started["executionArn"]
            .as_str()
            .unwrap_or_else(|| panic!("{started}"))
            .to_string()
    };

    // A person approves: the execution goes on with their answer and succeeds.
    let arn = start(&patient, "approved");
    let token = token_from_queue(&moto, &queue);
    answer_as_a_person(
        &server.addr,
        &format!(
            "c.send_task_success(taskToken={token:?}, output='{{\"approved\": true, \"by\": \"Ana\"}}')"
        ),
    );
    let d = finished(&server.addr, &arn);
    assert_eq!(d["status"], "SUCCEEDED", "{d}");
    let output: serde_json::Value =
        serde_json::from_str(d["output"].as_str().expect("output")).expect("JSON");
    assert_eq!(
        output["approval"],
        serde_json::json!({"approved": true, "by": "Ana"})
    );
    assert!(lambda.functions().iter().any(|f| f.contains("GetScores")));

    // A person rejects: the execution fails with their error.
    let arn = start(&patient, "rejected");
    let token = token_from_queue(&moto, &queue);
    answer_as_a_person(
        &server.addr,
        &format!(
            "c.send_task_failure(taskToken={token:?}, error='Rejected', cause='limit too high')"
        ),
    );
    let d = finished(&server.addr, &arn);
    assert_eq!(
        (
            d["status"].as_str(),
            d["error"].as_str(),
            d["cause"].as_str()
        ),
        (Some("FAILED"), Some("Rejected"), Some("limit too high")),
        "{d}"
    );

    // Nobody answers: the approval state times out after its TimeoutSeconds (3).
    let arn = start(&impatient, "ignored");
    let _ = token_from_queue(&moto, &queue);
    let d = finished(&server.addr, &arn);
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str()),
        (Some("FAILED"), Some("States.Timeout")),
        "{d}"
    );
}
