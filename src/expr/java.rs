//! How AWS's Java runtime prints values where it uses `toString()` rather than JSON:
//! `States.Format` arguments (`{Arg1=1, Arg2=[]}`) and Jayway's error texts.

use crate::value::{Number, Value};
use std::fmt::Write as _;

/// Java's `toString()` of the value as Jackson maps it (`LinkedHashMap`, `ArrayList`, boxed
/// numbers): strings unquoted, objects `{k=v, ...}`, arrays `[a, b]`, doubles as
/// `Double.toString`.
pub(crate) fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v, 0);
    out
}

/// Appends [`to_string`] of `v`.
pub(crate) fn write(out: &mut String, v: &Value, depth: usize) {
    if depth > 256 {
        out.push_str("...");
        return;
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, *n),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, item, depth + 1);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write(out, item, depth + 1);
            }
            out.push('}');
        }
    }
}

/// Integers as `Long.toString`, floats as `Double.toString` (`1.5`, `2.0`, `1.0E10`, `1.0E-5`).
pub(crate) fn write_number(out: &mut String, n: Number) {
    match n {
        Number::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Number::Float(f) => write_double(out, f),
    }
}

fn write_double(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
    } else if (1e-3..1e7).contains(&f.abs()) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    } else {
        // Rust's `{:e}` gives the shortest digits: `1.5e10`, `1e-5`.
        let sci = format!("{f:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exp);
    }
}

/// The Java class Jackson would hand Jayway for this value, as Jayway names it in errors.
pub(crate) fn class_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(Number::Int(i)) if i32::try_from(*i).is_ok() => "java.lang.Integer",
        Value::Number(Number::Int(_)) => "java.lang.Long",
        Value::Number(Number::Float(_)) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "java.util.ArrayList",
        Value::Object(_) => "java.util.LinkedHashMap",
    }
}
