//! JSON text ⇄ `Value`: the public parse entry points (over `parse.rs`, with serde_json's error
//! texts), the serde `Deserialize` visitor used at the edges, and a compact writer that prints
//! numbers the way AWS's answers show them.

use super::{Map, Number, Str, Value};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::sync::Arc;

/// Why a JSON text did not parse: serde_json's message, which names line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Parses JSON text. Duplicate keys: the last one wins, at the position of the first.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    parse_slice(text.as_bytes())
}

/// Parses JSON bytes (request bodies). Nesting past serde_json's recursion limit (128 levels)
/// is an error, never a stack overflow; error texts are serde_json's, naming line and column.
pub fn parse_slice(bytes: &[u8]) -> Result<Value, ParseError> {
    // PERF: own byte-level parser instead of serde_json's tokenizer + visitor (machine under
    // load 7-11 on 2 cores, alternated runs): parse of w3_map100.input vs serde_json::Value in the
    // same run 0.50x → 0.79x, w3_map100.expected 0.85x → 1.42x on `cargo bench --bench value`;
    // 2.2-2.4 k/s → 2.4-2.6 k/s on `cargo bench --bench workflows -- w3_map100/json_floor`.
    super::parse::document(bytes).map_err(|fail| error(bytes, fail))
}

/// The message for a failed parse: serde_json's own text for the same input (the error path
/// re-reads it, so texts stay exactly what callers saw before), else ours in its format.
#[cold]
fn error(bytes: &[u8], (code, at): super::parse::Fail) -> ParseError {
    if let Err(e) = serde_json::from_slice::<serde_json::Value>(bytes) {
        return ParseError(e.to_string());
    }
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
    ParseError(format!("{} at line {line} column {column}", code.text()))
}

pub(super) struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(Number::Int(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(match i64::try_from(v) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Float(v as f64),
        }))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(Arc::from(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::Array(Arc::new(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::with_capacity(access.size_hint().unwrap_or(0));
        while let Some(k) = access.next_key::<KeyStr>()? {
            let v = access.next_value::<Value>()?;
            map.insert(k.0, v);
        }
        Ok(Value::Object(Arc::new(map)))
    }
}

struct KeyStr(Str);

impl<'de> de::Deserialize<'de> for KeyStr {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<KeyStr, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyStr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyStr, E> {
                Ok(KeyStr(Arc::from(v)))
            }
        }
        d.deserialize_str(V)
    }
}

pub(super) fn number_from_serde(n: &serde_json::Number) -> Number {
    if let Some(i) = n.as_i64() {
        Number::Int(i)
    } else {
        Number::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Writes compact JSON.
pub(super) fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, *n),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

/// Numbers: integers as integers; floats in the shortest form that round-trips, formatted as
/// serde_json formats them (`1e+20`, `1.5`, `1.0`), `null` for non-finite values (JSON has no NaN).
pub fn write_number(out: &mut String, n: Number) {
    match n {
        // PERF: itoa/zmij into the output instead of `write!` and a `serde_json::to_string`.
        Number::Int(i) => out.push_str(itoa::Buffer::new().format(i)),
        Number::Float(f) if !f.is_finite() => out.push_str("null"),
        Number::Float(f) => out.push_str(zmij::Buffer::new().format_finite(f)),
    }
}

/// Bytes that need an escape inside a JSON string: control characters, quote, backslash.
pub(super) static ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Whether any of the eight bytes in `w` needs an escape (below 0x20, `"` or `\\`). Exact when
/// false; when true, the bytes are looked at one by one.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let quote = zero(w ^ (ONES * u64::from(b'"')));
    let backslash = zero(w ^ (ONES * u64::from(b'\\')));
    (control | quote | backslash) & HIGHS != 0
}

/// Writes a JSON string literal with the escapes JSON requires (what `JSON.stringify` and
/// serde_json write).
pub fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    // PERF: eight bytes tested at once, runs copied whole, and a quote or backslash only gets
    // its backslash pushed (the character itself starts the next run). Escaping a compact JSON
    // output (StartSyncExecution's `output`, quote-dense) took ~9 k instructions for w1's.
    let mut one = |out: &mut String, i: usize| {
        let b = bytes[i];
        if ESCAPE[b as usize] {
            out.push_str(&s[start..i]);
            if b == b'"' || b == b'\\' {
                out.push('\\');
                start = i;
            } else {
                push_escape(out, u16::from(b));
                start = i + 1;
            }
        }
    };
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        if word_needs_escape(u64::from_le_bytes(word)) {
            for j in i..i + 8 {
                one(out, j);
            }
        }
        i += 8;
    }
    for j in i..bytes.len() {
        one(out, j);
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Writes a JSON string literal with every character outside printable ASCII escaped, those
/// above U+FFFF as UTF-16 surrogate pairs (what Python's `json.dumps` writes by default).
pub fn write_str_ascii(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && !ESCAPE[c as usize] && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for &unit in c.encode_utf16(&mut units).iter() {
                push_escape(out, unit);
            }
        }
    }
    out.push('"');
}

