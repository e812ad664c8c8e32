//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, JSONPath `Arguments`):
//! a JSON value whose `"key.$"` members take their value from a path or an intrinsic call.

use super::intrinsic::Intrinsic;
use super::path::{Path, Root};
use super::{EvalError, MAX_DEPTH, Scope, SyntaxError};
use crate::value::{Map, Str, Value};

/// A compiled template. Subtrees without any `.$` key are kept as one shared literal.
#[derive(Clone, Debug)]
pub struct Template {
    node: Node,
    bound: Option<Bound>,
}

/// What a payload's compact JSON can grow to: `fixed` bytes, plus at most the state input's
/// size per path into the input (a definite path selects one subtree of it).
#[derive(Clone, Copy, Debug)]
struct Bound {
    fixed: usize,
    input_paths: usize,
}

#[derive(Clone, Debug)]
enum Node {
    /// A subtree with nothing to evaluate: cloned in O(1).
    Literal(Value),
    /// An object with at least one dynamic member somewhere below.
    Object(Box<[(Str, Node)]>),
    Array(Box<[Node]>),
    /// `"key.$": "$.path"`; `field` is the key as written (AWS quotes it in errors).
    Path {
        path: Path,
        field: Str,
    },
    /// `"key.$": "States.Fn(...)"`.
    Call {
        call: Intrinsic,
        field: Str,
    },
}

impl Template {
    /// Compiles a template from its JSON. A `.$` key needs a string value that is a path
    /// (`$.x`, `$$.x`, `$var`) or an intrinsic call; keys must stay unique once `.$` is dropped.
    pub fn compile(v: &Value) -> Result<Template, SyntaxError> {
        let node = compile(v, 0)?;
        Ok(Template {
            bound: bound(&node),
            node,
        })
    }

    /// An upper bound on the compact JSON size of what `eval` builds when the state input's is
    /// at most `input` bytes; `None` when a part has none (an intrinsic call, a path into the
    /// context object or a variable, a path that may select many values). Payload quotas then
    /// need no measuring of small payloads.
    pub fn size_bound(&self, input: usize) -> Option<usize> {
        let b = self.bound?;
        Some(b.fixed.saturating_add(b.input_paths.saturating_mul(input)))
    }

    /// Whether evaluating can only return the literal itself (no `.$` key anywhere).
    pub fn is_literal(&self) -> bool {
        matches!(self.node, Node::Literal(_))
    }

    /// The value itself when the template is literal, so a caller can skip evaluation.
    pub fn literal(&self) -> Option<&Value> {
        match &self.node {
            Node::Literal(v) => Some(v),
            _ => None,
        }
    }

    /// Builds the payload for one evaluation.
    pub fn eval(&self, scope: &Scope) -> Result<Value, EvalError> {
        eval(&self.node, scope)
    }
}

fn bound(node: &Node) -> Option<Bound> {
    let members = |n: usize| 2 + n.saturating_sub(1);
    Some(match node {
        Node::Literal(v) => Bound {
            fixed: v.json_len_within(usize::MAX)?,
            input_paths: 0,
        },
        Node::Object(items) => {
            let mut b = Bound {
                fixed: members(items.len()) + items.len(),
                input_paths: 0,
            };
            for (key, item) in items.iter() {
                let c = bound(item)?;
                b.fixed = b.fixed.saturating_add(Value::json_str_len(key) + c.fixed);
                b.input_paths += c.input_paths;
            }
            b
        }
        Node::Array(items) => {
            let mut b = Bound {
                fixed: members(items.len()),
                input_paths: 0,
            };
            for item in items.iter() {
                let c = bound(item)?;
                b.fixed = b.fixed.saturating_add(c.fixed);
                b.input_paths += c.input_paths;
            }
            b
        }
        Node::Path { path, .. } if path.is_definite() && matches!(path.root(), Root::Input) => {
            Bound {
                fixed: 0,
                input_paths: 1,
            }
        }
        Node::Path { .. } | Node::Call { .. } => return None,
    })
}

/// Bound on how deep `has_dynamic` looks; anything deeper is taken as literal.
const SCAN_DEPTH: usize = 512;

fn has_dynamic(v: &Value, depth: usize) -> bool {
    if depth > SCAN_DEPTH {
        return false;
    }
    match v {
        Value::Object(map) => map
            .iter()
            .any(|(k, item)| k.ends_with(".$") || has_dynamic(item, depth + 1)),
        Value::Array(items) => items.iter().any(|item| has_dynamic(item, depth + 1)),
        _ => false,
    }
}

fn compile(v: &Value, depth: usize) -> Result<Node, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(SyntaxError::new(
            "The payload template is nested too deeply",
        ));
    }
    if !has_dynamic(v, depth) {
        return Ok(Node::Literal(v.clone()));
    }
    match v {
        Value::Object(map) => {
            let mut members: Vec<(Str, Node)> = Vec::with_capacity(map.len());
            for (key, item) in map.iter() {
                let (name, node) = match key.strip_suffix(".$") {
                    Some(name) => (Str::from(name), dynamic(key, item)?),
                    None => (key.clone(), compile(item, depth + 1)?),
                };
                if members.iter().any(|(n, _)| *n == name) {
                    return Err(SyntaxError::new(format!(
                        "The field '{name}' appears more than once once '.$' suffixes are removed"
                    )));
                }
                members.push((name, node));
            }
            Ok(Node::Object(members.into_boxed_slice()))
        }
        Value::Array(items) => {
            let nodes = items
                .iter()
                .map(|item| compile(item, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Node::Array(nodes.into_boxed_slice()))
        }
        other => Ok(Node::Literal(other.clone())),
    }
}

fn dynamic(key: &Str, item: &Value) -> Result<Node, SyntaxError> {
    let Some(text) = item.as_str() else {
        return Err(SyntaxError::new(format!(
            "The value for the field '{key}' must be a STRING that contains a JSONPath or an intrinsic function call"
        )));
    };
    if Intrinsic::looks_like(text) {
        let call = Intrinsic::parse(text)?;
        Ok(Node::Call {
            call,
            field: key.clone(),
        })
    } else if text.starts_with('$') {
        let path = Path::parse(text)?;
        Ok(Node::Path {
            path,
            field: key.clone(),
        })
    } else {
        Err(SyntaxError::new(not_a_path_or_call(key)))
    }
}

/// Why the `"key.$"` field `key` holds neither a path nor an intrinsic call (AWS's wording;
/// `crate::definition` reports the same problem with it).
pub fn not_a_path_or_call(key: &str) -> String {
    format!(
        "The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
    )
}

fn eval(node: &Node, scope: &Scope) -> Result<Value, EvalError> {
    match node {
        Node::Literal(v) => Ok(v.clone()),
        Node::Object(members) => {
            // PERF: w3_map100: room for one more member, which a ResultPath after Parameters
            // often adds (each iteration's `Mark` grew and rehashed its object).
            let mut map = Map::with_capacity(members.len() + 1);
            for (name, item) in members.iter() {
                // Compilation checked the names are distinct.
                map.push_unique(name.clone(), eval(item, scope)?);
            }
            Ok(Value::object(map))
        }
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                out.push(eval(item, scope)?);
            }
            Ok(Value::array(out))
        }
        Node::Path { path, field } => path.select_for(scope, field),
        Node::Call { call, field } => call.eval_for(scope, field),
    }
}
