//! `expressway serve`: flags, runtime, listener, signals.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::{Backend, Config, Credentials, EngineBackend, ExecLog, Server, definitions, serve};

/// Flags of `expressway serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8083")]
    pub listen: SocketAddr,
    /// Directory of `*.asl.json` files loaded at start as EXPRESS machines named after the file.
    #[arg(long)]
    pub definitions: Option<PathBuf>,
    /// Verify SigV4 signatures against these keys (AWS credentials INI, or `KEY SECRET` lines).
    #[arg(long)]
    pub credentials: Option<PathBuf>,
    /// Server diagnostics on stderr: error, warn, info.
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Write execution logs (CloudWatch-style JSON lines) here instead of stderr.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Step Functions Local mock configuration, handed to the engine's task layer.
    #[arg(long)]
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
    /// Seconds in-flight requests may take to finish after SIGINT/SIGTERM.
    #[arg(long, default_value_t = 30)]
    pub shutdown_grace: u64,
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

/// The engine the CLI serves with, making ARNs in the server's region and account, with the
/// Step Functions Local mock configuration when one is given.
fn backend(args: &ServeArgs) -> Result<Arc<dyn Backend>, String> {
    let settings = crate::engine::Settings {
        region: region(args),
        account: args.account.clone(),
        ..crate::engine::Settings::default()
    };
    let mut engine = crate::engine::Engine::new(settings);
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
        let client = crate::tasks::aws::AwsClient::new(settings, creds)?;
        crate::tasks::aws::register_services(engine.tasks_mut(), Arc::new(client));
    }
    Ok(Arc::new(EngineBackend::new(engine)))
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

fn build(args: &ServeArgs) -> Result<Server, String> {
    let config = Config {
        region: region(args),
        account: args.account.clone(),
        max_body: args.max_body,
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        ..Config::default()
    };
    let mut server = Server::new(backend(args)?, config);
    if let Some(path) = &args.log_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
        server = server.with_log(ExecLog::new(Box::new(file)));
    }
    if let Some(path) = &args.credentials {
        let creds = Credentials::load(path)
            .map_err(|e| format!("cannot read credentials {}: {e}", path.display()))?;
        server = server.with_credentials(creds);
    }
    if let Some(dir) = &args.definitions {
        let files = definitions::read_dir(dir)
            .map_err(|e| format!("cannot read definitions in {}: {e}", dir.display()))?;
        for f in files {
            let arn = server
                .load_definition(&f.name, &f.text)
                .map_err(|e| format!("{}.asl.json: {}", f.name, e.message.unwrap_or_default()))?;
            say(args, "info", &format!("loaded {arn}"));
        }
    }
    Ok(server)
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
    let server = match build(&args) {
        Ok(s) => Arc::new(s),
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
        match serve(listener, server, signal()).await {
            Ok(()) => {
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
