//! The parent operator `%`: at compile time each `%` gets a slot that is resolved to the path
//! step whose input it denotes (jsonata-js's `seekParent`/`resolveAncestry`); that step then
//! binds its context under the slot's label in the tuple stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Error;
use super::ast::{Kind, Label, Node};

pub(crate) struct SlotState {
    pub label: Label,
    pub level: i64,
}

/// Parser state for ancestry resolution (and the stack base of the parse).
pub(crate) struct Pctx {
    pub base: usize,
    pub slots: Vec<SlotState>,
    pub options: super::Options,
    /// The regexes and signatures the tree refers to by id.
    pub literals: super::literals::Literals,
}

impl Pctx {
    pub fn new_slot(&mut self) -> (Label, usize) {
        let label = Arc::new(AtomicUsize::new(self.slots.len()));
        self.slots.push(SlotState {
            label: label.clone(),
            level: 1,
        });
        (label, self.slots.len() - 1)
    }
}

/// The unresolved slots a node carries (its own if it is a `%`).
pub(crate) fn slots_of(n: &Node) -> Vec<usize> {
    let mut v = n.seeking.clone();
    if let Kind::Parent { slot, .. } = &n.kind {
        v.push(*slot);
    }
    v
}

pub(crate) fn push_ancestry(target: &mut Node, value: &Node) {
    target.seeking.extend(slots_of(value));
}

/// Slots of the operands of an operator/constructor node (jsonata's `pushAncestry` calls).
pub(crate) fn child_slots(n: &Node) -> Vec<usize> {
    let mut v = Vec::new();
    match &n.kind {
        Kind::Binary(_, l, r) => {
            v.extend(slots_of(l));
            v.extend(slots_of(r));
        }
        Kind::Neg(e) => v.extend(slots_of(e)),
        Kind::Array(items) | Kind::Block(items) => items.iter().for_each(|i| v.extend(slots_of(i))),
        Kind::Object(pairs) => pairs.iter().for_each(|(k, x)| {
            v.extend(slots_of(k));
            v.extend(slots_of(x));
        }),
        Kind::Function { args, .. } | Kind::Partial { args, .. } => {
            args.iter().for_each(|a| v.extend(slots_of(a)))
        }
        Kind::Condition(c, t, e) => {
            v.extend(slots_of(c));
            v.extend(slots_of(t));
            if let Some(e) = e {
                v.extend(slots_of(e));
            }
        }
        _ => {}
    }
    v
}

/// Walks back from `node` to find the step a `%` slot refers to.
pub(crate) fn seek_parent(node: &mut Node, slot: usize, pc: &mut Pctx) -> Result<(), Error> {
    match &mut node.kind {
        Kind::Name(_) | Kind::Wildcard => {
            pc.slots[slot].level -= 1;
            if pc.slots[slot].level == 0 {
                if let Some(existing) = &node.ancestor {
                    pc.slots[slot]
                        .label
                        .store(existing.load(Ordering::Relaxed), Ordering::Relaxed);
                }
                node.ancestor = Some(pc.slots[slot].label.clone());
                node.tuple = true;
            }
        }
        Kind::Parent { .. } => pc.slots[slot].level += 1,
        Kind::Block(exprs) => {
            if let Some(last) = exprs.last_mut() {
                seek_parent(last, slot, pc)?;
                node.tuple = true;
            }
        }
        Kind::Path { steps, .. } => {
            let mut index = steps.len() as isize - 1;
            seek_parent(&mut steps[index as usize], slot, pc)?;
            index -= 1;
            while pc.slots[slot].level > 0 && index >= 0 {
                seek_parent(&mut steps[index as usize], slot, pc)?;
                index -= 1;
            }
            node.tuple = true;
        }
        _ => {
            let mut e = Error::new("S0217", Some(node.pos), None);
            e.token = Some("%".into());
            return Err(e);
        }
    }
    Ok(())
}

/// Resolves the slots carried by the last step of `path` against its earlier steps; what
/// cannot be resolved here is left on the path for an enclosing one.
pub(crate) fn resolve_ancestry(path: &mut Node, pc: &mut Pctx) -> Result<(), Error> {
    let Node { kind, seeking, .. } = path;
    let Kind::Path { steps, .. } = kind else {
        return Ok(());
    };
    let Some(last) = steps.last() else {
        return Ok(());
    };
    for slot in slots_of(last) {
        let mut index = steps.len() as isize - 2;
        while pc.slots[slot].level > 0 {
            if index < 0 {
                seeking.push(slot);
                break;
            }
            let mut si = index as usize;
            index -= 1;
            while index >= 0 && steps[si].focus.is_some() && steps[index as usize].focus.is_some() {
                si = index as usize;
                index -= 1;
            }
            seek_parent(&mut steps[si], slot, pc)?;
        }
    }
    Ok(())
}
