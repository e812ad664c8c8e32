//! The web console at `/ui`: the loaded state machines, each one's graph, the most recent
//! executions with the path each took, each state's input and output, a form that starts an
//! execution, and live throughput and latency from the same counters as `/metrics`.
//!
//! In: `GET /ui` (one page, bundled into the binary, no build step, works offline) and its JSON
//! routes under `/ui/api/`; the executions `executions::run` finishes. Out: HTML, SVG and JSON.
//! The recent executions are a bounded ring (`Console::capacity`). Executions started from the
//! console always record their history events; others do when their machine logs at `ALL`/
//! `ERROR`/`FATAL` or `serve --ui-trace` asks, and show without a path otherwise.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::protocol::{ApiError, Req};
use super::registry::lock;
use super::{Body, Server, executions, read_body, response};
use crate::engine::Outcome;
use crate::vm::HistoryEvent;

/// The console page: HTML, CSS and script in one file.
pub const PAGE: &str = include_str!("console.html");

/// One finished execution, as the console lists it.
struct Recent {
    id: u64,
    machine: String,
    execution_arn: String,
    status: &'static str,
    start: SystemTime,
    duration_ms: f64,
    error: Option<String>,
    cause: Option<String>,
    input: String,
    output: Option<String>,
    events: Option<Vec<HistoryEvent>>,
}

/// The ring of recent executions, and whether every execution records its path.
pub struct Console {
    /// Newest last; a std mutex held for one push or one listing.
    recent: Mutex<VecDeque<Recent>>,
    pub capacity: usize,
    next_id: AtomicU64,
    /// Record the history of every execution (`serve --ui-trace`), not only the console's own.
    pub trace_all: bool,
}

impl Console {
    /// A console keeping the last `capacity` executions (0 keeps none).
    pub fn new(capacity: usize, trace_all: bool) -> Console {
        Console {
            recent: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity,
            next_id: AtomicU64::new(1),
            trace_all,
        }
    }

    /// Keeps one finished execution; the oldest goes when the ring is full. Everything is moved
    /// in (the answer has been written by then), so the ring copies nothing.
    pub fn record(
        &self,
        machine: String,
        execution_arn: String,
        input: String,
        start: SystemTime,
        result: Outcome,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if self.capacity == 0 {
            return id;
        }
        let rec = Recent {
            id,
            machine,
            execution_arn,
            status: result.status.as_str(),
            start,
            duration_ms: result.duration.as_secs_f64() * 1000.0,
            error: result.error,
            cause: result.cause,
            input,
            output: result.output,
            events: result.history,
        };
        let old = {
            let mut ring = lock(&self.recent);
            let old = if ring.len() >= self.capacity {
                ring.pop_front()
            } else {
                None
            };
            ring.push_back(rec);
            old
        };
        // The evicted execution is freed outside the lock.
        drop(old);
        id
    }

    /// `GET /ui/api/executions`: newest first, without payloads.
    pub fn list(&self) -> Value {
        let ring = lock(&self.recent);
        let items: Vec<Value> = ring
            .iter()
            .rev()
            .map(|r| Value::Object(summary(r)))
            .collect();
        json!({"executions": items})
    }

    /// `GET /ui/api/executions/{id}`: everything kept, with the path and each state's I/O.
    pub fn detail(&self, id: u64) -> Option<Value> {
        let ring = lock(&self.recent);
        let r = ring.iter().find(|r| r.id == id)?;
        let events: Vec<Value> = r.events.iter().flatten().map(event_json).collect();
        let mut out = summary(r);
        let more = json!({
            "cause": r.cause,
            "input": r.input,
            "output": r.output,
            "path": path(r.events.as_deref().unwrap_or_default()),
            "states": states(r.events.as_deref().unwrap_or_default()),
            "events": events,
        });
        if let Value::Object(more) = more {
            out.extend(more);
        }
        Some(Value::Object(out))
    }

