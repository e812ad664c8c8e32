//! `expressway`: run, validate and serve Step Functions Express workflows.

mod bench;

/// PERF: mimalloc instead of glibc's malloc for the binary (the library leaves the allocator to
/// its embedder). Executions allocate and free many small values, often freed on another
/// worker thread than the one that allocated them; see README's design notes for the figures.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    #[command(after_long_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Load a workflow (in-process or through an endpoint): executions/s and latency percentiles.
    #[command(after_long_help = BENCH_EXAMPLES)]
    Bench(Box<bench::BenchArgs>),
    /// Validate a definition and print its diagnostics.
    #[command(after_long_help = VALIDATE_EXAMPLES)]
    Validate {
        /// The ASL definition file (`-` for stdin).
        definition: String,
    },
    /// Serve the AWS Step Functions API over HTTP.
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(expressway::server::ServeArgs),
    /// Draw a state machine: SVG (laid out here), Graphviz DOT or Mermaid.
    #[command(after_long_help = GRAPH_EXAMPLES)]
    Graph(GraphArgs),
}

#[derive(clap::Args)]
struct GraphArgs {
    /// The ASL definition file (`-` for stdin).
    definition: String,
    /// `svg` (no Graphviz needed), `dot` (for `dot -Tpng`) or `mermaid` (for Markdown).
    #[arg(long, default_value = "svg", value_parser = ["svg", "dot", "mermaid"])]
    format: String,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<String>,
}

const RUN_EXAMPLES: &str = "\
Output: {\"status\": \"SUCCEEDED\"|\"FAILED\"|\"TIMED_OUT\", \"output\", \"error\", \"cause\", \"account\"}.
Exit status: 0 succeeded, 1 failed or timed out, 2 invalid definition or unreadable file.

Examples:
  # The bundled example workflow
  expressway run examples/orders.asl.json --input examples/orders.input.json

  # Input on stdin, names shown in $$.StateMachine.Name and $$.Execution.Name
  cat examples/orders.input.json | expressway run examples/orders.asl.json --input - \\
      --name orders --execution-name first

  # Every Task mocked by a Step Functions Local mock configuration's test case
  expressway run benches/workflows/w5_credit.json --input benches/workflows/w5_credit.input.json \\
      --name w5_credit --mock-config examples/mock-config.json --test-case HappyPath

  # The tutorial stand-ins (Lambda echo, SNS publish, DynamoDB scan) the benches use
  expressway run benches/workflows/w5_credit.json --input benches/workflows/w5_credit.input.json --demo-tasks";

const VALIDATE_EXAMPLES: &str = "\
Output: {\"result\": \"OK\"|\"FAIL\", \"diagnostics\": [{\"severity\", \"code\", \"location\", \"message\"}]}.
Exit status: 0 valid, 2 invalid (the diagnostics are printed) or the file cannot be read.

Examples:
  expressway validate examples/orders.asl.json
  echo '{\"StartAt\": \"Nope\", \"States\": {}}' | expressway validate -";

const GRAPH_EXAMPLES: &str = "\
Exit codes: 0 drawn, 2 the definition does not validate (its diagnostics are printed) or a file
cannot be read or written.

Examples:
  # The tutorial workflow as an SVG (no Graphviz needed)
  expressway graph benches/workflows/w5_credit.json --output w5.svg

  # Through Graphviz, or as a Mermaid flowchart for Markdown
  expressway graph benches/workflows/w5_credit.json --format dot | dot -Tpng > w5.png
  expressway graph benches/workflows/w2_choice.json --format mermaid
";

const SERVE_EXAMPLES: &str = "\
The first line on stdout is `listening on http://ADDR`; diagnostics go to stderr.

Examples:
  # The Step Functions API on port 8083, with the bench workflows created as EXPRESS machines
  expressway serve --listen 127.0.0.1:8083 --definitions benches/workflows

  # A free port, Step Functions Local mocks, signed requests only
  expressway serve --listen 127.0.0.1:0 --mock-config examples/mock-config.json --credentials creds.ini

  # Then, with the AWS CLI (the sync- host prefix turned off)
  AWS_DISABLE_HOST_PREFIX_INJECTION=true aws stepfunctions --endpoint-url http://127.0.0.1:8083 \\
      start-sync-execution --state-machine-arn arn:aws:states:us-east-1:123456789012:stateMachine:w1_pass_chain

  # Or any HTTP client, without the AWS protocol
  curl -d @benches/workflows/w1_pass_chain.input.json http://127.0.0.1:8083/execute/w1_pass_chain";

const BENCH_EXAMPLES: &str = "\
Prints executions/s (only passing executions count), latency p50/p90/p99/p99.9/max, counts by
status and error name, and the JSON round-trip floor; exit 1 if any execution failed or mismatched.
Without a DEFINITION and without --endpoint: folder mode, one peer-harness line per workflow of
benches/workflows (`expressway <workflow> <seq|cN> <median> min=.. max=.. n=.. check=ok|FAILED`).

