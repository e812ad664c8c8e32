//! Syntax checks for the small languages embedded in ASL strings: JSONPath paths and reference
//! paths, intrinsic function calls, payload templates (`"key.$"` values), variable names and
//! JSONata `{% … %}` expressions.
//!
//! In: one string (or a template value). Out: `Ok(())` or a short reason. These are the only
//! places where `validate` looks inside a string. Paths and intrinsic calls are parsed by
//! `crate::expr` and JSONata by `crate::jsonata`: the parsers `typed::lower` uses, so what
//! validates also lowers. Nothing here evaluates anything.

use serde_json::Value;

use crate::expr::{Intrinsic, Path, ReferencePath};

/// Deepest payload template (nested objects/arrays) we walk; deeper input is reported, not
/// recursed into.
pub const MAX_TEMPLATE_DEPTH: usize = 64;

/// Longest variable name AWS accepts.
pub const MAX_VARIABLE_NAME: usize = 80;

/// A JSONPath `Path` (InputPath, OutputPath, Choice `Variable`, `*Path` fields): `$`-rooted,
/// `$$`-rooted (context object) or `$name`-rooted (variable); wildcards, slices and filters allowed.
pub fn check_path(s: &str) -> Result<(), String> {
    Path::parse(s).map(|_| ()).map_err(|e| e.message)
}

/// A path that selects exactly one node (no wildcard, deep scan, slice, union or filter), from
/// any root: what the `*Path` fields that name one value need.
pub fn check_reference_path(s: &str) -> Result<(), String> {
    let path = Path::parse(s).map_err(|e| e.message)?;
    if path.is_definite() {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not a reference path: it may select more than one node"
        ))
    }
}

/// A `ResultPath`: a reference path rooted at the state input (`$`), never `$$` or a variable.
pub fn check_result_path(s: &str) -> Result<(), String> {
    ReferencePath::parse(s).map(|_| ()).map_err(|e| e.message)
}

/// An intrinsic function call such as `States.Format('{}', $.a)`, arguments included.
pub fn check_intrinsic(s: &str) -> Result<(), String> {
    Intrinsic::parse(s).map(|_| ()).map_err(|e| e.message)
}

/// The value of a `"key.$"` field: a path, a context path, a variable path or an intrinsic call.
pub fn check_dynamic_value(s: &str) -> Result<(), String> {
    if Intrinsic::looks_like(s) {
        check_intrinsic(s)
    } else {
        check_path(s)
    }
}

/// One problem found in a payload template, `at` being a pointer relative to the template
/// (`/a/b.$`, `/list[0]/x.$`).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateProblem {
    /// Where, relative to the template root, so the caller can prefix its own location.
    pub at: String,
    /// What is wrong, in AWS's wording where we know it.
    pub message: String,
}

/// A JSONPath payload template (Parameters, ResultSelector, ItemSelector, Assign): every
/// `"key.$"` must hold a string that `check_dynamic_value` accepts. Reports every problem.
pub fn check_payload_template(v: &Value) -> Result<(), Vec<TemplateProblem>> {
    let mut out = Vec::new();
    walk_template(v, String::new(), 0, &mut out);
    if out.is_empty() { Ok(()) } else { Err(out) }
}

fn walk_template(v: &Value, at: String, depth: usize, out: &mut Vec<TemplateProblem>) {
    if depth > MAX_TEMPLATE_DEPTH {
        out.push(TemplateProblem {
            at,
            message: format!(
                "The payload template is nested deeper than {MAX_TEMPLATE_DEPTH} levels"
            ),
        });
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                let here = format!("{at}/{k}");
                if k.ends_with(".$") {
                    match val {
                        Value::String(s) => {
                            if check_dynamic_value(s).is_err() {
                                let message = if s.starts_with('$') {
                                    format!("The value for the field '{k}' must be a valid JSONPath")
                                } else {
                                    crate::expr::not_a_path_or_call(k)
                                };
                                out.push(TemplateProblem { at: here, message });
                            }
                        }
                        _ => out.push(TemplateProblem {
                            at: here,
                            message: format!(
                                "The value for the field '{k}' must be a STRING that contains a JSONPath but was {}",
                                kind_name(val)
                            ),
                        }),
                    }
                } else {
                    walk_template(val, here, depth + 1, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_template(item, format!("{at}[{i}]"), depth + 1, out);
            }
        }
        _ => {}
    }
}

