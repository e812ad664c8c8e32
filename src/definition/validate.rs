//! Validation of raw definition JSON: every problem, with its location and AWS's code.
//!
//! The walk runs on `serde_json::Value`, not on the serde model, so that one bad field does not
//! hide the others. Locations are JSON-pointer-like, as AWS prints them: `/States/A/Next`,
//! `/States/P/Branches[0]/States/B`, `/States/C/Choices[1]/Next`; the definition root is `/`.
//! This file holds the diagnostic type, the definition-level walk (StartAt, States, state names,
//! reachability) and the small typed-field helpers the state checks share.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::codes::*;
use super::syntax;

/// How bad a finding is: errors reject the definition, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// AWS refuses the definition (`result: FAIL`).
    Error,
    /// Reported, but the definition is accepted.
    Warning,
}

/// One finding, shaped like a ValidateStateMachineDefinition diagnostic.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Whether the definition is rejected (`Error`) or only flagged (`Warning`).
    pub severity: Severity,
    /// AWS's code, e.g. `MISSING_TRANSITION_TARGET` (see `codes`).
    pub code: &'static str,
    /// JSON-pointer-like location, e.g. `/States/Foo/Next`; empty when AWS gives none.
    pub location: String,
    /// Human-readable explanation, in AWS's wording where we know it.
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

    /// A warning-level diagnostic: reported, but the definition is still accepted.
    pub fn warning(code: &'static str, location: &str, message: String) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            code,
            location: location.to_string(),
            message,
        }
    }
}

/// A definition that is not a JSON object (or is empty text).
pub(super) fn not_an_object() -> Diagnostic {
    Diagnostic::error(
        SCHEMA_VALIDATION_FAILED,
        "",
        "Definition must be a valid JSON object".into(),
    )
}

/// A state name used twice in the machine, at `loc`.
pub(super) fn duplicate_name(loc: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        DUPLICATE_STATE_NAME,
        loc,
        format!("Duplicate State name: {name}"),
    )
}

/// A transition (`StartAt`, `Next`, `Default`) at `loc` naming `name`, which its scope lacks.
pub(super) fn missing_target(loc: &str, name: &str) -> Diagnostic {
    Diagnostic::error(
        MISSING_TRANSITION_TARGET,
        loc,
        format!("Missing 'Next' target: {name}"),
    )
}

/// Renders the error diagnostics as the message of CreateStateMachine's `InvalidDefinition`
/// error, e.g. `Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next'
/// target: Foo at /States/Bar/Next'`. Several errors are each quoted and joined with `", "`; a
/// diagnostic without a location prints `at null`, as AWS does.
pub fn invalid_definition_message(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let at = if d.location.is_empty() {
                "null"
            } else {
                &d.location
            };
            format!("{}: {} at {}", d.code, d.message, at)
        })
        .collect();
    let body = match errors.as_slice() {
        [one] => one.clone(),
        many => many
            .iter()
            .map(|e| format!("'{e}'"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!("Invalid State Machine Definition: '{body}'")
}

/// Every problem in a raw definition, in walk order (definition fields, then each state, then
/// reachability). An empty result, or warnings only, means AWS would accept it.
pub fn validate(raw: &serde_json::Value) -> Vec<Diagnostic> {
    let mut c = Checker::default();
    if !raw.is_object() {
        c.out.push(not_an_object());
        return c.out;
    }
    c.definition(raw, "", Scope::Root, Lang::JsonPath, 0);
    c.out
}

/// Deepest nesting of Parallel branches / Map processors we accept.
pub(super) const MAX_NESTING: usize = 40;

/// Longest state name AWS accepts, in characters.
pub(super) const MAX_STATE_NAME: usize = 80;

/// The query language a state is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    JsonPath,
    Jsonata,
}

impl Lang {
    pub(super) fn name(self) -> &'static str {
        match self {
            Lang::JsonPath => "JSONPath",
            Lang::Jsonata => "JSONata",
        }
    }

    /// The other query language.
    pub(super) fn other(self) -> Lang {
        match self {
            Lang::JsonPath => Lang::Jsonata,
            Lang::Jsonata => Lang::JsonPath,
        }
    }
}

/// Which kind of workflow object a `StartAt`/`States` pair lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Root,
    Branch,
    Processor,
}

/// The walk's state: diagnostics found so far and every state name seen in the machine.
#[derive(Default)]
pub(super) struct Checker {
    pub(super) out: Vec<Diagnostic>,
    names: HashSet<String>,
    /// Inside a catcher's `Output`/`Assign`, the one place `$states.errorOutput` exists.
    pub(super) in_catcher: bool,
}

