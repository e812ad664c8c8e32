//! What the real-service tests share: moto's server and a Lambda Invoke API server, both on
//! 127.0.0.1 with a free port, started by the test and stopped when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keys every test signs with: moto accepts any, the Lambda server checks they were used.
pub const ACCESS_KEY: &str = "AKIDEXPRESSWAYTEST";
pub const SECRET_KEY: &str = "expressway-test-secret";

/// The Python with moto and boto3: `EXPRESSWAY_PYTHON` (`.ci/run` sets up a venv), else python3.
pub fn python() -> String {
    std::env::var("EXPRESSWAY_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

/// moto's server (`python3 -m moto.server`), killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Moto {
    /// Starts moto, or `None` (after saying why) when python3 or moto is missing here. On CI
    /// (`CI` set) a missing moto is a failure: `.ci/run` installs it.
    pub fn start() -> Option<Moto> {
        Moto::start_with(&[])
    }

    /// [`Moto::start`] with variables for moto (`MOTO_ACCOUNT_ID` picks the account it serves).
    pub fn start_with(env: &[(&str, &str)]) -> Option<Moto> {
        let ok = Command::new(python())
            .args(["-c", "import moto.server, boto3, flask"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var_os("CI").is_none(),
                "moto[server] is missing on CI: .ci/run must pip install it"
            );
            println!("SKIPPED: python3 with moto[server] and boto3 is not installed here");
            return None;
        }
        let port = free_port();
        let child = Command::new(python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto starts");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// Runs a Python snippet with `sns`, `sqs`, `ddb`, `events` boto3 clients bound to this moto;
    /// returns its stdout.
    pub fn py(&self, script: &str) -> String {
        let prelude = format!(
            "import boto3, json\n\
             kw = dict(endpoint_url='{}', region_name='us-east-1', aws_access_key_id='t', aws_secret_access_key='t')\n\
             sns = boto3.client('sns', **kw); sqs = boto3.client('sqs', **kw)\n\
             ddb = boto3.client('dynamodb', **kw); events = boto3.client('events', **kw)\n",
            self.url
        );
        let out = Command::new(python())
            .args(["-c", &format!("{prelude}{script}")])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One call the Lambda server answered: the function's name and the payload it got.
#[derive(Clone, Debug)]
pub struct LambdaCall {
    pub function: String,
    pub payload: String,
}

/// A Lambda Invoke API server: every function returns its event, except `Fail*` functions,
/// which fail with `{"errorType":"Boom"}`. Unsigned calls are answered 403, as Lambda does.
pub struct LambdaServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub calls: Arc<Mutex<Vec<LambdaCall>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

impl LambdaServer {
    pub fn start() -> LambdaServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, s) = (calls.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let c = c.clone();
                std::thread::spawn(move || serve_lambda(stream, &c));
            }
        });
        LambdaServer {
            url: format!("http://127.0.0.1:{port}"),
            calls,
            stop,
            port,
        }
    }

    pub fn functions(&self) -> Vec<String> {
        let calls = self.calls.lock().expect("calls");
        calls.iter().map(|c| c.function.clone()).collect()
    }
}

impl Drop for LambdaServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One HTTP/1.1 request: (request line, headers with lower-case names, body).
pub type Request = (String, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 request off a keep-alive connection.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_string(), headers, body))
}

