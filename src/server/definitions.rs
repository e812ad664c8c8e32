//! Definition checks the API adds on top of `crate::definition`: AWS's InvalidDefinition message,
//! the Express-only restrictions, and loading `*.asl.json` files at start-up.

use std::path::Path;

use serde_json::Value;

use crate::definition::Diagnostic;

use super::protocol::ApiError;

/// AWS's `InvalidDefinition` message for diagnostics (rendered by `crate::definition`).
pub fn invalid_definition_message(diags: &[Diagnostic]) -> String {
    crate::definition::invalid_definition_message(diags)
}

/// `InvalidDefinition` for a definition that did not validate.
pub fn invalid_definition(diags: &[Diagnostic]) -> ApiError {
    ApiError::sfn("InvalidDefinition", invalid_definition_message(diags))
}

/// Every diagnostic for definition text, warnings included (JSON errors become one diagnostic).
pub fn validate_text(text: &str) -> Vec<Diagnostic> {
    crate::definition::validate_text(text).1
}

/// What an EXPRESS machine may not use (`.sync`, `.waitForTaskToken`, activities), as
/// `crate::definition` words it: one diagnostic per offending state.
pub fn express_restrictions(text: &str) -> Vec<Diagnostic> {
    match serde_json::from_str::<Value>(text) {
        Ok(raw) => crate::definition::express_diagnostics(&raw),
        Err(_) => Vec::new(),
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
        let diags = express_restrictions(def);
        assert_eq!(diags.len(), 3, "{diags:?}");
        let ok = r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}"#;
        assert!(express_restrictions(ok).is_empty());
    }
}
