//! Definition text to JSON, with the one check that needs the text: a state name given twice
//! in the same `States` object, which a parsed `serde_json::Value` has already merged away.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::codes::*;
use super::validate::{Diagnostic, duplicate_name, not_an_object, validate};

/// Parses and validates definition text: the parsed JSON (when it parses) and every diagnostic,
/// including `DUPLICATE_STATE_NAME` for a name repeated inside one `States` object.
pub fn validate_text(text: &str) -> (Option<Value>, Vec<Diagnostic>) {
    if text.trim().is_empty() {
        return (None, vec![not_an_object()]);
    }
    let mut duplicates = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Collect {
        at: String::new(),
        states_map: false,
        duplicates: &mut duplicates,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    let raw = match parsed {
        Ok(raw) => raw,
        Err(e) => {
            let at = format!("line: {}, column: {}", e.line(), e.column());
            return (
                None,
                vec![Diagnostic::error(
                    INVALID_JSON_DESCRIPTION,
                    &at,
                    e.to_string(),
                )],
            );
        }
    };
    let mut out: Vec<Diagnostic> = duplicates
        .into_iter()
        .map(|(at, name)| duplicate_name(&at, &name))
        .collect();
    out.extend(validate(&raw));
    (Some(raw), out)
}

/// Builds a `Value` like serde_json does, remembering where it is so that a key repeated in a
/// definition's `States` object can be reported with its location.
struct Collect<'a> {
    at: String,
    /// This value is the `States` member of a workflow object.
    states_map: bool,
    duplicates: &'a mut Vec<(String, String)>,
}

/// Whether the object at `at` is a workflow (root, Parallel branch or Map processor), whose
/// `States` member holds state names.
fn is_workflow(at: &str) -> bool {
    at.is_empty()
        || at.ends_with("/ItemProcessor")
        || at.ends_with("/Iterator")
        || (at.ends_with(']') && at.contains("/Branches["))
}

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let at = format!("{}[{}]", self.at, items.len());
            match seq.next_element_seed(Collect {
                at,
                states_map: false,
                duplicates: &mut *self.duplicates,
            })? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let workflow = is_workflow(&self.at);
        while let Some(key) = map.next_key::<String>()? {
            let at = format!("{}/{key}", self.at);
            let states_map = workflow && key == "States";
            let value = map.next_value_seed(Collect {
                at: at.clone(),
                states_map,
                duplicates: &mut *self.duplicates,
            })?;
            if self.states_map && out.contains_key(&key) {
                self.duplicates.push((at, key.clone()));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}
