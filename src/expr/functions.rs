//! The 18 intrinsic functions on evaluated arguments, with AWS's limits and edge cases.
//!
//! Any wrong argument (count, type, range) fails with `States.Runtime` and AWS's text
//! `Invalid arguments in States.<Name>`.

use super::intrinsic::{Arg, Intrinsic, IntrinsicFn, Piece, split_template};
use super::{EvalError, java};
use crate::value::{self, Map, Number, Value};
use base64::Engine as _;

/// `States.ArrayRange` may produce at most this many items.
const MAX_RANGE_ITEMS: i64 = 1000;
/// `States.Hash`, `States.Base64Encode` and `States.Base64Decode` accept at most this many
/// characters.
const MAX_STRING_INPUT: usize = 10_000;

fn invalid(f: IntrinsicFn) -> EvalError {
    EvalError::runtime(format!("Invalid arguments in {}", f.name()))
}

fn arity(f: IntrinsicFn, args: &[Value], min: usize, max: usize) -> Result<(), EvalError> {
    if (min..=max).contains(&args.len()) {
        Ok(())
    } else {
        Err(invalid(f))
    }
}

fn string(f: IntrinsicFn, v: &Value) -> Result<&str, EvalError> {
    v.as_str().ok_or_else(|| invalid(f))
}

fn array(f: IntrinsicFn, v: &Value) -> Result<&[Value], EvalError> {
    v.as_array().ok_or_else(|| invalid(f))
}

/// A number argument truncated toward zero to a 32-bit integer (Java's `intValue()`).
fn int_arg(f: IntrinsicFn, v: &Value) -> Result<i64, EvalError> {
    match v.as_number() {
        Some(Number::Int(i)) if i32::try_from(i).is_ok() => Ok(i),
        Some(Number::Float(x)) if x.is_finite() && x.abs() < 2_147_483_648.0 => {
            Ok(x.trunc() as i64)
        }
        _ => Err(invalid(f)),
    }
}