fn serve_lambda(stream: TcpStream, calls: &Mutex<Vec<LambdaCall>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    while let Some((line, headers, body)) = read_request(&mut reader) {
        let signed = headers.iter().any(|(k, v)| {
            k == "authorization"
                && v.starts_with(&format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/"))
                && v.contains("/lambda/aws4_request")
        });
        // POST /2015-03-31/functions/<arn-encoded>/invocations
        let path = line.split(' ').nth(1).unwrap_or_default();
        let function = path
            .split('/')
            .nth(3)
            .unwrap_or_default()
            .replace("%3A", ":")
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let payload = String::from_utf8_lossy(&body).into_owned();
        let (status, extra, out) = if !signed {
            (
                403,
                "x-amzn-ErrorType: UnrecognizedClientException\r\n",
                r#"{"message":"The security token included in the request is invalid."}"#
                    .to_string(),
            )
        } else if function.starts_with("Fail") {
            (
                200,
                "X-Amz-Function-Error: Unhandled\r\n",
                r#"{"errorType":"Boom","errorMessage":"it failed"}"#.to_string(),
            )
        } else {
            (200, "X-Amz-Executed-Version: $LATEST\r\n", payload.clone())
        };
        calls
            .lock()
            .expect("calls")
            .push(LambdaCall { function, payload });
        let resp = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nx-amzn-RequestId: req-1\r\n{extra}Content-Length: {}\r\n\r\n{out}",
            out.len()
        );
        if writer.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// The environment a spawned `expressway` gets: test keys, and no credential lookups that could
/// leave this machine (instance metadata) or read the user's files.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for k in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "LAMBDA_ENDPOINT",
        "SNS_ENDPOINT",
        "SQS_ENDPOINT",
        "DYNAMODB_ENDPOINT",
        "EVENTBRIDGE_ENDPOINT",
        "STEP_FUNCTIONS_ENDPOINT",
        "SFN_MOCK_CONFIG",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/expressway-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/expressway-test-credentials",
        )
}

/// The credit-card workflow's input that takes the SNS branch (limit >= 5000).
pub const W5_INPUT: &str = r#"{"name":"Jane Doe","credit_applied":6000,"email":"jane@example.com","ssn":"123-45-6789","street":"1 Main St","city":"Seattle","state":"WA","zip":"98101"}"#;

/// Creates what w5 names on moto (the bureaus table with three items, the topic, a queue
/// subscribed to it); returns the queue's URL.
pub fn w5_resources(moto: &Moto) -> String {
    moto.py(
        "ddb.create_table(TableName='GetCreditBureauTable', KeySchema=[{'AttributeName':'bureau_name','KeyType':'HASH'}], AttributeDefinitions=[{'AttributeName':'bureau_name','AttributeType':'S'}], BillingMode='PAY_PER_REQUEST')\n\
         for n in ['Equifax', 'Experian', 'TransUnion']:\n    ddb.put_item(TableName='GetCreditBureauTable', Item={'bureau_name': {'S': n}})\n\
         t = sns.create_topic(Name='CreditApprovals')['TopicArn']\n\
         q = sqs.create_queue(QueueName='approvals')['QueueUrl']\n\
         arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
         sns.subscribe(TopicArn=t, Protocol='sqs', Endpoint=arn, Attributes={'RawMessageDelivery': 'true'})\n\
         print(q)",
    )
}

/// The bodies of the messages waiting in `queue`.
pub fn queue_bodies(moto: &Moto, queue: &str) -> Vec<String> {
    let out = moto.py(&format!(
        "r = sqs.receive_message(QueueUrl='{queue}', MaxNumberOfMessages=10, WaitTimeSeconds=1)\n\
         print(json.dumps([m['Body'] for m in r.get('Messages', [])]))"
    ));
    serde_json::from_str(&out).expect("a JSON list")
}

/// Checks a finished w5 execution's output against what the services hold.
pub fn check_w5_output(
    output: &serde_json::Value,
    moto: &Moto,
    queue: &str,
    lambda: &LambdaServer,
) {
    let items = output["bureaus"]["Items"].as_array().expect("scan items");
    let mut names: Vec<&str> = items
        .iter()
        .map(|i| i["bureau_name"]["S"].as_str().expect("a bureau name"))
        .collect();
    names.sort();
    assert_eq!(names, ["Equifax", "Experian", "TransUnion"]);
    assert_eq!(output["scores"].as_array().map(Vec::len), Some(3));
    assert_eq!(output["credit"]["limit"], 6000);
    assert!(output["approval"]["messageId"].is_string(), "{output}");
    assert_eq!(
        queue_bodies(moto, queue),
        ["Approve a credit limit of 6000 for Jane Doe?"]
    );
    let mut functions = lambda.functions();
    functions.sort();
    assert_eq!(
        functions,
        [
            "GetCreditLimit",
            "GetScores",
            "GetScores",
            "GetScores",
            "VerifyAddress",
            "VerifyIdentity"
        ]
    );
}

/// The w5 definition from the benches.
pub fn w5_definition_path() -> String {
    format!(
        "{}/benches/workflows/w5_credit.json",
        env!("CARGO_MANIFEST_DIR")
    )
}
