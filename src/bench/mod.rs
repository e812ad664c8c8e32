//! `expressway bench`: how many executions per second a workflow sustains, and at what latency.
//!
//! Three ways in: a definition run in this process (with `run`'s task configuration), an endpoint
//! speaking the Step Functions API (StartSyncExecution, SigV4-signed when AWS credentials are in
//! the environment) or our `/execute/{name}` route, and folder mode (no definition: every workflow
//! of a folder in the peer harnesses' line format, see `folder`). The load loop is `load`, the
//! figures and their printing `report`, the time-line picture `svg`.

mod folder;
mod load;
mod report;
mod svg;
mod targets;
#[cfg(test)]
mod tests;

use expressway::engine::{Engine, ExecutionMeta, Settings};
use load::{Expect, Phase, Plan, Progress, Stats, Target, Until};
use report::{Report, Setup};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// Flags of `expressway bench`. Folder mode keeps the peer harnesses' spelling.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The ASL definition to load (`-` for stdin). Without it and without `--endpoint`: folder mode.
    definition: Option<String>,
    /// Execution input file (`-` for stdin); `{}` when absent.
    #[arg(long)]
    input: Option<String>,
    /// How long to measure (`30s`, `500ms`, `2m`); 10s unless `--executions` is given.
    #[arg(long, conflicts_with = "executions")]
    duration: Option<String>,
    /// Measure this many executions instead of a duration.
    #[arg(long)]
    executions: Option<u64>,
    /// In flight at once (the open loop's cap); 64 by default. Folder mode: a comma list, 1 = seq.
    #[arg(long)]
    concurrency: Option<String>,
    /// Open loop: start executions on a fixed schedule of R per second (`500/s`), whatever the
    /// answers do; latency counts from each scheduled start.
    #[arg(long)]
    rate: Option<String>,
    /// Threads, each a runtime of its own with its share of the in-flight places (wrk's
    /// `-t`); the number of cores by default.
    #[arg(long)]
    threads: Option<usize>,
    /// Warm-up before measuring (`5s`, `500ms`; a bare number is seconds).
    #[arg(long, default_value = "1")]
    warmup: String,
    /// The state machine's name (`$$.StateMachine`, the mock test case's machine); the file name.
    #[arg(long)]
    name: Option<String>,
    /// Lambda mocks in the conformance cases' format, as in `run`.
    #[arg(long)]
    mocks: Option<String>,
    /// A Step Functions Local mock configuration file, as in `run` (also `SFN_MOCK_CONFIG`).
    #[arg(long, env = "SFN_MOCK_CONFIG")]
    mock_config: Option<String>,
    /// The mock configuration's test case.
    #[arg(long)]
    test_case: Option<String>,
    /// Register the tutorial stand-ins (Lambda echo, SNS publish, DynamoDB scan).
    #[arg(long)]
    demo_tasks: bool,
    /// In-process: region of the execution's ARNs and of service calls (else `AWS_REGION`, else
    /// `AWS_DEFAULT_REGION`, else us-east-1), as in `run`.
    #[arg(long)]
    region: Option<String>,
    /// In-process: account id of the execution's ARNs, as in `run`.
    #[arg(long, env = "AWS_ACCOUNT_ID", default_value = "123456789012")]
    account: String,
    /// In-process: where Task states call AWS services that no mock serves, as in `run`.
    #[command(flatten)]
    services: expressway::tasks::aws::ServiceArgs,
    /// Compare every output with this JSON file (message ids masked) and count mismatches.
    #[arg(long)]
    expect: Option<String>,
    /// How to print the result.
    #[arg(long, value_enum, default_value = "text")]
    output: Format,
    /// Draw throughput and latency over time into this SVG file.
    #[arg(long)]
    svg: Option<String>,
    /// Drive an endpoint (`http://host:port`, `https://host`) instead of running in this process.
    #[arg(long)]
    endpoint: Option<String>,
    /// With an https `--endpoint`: also trust the CA certificates in this PEM file (a self-signed
    /// server's own certificate will do). `SSL_CERT_FILE` replaces the system's roots.
    #[arg(long, requires = "endpoint")]
    ca_cert: Option<String>,
    /// With `--endpoint`: call StartSyncExecution on this state machine.
    #[arg(long, requires = "endpoint", conflicts_with = "execute")]
    state_machine_arn: Option<String>,
    /// With `--endpoint`: call `POST /execute/NAME`.
    #[arg(long, requires = "endpoint")]
    execute: Option<String>,
    /// With `--endpoint`: a request unanswered after this long counts as `NO_ANSWER`.
    #[arg(long, default_value = "60s")]
    timeout: String,
    /// Folder mode: folder of `<name>.json`, `<name>.input.json`, `<name>.expected.json`.
    #[arg(long, default_value = "benches/workflows")]
    workflows: String,
    /// Folder mode: comma-separated workflow names (default: every `w*.json` there).
    #[arg(long)]
    only: Option<String>,
    /// Folder mode: length of one timed round in seconds.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Folder mode: timed rounds; the median is printed.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

