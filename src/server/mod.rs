//! The AWS Step Functions API over HTTP (hyper 1), so that real AWS clients work unchanged.
//!
//! In: HTTP/1.1 requests on a bound `TcpListener`. Out: AWS JSON 1.0 answers (`POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Op>`), plus `POST /execute/{name}` for callers that do not
//! speak the AWS protocol, `GET /health` and `GET /metrics`. Executions run on the engine behind
//! the `Backend` trait; nothing here interprets ASL. Any `Host` is accepted (SDKs prefix
//! StartSyncExecution's host with `sync-`). No request panics the server, none hangs it, and an
//! unknown operation gets `UnknownOperationException`, never a 500.

pub mod backend;
#[cfg(feature = "cli")]
mod cli;
mod console;
pub mod definitions;
mod executions;
mod logs;
mod metrics;
mod ops;
pub mod protocol;
pub mod registry;
mod sigv4;
mod testing;
mod versions;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

pub use backend::{Backend, EngineBackend, ExecMeta, ExecResult, ExecStatus, Program, StandIn};
#[cfg(feature = "cli")]
pub use cli::{ServeArgs, serve_main};
pub use logs::ExecLog;
pub use sigv4::Credentials;

use protocol::{ApiError, CONTENT_TYPE as AMZ_JSON, Req, TARGET_PREFIX};
use registry::{Arns, Registry};

/// Server settings; `Config::default()` is what `expressway serve` uses without flags.
#[derive(Clone, Debug)]
pub struct Config {
    pub region: String,
    pub account: String,
    /// Largest request body accepted; larger ones are refused before being buffered whole.
    pub max_body: usize,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace: Duration,
    /// How many StartExecution executions of STANDARD machines are kept for Describe/List.
    pub executions_kept: usize,
    /// How many recent executions the console at `/ui` lists (0: none).
    pub ui_executions: usize,
    /// Record every execution's states for the console (costs what logging at `ALL` does),
    /// not only those started from the console or logged by their machine.
    pub ui_trace: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            max_body: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            executions_kept: 10_000,
            ui_executions: 100,
            ui_trace: false,
        }
    }
}

/// Everything a request handler needs: the engine, the registry, metrics, logs, credentials.
pub struct Server {
    backend: Arc<dyn Backend>,
    registry: Registry,
    metrics: metrics::Metrics,
    logs: ExecLog,
    console: console::Console,
    config: Config,
    credentials: Option<Credentials>,
}

impl Server {
    /// A server over `backend`, logging executions to stderr, with no signature checks.
    pub fn new(backend: Arc<dyn Backend>, config: Config) -> Server {
        let arns = Arns {
            region: config.region.clone(),
            account: config.account.clone(),
        };
        Server {
            backend,
            registry: Registry::new(arns, config.executions_kept),
            metrics: metrics::Metrics::default(),
            logs: ExecLog::stderr(),
            console: console::Console::new(config.ui_executions, config.ui_trace),
            config,
            credentials: None,
        }
    }

    /// Sends execution logs to `log` instead of stderr.
    pub fn with_log(mut self, log: ExecLog) -> Server {
        self.logs = log;
        self
    }

    /// Requires SigV4 signatures made with one of `credentials`.
    pub fn with_credentials(mut self, credentials: Credentials) -> Server {
        self.credentials = Some(credentials);
        self
    }

    /// Creates an EXPRESS state machine named `name` (start-up loading of `--definitions`).
    pub fn load_definition(&self, name: &str, definition: &str) -> Result<String, ApiError> {
        let role = format!("arn:aws:iam::{}:role/expressway", self.config.account);
        let body =
            json!({"name": name, "definition": definition, "roleArn": role, "type": "EXPRESS"});
        let Value::Object(body) = body else {
            unreachable!("json! of an object literal is an object")
        };
        let out = ops::create_state_machine(self, &Req::new(&body))?;
        Ok(out["stateMachineArn"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The Prometheus text of `GET /metrics`.
    pub fn metrics_text(&self) -> String {
        self.metrics.render()
    }
}

/// Serves connections from `listener` until `shutdown` completes, then lets in-flight requests
/// finish for up to `Config::shutdown_grace`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<Server>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of descriptors or a reset before accept: back off, keep serving.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let io = hyper_util::rt::TokioIo::new(stream);
                let st = state.clone();
                let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(io, svc);
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(state.config.shutdown_grace) => {}
    }
    Ok(())
}

type Body = Full<Bytes>;

fn response(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        h.insert("x-amzn-requestid", id);
    }
    resp
}

