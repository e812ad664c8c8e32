//! `arn:<partition>:states:::aws-sdk:<service>:<action>`: any operation of a service in
//! [`SERVICES`], over the service's own wire protocol, without service models.
//!
//! In: the Task's parameters with PascalCase names, as Step Functions takes them for every
//! service. Out: the operation's answer as the AWS SDK for Java v2 shows it in Step Functions:
//! the service's members, capitalised (`executionArn` → `ExecutionArn`), timestamps as ISO-8601
//! instants (`2024-05-19T15:39:37.455Z`), and no `SdkHttpMetadata`. Errors are
//! `<Prefix>.<Code>Exception` (`Sfn.InvalidTokenException`; codes no SDK models as a class of
//! their own become `<Prefix>.<Prefix>Exception`), with the SDK v2 cause
//! "<message> (Service: <Prefix>, Status Code: <n>, Request ID: <id>) (SDK Attempt Count: 1)".
//!
//! The table names, per service, the endpoint, the protocol (awsJson 1.0/1.1 with its target
//! prefix, or the query protocol with its API version), whether the wire names are camelCase,
//! which members hold timestamps and which hold maps whose keys are data. Without the models:
//! a timestamp member not listed stays epoch seconds; query-protocol answers keep every scalar
//! as text (SNS's answers are all strings); members the SDK would drop are kept.
//!
//! Never here: S3 and the other REST protocols (their resources fail with `States.Runtime`
//! naming the protocol, unless a more specific handler such as `aws-sdk:s3:` is registered).

use std::sync::Arc;

use bytes::Bytes;

use super::endpoints::OtherService;
use super::services::{UNMODELED, parse_json_error};
use super::{AwsClient, AwsRequest, AwsResponse, Service};
use crate::tasks::{TaskError, TaskFuture, TaskHandler, TaskRequest};
use crate::value::{self, Map, Str, Value};

/// How a service's operations travel.
#[derive(Clone, Copy, Debug)]
pub(super) enum Protocol {
    /// awsJson: `POST /` with `X-Amz-Target: <target>.<Operation>`.
    Json {
        /// `1.0` or `1.1` (the content type's version).
        version: &'static str,
        /// `DynamoDB_20120810`.
        target: &'static str,
    },
    /// The query protocol: a form-encoded `Action=<Operation>&Version=<version>&…`, XML answers.
    Query {
        /// `2010-03-31`.
        version: &'static str,
        /// Members that are maps, with the element names of their keys and values
        /// (`MessageAttributes.entry.N.Name` / `.Value`); other objects are structures.
        maps: &'static [(&'static str, &'static str, &'static str)],
        /// Answer elements that are lists: an empty one is `[]`, not `""`.
        lists: &'static [&'static str],
    },
}

/// One service `aws-sdk:*` knows.
#[derive(Debug)]
pub(super) struct SdkService {
    /// `secretsmanager` in `aws-sdk:secretsmanager:createSecret`.
    pub name: &'static str,
    /// The SDK v2 service name: error prefix and "Service:" in causes (`SecretsManager`).
    pub prefix: &'static str,
    /// Where it is called.
    pub service: Service,
    /// How.
    pub protocol: Protocol,
    /// Whether the wire names are camelCase (Step Functions, CloudWatch Logs, ECS): parameters
    /// go out with their first letter lowered and answers come back capitalised.
    pub camel: bool,
    /// Timestamp members (capitalised names): epoch seconds on the wire, ISO-8601 in the answer.
    pub timestamps: &'static [&'static str],
    /// Members (wire names) whose value is a map keyed by data (tags): its keys keep their case.
    pub opaque: &'static [&'static str],
    /// String members that take a JSON document (Step Functions' `Input`, SQS's `MessageBody`):
    /// a JSON value given there is sent as its text, as Step Functions serialises it.
    pub text: &'static [&'static str],
}

const fn json(version: &'static str, target: &'static str) -> Protocol {
    Protocol::Json { version, target }
}

const fn other(endpoint_prefix: &'static str, sdk_env: &'static str) -> Service {
    Service::Other(OtherService {
        endpoint_prefix,
        signing_name: endpoint_prefix,
        sdk_env,
    })
}

const fn svc(
    name: &'static str,
    prefix: &'static str,
    service: Service,
    protocol: Protocol,
    timestamps: &'static [&'static str],
) -> SdkService {
    SdkService {
        name,
        prefix,
        service,
        protocol,
        camel: false,
        timestamps,
        opaque: &[],
        text: &[],
    }
}

