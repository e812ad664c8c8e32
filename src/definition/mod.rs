//! The Amazon States Language: parse and validate.
//!
//! In: definition text or parsed JSON. Out: a `typed::Machine`, or every problem found as
//! `Diagnostic`s in the shape of ValidateStateMachineDefinition (AWS's code, a location such as
//! `/States/Foo/Next`, a message), renderable as CreateStateMachine's `InvalidDefinition` text.
//! Nothing here executes: no path is evaluated, no task is called.
//!
//! Entry points: `load_machine` (text → `typed::Machine`, what `crate::compile` lays out),
//! `load` (text → the serde `model::Definition`, which `crate::graph` draws), `validate_text`
//! (text → diagnostics, including state names repeated in one `States` object), `validate`
//! (parsed JSON → diagnostics), `express_diagnostics` (the extra EXPRESS-only rules),
//! `invalid_definition_message` (CreateStateMachine's error text) and `validation_response`
//! (ValidateStateMachineDefinition's body).
//!
//! Stages, each using only the earlier ones: `text` (duplicate names in the raw text) →
//! `validate` (definitions, names, reachability), `state` (fields per type and query language),
//! `choice`, `handlers` (Retry/Catch/Assign), with `syntax` for what lives inside strings (paths,
//! intrinsics, templates, JSONata, parsed by `crate::expr` and `crate::jsonata`) → `model` (serde)
//! → `typed::lower` (`enum StateDef` per state, every string field parsed, names resolved). Every
//! rule's diagnostic is made by `validate` and its helpers, once; `lower` parses what they
//! accepted and reports only a disagreement between the two (our bug), in the parser's words.
//!
//! ```
//! use expressway::definition::{invalid_definition_message, validate};
//! let raw = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}});
//! let message = invalid_definition_message(&validate(&raw));
//! assert!(message.starts_with("Invalid State Machine Definition: ''MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"));
//! ```

mod choice;
pub mod codes;
mod express;
mod handlers;
#[allow(missing_docs)] // See `compile` in lib.rs: the typed definition replaces this.
pub mod model;
mod state;
pub mod syntax;
mod text;
#[allow(missing_docs)] // Field-by-field docs owed: the fields carry the ASL field names they hold.
pub mod typed;
mod validate;

// Tests are tables: one case per line, so rustfmt leaves them alone.
#[cfg(test)]
#[rustfmt::skip]
mod tests;

pub use express::express_diagnostics;
pub use model::*;
pub use text::validate_text;
pub use validate::{
    Diagnostic, Severity, invalid_definition_message, validate, validation_response,
};

/// Parses and validates definition text: its serde model (`model`), or every diagnostic found.
pub fn load(text: &str) -> Result<Definition, Vec<Diagnostic>> {
    match validate_text(text) {
        (Some(raw), diagnostics) if !diagnostics.iter().any(|d| d.severity == Severity::Error) => {
            from_validated(&raw)
        }
        (_, diagnostics) => Err(diagnostics),
    }
}

/// Parses and validates definition text, and lowers it to the typed `Machine` that
/// `crate::compile` lays out.
pub fn load_machine(text: &str) -> Result<typed::Machine, Vec<Diagnostic>> {
    typed::lower(&load(text)?)
}

/// Validates an already parsed definition and returns its serde model.
pub fn load_json(raw: &serde_json::Value) -> Result<Definition, Vec<Diagnostic>> {
    let diagnostics = validate(raw);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(diagnostics);
    }
    from_validated(raw)
}

/// The typed form of a definition `validate` accepted. A shape serde still rejects is our bug,
/// reported as a schema diagnostic rather than a panic.
fn from_validated(raw: &serde_json::Value) -> Result<Definition, Vec<Diagnostic>> {
    Definition::from_json(raw).map_err(|e| {
        vec![Diagnostic::error(
            codes::SCHEMA_VALIDATION_FAILED,
            "/",
            e.to_string(),
        )]
    })
}
