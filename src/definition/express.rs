//! Rules that only apply when the state machine is created as EXPRESS: no `.sync` or
//! `.waitForTaskToken` integration patterns and no activities, which need a durable (Standard)
//! execution. A Distributed Map is accepted: Expressway runs its child workflows in-process (its
//! items from the input or from S3 through ItemReader, its results to S3 through ResultWriter),
//! which is what users of this engine ask of it.

use serde_json::Value;

use super::codes::*;
use super::validate::{Diagnostic, MAX_NESTING};

/// The extra diagnostics for an EXPRESS state machine, to be added to `validate`'s. A definition
/// that `validate` accepts and this returns nothing for is a valid Express workflow.
pub fn express_diagnostics(raw: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    walk(raw, "", 0, &mut out);
    out
}

fn walk(def: &Value, loc: &str, depth: usize, out: &mut Vec<Diagnostic>) {
    let Some(states) = def.get("States").and_then(Value::as_object) else {
        return;
    };
    if depth > MAX_NESTING {
        return;
    }
    for (name, state) in states {
        let here = format!("{loc}/States/{name}");
        if let Some(resource) = state.get("Resource").and_then(Value::as_str) {
            let pattern = [".waitForTaskToken", ".sync:2", ".sync"]
                .into_iter()
                .find(|p| resource.ends_with(p));
            if let Some(pattern) = pattern {
                let pattern = pattern.trim_end_matches(":2");
                out.push(Diagnostic::error(
                    SCHEMA_VALIDATION_FAILED,
                    &format!("{here}/Resource"),
                    format!(
                        "Express state machine does not support '{pattern}' service integration "
                    ),
                ));
            } else if resource.split(':').nth(5) == Some("activity") {
                out.push(Diagnostic::error(
                    SCHEMA_VALIDATION_FAILED,
                    &format!("{here}/Resource"),
                    "Express state machine does not support Activity ARN".into(),
                ));
            }
        }
        if let Some(branches) = state.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                walk(b, &format!("{here}/Branches[{i}]"), depth + 1, out);
            }
        }
        for f in ["ItemProcessor", "Iterator"] {
            let Some(p) = state.get(f) else { continue };
            walk(p, &format!("{here}/{f}"), depth + 1, out);
        }
    }
}
