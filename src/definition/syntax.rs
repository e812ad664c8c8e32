//! Syntax checks for the small languages embedded in ASL strings: JSONPath paths and reference
//! paths, intrinsic function calls, payload templates (`"key.$"` values), variable names and
//! JSONata `{% … %}` expressions.
//!
//! In: one string (or a template value). Out: `Ok(())` or a short reason. These are the only
//! places where `validate` looks inside a string, so that their bodies can later delegate to
//! `crate::expr` (`Path::parse`, `ReferencePath::parse`, `Intrinsic::parse`) and
//! `crate::jsonata::compile` without touching the validator. Nothing here evaluates anything.

use serde_json::Value;

/// Deepest payload template (nested objects/arrays) we walk; deeper input is reported, not
/// recursed into.
pub const MAX_TEMPLATE_DEPTH: usize = 64;

/// Longest variable name AWS accepts.
pub const MAX_VARIABLE_NAME: usize = 80;

/// The intrinsic functions Step Functions knows; any other `States.X(...)` is rejected.
pub const INTRINSICS: &[&str] = &[
    "States.Array",
    "States.ArrayContains",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayPartition",
    "States.ArrayRange",
    "States.ArrayUnique",
    "States.Base64Decode",
    "States.Base64Encode",
    "States.Format",
    "States.Hash",
    "States.JsonMerge",
    "States.JsonToString",
    "States.MathAdd",
    "States.MathRandom",
    "States.StringSplit",
    "States.StringToJson",
    "States.UUID",
];

/// A JSONPath `Path` (InputPath, OutputPath, Choice `Variable`, `*Path` fields): `$`-rooted,
/// `$$`-rooted (context object) or `$name`-rooted (variable); wildcards, slices and filters allowed.
pub fn check_path(s: &str) -> Result<(), String> {
    parse_path(s).map(|_| ())
}

/// A reference path: like `check_path`, but it must select exactly one node (no wildcard, deep
/// scan, slice, union or filter), as ResultPath and the `*Path` fields that name one value need.
pub fn check_reference_path(s: &str) -> Result<(), String> {
    if parse_path(s)? {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not a reference path: it may select more than one node"
        ))
    }
}

/// An intrinsic function call such as `States.Format('{}', $.a)`, arguments included.
pub fn check_intrinsic(s: &str) -> Result<(), String> {
    let mut p = Cursor { s, i: 0 };
    p.call(0)?;
    p.ws();
    if p.i != s.len() {
        return Err(format!("unexpected text after the intrinsic call in '{s}'"));
    }
    Ok(())
}

/// The value of a `"key.$"` field: a path, a context path, a variable path or an intrinsic call.
pub fn check_dynamic_value(s: &str) -> Result<(), String> {
    if s.starts_with("States.") {
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
                                    format!(
                                        "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                                    )
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

/// A JSONata expression (the text between `{%` and `%}`): not empty, strings and comments
/// closed, brackets balanced. `crate::jsonata::compile` will replace this with a real parse.
pub fn check_jsonata(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Err("The JSONata expression is empty".into());
    }
    let b = expr.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= b.len() {
                    return Err("Unterminated string literal in the JSONata expression".into());
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match expr[i + 2..].find("*/") {
                Some(end) => i += end + 3,
                None => return Err("Unterminated comment in the JSONata expression".into()),
            },
            c @ (b'(' | b'[' | b'{') => stack.push(c),
            c @ (b')' | b']' | b'}') => {
                let open = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if stack.pop() != Some(open) {
                    return Err(format!(
                        "Unexpected '{}' in the JSONata expression",
                        c as char
                    ));
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(open) = stack.pop() {
        return Err(format!(
            "Unclosed '{}' in the JSONata expression",
            open as char
        ));
    }
    Ok(())
}

/// What a JSONata expression reads that Step Functions does not provide: the context item (`$`,
/// or a bare field name such as `phone`, both of which read the missing top-level input), `$$`,
/// and `$states.errorOutput` (which exists only in a catcher). Without a JSONata parser this sees
/// only the plain cases: an expression that is nothing but a path, and the literal text
/// `$states.errorOutput` outside string literals. `crate::jsonata` will walk the real tree.
pub fn jsonata_top_level_references(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    if outside_strings(expr).contains("$states.errorOutput") {
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

/// The expression with its string literals blanked out, so that text inside quotes is not
/// mistaken for code.
fn outside_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                out.push(' ');
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                out.push(' ');
            }
            None => out.push(c),
        }
    }
    out
}

/// Parses a path; `Ok(true)` when it is definite (selects at most one node).
fn parse_path(s: &str) -> Result<bool, String> {
    let bad = |why: &str| Err(format!("'{s}' is not a valid JSONPath: {why}"));
    let Some(rest) = s.strip_prefix('$') else {
        return bad("it must start with '$'");
    };
    let rest = if let Some(r) = rest.strip_prefix('$') {
        r
    } else if rest.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        check_variable_name(&rest[..end])?;
        &rest[end..]
    } else {
        rest
    };
    let mut definite = true;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                if b.get(i) == Some(&b'.') {
                    definite = false;
                    i += 1;
                    if b.get(i) == Some(&b'[') {
                        continue;
                    }
                }
                if b.get(i) == Some(&b'*') {
                    definite = false;
                    i += 1;
                    continue;
                }
                if b.get(i) == Some(&b'[') {
                    continue;
                }
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if i == start {
                    return bad("a field name is missing after '.'");
                }
                if rest[start..i].ends_with("()") {
                    definite = false;
                }
            }
            b'[' => {
                let close = bracket_end(rest, i)
                    .ok_or_else(|| format!("'{s}' is not a valid JSONPath: unclosed '['"))?;
                if !bracket_selector(&rest[i + 1..close], &mut definite) {
                    return bad("invalid selector in brackets");
                }
                i = close + 1;
            }
            _ => return bad("expected '.' or '['"),
        }
    }
    Ok(definite)
}

