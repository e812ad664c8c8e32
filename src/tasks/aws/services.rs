//! The optimized integrations (request-response) over the request layer, and the registration
//! of every integration (`aws-sdk:*` lives in `sdk.rs`).
//!
//! Each turns the Task's parameters into one service call and the answer into what Step Functions
//! shows: the response's fields with `SdkHttpMetadata`/`SdkResponseMetadata` (keys in the Java
//! SDK's alphabetical order); errors as `<Prefix>.<Exception>` with the Java SDK's "(Service: …;
//! Status Code: …; Error Code: …; Request ID: …; Proxy: null)" cause.

use std::sync::Arc;

use bytes::Bytes;

use super::{AwsClient, AwsRequest, AwsResponse, ClientError, Service};
use crate::percent::percent_encode;
use crate::tasks::lambda::unsupported_pattern;
use crate::tasks::{TaskError, TaskFuture, TaskHandler, TaskRegistry, TaskRequest};
use crate::value::{self, Map, Str, Value};

/// Partitions whose service ARNs are served.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// How a service names itself in errors.
struct Naming {
    /// `SNS` in `SNS.NotFoundException`.
    prefix: &'static str,
    /// `AmazonSNS` in "(Service: AmazonSNS; …)".
    service: &'static str,
    /// The Java SDK's exception for errors it has no class for.
    generic: &'static str,
}

const SNS: Naming = Naming {
    prefix: "SNS",
    service: "AmazonSNS",
    generic: "AmazonSNSException",
};
const SQS: Naming = Naming {
    prefix: "SQS",
    service: "AmazonSQS",
    generic: "AmazonSQSException",
};
const DYNAMODB: Naming = Naming {
    prefix: "DynamoDB",
    service: "AmazonDynamoDBv2",
    generic: "AmazonDynamoDBException",
};
const EVENTS: Naming = Naming {
    prefix: "EventBridge",
    service: "AmazonCloudWatchEvents",
    generic: "AmazonCloudWatchEventsException",
};
const SFN: Naming = Naming {
    prefix: "StepFunctions",
    service: "AWSStepFunctions",
    generic: "AWSStepFunctionsException",
};

/// Error codes every service shares and no SDK models as an exception class of its own: they
/// surface as the service's generic exception.
pub(super) const UNMODELED: [&str; 22] = [
    "ValidationException",
    "ValidationError",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "ThrottlingException",
    "Throttling",
    "SerializationException",
    "UnknownOperationException",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestExpired",
    "InvalidAction",
    "MissingParameter",
    "AccessDeniedException",
];

