//! Checks of Choice states: `Choices` rules (JSONPath comparisons on `Variable` with
//! `And`/`Or`/`Not`, or JSONata `Condition`s) and `Default`.

use serde_json::{Map, Value};

use super::codes::*;
use super::syntax;
use super::validate::{Checker, Lang, PathKind};

/// What a comparison operator's operand must be.
#[derive(Clone, Copy)]
enum Operand {
    String,
    Number,
    Boolean,
    Timestamp,
    Path,
}

/// Every comparison operator of a JSONPath Choice rule and its operand type.
const COMPARATORS: &[(&str, Operand)] = &[
    ("StringEquals", Operand::String),
    ("StringEqualsPath", Operand::Path),
    ("StringLessThan", Operand::String),
    ("StringLessThanPath", Operand::Path),
    ("StringGreaterThan", Operand::String),
    ("StringGreaterThanPath", Operand::Path),
    ("StringLessThanEquals", Operand::String),
    ("StringLessThanEqualsPath", Operand::Path),
    ("StringGreaterThanEquals", Operand::String),
    ("StringGreaterThanEqualsPath", Operand::Path),
    ("StringMatches", Operand::String),
    ("NumericEquals", Operand::Number),
    ("NumericEqualsPath", Operand::Path),
    ("NumericLessThan", Operand::Number),
    ("NumericLessThanPath", Operand::Path),
    ("NumericGreaterThan", Operand::Number),
    ("NumericGreaterThanPath", Operand::Path),
    ("NumericLessThanEquals", Operand::Number),
    ("NumericLessThanEqualsPath", Operand::Path),
    ("NumericGreaterThanEquals", Operand::Number),
    ("NumericGreaterThanEqualsPath", Operand::Path),
    ("BooleanEquals", Operand::Boolean),
    ("BooleanEqualsPath", Operand::Path),
    ("TimestampEquals", Operand::Timestamp),
    ("TimestampEqualsPath", Operand::Path),
    ("TimestampLessThan", Operand::Timestamp),
    ("TimestampLessThanPath", Operand::Path),
    ("TimestampGreaterThan", Operand::Timestamp),
    ("TimestampGreaterThanPath", Operand::Path),
    ("TimestampLessThanEquals", Operand::Timestamp),
    ("TimestampLessThanEqualsPath", Operand::Path),
    ("TimestampGreaterThanEquals", Operand::Timestamp),
    ("TimestampGreaterThanEqualsPath", Operand::Path),
    ("IsNull", Operand::Boolean),
    ("IsPresent", Operand::Boolean),
    ("IsNumeric", Operand::Boolean),
    ("IsString", Operand::Boolean),
    ("IsBoolean", Operand::Boolean),
    ("IsTimestamp", Operand::Boolean),
];

/// The fields that make a JSONPath Choice rule what it is; a rule has exactly one.
const SELECTORS: &[&str] = &["And", "Or", "Not", "Variable", "Condition"];

/// Deepest `And`/`Or`/`Not` nesting we walk.
const MAX_RULE_DEPTH: usize = 32;

impl Checker {
    /// A Choice state's `Choices` and `Default`.
    pub(super) fn choice(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        lang: Lang,
        siblings: &Map<String, Value>,
    ) {
        if let Some(v) = obj.get("Default") {
            self.target(v, &format!("{loc}/Default"), siblings);
        }
        let Some(v) = obj.get("Choices") else { return };
        let Some(rules) = self.array(v, &format!("{loc}/Choices")) else {
            return;
        };
        if rules.is_empty() {
            self.empty(&format!("{loc}/Choices"));
        }
        for (i, r) in rules.iter().enumerate() {
            let here = format!("{loc}/Choices[{i}]");
            match lang {
                Lang::JsonPath => self.jsonpath_rule(r, &here, Some(siblings), 0),
                Lang::Jsonata => self.jsonata_rule(r, &here, siblings),
            }
        }
    }