/// The escape of one UTF-16 code unit: the short forms JSON has, else `\uXXXX` in lowercase hex.
fn push_escape(out: &mut String, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match unit {
        0x22 => out.push_str("\\\""),
        0x5c => out.push_str("\\\\"),
        0x0a => out.push_str("\\n"),
        0x0d => out.push_str("\\r"),
        0x09 => out.push_str("\\t"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        _ => {
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[usize::from((unit >> shift) & 15)] as char);
            }
        }
    }
}

/// Nesting handled by recursion in `len_within`; deeper subtrees are walked with a heap stack.
const LEN_RECURSION: usize = 128;

/// The length in bytes of the compact JSON `write` prints for `v`, or `None` as soon as it is
/// known to pass `limit`. Every value prints at least one byte, so at most `limit + 1` values are
/// visited whatever the value holds or shares, and nothing is allocated unless it nests deeper
/// than `LEN_RECURSION`.
/// An object measured before adds its remembered length (`Map::json_len_memo`).
pub(super) fn len_within(v: &Value, limit: usize) -> Option<usize> {
    let mut total = 0;
    add_len(v, limit, &mut total, 0).then_some(total)
}

/// Adds `v`'s length to `total`; `false` once `total` passes `limit`.
fn add_len(v: &Value, limit: usize, total: &mut usize, depth: usize) -> bool {
    match v {
        Value::Array(a) if depth < LEN_RECURSION => {
            *total += container_len(a.len());
            for item in a.iter() {
                if !add_len(item, limit, total, depth + 1) {
                    return false;
                }
            }
        }
        Value::Object(o) if depth < LEN_RECURSION => {
            // PERF: an object measured once keeps its length until it changes; a state's output
            // is mostly the previous one's objects: w1 92.7 k → 92.1 k, w1_jsonata 139.8 k → 131.5 k, w3_map100 1.67 M → 1.63 M
            // instructions per execution (examples/run_many under cachegrind).
            if let Some(n) = o.json_len_memo() {
                *total += n;
                return *total <= limit;
            }
            let before = *total;
            // Braces and commas, and a colon per member.
            *total += container_len(o.len()) + o.len();
            for (k, item) in o.iter() {
                *total += str_len(k);
                if !add_len(item, limit, total, depth + 1) {
                    return false;
                }
            }
            o.set_json_len_memo(*total - before);
        }
        Value::Array(_) | Value::Object(_) => return add_len_deep(v, limit, total),
        scalar => *total += scalar_len(scalar),
    }
    *total <= limit
}

/// `add_len` for a subtree nested past `LEN_RECURSION`: the same sum, in any order, off a heap
/// stack (a loop may nest its data one level per state, far deeper than recursion allows).
#[cold]
fn add_len_deep(v: &Value, limit: usize, total: &mut usize) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => {
                *total += container_len(a.len());
                stack.extend(a.iter());
            }
            Value::Object(o) => {
                *total += container_len(o.len()) + o.len();
                for (k, item) in o.iter() {
                    *total += str_len(k);
                    stack.push(item);
                }
            }
            scalar => *total += scalar_len(scalar),
        }
        if *total > limit {
            return false;
        }
    }
    true
}

/// Brackets and the commas between `n` members.
#[inline]
fn container_len(n: usize) -> usize {
    2 + n.saturating_sub(1)
}

#[inline]
fn scalar_len(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(Number::Int(i)) => {
            let digits = i
                .unsigned_abs()
                .checked_ilog10()
                .map_or(1, |d| d as usize + 1);
            digits + usize::from(*i < 0)
        }
        Value::Number(Number::Float(f)) if !f.is_finite() => 4,
        Value::Number(Number::Float(f)) => zmij::Buffer::new().format_finite(*f).len(),
        Value::String(s) => str_len(s),
        Value::Array(_) | Value::Object(_) => 0,
    }
}

/// A string literal's length as `write_str` prints it: quotes, and the escapes' extra bytes.
#[inline]
pub(super) fn str_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if !any_escape(bytes) {
        return bytes.len() + 2;
    }
    let extra: usize = bytes
        .iter()
        .filter(|&&b| ESCAPE[b as usize])
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            _ => 5,
        })
        .sum();
    bytes.len() + 2 + extra
}

/// Whether any byte needs an escape (a control character, a quote or a backslash).
// PERF: eight bytes a step (the classic "has a byte less than n" bit trick, exact for n <= 128)
// instead of a table test per byte: the walk's strings and keys are mostly short and plain.
#[inline]
fn any_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_less = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if has_less(x, 0x20) || has_less(x ^ (ONES * 0x22), 1) || has_less(x ^ (ONES * 0x5c), 1) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| ESCAPE[b as usize])
}
