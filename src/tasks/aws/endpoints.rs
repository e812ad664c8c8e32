//! Which URL each service is called at, the region requests are signed for, and the timeouts.
//!
//! Precedence for a service's endpoint, first found wins:
//! 1. the service's own flag (`--lambda-endpoint`, `--sns-endpoint`, ...);
//! 2. `--endpoint-url` (every service);
//! 3. Step Functions Local's variable for the service (`LAMBDA_ENDPOINT`, `SNS_ENDPOINT`, ...);
//! 4. the AWS SDK's `AWS_ENDPOINT_URL_<SERVICE>` (`AWS_ENDPOINT_URL_DYNAMODB`, ...);
//! 5. the AWS SDK's `AWS_ENDPOINT_URL`;
//! 6. AWS's regional endpoint, `https://<prefix>.<region>.amazonaws.com`.
//!
//! The region: `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.

use std::time::Duration;

/// The services the request layer calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// AWS Lambda (restJson).
    Lambda,
    /// Amazon SNS (query protocol, XML answers).
    Sns,
    /// Amazon SQS (awsJson 1.0).
    Sqs,
    /// Amazon DynamoDB (awsJson 1.0).
    DynamoDb,
    /// Amazon EventBridge (awsJson 1.1).
    EventBridge,
    /// AWS Step Functions (awsJson 1.0).
    StepFunctions,
    /// Amazon S3 (REST-XML; path-style at an explicit endpoint, virtual-hosted at AWS).
    S3,
    /// A service only `aws-sdk:*` calls (Secrets Manager, KMS, ...): named by the service table.
    Other(OtherService),
}

/// Where a service only `aws-sdk:*` calls lives: its endpoint's host prefix, its SigV4 name and
/// the AWS SDK's endpoint variable for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OtherService {
    /// `logs` in `https://logs.us-east-1.amazonaws.com`.
    pub endpoint_prefix: &'static str,
    /// SigV4's service name (`logs`).
    pub signing_name: &'static str,
    /// `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`.
    pub sdk_env: &'static str,
}

impl Service {
    /// Every service, for listing flags and variables.
    pub const ALL: [Service; 7] = [
        Service::Lambda,
        Service::Sns,
        Service::Sqs,
        Service::DynamoDb,
        Service::EventBridge,
        Service::StepFunctions,
        Service::S3,
    ];

    /// SigV4's service name.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Other(o) => o.signing_name,
            _ => self.endpoint_prefix(),
        }
    }

    /// The regional endpoint's host prefix.
    pub fn endpoint_prefix(self) -> &'static str {
        match self {
            Service::Other(o) => o.endpoint_prefix,
            Service::Lambda => "lambda",
            Service::Sns => "sns",
            Service::Sqs => "sqs",
            Service::DynamoDb => "dynamodb",
            Service::EventBridge => "events",
            Service::StepFunctions => "states",
            Service::S3 => "s3",
        }
    }

    /// The suffix of the SDK's `AWS_ENDPOINT_URL_<SERVICE>` (the service id, upper snake case).
    pub fn sdk_env(self) -> &'static str {
        match self {
            Service::Lambda => "AWS_ENDPOINT_URL_LAMBDA",
            Service::Sns => "AWS_ENDPOINT_URL_SNS",
            Service::Sqs => "AWS_ENDPOINT_URL_SQS",
            Service::DynamoDb => "AWS_ENDPOINT_URL_DYNAMODB",
            Service::EventBridge => "AWS_ENDPOINT_URL_EVENTBRIDGE",
            Service::StepFunctions => "AWS_ENDPOINT_URL_SFN",
            Service::S3 => "AWS_ENDPOINT_URL_S3",
            Service::Other(o) => o.sdk_env,
        }
    }

    /// Step Functions Local's variable for the service, when it has one.
    pub fn local_env(self) -> Option<&'static str> {
        Some(match self {
            Service::Lambda => "LAMBDA_ENDPOINT",
            Service::Sns => "SNS_ENDPOINT",
            Service::Sqs => "SQS_ENDPOINT",
            Service::DynamoDb => "DYNAMODB_ENDPOINT",
            Service::EventBridge => "EVENTBRIDGE_ENDPOINT",
            Service::StepFunctions => "STEP_FUNCTIONS_ENDPOINT",
            Service::S3 => "S3_ENDPOINT",
            Service::Other(_) => return None,
        })
    }
}

