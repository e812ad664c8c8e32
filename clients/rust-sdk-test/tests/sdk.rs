//! aws-sdk-sfn against expressway's server, started in-process on 127.0.0.1:0.
//!
//! The Rust SDK has no setting to turn off host prefixes, so `StripHostPrefix` (an interceptor,
//! see docs/clients.md) undoes the `sync-` prefix StartSyncExecution and TestState get.

use std::sync::Arc;

use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sfn::error::BoxError;
use aws_sdk_sfn::types::StateMachineType;
use expressway::engine::{Engine, Settings};
use expressway::server::{Config, ExecLog, Server, serve};

const ROLE: &str = "arn:aws:iam::123456789012:role/r";
const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":1},"ResultPath":"$.r","End":true}}}"#;

/// Removes the `sync-` host prefix so requests reach a local endpoint.
#[derive(Debug)]
struct StripHostPrefix;

impl Intercept for StripHostPrefix {
    fn name(&self) -> &'static str {
        "StripHostPrefix"
    }

    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let req = ctx.request_mut();
        if let Some(rest) = req.uri().strip_prefix("http://sync-") {
            let uri = format!("http://{rest}");
            req.set_uri(uri)?;
        }
        Ok(())
    }
}

struct Running {
    client: aws_sdk_sfn::Client,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Running {
    let server = Server::new(Engine::new(Settings::default()), Config::default())
        .with_log(ExecLog::new(Box::new(std::io::sink())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, Arc::new(server), async {
        let _ = rx.await;
    }));
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .interceptor(StripHostPrefix)
        .build();
    Running {
        client: aws_sdk_sfn::Client::from_conf(config),
        stop,
    }
}

#[tokio::test]
async fn create_run_describe_list_delete() {
    let r = start().await;
    let c = &r.client;
    let created = c
        .create_state_machine()
        .name("rs-life")
        .definition(PASS)
        .role_arn(ROLE)
        .r#type(StateMachineType::Express)
        .send()
        .await
        .unwrap();
    let arn = created.state_machine_arn().to_string();
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:rs-life"
    );
    let out = c
        .start_sync_execution()
        .state_machine_arn(&arn)
        .input(r#"{"a":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_str(), "SUCCEEDED");
    assert_eq!(out.output(), Some(r#"{"a":1,"r":{"ok":1}}"#));
    assert_eq!(
        out.billing_details().map(|b| b.billed_memory_used_in_mb()),
        Some(64)
    );
    let started = c
        .start_execution()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(started.execution_arn().contains(":express:rs-life:"));
    let d = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!((d.name(), d.definition()), ("rs-life", PASS));
    let list = c.list_state_machines().send().await.unwrap();
    assert!(list.state_machines().iter().any(|m| m.name() == "rs-life"));
    let v = c
        .validate_state_machine_definition()
        .definition(PASS)
        .send()
        .await
        .unwrap();
    assert_eq!(v.result().as_str(), "OK");
    let t = c
        .test_state()
        .definition(r#"{"Type":"Pass","Result":3,"Next":"N"}"#)
        .input("{}")
        .send()
        .await
        .unwrap();
    assert_eq!((t.output(), t.next_state()), (Some("3"), Some("N")));
    c.delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let err = c
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_state_machine_does_not_exist());
    let _ = r.stop.send(());
}

#[tokio::test]
async fn errors_are_typed() {
    let r = start().await;
    let c = &r.client;
    let err = c
        .create_state_machine()
        .name("a b")
        .definition(PASS)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_name());
    let err = c
        .create_state_machine()
        .name("x")
        .definition("{")
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_definition());
    let err = c
        .describe_state_machine()
        .state_machine_arn("nope")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_arn());
    let _ = r.stop.send(());
}
