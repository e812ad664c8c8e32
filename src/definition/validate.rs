//! Validation of raw definition JSON: every problem, with its location and AWS's code.

/// How bad a finding is: errors reject the definition, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, shaped like a ValidateStateMachineDefinition diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// AWS's code, e.g. `MISSING_TRANSITION_TARGET`.
    pub code: &'static str,
    /// JSON-pointer-like location, e.g. `/States/Foo/Next`.
    pub location: String,
    pub message: String,
}

impl Diagnostic {
    /// An error-level diagnostic.
    pub fn error(code: &'static str, location: &str, message: String) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            location: location.to_string(),
            message,
        }
    }
}

/// Every problem in a raw definition. (Placeholder: structural checks are added by the
/// definition-validation work; until then only the basic shape is checked.)
pub fn validate(raw: &serde_json::Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if !raw.is_object() {
        out.push(Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            "",
            "The definition must be a JSON object".into(),
        ));
    }
    out
}