/// Java's `Math.round`: halves round up (`-1.5` → `-1`, `2.5` → `3`).
fn java_round(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// Runs the function on its evaluated arguments.
pub(crate) fn call(call: &Intrinsic, args: Vec<Value>) -> Result<Value, EvalError> {
    let f = call.func;
    match f {
        IntrinsicFn::Format => format(call, &args),
        IntrinsicFn::StringToJson => {
            arity(f, &args, 1, 1)?;
            let text = string(f, &args[0])?.trim();
            if text.is_empty() {
                return Ok(Value::Null);
            }
            match value::parse(text).map_err(|_| invalid(f))? {
                // serde reads `-0` as a float; Jackson (and AWS) read an integer 0.
                Value::Number(Number::Float(x)) if x == 0.0 && !text.contains(['.', 'e', 'E']) => {
                    Ok(Value::int(0))
                }
                v => Ok(v),
            }
        }
        IntrinsicFn::JsonToString => {
            arity(f, &args, 1, 1)?;
            Ok(Value::from(args[0].to_json()))
        }
        IntrinsicFn::Array => Ok(Value::array(args)),
        IntrinsicFn::ArrayPartition => {
            arity(f, &args, 2, 2)?;
            let items = array(f, &args[0])?;
            let size = int_arg(f, &args[1])?;
            if size <= 0 {
                return Err(invalid(f));
            }
            let chunks = items
                .chunks(size as usize)
                .map(|c| Value::array(c.to_vec()))
                .collect();
            Ok(Value::array(chunks))
        }
        IntrinsicFn::ArrayContains => {
            arity(f, &args, 2, 2)?;
            let items = array(f, &args[0])?;
            Ok(Value::Bool(items.iter().any(|v| json_eq(v, &args[1], 0))))
        }
        IntrinsicFn::ArrayRange => array_range(f, &args),
        IntrinsicFn::ArrayGetItem => {
            arity(f, &args, 2, 2)?;
            let items = array(f, &args[0])?;
            let index = int_arg(f, &args[1])?;
            // AWS answers null for any index into an empty array, and fails otherwise.
            if items.is_empty() {
                return Ok(Value::Null);
            }
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| invalid(f))
        }
        IntrinsicFn::ArrayLength => {
            arity(f, &args, 1, 1)?;
            Ok(Value::int(array(f, &args[0])?.len() as i64))
        }
        IntrinsicFn::ArrayUnique => {
            arity(f, &args, 1, 1)?;
            array_unique(array(f, &args[0])?)
        }
        IntrinsicFn::Base64Encode => {
            arity(f, &args, 1, 1)?;
            let s = string(f, &args[0])?;
            if s.chars().count() > MAX_STRING_INPUT {
                return Err(invalid(f));
            }
            Ok(Value::from(
                base64::engine::general_purpose::STANDARD.encode(s),
            ))
        }
        IntrinsicFn::Base64Decode => {
            arity(f, &args, 1, 1)?;
            let s = string(f, &args[0])?;
            if s.chars().count() > MAX_STRING_INPUT {
                return Err(invalid(f));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| invalid(f))?;
            // Java decodes bytes that are not UTF-8 to U+FFFD rather than failing.
            Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned()))
        }
        IntrinsicFn::Hash => hash(f, &args),
        IntrinsicFn::JsonMerge => {
            arity(f, &args, 3, 3)?;
            let (Some(a), Some(b)) = (args[0].as_object(), args[1].as_object()) else {
                return Err(invalid(f));
            };
            if args[2].as_bool() != Some(false) {
                return Err(invalid(f));
            }
            let mut merged: Map = a.clone();
            for (k, v) in b.iter() {
                merged.insert(k.clone(), v.clone());
            }
            Ok(Value::object(merged))
        }
        IntrinsicFn::MathRandom => math_random(f, &args),
        // Operands round half up (Java's Math.round); operands and sum stay 32-bit.
        IntrinsicFn::MathAdd => {
            arity(f, &args, 2, 2)?;
            let mut sum = 0i64;
            for a in &args {
                let x = a.as_f64().ok_or_else(|| invalid(f))?;
                let r = java_round(x);
                if !(-2_147_483_648.0..=2_147_483_647.0).contains(&r) {
                    return Err(invalid(f));
                }
                sum += r as i64;
            }
            if i32::try_from(sum).is_err() {
                return Err(invalid(f));
            }
            Ok(Value::int(sum))
        }
        IntrinsicFn::StringSplit => {
            arity(f, &args, 2, 2)?;
            let s = string(f, &args[0])?;
            let delims = string(f, &args[1])?;
            // Java's StringTokenizer: every delimiter character splits, empty tokens vanish.
            let parts = s
                .split(|c: char| delims.contains(c))
                .filter(|t| !t.is_empty())
                .map(Value::from)
                .collect();
            Ok(Value::array(parts))
        }
        IntrinsicFn::Uuid => {
            arity(f, &args, 0, 0)?;
            Ok(Value::from(uuid::Uuid::new_v4().to_string()))
        }
    }
}

/// `States.Format(template, args...)`: each `{}` takes the next argument, printed as Java
/// prints it (strings raw, objects `{k=v}`); the counts must match and every brace must
/// belong to a `{}` (or be escaped).
fn format(call: &Intrinsic, args: &[Value]) -> Result<Value, EvalError> {
    let f = IntrinsicFn::Format;
    let Some((template, rest)) = args.split_first() else {
        return Err(invalid(f));
    };
    let owned;
    let pieces: &[Piece] = match &call.pieces {
        Some(p) => p,
        None => {
            owned = split_template(string(f, template)?).ok_or_else(|| invalid(f))?;
            &owned
        }
    };
    if template.as_str().is_none() {
        return Err(invalid(f));
    }
    let holes = pieces.iter().filter(|p| **p == Piece::Placeholder).count();
    if holes != rest.len() {
        return Err(EvalError::runtime(
            "Invalid arguments in States.Format: number of arguments do not match the occurrences of {}.",
        ));
    }
    let mut out = String::new();
    let mut next = rest.iter().zip(call.args.iter().skip(1));
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Placeholder => match next.next() {
                // A nested call's result is a JSON node to AWS and prints as JSON text
                // (`States.StringToJson('"x"')` prints `"x"`); path values print as Java
                // objects (`x`, `{a=1}`).
                Some((v, Arg::Call(_))) => v.write_json(&mut out),
                Some((v, _)) => java::write(&mut out, v, 0),
                None => {}
            },
        }
    }
    Ok(Value::from(out))
}

