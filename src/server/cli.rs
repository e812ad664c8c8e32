//! `expressway serve`: flags, runtime, listener, signals.
//!
//! In: the command line (`ServeArgs`). Out: an engine configured from it (mock configuration,
//! AWS services, `--demo-tasks`), a `Server` over it serving until SIGINT/SIGTERM, and the exit
//! code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::{Config, Credentials, ExecLog, Server, definitions, serve};
use crate::engine::Engine;

/// Flags of `expressway serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8083")]
    pub listen: SocketAddr,
    /// Directory of definitions loaded at start as EXPRESS machines named after the file:
    /// `*.asl.json`, and `*.json` holding a definition (`*.input.json`, `*.expected.json` are
    /// skipped). Each file loaded or skipped is logged at level info.
    #[arg(long)]
    pub definitions: Option<PathBuf>,
    /// Verify SigV4 signatures against these keys (AWS credentials INI, or `KEY SECRET` lines).
    #[arg(long)]
    pub credentials: Option<PathBuf>,
    /// Server diagnostics on stderr: error, warn, info.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Write execution logs (CloudWatch-style JSON lines) here instead of stderr.
    #[arg(long, conflicts_with = "log_dir")]
    pub log_file: Option<PathBuf>,
    /// Write execution logs into this directory, rotated by size (`executions.log`,
    /// `executions.log.1`, …).
    #[arg(long)]
    pub log_dir: Option<PathBuf>,
    /// With `--log-dir`: rotate once the current file holds this many bytes.
    #[arg(long, default_value_t = 64 << 20)]
    pub log_max_bytes: u64,
    /// With `--log-dir`: how many rotated files to keep.
    #[arg(long, default_value_t = 5)]
    pub log_keep: usize,
    /// Step Functions Local mock configuration, handed to the engine's task layer (also
    /// `SFN_MOCK_CONFIG`, as Step Functions Local reads it).
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    pub mock_config: Option<PathBuf>,
    /// Where Task states call AWS services (endpoints, timeouts).
    #[cfg(feature = "http-client")]
    #[command(flatten)]
    pub services: crate::tasks::aws::ServiceArgs,
    /// Register the tutorial stand-ins (Lambda echo, SNS publish, DynamoDB scan) the benches use.
    #[arg(long)]
    pub demo_tasks: bool,
    /// Region in the ARNs this server hands out and that service calls are signed for
    /// (else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Account id in the ARNs this server hands out.
    #[arg(long, env = "AWS_ACCOUNT_ID", default_value = "123456789012")]
    pub account: String,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub max_body: usize,
    /// Seconds in-flight requests and asynchronous executions may take to finish after
    /// SIGINT/SIGTERM; idle connections are closed at once.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace: u64,
    /// How many recent executions the console at `/ui` lists.
    #[arg(long, default_value_t = 100)]
    pub ui_executions: usize,
    /// Record every execution's path for the console (costs what logging at ALL costs);
    /// without it, only executions started from the console or logged by their machine.
    #[arg(long)]
    pub ui_trace: bool,
    /// Seconds a client may take to send a request's headers; also how long a kept-alive
    /// connection may stay idle between requests.
    #[arg(long, default_value_t = 30)]
    pub header_timeout: u64,
    /// Seconds a request's body may take to arrive once its headers have (408 past it).
    #[arg(long, default_value_t = 60)]
    pub body_timeout: u64,
    /// Connections served at once; more are answered 503 and closed. The process's open-file
    /// limit is raised to fit when the system allows, else the cap is lowered to fit it.
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
}

fn say(args: &ServeArgs, level: &str, msg: &str) {
    let rank = |l: &str| match l {
        "error" => 0,
        "warn" => 1,
        _ => 2,
    };
    if rank(level) <= rank(&args.log_level) {
        eprintln!("expressway serve: {level}: {msg}");
    }
}

/// The server, once built: `states:startExecution` tasks start its machines in-process.
type ServerSlot = Arc<std::sync::OnceLock<std::sync::Weak<Server>>>;

