//! JSON values as the engine sees them.
//!
//! In: JSON text (execution input, task results, definition literals). Out: JSON text.
//! Nothing here knows about states or paths.
//!
//! A `Value` is an immutable tree whose containers are reference counted, so the data flow of a
//! workflow (InputPath selects a subtree, ResultPath grafts a result into the input, a Map hands
//! each iteration one item) shares structure instead of copying it, and an execution parked on a
//! Task moves between worker threads without an arena/lifetime boundary. Objects keep insertion
//! order and numbers keep the integer/float distinction, as AWS's answers do.

mod json;
mod map;
mod parse;

use std::fmt;
use std::sync::Arc;

pub use json::{ParseError, parse, parse_slice};
/// JSON string literals for writers of other JSON dialects (`JSON.stringify`, Python's
/// `json.dumps`) that share the escapes.
pub(crate) use json::{write_str, write_str_ascii};
pub use map::Map;

/// Shared, immutable string: cloning a key or a string value is a reference-count bump.
pub type Str = Arc<str>;

/// A JSON value. Cloning is O(1): containers are behind `Arc`.
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, integer or float.
    Number(Number),
    /// A string (shared; clones do not copy it).
    String(Str),
    /// An array (shared; clones do not copy it).
    Array(Arc<Vec<Value>>),
    /// An object, its members in insertion order (shared; clones do not copy it).
    Object(Arc<Map>),
}

// Every array slot, map value and VM register is a `Value`: it stays three words.
const _: () = assert!(std::mem::size_of::<Value>() <= 24);

/// A JSON number. Integers that fit `i64` stay integers (AWS prints `3`, not `3.0`).
#[derive(Clone, Copy, Debug)]
pub enum Number {
    /// An integer that fits `i64`.
    Int(i64),
    /// Any other number (a fraction, an exponent, or an integer past `i64`).
    Float(f64),
}

impl Number {
    /// The value as a double, as comparisons and arithmetic see it.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Whether this number is integral (an `Int`, or a float without a fraction).
    pub fn is_integral(self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }

