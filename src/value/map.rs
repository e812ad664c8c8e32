//! `Map`: an object's members in insertion order, hashed with foldhash instead of SipHash.
//!
//! A newtype rather than a type alias because `IndexMap::new`/`with_capacity` exist only for the
//! std hasher; everything else is `IndexMap`'s own API, reached through `Deref`.

use super::{Str, Value};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// The hasher: foldhash's per-process random seed keeps hostile keys from being precomputed.
type Hasher = foldhash::fast::RandomState;

/// What a `Map` is underneath, and what its methods are.
pub type Inner = indexmap::IndexMap<Str, Value, Hasher>;

/// An object's members in insertion order (AWS keeps the order it received).
// PERF: foldhash instead of SipHash for member lookup and insertion: measured only together
// with the new parser (see `json::parse_slice`); not isolated on this loaded machine.
#[derive(Clone, Default)]
pub struct Map(Inner);

impl Map {
    /// An empty map; allocates nothing until the first insert.
    #[inline]
    pub fn new() -> Map {
        Map(Inner::default())
    }

    /// An empty map with room for `n` members (parsers and templates know their size).
    #[inline]
    pub fn with_capacity(n: usize) -> Map {
        Map(Inner::with_capacity_and_hasher(n, Hasher::default()))
    }

    /// The members' values, consumed (drops without recursion take containers apart this way).
    pub fn into_values(self) -> indexmap::map::IntoValues<Str, Value> {
        self.0.into_values()
    }
}

impl Deref for Map {
    type Target = Inner;
    #[inline]
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl DerefMut for Map {
    #[inline]
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.0
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for Map {
    /// Same members with equal values, in any order (as `IndexMap` compares).
    fn eq(&self, other: &Map) -> bool {
        self.0 == other.0
    }
}

impl FromIterator<(Str, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (Str, Value)>>(iter: I) -> Map {
        Map(Inner::from_iter(iter))
    }
}

impl Extend<(Str, Value)> for Map {
    fn extend<I: IntoIterator<Item = (Str, Value)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = indexmap::map::IntoIter<Str, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = indexmap::map::Iter<'a, Str, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Str, &'a mut Value);
    type IntoIter = indexmap::map::IterMut<'a, Str, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}