/// The engine the CLI serves with, making ARNs in the server's region and account, with the
/// Step Functions Local mock configuration when one is given.
fn engine(args: &ServeArgs, slot: &ServerSlot) -> Result<Engine, String> {
    let settings = crate::engine::Settings {
        region: region(args),
        account: args.account.clone(),
        wait_time_scale: args.services.wait_time_scale,
        ..crate::engine::Settings::default()
    };
    let mut engine = Engine::new(settings);
    if let Some(path) = &args.mock_config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read mock config {}: {e}", path.display()))?;
        let config = crate::tasks::MockConfig::parse(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        engine.tasks_mut().set_mock_config(config);
    }
    if args.demo_tasks {
        crate::tasks::demo::register_tutorial_handlers(engine.tasks_mut());
    }
    #[cfg(feature = "http-client")]
    {
        let settings = args.services.settings(&region(args))?;
        let creds = crate::tasks::aws::CredentialSource::default_chain(&settings.region);
        let client = Arc::new(crate::tasks::aws::AwsClient::new(settings, creds)?);
        let over_http = crate::tasks::aws::start_execution_over_http(client.clone());
        let local = LocalStartExecution {
            slot: slot.clone(),
            over_http,
        };
        let local: Arc<dyn crate::tasks::TaskHandler> = Arc::new(local);
        for p in ["aws", "aws-cn", "aws-us-gov"] {
            let arn = format!("arn:{p}:states:::states:startExecution");
            if !engine.tasks().has_exact(&arn) {
                engine.tasks_mut().register_exact(&arn, local.clone());
            }
        }
        crate::tasks::aws::register_services(engine.tasks_mut(), client);
    }
    #[cfg(not(feature = "http-client"))]
    let _ = slot;
    Ok(engine)
}

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1.
fn region(args: &ServeArgs) -> String {
    args.region.clone().unwrap_or_else(|| {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| "us-east-1".into())
    })
}

/// `states:startExecution` for a machine of this server: started in-process, as StartExecution
/// would start it; machines of other regions or accounts go to the Step Functions endpoint.
#[cfg(feature = "http-client")]
struct LocalStartExecution {
    slot: ServerSlot,
    over_http: Arc<dyn crate::tasks::TaskHandler>,
}

#[cfg(feature = "http-client")]
impl crate::tasks::TaskHandler for LocalStartExecution {
    fn invoke(&self, req: crate::tasks::TaskRequest) -> crate::tasks::TaskFuture {
        use crate::tasks::TaskError;
        use crate::value::Value;
        let server = self.slot.get().and_then(std::sync::Weak::upgrade);
        let target = req
            .input
            .get("StateMachineArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(server) = server.filter(|s| s.registry.arns.is_local(target)) else {
            return self.over_http.invoke(req);
        };
        let mut body = serde_json::Map::new();
        body.insert("stateMachineArn".into(), serde_json::json!(target));
        if let Some(input) = req.input.get("Input") {
            let text = match input {
                Value::String(s) => s.to_string(),
                other => other.to_json(),
            };
            body.insert("input".into(), serde_json::json!(text));
        }
        if let Some(name) = req.input.get("Name") {
            body.insert("name".into(), name.to_serde());
        }
        let started = super::executions::start(&server, &super::protocol::Req::new(&body));
        let request_id = uuid::Uuid::new_v4().to_string();
        Box::pin(std::future::ready(match started {
            Ok(v) => {
                let mut out = crate::value::Map::new();
                let arn = v["executionArn"].as_str().unwrap_or_default();
                out.insert("ExecutionArn".into(), Value::str(arn));
                out.insert(
                    "SdkHttpMetadata".into(),
                    local_http_metadata(&v.to_string(), &request_id),
                );
                let mut meta = crate::value::Map::new();
                meta.insert("RequestId".into(), Value::str(&request_id));
                out.insert("SdkResponseMetadata".into(), Value::object(meta));
                let millis = v["startDate"].as_f64().unwrap_or_default() * 1000.0;
                out.insert("StartDate".into(), Value::int(millis.round() as i64));
                Ok(Value::object(out))
            }
            Err(e) => {
                let message = e.message.clone().unwrap_or_else(|| "null".into());
                let name = if e.kind.ends_with("Exception") {
                    e.kind.to_string()
                } else {
                    format!("{}Exception", e.kind)
                };
                Err(TaskError::new(
                    format!("StepFunctions.{name}"),
                    format!(
                        "{message} (Service: AWSStepFunctions; Status Code: {}; Error Code: {}; \
                         Request ID: {request_id}; Proxy: null)",
                        e.status, e.kind
                    ),
                ))
            }
        }))
    }
}

