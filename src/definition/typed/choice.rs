//! Choice rules, parsed: paths parsed, operators resolved to an enum, literals typed.

use super::{Assign, JExpr, JTemplate, StateId};
use crate::definition;
use crate::expr::Path;
use crate::value::{Str, Value};

/// A top-level rule: its condition, where it leads, and (JSONata) what it outputs and assigns.
#[derive(Debug)]
pub struct ChoiceRule {
    pub cond: Cond,
    pub next: StateId,
    pub output: Option<JTemplate>,
    pub assign: Option<Assign>,
}

/// A boolean condition.
#[derive(Debug)]
pub enum Cond {
    And(Box<[Cond]>),
    Or(Box<[Cond]>),
    Not(Box<Cond>),
    Compare(Comparison),
    /// JSONata `Condition`.
    Jsonata(JExpr),
}

/// `Variable` compared by an operator with a literal or with another path's value.
#[derive(Debug)]
pub struct Comparison {
    pub variable: Path,
    pub variable_text: Str,
    pub operator: Operator,
    pub operand: Operand,
}

/// What the variable is compared with.
#[derive(Debug)]
pub enum Operand {
    Literal(Value),
    Path(Path, Str),
}

/// Every comparison operator of ASL (the `…Path` forms differ only in their operand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

impl Operator {
    /// The operator named `name` (without a `Path` suffix).
    pub fn from_name(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringLessThan" => StringLessThan,
            "StringGreaterThan" => StringGreaterThan,
            "StringLessThanEquals" => StringLessThanEquals,
            "StringGreaterThanEquals" => StringGreaterThanEquals,
            "StringMatches" => StringMatches,
            "NumericEquals" => NumericEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "BooleanEquals" => BooleanEquals,
            "TimestampEquals" => TimestampEquals,
            "TimestampLessThan" => TimestampLessThan,
            "TimestampGreaterThan" => TimestampGreaterThan,
            "TimestampLessThanEquals" => TimestampLessThanEquals,
            "TimestampGreaterThanEquals" => TimestampGreaterThanEquals,
            "IsNull" => IsNull,
            "IsPresent" => IsPresent,
            "IsNumeric" => IsNumeric,
            "IsString" => IsString,
            "IsBoolean" => IsBoolean,
            "IsTimestamp" => IsTimestamp,
            _ => return None,
        })
    }

    /// Whether the operator has a `…Path` form.
    fn has_path_form(self) -> bool {
        !matches!(
            self,
            Operator::StringMatches
                | Operator::IsNull
                | Operator::IsPresent
                | Operator::IsNumeric
                | Operator::IsString
                | Operator::IsBoolean
                | Operator::IsTimestamp
        )
    }
}

impl ChoiceRule {
    /// Parses a top-level rule.
    pub fn parse(
        r: &definition::ChoiceRule,
        next: StateId,
        output: Option<JTemplate>,
        assign: Option<Assign>,
    ) -> Result<ChoiceRule, String> {
        Ok(ChoiceRule {
            cond: Cond::parse(r, 0)?,
            next,
            output,
            assign,
        })
    }
}

impl Cond {
    fn parse(r: &definition::ChoiceRule, depth: usize) -> Result<Cond, String> {
        if depth > 100 {
            return Err("Choice rules nest too deeply".into());
        }
        if let Some(c) = &r.condition {
            return match c {
                serde_json::Value::Bool(b) => {
                    let e = JExpr::parse_field(
                        if *b { "{% true %}" } else { "{% false %}" },
                        "Condition",
                    )?
                    .expect("a wrapped literal parses");
                    Ok(Cond::Jsonata(e))
                }
                serde_json::Value::String(s) => match JExpr::parse_field(s, "Condition")? {
                    Some(e) => Ok(Cond::Jsonata(e)),
                    None => Err(format!("The Condition '{s}' is not a JSONata expression")),
                },
                _ => Err("Condition must be a JSONata expression".into()),
            };
        }
        let nested = |rules: &[definition::ChoiceRule]| {
            rules
                .iter()
                .map(|x| Cond::parse(x, depth + 1))
                .collect::<Result<_, _>>()
        };
        if let Some(rules) = &r.and {
            return Ok(Cond::And(nested(rules)?));
        }
        if let Some(rules) = &r.or {
            return Ok(Cond::Or(nested(rules)?));
        }
        if let Some(rule) = &r.not {
            return Ok(Cond::Not(Box::new(Cond::parse(rule, depth + 1)?)));
        }
        let variable_text = r
            .variable
            .as_deref()
            .ok_or("A Choice rule needs a Variable")?;
        let variable = Path::parse(variable_text).map_err(|e| e.to_string())?;
        let (name, value) = r
            .comparisons
            .iter()
            .next()
            .ok_or("A Choice rule needs a comparison operator")?;
        let (operator, is_path) = match Operator::from_name(name) {
            Some(op) => (op, false),
            None => match name.strip_suffix("Path").and_then(Operator::from_name) {
                Some(op) if op.has_path_form() => (op, true),
                _ => return Err(format!("Unknown comparison operator '{name}'")),
            },
        };
        let operand = if is_path {
            let text = value
                .as_str()
                .ok_or_else(|| format!("{name} must be a path string"))?;
            Operand::Path(
                Path::parse(text).map_err(|e| e.to_string())?,
                Str::from(text),
            )
        } else {
            Operand::Literal(Value::from_serde(value))
        };
        Ok(Cond::Compare(Comparison {
            variable,
            variable_text: Str::from(variable_text),
            operator,
            operand,
        }))
    }
}
