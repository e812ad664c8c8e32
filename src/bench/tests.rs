//! The load loop under tokio's paused clock, the in-process target, and the HTTP targets against
//! `expressway serve`'s server started on 127.0.0.1 by each test and stopped by it.

use super::load::{self, Answer, Expect, Plan, SUCCEEDED, Stats, Target, Until, Worker};
use super::report::{self, Report, Setup};
use super::*;
use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::Instant;

/// Answers after 1 ms, except call number `stall_at`, which takes 1 s.
struct Stall {
    calls: AtomicU64,
    stall_at: u64,
}

impl Target for Stall {
    type Worker = Arc<Stall>;
    fn worker(self: &Arc<Self>) -> Arc<Stall> {
        self.clone()
    }
}

impl Worker for Arc<Stall> {
    fn call(&mut self, _want_output: bool) -> impl Future<Output = Answer> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        let wait = if n == self.stall_at { 1000 } else { 1 };
        async move {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            Answer {
                status: Cow::Borrowed(SUCCEEDED),
                error: None,
                output: Some("{}".into()),
            }
        }
    }
}

fn stall() -> Arc<Stall> {
    Arc::new(Stall {
        calls: AtomicU64::new(0),
        stall_at: 200,
    })
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

async fn run<T: Target>(target: Arc<T>, plan: Plan, expect: Option<&str>) -> Stats {
    let expect = expect.map(|e| Arc::new(Expect::new(e).expect("expected JSON")));
    load::run(target, plan, expect, |_| {}).await
}

#[tokio::test(start_paused = true)]
async fn open_loop_shows_a_stall_in_p99_and_max() {
    let plan = Plan {
        until: Until::Elapsed(Duration::from_secs(10)),
        concurrency: 1,
        rate: Some(100.0),
    };
    let s = run(stall(), plan, None).await;
    assert_eq!((s.sent, s.answered), (1000, 1000));
    // The stalled request waited 1 s, and the ~100 scheduled behind it waited their share.
    assert!(ms(s.latency.max()) >= 1000.0, "max {}", ms(s.latency.max()));
    let p99 = ms(s.latency.value_at_quantile(0.99));
    assert!(p99 >= 500.0, "p99 {p99} ms");
    assert!(ms(s.latency.value_at_quantile(0.5)) < 5.0);
}

#[tokio::test(start_paused = true)]
async fn closed_loop_hides_the_same_stall_in_p99() {
    // The contrast that makes the open loop worth having: one slow answer among ~9 000.
    let plan = Plan {
        until: Until::Elapsed(Duration::from_secs(10)),
        concurrency: 1,
        rate: None,
    };
    let s = run(stall(), plan, None).await;
    assert!(ms(s.latency.max()) >= 1000.0);
    assert!(ms(s.latency.value_at_quantile(0.99)) < 5.0);
    assert_eq!(s.sent, s.answered);
}

#[tokio::test(start_paused = true)]
async fn open_loop_keeps_its_schedule_and_time_line() {
    let plan = Plan {
        until: Until::Elapsed(Duration::from_secs(4)),
        concurrency: 64,
        rate: Some(250.0),
    };
    let started = Instant::now();
    let s = run(stall(), plan, None).await;
    assert_eq!(s.sent, 1000);
    // With 64 places the stall holds up nobody: it ends 1 s after its start at 0.8 s.
    assert!(started.elapsed() < Duration::from_millis(4010));
    assert!(ms(s.latency.value_at_quantile(0.99)) < 5.0);
    let r = Report::new(setup(Some(250.0)), &s, None);
    let total: f64 = r
        .timeline
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| p.passed_per_s * (p.t_s - i as f64 * r.timeline.slice_s))
        .sum();
    assert!((total - 1000.0).abs() < 1.0, "time line adds to {total}");
}