/// Runs the benchmark; false when it could not run, an execution failed or an output mismatched.
pub fn run(args: BenchArgs) -> bool {
    let folder = args.endpoint.is_none()
        && match &args.definition {
            None => true,
            Some(d) => std::path::Path::new(d).is_dir(),
        };
    if folder {
        let Ok(warmup) = parse_duration(&args.warmup) else {
            eprintln!(
                "expressway bench: --warmup '{}' is not a duration",
                args.warmup
            );
            return false;
        };
        return folder::run(folder::FolderArgs {
            workflows: args.definition.clone().unwrap_or(args.workflows),
            only: args.only,
            seconds: args.seconds,
            rounds: args.rounds,
            warmup: warmup.as_secs_f64(),
            concurrency: args.concurrency.unwrap_or_else(|| "1,64".into()),
        });
    }
    match load_run(&args) {
        Ok(passed) => passed,
        Err(e) => {
            eprintln!("expressway bench: {e}");
            false
        }
    }
}

/// `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration"))?;
    let secs = match unit {
        "ms" => n / 1e3,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{s}': the unit is one of ms, s, m, h")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{s}' is not a duration"))
}

/// `500/s`, `30000/m` or a bare number per second; positive.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let (num, per) = s.trim().split_once('/').unwrap_or((s.trim(), "s"));
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("rate '{s}' is not a number"))?;
    let per_s = match per.trim() {
        "s" => n,
        "m" | "min" => n / 60.0,
        _ => return Err(format!("rate '{s}': per s or per m")),
    };
    if per_s.is_finite() && per_s > 0.0 {
        Ok(per_s)
    } else {
        Err(format!("rate '{s}' must be above zero"))
    }
}

fn read(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
    }
}

/// The plan the flags ask for.
fn plan(args: &BenchArgs) -> Result<Plan, String> {
    let until = match (args.executions, &args.duration) {
        (Some(n), _) => Until::Count(n),
        (None, Some(d)) => Until::Elapsed(parse_duration(d)?),
        (None, None) => Until::Elapsed(Duration::from_secs(10)),
    };
    let concurrency = match &args.concurrency {
        None => 64,
        Some(c) => c
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| format!("--concurrency '{c}' is not one number above zero"))?,
    };
    let rate = args.rate.as_deref().map(parse_rate).transpose()?;
    Ok(Plan {
        until,
        concurrency,
        rate,
    })
}

