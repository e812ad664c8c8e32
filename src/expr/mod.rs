//! JSONPath, reference paths, payload templates and the 18 `States.*` intrinsic functions.
//!
//! In: path and template text from a definition (parsed once, by `definition` for syntax checks
//! and by `compile` into the forms below), and at run time a [`Scope`] (state input, context
//! object, workflow variables). Out: selected or built [`Value`]s, or errors worded as AWS words
//! them ([`PathError`], [`EvalError`]).
//!
//! Nothing here re-parses definition text at evaluation time (only data is parsed: a
//! `States.StringToJson` argument, a `States.Format` template read from a path), looks up a name
//! by string except object members and variables, or panics on any input: recursion on user
//! input is bounded (nesting by [`MAX_DEPTH`], segments and deep scans per path, input depth
//! walked by `..`). Evaluation clones only `Value`s (O(1)) and rebuilds only the spine a
//! `ResultPath` rewrites. Nothing here knows about states: the VM adds the
//! "An error occurred while executing the state ..." prefix to causes.

mod filter;
mod functions;
mod intrinsic;
mod java;
mod path;
mod reference;
mod select;
mod template;

use crate::value::{Map, Value};
use std::fmt;

pub use intrinsic::{Intrinsic, IntrinsicFn};
pub use path::{Path, Root};
pub use reference::{REFERENCE_PATH_CONFLICT, ReferencePath, Undo};
pub use template::{Template, not_a_path_or_call};

/// Nesting bound for parsing and evaluating user-written paths, filters, templates and
/// intrinsic calls, so hostile input yields an error instead of a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// Where a path's roots point during one evaluation.
pub struct Scope<'a> {
    /// `$`: the state's (effective) input.
    pub input: &'a Value,
    /// `$$`: the context object.
    pub context: &'a Value,
    /// `$name`: workflow variables visible to the state.
    pub vars: &'a dyn Vars,
}

impl<'a> Scope<'a> {
    /// A scope with no variables, for states and tests that have none.
    pub fn new(input: &'a Value, context: &'a Value) -> Scope<'a> {
        Scope {
            input,
            context,
            vars: &(),
        }
    }
}

/// Workflow variables as the VM stores them; a trait so that nested scopes (Map iterations,
/// Parallel branches) can chain lookups without copying.
pub trait Vars {
    /// The variable's current value, `None` when it is not defined in this scope.
    fn get(&self, name: &str) -> Option<&Value>;
}

impl Vars for () {
    fn get(&self, _name: &str) -> Option<&Value> {
        None
    }
}

impl Vars for Map {
    fn get(&self, name: &str) -> Option<&Value> {
        Map::get(self, name)
    }
}

/// Why a path or template text is not valid, worded for a definition diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Human-readable reason, naming the offending text.
    pub message: String,
}

impl SyntaxError {
    pub(crate) fn new(message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            message: message.into(),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Why a path selected nothing. The VM words the final cause; see [`PathError::cause`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathError {
    /// A definite path found no value. The text is Jayway's, as AWS quotes it after
    /// `Invalid path '<path>' : ` (`No results for path: $['a']`, `Missing property in path
    /// $['a']`, ...).
    NotFound(String),
    /// The path's root is a workflow variable that is not defined (the VM words this one).
    UnknownVariable(String),
    /// Input nested too deeply for a deep scan (`..`) to walk.
    TooDeep,
    /// A `ResultPath` cannot be applied to the input; the text is AWS's full cause
    /// (`Unable to apply ReferencePath $.a to input "x"`), under the error name
    /// [`REFERENCE_PATH_CONFLICT`].
    Conflict(String),
}

impl PathError {
    /// AWS's cause text for a failed InputPath/OutputPath/ItemsPath-like field:
    /// `Invalid path '$.x' : No results for path: $['x']`.
    pub fn cause(&self, path_text: &str) -> String {
        match self {
            PathError::NotFound(msg) => format!("Invalid path '{path_text}' : {msg}"),
            PathError::UnknownVariable(name) => {
                format!("Invalid path '{path_text}' : The variable '{name}' is not defined")
            }
            PathError::TooDeep => {
                format!("Invalid path '{path_text}' : the input is nested too deeply")
            }
            PathError::Conflict(msg) => msg.clone(),
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::NotFound(msg) => f.write_str(msg),
            PathError::UnknownVariable(name) => write!(f, "undefined variable ${name}"),
            PathError::TooDeep => f.write_str("input nested too deeply"),
            PathError::Conflict(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for PathError {}

/// Error name AWS uses for failures of paths, templates and intrinsics at run time.
pub const STATES_RUNTIME: &str = "States.Runtime";

/// What kind of evaluation failure happened; the VM needs to tell undefined variables apart
/// because it words them itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// Anything worded here (bad path in a template, bad intrinsic arguments, ...).
    Runtime,
    /// A `$name` reference to a variable that is not defined; `detail` holds the name.
    UnknownVariable,
}

/// A failed template or intrinsic evaluation: error name and the cause text AWS prints after
/// "An error occurred while executing the state 'X' (entered at the event id #N). ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// Error name as AWS spells it (`States.Runtime`).
    pub error: &'static str,
    /// Cause text without the state prefix (the VM adds it).
    pub detail: String,
    /// Whether the VM has to word this error itself.
    pub kind: EvalErrorKind,
}

impl EvalError {
    /// A `States.Runtime` failure with a finished cause text.
    pub fn runtime(detail: impl Into<String>) -> EvalError {
        EvalError {
            error: STATES_RUNTIME,
            detail: detail.into(),
            kind: EvalErrorKind::Runtime,
        }
    }

    /// An undefined variable; `detail` is the variable name without `$`.
    pub fn unknown_variable(name: &str) -> EvalError {
        EvalError {
            error: STATES_RUNTIME,
            detail: name.to_string(),
            kind: EvalErrorKind::UnknownVariable,
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.detail)
    }
}

impl std::error::Error for EvalError {}

#[cfg(test)]
mod tests_intrinsic;
#[cfg(test)]
mod tests_path;
#[cfg(test)]
mod tests_template;
