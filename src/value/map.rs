//! `Map`: an object's members in insertion order, in one vector; objects of more than
//! [`SCAN_UP_TO`] members add a hash index over it.
//!
//! Most objects a workflow holds are small (the bench inputs have 2 to 12 members, templates 2
//! to 8): for them a scan by length and bytes finds a member faster than hashing the key, and
//! an insert is a push with no table to keep. Larger objects keep a `hashbrown::HashTable` of
//! positions (hashed with foldhash, seeded once per process), rebuilt only when members are
//! removed or reordered. The API is the part of `IndexMap`'s that the crate uses, with the same
//! meaning: `insert` keeps a present key's position, `shift_remove` keeps the others' order,
//! equality ignores order.
// PERF: against `IndexMap<Str, Value, foldhash>`, instructions per execution (cachegrind,
// `run_many` as in README, both builds in one sitting, 2026-12-08, with the branches merged
// beside it): w1_pass_chain 72.8 k → 69.4 k, w1_jsonata 125.8 k → 116.8 k, w3_map100
// 1 313.1 k → 1 132.1 k, w5_credit 244.0 k → 220.6 k; a parked execution 2 937 → 2 042 bytes.

use super::{Str, Value};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// Objects up to this many members are searched by scanning and keep no hash index.
pub const SCAN_UP_TO: usize = 8;

/// The hasher of the index: foldhash's per-process random seed keeps hostile keys from being
/// precomputed.
static HASHER: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);

fn hash(key: &str) -> u64 {
    HASHER.hash_one(key)
}

/// An object's members in insertion order (AWS keeps the order it received).
#[derive(Default)]
pub struct Map {
    entries: Vec<(Str, Value)>,
    /// Positions in `entries`, present exactly when there are more than `SCAN_UP_TO` members.
    index: Option<Box<hashbrown::HashTable<u32>>>,
    memo: Memo,
}

/// What readers found out about the members once, so that they need not look again while the
/// map is shared unchanged: whether every number below survives a trip through a double
/// ([`Map::doubles_memo`]: 0 = not known, 1 = yes, 2 = no) and the length of the compact JSON
/// ([`Map::json_len_memo`]: 0 = not known, else length + 1). Every change (through any `&mut`
/// method) forgets both.
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

impl Clone for Map {
    /// A copy with room for one more member: a shared object is copied to be changed, and
    /// the change is most often one member more (a ResultPath).
    fn clone(&self) -> Map {
        let mut entries = Vec::with_capacity(self.entries.len() + 1);
        entries.extend(self.entries.iter().cloned());
        Map {
            entries,
            index: self.index.clone(),
            memo: self.memo.clone(),
        }
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
        Map::default()
    }

    /// An empty map with room for `n` members (parsers and templates know their size).
    #[inline]
    pub fn with_capacity(n: usize) -> Map {
        Map {
            entries: Vec::with_capacity(n),
            index: None,
            memo: Memo::default(),
        }
    }

    /// How many members.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no members.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Room for `n` more members.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    /// The position of member `key`: small objects (most of a workflow's) are scanned, which is
    /// cheaper than hashing the key; larger ones are looked up in the index.
    #[inline]
    pub fn get_index_of<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<usize> {
        let key = key.as_ref();
        match &self.index {
            None => self
                .entries
                .iter()
                .position(|(k, _)| k.len() == key.len() && **k == *key),
            Some(index) => index
                .find(hash(key), |&i| *self.entries[i as usize].0 == *key)
                .map(|&i| i as usize),
        }
    }

    /// The value of member `key`.
    #[inline]
    pub fn get<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> Option<&Value> {
        self.get_index_of(key).map(|i| &self.entries[i].1)
    }

    /// The value of member `key`, to change.
    #[inline]
    pub fn get_mut<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<&mut Value> {
        let i = self.get_index_of(key)?;
        self.memo.forget();
        Some(&mut self.entries[i].1)
    }

    /// Whether member `key` is present (as `get`).
    #[inline]
    pub fn contains_key<Q: AsRef<str> + ?Sized>(&self, key: &Q) -> bool {
        self.get_index_of(key).is_some()
    }

    /// The member at position `i`, its value to change.
    pub fn get_index_mut(&mut self, i: usize) -> Option<(&Str, &mut Value)> {
        self.memo.forget();
        self.entries.get_mut(i).map(|(k, v)| (&*k, v))
    }

