//! Entry points for the fuzz targets in `fuzz/` and for `tests/fuzz_corpus.rs`, which replays the
//! committed corpus through the same functions so CI checks it without a fuzzer.
//!
//! Each function takes arbitrary bytes and must return without panicking, overflowing the stack
//! or hanging; what it computes is thrown away. Two-part inputs are split at the first NUL byte
//! (`part\0rest`); without one, the second part is a small fixed document. Not part of the API.

use std::time::Duration;

use crate::expr::{Intrinsic, Path, Scope, Template};
use crate::value::Value;

/// A fuzz target's entry: arbitrary bytes in, nothing out, never a panic.
pub type Entry = fn(&[u8]);

/// The corpus directories under `fuzz/corpus/` and the function each one feeds.
pub const TARGETS: &[(&str, Entry)] = &[
    ("definition", definition),
    ("jsonpath", jsonpath),
    ("intrinsic", intrinsic),
    ("jsonata", jsonata),
    ("template", template),
    ("execution", execution),
    #[cfg(feature = "server")]
    ("aws_request", aws_request),
    #[cfg(feature = "server")]
    ("sigv4", sigv4),
];

const DOC: &str = r#"{"a":1,"b":[1,2.5,"x",null,true,{"c":[{"d":"e"}]}],"s":"text","o":{"k":"v"}}"#;

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `part\0rest`, or `(data, DOC)`.
fn split(data: &[u8]) -> Option<(&str, &str)> {
    let s = text(data)?;
    Some(s.split_once('\0').unwrap_or((s, DOC)))
}

fn doc(s: &str) -> Value {
    crate::value::parse(s).unwrap_or_else(|_| crate::value::parse(DOC).expect("DOC is JSON"))
}

fn context() -> Value {
    crate::value::parse(r#"{"Execution":{"Id":"arn:x","Input":{}},"State":{"Name":"S"}}"#)
        .expect("context is JSON")
}

/// A definition: parse, validate, compile.
pub fn definition(data: &[u8]) {
    if let Some(s) = text(data) {
        let _ = crate::engine::Engine::new(crate::engine::Settings::default()).compile(s);
    }
}

/// A JSONPath (`path\0document`): parse, then select from the document.
pub fn jsonpath(data: &[u8]) {
    let Some((path, d)) = split(data) else { return };
    let input = doc(d);
    let ctx = context();
    if let Ok(p) = Path::parse(path) {
        let _ = p.select(&Scope::new(&input, &ctx));
        let _ = p.canonical();
    }
    let _ = crate::expr::ReferencePath::parse(path);
}

/// An intrinsic call (`States.Format(...)\0document`): parse, then evaluate.
pub fn intrinsic(data: &[u8]) {
    let Some((call, d)) = split(data) else { return };
    let input = doc(d);
    let ctx = context();
    if let Ok(i) = Intrinsic::parse(call) {
        let _ = i.eval(&Scope::new(&input, &ctx));
    }
}

/// A JSONata expression (`expression\0input`): compile (both dialects), then evaluate under
/// tight limits.
pub fn jsonata(data: &[u8]) {
    let Some((src, d)) = split(data) else { return };
    let input = doc(d);
    let limits = crate::jsonata::Limits {
        max_time: Duration::from_millis(200),
        max_items: 100_000,
        max_string: 1 << 20,
        ..crate::jsonata::Limits::default()
    };
    if let Ok(e) = crate::jsonata::compile(src) {
        let _ = e.evaluate(Some(&input), &(), &limits);
    }
}

/// A payload template (`{"x.$": "$.a", ...}\0input`): compile, then evaluate.
pub fn template(data: &[u8]) {
    let Some((t, d)) = split(data) else { return };
    let Ok(t) = crate::value::parse(t) else {
        return;
    };
    let input = doc(d);
    let ctx = context();
    if let Ok(t) = Template::compile(&t) {
        let _ = t.size_bound(100);
        let _ = t.eval(&Scope::new(&input, &ctx));
    }
}

/// A whole execution (`definition\0input`) on a one-thread runtime, cut off after a second.
pub fn execution(data: &[u8]) {
    let Some((def, input)) = split(data) else {
        return;
    };
    let settings = crate::engine::Settings {
        max_execution_duration: Duration::from_secs(1),
        map_unbounded_concurrency: 16,
        ..crate::engine::Settings::default()
    };
    let engine = crate::engine::Engine::new(settings);
    let Ok(program) = engine.compile(def) else {
        return;
    };
    let meta = crate::engine::ExecutionMeta::express(engine.settings(), "fuzz", "one");
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let _ = rt.block_on(engine.execute(program, input, meta));
}

/// An AWS JSON 1.0 request (`Operation\0body`) through the operation handlers of a fresh server.
#[cfg(feature = "server")]
pub fn aws_request(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let (op, body) = s.split_once('\0').unwrap_or(("CreateStateMachine", s));
    crate::server::fuzz_request(op, body.as_bytes());
}

/// A signed request (`header: value` lines, `\0`, body) through the SigV4 verifier.
#[cfg(feature = "server")]
pub fn sigv4(data: &[u8]) {
    let (head, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    crate::server::fuzz_sigv4(head, body);
}

/// Runs every target on `data` (a quick smoke check).
pub fn all(data: &[u8]) {
    for (_, f) in TARGETS {
        f(data);
    }
}
