//! The compiled literals a tree names by id: regexes (`/ab+/i`) and lambda signatures
//! (`<s-n?:s>`), kept beside the tree so that `ast` stays plain data.
//!
//! In: what the parser compiled, in source order. Out: the regex or signature an id names.

use std::sync::Arc;

use super::ast::{RegexId, SignatureId};
use super::signature::Signature;
use super::value::Regex;

/// What a tree refers to by id: its regex literals, compiled, and its lambda signatures,
/// parsed (both at parse time, so their errors come in source order).
#[derive(Debug, Default)]
pub(crate) struct Literals {
    /// Id numbers start here: `$eval` parses trees whose ids follow those already in use.
    first: (usize, usize),
    regexes: Vec<Arc<Regex>>,
    signatures: Vec<Arc<Signature>>,
}

impl Literals {
    /// Literals whose ids follow every id of `before` (and of what `before` follows).
    pub fn after(before: &Literals) -> Literals {
        Literals {
            first: (
                before.first.0 + before.regexes.len(),
                before.first.1 + before.signatures.len(),
            ),
            ..Literals::default()
        }
    }

    pub(crate) fn add_regex(&mut self, re: Regex) -> RegexId {
        self.regexes.push(Arc::new(re));
        RegexId(self.first.0 + self.regexes.len() - 1)
    }

    pub(crate) fn add_signature(&mut self, sig: Signature) -> SignatureId {
        self.signatures.push(Arc::new(sig));
        SignatureId(self.first.1 + self.signatures.len() - 1)
    }

    /// The regex `id` names, when it is one of these (else look in the literals these follow).
    pub fn regex(&self, id: RegexId) -> Option<&Arc<Regex>> {
        self.regexes.get(id.0.checked_sub(self.first.0)?)
    }

    /// The signature `id` names, when it is one of these.
    pub fn signature(&self, id: SignatureId) -> Option<&Arc<Signature>> {
        self.signatures.get(id.0.checked_sub(self.first.1)?)
    }

    /// Takes `more`'s literals in (they must follow these).
    pub fn extend(&mut self, more: Literals) {
        debug_assert_eq!(
            more.first,
            Literals::after(self).first,
            "literals out of order"
        );
        self.regexes.extend(more.regexes);
        self.signatures.extend(more.signatures);
    }
}
