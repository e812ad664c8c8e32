//! The Amazon States Language: parse and validate.
//!
//! In: definition text. Out: a typed `Definition`, or every problem found as `Diagnostic`s in the
//! shape of ValidateStateMachineDefinition (code, location such as `/States/Foo/Next`, message).
//! Nothing here executes.

pub mod model;
mod validate;

pub use model::*;
pub use validate::{Diagnostic, Severity, validate};

/// Parses and validates definition text: the typed definition, or every diagnostic found.
pub fn load(text: &str) -> Result<Definition, Vec<Diagnostic>> {
    let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![Diagnostic::error(
            "INVALID_JSON_DESCRIPTION",
            "",
            format!("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {e}'"),
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
            "SCHEMA_VALIDATION_FAILED",
            "",
            format!("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {e}'"),
        )]
    })
}