/// The services `aws-sdk:*` knows. Target prefixes and versions are the services' own (their
/// API references); prefixes are the SDK v2 client names Step Functions uses in error names.
pub(super) static SERVICES: &[SdkService] = &[
    svc(
        "dynamodb",
        "DynamoDb",
        Service::DynamoDb,
        json("1.0", "DynamoDB_20120810"),
        &[
            "CreationDateTime",
            "LastIncreaseDateTime",
            "LastDecreaseDateTime",
            "LastUpdateToPayPerRequestDateTime",
            "InaccessibleEncryptionDateTime",
            "BackupCreationDateTime",
            "BackupExpiryDateTime",
            "RestoreDateTime",
            "ArchivalDateTime",
            "EarliestRestorableDateTime",
            "LatestRestorableDateTime",
        ],
    ),
    SdkService {
        text: &["MessageBody"],
        ..svc("sqs", "Sqs", Service::Sqs, json("1.0", "AmazonSQS"), &[])
    },
    SdkService {
        text: &["Detail"],
        ..svc(
            "eventbridge",
            "EventBridge",
            Service::EventBridge,
            json("1.1", "AWSEvents"),
            &["CreationTime", "LastModifiedTime", "LastAuthorizedTime"],
        )
    },
    SdkService {
        camel: true,
        text: &["Input", "Output"],
        ..svc(
            "sfn",
            "Sfn",
            Service::StepFunctions,
            json("1.0", "AWSStepFunctions"),
            &[
                "CreationDate",
                "StartDate",
                "StopDate",
                "UpdateDate",
                "RedriveDate",
                "Timestamp",
            ],
        )
    },
    svc(
        "secretsmanager",
        "SecretsManager",
        other("secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        json("1.1", "secretsmanager"),
        &[
            "CreatedDate",
            "LastChangedDate",
            "LastAccessedDate",
            "LastRotatedDate",
            "NextRotationDate",
            "DeletedDate",
            "DeletionDate",
        ],
    ),
    svc(
        "kms",
        "Kms",
        other("kms", "AWS_ENDPOINT_URL_KMS"),
        json("1.1", "TrentService"),
        &["CreationDate", "DeletionDate", "ValidTo"],
    ),
    svc(
        "ssm",
        "Ssm",
        other("ssm", "AWS_ENDPOINT_URL_SSM"),
        json("1.1", "AmazonSSM"),
        &["LastModifiedDate", "CreatedDate"],
    ),
    SdkService {
        camel: true,
        opaque: &["tags"],
        ..svc(
            "cloudwatchlogs",
            "CloudWatchLogs",
            other("logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"),
            json("1.1", "Logs_20140328"),
            &[],
        )
    },
    svc(
        "kinesis",
        "Kinesis",
        other("kinesis", "AWS_ENDPOINT_URL_KINESIS"),
        json("1.1", "Kinesis_20131202"),
        &["StreamCreationTimestamp", "ApproximateArrivalTimestamp"],
    ),
    SdkService {
        text: &["Message"],
        ..svc(
            "sns",
            "Sns",
            Service::Sns,
            Protocol::Query {
                version: "2010-03-31",
                maps: &[
                    ("MessageAttributes", "Name", "Value"),
                    ("Attributes", "key", "value"),
                ],
                lists: &[
                    "Topics",
                    "Subscriptions",
                    "Tags",
                    "PlatformApplications",
                    "Endpoints",
                    "Successful",
                    "Failed",
                    "phoneNumbers",
                    "PhoneNumbers",
                ],
            },
            &[],
        )
    },
    svc(
        "rekognition",
        "Rekognition",
        other("rekognition", "AWS_ENDPOINT_URL_REKOGNITION"),
        json("1.1", "RekognitionService"),
        &["CreationTimestamp"],
    ),
    svc(
        "glue",
        "Glue",
        other("glue", "AWS_ENDPOINT_URL_GLUE"),
        json("1.1", "AWSGlue"),
        &[
            "CreationTime",
            "LastUpdated",
            "StartTime",
            "EndTime",
            "StartedOn",
            "CompletedOn",
            "LastModifiedOn",
            "CreateTime",
            "UpdateTime",
        ],
    ),
    svc(
        "athena",
        "Athena",
        other("athena", "AWS_ENDPOINT_URL_ATHENA"),
        json("1.1", "AmazonAthena"),
        &["SubmissionDateTime", "CompletionDateTime", "CreationTime"],
    ),
    svc(
        "firehose",
        "Firehose",
        other("firehose", "AWS_ENDPOINT_URL_FIREHOSE"),
        json("1.1", "Firehose_20150804"),
        &["CreateTimestamp", "LastUpdateTimestamp"],
    ),
    svc(
        "transcribe",
        "Transcribe",
        other("transcribe", "AWS_ENDPOINT_URL_TRANSCRIBE"),
        json("1.1", "Transcribe"),
        &[
            "CreationTime",
            "StartTime",
            "CompletionTime",
            "LastModifiedTime",
        ],
    ),
    svc(
        "textract",
        "Textract",
        other("textract", "AWS_ENDPOINT_URL_TEXTRACT"),
        json("1.1", "Textract"),
        &[],
    ),
    svc(
        "translate",
        "Translate",
        other("translate", "AWS_ENDPOINT_URL_TRANSLATE"),
        json("1.1", "AWSShineFrontendService_20170701"),
        &["CreatedAt", "LastUpdatedAt"],
    ),
    svc(
        "comprehend",
        "Comprehend",
        other("comprehend", "AWS_ENDPOINT_URL_COMPREHEND"),
        json("1.1", "Comprehend_20171127"),
        &["SubmitTime", "EndTime"],
    ),
];

/// Services Step Functions reaches through `aws-sdk:*` whose protocol is not served here, with
/// that protocol: their resources fail naming it. (`s3` is served by its own handler when one
/// is registered: a longer prefix wins.)
const UNSERVED: &[(&str, &str)] = &[
    ("s3", "rest-xml"),
    ("s3control", "rest-xml"),
    ("route53", "rest-xml"),
    ("cloudfront", "rest-xml"),
    ("lambda", "rest-json"),
    ("apigateway", "rest-json"),
    ("bedrock", "rest-json"),
    ("bedrockagent", "rest-json"),
    ("bedrockagentruntime", "rest-json"),
    ("bedrockruntime", "rest-json"),
    ("polly", "rest-json"),
    ("scheduler", "rest-json"),
    ("batch", "rest-json"),
    ("emrcontainers", "rest-json"),
    ("emrserverless", "rest-json"),
    ("mediaconvert", "rest-json"),
    ("ec2", "ec2"),
    (
        "cloudwatch",
        "awsQuery (only SNS's answers, all text, are read without a model)",
    ),
    (
        "cloudformation",
        "awsQuery (only SNS's answers, all text, are read without a model)",
    ),
    (
        "autoscaling",
        "awsQuery (only SNS's answers, all text, are read without a model)",
    ),
    (
        "rds",
        "awsQuery (only SNS's answers, all text, are read without a model)",
    ),
    (
        "iam",
        "awsQuery (only SNS's answers, all text, are read without a model)",
    ),
    (
        "sts",
        "awsQuery (only SNS's answers, all text, are read without a model)",
    ),
];

/// The table's services with endpoints of their own, for endpoint variables.
pub(super) fn other_services() -> impl Iterator<Item = Service> {
    SERVICES
        .iter()
        .map(|s| s.service)
        .filter(|s| matches!(s, Service::Other(_)))
}

/// The names `aws-sdk:*` serves, for messages and the README.
pub fn served_services() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).collect()
}

