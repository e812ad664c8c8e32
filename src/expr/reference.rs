//! Reference paths (`ResultPath`): where a state's result is grafted into its input.

use super::path::{Path, Root, Seg};
use super::{PathError, SyntaxError};
use crate::value::{Map, Value};
use std::sync::Arc;

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

    /// `set` on a target the caller owns: the objects and arrays on the way are changed in
    /// place where nothing else shares them (copied where something does), and the
    /// [`Undo`] puts the target back as it was if the caller needs its input again (a state
    /// whose output then fails its quota is retried or caught on its input). On an error the
    /// target comes back unchanged.
    // PERF: w1_pass_chain (ten ResultPaths into a ~15-member input): every state copied the
    // input's map before; the graft now changes it in place (see the commit for the figures).
    pub fn graft(
        &self,
        mut target: Value,
        result: Value,
    ) -> Result<(Value, Undo), (PathError, Value)> {
        if self.path.segs.is_empty() {
            return Ok((result, Undo::Replaced(target)));
        }
        if let Err(e) = self.check(0, &target, &target) {
            return Err((e, target));
        }
        let undo = self.put(0, &mut target, result);
        Ok((target, undo))
    }

    /// The errors `set_at` meets on `cur`, found without changing anything.
    fn check(&self, i: usize, cur: &Value, whole: &Value) -> Result<(), PathError> {
        let segs = &self.path.segs;
        let last = i + 1 == segs.len();
        match (&segs[i], cur) {
            (Seg::Prop(name), Value::Object(map)) => match super::select::member(map, name) {
                _ if last => Ok(()),
                Some(child @ (Value::Object(_) | Value::Array(_))) => {
                    self.check(i + 1, child, whole)
                }
                Some(_) => Err(Self::conflict_step(name, whole)),
                None if segs[i + 1..].iter().all(|s| matches!(s, Seg::Prop(_))) => Ok(()),
                None => Err(self.conflict_input(whole)),
            },
            (Seg::Prop(name), _) => Err(if i == 0 {
                self.conflict_input(whole)
            } else {
                Self::conflict_step(name, whole)
            }),
            (Seg::Index(ix), Value::Array(items)) => {
                let len = items.len() as i64;
                let eff = if *ix < 0 { len + ix } else { *ix };
                if !(0..len).contains(&eff) {
                    return Err(self.conflict_input(whole));
                }
                match &items[eff as usize] {
                    _ if last => Ok(()),
                    child @ (Value::Object(_) | Value::Array(_)) => self.check(i + 1, child, whole),
                    _ => Err(Self::conflict_step(&format!("[{ix}]"), whole)),
                }
            }
            _ => Err(self.conflict_input(whole)),
        }
    }

    /// Places `result` at segments `i..` of `cur`, which `check` accepted.
    fn put(&self, i: usize, cur: &mut Value, result: Value) -> Undo {
        let segs = &self.path.segs;
        let last = i + 1 == segs.len();
        match (&segs[i], cur) {
            (Seg::Prop(name), Value::Object(map)) => {
                let map = Arc::make_mut(map);
                if !last && let Some(child) = map.get_mut(&**name) {
                    return self.put(i + 1, child, result);
                }
                let value = if last {
                    result
                } else {
                    self.create(i + 1, result, &Value::Null)
                        .expect("check accepted the missing members")
                };
                match map.insert(name.clone(), value) {
                    Some(previous) => Undo::At(i, Some(previous)),
                    None => Undo::At(i, None),
                }
            }
            (Seg::Index(ix), Value::Array(items)) => {
                let items = Arc::make_mut(items);
                let len = items.len() as i64;
                let k = (if *ix < 0 { len + ix } else { *ix }) as usize;
                if last {
                    Undo::At(i, Some(std::mem::replace(&mut items[k], result)))
                } else {
                    self.put(i + 1, &mut items[k], result)
                }
            }
            _ => unreachable!("check accepted the path"),
        }
    }

    /// The target as it was before the `graft` that returned `undo` and `grafted`.
    pub fn undo(&self, mut grafted: Value, undo: Undo) -> Value {
        match undo {
            Undo::Replaced(target) => target,
            Undo::At(depth, previous) => {
                self.restore(0, depth, &mut grafted, previous);
                grafted
            }
        }
    }

    fn restore(&self, i: usize, depth: usize, cur: &mut Value, previous: Option<Value>) {
        match (&self.path.segs[i], cur) {
            (Seg::Prop(name), Value::Object(map)) => {
                let map = Arc::make_mut(map);
                if i < depth {
                    if let Some(child) = map.get_mut(&**name) {
                        self.restore(i + 1, depth, child, previous);
                    }
                } else {
                    match previous {
                        Some(v) => {
                            map.insert(name.clone(), v);
                        }
                        None => {
                            map.shift_remove(&**name);
                        }
                    }
                }
            }
            (Seg::Index(ix), Value::Array(items)) => {
                let items = Arc::make_mut(items);
                let len = items.len() as i64;
                let k = (if *ix < 0 { len + ix } else { *ix }) as usize;
                if i < depth {
                    self.restore(i + 1, depth, &mut items[k], previous);
                } else if let Some(v) = previous {
                    items[k] = v;
                }
            }
            _ => {}
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

/// How to take a `graft` back.
#[derive(Debug)]
pub enum Undo {
    /// `$`: the result replaced the whole target, which is this.
    Replaced(Value),
    /// The member or item at this segment held this value (none: the member was added).
    At(usize, Option<Value>),
}