#[tokio::test(start_paused = true)]
async fn an_execution_count_is_exact_in_both_loops() {
    for rate in [None, Some(1000.0)] {
        let plan = Plan {
            until: Until::Count(137),
            concurrency: 8,
            rate,
        };
        let s = run(stall(), plan, None).await;
        assert_eq!((s.sent, s.answered, s.passed), (137, 137, 137), "{rate:?}");
    }
}

#[test]
fn durations_and_rates() {
    let d = |s| parse_duration(s).ok();
    assert_eq!(d("30s"), Some(Duration::from_secs(30)));
    assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(d("2m"), Some(Duration::from_secs(120)));
    assert_eq!(d("1.5"), Some(Duration::from_millis(1500)));
    assert_eq!(d("0"), Some(Duration::ZERO));
    assert_eq!(d("5 parsecs"), None);
    assert_eq!(d("-1s"), None);
    assert_eq!(parse_rate("500/s"), Ok(500.0));
    assert_eq!(parse_rate("600/m"), Ok(10.0));
    assert_eq!(parse_rate("42"), Ok(42.0));
    assert!(parse_rate("0/s").is_err() && parse_rate("fast").is_err());
}

fn in_process(definition: &str) -> Arc<targets::InProcess> {
    let engine = Engine::new(Settings::default());
    let program = engine.compile(definition).expect("valid definition");
    let meta = ExecutionMeta::express(engine.settings(), "t", "bench");
    Arc::new(targets::InProcess {
        engine: Arc::new(engine),
        program,
        input: r#"{"a":1}"#.into(),
        meta,
    })
}

const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":1},"ResultPath":"$.r","End":true}}}"#;
const FAIL: &str = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"bad"}}}"#;

fn count(n: u64) -> Plan {
    Plan {
        until: Until::Count(n),
        concurrency: 4,
        rate: None,
    }
}

#[tokio::test]
async fn failures_are_counted_by_error_and_never_pass() {
    let s = run(in_process(FAIL), count(50), None).await;
    assert_eq!((s.answered, s.passed, s.failures()), (50, 0, 50));
    assert_eq!(s.statuses.get("FAILED"), Some(&50));
    assert_eq!(s.errors.get("Boom"), Some(&50));
    let r = Report::new(setup(None), &s, None);
    assert_eq!(r.executions_per_s, 0.0);
    assert!(r.answered_per_s > 0.0);
}

