//! The result of a run: the figures, the JSON round-trip floor beside them, and the three ways to
//! print them (`--output text|json|csv`).

use super::load::Stats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Everything `--output json` prints; text and csv show the same fields.
#[derive(Serialize, Debug)]
pub struct Report {
    pub workflow: String,
    /// `in-process`, `StartSyncExecution http://…`, `execute http://…`.
    pub target: String,
    /// `closed` (C in flight) or `open` (a fixed arrival rate).
    pub mode: &'static str,
    pub concurrency: usize,
    /// Arrivals per second asked for (open loop).
    pub rate: Option<f64>,
    /// Runtime worker threads (client side for an endpoint).
    pub threads: usize,
    /// From the first start to the last answer.
    pub elapsed_s: f64,
    pub sent: u64,
    pub answered: u64,
    /// SUCCEEDED and, with `--expect`, matching it.
    pub passed: u64,
    /// Passing executions per second: failures and mismatches never count here.
    pub executions_per_s: f64,
    /// Every answer per second, whatever it said.
    pub answered_per_s: f64,
    /// Over every answer, in microseconds; open loop: from each request's scheduled start.
    pub latency_us: Latency,
    /// Answers by status: `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `HTTP 400`, `NO_ANSWER`.
    pub statuses: BTreeMap<String, u64>,
    /// Answers by error name.
    pub errors: BTreeMap<String, u64>,
    /// `--expect`: outputs compared and how many matched.
    pub expect: Option<ExpectCount>,
    /// Parsing the input and serializing one output with our value module, on one thread.
    pub json_floor: Option<Floor>,
    pub timeline: Timeline,
}

#[derive(Serialize, Debug)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p99_9: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Serialize, Debug)]
pub struct ExpectCount {
    pub matched: u64,
    pub mismatched: u64,
}

#[derive(Serialize, Debug, Clone, Copy)]
pub struct Floor {
    pub parse_input_us: f64,
    pub serialize_output_us: f64,
    pub round_trip_us: f64,
    /// Round trips per second on one thread: no engine runs faster per thread.
    pub per_s_one_thread: f64,
}

/// Throughput and latency over time, one point per slice (by answer time).
#[derive(Serialize, Debug)]
pub struct Timeline {
    pub slice_s: f64,
    pub points: Vec<Point>,
}