/// `SdkHttpMetadata` for an answer given in-process: the headers Step Functions would have sent.
#[cfg(feature = "http-client")]
fn local_http_metadata(body: &str, request_id: &str) -> crate::value::Value {
    use crate::value::{Map, Value};
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let headers = [
        ("x-amzn-RequestId", request_id.to_string()),
        ("connection", "keep-alive".to_string()),
        ("Content-Length", body.len().to_string()),
        ("Date", date),
        ("Content-Type", "application/x-amz-json-1.0".to_string()),
    ];
    let all: Map = headers
        .iter()
        .map(|(k, v)| ((*k).into(), Value::array(vec![Value::str(v)])))
        .collect();
    let mut sorted = headers.to_vec();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let single: Map = sorted
        .iter()
        .map(|(k, v)| ((*k).into(), Value::str(v)))
        .collect();
    let mut m = Map::new();
    m.insert("AllHttpHeaders".into(), Value::object(all));
    m.insert("HttpHeaders".into(), Value::object(single));
    m.insert("HttpStatusCode".into(), Value::int(200));
    Value::object(m)
}

fn build(args: &ServeArgs, slot: &ServerSlot) -> Result<Server, String> {
    let config = Config {
        region: region(args),
        account: args.account.clone(),
        max_body: args.max_body,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        ui_executions: args.ui_executions,
        ui_trace: args.ui_trace,
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        body_timeout: Duration::from_secs(args.body_timeout.max(1)),
        max_connections: fit_open_files(args),
        ..Config::default()
    };
    let mut server = Server::new(engine(args, slot)?, config);
    if let Some(path) = &args.log_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
        server = server.with_log(ExecLog::new(Box::new(file)));
    }
    if let Some(dir) = &args.log_dir {
        let sink = super::logs::RotatingDir::open(dir, args.log_max_bytes, args.log_keep)
            .map_err(|e| format!("cannot open log directory {}: {e}", dir.display()))?;
        server = server.with_log(ExecLog::new(Box::new(sink)));
    }
    if let Some(path) = &args.credentials {
        let creds = Credentials::load(path)
            .map_err(|e| format!("cannot read credentials {}: {e}", path.display()))?;
        server = server.with_credentials(creds);
    }
    if let Some(dir) = &args.definitions {
        let loaded = definitions::load_dir(&server, dir, |level, msg| say(args, level, msg))?;
        say(
            args,
            "info",
            &format!("{loaded} state machine(s) loaded from {}", dir.display()),
        );
    }
    Ok(server)
}

/// Descriptors kept free beyond the connections: listener, log files, Lambda client, stdio.
const SPARE_FILES: u64 = 64;

/// `--max-connections`, after raising the soft open-file limit towards it (up to the hard limit);
/// when the system allows fewer descriptors, the cap shrinks to fit and a warning says so.
#[cfg(unix)]
fn fit_open_files(args: &ServeArgs) -> usize {
    let want = args.max_connections.max(1) as u64 + SPARE_FILES;
    let Ok(have) = rlimit::increase_nofile_limit(want) else {
        return args.max_connections.max(1);
    };
    if have >= want {
        return args.max_connections.max(1);
    }
    let cap = have.saturating_sub(SPARE_FILES).max(1) as usize;
    say(
        args,
        "warn",
        &format!(
            "open-file limit {have} leaves room for {cap} connections, not {}",
            args.max_connections
        ),
    );
    cap
}

#[cfg(not(unix))]
fn fit_open_files(args: &ServeArgs) -> usize {
    args.max_connections.max(1)
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `expressway serve` until SIGINT/SIGTERM; prints `listening on http://ADDR` first.
pub fn serve_main(args: ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&args, "error", &format!("cannot start runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let slot = ServerSlot::default();
    let server = match build(&args, &slot) {
        Ok(s) => {
            let server = Arc::new(s);
            let _ = slot.set(Arc::downgrade(&server));
            server
        }
        Err(e) => {
            say(&args, "error", &e);
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                say(
                    &args,
                    "error",
                    &format!("cannot listen on {}: {e}", args.listen),
                );
                return ExitCode::FAILURE;
            }
        };
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "listening on http://{addr}");
            let _ = out.flush();
        }
        match serve(listener, server.clone(), signal()).await {
            Ok(()) => {
                // The grace period is over: whatever still runs is dropped with the runtime.
                for arn in server.running_executions() {
                    say(
                        &args,
                        "warn",
                        &format!("execution still running at shutdown, dropped: {arn}"),
                    );
                }
                say(&args, "info", "stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                say(&args, "error", &e.to_string());
                ExitCode::FAILURE
            }
        }
    })
}
