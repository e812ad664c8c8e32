//! The AWS Step Functions API over HTTP (hyper 1), so that real AWS clients work unchanged.
//!
//! In: HTTP/1.1 requests on a bound `TcpListener`. Out: AWS JSON 1.0 answers (`POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Op>`), plus `POST /execute/{name}` for callers that do not
//! speak the AWS protocol, `GET /health` and `GET /metrics`. Executions run on the
//! [`Engine`](crate::engine::Engine) the server holds; nothing here interprets ASL. Any `Host` is accepted (SDKs prefix
//! StartSyncExecution's host with `sync-`). No request panics the server (a handler's panic
//! answers that request 500 `InternalFailure`), none holds a connection past its timeouts
//! (`conn`), and an unknown operation gets `UnknownOperationException`.

mod callbacks;
#[cfg(feature = "cli")]
mod cli;
mod conn;
mod console;
pub mod definitions;
mod executions;
mod ids;
mod logs;
mod metrics;
mod ops;
pub mod protocol;
pub(crate) mod registry;
mod sigv4;
mod test_state;
mod versions;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

#[cfg(feature = "cli")]
pub use cli::{ServeArgs, serve_main};
pub use conn::serve;
#[doc(hidden)]
pub use executions::hot_path;
pub use logs::ExecLog;
pub use sigv4::Credentials;

use crate::engine::{Engine, Status};
use protocol::{ApiError, CONTENT_TYPE as AMZ_JSON, OpResult, Req, TARGET_PREFIX};
use registry::{Arns, Registry};

/// Server settings; `Config::default()` is what `expressway serve` uses without flags.
#[derive(Clone, Debug)]
pub struct Config {
    /// Region in the ARNs the server hands out (and that SigV4 scopes must name).
    pub region: String,
    /// Account id in the ARNs the server hands out.
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
    /// How long a client may take to send a request's headers, counted from the connection's
    /// start or the end of its previous response: a kept-alive connection idle this long is
    /// closed (hyper's header-read timer runs while it waits for the next request).
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive once its headers have (408 past it).
    pub body_timeout: Duration,
    /// Connections served at once; one more is answered 503 `ServiceUnavailableException` and
    /// closed, so that idle or slow clients cannot exhaust the process's file descriptors.
    pub max_connections: usize,
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
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Everything a request handler needs: the engine, the registry, metrics, logs, credentials.
pub struct Server {
    engine: Engine,
    registry: Registry,
    metrics: metrics::Metrics,
    logs: ExecLog,
    console: console::Console,
    config: Config,
    credentials: Option<Credentials>,
    /// ARNs of asynchronous executions (StartExecution) still running: shutdown waits for them.
    in_flight: InFlight,
}

/// The asynchronous executions still running, and a wake-up for whoever waits for none.
#[derive(Default)]
struct InFlight {
    arns: Mutex<HashSet<String>>,
    emptied: tokio::sync::Notify,
}

impl InFlight {
    fn add(&self, arn: &str) {
        registry::lock(&self.arns).insert(arn.to_string());
    }

    fn remove(&self, arn: &str) {
        let mut arns = registry::lock(&self.arns);
        arns.remove(arn);
        if arns.is_empty() {
            self.emptied.notify_waiters();
        }
    }

    /// Resolves when no asynchronous execution is running.
    async fn emptied(&self) {
        loop {
            let wake = self.emptied.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            if registry::lock(&self.arns).is_empty() {
                return;
            }
            wake.await;
        }
    }
}

impl Server {
    /// A server running executions on `engine`, logging them to stderr, with no signature
    /// checks.
    pub fn new(engine: Engine, config: Config) -> Server {
        let arns = Arns {
            region: config.region.clone(),
            account: config.account.clone(),
        };
        Server {
            engine,
            registry: Registry::new(arns, config.executions_kept),
            metrics: metrics::Metrics::default(),
            logs: ExecLog::stderr(),
            console: console::Console::new(config.ui_executions, config.ui_trace),
            config,
            credentials: None,
            in_flight: InFlight::default(),
        }
    }

    /// Sends execution logs to `log` instead of stderr.
    pub fn with_log(mut self, log: ExecLog) -> Server {
        self.logs = log;
        self
    }

    /// Requires SigV4 signatures made with one of `credentials` on every route that runs or
    /// changes anything (`POST /` and `POST /execute/{name}`).
    pub fn with_credentials(mut self, credentials: Credentials) -> Server {
        self.credentials = Some(credentials);
        self
    }