impl Checker {
    pub(super) fn err(&mut self, code: &'static str, loc: &str, message: impl Into<String>) {
        self.out.push(Diagnostic::error(code, loc, message.into()));
    }

    pub(super) fn schema(&mut self, loc: &str, message: impl Into<String>) {
        self.err(SCHEMA_VALIDATION_FAILED, loc, message);
    }

    /// A field the object at `loc` does not accept.
    pub(super) fn unsupported(&mut self, loc: &str, key: &str) {
        self.schema(loc, format!("Field '{key}' is not supported"));
    }

    /// Required fields missing from the object at `loc` (`fields` as AWS lists them, `A, B`).
    pub(super) fn required(&mut self, loc: &str, fields: &str) {
        self.schema(loc, format!("These fields are required: [{fields}]"));
    }

    /// A field of the other query language than `lang`, the one in force at `loc`.
    pub(super) fn wrong_language(&mut self, loc: &str, lang: Lang, key: &str) {
        self.schema(
            loc,
            format!(
                "The QueryLanguage is set to '{}', but field '{key}' is only supported for the '{}' QueryLanguage",
                lang.name(),
                lang.other().name()
            ),
        );
    }

    /// An array or object at `loc` that must not be empty.
    pub(super) fn empty(&mut self, loc: &str) {
        self.schema(loc, "Value cannot be empty");
    }

    /// A value that should be a number and is not.
    pub(super) fn not_a_number(&mut self, loc: &str) {
        self.schema(loc, "Expected value of type Number");
    }

    /// A string that should be an RFC 3339 timestamp and is not.
    pub(super) fn not_a_timestamp(&mut self, loc: &str) {
        self.schema(loc, "String does not match RFC3339 timestamp");
    }

    /// A `Resource` that is not shaped like an ARN.
    pub(super) fn not_an_arn(&mut self, loc: &str) {
        self.schema(loc, "Value is not a valid resource ARN");
    }

    pub(super) fn warn(&mut self, code: &'static str, loc: &str, message: impl Into<String>) {
        self.out
            .push(Diagnostic::warning(code, loc, message.into()));
    }

