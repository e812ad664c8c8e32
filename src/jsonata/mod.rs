//! JSONata 2.0.6, our own evaluator: Step Functions evaluates `"{% expr %}"` fields with it.
//!
//! In: expression text (compiled once by [`compile`]), then per evaluation an input value, an
//! [`Env`] of variable bindings (`$states`, workflow variables) and [`Limits`]. Out: a JSON
//! [`Value`] or `None` (JSONata's `undefined`; [`Expr::evaluate_outcome`] also tells a function
//! result apart), or an [`Error`] coded and worded as jsonata-js.
//! Never here: I/O, panics on any input, unbounded recursion, time or allocation (every
//! evaluation is bounded by its `Limits`).
//!
//! The layers, in pipeline order:
//! - `lexer` (text → tokens), `parser` (tokens → tree, with `ancestry` resolving `%`,
//!   `signature` parsing lambda signatures and `builtins::lookup` giving names their ids), `ast`
//!   (the tree: plain data, naming built-ins by `ast::BuiltinId` and regexes and signatures by
//!   ids into `literals`, which the parser compiles in source order);
//! - `value` (the evaluator's values), `numfmt` (numbers and JSON text as JavaScript prints them),
//!   `errors` (jsonata-js's message templates);
//! - `eval` (walks the tree), `path` (steps, predicates, grouping, sorting), `apply` (calls,
//!   partial application, `~>`, lambdas), `transform` (the `| pattern | update |` operator);
//! - `builtins` (the table and the built-ins by kind: strings, numbers, arrays and objects,
//!   higher-order, dates, number pictures, `$type`/`$error`/`$eval`, Step Functions' additions).
//!
//! Two tiers: an expression made only of what workflows mostly write (paths from `$states` and
//! variables, constructors, `$merge`, operators, conditions, a few pure built-ins) also gets a
//! `direct` form, evaluated on our shared `Value`s; anything else, and any evaluation the direct
//! form gives up on, goes to the full evaluator (`eval`), which stays the reference: debug builds
//! check every direct answer against it.
//!
//! Is the direct tier still needed? Measured 2026-12-07 (issue 17, item 4) with the same build
//! but `Expr::direct` forced to `None`: w1_jsonata takes 271.6 k instructions per execution in
//! the full evaluator alone against 127.3 k with the tier (2.13×). The difference is the
//! evaluator's own values: every evaluation turns `$states.input` and the variables into `V`s on
//! `Rc` (new `IndexMap`s, each key rehashed), builds its result as `V`s, turns that back into a
//! `Value` and measures its JSON (`insert_full`, `IndexMap::clone`, `add_len`, `build_json` and
//! malloc/free lead that profile). So the tier stays until `V` wraps our
//! `Value` (shared, no conversion), and that `V` is measured against these figures. (Command:
//! `valgrind --tool=cachegrind --cache-sim=no target/release/examples/run_many
//! benches/workflows/w1_jsonata.json benches/workflows/w1_jsonata.input.json N`, N = 2000 minus
//! N = 0, ÷ 2000.)

mod ancestry;
mod apply;
mod ast;
mod builtins;
mod direct;
mod errors;
mod eval;
mod lexer;
mod literals;
mod numfmt;
mod parser;
mod path;
mod signature;
mod transform;
mod value;

#[cfg(test)]
mod direct_tests;
#[cfg(test)]
mod shortcut_tests;
#[cfg(test)]
mod tests;

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
    pub(crate) detail: Option<Box<Detail>>,
}

/// The values a message template refers to (boxed: errors travel through every `Result`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Detail {
    pub value: Option<String>,
    pub value2: Option<String>,
    pub index: Option<usize>,
    pub type_name: Option<&'static str>,
}

impl Error {
    pub(crate) fn new(code: &str, position: Option<usize>, token: Option<String>) -> Error {
        Error {
            code: code.to_string(),
            message: String::new(),
            position,
            token,
            detail: None,
        }
    }

    /// The evaluation ran past `Limits::hand_off_after` and stopped unfinished: run it again
    /// without that limit where it may block a thread.
    pub fn is_handed_off(&self) -> bool {
        self.code == eval::HANDED_OFF
    }