    /// The member at position `i`.
    pub fn get_index(&self, i: usize) -> Option<(&Str, &Value)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// Sets member `key`: a present key keeps its position and its old value is returned; a
    /// new one goes last.
    #[inline]
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        self.insert_full(key, value).1
    }

    /// As `insert`, with the member's position.
    pub fn insert_full(&mut self, key: Str, value: Value) -> (usize, Option<Value>) {
        self.memo.forget();
        let i = self.entries.len();
        if let Some(index) = &mut self.index {
            // One hash of the key, for the search and for the insert.
            let h = hash(&key);
            let entries = &mut self.entries;
            if let Some(&j) = index.find(h, |&j| *entries[j as usize].0 == *key) {
                let j = j as usize;
                return (j, Some(std::mem::replace(&mut entries[j].1, value)));
            }
            index.insert_unique(h, i as u32, |&j| hash(&entries[j as usize].0));
            entries.push((key, value));
        } else {
            if let Some(j) = self.get_index_of(&*key) {
                return (j, Some(std::mem::replace(&mut self.entries[j].1, value)));
            }
            self.entries.push((key, value));
            if self.entries.len() > SCAN_UP_TO {
                self.reindex();
            }
        }
        (i, None)
    }

    /// Adds member `key`, which the caller knows is not present (a template's members, whose
    /// names compilation checked are distinct): no search for it first.
    #[inline]
    pub fn push_unique(&mut self, key: Str, value: Value) {
        debug_assert!(!self.contains_key(&*key), "push_unique of a present key");
        if self.index.is_none() && self.entries.len() < SCAN_UP_TO {
            self.memo.forget();
            self.entries.push((key, value));
        } else {
            self.insert(key, value);
        }
    }

    /// Removes member `key`, keeping the others' order.
    pub fn shift_remove<Q: AsRef<str> + ?Sized>(&mut self, key: &Q) -> Option<Value> {
        let i = self.get_index_of(key)?;
        self.memo.forget();
        let (_, value) = self.entries.remove(i);
        self.reindex();
        Some(value)
    }

    /// Keeps the members for which `keep` answers true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        self.memo.forget();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        self.reindex();
    }

    /// Orders the members by key (code points, as `str` compares).
    pub fn sort_keys(&mut self) {
        self.memo.forget();
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.reindex();
    }

    /// The members in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// The members in order, their values to change.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.memo.forget();
        IterMut(self.entries.iter_mut())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in order, to change.
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.memo.forget();
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// The members' values, consumed (drops without recursion take containers apart this way).
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// Rebuilds the index after members moved (or drops it when the map is small again).
    fn reindex(&mut self) {
        if self.entries.len() <= SCAN_UP_TO {
            self.index = None;
            return;
        }
        let mut index = match self.index.take() {
            Some(mut index) => {
                index.clear();
                index
            }
            None => Box::new(hashbrown::HashTable::with_capacity(self.entries.len())),
        };
        let entries = &self.entries;
        for (i, (k, _)) in entries.iter().enumerate() {
            // A key appears once (insert and the parsers keep it so).
            index.insert_unique(hash(k), i as u32, |&j| hash(&entries[j as usize].0));
        }
        self.index = Some(index);
    }

    /// Whether every number below survives a trip through a double, if a reader found out
    /// since the last change (JSONata's evaluation hands such values back untouched).
    #[inline]
    pub fn doubles_memo(&self) -> Option<bool> {
        match self.memo.0.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    /// Remembers what `doubles_memo` answers until the next change.
    #[inline]
    pub fn set_doubles_memo(&self, exact: bool) {
        self.memo
            .0
            .store(if exact { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// The length of this object's compact JSON, if a reader measured it since the last change
    /// (payload limits are checked on every state's data, most of it shared from state to state).
    #[inline]
    pub fn json_len_memo(&self) -> Option<usize> {
        match self.memo.1.load(Ordering::Relaxed) {
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
            self.memo.1.store(n, Ordering::Relaxed);
        }
    }
}

/// The members of a [`Map`] in order, as `(&key, &value)`.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, (Str, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The members of a [`Map`] in order, as `(&key, &mut value)`.
pub struct IterMut<'a>(std::slice::IterMut<'a, (Str, Value)>);

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a Str, &'a mut Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}

impl ExactSizeIterator for IterMut<'_> {}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Map {
    /// Same members with equal values, in any order (as `IndexMap` compares).
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(k, v)| other.get(&**k).is_some_and(|w| v == w))
    }
}

impl FromIterator<(Str, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (Str, Value)>>(iter: I) -> Map {
        let iter = iter.into_iter();
        let mut map = Map::with_capacity(iter.size_hint().0);
        map.extend(iter);
        map
    }
}

impl Extend<(Str, Value)> for Map {
    fn extend<I: IntoIterator<Item = (Str, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Str, &'a mut Value);
    type IntoIter = IterMut<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
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

    #[test]
    fn large_maps_keep_their_index_through_every_change() {
        let mut m: Map = (0..20)
            .map(|i| (Str::from(format!("k{i}").as_str()), Value::int(i)))
            .collect();
        assert_eq!(
            m.insert(Str::from("k3"), Value::int(300)),
            Some(Value::int(3))
        );
        assert_eq!(
            m.get_index_of("k3"),
            Some(3),
            "a present key keeps its place"
        );
        assert_eq!(m.shift_remove("k0"), Some(Value::int(0)));
        assert_eq!(m.get_index_of("k19"), Some(18), "later members moved up");
        assert_eq!(m.get("k3"), Some(&Value::int(300)));
        m.retain(|k, _| k.as_ref() != "k5");
        assert_eq!(m.get("k5"), None);
        assert_eq!(m.get("k6"), Some(&Value::int(6)));
        m.sort_keys();
        assert_eq!(m.keys().next().map(|k| k.as_ref()), Some("k1"));
        assert_eq!(m.get("k19"), Some(&Value::int(19)));
        m.retain(|k, _| k.len() == 2);
        assert_eq!(m.len(), 8, "small again: k1..k9 without k5");
        assert_eq!(m.get("k9"), Some(&Value::int(9)));
        let mut pushed = Map::new();
        for i in (0..12).rev() {
            pushed.push_unique(Str::from(format!("k{i}").as_str()), Value::int(i));
        }
        assert_eq!(pushed.get("k0"), Some(&Value::int(0)));
        assert_eq!(pushed.get_index_of("k0"), Some(11));
        let reordered: Map = pushed.clone().into_iter().rev().collect();
        assert_eq!(pushed, reordered, "equality ignores order");
    }
}
