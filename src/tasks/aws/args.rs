//! The flags `expressway run` and `expressway serve` share for calling real services.

use std::time::Duration;

use super::{AwsSettings, Service};

/// Where Task states reach AWS services, and how long a call may take. Flags win over the
/// environment (see [`AwsSettings`] for the whole precedence).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServiceArgs {
    /// Call every AWS service at this URL (like `AWS_ENDPOINT_URL`).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    /// Lambda's endpoint (like `LAMBDA_ENDPOINT`).
    #[arg(long)]
    pub lambda_endpoint: Option<String>,
    /// SNS's endpoint (like `SNS_ENDPOINT`).
    #[arg(long)]
    pub sns_endpoint: Option<String>,
    /// SQS's endpoint (like `SQS_ENDPOINT`).
    #[arg(long)]
    pub sqs_endpoint: Option<String>,
    /// DynamoDB's endpoint (like `DYNAMODB_ENDPOINT`).
    #[arg(long)]
    pub dynamodb_endpoint: Option<String>,
    /// EventBridge's endpoint (like `EVENTBRIDGE_ENDPOINT`).
    #[arg(long)]
    pub eventbridge_endpoint: Option<String>,
    /// Step Functions' endpoint for `states:startExecution` (like `STEP_FUNCTIONS_ENDPOINT`).
    #[arg(long)]
    pub step_functions_endpoint: Option<String>,
    /// S3's endpoint for `aws-sdk:s3:*` and Distributed Map's ItemReader/ResultWriter (like
    /// `S3_ENDPOINT`; buckets are addressed path-style there).
    #[arg(long)]
    pub s3_endpoint: Option<String>,
    /// Seconds one service call may take in all (the state's TimeoutSeconds still applies).
    #[arg(long, default_value_t = 300)]
    pub call_timeout: u64,
    /// Seconds to read a response body once its headers came (stops a trickling service).
    #[arg(long, default_value_t = 10)]
    pub read_timeout: u64,
    /// Multiply every Wait state and Retry backoff by this (as Step Functions Local's
    /// `WAIT_TIME_SCALE`): 0 skips waiting, 0.01 makes an hour 36 s.
    #[arg(long, env = "WAIT_TIME_SCALE", default_value_t = 1.0, value_parser = wait_scale)]
    pub wait_time_scale: f64,
}

/// A scale for waits: a finite number from 0 up.
fn wait_scale(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number from 0 up")),
    }
}

impl ServiceArgs {
    /// The environment's settings with these flags applied, signed for `region`.
    pub fn settings(&self, region: &str) -> Result<AwsSettings, String> {
        let mut s = AwsSettings::from_env();
        s.region = region.to_string();
        if let Some(url) = &self.endpoint_url {
            s.set_endpoint_url(url);
        }
        let flags = [
            (Service::Lambda, &self.lambda_endpoint),
            (Service::Sns, &self.sns_endpoint),
            (Service::Sqs, &self.sqs_endpoint),
            (Service::DynamoDb, &self.dynamodb_endpoint),
            (Service::EventBridge, &self.eventbridge_endpoint),
            (Service::StepFunctions, &self.step_functions_endpoint),
            (Service::S3, &self.s3_endpoint),
        ];
        for (service, url) in flags {
            if let Some(url) = url {
                s.set_endpoint(service, url);
            }
        }
        s.call_timeout = Duration::from_secs(self.call_timeout.max(1));
        s.read_timeout = Duration::from_secs(self.read_timeout.max(1));
        s.check()?;
        Ok(s)
    }
}