/// What an integration does with the Task's parameters.
#[derive(Clone, Copy)]
enum Op {
    SnsPublish,
    SqsSendMessage,
    /// `GetItem`, `PutItem`, ...
    DynamoDb(&'static str),
    EventsPutEvents,
    StartExecution,
}

/// Serves one integration with the shared client.
struct Integration {
    client: Arc<AwsClient>,
    op: Op,
}

/// Registers the optimized integrations, `aws-sdk:*`, the HTTP Task (connections from
/// `EXPRESSWAY_HTTP_CONNECTIONS`) and Lambda on `registry`, all calling through `client`. Resources that already have a handler keep it: native handlers and mocks
/// stay first, and a longer prefix (`aws-sdk:s3:`) wins over `aws-sdk:`.
pub fn register_services(registry: &mut TaskRegistry, client: Arc<AwsClient>) {
    let ops: [(&str, Op); 8] = [
        ("sns:publish", Op::SnsPublish),
        ("sqs:sendMessage", Op::SqsSendMessage),
        ("dynamodb:getItem", Op::DynamoDb("GetItem")),
        ("dynamodb:putItem", Op::DynamoDb("PutItem")),
        ("dynamodb:updateItem", Op::DynamoDb("UpdateItem")),
        ("dynamodb:deleteItem", Op::DynamoDb("DeleteItem")),
        ("events:putEvents", Op::EventsPutEvents),
        ("states:startExecution", Op::StartExecution),
    ];
    let sdk: Arc<dyn TaskHandler> = Arc::new(super::sdk::SdkHandler {
        client: client.clone(),
    });
    let connections = crate::tasks::http_invoke::Connections::from_env();
    if let Err(e) = &connections {
        eprintln!("expressway: {e}; every http:invoke Task fails until it is fixed");
    }
    let http_invoke = crate::tasks::http_invoke::HttpInvoke::handler(client.clone(), connections);
    for p in PARTITIONS {
        for (name, op) in ops {
            let arn = format!("arn:{p}:states:::{name}");
            if !registry.has_exact(&arn) {
                let handler = Arc::new(Integration {
                    client: client.clone(),
                    op,
                });
                registry.register_exact(&arn, handler);
            }
        }
        let prefix = format!("arn:{p}:states:::aws-sdk:");
        if !registry.has_prefix(&prefix) {
            registry.register_prefix(&prefix, sdk.clone());
        }
        let http = format!("arn:{p}:states:::http:invoke");
        if !registry.has_exact(&http) {
            registry.register_exact(&http, http_invoke.clone());
        }
    }
    super::s3::register_s3(registry, client.clone());
    let lambda = crate::tasks::LambdaHttpClient::with_client(client);
    registry.register_lambda_if_absent(Arc::new(lambda));
}

/// `states:startExecution` over HTTP to the Step Functions endpoint, for a server that runs
/// local targets in-process and hands every other ARN to this.
pub fn start_execution_over_http(client: Arc<AwsClient>) -> Arc<dyn TaskHandler> {
    Arc::new(Integration {
        client,
        op: Op::StartExecution,
    })
}

impl TaskHandler for Integration {
    fn invoke(&self, req: TaskRequest) -> TaskFuture {
        let client = self.client.clone();
        let op = self.op;
        Box::pin(async move {
            if let Some(suffix) = crate::tasks::arn::pattern_suffix(&req.resource) {
                return Err(unsupported_pattern(&req.resource, suffix));
            }
            let params = req.input.as_object().cloned().unwrap_or_default();
            match op {
                Op::SnsPublish => sns_publish(&client, &params).await,
                Op::SqsSendMessage => {
                    let body = stringify(params, &["MessageBody"]);
                    let resp = json_call(&client, Service::Sqs, "AmazonSQS.SendMessage", &body)
                        .await
                        .map_err(|e| client_error(&SQS, &e))?;
                    optimized_json(&SQS, &resp)
                }
                Op::DynamoDb(action) => {
                    let target = format!("DynamoDB_20120810.{action}");
                    let resp = json_call(&client, Service::DynamoDb, &target, &params)
                        .await
                        .map_err(|e| client_error(&DYNAMODB, &e))?;
                    optimized_json(&DYNAMODB, &resp)
                }
                Op::EventsPutEvents => put_events(&client, params).await,
                Op::StartExecution => {
                    // Step Functions' wire names are camelCase; the Task's and the answer's
                    // PascalCase.
                    let body: Map = stringify(params, &["Input"])
                        .into_iter()
                        .map(|(k, v)| (super::sdk::lower_first(&k), v))
                        .collect();
                    let resp = json_call(
                        &client,
                        Service::StepFunctions,
                        "AWSStepFunctions.StartExecution",
                        &body,
                    )
                    .await
                    .map_err(|e| client_error(&SFN, &e))?;
                    let out = optimized_json(&SFN, &resp)?;
                    let mut out = match out {
                        Value::Object(m) => {
                            let mut m: Map = m
                                .iter()
                                .map(|(k, v)| (super::sdk::upper_first(k), v.clone()))
                                .collect();
                            m.sort_keys();
                            Value::object(m)
                        }
                        other => other,
                    };
                    date_to_millis(&mut out, "StartDate");
                    Ok(out)
                }
            }
        })
    }
}

/// Members whose value the service takes as a string: a JSON value there is sent as its text,
/// as Step Functions does for `MessageBody`, `Input`, `Message` and `Detail`.
fn stringify(mut params: Map, keys: &[&str]) -> Map {
    for k in keys {
        if let Some(v) = params.get(*k)
            && !matches!(v, Value::String(_))
        {
            let text = v.to_json();
            params.insert(Str::from(*k), Value::str(&text));
        }
    }
    params
}

/// One awsJson call (1.0 for every service here but EventBridge's 1.1).
async fn json_call(
    client: &AwsClient,
    service: Service,
    target: &str,
    params: &Map,
) -> Result<AwsResponse, ClientError> {
    let version = if service == Service::EventBridge {
        "1.1"
    } else {
        "1.0"
    };
    let body = Value::object(params.clone()).to_json();
    client
        .call(AwsRequest {
            service,
            method: hyper::Method::POST,
            path: "/".into(),
            headers: vec![
                ("content-type", format!("application/x-amz-json-{version}")),
                ("x-amz-target", target.to_string()),
            ],
            body: Bytes::from(body),
        })
        .await
}

/// No answer at all: `<Prefix>.SdkClientException`, as the Java SDK reports it.
fn client_error(naming: &Naming, e: &ClientError) -> TaskError {
    TaskError::new(format!("{}.SdkClientException", naming.prefix), e.cause())
}

/// A 2xx answer's JSON with the SDK metadata, or the service's error.
fn optimized_json(naming: &Naming, resp: &AwsResponse) -> Result<Value, TaskError> {
    if resp.status >= 300 {
        return Err(json_error(naming, resp));
    }
    let mut out = parse_body(naming, resp)?;
    out.insert("SdkHttpMetadata".into(), http_metadata(resp));
    out.insert("SdkResponseMetadata".into(), response_metadata(resp));
    out.sort_keys();
    Ok(Value::object(out))
}

/// A 2xx answer's JSON object (empty body = `{}`); anything else is the SDK's unmarshalling
/// failure.
fn parse_body(naming: &Naming, resp: &AwsResponse) -> Result<Map, TaskError> {
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match value::parse_slice(&resp.body) {
        Ok(Value::Object(m)) => Ok((*m).clone()),
        Ok(other) => Err(unmarshall_error(
            naming,
            resp,
            &format!("expected a JSON object, got {}", other.type_name()),
        )),
        Err(e) => Err(unmarshall_error(naming, resp, &e.to_string())),
    }
}

fn unmarshall_error(naming: &Naming, resp: &AwsResponse, detail: &str) -> TaskError {
    TaskError::new(
        format!("{}.SdkClientException", naming.prefix),
        format!(
            "Unable to unmarshall response ({detail}). Response Code: {}, Response Text: {}",
            resp.status,
            reason(resp.status)
        ),
    )
}

fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// The parts of a service error: the exception's code, the code AWS shows as "Error Code", and
/// the message.
pub(super) struct ServiceError {
    pub exception: String,
    pub code: String,
    pub message: String,
}

/// An awsJson error answer: `__type` or `x-amzn-ErrorType` (SQS's `x-amzn-query-error` gives
/// the code the Java SDK shows), the message from `message`/`Message`.
pub(super) fn parse_json_error(resp: &AwsResponse) -> ServiceError {
    let doc = value::parse_slice(&resp.body).unwrap_or(Value::Null);
    let short = |t: &str| {
        let t = t.split(':').next().unwrap_or(t);
        t.rsplit('#').next().unwrap_or(t).to_string()
    };
    let exception = doc
        .get("__type")
        .and_then(Value::as_str)
        .map(short)
        .or_else(|| resp.header("x-amzn-errortype").map(short))
        .filter(|c| !c.is_empty());
    let code = resp
        .header("x-amzn-query-error")
        .and_then(|q| q.split(';').next())
        .map(str::to_string)
        .filter(|c| !c.is_empty())
        .or_else(|| exception.clone());
    let message = doc
        .get("message")
        .or_else(|| doc.get("Message"))
        .and_then(Value::as_str)
        .map(str::to_string);
    ServiceError {
        exception: exception.unwrap_or_else(|| "null".into()),
        code: code.unwrap_or_else(|| "null".into()),
        message: message.unwrap_or_else(|| body_text(resp)),
    }
}

/// The body as the message of an error the SDK could not read: its text, shortened.
fn body_text(resp: &AwsResponse) -> String {
    let text = String::from_utf8_lossy(&resp.body);
    let text = text.trim();
    if text.is_empty() {
        return reason(resp.status).to_string();
    }
    text.chars().take(200).collect()
}

/// The Java SDK's exception class name for `code`.
fn exception_name(naming: &Naming, exception: &str) -> String {
    if exception == "null" || UNMODELED.contains(&exception) {
        naming.generic.to_string()
    } else if exception.ends_with("Exception") {
        exception.to_string()
    } else {
        format!("{exception}Exception")
    }
}

fn service_error(naming: &Naming, resp: &AwsResponse, e: ServiceError) -> TaskError {
    let request_id = resp.request_id();
    let request_id = if request_id.is_empty() {
        "null".to_string()
    } else {
        request_id
    };
    TaskError::new(
        format!("{}.{}", naming.prefix, exception_name(naming, &e.exception)),
        format!(
            "{} (Service: {}; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
            e.message, naming.service, resp.status, e.code, request_id
        ),
    )
}

fn json_error(naming: &Naming, resp: &AwsResponse) -> TaskError {
    service_error(naming, resp, parse_json_error(resp))
}

/// `SdkHttpMetadata` as the Java SDK reports it: every header as a list in arrival order, and
/// once more as single values sorted by name.
fn http_metadata(resp: &AwsResponse) -> Value {
    let all: Map = resp
        .headers
        .iter()
        .map(|(k, v)| (Str::from(k.as_str()), Value::array(vec![Value::str(v)])))
        .collect();
    let mut sorted: Vec<&(String, String)> = resp.headers.iter().collect();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let single: Map = sorted
        .into_iter()
        .map(|(k, v)| (Str::from(k.as_str()), Value::str(v)))
        .collect();
    let mut m = Map::new();
    m.insert("AllHttpHeaders".into(), Value::object(all));
    m.insert("HttpHeaders".into(), Value::object(single));
    m.insert("HttpStatusCode".into(), Value::int(i64::from(resp.status)));
    Value::object(m)
}

fn response_metadata(resp: &AwsResponse) -> Value {
    let mut m = Map::new();
    m.insert("RequestId".into(), Value::str(&resp.request_id()));
    Value::object(m)
}

/// awsJson dates are epoch seconds; the Java SDK's `Date` shows as epoch milliseconds.
fn date_to_millis(out: &mut Value, key: &str) {
    let Value::Object(m) = out else { return };
    let Some(secs) = m.get(key).and_then(Value::as_f64) else {
        return;
    };
    Arc::make_mut(m).insert(Str::from(key), Value::int((secs * 1000.0).round() as i64));
}

/// `sns:publish` over SNS's query protocol; the answer is XML.
async fn sns_publish(client: &AwsClient, params: &Map) -> Result<Value, TaskError> {
    let mut form = String::from("Action=Publish&Version=2010-03-31");
    let mut add = |k: &str, v: &str| {
        form.push('&');
        form.push_str(&percent_encode(k, false));
        form.push('=');
        form.push_str(&percent_encode(v, false));
    };
    for key in [
        "TopicArn",
        "TargetArn",
        "PhoneNumber",
        "Subject",
        "MessageStructure",
        "MessageDeduplicationId",
        "MessageGroupId",
    ] {
        if let Some(v) = params.get(key) {
            add(key, &scalar_text(v));
        }
    }
    if let Some(v) = params.get("Message") {
        add("Message", &scalar_text(v));
    }
    if let Some(Value::Object(attrs)) = params.get("MessageAttributes") {
        for (i, (name, attr)) in attrs.iter().enumerate() {
            let n = i + 1;
            add(&format!("MessageAttributes.entry.{n}.Name"), name);
            for field in ["DataType", "StringValue", "BinaryValue"] {
                if let Some(v) = attr.get(field) {
                    add(
                        &format!("MessageAttributes.entry.{n}.Value.{field}"),
                        &scalar_text(v),
                    );
                }
            }
        }
    }
    let resp = client
        .call(AwsRequest {
            service: Service::Sns,
            method: hyper::Method::POST,
            path: "/".into(),
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            )],
            body: Bytes::from(form),
        })
        .await
        .map_err(|e| client_error(&SNS, &e))?;
    let fields = match xml_leaves(&resp.body) {
        Ok(f) => f,
        Err(detail) if resp.status < 300 => return Err(unmarshall_error(&SNS, &resp, &detail)),
        Err(_) => Vec::new(),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if resp.status >= 300 {
        let code = field("Code");
        let e = ServiceError {
            exception: code.clone().unwrap_or_else(|| "null".into()),
            code: code.unwrap_or_else(|| "null".into()),
            message: field("Message").unwrap_or_else(|| body_text(&resp)),
        };
        let mut resp = resp.clone();
        if resp.request_id().is_empty()
            && let Some(id) = field("RequestId")
        {
            resp.headers.push(("x-amzn-RequestId".into(), id));
        }
        return Err(service_error(&SNS, &resp, e));
    }
    let Some(message_id) = field("MessageId") else {
        return Err(unmarshall_error(&SNS, &resp, "no MessageId in the answer"));
    };
    let mut out = Map::new();
    out.insert("MessageId".into(), Value::str(&message_id));
    out.insert("SdkHttpMetadata".into(), http_metadata(&resp));
    out.insert("SdkResponseMetadata".into(), response_metadata(&resp));
    if let Some(seq) = field("SequenceNumber") {
        out.insert("SequenceNumber".into(), Value::str(&seq));
    }
    Ok(Value::object(out))
}

