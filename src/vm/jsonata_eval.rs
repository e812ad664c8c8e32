//! JSONata in a state: `$states` and workflow variables as bindings, templates evaluated into
//! JSON, and AWS's `States.QueryEvaluationError` texts for what does not fit.

use super::{ErrorName, Execution, Variables};
use crate::compile::{JExpr, JTemplate};
use crate::expr::Vars;
use crate::jsonata;
use crate::value::{Map, Str, Value};
use std::sync::LazyLock;

/// An error name and the cause detail (without the state prefix).
pub(super) struct Failure(pub String, pub String);

/// The bindings of one evaluation: `$states` and the visible variables.
pub(super) struct States<'a> {
    input: Value,
    context: Value,
    result: Option<Value>,
    error_output: Option<Value>,
    vars: &'a Variables,
    /// When the execution's time runs out: a long evaluation stops there.
    deadline: Option<std::time::Instant>,
}

impl<'a> States<'a> {
    pub fn new(exec: &'a Execution, input: &Value, context: Value) -> States<'a> {
        States {
            input: input.clone(),
            context,
            result: None,
            error_output: None,
            vars: &exec.vars,
            deadline: exec.info().deadline,
        }
    }

    pub fn with_result(mut self, result: Value) -> States<'a> {
        self.result = Some(result);
        self
    }

    pub fn with_error_output(mut self, e: Value) -> States<'a> {
        self.error_output = Some(e);
        self
    }

    fn states_value(&self) -> Value {
        let [input, context, result, error_output] = &*KEYS;
        let mut m = Map::with_capacity(4);
        m.insert(input.clone(), self.input.clone());
        m.insert(context.clone(), self.context.clone());
        if let Some(r) = &self.result {
            m.insert(result.clone(), r.clone());
        }
        if let Some(e) = &self.error_output {
            m.insert(error_output.clone(), e.clone());
        }
        Value::object(m)
    }
}

/// The member names of `$states`, allocated once.
static KEYS: LazyLock<[Str; 4]> =
    LazyLock::new(|| ["input", "context", "result", "errorOutput"].map(Str::from));

impl jsonata::Env for States<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        if name == "states" {
            return Some(self.states_value());
        }
        self.vars.get(name).cloned()
    }

    // PERF: `$states.input` no longer builds and converts a `$states` object per
    // evaluation: w1_jsonata 77 µs → 57 µs on `cargo bench --bench workflows -- w1` (pass_chain 20 µs).
    fn lookup_member(&self, name: &str, member: &str) -> Option<Option<Value>> {
        if name != "states" {
            return None;
        }
        Some(match member {
            "input" => Some(self.input.clone()),
            "context" => Some(self.context.clone()),
            "result" => self.result.clone(),
            "errorOutput" => self.error_output.clone(),
            _ => None,
        })
    }
}

fn qe(detail: String) -> Failure {
    Failure(ErrorName::QUERY_EVALUATION_ERROR.to_string(), detail)
}

/// Evaluates one expression to a JSON value; undefined and functions are errors.
pub(super) fn expr(e: &JExpr, states: &States) -> Result<Value, Failure> {
    let run = |hand_off_after| {
        let limits = jsonata::Limits {
            deadline: states.deadline,
            hand_off_after,
            ..jsonata::Limits::default()
        };
        e.expr
            .evaluate_outcome(Some(&states.input), states, &limits)
    };
    match super::limits::off_the_workers(run) {
        Ok(jsonata::Outcome::Value(v)) => Ok(v),
        Ok(jsonata::Outcome::Undefined) => Err(qe(format!(
            "The JSONata expression '{}' specified for the field '{}' returned nothing (undefined).",
            e.src, e.field
        ))),
        Ok(jsonata::Outcome::Function) => Err(qe(format!(
            "The JSONata expression '{}' specified for the field '{}' returned an unsupported result type.",
            e.src, e.field
        ))),
        Err(err) => Err(qe(format!(
            "The JSONata expression '{}' specified for the field '{}' threw an error during evaluation. {}",
            e.src, e.field, err
        ))),
    }
}

/// Evaluates a template: literals as they are, expressions in place.
pub(super) fn template(
    t: &JTemplate,
    states: &States,
    depth: Option<usize>,
) -> Result<Value, Failure> {
    let depth = depth.unwrap_or(0);
    match t {
        JTemplate::Literal(v) => Ok(v.clone()),
        JTemplate::Expr(e) => expr(e, states),
        JTemplate::Object(members) => {
            let mut m = Map::with_capacity(members.len());
            for (k, t) in members {
                m.insert(k.clone(), template(t, states, Some(depth + 1))?);
            }
            Ok(Value::object(m))
        }
        JTemplate::Array(items) => Ok(Value::array(
            items
                .iter()
                .map(|t| template(t, states, Some(depth + 1)))
                .collect::<Result<_, _>>()?,
        )),
    }
}