    /// A definition root, a Parallel branch or a Map processor at `loc` ("" for the root).
    /// `lang` is the machine's top-level language, which nested states inherit.
    pub(super) fn definition(
        &mut self,
        def: &Value,
        loc: &str,
        scope: Scope,
        lang: Lang,
        depth: usize,
    ) {
        let here = if loc.is_empty() { "/" } else { loc };
        if depth > MAX_NESTING {
            self.err(TOO_DEEPLY_NESTED, here, "The states are too deeply nested");
            return;
        }
        let Some(obj) = self.object(def, here) else {
            return;
        };
        let allowed: &[&str] = match scope {
            Scope::Root => &[
                "Comment",
                "StartAt",
                "States",
                "Version",
                "TimeoutSeconds",
                "QueryLanguage",
            ],
            Scope::Branch => &["Comment", "StartAt", "States"],
            Scope::Processor => &["Comment", "StartAt", "States", "ProcessorConfig"],
        };
        for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
            self.unsupported(here, key);
        }
        let missing: Vec<&str> = ["States", "StartAt"]
            .into_iter()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            self.required(here, &missing.join(", "));
        }
        let lang = match scope {
            Scope::Root => self.root_fields(obj, loc),
            _ => lang,
        };
        if let Some(v) = obj.get("Comment") {
            self.string(v, &format!("{loc}/Comment"));
        }
        if let Some(cfg) = obj.get("ProcessorConfig") {
            self.processor_config(cfg, &format!("{loc}/ProcessorConfig"));
        }
        let start_at = obj
            .get("StartAt")
            .and_then(|v| self.string(v, &format!("{loc}/StartAt")));
        let Some(states_v) = obj.get("States") else {
            return;
        };
        let Some(states) = self.object(states_v, &format!("{loc}/States")) else {
            return;
        };
        if states.is_empty() {
            self.empty(&format!("{loc}/States"));
            return;
        }
        for (name, state) in states {
            let state_loc = format!("{loc}/States/{name}");
            self.state_name(name, &state_loc);
            self.state(state, &state_loc, states, lang, depth);
        }
        if let Some(start) = start_at
            && !states.contains_key(start)
        {
            self.out
                .push(missing_target(&format!("{loc}/StartAt"), start));
        }
        if scope == Scope::Root && !states.values().any(is_terminal) {
            self.err(MISSING_END_STATE, "", "Workflow has no terminal state");
        } else if start_at.is_some() {
            // Without a StartAt, "required" is the whole story: nothing is reachable from nowhere.
            self.reachability(states, start_at, loc);
        }
    }

    /// Top-level `QueryLanguage`, `TimeoutSeconds` and `Version`; returns the machine's language.
    fn root_fields(&mut self, obj: &Map<String, Value>, loc: &str) -> Lang {
        if let Some(v) = obj.get("TimeoutSeconds") {
            self.int_in(v, &format!("{loc}/TimeoutSeconds"), 0, 99_999_999);
        }
        if let Some(v) = obj.get("Version") {
            self.one_of(v, &format!("{loc}/Version"), &["1.0"]);
        }
        match obj.get("QueryLanguage") {
            None => Lang::JsonPath,
            Some(v) => {
                self.query_language_value(v, &format!("{loc}/QueryLanguage"));
                if v.as_str() == Some("JSONPath") {
                    Lang::JsonPath
                } else {
                    Lang::Jsonata
                }
            }
        }
    }

    /// A `QueryLanguage` value: one of AWS's two spellings.
    pub(super) fn query_language_value(&mut self, v: &Value, loc: &str) {
        if let Some(s) = self.string(v, loc)
            && s != "JSONPath"
            && s != "JSONata"
        {
            self.schema(
                loc,
                "Value should be one of the following: [JSONPath, JSONata]",
            );
        }
    }

    fn processor_config(&mut self, v: &Value, loc: &str) {
        let Some(cfg) = self.object(v, loc) else {
            return;
        };
        let distributed = cfg.get("Mode").and_then(Value::as_str) == Some("DISTRIBUTED");
        if distributed && !cfg.contains_key("ExecutionType") {
            self.required(loc, "ExecutionType");
        }
        if !distributed && cfg.contains_key("ExecutionType") {
            self.unsupported(loc, "ExecutionType");
        }
        for (key, val) in cfg {
            let here = format!("{loc}/{key}");
            match key.as_str() {
                "Mode" => self.one_of(val, &here, &["INLINE", "DISTRIBUTED"]),
                "ExecutionType" => self.one_of(val, &here, &["STANDARD", "EXPRESS"]),
                _ => self.unsupported(loc, key),
            }
        }
    }

    /// State names: not empty, at most 80 characters, unique in the whole machine.
    fn state_name(&mut self, name: &str, loc: &str) {
        if name.is_empty() {
            self.err(INVALID_STATE_NAME, loc, "State name cannot be empty");
        } else if name.chars().count() > MAX_STATE_NAME {
            self.err(
                INVALID_STATE_NAME,
                loc,
                format!(
                    "State name '{name}' exceeds the maximum length of {MAX_STATE_NAME} characters"
                ),
            );
        }
        if !self.names.insert(name.to_string()) {
            self.out.push(duplicate_name(loc, name));
        }
    }

    /// Every state of one container that no path from `StartAt` reaches.
    fn reachability(&mut self, states: &Map<String, Value>, start_at: Option<&str>, loc: &str) {
        let mut reached: HashSet<&str> = HashSet::new();
        let mut todo: Vec<&str> = start_at
            .filter(|s| states.contains_key(*s))
            .into_iter()
            .collect();
        while let Some(name) = todo.pop() {
            if !reached.insert(name) {
                continue;
            }
            if let Some(state) = states.get(name) {
                todo.extend(
                    transitions(state)
                        .into_iter()
                        .filter(|t| states.contains_key(*t)),
                );
            }
        }
        for name in states.keys().filter(|n| !reached.contains(n.as_str())) {
            self.err(
                MISSING_TRANSITION_TARGET,
                &format!("{loc}/States/{name}"),
                format!("State \"{name}\" is not reachable."),
            );
        }
    }

    /// A transition field (`Next`, `Default`, a Choice rule's or catcher's `Next`): a string
    /// naming a state of the same container.
    pub(super) fn target(&mut self, v: &Value, loc: &str, states: &Map<String, Value>) {
        if let Some(name) = self.string(v, loc)
            && !states.contains_key(name)
        {
            self.out.push(missing_target(loc, name));
        }
    }

    // Typed-field helpers. Each reports a type mismatch at `loc` and returns `None`.

    pub(super) fn type_error(&mut self, loc: &str, expected: &str) {
        self.schema(loc, format!("Expected value of type [{expected}]"));
    }

    pub(super) fn object<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.type_error(loc, "OBJECT");
        }
        o
    }

    pub(super) fn array<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v Vec<Value>> {
        let a = v.as_array();
        if a.is_none() {
            self.type_error(loc, "ARRAY");
        }
        a
    }

    pub(super) fn string<'v>(&mut self, v: &'v Value, loc: &str) -> Option<&'v str> {
        let s = v.as_str();
        if s.is_none() {
            self.type_error(loc, "STRING");
        }
        s
    }

    pub(super) fn boolean(&mut self, v: &Value, loc: &str) -> Option<bool> {
        let b = v.as_bool();
        if b.is_none() {
            self.type_error(loc, "BOOLEAN");
        }
        b
    }

    /// An integer field within `[min, max]`.
    pub(super) fn int_in(&mut self, v: &Value, loc: &str, min: i64, max: i64) -> Option<i64> {
        let n = match v {
            Value::Number(n) if n.is_i64() => n.as_i64(),
            Value::Number(n) if n.is_u64() => Some(i64::MAX),
            _ => {
                self.schema(loc, "Expected value of type Integer");
                return None;
            }
        }?;
        self.in_range(n, loc, min, max)
    }

    /// A number field within `[min, max]`.
    pub(super) fn number_in(&mut self, v: &Value, loc: &str, min: f64, max: f64) -> Option<f64> {
        let Some(n) = v.as_f64() else {
            self.not_a_number(loc);
            return None;
        };
        self.in_range(n, loc, min, max)
    }

    /// `n` when within `[min, max]`; else the bound it crosses, in AWS's words.
    fn in_range<T: PartialOrd + std::fmt::Display>(
        &mut self,
        n: T,
        loc: &str,
        min: T,
        max: T,
    ) -> Option<T> {
        if n < min {
            self.schema(loc, format!("Minimum value is {min}"));
            return None;
        }
        if n > max {
            self.schema(loc, format!("Maximum value is {max}"));
            return None;
        }
        Some(n)
    }

    /// A string field restricted to an enumeration.
    pub(super) fn one_of(&mut self, v: &Value, loc: &str, values: &[&str]) {
        if let Some(s) = self.string(v, loc)
            && !values.contains(&s)
        {
            self.schema(
                loc,
                format!(
                    "Value should be one of the following: [{}]",
                    values.join(", ")
                ),
            );
        }
    }

    /// A JSONPath-style path field. `null` is allowed where AWS gives it a meaning.
    pub(super) fn path(&mut self, v: &Value, loc: &str, kind: PathKind) {
        if v.is_null() && kind.nullable() {
            return;
        }
        let Some(s) = self.string(v, loc) else { return };
        let ok = match kind {
            PathKind::NullablePath => syntax::check_path(s).is_ok(),
            PathKind::Reference => syntax::check_reference_path(s).is_ok(),
            PathKind::Result => syntax::check_result_path(s).is_ok(),
            PathKind::ReferenceOrIntrinsic => {
                if s.starts_with("States.") {
                    syntax::check_intrinsic(s).is_ok()
                } else {
                    syntax::check_reference_path(s).is_ok()
                }
            }
        };
        if !ok {
            let message = match kind {
                PathKind::NullablePath => "Value must be a valid JSONPath.",
                _ if !s.starts_with('$') && !s.starts_with("States.") => {
                    "Value is not a Reference Path: Reference path didn't start with '$'"
                }
                _ => "Value is not a Reference Path",
            };
            self.schema(loc, message);
        }
    }

    /// Every `{% … %}` string under `v` must be complete and parse as JSONata.
    pub(super) fn jsonata_strings(&mut self, v: &Value, loc: &str, depth: usize) {
        if depth > syntax::MAX_TEMPLATE_DEPTH {
            self.schema(loc, "The value is nested too deeply");
            return;
        }
        match v {
            Value::String(s) => self.jsonata_string(s, loc),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.jsonata_strings(item, &format!("{loc}[{i}]"), depth + 1);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    self.jsonata_strings(item, &format!("{loc}/{k}"), depth + 1);
                }
            }
            _ => {}
        }
    }

    /// One string of a JSONata state: a literal, or a complete expression that parses and reads
    /// only what Step Functions provides (`$states`, variables, functions).
    pub(super) fn jsonata_string(&mut self, s: &str, loc: &str) {
        if !s.starts_with("{%") {
            return;
        }
        let Some(body) = syntax::jsonata_body(s) else {
            self.schema(loc, "JSONata string must start with {% and end with %}");
            return;
        };
        let parsed = match syntax::parse_jsonata(body) {
            Ok(parsed) => parsed,
            Err(e) => return self.err(INVALID_JSONATA_EXPRESSION, loc, e),
        };
        for reference in syntax::jsonata_top_level_references(body, &parsed) {
            let message = match reference.as_str() {
                "$$" => "Reference to '$$' is not supported.".to_string(),
                "$states.errorOutput" if self.in_catcher => continue,
                "$states.errorOutput" => "Field '$states.errorOutput' does not exist.".to_string(),
                name => format!("Reference to '{name}' at the top level is not supported."),
            };
            self.err(UNSUPPORTED_JSONATA_EXPRESSION, loc, message);
        }
    }

    /// A JSONPath payload template (`"key.$"` values must be paths or intrinsic calls).
    pub(super) fn template(&mut self, v: &Value, loc: &str) {
        if let Err(problems) = syntax::check_payload_template(v) {
            for p in problems {
                self.schema(&format!("{loc}{}", p.at), p.message);
            }
        }
        self.no_dollar(v, loc, 0);
    }

    /// Warns about template keys without `.$` whose value looks like a path or intrinsic call:
    /// such a value is passed on as a literal string, which is rarely what was meant.
    fn no_dollar(&mut self, v: &Value, loc: &str, depth: usize) {
        if depth > syntax::MAX_TEMPLATE_DEPTH {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, val) in map.iter().filter(|(k, _)| !k.ends_with(".$")) {
                    let here = format!("{loc}/{k}");
                    match val {
                        Value::String(s) if looks_dynamic(s) => self.warn(
                            NO_DOLLAR,
                            &here,
                            format!("The value of the field '{k}' looks like a JSONPath or an intrinsic function, but the field name does not end with '.$'"),
                        ),
                        _ => self.no_dollar(val, &here, depth + 1),
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.no_dollar(item, &format!("{loc}[{i}]"), depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// What a path field must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathKind {
    /// InputPath/OutputPath: any path, or null.
    NullablePath,
    /// A definite path naming one value.
    Reference,
    /// ResultPath: a definite `$`-rooted path, or null.
    Result,
    /// ErrorPath/CausePath: a reference path or an intrinsic call.
    ReferenceOrIntrinsic,
}

impl PathKind {
    fn nullable(self) -> bool {
        matches!(self, PathKind::NullablePath | PathKind::Result)
    }
}

/// Succeed, Fail and `End: true` states end a workflow.
fn is_terminal(state: &Value) -> bool {
    matches!(
        state.get("Type").and_then(Value::as_str),
        Some("Succeed" | "Fail")
    ) || state.get("End").and_then(Value::as_bool) == Some(true)
}

/// The names a state can transition to: `Next`, `Default`, Choice rules' and catchers' `Next`.
fn transitions(state: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = ["Next", "Default"]
        .iter()
        .filter_map(|k| state.get(*k)?.as_str())
        .collect();
    for list in ["Choices", "Catch"] {
        if let Some(items) = state.get(list).and_then(Value::as_array) {
            out.extend(items.iter().filter_map(|r| r.get("Next")?.as_str()));
        }
    }
    out
}

/// A string that would be evaluated had its key ended in `.$`.
fn looks_dynamic(s: &str) -> bool {
    s == "$"
        || s.starts_with("$.")
        || s.starts_with("$$.")
        || s.starts_with("$[")
        || (s.starts_with("States.") && s.ends_with(')') && syntax::check_intrinsic(s).is_ok())
}

/// The body of a ValidateStateMachineDefinition answer: `result` (`OK` unless an error was
/// found), `diagnostics` (errors first, at most `max_results`; a diagnostic without a location
/// has no `location` member, as AWS omits it) and `truncated`.
pub fn validation_response(diagnostics: &[Diagnostic], max_results: usize) -> serde_json::Value {
    let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let mut ordered: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    ordered.extend(
        diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning),
    );
    let shown: Vec<serde_json::Value> = ordered
        .iter()
        .take(max_results)
        .map(|d| {
            let mut m = Map::new();
            let severity = if d.severity == Severity::Error {
                "ERROR"
            } else {
                "WARNING"
            };
            m.insert("severity".into(), severity.into());
            m.insert("code".into(), d.code.into());
            m.insert("message".into(), d.message.clone().into());
            if !d.location.is_empty() {
                m.insert("location".into(), d.location.clone().into());
            }
            Value::Object(m)
        })
        .collect();
    serde_json::json!({
        "result": if failed { "FAIL" } else { "OK" },
        "diagnostics": shown,
        "truncated": ordered.len() > max_results,
    })
}