    /// A JSONata rule: `Condition` and `Next`, optionally `Output`, `Assign`, `Comment`.
    fn jsonata_rule(&mut self, v: &Value, loc: &str, siblings: &Map<String, Value>) {
        let Some(rule) = self.object(v, loc) else {
            return;
        };
        let missing: Vec<&str> = ["Condition", "Next"]
            .into_iter()
            .filter(|k| !rule.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            self.required(loc, &missing.join(", "));
        }
        for (key, val) in rule {
            let at = format!("{loc}/{key}");
            match key.as_str() {
                "Next" => self.target(val, &at, siblings),
                "Comment" => {
                    self.string(val, &at);
                }
                "Assign" => self.assign(val, &at, Lang::Jsonata),
                "Output" => self.jsonata_strings(val, &at, 0),
                "Condition" => match val {
                    Value::Bool(_) => {}
                    Value::String(s) if syntax::jsonata_body(s).is_some() => {
                        self.jsonata_string(s, &at)
                    }
                    _ => self.schema(
                        &at,
                        "The field 'Condition' must be a boolean or a JSONata expression",
                    ),
                },
                k if k == "Variable"
                    || k == "And"
                    || k == "Or"
                    || k == "Not"
                    || comparator(k).is_some() =>
                {
                    self.wrong_language(loc, Lang::Jsonata, key)
                }
                _ => self.unsupported(loc, key),
            }
        }
    }

    /// A JSONPath rule: exactly one operator; comparisons need `Variable`; `Next` (and `Assign`)
    /// only on top-level rules, which `siblings` being `Some` marks.
    fn jsonpath_rule(
        &mut self,
        v: &Value,
        loc: &str,
        siblings: Option<&Map<String, Value>>,
        depth: usize,
    ) {
        if depth > MAX_RULE_DEPTH {
            self.err(
                TOO_DEEPLY_NESTED,
                loc,
                "The Choice rule is nested too deeply",
            );
            return;
        }
        let Some(rule) = self.object(v, loc) else {
            return;
        };
        let has_variable = rule.contains_key("Variable");
        let mut comparisons = 0;
        for (key, val) in rule {
            let at = format!("{loc}/{key}");
            match (key.as_str(), siblings) {
                ("Next", Some(states)) => self.target(val, &at, states),
                ("Assign", Some(_)) => self.assign(val, &at, Lang::JsonPath),
                ("Comment", _) => {
                    self.string(val, &at);
                }
                ("Variable", _) => self.path(val, &at, PathKind::Reference),
                ("And" | "Or", _) => {
                    let Some(list) = self.array(val, &at) else {
                        continue;
                    };
                    if list.is_empty() {
                        self.empty(&at);
                    }
                    for (i, sub) in list.iter().enumerate() {
                        self.jsonpath_rule(sub, &format!("{at}[{i}]"), None, depth + 1);
                    }
                }
                ("Not", _) => self.jsonpath_rule(val, &at, None, depth + 1),
                ("Output" | "Condition", _) => self.wrong_language(loc, Lang::JsonPath, key),
                (k, _) => match comparator(k) {
                    Some(operand) if has_variable => {
                        comparisons += 1;
                        self.operand(val, &at, operand);
                    }
                    _ => self.unsupported(loc, key),
                },
            }
        }
        if siblings.is_some() && !rule.contains_key("Next") {
            self.required(loc, "Next");
        }
        let selectors = SELECTORS.iter().filter(|k| rule.contains_key(**k)).count();
        if selectors != 1 {
            self.schema(
                loc,
                format!(
                    "The object must have only one of the following fields, [{}]",
                    SELECTORS.join(", ")
                ),
            );
        }
        if has_variable && comparisons != 1 {
            let all: Vec<&str> = COMPARATORS.iter().map(|(name, _)| *name).collect();
            self.schema(
                loc,
                format!(
                    "There should only be one of the following fields: [{}]",
                    all.join(", ")
                ),
            );
        }
    }

    fn operand(&mut self, v: &Value, loc: &str, operand: Operand) {
        match operand {
            Operand::String => {
                self.string(v, loc);
            }
            Operand::Number => {
                if !v.is_number() {
                    self.not_a_number(loc);
                }
            }
            Operand::Boolean => {
                self.boolean(v, loc);
            }
            Operand::Timestamp => {
                if let Some(s) = self.string(v, loc)
                    && !super::state::is_timestamp(s)
                {
                    self.not_a_timestamp(loc);
                }
            }
            Operand::Path => self.path(v, loc, PathKind::Reference),
        }
    }
}

fn comparator(name: &str) -> Option<Operand> {
    COMPARATORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, o)| *o)
}
