//! JSONata 2.0.6, our own evaluator: Step Functions evaluates `"{% expr %}"` fields with it.
//!
//! In: expression text (compiled once by [`compile`]), then per evaluation an input value, an
//! [`Env`] of variable bindings (`$states`, workflow variables) and [`Limits`]. Out: a JSON
//! [`Value`] or `None` (JSONata's `undefined`), or an [`Error`] coded and worded as jsonata-js.
//! Never here: I/O, panics on any input, unbounded recursion, time or allocation (every
//! evaluation is bounded by its `Limits`).

mod ast;
mod datetime;
mod errors;
mod eval;
mod format;
mod functions;
mod functions2;
mod intfmt;
mod lexer;
mod numfmt;
mod parser;
mod signature;
mod stack;
mod value;

#[cfg(test)]
mod tests;

pub use eval::FUNCTION_RESULT;
use std::sync::Arc;
use std::time::Duration;

use crate::value::{Map, Value};

/// An error as jsonata-js reports it: `code` ("T2001", "D3001"...), its message text, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// jsonata-js's error code; tests and Step Functions error causes compare it.
    pub code: String,
    /// The message, worded as jsonata-js 2.0.6 words it.
    pub message: String,
    /// Char offset in the expression, when known.
    pub position: Option<usize>,
    /// The token the error is about (operator, function name), when known.
    pub token: Option<String>,
    pub(crate) value: Option<String>,
    pub(crate) value2: Option<String>,
    pub(crate) index: Option<usize>,
    pub(crate) type_name: Option<&'static str>,
}

impl Error {
    pub(crate) fn new(code: &str, position: Option<usize>, token: Option<String>) -> Error {
        Error {
            code: code.to_string(),
            message: String::new(),
            position,
            token,
            value: None,
            value2: None,
            index: None,
            type_name: None,
        }
    }

    /// Fills `message` from the code's template, unless it was set explicitly.
    pub(crate) fn finish(mut self) -> Error {
        if self.message.is_empty() {
            self.message = errors::render(&self);
        }
        self
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// Variable bindings visible to an expression (names without `$`).
pub trait Env {
    /// The value bound to `name`, if any.
    fn lookup(&self, name: &str) -> Option<Value>;
}

impl Env for () {
    fn lookup(&self, _: &str) -> Option<Value> {
        None
    }
}

impl Env for Map {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

/// Bounds on one evaluation: a runaway expression gets error U1001 (depth, time) or D2014 (size).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum nesting of evaluation (including non-tail recursion of lambdas).
    pub max_depth: usize,
    /// Wall-clock budget of one evaluation.
    pub max_time: Duration,
    /// Maximum number of items one sequence/array may hold (ranges, `$pad`, ...).
    pub max_items: usize,
    /// Maximum length in bytes of a string built by one operation.
    pub max_string: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 250,
            max_time: Duration::from_secs(5),
            max_items: 10_000_000,
            max_string: 64 << 20,
        }
    }
}

/// Compile-time options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Step Functions' dialect: no `$eval`; adds `$partition`, `$range`, `$hash`, `$random`,
    /// `$uuid` and `$parse`.
    pub step_functions: bool,
}

/// A compiled expression: parse once, evaluate many times (it is `Send + Sync`).
#[derive(Debug, Clone)]
pub struct Expr {
    root: Arc<ast::Node>,
    options: Options,
}

/// Compiles plain JSONata 2.0.6.
pub fn compile(src: &str) -> Result<Expr, Error> {
    compile_with(src, Options::default())
}

/// Compiles with `options` (the Step Functions dialect for workflow fields).
pub fn compile_with(src: &str, options: Options) -> Result<Expr, Error> {
    let root = parser::parse(src).map_err(Error::finish)?;
    Ok(Expr {
        root: Arc::new(root),
        options,
    })
}

impl Expr {
    /// Evaluates against `input` (`None` = undefined input); `Ok(None)` is an undefined result.
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        env: &dyn Env,
        limits: &Limits,
    ) -> Result<Option<Value>, Error> {
        eval::run(&self.root, input, env, limits, self.options).map_err(Error::finish)
    }
}