/// JSON type name as AWS's messages print it.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(n) if n.is_f64() => "NUMBER",
        Value::Number(_) => "INTEGER",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}

/// A variable name (an `Assign` key, the root of `$name.field`): an identifier of at most 80
/// characters that is not the reserved `states`.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    let invalid = |why: &str| {
        Err(format!(
            "Invalid variable name '{name}': the variable name {why}."
        ))
    };
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return invalid("cannot be empty");
    };
    if name.chars().count() > MAX_VARIABLE_NAME {
        return invalid(&format!(
            "exceeds the maximum length of {MAX_VARIABLE_NAME} characters"
        ));
    }
    if !(first.is_alphabetic() || first == '_') || !chars.all(|c| c.is_alphanumeric() || c == '_') {
        return invalid("contains invalid characters");
    }
    if name == "states" {
        return Err("Cannot assign to reserved variable '$states'.".into());
    }
    Ok(())
}

/// The expression inside a complete `{% … %}` string, or `None` when the string is not one.
pub fn jsonata_body(s: &str) -> Option<&str> {
    if s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}") {
        s.get(2..s.len() - 2)
    } else {
        None
    }
}

/// A JSONata expression (the text between `{%` and `%}`): not empty, and parsed by the
/// evaluator's own parser (JSONata 2.0.6, Step Functions' dialect), so what validates compiles.
pub fn check_jsonata(expr: &str) -> Result<(), String> {
    parse_jsonata(expr).map(|_| ())
}

/// The parsed expression, or why it does not parse.
pub fn parse_jsonata(expr: &str) -> Result<crate::jsonata::Expr, String> {
    if expr.trim().is_empty() {
        return Err("The JSONata expression is empty".into());
    }
    crate::jsonata::compile_with(
        expr,
        crate::jsonata::Options {
            step_functions: true,
        },
    )
    .map_err(|e| format!("{}: {}", e.code, e.message))
}

/// What a JSONata expression reads that Step Functions does not provide: the context item (`$`,
/// or a bare field name such as `phone`, both of which read the missing top-level input), `$$`,
/// and `$states.errorOutput` (which exists only in a catcher). `parsed` is `expr` parsed: the
/// tree tells whether `$states.errorOutput` is read anywhere; the top-level reads are the plain
/// cases, an expression (`expr`) that is nothing but such a path.
pub fn jsonata_top_level_references(expr: &str, parsed: &crate::jsonata::Expr) -> Vec<String> {
    let mut out = Vec::new();
    if parsed.reads_field("states", "errorOutput") {
        out.push("$states.errorOutput".to_string());
    }
    let e = expr.trim();
    let (first, rest) = if let Some(rest) = e.strip_prefix("$$") {
        ("$$".to_string(), rest)
    } else if let Some(rest) = e.strip_prefix('$') {
        if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            return out; // a variable or function: provided by Step Functions
        }
        ("$".to_string(), rest)
    } else {
        let end = e
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(e.len());
        let name = &e[..end];
        let keyword = matches!(
            name,
            "true" | "false" | "null" | "and" | "or" | "in" | "function"
        );
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || keyword {
            return out;
        }
        (name.to_string(), &e[end..])
    };
    let plain_path = rest
        .split('.')
        .skip(1)
        .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || c == '_'));
    if (rest.is_empty() || rest.starts_with('.')) && plain_path {
        out.push(first);
    }
    out
}