    /// The number as an `i64` when it is integral and in range.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 => {
                Some(f as i64)
            }
            Number::Float(_) => None,
        }
    }

    /// Whether the number comes back unchanged from a trip through a double and
    /// [`Number::from_f64_normalised`] (integers beyond ±9e15 lose digits, integral floats
    /// become integers): JSONata evaluates in doubles, and prints what it gets.
    pub fn survives_doubles(self) -> bool {
        match self {
            Number::Int(i) => (i as f64).abs() < 9.0e15,
            Number::Float(f) => {
                matches!(Number::from_f64_normalised(f), Number::Float(g) if g.to_bits() == f.to_bits())
            }
        }
    }

    /// A float result that is integral becomes an `Int` (JSONata and intrinsics print `2`, not `2.0`).
    pub fn from_f64_normalised(f: f64) -> Number {
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            _ => self.as_f64() == other.as_f64(),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality; numbers compare by value (`1 == 1.0`), object member order is ignored.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::Object(a), Value::Object(b)) => {
                Arc::ptr_eq(a, b)
                    || (a.len() == b.len()
                        && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v == w)))
            }
            _ => false,
        }
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    /// An integer value.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    /// A float value kept as a float.
    pub fn float(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }

    /// An array value from owned items.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// An object value from an owned map.
    pub fn object(map: Map) -> Value {
        Value::Object(Arc::new(map))
    }

    /// An empty object.
    pub fn empty_object() -> Value {
        Value::Object(Arc::new(Map::new()))
    }

    /// The JSON type name as AWS's error texts spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The text of a string; `None` for any other type.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number; `None` for any other type.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as a double; `None` for any other type.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// The number as an `i64` when it is integral and in range; `None` otherwise.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The boolean; `None` for any other type.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of an array; `None` for any other type.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members of an object; `None` for any other type.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether this is JSON `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Member `key` of an object; `None` for a missing member or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// Drops a value without recursion: a value nested far deeper than the stack allows (a loop
    /// that wraps its input one level per turn) would otherwise overflow it when dropped.
    pub fn dismantle(self) {
        // Only containers this value alone owns are taken apart; the stack allocates only when
        // such a container holds another one.
        fn owned_container(v: &Value) -> bool {
            match v {
                Value::Array(a) => Arc::strong_count(a) == 1,
                Value::Object(o) => Arc::strong_count(o) == 1,
                _ => false,
            }
        }
        let mut stack: Vec<Value> = Vec::new();
        let mut next = Some(self);
        while let Some(v) = next.take().or_else(|| stack.pop()) {
            match v {
                Value::Array(a) => {
                    if let Ok(items) = Arc::try_unwrap(a) {
                        stack.extend(items.into_iter().filter(owned_container));
                    }
                }
                Value::Object(o) => {
                    if let Ok(map) = Arc::try_unwrap(o) {
                        stack.extend(map.into_values().filter(owned_container));
                    }
                }
                _ => {}
            }
        }
    }

    /// The length in bytes of this value's compact JSON (as `to_json` prints it, UTF-8), or `None`
    /// once it passes `limit`: AWS's payload and variable quotas measure exactly this, and the
    /// walk stops early, so checking a huge value against a small limit costs little.
    pub fn json_len_within(&self, limit: usize) -> Option<usize> {
        json::len_within(self, limit)
    }

    /// The length of `s` as a JSON string literal (quotes and escapes included): an object
    /// member's key, for callers that measure an object member by member.
    pub fn json_str_len(s: &str) -> usize {
        json::str_len(s)
    }

    /// Whether the value is nested deeper than `depth` or its compact JSON would exceed about
    /// `bytes`: a walk without recursion that stops as soon as it knows (at most `bytes` steps,
    /// whatever the value shares).
    pub fn exceeds(&self, depth: usize, bytes: usize) -> bool {
        let mut stack = vec![(self, 1usize)];
        let mut size = 0usize;
        while let Some((v, d)) = stack.pop() {
            if d > depth {
                return true;
            }
            size += match v {
                Value::String(s) => s.len() + 2,
                Value::Array(a) => {
                    stack.extend(a.iter().map(|x| (x, d + 1)));
                    a.len() + 1
                }
                Value::Object(o) => {
                    stack.extend(o.iter().map(|(_, x)| (x, d + 1)));
                    o.keys().map(|k| k.len() + 4).sum::<usize>() + 1
                }
                _ => 4,
            };
            if size > bytes {
                return true;
            }
        }
        false
    }

    /// Compact JSON text, as AWS serialises outputs (no spaces).
    pub fn to_json(&self) -> String {
        // PERF: 128 like serde_json::to_string: small outputs (w2, w4) never regrow.
        let mut out = String::with_capacity(128);
        json::write(&mut out, self);
        out
    }

    /// Appends compact JSON text to `out`.
    pub fn write_json(&self, out: &mut String) {
        json::write(out, self);
    }

    /// The value converted from a `serde_json::Value` (used at the edges: definitions, tests).
    pub fn from_serde(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(json::number_from_serde(n)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::array(a.iter().map(Value::from_serde).collect()),
            serde_json::Value::Object(o) => Value::object(
                o.iter()
                    .map(|(k, v)| (Str::from(k.as_str()), Value::from_serde(v)))
                    .collect(),
            ),
        }
    }

    /// The value as a `serde_json::Value` (at the edges only; key order follows serde_json's map).
    pub fn to_serde(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json()).expect("our own JSON output always parses")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Arc::from(s))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(Number::Int(i)) => s.serialize_i64(*i),
            Value::Number(Number::Float(f)) => s.serialize_f64(*f),
            Value::String(v) => s.serialize_str(v),
            Value::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o.iter() {
                    map.serialize_entry(&**k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(json::ValueVisitor)
    }
}

#[cfg(test)]
mod tests;
