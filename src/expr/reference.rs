//! Reference paths (`ResultPath`): where a state's result is grafted into its input.

use super::path::{Path, Root, Seg};
use super::{PathError, SyntaxError};
use crate::value::{Map, Value};

/// Error name AWS gives a `ResultPath` that cannot be applied to the input.
pub const REFERENCE_PATH_CONFLICT: &str = "States.ReferencePathConflict";

/// A definite `$`-rooted path of members and indexes, parsed once.
#[derive(Clone, Debug)]
pub struct ReferencePath {
    path: Path,
}

impl ReferencePath {
    /// Parses a reference path: `$`, `$.a.b`, `$['a']`, `$.a[0]`. Wildcards, filters, slices,
    /// scans, `$$` and variables are not reference paths.
    pub fn parse(text: &str) -> Result<ReferencePath, SyntaxError> {
        let path = Path::parse(text)?;
        if path.root != Root::Input {
            return Err(SyntaxError::new(format!(
                "Invalid reference path '{text}': it must start with '$.'"
            )));
        }
        if !path
            .segs
            .iter()
            .all(|s| matches!(s, Seg::Prop(_) | Seg::Index(_)))
        {
            return Err(SyntaxError::new(format!(
                "Invalid reference path '{text}': only member names and array indexes are allowed"
            )));
        }
        Ok(ReferencePath { path })
    }

    /// The text it was parsed from.
    pub fn text(&self) -> &str {
        self.path.text()
    }

    /// The parsed path, to read from the same place (`ResultPath` is also a selector).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `target` with `result` placed at this path. `$` yields `result`; missing members are
    /// created as objects; only the objects and arrays on the way are copied (their members
    /// are shared). Fails with `PathError::Conflict` when a step meets a non-object.
    pub fn set(&self, target: &Value, result: Value) -> Result<Value, PathError> {
        if self.path.segs.is_empty() {
            return Ok(result);
        }
        if !matches!(target, Value::Object(_) | Value::Array(_)) {
            return Err(self.conflict_input(target));
        }
        self.set_at(0, target, result, target)
    }

    fn conflict_input(&self, target: &Value) -> PathError {
        PathError::Conflict(format!(
            "Unable to apply ReferencePath {} to input {}",
            self.path.text(),
            target.to_json()
        ))
    }

    fn conflict_step(step: &str, whole: &Value) -> PathError {
        PathError::Conflict(format!(
            "Unable to apply step \"{step}\" to input {}",
            whole.to_json()
        ))
    }

    fn set_at(
        &self,
        i: usize,
        cur: &Value,
        result: Value,
        whole: &Value,
    ) -> Result<Value, PathError> {
        let segs = &self.path.segs;
        let last = i + 1 == segs.len();
        match &segs[i] {
            Seg::Prop(name) => {
                let Value::Object(map) = cur else {
                    return Err(if i == 0 {
                        self.conflict_input(whole)
                    } else {
                        Self::conflict_step(name, whole)
                    });
                };
                let new_child = if last {
                    result
                } else {
                    match super::select::member(map, name) {
                        Some(child @ (Value::Object(_) | Value::Array(_))) => {
                            self.set_at(i + 1, child, result, whole)?
                        }
                        Some(_) => return Err(Self::conflict_step(name, whole)),
                        None => self.create(i + 1, result, whole)?,
                    }
                };
                let mut copy: Map = (**map).clone();
                copy.insert(name.clone(), new_child);
                Ok(Value::object(copy))
            }
            Seg::Index(ix) => {
                let Value::Array(items) = cur else {
                    return Err(self.conflict_input(whole));
                };
                let len = items.len() as i64;
                let eff = if *ix < 0 { len + ix } else { *ix };
                if !(0..len).contains(&eff) {
                    return Err(PathError::Conflict(format!(
                        "Unable to apply ReferencePath {} to input {}",
                        self.path.text(),
                        whole.to_json()
                    )));
                }
                let k = eff as usize;
                let new_child = if last {
                    result
                } else {
                    match &items[k] {
                        child @ (Value::Object(_) | Value::Array(_)) => {
                            self.set_at(i + 1, child, result, whole)?
                        }
                        _ => return Err(Self::conflict_step(&format!("[{ix}]"), whole)),
                    }
                };
                let mut copy = (**items).clone();
                copy[k] = new_child;
                Ok(Value::array(copy))
            }
            _ => Err(self.conflict_input(whole)),
        }
    }

    /// Builds the missing objects for segments `i..` around `result`.
    fn create(&self, i: usize, result: Value, whole: &Value) -> Result<Value, PathError> {
        let mut v = result;
        for seg in self.path.segs[i..].iter().rev() {
            match seg {
                Seg::Prop(name) => {
                    let mut m = Map::with_capacity(1);
                    m.insert(name.clone(), v);
                    v = Value::object(m);
                }
                _ => return Err(self.conflict_input(whole)),
            }
        }
        Ok(v)
    }
}