#[derive(Serialize, Debug)]
pub struct Point {
    /// End of the slice, seconds from the start.
    pub t_s: f64,
    pub passed_per_s: f64,
    pub errors_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// Who ran and how, for the report's heading fields.
pub struct Setup {
    pub workflow: String,
    pub target: String,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub threads: usize,
    pub expect: bool,
}

fn us(nanos: u64) -> f64 {
    nanos as f64 / 1e3
}

impl Report {
    pub fn new(setup: Setup, stats: &Stats, json_floor: Option<Floor>) -> Report {
        let secs = stats.elapsed.as_secs_f64().max(1e-9);
        let h = &stats.latency;
        let q = |x| us(h.value_at_quantile(x));
        let slice_s = stats.slice.as_secs_f64();
        let points = points(stats, secs);
        Report {
            workflow: setup.workflow,
            target: setup.target,
            mode: if setup.rate.is_some() {
                "open"
            } else {
                "closed"
            },
            concurrency: setup.concurrency,
            rate: setup.rate,
            threads: setup.threads,
            elapsed_s: secs,
            sent: stats.sent,
            answered: stats.answered,
            passed: stats.passed,
            executions_per_s: stats.passed as f64 / secs,
            answered_per_s: stats.answered as f64 / secs,
            latency_us: Latency {
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p99_9: q(0.999),
                max: us(h.max()),
                mean: h.mean() / 1e3,
            },
            statuses: stats.statuses.clone(),
            errors: stats.errors.clone(),
            expect: setup.expect.then_some(ExpectCount {
                matched: stats.matched,
                mismatched: stats.mismatched,
            }),
            json_floor,
            timeline: Timeline { slice_s, points },
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn text(&self) -> String {
        let mut o = String::new();
        let how = match self.rate {
            Some(r) => format!("open loop at {r}/s, at most {} in flight", self.concurrency),
            None => format!("closed loop, {} in flight", self.concurrency),
        };
        let _ = writeln!(
            o,
            "expressway bench {}: {}, {how}, {} threads, {:.2} s",
            self.workflow, self.target, self.threads, self.elapsed_s
        );
        let _ = writeln!(
            o,
            "executions/s  {:.1} passing   ({:.1} answers/s of any kind)",
            self.executions_per_s, self.answered_per_s
        );
        let l = &self.latency_us;
        let _ = writeln!(
            o,
            "latency       p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (mean {}, over all {} answers{})",
            human(l.p50),
            human(l.p90),
            human(l.p99),
            human(l.p99_9),
            human(l.max),
            human(l.mean),
            self.answered,
            if self.rate.is_some() {
                ", from each scheduled start"
            } else {
                ""
            }
        );
        let _ = writeln!(
            o,
            "answers       {} sent, {} answered: {}",
            self.sent,
            self.answered,
            counts(&self.statuses, ", ", " ")
        );
        let errors = if self.errors.is_empty() {
            "none".to_string()
        } else {
            counts(&self.errors, ", ", " ")
        };
        let _ = writeln!(o, "errors        {errors}");
        if let Some(e) = &self.expect {
            let _ = writeln!(
                o,
                "expect        {} matched, {} mismatched",
                e.matched, e.mismatched
            );
        }
        match &self.json_floor {
            Some(f) => {
                let _ = writeln!(
                    o,
                    "JSON floor    parse input {} + serialize output {} = {} ({:.0}/s on one thread)",
                    human(f.parse_input_us),
                    human(f.serialize_output_us),
                    human(f.round_trip_us),
                    f.per_s_one_thread
                );
            }
            None => {
                let _ = writeln!(o, "JSON floor    - (no execution succeeded)");
            }
        }
        o
    }

    /// One header line and one row (RFC 4180 quoting; maps as `NAME=COUNT;…`).
    pub fn csv(&self) -> String {
        let l = &self.latency_us;
        let f = self.json_floor;
        let opt = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_default();
        let row: Vec<(&str, String)> = vec![
            ("workflow", self.workflow.clone()),
            ("target", self.target.clone()),
            ("mode", self.mode.to_string()),
            ("concurrency", self.concurrency.to_string()),
            ("rate", opt(self.rate)),
            ("threads", self.threads.to_string()),
            ("elapsed_s", format!("{:.3}", self.elapsed_s)),
            ("sent", self.sent.to_string()),
            ("answered", self.answered.to_string()),
            ("passed", self.passed.to_string()),
            ("executions_per_s", format!("{:.1}", self.executions_per_s)),
            ("answered_per_s", format!("{:.1}", self.answered_per_s)),
            ("p50_us", format!("{:.1}", l.p50)),
            ("p90_us", format!("{:.1}", l.p90)),
            ("p99_us", format!("{:.1}", l.p99)),
            ("p99_9_us", format!("{:.1}", l.p99_9)),
            ("max_us", format!("{:.1}", l.max)),
            ("mean_us", format!("{:.1}", l.mean)),
            ("statuses", counts(&self.statuses, ";", "=")),
            ("errors", counts(&self.errors, ";", "=")),
            (
                "matched",
                self.expect
                    .as_ref()
                    .map(|e| e.matched.to_string())
                    .unwrap_or_default(),
            ),
            (
                "mismatched",
                self.expect
                    .as_ref()
                    .map(|e| e.mismatched.to_string())
                    .unwrap_or_default(),
            ),
            ("floor_parse_input_us", opt(f.map(|f| f.parse_input_us))),
            (
                "floor_serialize_output_us",
                opt(f.map(|f| f.serialize_output_us)),
            ),
            ("floor_round_trip_us", opt(f.map(|f| f.round_trip_us))),
        ];
        let line = |cells: Vec<String>| cells.join(",") + "\n";
        line(row.iter().map(|(k, _)| k.to_string()).collect())
            + &line(row.iter().map(|(_, v)| csv_cell(v)).collect())
    }
}

/// The time line's points. The last slice ends with the last answer, and its rate is over what it
/// covered; one shorter than half a slice (the drain after the last start) joins the one before.
fn points(stats: &Stats, secs: f64) -> Vec<Point> {
    let slice_s = stats.slice.as_secs_f64();
    let mut slices: Vec<(u64, u64, std::borrow::Cow<'_, hdrhistogram::Histogram<u64>>)> = stats
        .slices
        .iter()
        .map(|s| (s.passed, s.errors, std::borrow::Cow::Borrowed(&s.latency)))
        .collect();
    let n = slices.len();
    if n >= 2 && secs - (n - 1) as f64 * slice_s < slice_s / 2.0 {
        let (passed, errors, last) = slices.pop().expect("two slices or more");
        let before = slices.last_mut().expect("one slice left");
        before.0 += passed;
        before.1 += errors;
        let _ = before.2.to_mut().add(last.as_ref());
    }
    let n = slices.len();
    slices
        .iter()
        .enumerate()
        .map(|(i, (passed, errors, latency))| {
            let start = i as f64 * slice_s;
            let end = if i + 1 == n {
                secs.max(start + 1e-3)
            } else {
                start + slice_s
            };
            let width = end - start;
            Point {
                t_s: end,
                passed_per_s: *passed as f64 / width,
                errors_per_s: *errors as f64 / width,
                p50_us: us(latency.value_at_quantile(0.5)),
                p99_us: us(latency.value_at_quantile(0.99)),
                max_us: us(latency.max()),
            }
        })
        .collect()
}

fn counts(map: &BTreeMap<String, u64>, sep: &str, eq: &str) -> String {
    map.iter()
        .map(|(k, n)| format!("{k}{eq}{n}"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
fn csv_cell(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// Microseconds as a person reads them: `850 µs`, `1.21 ms`, `2.50 s`.
pub fn human(us: f64) -> String {
    if us < 1.0 {
        format!("{:.0} ns", us * 1e3)
    } else if us < 1e3 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// The JSON round trip of one execution with our value module: parse `input`, serialize `output`
/// (parsed once beforehand). Each half is timed for about 100 ms on this thread.
pub fn floor(input: &str, output: &str) -> Option<Floor> {
    let parsed_output = expressway::value::parse(output).ok()?;
    expressway::value::parse(input).ok()?;
    let per_call = |f: &mut dyn FnMut()| {
        let (started, mut n) = (Instant::now(), 0u64);
        while n < 10 || started.elapsed() < Duration::from_millis(100) {
            f();
            n += 1;
        }
        started.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    let parse_input_us = per_call(&mut || {
        std::hint::black_box(expressway::value::parse(std::hint::black_box(input)).ok());
    });
    let serialize_output_us = per_call(&mut || {
        std::hint::black_box(std::hint::black_box(&parsed_output).to_json());
    });
    let round_trip_us = parse_input_us + serialize_output_us;
    Some(Floor {
        parse_input_us,
        serialize_output_us,
        round_trip_us,
        per_s_one_thread: 1e6 / round_trip_us.max(1e-9),
    })
}
