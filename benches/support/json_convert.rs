//! Converters from simd-json's tape and sonic-rs's value into `expressway::value::Value`, shared
//! by `benches/json_libs.rs` and `examples/json_count.rs` (instruction counts).

use expressway::value::{Map, Value};
use std::sync::Arc;

// ---------- simd-json tape → Value ----------

/// Builds the value starting at `tape[*at]` and leaves `*at` past its last node.
pub fn from_tape(tape: &[simd_json::Node<'_>], at: &mut usize) -> Value {
    use simd_json::{Node, StaticNode};
    let node = tape[*at];
    *at += 1;
    match node {
        Node::String(s) => Value::str(s),
        Node::Static(StaticNode::Null) => Value::Null,
        Node::Static(StaticNode::Bool(b)) => Value::Bool(b),
        Node::Static(StaticNode::I64(i)) => Value::int(i),
        Node::Static(StaticNode::U64(u)) => match i64::try_from(u) {
            Ok(i) => Value::int(i),
            Err(_) => Value::float(u as f64),
        },
        Node::Static(StaticNode::F64(f)) => Value::float(f),
        Node::Array { len, .. } => {
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(from_tape(tape, at));
            }
            Value::Array(Arc::new(items))
        }
        Node::Object { len, .. } => {
            let mut map = Map::with_capacity(len);
            for _ in 0..len {
                let Node::String(k) = tape[*at] else {
                    unreachable!("simd-json keys are strings")
                };
                *at += 1;
                let v = from_tape(tape, at);
                map.insert(Arc::from(k), v);
            }
            Value::Object(Arc::new(map))
        }
    }
}

#[derive(Default)]
pub struct SimdTape {
    buffers: simd_json::Buffers,
    input: Vec<u8>,
}

impl SimdTape {
    pub fn parse(&mut self, text: &str) -> Value {
        self.input.clear();
        self.input.extend_from_slice(text.as_bytes());
        let tape =
            simd_json::to_tape_with_buffers(&mut self.input, &mut self.buffers).expect("parses");
        let mut at = 0;
        from_tape(&tape.0, &mut at)
    }
}

// ---------- sonic-rs Value → Value ----------

pub fn from_sonic(v: &sonic_rs::Value) -> Value {
    use sonic_rs::{JsonContainerTrait, JsonType, JsonValueTrait};
    match v.get_type() {
        JsonType::Null => Value::Null,
        JsonType::Boolean => Value::Bool(v.as_bool().unwrap_or_default()),
        JsonType::Number => {
            if let Some(i) = v.as_i64() {
                Value::int(i)
            } else {
                Value::float(v.as_f64().unwrap_or(f64::NAN))
            }
        }
        JsonType::String => Value::str(v.as_str().unwrap_or_default()),
        JsonType::Array => {
            let a = v.as_array().expect("an array");
            Value::Array(Arc::new(a.iter().map(from_sonic).collect()))
        }
        JsonType::Object => {
            let o = v.as_object().expect("an object");
            let mut map = Map::with_capacity(o.len());
            for (k, item) in o.iter() {
                map.insert(Arc::from(k), from_sonic(item));
            }
            Value::Object(Arc::new(map))
        }
    }
}