/// Serves every `aws-sdk:` resource through the shared client.
pub(super) struct SdkHandler {
    pub client: Arc<AwsClient>,
}

impl TaskHandler for SdkHandler {
    fn invoke(&self, req: TaskRequest) -> TaskFuture {
        let client = self.client.clone();
        Box::pin(async move { call(&client, &req.resource, &req.input).await })
    }
}

/// The service and the operation (`PutItem`) a resource names, or why it names none served.
pub(super) fn resolve(resource: &str) -> Result<(&'static SdkService, String), TaskError> {
    let rest = resource
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(':'))
        .and_then(|(_, r)| r.strip_prefix("states:::aws-sdk:"))
        .ok_or_else(|| {
            TaskError::runtime(format!(
                "The resource '{resource}' is not an aws-sdk resource."
            ))
        })?;
    let rest = rest.strip_suffix(".waitForTaskToken").unwrap_or(rest);
    let (name, action) = rest.split_once(':').unwrap_or((rest, ""));
    if let Some((_, protocol)) = UNSERVED.iter().find(|(n, _)| *n == name) {
        return Err(TaskError::runtime(format!(
            "The resource '{resource}' names the service '{name}', whose {protocol} protocol \
             aws-sdk does not serve here."
        )));
    }
    let Some(service) = SERVICES.iter().find(|s| s.name == name) else {
        return Err(TaskError::runtime(format!(
            "The resource '{resource}' names the service '{name}', which aws-sdk does not \
             serve here (it serves {}).",
            served_services().join(", ")
        )));
    };
    let mut chars = action.chars();
    match chars.next() {
        Some(first)
            if first.is_ascii_alphabetic() && action.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok((
                service,
                first.to_ascii_uppercase().to_string() + chars.as_str(),
            ))
        }
        _ => Err(TaskError::runtime(format!(
            "The resource '{resource}' does not name an action of '{name}': '{action}' is not an \
             API action name."
        ))),
    }
}

