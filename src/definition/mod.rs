//! The Amazon States Language: parse and validate.
//!
//! In: definition text or parsed JSON. Out: a typed `Definition`, or every problem found as
//! `Diagnostic`s in the shape of ValidateStateMachineDefinition (AWS's code, a location such as
//! `/States/Foo/Next`, a message), renderable as CreateStateMachine's `InvalidDefinition` text.
//! Nothing here executes: no path is evaluated, no task is called.

mod choice;
pub mod codes;
mod handlers;
pub mod model;
mod state;
pub mod syntax;
mod validate;

// Tests are tables: one case per line, so rustfmt leaves them alone.
#[cfg(test)]
#[rustfmt::skip]
mod tests;

pub use model::*;
pub use validate::{Diagnostic, Severity, invalid_definition_message, validate};

/// Parses and validates definition text: the typed definition, or every diagnostic found.
pub fn load(text: &str) -> Result<Definition, Vec<Diagnostic>> {
    if text.trim().is_empty() {
        return Err(vec![Diagnostic::error(
            codes::SCHEMA_VALIDATION_FAILED,
            "",
            "Definition must be a valid JSON object".into(),
        )]);
    }
    let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![Diagnostic::error(
            codes::INVALID_JSON_DESCRIPTION,
            &format!("line: {}, column: {}", e.line(), e.column()),
            e.to_string(),
        )]
    })?;
    load_json(&raw)
}

/// Validates an already parsed definition and returns its typed form.
pub fn load_json(raw: &serde_json::Value) -> Result<Definition, Vec<Diagnostic>> {
    let diagnostics = validate(raw);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(diagnostics);
    }
    Definition::from_json(raw).map_err(|e| {
        vec![Diagnostic::error(
            codes::SCHEMA_VALIDATION_FAILED,
            "/",
            e.to_string(),
        )]
    })
}
