//! Definition checks the API adds on top of `crate::definition`: AWS's InvalidDefinition message,
//! the Express-only restrictions, and loading a directory of definitions at start-up.
//!
//! In: definition text, or a directory path. Out: the diagnostics as AWS's `InvalidDefinition`
//! message, and the machines created (or the first file that failed, by name).

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

/// What an EXPRESS machine may not use (`.sync`, `.waitForTaskToken`, activities, as
/// `crate::definition` words it, and a Distributed Map): one diagnostic per offending state.
///
/// AWS runs a Distributed Map only in a Standard workflow ("Distributed Map: not supported" for
/// Express in AWS's comparison of the two types), so the API refuses it in an EXPRESS machine as
/// AWS does. The engine itself still runs one in-process for an embedder who asks.
pub fn express_restrictions(text: &str) -> Vec<Diagnostic> {
    match serde_json::from_str::<Value>(text) {
        Ok(raw) => {
            let mut diags = crate::definition::express_diagnostics(&raw);
            distributed_maps(&raw, "", 0, &mut diags);
            diags
        }
        Err(_) => Vec::new(),
    }
}

/// One diagnostic per Distributed Map state, at any depth.
fn distributed_maps(def: &Value, loc: &str, depth: usize, out: &mut Vec<Diagnostic>) {
    let Some(states) = def.get("States").and_then(Value::as_object) else {
        return;
    };
    // Deeper nesting is refused by validation before this runs; stop anyway.
    if depth > 64 {
        return;
    }
    for (name, state) in states {
        let here = format!("{loc}/States/{name}");
        if let Some(branches) = state.get("Branches").and_then(Value::as_array) {
            for (i, b) in branches.iter().enumerate() {
                distributed_maps(b, &format!("{here}/Branches[{i}]"), depth + 1, out);
            }
        }
        for f in ["ItemProcessor", "Iterator"] {
            let Some(p) = state.get(f) else { continue };
            let mode = p.pointer("/ProcessorConfig/Mode").and_then(Value::as_str);
            if mode == Some("DISTRIBUTED") {
                out.push(Diagnostic::error(
                    crate::definition::codes::SCHEMA_VALIDATION_FAILED,
                    &format!("{here}/{f}/ProcessorConfig/Mode"),
                    "Express state machine does not support Distributed Map".into(),
                ));
            }
            distributed_maps(p, &format!("{here}/{f}"), depth + 1, out);
        }
    }
}

/// A definition file found at start-up: the machine name (the file name without `.asl.json` or
/// `.json`) and its text.
pub struct DefinitionFile {
    /// The machine's name: the file name without `.asl.json` or `.json`.
    pub name: String,
    /// The definition's text, as read.
    pub text: String,
}

/// What start-up makes of one entry of a definitions directory.
pub enum DirEntry {
    /// A state machine to create.
    Load {
        /// The file name, for the log.
        file: String,
        /// The machine to create from it.
        definition: DefinitionFile,
    },
    /// Not a definition.
    Skip {
        /// The file name, for the log.
        file: String,
        /// Why it is skipped (`not *.json`, …).
        reason: &'static str,
    },
}

/// What a definitions directory holds, sorted by file name so every replica loads the same set:
/// `*.asl.json` files, and `*.json` files that hold an object with `States` (a bench's
/// `*.input.json` and `*.expected.json` beside them are skipped). The machine is named after the
/// file; a name taken by an earlier file is skipped.
pub fn scan_dir(dir: &Path) -> std::io::Result<Vec<DirEntry>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        paths.push(entry?.path());
    }
    paths.sort();
    let mut out = Vec::new();
    let mut names = std::collections::HashSet::new();
    for path in paths {
        let Some(file) = path
            .file_name()
            .and_then(|f| f.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let skip = |reason| DirEntry::Skip {
            file: file.clone(),
            reason,
        };
        if !path.is_file() {
            out.push(skip("not a file"));
            continue;
        }
        let (name, asl) = if let Some(n) = file.strip_suffix(".asl.json") {
            (n, true)
        } else if file.ends_with(".input.json") {
            out.push(skip("an execution input (*.input.json)"));
            continue;
        } else if file.ends_with(".expected.json") {
            out.push(skip("an expected output (*.expected.json)"));
            continue;
        } else if let Some(n) = file.strip_suffix(".json") {
            (n, false)
        } else {
            out.push(skip("not *.json"));
            continue;
        };
        let text = std::fs::read_to_string(&path)?;
        // A plain `*.json` may be anything (a mock configuration, an input): only an object with
        // `States` is taken for a definition. A `*.asl.json` is one, and fails start-up if invalid.
        if !asl && !looks_like_definition(&text) {
            out.push(skip(
                "not a state machine definition (no \"States\" object)",
            ));
            continue;
        }
        if !names.insert(name.to_string()) {
            out.push(skip("an earlier file defines a machine of the same name"));
            continue;
        }
        out.push(DirEntry::Load {
            definition: DefinitionFile {
                name: name.to_string(),
                text,
            },
            file,
        });
    }
    Ok(out)
}