/// One `aws-sdk:*` call: the answer as the SDK shows it, or the error Step Functions names.
pub(super) async fn call(
    client: &AwsClient,
    resource: &str,
    input: &Value,
) -> Result<Value, TaskError> {
    let (service, operation) = resolve(resource)?;
    let params = match input {
        Value::Object(m) => (**m).clone(),
        Value::Null => Map::new(),
        other => {
            return Err(TaskError::runtime(format!(
                "The parameters of '{resource}' must be a JSON object, not {}.",
                other.type_name()
            )));
        }
    };
    let wire = outgoing(service, &Value::object(params), None);
    match service.protocol {
        Protocol::Json { version, target } => {
            let body = wire.to_json();
            let resp = client
                .call(AwsRequest {
                    service: service.service,
                    method: hyper::Method::POST,
                    path: "/".into(),
                    headers: vec![
                        ("content-type", format!("application/x-amz-json-{version}")),
                        ("x-amz-target", format!("{target}.{operation}")),
                    ],
                    body: Bytes::from(body),
                })
                .await
                .map_err(|e| client_error(service, &e.cause()))?;
            if resp.status >= 300 {
                let mut e = parse_json_error(&resp);
                if resp.body.trim_ascii_start().starts_with(b"<") {
                    // An HTML page from a proxy or an emulator's crash: its status says more.
                    e.message = reason(resp.status).to_string();
                }
                let id = resp.request_id();
                return Err(sdk_error(
                    service,
                    &operation,
                    resp.status,
                    &id,
                    &e.exception,
                    &e.message,
                ));
            }
            let body = json_body(service, &resp)?;
            Ok(incoming(service, &body, false))
        }
        Protocol::Query {
            version,
            maps,
            lists,
        } => {
            let params = wire.as_object().cloned().unwrap_or_default();
            let form = super::query::form(&operation, version, &params, maps);
            let resp = client
                .call(AwsRequest {
                    service: service.service,
                    method: hyper::Method::POST,
                    path: "/".into(),
                    headers: vec![(
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8".into(),
                    )],
                    body: Bytes::from(form),
                })
                .await
                .map_err(|e| client_error(service, &e.cause()))?;
            super::query::answer(service, &operation, lists, &resp)
        }
    }
}

/// No answer at all: `<Prefix>.SdkClientException`.
fn client_error(service: &SdkService, cause: &str) -> TaskError {
    TaskError::new(format!("{}.SdkClientException", service.prefix), cause)
}

/// A 2xx answer the SDK could not read.
pub(super) fn unmarshall_error(
    service: &SdkService,
    resp: &AwsResponse,
    detail: &str,
) -> TaskError {
    client_error(
        service,
        &format!(
            "Unable to unmarshall response ({detail}). Response Code: {}",
            resp.status
        ),
    )
}

/// The reason phrase of an HTTP status.
pub(super) fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// A service's error as the SDK v2 names it. An operation the service does not know is the
/// workflow's mistake, so it is `States.Runtime` naming the action: AWS answers
/// `UnknownOperationException` (`InvalidAction` on the query protocol); emulators such as moto
/// answer 404 with no error code at all, which no real operation of these `POST /` protocols
/// does.
pub(super) fn sdk_error(
    service: &SdkService,
    operation: &str,
    status: u16,
    request_id: &str,
    exception: &str,
    message: &str,
) -> TaskError {
    let no_code = exception.is_empty() || exception == "null";
    if matches!(
        exception,
        "UnknownOperationException" | "UnknownOperation" | "InvalidAction"
    ) || (no_code && status == 404)
    {
        let said = if no_code {
            format!("{status} {}", reason(status))
        } else {
            format!("{exception}: {message}")
        };
        return TaskError::runtime(format!(
            "The service '{}' has no action '{operation}' (it answered {said}).",
            service.name
        ));
    }
    let name = if no_code || UNMODELED.contains(&exception) {
        format!("{}Exception", service.prefix)
    } else if exception.ends_with("Exception") {
        exception.to_string()
    } else {
        format!("{exception}Exception")
    };
    let request_id = if request_id.is_empty() {
        "null"
    } else {
        request_id
    };
    TaskError::new(
        format!("{}.{name}", service.prefix),
        format!(
            "{message} (Service: {}, Status Code: {status}, Request ID: {request_id}) \
             (SDK Attempt Count: 1)",
            service.prefix
        ),
    )
}

