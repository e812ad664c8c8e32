//! Definition checks the API adds on top of `crate::definition`: AWS's InvalidDefinition message,
//! the Express-only restrictions, and loading `*.asl.json` files at start-up.

use std::path::Path;

use serde_json::Value;

use crate::definition::{Diagnostic, Severity};

use super::protocol::ApiError;

/// Renders diagnostics as AWS's `InvalidDefinition` message:
/// `Invalid State Machine Definition: '<CODE>: <message> at <location>, …'`.
pub fn invalid_definition_message(diags: &[Diagnostic]) -> String {
    let errors: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if let [only] = errors.as_slice()
        && only.message.starts_with("Invalid State Machine Definition")
    {
        return only.message.clone();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|d| {
            if d.location.is_empty() {
                format!("{}: {}", d.code, d.message)
            } else {
                format!("{}: {} at {}", d.code, d.message, d.location)
            }
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

/// `InvalidDefinition` for a definition that did not validate.
pub fn invalid_definition(diags: &[Diagnostic]) -> ApiError {
    ApiError::sfn("InvalidDefinition", invalid_definition_message(diags))
}

/// Every diagnostic for definition text, warnings included (JSON errors become one diagnostic).
pub fn validate_text(text: &str) -> Vec<Diagnostic> {
    match serde_json::from_str::<Value>(text) {
        Ok(raw) => crate::definition::validate(&raw),
        Err(e) => vec![Diagnostic::error(
            "INVALID_JSON_DESCRIPTION",
            "",
            format!("Invalid JSON: {e}"),
        )],
    }
}

/// What an EXPRESS machine may not use: `.sync` and `.waitForTaskToken` integrations, and
/// activities. One diagnostic per offending Task, with its location.
pub fn express_restrictions(text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Ok(raw) = serde_json::from_str::<Value>(text) {
        walk(&raw, "", 0, &mut out);
    }
    out
}

const MAX_DEPTH: usize = 64;

fn walk(machine: &Value, base: &str, depth: usize, out: &mut Vec<Diagnostic>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(states) = machine.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, state) in states {
        let here = format!("{base}/States/{name}");
        if let Some(res) = state.get("Resource").and_then(Value::as_str) {
            let problem = if res.ends_with(".sync") || res.contains(".sync:") {
                Some("Express state machine does not support '.sync' service integration")
            } else if res.ends_with(".waitForTaskToken") {
                Some(
                    "Express state machine does not support '.waitForTaskToken' service integration",
                )
            } else if res.starts_with("arn:") && res.split(':').nth(5) == Some("activity") {
                Some("Express state machine does not support Activity ARN")
            } else {
                None
            };
            if let Some(p) = problem {
                let loc = format!("{here}/Resource");
                out.push(Diagnostic::error(
                    "SCHEMA_VALIDATION_FAILED",
                    &loc,
                    p.to_string(),
                ));
            }
        }
        if let Some(branches) = state.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                walk(b, &format!("{here}/Branches[{i}]"), depth + 1, out);
            }
        }
        for key in ["ItemProcessor", "Iterator"] {
            if let Some(p) = state.get(key) {
                walk(p, &format!("{here}/{key}"), depth + 1, out);
            }
        }
    }
}

/// A definition file found at start-up: the machine name (file name without `.asl.json`) and
/// its text.
pub struct DefinitionFile {
    pub name: String,
    pub text: String,
}

/// Reads every `*.asl.json` in `dir`, sorted by name, so every replica loads the same set.
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<DefinitionFile>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(name) = file.strip_suffix(".asl.json") else {
            continue;
        };
        out.push(DefinitionFile {
            name: name.to_string(),
            text: std::fs::read_to_string(&path)?,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn express_forbids_sync_callbacks_and_activities() {
        let def = r#"{"StartAt":"A","States":{
            "A":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","Next":"B"},
            "B":{"Type":"Parallel","Branches":[{"StartAt":"C","States":{
                "C":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}],"Next":"D"},
            "D":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:x","End":true}}}"#;
        let locs: Vec<String> = express_restrictions(def)
            .into_iter()
            .map(|d| d.location)
            .collect();
        assert_eq!(
            locs,
            [
                "/States/A/Resource",
                "/States/B/Branches[0]/States/C/Resource",
                "/States/D/Resource"
            ]
        );
        let ok = r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}"#;
        assert!(express_restrictions(ok).is_empty());
    }

    #[test]
    fn invalid_definition_message_has_aws_frame() {
        let d = Diagnostic::error(
            "MISSING_TRANSITION_TARGET",
            "/States/A/Next",
            "Missing 'Next' target: B".into(),
        );
        assert_eq!(
            invalid_definition_message(&[d]),
            "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"
        );
    }
}