/// A parameter as the query protocol sends it: strings as they are, anything else as JSON.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}

/// `(element, text)` for every element that holds text, in document order; an error when the
/// body is not well-formed XML.
fn xml_leaves(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut out = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    let mut seen_root = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                seen_root = true;
                stack.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map_err(|e| e.to_string()).and_then(|s| {
                    quick_xml::escape::unescape(&s)
                        .map(|u| u.into_owned())
                        .map_err(|e| e.to_string())
                })?;
                if let Some(name) = stack.last()
                    && !text.trim().is_empty()
                {
                    out.push((name.clone(), text));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("malformed XML: {e}")),
        }
        buf.clear();
    }
    if !seen_root || !stack.is_empty() {
        return Err("the answer is not an XML document".into());
    }
    Ok(out)
}

/// `events:putEvents`: fails with `EventBridge.FailedEntry` when any entry failed.
async fn put_events(client: &AwsClient, mut params: Map) -> Result<Value, TaskError> {
    if let Some(Value::Array(entries)) = params.get("Entries") {
        let entries: Vec<Value> = entries
            .iter()
            .map(|e| match e {
                Value::Object(m) => Value::object(stringify((**m).clone(), &["Detail"])),
                other => other.clone(),
            })
            .collect();
        params.insert("Entries".into(), Value::array(entries));
    }
    let resp = json_call(client, Service::EventBridge, "AWSEvents.PutEvents", &params)
        .await
        .map_err(|e| client_error(&EVENTS, &e))?;
    if resp.status >= 300 {
        return Err(json_error(&EVENTS, &resp));
    }
    let body = parse_body(&EVENTS, &resp)?;
    let mut out = Map::new();
    for key in ["Entries", "FailedEntryCount"] {
        if let Some(v) = body.get(key) {
            out.insert(Str::from(key), v.clone());
        }
    }
    let out = Value::object(out);
    if out
        .get("FailedEntryCount")
        .and_then(Value::as_i64)
        .is_some_and(|n| n > 0)
    {
        return Err(TaskError::new("EventBridge.FailedEntry", out.to_json()));
    }
    Ok(out)
}