/// `States.ArrayRange(start, end, step)`: inclusive of `end` when reached, at most 1000 items.
fn array_range(f: IntrinsicFn, args: &[Value]) -> Result<Value, EvalError> {
    arity(f, args, 3, 3)?;
    let start = int_arg(f, &args[0])?;
    let end = int_arg(f, &args[1])?;
    let step = int_arg(f, &args[2])?;
    if step == 0 {
        return Err(invalid(f));
    }
    let count = if (step > 0 && end >= start) || (step < 0 && end <= start) {
        (end - start) / step + 1
    } else {
        0
    };
    if count > MAX_RANGE_ITEMS {
        return Err(invalid(f));
    }
    Ok(Value::array(
        (0..count).map(|k| Value::int(start + k * step)).collect(),
    ))
}

/// Equality as Jackson's nodes see it: member order does not matter, `1` and `1.0` differ.
fn json_eq(a: &Value, b: &Value, depth: usize) -> bool {
    match (a, b) {
        (Value::Number(Number::Int(x)), Value::Number(Number::Int(y))) => x == y,
        (Value::Number(Number::Float(x)), Value::Number(Number::Float(y))) => x == y,
        (Value::Number(_), Value::Number(_)) => false,
        (Value::Array(x), Value::Array(y)) if depth < 256 => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| json_eq(p, q, depth + 1))
        }
        (Value::Object(x), Value::Object(y)) if depth < 256 => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q, depth + 1)))
        }
        _ => a == b,
    }
}

/// `States.ArrayUnique`: first occurrences kept, in order. Values compare as Jackson nodes do:
/// object member order does not matter, `1` and `1.0` differ.
fn array_unique(items: &[Value]) -> Result<Value, EvalError> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        let mut key = String::new();
        canonical_key(&mut key, v, 0);
        if seen.insert(key) {
            out.push(v.clone());
        }
    }
    Ok(Value::array(out))
}

fn canonical_key(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Object(map) if depth < 256 => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (k, item) in members {
                Value::String(k.clone()).write_json(out);
                out.push(':');
                canonical_key(out, item, depth + 1);
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) if depth < 256 => {
            out.push('[');
            for item in items.iter() {
                canonical_key(out, item, depth + 1);
                out.push(',');
            }
            out.push(']');
        }
        other => other.write_json(out),
    }
}

/// `States.Hash(data, algorithm)`: lowercase hex digest of the UTF-8 string.
fn hash(f: IntrinsicFn, args: &[Value]) -> Result<Value, EvalError> {
    arity(f, args, 2, 2)?;
    let data = string(f, &args[0])?;
    if data.chars().count() > MAX_STRING_INPUT {
        return Err(invalid(f));
    }
    let hex = crate::digest::hex_digest(string(f, &args[1])?, data.as_bytes());
    Ok(Value::from(hex.ok_or_else(|| invalid(f))?))
}

/// `States.MathRandom(start, end[, seed])`: an integer in `[start, end)`.
fn math_random(f: IntrinsicFn, args: &[Value]) -> Result<Value, EvalError> {
    use rand::{Rng as _, SeedableRng as _};
    arity(f, args, 2, 3)?;
    let start = int_arg(f, &args[0])?;
    let end = int_arg(f, &args[1])?;
    if start >= end {
        return Err(invalid(f));
    }
    let n = match args.get(2) {
        Some(seed) => {
            let seed = int_arg(f, seed)?;
            rand::rngs::StdRng::seed_from_u64(seed as u64).gen_range(start..end)
        }
        None => rand::thread_rng().gen_range(start..end),
    };
    Ok(Value::int(n))
}
