//! JSON text as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII escaped):
//! the bytes a Python Lambda runtime returns, which AWS passes through into causes and
//! `Content-Length` headers.
//!
//! In: a `Value`. Out: its text as `json.dumps` prints it.

use crate::value::{Value, write_str_ascii};

/// Depth beyond which nested values are written as `null` (input is already depth-bounded by the
/// parser; this keeps the writer safe on values built in code).
const MAX_DEPTH: usize = 512;

/// `json.dumps(value)` as Python's default settings print it.
pub(crate) fn dumps(value: &Value) -> String {
    let mut out = String::with_capacity(64);
    write(&mut out, value, 0);
    out
}

fn write(out: &mut String, value: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("null");
        return;
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(_) => value.write_json(out),
        Value::String(s) => write_str_ascii(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, v, depth + 1);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_ascii(out, k);
                out.push_str(": ");
                write(out, v, depth + 1);
            }
            out.push('}');
        }
    }
}
