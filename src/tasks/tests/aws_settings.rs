//! Endpoint precedence and the credential cache of the AWS request layer.
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use crate::tasks::aws::{AwsSettings, CredentialSource, Service};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

fn settings(vars: &[(&str, &str)]) -> AwsSettings {
    AwsSettings::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.to_string())
    })
}

#[test]
fn endpoints_follow_the_documented_precedence() {
    // Nothing set: AWS's regional endpoints, in the region of AWS_REGION over AWS_DEFAULT_REGION.
    let s = settings(&[]);
    assert_eq!(
        s.endpoint(Service::Sns),
        "https://sns.us-east-1.amazonaws.com"
    );
    let s = settings(&[("AWS_DEFAULT_REGION", "eu-west-1")]);
    assert_eq!(
        s.endpoint(Service::DynamoDb),
        "https://dynamodb.eu-west-1.amazonaws.com"
    );
    let s = settings(&[
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_REGION", "ap-south-1"),
    ]);
    assert_eq!(s.region, "ap-south-1");
    assert_eq!(
        s.endpoint(Service::EventBridge),
        "https://events.ap-south-1.amazonaws.com"
    );
    let s = settings(&[("AWS_REGION", "cn-north-1")]);
    assert_eq!(
        s.endpoint(Service::StepFunctions),
        "https://states.cn-north-1.amazonaws.com.cn"
    );

    // Service variables beat the global one; Step Functions Local's beat the SDK's.
    let s = settings(&[
        ("AWS_ENDPOINT_URL", "http://global:1/"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://sdk-ddb:2"),
        ("DYNAMODB_ENDPOINT", "http://local-ddb:3"),
        ("AWS_ENDPOINT_URL_SQS", "http://sdk-sqs:4"),
        ("LAMBDA_ENDPOINT", ""),
    ]);
    assert_eq!(s.endpoint(Service::DynamoDb), "http://local-ddb:3");
    assert_eq!(s.endpoint(Service::Sqs), "http://sdk-sqs:4");
    assert_eq!(
        s.endpoint(Service::Lambda),
        "http://global:1",
        "empty counts as unset"
    );
    assert_eq!(s.endpoint(Service::Sns), "http://global:1");

    // Flags: --endpoint-url beats every variable, a service's flag beats --endpoint-url.
    let mut s = s;
    s.set_endpoint_url("http://flag:5");
    assert_eq!(s.endpoint(Service::DynamoDb), "http://flag:5");
    s.set_endpoint(Service::Sns, "http://sns-flag:6");
    assert_eq!(s.endpoint(Service::Sns), "http://sns-flag:6");
    assert_eq!(s.endpoint(Service::Sqs), "http://flag:5");
    assert!(s.check().is_ok());
    s.set_endpoint(Service::Lambda, "localhost:3001");
    assert!(s.check().is_err(), "a URL needs its scheme");
}

#[tokio::test]
async fn credentials_are_cached_and_refreshed_before_they_expire() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let lasting = CredentialSource::provider(SharedCredentialsProvider::new(
        aws_credential_types::credential_fn::provide_credentials_fn(|| async {
            CALLS.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + Duration::from_secs(3600);
            Ok(Credentials::new("AK", "SK", None, Some(expiry), "test"))
        }),
    ));
    for _ in 0..3 {
        assert_eq!(lasting.get().await.unwrap().access_key_id(), "AK");
    }
    assert_eq!(
        CALLS.load(Ordering::SeqCst),
        1,
        "fresh keys are asked for once"
    );

    static SHORT: AtomicU32 = AtomicU32::new(0);
    let expiring = CredentialSource::provider(SharedCredentialsProvider::new(
        aws_credential_types::credential_fn::provide_credentials_fn(|| async {
            SHORT.fetch_add(1, Ordering::SeqCst);
            // Inside the five-minute margin: never served from the cache.
            let expiry = SystemTime::now() + Duration::from_secs(120);
            Ok(Credentials::new("AK2", "SK2", None, Some(expiry), "test"))
        }),
    ));
    for _ in 0..3 {
        expiring.get().await.unwrap();
    }
    assert_eq!(SHORT.load(Ordering::SeqCst), 3);

    let failing = CredentialSource::provider(SharedCredentialsProvider::new(
        aws_credential_types::credential_fn::provide_credentials_fn(|| async {
            Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no keys anywhere",
                ),
            )
        }),
    ));
    let err = failing.get().await.unwrap_err();
    assert!(err.starts_with("Unable to load AWS credentials"), "{err}");
}