    pub(crate) fn detail_mut(&mut self) -> &mut Detail {
        self.detail.get_or_insert_with(Box::default)
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

    /// `$name.member` without building the whole value bound to `name`, for bindings made
    /// fresh per evaluation around shared parts (`$states.input`): `Some(Some(v))` when that
    /// value is an object with the member, `Some(None)` when it is an object without it, `None`
    /// when this `Env` cannot tell cheaply (then `lookup` is used).
    fn lookup_member(&self, _name: &str, _member: &str) -> Option<Option<Value>> {
        None
    }
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

/// Bounds on one evaluation: a runaway expression gets error U1001 (depth, stack, time, values
/// nested deeper than 400 levels) or D2014/D1001 (size).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum nesting of evaluation (including non-tail recursion of lambdas).
    pub max_depth: usize,
    /// Wall-clock budget of one evaluation.
    pub max_time: Duration,
    /// Maximum number of items one sequence/array may hold (ranges, paths, `$append`...); an
    /// evaluation may build at most 8 times this many items in total.
    pub max_items: usize,
    /// Maximum length in bytes of a string built by one operation; an evaluation may build at
    /// most 4 times this many string bytes in total.
    pub max_string: usize,
    /// Maximum bytes of native stack one evaluation may use (keep it well under the thread's
    /// stack: tokio workers have 2 MiB). Exceeding it is error U1001, like `max_depth`.
    pub max_stack: usize,
    /// An absolute end to the evaluation besides `max_time` (the workflow's own timeout):
    /// passing it is error U1001, like `max_time`.
    pub deadline: Option<std::time::Instant>,
    /// For a caller on a thread that must not be held long (an async runtime's worker): an
    /// evaluation still running after this long stops with an error for which
    /// [`Error::is_handed_off`] holds, so that the caller can run it again from the start
    /// where blocking is fine (evaluations have no side effects). `None`: no such stop.
    pub hand_off_after: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 500,
            max_time: Duration::from_secs(5),
            max_items: 1_000_000,
            max_string: 64 << 20,
            max_stack: 1 << 20,
            deadline: None,
            hand_off_after: None,
        }
    }
}

/// Address of a local: how far the native stack has grown since a base address (no unsafe).
#[inline(never)]
pub(crate) fn stack_addr() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Stack budget of the parser (source nesting is bounded by this and by a depth counter).
pub(crate) const PARSE_STACK: usize = 768 << 10;

/// Compile-time options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Step Functions' dialect: no `$eval`; adds `$partition`, `$range`, `$hash`, `$random`,
    /// `$uuid` and `$parse`.
    pub step_functions: bool,
}

/// What an evaluation produced, for callers that must tell "nothing" from "a function" (Step
/// Functions reports the two differently: "returned nothing (undefined)" versus "returned an
/// unsupported result type").
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A JSON result (functions nested inside it are dropped, as `JSON.stringify` drops them).
    Value(Value),
    /// JSONata's `undefined`.
    Undefined,
    /// The expression evaluated to a function, which has no JSON form.
    Function,
}

/// A compiled expression: parse once, evaluate many times (it is `Send + Sync`).
#[derive(Debug, Clone)]
pub struct Expr {
    root: Arc<ast::Node>,
    /// The regexes and signatures `root` names by id.
    literals: Arc<literals::Literals>,
    options: Options,
    /// The same expression for the direct tier, when it is in its subset.
    direct: Option<Arc<direct::Direct>>,
}

/// Compiles plain JSONata 2.0.6.
pub fn compile(src: &str) -> Result<Expr, Error> {
    compile_with(src, Options::default())
}

/// Compiles with `options` (the Step Functions dialect for workflow fields).
pub fn compile_with(src: &str, options: Options) -> Result<Expr, Error> {
    let (root, literals) = parser::parse(src, options).map_err(Error::finish)?;
    Ok(Expr {
        direct: direct::Direct::compile(&root).map(Arc::new),
        root: Arc::new(root),
        literals: Arc::new(literals),
        options,
    })
}

impl Expr {
    /// Whether the expression reads `$variable.field` anywhere (a path whose first two steps
    /// are that variable and that field name), e.g. `$states.errorOutput`.
    pub fn reads_field(&self, variable: &str, field: &str) -> bool {
        self.root.any(&mut |n| match &n.kind {
            ast::Kind::Path { steps, .. } => matches!(
                (steps.first().map(|s| &s.kind), steps.get(1).map(|s| &s.kind)),
                (Some(ast::Kind::Variable(v, _)), Some(ast::Kind::Name(f)))
                    if &**v == variable && &**f == field
            ),
            _ => false,
        })
    }

    /// Evaluates against `input` (`None` = undefined input); `Ok(None)` is an undefined result.
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        env: &dyn Env,
        limits: &Limits,
    ) -> Result<Option<Value>, Error> {
        Ok(match self.evaluate_outcome(input, env, limits)? {
            Outcome::Value(v) => Some(v),
            Outcome::Undefined | Outcome::Function => None,
        })
    }

    /// Like [`Expr::evaluate`], but says whether an absent result was a function.
    pub fn evaluate_outcome(
        &self,
        input: Option<&Value>,
        env: &dyn Env,
        limits: &Limits,
    ) -> Result<Outcome, Error> {
        // PERF: the direct tier (see `direct`): w1_jsonata 59.6 µs → 18.4 µs (w1_pass_chain 17.6 µs)
        // on `cargo bench --bench workflows -- w1`, same run.
        if let Some(d) = &self.direct
            && let Ok(out) = d.run(env)
        {
            // Debug builds (every test run) check the tier against the full evaluator.
            #[cfg(debug_assertions)]
            if let Ok(full) =
                eval::run(&self.root, &self.literals, input, env, limits, self.options)
            {
                debug_assert_eq!(out, full, "direct tier disagrees");
            }
            return Ok(out);
        }
        eval::run(&self.root, &self.literals, input, env, limits, self.options)
            .map_err(Error::finish)
    }
}