#[tokio::test]
async fn expect_counts_matches_and_mismatches() {
    let s = run(in_process(PASS), count(30), Some(r#"{"a":1,"r":{"ok":1}}"#)).await;
    assert_eq!((s.matched, s.mismatched, s.passed), (30, 0, 30));
    let s = run(in_process(PASS), count(30), Some(r#"{"a":2}"#)).await;
    assert_eq!((s.matched, s.mismatched, s.passed), (0, 30, 0));
    assert_eq!(s.statuses.get(SUCCEEDED), Some(&30));
}

fn setup(rate: Option<f64>) -> Setup {
    Setup {
        workflow: "w, \"x\"".into(),
        target: "in-process".into(),
        concurrency: 4,
        rate,
        threads: 1,
        expect: true,
    }
}

#[tokio::test]
async fn json_csv_and_svg_carry_every_field() {
    let s = run(in_process(FAIL), count(5), None).await;
    let ok = run(in_process(PASS), count(20), Some(r#"{"a":1,"r":{"ok":1}}"#)).await;
    let floor = report::floor(
        r#"{"a":1}"#,
        ok.sample_output.as_deref().expect("an output"),
    );
    let r = Report::new(setup(Some(100.0)), &ok, floor);
    let v: serde_json::Value = serde_json::from_str(&r.json()).expect("--output json parses");
    for key in [
        "workflow",
        "target",
        "mode",
        "concurrency",
        "rate",
        "threads",
        "elapsed_s",
        "sent",
        "answered",
        "passed",
        "executions_per_s",
        "answered_per_s",
        "latency_us",
        "statuses",
        "errors",
        "expect",
        "json_floor",
        "timeline",
    ] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    for key in ["p50", "p90", "p99", "p99_9", "max", "mean"] {
        assert!(v["latency_us"][key].is_number(), "latency {key}");
    }
    assert_eq!(v["statuses"]["SUCCEEDED"], 20);
    assert_eq!(v["expect"]["matched"], 20);
    assert!(
        v["json_floor"]["round_trip_us"]
            .as_f64()
            .is_some_and(|f| f > 0.0)
    );
    assert!(
        !v["timeline"]["points"]
            .as_array()
            .expect("points")
            .is_empty()
    );

    let failed = Report::new(setup(None), &s, None);
    let csv = failed.csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].starts_with(r#""w, ""x""",in-process,closed,4,"#),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",FAILED=5,Boom=5,"), "{}", lines[1]);
    assert_eq!(lines[0].split(',').count(), 25);
    assert!(failed.text().contains("errors        Boom 5"));
    assert!(failed.text().contains("executions/s  0.0 passing"));

    let svg = svg::render(&r);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 5);
    assert!(svg.contains("w, &quot;x&quot;"));
}

/// `expressway serve`'s server on 127.0.0.1:0 with one EXPRESS machine `m` of `definition`.
struct Served {
    endpoint: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(definition: &str, keys: Option<(&str, &str)>) -> Served {
    use expressway::server::{Config, Credentials, ExecLog, Server};
    let mut server = Server::new(Engine::new(Settings::default()), Config::default())
        .with_log(ExecLog::new(Box::new(std::io::sink())));
    if let Some((k, s)) = keys {
        server = server.with_credentials(Credentials::from_pairs([(k.into(), s.into())]));
    }
    server.load_definition("m", definition).expect("loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(expressway::server::serve(
        listener,
        Arc::new(server),
        async {
            let _ = rx.await;
        },
    ));
    Served {
        endpoint,
        stop: Some(tx),
        done,
    }
}

impl Served {
    async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let stopped = tokio::time::timeout(Duration::from_secs(5), &mut self.done).await;
        assert!(stopped.is_ok(), "the server did not stop");
    }
}

const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:";

fn http(s: &Served, api: targets::Api, signer: Option<targets::Signer>) -> Arc<targets::Http> {
    let t = targets::Http::new(
        &s.endpoint,
        api,
        r#"{"a":1}"#,
        signer,
        Duration::from_secs(10),
    );
    Arc::new(t.expect("a valid endpoint"))
}

fn sync(name: &str) -> targets::Api {
    targets::Api::StartSync {
        state_machine_arn: format!("{ARN}{name}"),
    }
}

/// Runs with a bound on the whole test, and checks that every request sent was answered once.
async fn bounded<T: Target>(target: Arc<T>, plan: Plan, expect: Option<&str>) -> Stats {
    let s = tokio::time::timeout(Duration::from_secs(60), run(target, plan, expect))
        .await
        .expect("the run ends");
    assert_eq!(s.sent, s.answered);
    assert_eq!(s.statuses.values().sum::<u64>(), s.sent, "{:?}", s.statuses);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_sync_execution_counts_add_up() {
    let srv = serve(PASS, None).await;
    let plan = Plan {
        until: Until::Count(300),
        concurrency: 8,
        rate: None,
    };
    let s = bounded(
        http(&srv, sync("m"), None),
        plan,
        Some(r#"{"a":1,"r":{"ok":1}}"#),
    )
    .await;
    assert_eq!((s.sent, s.passed, s.matched), (300, 300, 300));
    assert_eq!(s.statuses.get(SUCCEEDED), Some(&300));
    // The open loop over the same connections.
    let plan = Plan {
        until: Until::Elapsed(Duration::from_millis(500)),
        concurrency: 8,
        rate: Some(200.0),
    };
    let s = bounded(http(&srv, sync("m"), None), plan, None).await;
    assert!((95..=101).contains(&s.sent), "sent {}", s.sent);
    assert_eq!(s.passed, s.sent);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_answer_is_an_error() {
    let srv = serve(PASS, None).await;
    let s = bounded(http(&srv, sync("nope"), None), count(40), None).await;
    assert_eq!((s.passed, s.failures()), (0, 40));
    assert_eq!(s.statuses.get("HTTP 400"), Some(&40));
    assert_eq!(s.errors.get("StateMachineDoesNotExist"), Some(&40));
    let execute = targets::Api::Execute {
        name: "nope".into(),
    };
    let s = bounded(http(&srv, execute, None), count(10), None).await;
    assert_eq!(s.statuses.get("HTTP 404"), Some(&10));
    assert_eq!(s.errors.get("StateMachineDoesNotExist"), Some(&10));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_execute_route_and_failed_executions() {
    let srv = serve(FAIL, None).await;
    let execute = targets::Api::Execute { name: "m".into() };
    let s = bounded(http(&srv, execute, None), count(25), None).await;
    assert_eq!(s.statuses.get("FAILED"), Some(&25));
    assert_eq!(s.errors.get("Boom"), Some(&25));
    let s = bounded(http(&srv, sync("m"), None), count(25), None).await;
    assert_eq!(
        (s.statuses.get("FAILED"), s.errors.get("Boom")),
        (Some(&25), Some(&25))
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_signed_requests_pass_a_checking_server() {
    let srv = serve(PASS, Some(("AKIDBENCH", "secret"))).await;
    let signer = targets::Signer::new("AKIDBENCH", "secret", None, "us-east-1");
    let s = bounded(http(&srv, sync("m"), Some(signer)), count(20), None).await;
    assert_eq!(s.passed, 20, "{:?}", s.errors);
    let wrong = targets::Signer::new("AKIDBENCH", "guess", None, "us-east-1");
    let s = bounded(http(&srv, sync("m"), Some(wrong)), count(5), None).await;
    assert_eq!(s.passed, 0);
    assert!(
        s.statuses.keys().all(|k| k.starts_with("HTTP 4")),
        "{:?}",
        s.statuses
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_listener_is_counted_as_no_answer() {
    let free = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let endpoint = format!("http://{}", free.local_addr().expect("bound"));
    drop(free);
    let t = targets::Http::new(&endpoint, sync("m"), "{}", None, Duration::from_secs(5));
    let s = bounded(Arc::new(t.expect("valid")), count(6), None).await;
    assert_eq!(s.statuses.get("NO_ANSWER"), Some(&6));
    assert_eq!(s.errors.get("ConnectError"), Some(&6));
}

#[test]
fn http_and_https_endpoints_without_a_path() {
    let new = |e| targets::Http::new(e, sync("m"), "{}", None, Duration::from_secs(1));
    assert!(new("https://states.us-east-1.amazonaws.com").is_ok());
    assert!(new("http://127.0.0.1:8083/").is_ok());
    let says = |e, what: &str| {
        let err = new(e).err().unwrap_or_default();
        assert!(err.contains(what), "{e}: {err}");
    };
    says("ftp://x", "http:// or https://");
    says("http://127.0.0.1:8083/prefix", "no path");
    says("http://exa mple", "not a valid URL");
    let bad_ca = targets::Http::with_tls(
        "https://x",
        sync("m"),
        "{}",
        None,
        Duration::from_secs(1),
        Some(b"not pem".as_slice()),
    );
    assert!(bad_ca.err().is_some_and(|e| e.contains("certificate")));
}

#[test]
fn a_succeeded_answer_is_read_only_to_its_status_unless_its_output_is_wanted() {
    use targets::start_sync_answer as answer;
    let ok = br#"{"executionArn":"a","output":"{\"status\":\"FAILED\"}","status" : "SUCCEEDED"}"#;
    let a = answer(200, ok, false);
    assert_eq!((a.status.as_ref(), a.output), (SUCCEEDED, None));
    let a = answer(200, ok, true);
    assert_eq!(a.output.as_deref(), Some(r#"{"status":"FAILED"}"#));
    // Anything but a plain SUCCEEDED is parsed whole, error and all.
    let failed = br#"{"status":"FAILED","error":"Boom","cause":"c"}"#;
    let a = answer(200, failed, false);
    assert_eq!(
        (a.status.as_ref(), a.error.as_deref()),
        ("FAILED", Some("Boom"))
    );
    let a = answer(200, br#"{"status":"SUCCEEDED\u0022"}"#, false);
    assert_eq!(a.status.as_ref(), "SUCCEEDED\"");
    let a = answer(200, br#"{"status":"#, false);
    assert_eq!(a.error.as_deref(), Some("UnreadableAnswer"));
    let a = targets::execute_answer(200, b"{}", false);
    assert_eq!((a.status.as_ref(), a.output), (SUCCEEDED, None));
}

#[test]
fn threads_split_the_load_and_merge_their_counts() {
    // A count is exact however it is dealt out; each thread runs its own runtime.
    let phases = vec![
        load::Phase {
            plan: count(20),
            expect: None,
            watched: false,
        },
        load::Phase {
            plan: Plan {
                until: Until::Count(137),
                concurrency: 8,
                rate: None,
            },
            expect: Some(Arc::new(
                Expect::new(r#"{"a":1,"r":{"ok":1}}"#).expect("expected JSON"),
            )),
            watched: true,
        },
    ];
    let mut seen = Vec::new();
    let all = load::run_threads(in_process(PASS), 3, phases, |p, _| seen.push(p))
        .expect("the threads run");
    assert_eq!(seen, [0, 1]);
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].sent, all[0].passed), (20, 20));
    let s = &all[1];
    assert_eq!(
        (s.sent, s.answered, s.passed, s.matched),
        (137, 137, 137, 137)
    );
    assert_eq!(s.latency.len(), 137);
    assert_eq!(s.slices.iter().map(|x| x.passed).sum::<u64>(), 137);
    assert!(s.sample_output.is_some());
    // The open loop's schedule is dealt out in turns: every due time before the end, once.
    let plan = Plan {
        until: Until::Elapsed(Duration::from_millis(600)),
        concurrency: 8,
        rate: Some(500.0),
    };
    let all = load::run_threads(
        in_process(PASS),
        2,
        vec![load::Phase {
            plan,
            expect: None,
            watched: false,
        }],
        |_, _| (),
    )
    .expect("the threads run");
    assert_eq!((all[0].sent, all[0].passed), (300, 300));
}

#[test]
fn slices_of_different_widths_merge_at_the_wider() {
    let mut a = Stats::new(Duration::from_millis(100));
    let mut b = Stats::new(Duration::from_millis(100));
    let ok = || Answer {
        status: Cow::Borrowed(SUCCEEDED),
        error: None,
        output: None,
    };
    let at = Duration::from_millis;
    a.record(at(0), at(50), ok(), None);
    // 45 s into the run at 100 ms slices: b doubles its width until 400 slices hold it.
    b.record(at(45_000), at(45_001), ok(), None);
    assert_eq!(b.slice, at(200));
    a.merge(b);
    assert_eq!(a.slice, at(200));
    assert_eq!((a.slices[0].passed, a.slices[225].passed), (1, 1));
    assert_eq!(a.slices.iter().map(|s| s.passed).sum::<u64>(), 2);
    assert_eq!(a.passed, 2);
}

/// A minimal HTTP/1.1 endpoint answering every request with a SUCCEEDED StartSyncExecution body,
/// closing each connection after one answer when `close`; counts the connections it accepted.
async fn counting_server(close: bool) -> (String, Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    let answer = r#"{"status":"SUCCEEDED","output":"{}"}"#;
    let head = if close { "Connection: close\r\n" } else { "" };
    let resp = format!(
        "HTTP/1.1 200 OK\r\n{head}Content-Length: {}\r\n\r\n{answer}",
        answer.len()
    );
    scripted_server(resp, close).await
}

/// A minimal HTTP/1.1 endpoint answering every request with `resp` as it is, closing each
/// connection after one answer when `close`; counts the connections it accepted.
async fn scripted_server(
    resp: String,
    close: bool,
) -> (String, Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    let resp = Arc::new(resp);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            let resp = resp.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if stream.get_mut().write_all(resp.as_bytes()).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, accepted, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_worker_keeps_its_connection_and_replaces_a_closed_one() {
    for (close, concurrency, connections) in [(false, 3, 3), (true, 2, 40)] {
        let (endpoint, accepted, server) = counting_server(close).await;
        let t = targets::Http::new(&endpoint, sync("m"), "{}", None, Duration::from_secs(5));
        let plan = Plan {
            until: Until::Count(40),
            concurrency,
            rate: None,
        };
        let s = bounded(Arc::new(t.expect("valid")), plan, None).await;
        assert_eq!(s.passed, 40, "close={close}: {:?}", s.errors);
        assert_eq!(
            accepted.load(Ordering::Relaxed),
            connections,
            "close={close}"
        );
        server.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_in_every_http1_framing() {
    let answer = r#"{"status":"SUCCEEDED","output":"{\"x\":[1,2]}"}"#;
    let (a, b) = answer.split_at(20);
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\nX-Trailer: t\r\n\r\n",
        a.len(),
        b.len()
    );
    let continued = format!(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{answer}",
        answer.len()
    );
    // HTTP/1.0 without a length: the body runs to the end of the connection.
    let to_eof = format!("HTTP/1.0 200 OK\r\n\r\n{answer}");
    for (resp, close, connections) in [
        (chunked, false, 2),
        (continued, false, 2),
        (to_eof, true, 12),
    ] {
        let (endpoint, accepted, server) = scripted_server(resp.clone(), close).await;
        let t = targets::Http::new(&endpoint, sync("m"), "{}", None, Duration::from_secs(5));
        let plan = Plan {
            until: Until::Count(12),
            concurrency: 2,
            rate: None,
        };
        let s = bounded(Arc::new(t.expect("valid")), plan, Some(r#"{"x":[1,2]}"#)).await;
        assert_eq!((s.passed, s.matched), (12, 12), "{resp:?}: {:?}", s.errors);
        assert_eq!(accepted.load(Ordering::Relaxed), connections, "{resp:?}");
        server.abort();
    }
    let (endpoint, _, server) = scripted_server("SPDY/9 nope\r\n\r\n".into(), false).await;
    let t = targets::Http::new(&endpoint, sync("m"), "{}", None, Duration::from_secs(5));
    let s = bounded(Arc::new(t.expect("valid")), count(3), None).await;
    assert_eq!(s.errors.get("MalformedAnswer"), Some(&3));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_closed_while_idle_is_replaced_before_use() {
    // Keep-alive as far as the answer says, but the server hangs up after each one. With 50 ms
    // between requests the close has arrived before the next: the worker sees the socket ready
    // although no request is out, and connects again instead of writing into a closed one.
    let answer = r#"{"status":"SUCCEEDED","output":"{}"}"#;
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}",
        answer.len()
    );
    let (endpoint, accepted, server) = scripted_server(resp, true).await;
    let t = targets::Http::new(&endpoint, sync("m"), "{}", None, Duration::from_secs(5));
    let plan = Plan {
        until: Until::Count(10),
        concurrency: 1,
        rate: Some(20.0),
    };
    let s = bounded(Arc::new(t.expect("valid")), plan, None).await;
    assert_eq!(s.passed, 10, "{:?}", s.errors);
    assert_eq!(accepted.load(Ordering::Relaxed), 10);
    server.abort();
}
