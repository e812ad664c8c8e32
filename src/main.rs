//! `expressway`: run, validate and serve Step Functions Express workflows.

mod bench;

use clap::{Parser, Subcommand};
use expressway::definition;
use expressway::engine::{Engine, ExecutionMeta, Settings, Status};
use expressway::tasks::{MockConfig, MockLambdas};
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "expressway",
    version,
    about = "An engine for AWS Step Functions Express workflows"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one execution and print a StartSyncExecution-shaped JSON result.
    Run(RunArgs),
    /// Executions per second on workflow files, in the peer harnesses' output format.
    Bench(bench::BenchArgs),
    /// Validate a definition and print its diagnostics.
    Validate {
        /// The ASL definition file (`-` for stdin).
        definition: String,
    },
    /// Serve the AWS Step Functions API over HTTP.
    Serve(expressway::server::ServeArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The ASL definition file (`-` for stdin).
    definition: String,
    /// The execution input file (`-` for stdin); `{}` when absent.
    #[arg(long)]
    input: Option<String>,
    /// The state machine's name (shown in `$$.StateMachine`).
    #[arg(long, default_value = "StateMachine")]
    name: String,
    /// The execution's name (shown in `$$.Execution`).
    #[arg(long, default_value = "execution")]
    execution_name: String,
    /// Lambda mocks in the conformance cases' format (`{"lambda": {<arn>: {"kind": …}}}`).
    #[arg(long)]
    mocks: Option<String>,
    /// A Step Functions Local mock configuration file (also `SFN_MOCK_CONFIG`).
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: Option<String>,
    /// The mock configuration's test case to run (`--name` names the state machine).
    #[arg(long)]
    test_case: Option<String>,
    /// Express timeout ceiling in seconds.
    #[arg(long, default_value_t = 300)]
    max_duration: u64,
    /// Region of the execution's ARNs and of service calls (else `AWS_REGION`, else
    /// `AWS_DEFAULT_REGION`, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Account id of the execution's ARNs.
    #[arg(long, env = "AWS_ACCOUNT_ID", default_value = "123456789012")]
    account: String,
    /// Where Task states call AWS services (endpoints, timeouts).
    #[command(flatten)]
    services: expressway::tasks::aws::ServiceArgs,
}

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1.
fn region(flag: &Option<String>) -> String {
    flag.clone().unwrap_or_else(|| {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| "us-east-1".into())
    })
}

/// The multi-threaded runtime a command runs on, or `None` once it has said why there is none.
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .inspect_err(|e| eprintln!("expressway: cannot start the runtime: {e}"))
        .ok()
}

fn read(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

fn print_diagnostics(diags: &[definition::Diagnostic]) {
    let list: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            serde_json::json!({
                "severity": match d.severity { definition::Severity::Error => "ERROR", definition::Severity::Warning => "WARNING" },
                "code": d.code,
                "location": d.location,
                "message": d.message,
            })
        })
        .collect();
    let ok = !diags
        .iter()
        .any(|d| d.severity == definition::Severity::Error);
    let out = serde_json::json!({ "result": if ok { "OK" } else { "FAIL" }, "diagnostics": list });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

fn run(args: RunArgs) -> ExitCode {
    let definition = match read(&args.definition) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("expressway: {e}");
            return ExitCode::from(2);
        }
    };
    let input = match args.input.as_deref().map(read).transpose() {
        Ok(i) => i.unwrap_or_else(|| "{}".into()),
        Err(e) => {
            eprintln!("expressway: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = Settings {
        max_execution_duration: std::time::Duration::from_secs(args.max_duration),
        region: region(&args.region),
        account: args.account.clone(),
        ..Settings::default()
    };
    let mut engine = Engine::new(settings);
    if let Err(e) =
        register_mocks(&mut engine, &args).and_then(|()| register_services(&mut engine, &args))
    {
        eprintln!("expressway: {e}");
        return ExitCode::from(2);
    }
    let program = match engine.compile(&definition) {
        Ok(p) => p,
        Err(diags) => {
            print_diagnostics(&diags);
            return ExitCode::from(2);
        }
    };
    if let Err(e) = expressway::value::parse(&input) {
        eprintln!("expressway: the input is not valid JSON: {e}");
        return ExitCode::from(2);
    }
    let Some(rt) = runtime() else {
        return ExitCode::from(2);
    };
    let mut meta = ExecutionMeta::express(engine.settings(), &args.name, &args.execution_name);
    meta.test_case = args.test_case.clone();
    let outcome = rt.block_on(engine.execute(program, &input, meta));
    let result = serde_json::json!({
        "status": outcome.status.as_str(),
        // JSON text, as StartSyncExecution returns it.
        "output": outcome.output,
        "error": outcome.error,
        "cause": outcome.cause,
        "account": engine.settings().account,
    });
    println!("{result}");
    if outcome.status == Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Loads `--mocks` and `--mock-config` into the engine's task registry.
fn register_mocks(engine: &mut Engine, args: &RunArgs) -> Result<(), String> {
    if let Some(path) = &args.mocks {
        let mock = expressway::value::parse(&read(path)?).map_err(|e| format!("{path}: {e}"))?;
        let lambdas = MockLambdas::from_case_mock(&mock).map_err(|e| format!("{path}: {e}"))?;
        engine.tasks_mut().register_lambda(Arc::new(lambdas));
    }
    if let Some(path) = &args.mock_config {
        let config = MockConfig::parse(&read(path)?).map_err(|e| format!("{path}: {e}"))?;
        if let Some(case) = &args.test_case
            && !config.has_test_case(&args.name, case)
        {
            return Err(format!(
                "{path}: no test case '{case}' for state machine '{}'",
                args.name
            ));
        }
        engine.tasks_mut().set_mock_config(config);
    }
    Ok(())
}

/// Real services for every Task resource no mock serves: the request layer with the endpoints
/// of the flags and the environment.
fn register_services(engine: &mut Engine, args: &RunArgs) -> Result<(), String> {
    use expressway::tasks::aws::{AwsClient, CredentialSource, register_services};
    let settings = args.services.settings(&engine.settings().region)?;
    let creds = CredentialSource::default_chain(&settings.region);
    let client = AwsClient::new(settings, creds)?;
    register_services(engine.tasks_mut(), Arc::new(client));
    Ok(())
}

fn validate(path: &str) -> ExitCode {
    let text = match read(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("expressway: {e}");
            return ExitCode::from(2);
        }
    };
    match definition::load(&text) {
        Ok(_) => {
            print_diagnostics(&[]);
            ExitCode::SUCCESS
        }
        Err(diags) => {
            print_diagnostics(&diags);
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { definition } => validate(&definition),
        Command::Bench(args) => {
            if bench::run(args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Serve(args) => expressway::server::serve_main(args),
    }
}