fn api_error(e: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    response(status, AMZ_JSON, e.body())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::coral(
        413,
        "RequestEntityTooLargeException",
        Some(format!("Request body must be at most {limit} bytes")),
    )
}

/// Reads a body up to `limit` bytes; a declared or streamed excess is refused early.
async fn read_body(
    req: Request<Incoming>,
    limit: usize,
) -> Result<(hyper::http::request::Parts, Bytes), ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let (parts, body) = req.into_parts();
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok((parts, c.to_bytes())),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(_) => Err(protocol::serialization("Could not read request body")),
    }
}

async fn handle(server: Arc<Server>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let resp = match (&method, path.as_str()) {
        (&Method::GET, "/health" | "/ping") => response(
            StatusCode::OK,
            "application/json",
            r#"{"status":"ok"}"#.into(),
        ),
        (&Method::GET, "/metrics") => response(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            server.metrics.render(),
        ),
        (_, p) if p == "/ui" || p.starts_with("/ui/") => console::route(&server, req).await,
        (&Method::POST, p) if p.starts_with("/execute/") => {
            let name = p.trim_start_matches("/execute/").to_string();
            gateway(&server, req, &name).await
        }
        (&Method::POST, _) => aws(&server, req).await,
        _ => response(
            StatusCode::NOT_FOUND,
            "application/json",
            json!({"message": format!("No route for {method} {path}")}).to_string(),
        ),
    };
    Ok(resp)
}

/// The AWS JSON 1.0 endpoint.
async fn aws(server: &Arc<Server>, req: Request<Incoming>) -> Response<Body> {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (parts, bytes) = match read_body(req, server.config.max_body).await {
        Ok(x) => x,
        Err(e) => return api_error(&e),
    };
    if let Some(creds) = &server.credentials
        && let Err(e) = creds.verify(&parts, &bytes, std::time::SystemTime::now())
    {
        return api_error(&e);
    }
    let op = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    let result = match protocol::parse_body(&bytes) {
        Ok(body) => dispatch(server, op, &Req::new(&body)).await,
        Err(e) => Err(e),
    };
    server.metrics.request(op, result.is_ok());
    match result {
        Ok(v) => response(StatusCode::OK, AMZ_JSON, v.to_string()),
        Err(e) => api_error(&e),
    }
}

/// The operations served; any other target answers `UnknownOperationException`.
pub const OPERATIONS: &[&str] = &[
    "CreateStateMachine",
    "DescribeStateMachine",
    "UpdateStateMachine",
    "DeleteStateMachine",
    "ListStateMachines",
    "ValidateStateMachineDefinition",
    "StartSyncExecution",
    "StartExecution",
    "DescribeExecution",
    "StopExecution",
    "GetExecutionHistory",
    "ListExecutions",
    "DescribeStateMachineForExecution",
    "TestState",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "PublishStateMachineVersion",
    "ListStateMachineVersions",
    "DeleteStateMachineVersion",
    "CreateStateMachineAlias",
    "DescribeStateMachineAlias",
    "UpdateStateMachineAlias",
    "DeleteStateMachineAlias",
    "ListStateMachineAliases",
];

