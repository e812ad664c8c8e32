//! Interim placeholder until the JSONata evaluator lands: every expression is rejected.

use crate::value::Value;

/// A compiled expression.
#[derive(Debug)]
pub struct Expr;

/// Why compiling or evaluating failed.
#[derive(Debug)]
pub struct Error {
    pub code: String,
    pub message: String,
}

/// Variable bindings.
pub trait Env {
    fn lookup(&self, name: &str) -> Option<Value>;
}

/// Evaluation bounds.
#[derive(Debug, Default)]
pub struct Limits;

/// Compiles with Step Functions' function set.
pub fn compile_step_functions(_src: &str) -> Result<Expr, Error> {
    Err(Error {
        code: "S0000".into(),
        message: "JSONata is not available yet".into(),
    })
}

impl Expr {
    pub fn evaluate(
        &self,
        _input: Option<&Value>,
        _env: &dyn Env,
        _limits: &Limits,
    ) -> Result<Option<Value>, Error> {
        Err(Error {
            code: "S0000".into(),
            message: "JSONata is not available yet".into(),
        })
    }
}