Examples:
  # The tutorial in-process with its mocks, 10 s, 64 in flight, outputs checked
  expressway bench benches/workflows/w5_credit.json --input benches/workflows/w5_credit.input.json \\
      --mock-config examples/mock-config.json --test-case HappyPath \\
      --expect benches/workflows/w5_credit.expected.json

  # An open loop of 1000/s against a running server, as JSON
  expressway bench --endpoint http://127.0.0.1:8083 --execute w1_pass_chain --rate 1000/s --output json

  # Folder mode, as the peer harnesses run it
  expressway bench";

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
    /// Register the tutorial stand-ins (Lambda echo, SNS publish, DynamoDB scan) the benches use,
    /// as `serve --demo-tasks` does.
    #[arg(long)]
    demo_tasks: bool,
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
        wait_time_scale: args.services.wait_time_scale,
        ..Settings::default()
    };
    let mut engine = Engine::new(settings);
    if let Err(e) = register_mocks(&mut engine, &args)
        .and_then(|()| register_services(&mut engine, &args.services))
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

/// Loads `--demo-tasks`, `--mocks` and `--mock-config` into the engine's task registry (later ones
/// win for the same resource).
fn register_mocks(engine: &mut Engine, args: &RunArgs) -> Result<(), String> {
    register_tasks(
        engine,
        &TaskOptions {
            demo_tasks: args.demo_tasks,
            mocks: args.mocks.as_deref(),
            mock_config: args.mock_config.as_deref(),
            test_case: args.test_case.as_deref(),
            name: &args.name,
        },
    )
}

/// The task options `run` and `bench` share.
pub(crate) struct TaskOptions<'a> {
    /// Register the tutorial stand-ins.
    pub demo_tasks: bool,
    /// Lambda mocks in the conformance cases' format (a file).
    pub mocks: Option<&'a str>,
    /// A Step Functions Local mock configuration (a file).
    pub mock_config: Option<&'a str>,
    /// The mock configuration's test case, checked against `name`.
    pub test_case: Option<&'a str>,
    /// The state machine's name.
    pub name: &'a str,
}

/// Registers the stand-ins and loads the mocks `opts` name into the engine's task registry.
pub(crate) fn register_tasks(engine: &mut Engine, opts: &TaskOptions) -> Result<(), String> {
    if opts.demo_tasks {
        expressway::tasks::demo::register_tutorial_handlers(engine.tasks_mut());
    }
    if let Some(path) = opts.mocks {
        let mock = expressway::value::parse(&read(path)?).map_err(|e| format!("{path}: {e}"))?;
        let lambdas = MockLambdas::from_case_mock(&mock).map_err(|e| format!("{path}: {e}"))?;
        engine.tasks_mut().register_lambda(Arc::new(lambdas));
    }
    if let Some(path) = opts.mock_config {
        let config = MockConfig::parse(&read(path)?).map_err(|e| format!("{path}: {e}"))?;
        if let Some(case) = opts.test_case
            && !config.has_test_case(opts.name, case)
        {
            return Err(format!(
                "{path}: no test case '{case}' for state machine '{}'",
                opts.name
            ));
        }
        engine.tasks_mut().set_mock_config(config);
    }
    Ok(())
}

/// Real services for every Task resource no mock serves: the request layer with the endpoints
/// of the flags and the environment (`run` and `bench` share it).
fn register_services(
    engine: &mut Engine,
    services: &expressway::tasks::aws::ServiceArgs,
) -> Result<(), String> {
    use expressway::tasks::aws::{AwsClient, CredentialSource, register_services};
    let settings = services.settings(&engine.settings().region)?;
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

/// `expressway graph`: exit 0 with the picture, 2 when the definition does not validate or a
/// file cannot be read or written.
fn graph(args: GraphArgs) -> ExitCode {
    use expressway::graph::{Graph, to_dot, to_mermaid, to_svg};
    let text = match read(&args.definition) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("expressway: {e}");
            return ExitCode::from(2);
        }
    };
    let def = match definition::load(&text) {
        Ok(d) => d,
        Err(diags) => {
            print_diagnostics(&diags);
            return ExitCode::from(2);
        }
    };
    let g = Graph::new(&def);
    let picture = match args.format.as_str() {
        "dot" => to_dot(&g),
        "mermaid" => to_mermaid(&g),
        _ => to_svg(&g, &Default::default()),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, picture) {
                eprintln!("expressway: cannot write {path}: {e}");
                return ExitCode::from(2);
            }
        }
        None => print!("{picture}"),
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { definition } => validate(&definition),
        Command::Bench(args) => {
            if bench::run(*args) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Command::Serve(args) => expressway::server::serve_main(args),
        Command::Graph(args) => graph(args),
    }
}
