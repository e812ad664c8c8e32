//! `Map`: an object's members in insertion order, hashed with foldhash instead of SipHash.
//!
//! A newtype rather than a type alias because `IndexMap::new`/`with_capacity` exist only for the
//! std hasher; everything else is `IndexMap`'s own API, reached through `Deref`.

use super::{Str, Value};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// The hasher: foldhash's per-process random seed keeps hostile keys from being precomputed.
type Hasher = foldhash::fast::RandomState;

/// What a `Map` is underneath, and what its methods are.
pub type Inner = indexmap::IndexMap<Str, Value, Hasher>;

/// Objects up to this many members are searched by scanning rather than by hash.
const SCAN_UP_TO: usize = 8;

/// An object's members in insertion order (AWS keeps the order it received).
// PERF: foldhash instead of SipHash for member lookup and insertion: measured only together
// with the new parser (see `json::parse_slice`); not isolated on this loaded machine.
#[derive(Clone, Default)]
pub struct Map(Inner, Memo);

/// What readers found out about the members once, so that they need not look again while the
/// map is shared unchanged: whether every number below survives a trip through a double
/// ([`Map::doubles_memo`]: 0 = not known, 1 = yes, 2 = no) and the length of the compact JSON
/// ([`Map::json_len_memo`]: 0 = not known, else length + 1). Every change through `DerefMut`
/// (or `Extend`, or `iter_mut`) forgets both.
#[derive(Default)]
struct Memo(AtomicU8, AtomicU32);

impl Clone for Memo {
    fn clone(&self) -> Memo {
        Memo(
            AtomicU8::new(self.0.load(Ordering::Relaxed)),
            AtomicU32::new(self.1.load(Ordering::Relaxed)),
        )
    }
}

impl Memo {
    fn forget(&mut self) {
        *self.0.get_mut() = 0;
        *self.1.get_mut() = 0;
    }
}

impl Map {
    /// An empty map; allocates nothing until the first insert.
    #[inline]
    pub fn new() -> Map {
        Map(Inner::default(), Memo::default())
    }

    /// An empty map with room for `n` members (parsers and templates know their size).
    #[inline]
    pub fn with_capacity(n: usize) -> Map {
        Map(
            Inner::with_capacity_and_hasher(n, Hasher::default()),
            Memo::default(),
        )
    }

    /// The value of member `key`: small objects (most of a workflow's) are scanned, which is
    /// cheaper than hashing the key; larger ones are hashed.
    #[inline]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<&Value> {
        let key = key.as_ref();
        if self.0.len() <= SCAN_UP_TO {
            return self
                .0
                .iter()
                .find(|(k, _)| k.len() == key.len() && ***k == *key)
                .map(|(_, v)| v);
        }
        self.0.get(key)
    }

    /// Whether member `key` is present (as `get`).
    #[inline]
    pub fn contains_key<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> bool {
        self.get(key).is_some()
    }

    /// Whether every number below survives a trip through a double, if a reader found out
    /// since the last change (JSONata's evaluation hands such values back untouched).
    #[inline]
    pub fn doubles_memo(&self) -> Option<bool> {
        match self.1.0.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    /// Remembers what `doubles_memo` answers until the next change.
    #[inline]
    pub fn set_doubles_memo(&self, exact: bool) {
        self.1.0.store(if exact { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// The length of this object's compact JSON, if a reader measured it since the last change
    /// (payload limits are checked on every state's data, most of it shared from state to state).
    #[inline]
    pub fn json_len_memo(&self) -> Option<usize> {
        match self.1.1.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n as usize - 1),
        }
    }

    /// Remembers what `json_len_memo` answers until the next change (lengths past `u32` are
    /// not remembered).
    #[inline]
    pub fn set_json_len_memo(&self, len: usize) {
        if let Ok(n) = u32::try_from(len + 1)
            && n != u32::MAX
        {
            self.1.1.store(n, Ordering::Relaxed);
        }
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
        self.1.forget();
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
        Map(Inner::from_iter(iter), Memo::default())
    }
}

impl Extend<(Str, Value)> for Map {
    fn extend<I: IntoIterator<Item = (Str, Value)>>(&mut self, iter: I) {
        self.1.forget();
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
        self.1.forget();
        self.0.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_forgets_the_memo_and_a_clone_keeps_it() {
        let mut m = Map::new();
        assert_eq!(m.doubles_memo(), None);
        m.set_doubles_memo(true);
        assert_eq!(m.clone().doubles_memo(), Some(true));
        m.insert(Str::from("a"), Value::float(2.0));
        assert_eq!(m.doubles_memo(), None, "insert goes through DerefMut");
        m.set_doubles_memo(false);
        m.extend([(Str::from("b"), Value::Null)]);
        assert_eq!(m.doubles_memo(), None, "extend");
        m.set_doubles_memo(true);
        for (_, v) in &mut m {
            *v = Value::Null;
        }
        assert_eq!(m.doubles_memo(), None, "iter_mut");
    }

    #[test]
    fn a_measured_length_is_remembered_until_a_change() {
        let v = crate::value::parse(r#"{"a":{"b":[1,2,{"c":"d"}]},"e":"f"}"#).unwrap();
        let want = v.to_json().len();
        assert_eq!(v.json_len_within(1000), Some(want));
        let Value::Object(o) = &v else { unreachable!() };
        assert_eq!(o.json_len_memo(), Some(want));
        assert_eq!(v.json_len_within(1000), Some(want), "from the memo");
        assert_eq!(
            v.json_len_within(want - 1),
            None,
            "the memo still honours the limit"
        );
        let mut changed = (**o).clone();
        changed.insert(Str::from("g"), Value::int(1));
        assert_eq!(changed.json_len_memo(), None);
        let changed = Value::object(changed);
        assert_eq!(changed.json_len_within(1000), Some(changed.to_json().len()));
    }

    #[test]
    fn small_and_large_maps_find_the_same_members() {
        for n in [0usize, 1, 8, 9, 40] {
            let m: Map = (0..n)
                .map(|i| (Str::from(format!("k{i}").as_str()), Value::int(i as i64)))
                .collect();
            for i in 0..n {
                assert_eq!(m.get(&format!("k{i}")), Some(&Value::int(i as i64)));
            }
            assert_eq!(m.get("k"), None);
            assert!(!m.contains_key("missing"));
        }
    }
}