/// The engine `run` would build from the same flags (mocks and stand-ins first, real services for
/// every other Task resource), and the state machine's name.
fn engine(args: &BenchArgs, definition_path: &str) -> Result<(Engine, String), String> {
    let name = args.name.clone().unwrap_or_else(|| {
        let file = std::path::Path::new(definition_path)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("StateMachine");
        let stem = file.trim_end_matches(".json").trim_end_matches(".asl");
        if stem.is_empty() || definition_path == "-" {
            "StateMachine".into()
        } else {
            stem.to_string()
        }
    });
    let settings = Settings {
        region: crate::region(&args.region),
        account: args.account.clone(),
        wait_time_scale: args.services.wait_time_scale,
        ..Settings::default()
    };
    let mut engine = Engine::new(settings);
    crate::register_tasks(
        &mut engine,
        &crate::TaskOptions {
            demo_tasks: args.demo_tasks,
            mocks: args.mocks.as_deref(),
            mock_config: args.mock_config.as_deref(),
            test_case: args.test_case.as_deref(),
            name: &name,
        },
    )?;
    crate::register_services(&mut engine, &args.services)?;
    Ok((engine, name))
}

/// Definition or endpoint mode, start to end; Ok(true) when every execution passed.
fn load_run(args: &BenchArgs) -> Result<bool, String> {
    let plan = plan(args)?;
    let warmup = parse_duration(&args.warmup)?;
    let input = args.input.as_deref().map(read).transpose()?;
    let input = input.unwrap_or_else(|| "{}".into());
    expressway::value::parse(&input).map_err(|e| format!("the input is not valid JSON: {e}"))?;
    let expect = match &args.expect {
        Some(path) => Some(Arc::new(
            Expect::new(&read(path)?).map_err(|e| format!("{path}: {e}"))?,
        )),
        None => None,
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let setup = |workflow: String, target: String| Setup {
        workflow,
        target,
        concurrency: plan.concurrency,
        rate: plan.rate,
        // As many as run: never more threads than places in flight.
        threads: threads.clamp(1, plan.concurrency),
        expect: expect.is_some(),
    };
    let (setup, stats) = if let Some(endpoint) = &args.endpoint {
        if args.definition.is_some() {
            return Err(
                "a DEFINITION and --endpoint do not go together: the endpoint runs its own".into(),
            );
        }
        let (target, workflow, label) = http_target(args, endpoint, &input)?;
        let stats = measure(target, threads, plan, warmup, expect.clone())?;
        (setup(workflow, label), stats)
    } else {
        let path = args.definition.as_deref().unwrap_or("-");
        let definition = read(path)?;
        let (engine, name) = engine(args, path)?;
        let program = engine.compile(&definition).map_err(|diags| {
            let list: Vec<String> = diags
                .iter()
                .map(|d| format!("{} at {}: {}", d.code, d.location, d.message))
                .collect();
            format!("{path} does not validate:\n  {}", list.join("\n  "))
        })?;
        let mut meta = ExecutionMeta::express(engine.settings(), &name, "bench");
        meta.test_case = args.test_case.clone();
        let target = Arc::new(targets::InProcess {
            engine: Arc::new(engine),
            program,
            input: input.clone(),
            meta,
        });
        let stats = measure(target, threads, plan, warmup, expect.clone())?;
        (setup(name, "in-process".into()), stats)
    };
    let floor = stats
        .sample_output
        .as_deref()
        .and_then(|out| report::floor(&input, out));
    let report = Report::new(setup, &stats, floor);
    if let Some(path) = &args.svg {
        std::fs::write(path, svg::render(&report))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    print!(
        "{}",
        match args.output {
            Format::Text => report.text(),
            Format::Json => report.json() + "\n",
            Format::Csv => report.csv(),
        }
    );
    Ok(stats.failures() == 0 && stats.answered > 0)
}

#[cfg(feature = "http-client")]
fn http_target(
    args: &BenchArgs,
    endpoint: &str,
    input: &str,
) -> Result<(Arc<targets::Http>, String, String), String> {
    use targets::{Api, Http, Signer};
    let (api, workflow, label) = match (&args.state_machine_arn, &args.execute) {
        (Some(arn), _) => (
            Api::StartSync {
                state_machine_arn: arn.clone(),
            },
            arn.rsplit(':').next().unwrap_or(arn).to_string(),
            format!("StartSyncExecution {endpoint}"),
        ),
        (None, Some(name)) => (
            Api::Execute { name: name.clone() },
            name.clone(),
            format!("POST {}/execute/{name}", endpoint.trim_end_matches('/')),
        ),
        (None, None) => return Err("--endpoint needs --state-machine-arn or --execute".into()),
    };
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(|| {
            let arn = args.state_machine_arn.as_deref()?;
            arn.split(':')
                .nth(3)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "us-east-1".into());
    let timeout = parse_duration(&args.timeout)?;
    let ca = match &args.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?),
        None => None,
    };
    let signer = Signer::from_env(&region);
    let target =
        Http::with_tls(endpoint, api, input, signer, timeout, ca.as_deref()).map_err(|e| {
            match &args.ca_cert {
                Some(path) if e.contains("certificate") => format!("--ca-cert {path}: {e}"),
                _ => e,
            }
        })?;
    Ok((Arc::new(target), workflow, label))
}

#[cfg(not(feature = "http-client"))]
fn http_target(
    _: &BenchArgs,
    _: &str,
    _: &str,
) -> Result<(Arc<targets::InProcess>, String, String), String> {
    Err("--endpoint needs the http-client feature".into())
}

/// Warm-up (discarded), then the measured run on the same threads and connections, with the
/// live line on a terminal.
fn measure<T: Target>(
    target: Arc<T>,
    threads: usize,
    plan: Plan,
    warmup: Duration,
    expect: Option<Arc<Expect>>,
) -> Result<Stats, String> {
    let live = std::io::stdout().is_terminal();
    let mut phases = Vec::new();
    let mut names = Vec::new();
    if !warmup.is_zero() {
        let until = Until::Elapsed(warmup);
        phases.push(Phase {
            plan: Plan { until, ..plan },
            expect: None,
            watched: live,
        });
        names.push("warm-up");
    }
    phases.push(Phase {
        plan,
        expect,
        watched: live,
    });
    names.push("measuring");
    let mut all = load::run_threads(target, threads, phases, |p, progress| {
        live.then(|| Live::start(names[p], progress))
    })?;
    all.pop()
        .ok_or_else(|| "the run did not happen".to_string())
}

/// One line redrawn in place on the terminal: elapsed, executions/s, p50/p99 so far, errors.
struct Live {
    bar: indicatif::ProgressBar,
    /// Set when the phase is over: the drawing thread stops at its next tick.
    done: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Live {
    /// Redraws from a thread of its own four times a second, reading the shards' counters.
    fn start(phase: &'static str, progress: Arc<Progress>) -> Live {
        let bar = indicatif::ProgressBar::with_draw_target(
            None,
            indicatif::ProgressDrawTarget::stdout_with_hz(4),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
            bar.set_style(style);
        }
        let done = Arc::<std::sync::atomic::AtomicBool>::default();
        let (line, stop) = (bar.clone(), done.clone());
        let started = std::time::Instant::now();
        // No thread means no live line, and nothing else is lost.
        let thread = std::thread::Builder::new()
            .name("bench-live".into())
            .spawn(move || {
                let (mut last_n, mut last_t) = (0u64, started);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                    let (n, failed, p50, p99) = progress.glance();
                    let now = std::time::Instant::now();
                    let secs = (now - last_t).as_secs_f64().max(1e-9);
                    let rate = n.saturating_sub(last_n) as f64 / secs;
                    (last_n, last_t) = (n, now);
                    line.set_message(format!(
                        "{phase} {:.1}s  {rate:.0} answers/s  p50 {}  p99 {}  errors {failed}",
                        (now - started).as_secs_f64(),
                        report::human(p50.as_nanos() as f64 / 1e3),
                        report::human(p99.as_nanos() as f64 / 1e3),
                    ));
                    line.tick();
                }
            })
            .ok();
        Live { bar, done, thread }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.bar.finish_and_clear();
    }
}