/// Endpoints, region and timeouts of the request layer.
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// The region requests are signed for and regional endpoints are built from.
    pub region: String,
    /// One URL for every service (`--endpoint-url` / `AWS_ENDPOINT_URL`).
    pub endpoint_url: Option<String>,
    /// Per-service URLs, which win over `endpoint_url`.
    pub endpoints: Vec<(Service, String)>,
    /// The whole call, connection to last byte. The state's `TimeoutSeconds` still bounds it.
    pub call_timeout: Duration,
    /// Reading the body once the status line and headers have come: a service that trickles its
    /// answer fails after this long instead of holding the task.
    pub read_timeout: Duration,
    /// Opening a TCP connection.
    pub connect_timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> AwsSettings {
        AwsSettings {
            region: "us-east-1".into(),
            endpoint_url: None,
            endpoints: Vec::new(),
            call_timeout: Duration::from_secs(300),
            read_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl AwsSettings {
    /// Settings from the process environment (levels 3 to 6 of the module's precedence).
    pub fn from_env() -> AwsSettings {
        AwsSettings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Settings from any variable lookup: `lookup("AWS_ENDPOINT_URL")`, ... Empty values count as
    /// unset, as the SDKs treat them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> AwsSettings {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let mut s = AwsSettings::default();
        if let Some(r) = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")) {
            s.region = r;
        }
        s.endpoint_url = get("AWS_ENDPOINT_URL");
        let others = super::sdk::other_services();
        for service in Service::ALL.into_iter().chain(others) {
            let local = service.local_env().and_then(get);
            if let Some(url) = local.or_else(|| get(service.sdk_env())) {
                s.endpoints.push((service, url));
            }
        }
        s
    }

    /// Sets one service's endpoint (a flag: wins over everything set before).
    pub fn set_endpoint(&mut self, service: Service, url: &str) {
        self.endpoints.retain(|(s, _)| *s != service);
        self.endpoints.push((service, url.to_string()));
    }

    /// Sets the endpoint of every service (`--endpoint-url`: wins over the variables).
    pub fn set_endpoint_url(&mut self, url: &str) {
        self.endpoints.clear();
        self.endpoint_url = Some(url.to_string());
    }

    /// Whether `service` is called at a URL given by a flag or variable (an emulator, a proxy)
    /// rather than AWS's regional endpoint: S3 then addresses buckets path-style.
    pub fn is_explicit(&self, service: Service) -> bool {
        self.endpoint_url.is_some() || self.endpoints.iter().any(|(s, _)| *s == service)
    }

    /// The URL `service` is called at, without a trailing slash.
    pub fn endpoint(&self, service: Service) -> String {
        let explicit = self
            .endpoints
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, u)| u.as_str())
            .or(self.endpoint_url.as_deref());
        match explicit {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => {
                let suffix = if self.region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!(
                    "https://{}.{}.{suffix}",
                    service.endpoint_prefix(),
                    self.region
                )
            }
        }
    }

    /// Checks every explicit endpoint is an `http://` or `https://` URL with a host.
    pub fn check(&self) -> Result<(), String> {
        let all = self
            .endpoints
            .iter()
            .map(|(_, u)| u.as_str())
            .chain(self.endpoint_url.as_deref());
        for url in all {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url
                    .parse::<hyper::Uri>()
                    .is_ok_and(|u| u.host().is_some_and(|h| !h.is_empty()));
            if !ok {
                return Err(format!(
                    "endpoint '{url}' must be an http:// or https:// URL with a host"
                ));
            }
        }
        Ok(())
    }
}
