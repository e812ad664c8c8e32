//! Every real-world definition in `tests/realworld` gets AWS's verdict (see its README).

use expressway::definition::{Severity, express_diagnostics, validate_text};
use expressway::engine::{Engine, Settings};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/realworld");

/// Whether any `Resource` in the definition needs a Standard execution.
fn needs_standard(raw: &serde_json::Value) -> bool {
    match raw {
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| {
            let standard_only = k == "Resource"
                && v.as_str().is_some_and(|r| {
                    r.contains(".sync")
                        || r.ends_with(".waitForTaskToken")
                        || r.contains(":activity:")
                });
            standard_only || needs_standard(v)
        }),
        serde_json::Value::Array(a) => a.iter().any(needs_standard),
        _ => false,
    }
}

#[test]
fn every_verdict_agrees_with_aws() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{DIR}/manifest.json")).expect("manifest"),
    )
    .expect("manifest is JSON");
    let engine = Engine::new(Settings::default());
    let entries = manifest.as_object().expect("manifest is an object");
    let (mut agree, mut express_checked, mut bad) = (0, 0, Vec::new());
    for (name, m) in entries {
        let text =
            std::fs::read_to_string(format!("{DIR}/definitions/{name}")).expect("definition");
        let aws_accepts = m["aws_accepts"].as_bool().expect("aws_accepts");
        let (raw, diagnostics) = validate_text(&text);
        let errors: Vec<_> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if errors.is_empty() != aws_accepts {
            bad.push(format!(
                "{name}: ours {}, AWS {aws_accepts}: {errors:?}",
                errors.is_empty()
            ));
            continue;
        }
        agree += 1;
        if !aws_accepts {
            continue;
        }
        if let Err(e) = engine.compile(&text) {
            bad.push(format!("{name}: validates but does not compile: {e:?}"));
        }
        let raw = raw.expect("an accepted definition parsed");
        let express = express_diagnostics(&raw);
        if needs_standard(&raw) == express.is_empty() {
            bad.push(format!(
                "{name}: as EXPRESS, needs Standard: {}, diagnostics: {express:?}",
                needs_standard(&raw)
            ));
        } else {
            express_checked += 1;
        }
    }
    println!(
        "realworld: {agree} of {} verdicts agree with AWS ({express_checked} accepted ones also checked as EXPRESS)",
        entries.len()
    );
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