/// A 2xx awsJson answer's object (empty body = `{}`).
fn json_body(service: &SdkService, resp: &AwsResponse) -> Result<Value, TaskError> {
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::empty_object());
    }
    match value::parse_slice(&resp.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(unmarshall_error(
            service,
            resp,
            &format!("expected a JSON object, got {}", other.type_name()),
        )),
        Err(e) => Err(unmarshall_error(service, resp, &e.to_string())),
    }
}

/// The parameters as the wire takes them: null members left out (the SDK sends no member for
/// null), names lower-cased at the first letter for camelCase services, data keys kept.
pub(super) fn outgoing(service: &SdkService, v: &Value, member: Option<&str>) -> Value {
    match v {
        Value::Object(m) => {
            let keep_keys = member.is_some_and(|k| service.opaque.contains(&k));
            let out: Map = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    if !keep_keys && service.text.contains(&&**k) && !matches!(v, Value::String(_))
                    {
                        let wire = if service.camel {
                            lower_first(k)
                        } else {
                            k.clone()
                        };
                        return (wire, Value::str(&v.to_json()));
                    }
                    let wire = if service.camel && !keep_keys {
                        lower_first(k)
                    } else {
                        k.clone()
                    };
                    let inner = if keep_keys {
                        v.clone()
                    } else {
                        outgoing(service, v, Some(&wire))
                    };
                    (wire, inner)
                })
                .collect();
            Value::object(out)
        }
        Value::Array(items) => Value::array(
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| outgoing(service, v, member))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An answer as the SDK shows it: names capitalised for camelCase services, listed timestamps
/// as ISO-8601 instants, null members left out (an absent member), data keys kept. `keep_keys`
/// is set inside a data map.
pub(super) fn incoming(service: &SdkService, v: &Value, keep_keys: bool) -> Value {
    match v {
        Value::Object(m) => {
            let out: Map = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let name = if service.camel && !keep_keys {
                        upper_first(k)
                    } else {
                        k.clone()
                    };
                    let inner = match v {
                        Value::Number(n) if !keep_keys && service.timestamps.contains(&&*name) => {
                            instant(n.as_f64()).map_or_else(|| v.clone(), |t| Value::str(&t))
                        }
                        _ => incoming(service, v, service.opaque.contains(&&**k)),
                    };
                    (name, inner)
                })
                .collect();
            Value::object(out)
        }
        Value::Array(items) => Value::array(
            items
                .iter()
                .map(|v| incoming(service, v, keep_keys))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn lower_first(s: &str) -> Str {
    let mut c = s.chars();
    match c.next() {
        Some(f) if f.is_ascii_uppercase() => {
            Str::from(f.to_ascii_lowercase().to_string() + c.as_str())
        }
        _ => Str::from(s),
    }
}

pub(super) fn upper_first(s: &str) -> Str {
    let mut c = s.chars();
    match c.next() {
        Some(f) if f.is_ascii_lowercase() => {
            Str::from(f.to_ascii_uppercase().to_string() + c.as_str())
        }
        _ => Str::from(s),
    }
}

/// Epoch seconds as Java's `Instant.toString()` writes them: UTC, milliseconds only when there
/// are some (`2024-05-19T15:39:37.455Z`, `2024-05-19T15:39:37Z`).
pub(super) fn instant(secs: f64) -> Option<String> {
    if !secs.is_finite() {
        return None;
    }
    let millis = (secs * 1000.0).round() as i64;
    let t = chrono::DateTime::from_timestamp_millis(millis)?;
    let format = if millis.rem_euclid(1000) == 0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    };
    Some(t.format(format).to_string())
}

#[cfg(test)]
#[path = "sdk_tests.rs"]
mod tests;