    /// Checks the request's signature when credentials are configured.
    fn authenticate(
        &self,
        parts: &hyper::http::request::Parts,
        body: &[u8],
        route: sigv4::Route,
    ) -> Result<(), ApiError> {
        match &self.credentials {
            Some(c) => c.verify(
                parts,
                body,
                std::time::SystemTime::now(),
                &self.config.region,
                route,
            ),
            None => Ok(()),
        }
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

    /// ARNs of the asynchronous executions (StartExecution) still running, sorted: after
    /// `serve` returns, these are the ones the shutdown grace period did not see finish.
    pub fn running_executions(&self) -> Vec<String> {
        let mut arns: Vec<String> = registry::lock(&self.in_flight.arns)
            .iter()
            .cloned()
            .collect();
        arns.sort();
        arns
    }
}

pub(crate) type Body = Full<Bytes>;

fn response(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(id) = ids::uuid_header() {
        h.insert("x-amzn-requestid", id);
    }
    resp
}

pub(crate) fn api_error(e: &ApiError) -> Response<Body> {
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

/// Reads a body up to `Config::max_body` bytes within `Config::body_timeout`; a declared or
/// streamed excess is refused early.
async fn read_body(
    req: Request<Incoming>,
    config: &Config,
) -> Result<(hyper::http::request::Parts, Bytes), ApiError> {
    let limit = config.max_body;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let (parts, body) = req.into_parts();
    let collected = tokio::time::timeout(config.body_timeout, Limited::new(body, limit).collect());
    match collected.await {
        Ok(Ok(c)) => Ok((parts, c.to_bytes())),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Ok(Err(_)) => Err(protocol::serialization("Could not read request body")),
        Err(_) => Err(ApiError::coral(
            408,
            "RequestTimeoutException",
            Some(format!(
                "Request body not received within {} seconds",
                config.body_timeout.as_secs()
            )),
        )),
    }
}

async fn handle(server: &Arc<Server>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method();
    let path = req.uri().path();
    // A handler bug on demand, for `conn`'s test that a panic answers 500 and nothing else.
    #[cfg(test)]
    if path == conn::tests::PANIC_ROUTE {
        panic!("injected handler panic");
    }
    // The API's own route first: nothing is copied out of the request to route it.
    if method == Method::POST && path == "/" {
        return aws(server, req).await;
    }
    match (method, path) {
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
        (_, p) if p == "/ui" || p.starts_with("/ui/") => console::route(server, req).await,
        (&Method::POST, p) if p.starts_with("/execute/") => {
            let name = p.trim_start_matches("/execute/").to_string();
            gateway(server, req, &name).await
        }
        (&Method::POST, _) => aws(server, req).await,
        (method, path) => response(
            StatusCode::NOT_FOUND,
            "application/json",
            json!({"message": format!("No route for {method} {path}")}).to_string(),
        ),
    }
}

/// The AWS JSON 1.0 endpoint.
async fn aws(server: &Arc<Server>, req: Request<Incoming>) -> Response<Body> {
    let (parts, bytes) = match read_body(req, &server.config).await {
        Ok(x) => x,
        Err(e) => return api_error(&e),
    };
    if let Err(e) = server.authenticate(&parts, &bytes, sigv4::Route::AwsJson) {
        return api_error(&e);
    }
    let op = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .unwrap_or_default();
    // PERF: StartSyncExecution decodes its body in one pass and writes its answer as text.
    if op == "StartSyncExecution"
        && let Some(result) = executions::start_sync_body(server, &bytes).await
    {
        server.metrics.request(op, result.is_ok());
        return match result {
            Ok(text) => response(StatusCode::OK, AMZ_JSON, text),
            Err(e) => api_error(&e),
        };
    }
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
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
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

async fn dispatch(server: &Arc<Server>, op: &str, r: &Req<'_>) -> OpResult {
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
        "TestState" => test_state::test_state(s, r).await,
        "SendTaskSuccess" => callbacks::send_success(s, r),
        "SendTaskFailure" => callbacks::send_failure(s, r),
        "SendTaskHeartbeat" => callbacks::send_heartbeat(s, r),
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
/// `{"error","cause"}`; an unknown machine → 404, bad input → 400, each with
/// `{"error","message"}` where `error` is the AWS error name. A STANDARD machine runs to its end
/// too (its `.waitForTaskToken` Tasks wait for SendTaskSuccess/Failure meanwhile). Every answer carries the
/// execution's ARN in `x-amzn-execution-arn` once one has started.
async fn gateway(server: &Arc<Server>, req: Request<Incoming>, name: &str) -> Response<Body> {
    // `?testCase=NAME` runs a Step Functions Local mock test case, as `<machine ARN>#NAME` does.
    let test_case = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("testCase="))
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let (parts, bytes) = match read_body(req, &server.config).await {
        Ok(x) => x,
        Err(e) => return gateway_error(&e),
    };
    if let Err(e) = server.authenticate(&parts, &bytes, sigv4::Route::Gateway) {
        return gateway_error(&e);
    }
    let Ok(input) = std::str::from_utf8(&bytes) else {
        return gateway_error(&ApiError::sfn(
            "InvalidExecutionInput",
            "Input is not UTF-8",
        ));
    };
    let input = if input.trim().is_empty() { "{}" } else { input };
    let mut arn = server.registry.arns.machine(name);
    if let Some(case) = test_case {
        arn = format!("{arn}#{case}");
    }
    let body = json!({"stateMachineArn": arn, "input": input});
    let Value::Object(body) = body else {
        unreachable!("json! of an object literal is an object")
    };
    let req = Req::new(&body);
    let result = match executions::StartArgs::from_req(&req, true) {
        Ok(args) => executions::run_to_end(server, args, true, false).await,
        Err(e) => Err(e),
    };
    server.metrics.request("execute", result.is_ok());
    let answer = match result {
        Ok(v) => v,
        Err(e) => return gateway_error(&e),
    };
    let r = &answer.result;
    let (status, text) = match r.status {
        Status::Succeeded => (
            StatusCode::OK,
            r.output.clone().unwrap_or_else(|| "null".to_string()),
        ),
        other => (
            if other == Status::TimedOut {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            },
            json!({"error": r.error, "cause": r.cause}).to_string(),
        ),
    };
    let mut resp = response(status, "application/json", text);
    if let Ok(a) = HeaderValue::from_str(&answer.arn) {
        resp.headers_mut().insert("x-amzn-execution-arn", a);
    }
    answer.record(server);
    resp
}

fn gateway_error(e: &ApiError) -> Response<Body> {
    let status = match e.kind {
        "StateMachineDoesNotExist" | "InvalidArn" => StatusCode::NOT_FOUND,
        "RequestEntityTooLargeException" => StatusCode::PAYLOAD_TOO_LARGE,
        "RequestTimeoutException" => StatusCode::REQUEST_TIMEOUT,
        "MissingAuthenticationTokenException"
        | "IncompleteSignatureException"
        | "InvalidSignatureException"
        | "UnrecognizedClientException" => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = json!({"error": e.kind, "message": e.message});
    response(status, "application/json", body.to_string())
}

/// `fuzzing::aws_request`: one operation on a fresh server whose executions stop after a second.
pub(crate) fn fuzz_request(op: &str, body: &[u8]) {
    let settings = crate::engine::Settings {
        max_execution_duration: Duration::from_secs(1),
        ..crate::engine::Settings::default()
    };
    let server = Arc::new(
        Server::new(Engine::new(settings), Config::default())
            .with_log(ExecLog::new(Box::new(std::io::sink()))),
    );
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        if let Ok(body) = protocol::parse_body(body) {
            let _ = dispatch(&server, op, &Req::new(&body)).await;
        }
    });
}

/// `fuzzing::sigv4`: header lines (`name: value`) and a body through the verifier, at a fixed
/// clock (2026-12-07T00:00:00Z) with key `AKIDEXAMPLE`.
pub(crate) fn fuzz_sigv4(head: &[u8], body: &[u8]) {
    let mut req = Request::builder().method(Method::POST).uri("/");
    for line in head.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(i) = line.iter().position(|b| *b == b':') {
            let (name, value) = (&line[..i], &line[i + 1..]);
            if let (Ok(n), Ok(v)) = (
                hyper::header::HeaderName::from_bytes(name),
                HeaderValue::from_bytes(value.trim_ascii()),
            ) {
                req = req.header(n, v);
            }
        }
    }
    let Ok(req) = req.body(()) else { return };
    let (parts, ()) = req.into_parts();
    let creds = Credentials::from_pairs([(
        "AKIDEXAMPLE".to_string(),
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
    )]);
    let now = std::time::UNIX_EPOCH + Duration::from_secs(1_796_601_600);
    for route in [sigv4::Route::AwsJson, sigv4::Route::Gateway] {
        let _ = creds.verify(&parts, body, now, "us-east-1", route);
    }
}