/// Whether `text` is a JSON object with a `States` member.
fn looks_like_definition(text: &str) -> bool {
    matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(o)) if o.contains_key("States"))
}

/// The definitions [`scan_dir`] would load.
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<DefinitionFile>> {
    Ok(scan_dir(dir)?
        .into_iter()
        .filter_map(|e| match e {
            DirEntry::Load { definition, .. } => Some(definition),
            DirEntry::Skip { .. } => None,
        })
        .collect())
}

/// Creates an EXPRESS machine for every definition in `dir`, saying on `log(level, message)`
/// which file was loaded as which ARN and which was skipped and why. The number loaded, or the
/// first file that does not load.
pub fn load_dir(
    server: &super::Server,
    dir: &Path,
    mut log: impl FnMut(&str, &str),
) -> Result<usize, String> {
    let entries =
        scan_dir(dir).map_err(|e| format!("cannot read definitions in {}: {e}", dir.display()))?;
    let mut loaded = 0;
    for entry in entries {
        match entry {
            DirEntry::Load { file, definition } => {
                let arn = server
                    .load_definition(&definition.name, &definition.text)
                    .map_err(|e| {
                        format!(
                            "{}: {}: {}",
                            dir.join(&file).display(),
                            e.kind,
                            e.message.unwrap_or_default()
                        )
                    })?;
                log("info", &format!("loaded {file} as {arn}"));
                loaded += 1;
            }
            DirEntry::Skip { file, reason } => log("info", &format!("skipped {file}: {reason}")),
        }
    }
    if loaded == 0 {
        log(
            "warn",
            &format!(
                "no state machine in {} (*.asl.json, or *.json holding a definition)",
                dir.display()
            ),
        );
    }
    Ok(loaded)
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
        // A Distributed Map, even nested in an inline Map, is Standard-only on AWS.
        let dmap = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"D","States":{
            "D":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
            "StartAt":"X","States":{"X":{"Type":"Pass","End":true}}},"End":true}}},"End":true}}}"#;
        let diags = express_restrictions(dmap);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(
            diags[0].location,
            "/States/M/ItemProcessor/States/D/ItemProcessor/ProcessorConfig/Mode"
        );
        let inline = dmap.replace("DISTRIBUTED", "INLINE");
        assert!(express_restrictions(&inline).is_empty());
        let ok = r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}"#;
        assert!(express_restrictions(ok).is_empty());
    }

    #[test]
    fn the_bench_workflows_directory_loads_its_six_workflows_and_skips_the_rest() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/workflows");
        let server = crate::server::Server::new(
            crate::engine::Engine::new(crate::engine::Settings::default()),
            crate::server::Config::default(),
        );
        let mut log = Vec::new();
        let loaded = load_dir(&server, &dir, |level, msg| {
            log.push(format!("{level}: {msg}"))
        });
        assert_eq!(loaded, Ok(6), "{log:#?}");
        let sm = "arn:aws:states:us-east-1:123456789012:stateMachine:";
        assert!(log.contains(&format!(
            "info: loaded w1_pass_chain.json as {sm}w1_pass_chain"
        )));
        assert!(log.contains(&format!("info: loaded w5_credit.json as {sm}w5_credit")));
        assert!(log.contains(
            &"info: skipped w1_pass_chain.input.json: an execution input (*.input.json)".into()
        ));
        assert!(log.contains(
            &"info: skipped w3_map100.expected.json: an expected output (*.expected.json)".into()
        ));
        assert_eq!(log.len(), 18, "one line per file: {log:#?}");
    }

    #[test]
    fn a_directory_mixing_asl_json_mocks_and_bad_definitions() {
        let dir = std::env::temp_dir().join(format!("ewy-defs-unit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let pass = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
        std::fs::write(dir.join("orders.asl.json"), pass).unwrap();
        std::fs::write(dir.join("orders.json"), pass).unwrap();
        std::fs::write(dir.join("mock-config.json"), r#"{"StateMachines":{}}"#).unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        let entries = scan_dir(&dir).unwrap();
        let seen: Vec<String> = entries
            .iter()
            .map(|e| match e {
                DirEntry::Load { file, definition } => format!("{file} -> {}", definition.name),
                DirEntry::Skip { file, reason } => format!("{file}: {reason}"),
            })
            .collect();
        assert_eq!(
            seen,
            [
                "mock-config.json: not a state machine definition (no \"States\" object)",
                "notes.txt: not *.json",
                "orders.asl.json -> orders",
                "orders.json: an earlier file defines a machine of the same name",
                "sub: not a file",
            ]
        );
        // An invalid definition stops start-up, naming the file.
        std::fs::write(
            dir.join("broken.asl.json"),
            r#"{"StartAt":"X","States":{}}"#,
        )
        .unwrap();
        let server = crate::server::Server::new(
            crate::engine::Engine::new(crate::engine::Settings::default()),
            crate::server::Config::default(),
        );
        let err = load_dir(&server, &dir, |_, _| {}).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.contains("broken.asl.json: InvalidDefinition"), "{err}");
    }
}
