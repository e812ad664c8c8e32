//! JSONata in definitions: `"{% expr %}"` strings, alone or anywhere inside a JSON template.

use crate::jsonata;
use crate::value::{Str, Value};
use std::fmt;

/// A parsed JSONata expression with its source text and the field it came from (AWS names
/// both in `States.QueryEvaluationError` causes).
pub struct JExpr {
    pub src: Str,
    pub field: Str,
    pub expr: jsonata::Expr,
}

impl fmt::Debug for JExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JExpr({:?})", self.src)
    }
}

impl JExpr {
    /// `Some` when `text` is a whole `{% … %}` expression, `None` when it is a plain string.
    pub fn parse_wrapped(text: &str) -> Result<Option<JExpr>, String> {
        JExpr::parse_field(text, "")
    }

    /// Like `parse_wrapped`, remembering the field name for error texts.
    pub fn parse_field(text: &str, field: &str) -> Result<Option<JExpr>, String> {
        // Only a string that starts with `{%` and ends with `%}` is an expression: " {% x %} " is text.
        let Some(inner) = text.strip_prefix("{%").and_then(|r| r.strip_suffix("%}")) else {
            return Ok(None);
        };
        let src = inner.trim();
        let expr = jsonata::compile_with(
            src,
            jsonata::Options {
                step_functions: true,
            },
        )
        .map_err(|e| {
            format!(
                "The JSONata expression '{src}' specified for the field '{field}' is invalid: {}",
                e.message
            )
        })?;
        Ok(Some(JExpr {
            src: Str::from(src),
            field: Str::from(field),
            expr,
        }))
    }
}

/// A JSON template whose strings may be JSONata expressions (`Arguments`, `Output`, `Assign`,
/// `Items`, `ItemSelector`, and a choice rule's `Output`/`Assign`).
#[derive(Debug)]
pub enum JTemplate {
    /// No expression anywhere below: stored once, cloned in O(1).
    Literal(Value),
    Expr(Box<JExpr>),
    Object(Vec<(Str, JTemplate)>),
    Array(Vec<JTemplate>),
}

impl JTemplate {
    /// Parses a template; `field` is its field name (`Output`), extended with member names for
    /// nested expressions (`Output/FunctionResult`).
    pub fn parse(v: &serde_json::Value, field: &str) -> Result<JTemplate, String> {
        Self::build(v, field, 0)
    }

    fn build(v: &serde_json::Value, field: &str, depth: usize) -> Result<JTemplate, String> {
        if depth > 256 {
            return Err("template nests too deeply".into());
        }
        Ok(match v {
            serde_json::Value::String(s) => match JExpr::parse_field(s, field)? {
                Some(e) => JTemplate::Expr(Box::new(e)),
                None => JTemplate::Literal(Value::str(s)),
            },
            serde_json::Value::Object(o) => {
                let members = o
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            Str::from(k.as_str()),
                            Self::build(v, &format!("{field}/{k}"), depth + 1)?,
                        ))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                if members
                    .iter()
                    .all(|(_, t)| matches!(t, JTemplate::Literal(_)))
                {
                    JTemplate::Literal(Value::from_serde(v))
                } else {
                    JTemplate::Object(members)
                }
            }
            serde_json::Value::Array(a) => {
                let items = a
                    .iter()
                    .map(|v| Self::build(v, field, depth + 1))
                    .collect::<Result<Vec<_>, String>>()?;
                if items.iter().all(|t| matches!(t, JTemplate::Literal(_))) {
                    JTemplate::Literal(Value::from_serde(v))
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Literal(Value::from_serde(other)),
        })
    }
}