/// Index of the `]` closing the `[` at `open`, skipping quoted text and nested brackets.
fn bracket_end(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'(' => depth += 1,
            b']' | b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (b[i] == b']').then_some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Checks the text between brackets; clears `definite` for multi-node selectors.
fn bracket_selector(inner: &str, definite: &mut bool) -> bool {
    let t = inner.trim();
    if t == "*" || t.starts_with("?(") || t.starts_with('(') {
        *definite = false;
        return t == "*" || t.ends_with(')');
    }
    let parts: Vec<&str> = t.split(',').map(str::trim).collect();
    if parts.len() > 1 {
        *definite = false;
    }
    parts.iter().all(|p| {
        if is_quoted(p) {
            p.len() > 2
        } else if p.contains(':') {
            *definite = false;
            p.split(':')
                .all(|n| n.trim().is_empty() || n.trim().parse::<i64>().is_ok())
        } else if let Ok(n) = p.parse::<i64>() {
            if n < 0 {
                *definite = false;
            }
            true
        } else {
            false
        }
    })
}

fn is_quoted(p: &str) -> bool {
    p.len() >= 2
        && ((p.starts_with('\'') && p.ends_with('\'')) || (p.starts_with('"') && p.ends_with('"')))
}

/// Deepest nesting of intrinsic calls inside one another.
const MAX_INTRINSIC_DEPTH: usize = 32;

/// A tiny recursive-descent reader for intrinsic calls.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl Cursor<'_> {
    fn ws(&mut self) {
        while self.s[self.i..].starts_with(' ') {
            self.i += 1;
        }
    }

    fn call(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_INTRINSIC_DEPTH {
            return Err("intrinsic calls are nested too deeply".into());
        }
        let rest = &self.s[self.i..];
        let open = rest
            .find('(')
            .ok_or_else(|| format!("'{}' is not an intrinsic function call", self.s))?;
        let name = rest[..open].trim();
        if !INTRINSICS.contains(&name) {
            return Err(format!("Unknown intrinsic function '{name}'"));
        }
        self.i += open + 1;
        self.ws();
        if self.s[self.i..].starts_with(')') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.arg(depth)?;
            self.ws();
            match self.s[self.i..].chars().next() {
                Some(',') => self.i += 1,
                Some(')') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(format!("expected ',' or ')' in '{}'", self.s)),
            }
        }
    }

    fn arg(&mut self, depth: usize) -> Result<(), String> {
        let rest = &self.s[self.i..];
        if rest.starts_with('\'') {
            let b = rest.as_bytes();
            let mut j = 1;
            while j < b.len() && b[j] != b'\'' {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= b.len() {
                return Err(format!("unterminated string literal in '{}'", self.s));
            }
            self.i += j + 1;
            return Ok(());
        }
        if rest.starts_with("States.") {
            return self.call(depth + 1);
        }
        let end = arg_end(rest);
        let token = rest[..end].trim();
        self.i += end;
        if token.starts_with('$') {
            return check_path(token);
        }
        if matches!(token, "true" | "false" | "null") || token.parse::<f64>().is_ok() {
            return Ok(());
        }
        Err(format!("invalid argument '{token}' in '{}'", self.s))
    }
}

/// Length of an unquoted argument: up to the `,` or `)` that ends it at bracket depth zero.
fn arg_end(rest: &str) -> usize {
    let b = rest.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') if depth > 0 => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'(' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b')' if depth == 0 => return i,
            b')' => depth -= 1,
            b',' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    b.len().min(i)
}