async fn dispatch(server: &Arc<Server>, op: &str, r: &Req<'_>) -> ops::OpResult {
    let s: &Server = server;
    match op {
        "CreateStateMachine" => ops::create_state_machine(s, r),
        "DescribeStateMachine" => ops::describe_state_machine(s, r),
        "UpdateStateMachine" => ops::update_state_machine(s, r),
        "DeleteStateMachine" => ops::delete_state_machine(s, r),
        "ListStateMachines" => ops::list_state_machines(s, r),
        "ValidateStateMachineDefinition" => ops::validate_definition(s, r),
        "StartSyncExecution" => executions::start_sync(server, r).await,
        "StartExecution" => executions::start(server, r),
        "DescribeExecution" => executions::describe(s, r),
        "StopExecution" => executions::stop(s, r),
        "GetExecutionHistory" => executions::history(s, r),
        "ListExecutions" => executions::list(s, r),
        "DescribeStateMachineForExecution" => executions::describe_machine_for(s, r),
        "TestState" => testing::test_state(s, r).await,
        "TagResource" => ops::tag_resource(s, r),
        "UntagResource" => ops::untag_resource(s, r),
        "ListTagsForResource" => ops::list_tags(s, r),
        "PublishStateMachineVersion" => versions::publish_version(s, r),
        "ListStateMachineVersions" => versions::list_versions(s, r),
        "DeleteStateMachineVersion" => versions::delete_version(s, r),
        "CreateStateMachineAlias" => versions::create_alias(s, r),
        "DescribeStateMachineAlias" => versions::describe_alias(s, r),
        "UpdateStateMachineAlias" => versions::update_alias(s, r),
        "DeleteStateMachineAlias" => versions::delete_alias(s, r),
        "ListStateMachineAliases" => versions::list_aliases(s, r),
        _ => Err(protocol::unknown_operation()),
    }
}

/// `POST /execute/{name}`: the body is the input, the answer's body the output.
///
/// Mapping: SUCCEEDED → 200 with the output; FAILED → 500 and TIMED_OUT → 504, each with
/// `{"error","cause"}`; an unknown machine → 404, bad input → 400, a STANDARD machine → 400,
/// each with `{"error","message"}` where `error` is the AWS error name. Every answer carries the
/// execution's ARN in `x-amzn-execution-arn` once one has started.
async fn gateway(server: &Arc<Server>, req: Request<Incoming>, name: &str) -> Response<Body> {
    let (_, bytes) = match read_body(req, server.config.max_body).await {
        Ok(x) => x,
        Err(e) => return gateway_error(&e),
    };
    let Ok(input) = std::str::from_utf8(&bytes) else {
        return gateway_error(&ApiError::sfn(
            "InvalidExecutionInput",
            "Input is not UTF-8",
        ));
    };
    let input = if input.trim().is_empty() { "{}" } else { input };
    let arn = server.registry.arns.machine(name);
    let body = json!({"stateMachineArn": arn, "input": input});
    let Value::Object(body) = body else {
        unreachable!("json! of an object literal is an object")
    };
    let result = executions::start_sync(server, &Req::new(&body)).await;
    server.metrics.request("execute", result.is_ok());
    let out = match result {
        Ok(v) => v,
        Err(e) => return gateway_error(&e),
    };
    let (status, text) = match out["status"].as_str() {
        Some("SUCCEEDED") => (
            StatusCode::OK,
            out["output"].as_str().unwrap_or("null").to_string(),
        ),
        other => (
            if other == Some("TIMED_OUT") {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            },
            json!({"error": out.get("error"), "cause": out.get("cause")}).to_string(),
        ),
    };
    let mut resp = response(status, "application/json", text);
    if let Some(a) = out["executionArn"]
        .as_str()
        .and_then(|a| HeaderValue::from_str(a).ok())
    {
        resp.headers_mut().insert("x-amzn-execution-arn", a);
    }
    resp
}

fn gateway_error(e: &ApiError) -> Response<Body> {
    let status = match e.kind {
        "StateMachineDoesNotExist" | "InvalidArn" => StatusCode::NOT_FOUND,
        "RequestEntityTooLargeException" => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = json!({"error": e.kind, "message": e.message});
    response(status, "application/json", body.to_string())
}