    /// The names of the states execution `id` entered (for the graph's highlight).
    pub fn visited(&self, id: u64) -> HashSet<String> {
        let ring = lock(&self.recent);
        ring.iter()
            .find(|r| r.id == id)
            .map(|r| {
                path(r.events.as_deref().unwrap_or_default())
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What the listing shows of an execution; its detail adds the payloads and events.
fn summary(r: &Recent) -> serde_json::Map<String, Value> {
    let v = json!({
        "id": r.id,
        "stateMachine": r.machine,
        "executionArn": r.execution_arn,
        "status": r.status,
        "startDate": millis(r.start),
        "durationMs": r.duration_ms,
        "error": r.error,
        "traced": r.events.is_some(),
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A history event as JSON, payloads as JSON text (as AWS's events carry them).
fn event_json(e: &HistoryEvent) -> Value {
    let details = super::logs::details_json(e, true);
    json!({
        "id": e.id,
        "previous_event_id": e.previous_event_id,
        "timestamp": millis(e.timestamp),
        "type": e.kind,
        "details": details,
    })
}

/// The name of the state an event is about, when it names one.
fn state_of(e: &HistoryEvent) -> Option<String> {
    if !e.kind.ends_with("StateEntered") {
        return None;
    }
    e.detail("name")
        .and_then(crate::value::Value::as_str)
        .map(str::to_string)
}

/// The states entered, in order, each once.
fn path(events: &[HistoryEvent]) -> Vec<String> {
    let mut seen = HashSet::new();
    events
        .iter()
        .filter_map(state_of)
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

/// Each state's last input and output, by name.
fn states(events: &[HistoryEvent]) -> Value {
    let mut out = serde_json::Map::new();
    for e in events {
        let name = e.detail("name").and_then(crate::value::Value::as_str);
        let (Some(name), true) = (name, e.kind.contains("State")) else {
            continue;
        };
        let entry = out
            .entry(name.to_string())
            .or_insert_with(|| json!({"type": e.kind.split("State").next().unwrap_or("")}));
        for key in ["input", "output"] {
            if let Some(v) = e.detail(key) {
                entry[key] = Value::String(v.to_json());
            }
        }
    }
    Value::Object(out)
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    response(status, "application/json", v.to_string())
}

fn not_found(what: &str) -> Response<Body> {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"message": format!("No {what}")}),
    )
}

/// Serves `/ui` and `/ui/api/…`.
pub(super) async fn route(server: &Arc<Server>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().clone();
    let api = path.strip_prefix("/ui/api/").unwrap_or("");
    match (&method, path.as_str()) {
        (&Method::GET, "/ui" | "/ui/") => {
            response(StatusCode::OK, "text/html; charset=utf-8", PAGE.into())
        }
        (&Method::GET, _) if api == "machines" => json_response(StatusCode::OK, &machines(server)),
        (&Method::GET, _) if api == "executions" => {
            json_response(StatusCode::OK, &server.console.list())
        }
        (&Method::GET, _) if api.starts_with("executions/") => {
            match api["executions/".len()..]
                .parse()
                .ok()
                .and_then(|id| server.console.detail(id))
            {
                Some(v) => json_response(StatusCode::OK, &v),
                None => not_found("such execution in the console's ring"),
            }
        }
        (&Method::GET, _) if api.starts_with("graph/") && api.ends_with(".svg") => {
            let name = percent_decode(&api["graph/".len()..api.len() - 4]);
            let visited = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("execution="))
                .and_then(|id| id.parse().ok())
                .map(|id| server.console.visited(id))
                .unwrap_or_default();
            match graph(server, &name, &visited) {
                Some(svg) => response(StatusCode::OK, "image/svg+xml", svg),
                None => not_found("such state machine"),
            }
        }
        (&Method::POST, _) if api.starts_with("start/") => {
            let name = percent_decode(&api["start/".len()..]);
            start(server, req, &name).await
        }
        _ => not_found(&format!("console route for {method} {path}")),
    }
}

/// `GET /ui/api/machines`: name, ARN and type of every state machine.
fn machines(server: &Server) -> Value {
    let reg = server.registry.read();
    let list: Vec<Value> = reg
        .by_name
        .values()
        .map(|m| json!({"name": m.name, "stateMachineArn": m.arn, "type": m.kind.as_aws()}))
        .collect();
    json!({"machines": list})
}

/// The machine's current definition as SVG, `visited` states highlighted.
fn graph(server: &Server, name: &str, visited: &HashSet<String>) -> Option<String> {
    let definition = server
        .registry
        .read()
        .by_name
        .get(name)?
        .current
        .definition
        .clone();
    let def = crate::definition::load(&definition).ok()?;
    Some(crate::graph::to_svg(
        &crate::graph::Graph::new(&def),
        visited,
    ))
}

/// `POST /ui/api/start/{name}`: the body is the input, `x-test-case` a mock test case; runs
/// the execution with its history recorded and answers with its result and console id.
async fn start(server: &Arc<Server>, req: Request<Incoming>, name: &str) -> Response<Body> {
    let test_case = req
        .headers()
        .get("x-test-case")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let (_, bytes) = match read_body(req, &server.config).await {
        Ok(x) => x,
        Err(e) => return error(&e),
    };
    let input = String::from_utf8_lossy(&bytes);
    let input = if input.trim().is_empty() {
        "{}"
    } else {
        input.trim()
    };
    let mut arn = server.registry.arns.machine(name);
    if let Some(case) = test_case {
        arn = format!("{arn}#{case}");
    }
    let body = json!({"stateMachineArn": arn, "input": input});
    let Value::Object(body) = body else {
        unreachable!("json! of an object literal is an object")
    };
    let req = Req::new(&body);
    let args = match executions::StartArgs::from_req(&req, true) {
        Ok(a) => a,
        Err(e) => return error(&e),
    };
    match executions::run_to_end(server, args, false, true).await {
        Ok(answer) => {
            let mut out = answer.to_value();
            let id = answer.record(server);
            let kept = server.console.capacity > 0;
            out["id"] = if kept { json!(id) } else { Value::Null };
            json_response(StatusCode::OK, &out)
        }
        Err(e) => error(&e),
    }
}

fn error(e: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, &json!({"error": e.kind, "message": e.message}))
}

/// `%XX` escapes in a path segment (machine names may hold spaces and the like).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
