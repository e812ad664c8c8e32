//! Values as the evaluator sees them: JSON plus sequences (flagged arrays), functions and regexes.
//! `None` stands for JavaScript's `undefined` everywhere.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;

use super::Error;
use super::ast::{LambdaDef, Node, TransformDef};
use super::signature::Signature;
use crate::value::{Number, Value};

/// The evaluator's object: insertion-ordered, hashed with foldhash (seeded per process).
// PERF: SipHash was the largest single cost of building objects; foldhash instead:
// `{'a': 1}` 1.59 µs → 0.95 µs (with the constructor fast path 0.54 µs), one evaluation, release.
pub(crate) type Obj = IndexMap<Arc<str>, V, foldhash::fast::RandomState>;

/// An empty `Obj` with room for `n` members.
pub(crate) fn obj_with_capacity(n: usize) -> Obj {
    Obj::with_capacity_and_hasher(n, Default::default())
}

#[derive(Clone, Debug)]
pub(crate) enum V {
    Null,
    Bool(bool),
    Num(f64),
    Str(Arc<str>),
    Arr(Rc<Arr>),
    Obj(Rc<ObjNode>),
    Func(Rc<Func>),
}

/// An object with its nesting depth, computed once when it is built: values nest only through
/// constructors, so checking there bounds every later recursion over the value (and its drop).
/// Never mutated once shared (changes build a new node), which is what makes `json` sound.
#[derive(Debug, Default)]
pub(crate) struct ObjNode {
    pub map: Obj,
    pub depth: usize,
    /// Whether a function is reachable from here (binding such a value may close a cycle
    /// through a closure's frame, which the evaluation then breaks when it ends).
    pub has_fn: bool,
    /// The JSON form (`to_json`: the value and whether it is lossless), once known: set when
    /// the node was converted from an equal JSON value, or by the first `to_json`. A clone
    /// starts without it.
    // PERF: a member passed through unchanged (`$merge([$states.input, {...}])`) is handed
    // back as the shared JSON it came from, not rebuilt: w1_jsonata 213 µs → 132 µs (w1_pass_chain 29 µs)
    pub json: OnceCell<(Value, bool)>,
    /// The object this one was copied from and then changed (`$merge`), until `json` is
    /// computed: its JSON is patched instead of rebuilt (then the link is dropped, so chains
    /// of merges do not keep each other alive).
    // PERF: `$merge([$states.input, {...}])` rebuilt the whole JSON object of the input:
    // w1_jsonata 132 µs → 77 µs (scratch timing loop, same machine).
    base: RefCell<Option<Rc<ObjNode>>>,
}

impl Clone for ObjNode {
    fn clone(&self) -> ObjNode {
        ObjNode::new(self.map.clone(), self.depth, self.has_fn)
    }
}

impl ObjNode {
    fn new(map: Obj, depth: usize, has_fn: bool) -> ObjNode {
        ObjNode {
            map,
            depth,
            has_fn,
            json: OnceCell::new(),
            base: RefCell::new(None),
        }
    }

    /// The JSON form, built from the members or patched from `base`'s.
    fn build_json(&self) -> (Value, bool) {
        if let Some(base) = self.base.borrow_mut().take()
            && let Some(j) = self.patch_json(&base)
        {
            return j;
        }
        let mut exact = true;
        let mut m = crate::value::Map::with_capacity(self.len());
        for (k, x) in self.iter() {
            match to_json(x) {
                Some((j, e)) => {
                    exact &= e;
                    m.insert(k.clone(), j);
                }
                None => exact = false,
            }
        }
        (Value::object(m), exact)
    }

    /// `build_json` from a copy of `base`'s JSON, when `self.map` starts with `base`'s keys in
    /// order: members that are still `base`'s own values keep their JSON.
    fn patch_json(&self, base: &ObjNode) -> Option<(Value, bool)> {
        if base.len() > self.len() {
            return None;
        }
        let (Value::Object(bj), mut exact) = to_json_obj(base) else {
            return None;
        };
        // A function member is dropped from the JSON: then the indices would not line up.
        if bj.len() != base.len() {
            return None;
        }
        let mut m: crate::value::Map = (*bj).clone();
        for (i, (k, x)) in self.iter().enumerate() {
            let same = match base.get_index(i) {
                Some((bk, bx)) if bk == k => {
                    if identical(x, bx) {
                        continue;
                    }
                    true
                }
                Some(_) => return None,
                None => false,
            };
            let (j, e) = to_json(x)?;
            exact &= e;
            if same {
                *m.get_index_mut(i)?.1 = j;
            } else {
                m.insert(k.clone(), j);
            }
        }
        Some((Value::object(m), exact))
    }
}

/// The JSON form of an object node (`to_json` of `V::Obj`).
fn to_json_obj(o: &ObjNode) -> (Value, bool) {
    o.json.get_or_init(|| o.build_json()).clone()
}

/// Whether two values are the same: containers by identity, scalars by value.
fn identical(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Num(x), V::Num(y)) => x.to_bits() == y.to_bits(),
        (V::Str(x), V::Str(y)) => Arc::ptr_eq(x, y) || x == y,
        (V::Arr(x), V::Arr(y)) => Rc::ptr_eq(x, y),
        (V::Obj(x), V::Obj(y)) => Rc::ptr_eq(x, y),
        (V::Func(x), V::Func(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// Whether `v` is or contains a function.
pub(crate) fn contains_fn(v: &V) -> bool {
    match v {
        V::Func(_) => true,
        V::Obj(o) => o.has_fn,
        V::Arr(a) => a.items.iter().any(contains_fn),
        _ => false,
    }
}

impl std::ops::Deref for ObjNode {
    type Target = Obj;
    fn deref(&self) -> &Obj {
        &self.map
    }
}

/// Deepest nesting a built value may have (parsed JSON stops at 128 levels already).
pub(crate) const MAX_DATA_DEPTH: usize = 400;

/// Nesting depth of `v` (scalars 0), up to `MAX_DATA_DEPTH + 1`.
pub(crate) fn depth_of(v: &V) -> usize {
    fn arr_depth(a: &Arr, guard: usize) -> usize {
        if guard > MAX_DATA_DEPTH {
            return MAX_DATA_DEPTH + 1;
        }
        let mut d = 0;
        for x in a.items.iter() {
            let xd = match x {
                V::Obj(o) => o.depth,
                V::Arr(inner) => arr_depth(inner, guard + 1),
                _ => 0,
            };
            d = d.max(xd);
            if d > MAX_DATA_DEPTH {
                break;
            }
        }
        d + 1
    }
    match v {
        V::Obj(o) => o.depth,
        V::Arr(a) => arr_depth(a, 0),
        _ => 0,
    }
}

/// An array with jsonata-js's hidden flags: `seq` (a result sequence, flattened and unwrapped),
/// `keep` (keep a singleton as an array), `cons` (built by `[...]`, never flattened), `outer`.
#[derive(Debug, Default)]
pub(crate) struct Arr {
    pub items: Vec<V>,
    pub seq: bool,
    pub keep: bool,
    pub cons: bool,
    pub outer: bool,
    /// Set when this is a tuple stream handed up to an enclosing path (parent operator).
    pub tuples: Option<Rc<Vec<Tuple>>>,
    /// The JSON form of `items`, as in [`ObjNode::json`]. A clone starts without it (clones
    /// are made to be changed); whoever changes `items` of an owned `Arr` clears it.
    pub json: OnceCell<(Value, bool)>,
}

impl Clone for Arr {
    fn clone(&self) -> Arr {
        Arr {
            items: self.items.clone(),
            tuples: self.tuples.clone(),
            ..self.clone_flags()
        }
    }
}

/// A tuple of a tuple stream: the context value `@` and the variables bound so far.
#[derive(Clone, Debug)]
pub(crate) struct Tuple {
    pub at: Option<V>,
    pub vars: Vec<(Arc<str>, Option<V>)>,
}

impl Tuple {
    pub fn set(&mut self, name: &Arc<str>, v: Option<V>) {
        if let Some(s) = self.vars.iter_mut().find(|(k, _)| k == name) {
            s.1 = v;
        } else {
            self.vars.push((name.clone(), v));
        }
    }
}

/// A compiled regular expression with its JavaScript source.
#[derive(Debug)]
pub(crate) struct Regex {
    pub re: regex::Regex,
    pub source: String,
    pub pos: usize,
}

impl Regex {
    pub fn new(pattern: &str, flags: &str, pos: usize) -> Result<Regex, Error> {
        let mut p = String::new();
        if flags.contains('i') || flags.contains('m') || flags.contains('s') {
            p.push_str("(?");
            if flags.contains('i') {
                p.push('i');
            }
            if flags.contains('m') {
                p.push('m');
            }
            if flags.contains('s') {
                p.push('s');
            }
            p.push(')');
        }
        p.push_str(&translate_js_regex(pattern));
        let re = regex::RegexBuilder::new(&p)
            .size_limit(1 << 20)
            .build()
            .map_err(|_| {
                // Lookaround and backreferences have no linear-time equivalent: refused here.
                let mut e = Error::new("S0301", Some(pos), Some(pattern.to_string()));
                e.message = format!("Unsupported regular expression: /{pattern}/");
                e
            })?;
        Ok(Regex {
            re,
            source: pattern.to_string(),
            pos,
        })
    }
}

/// JavaScript regex syntax that Rust's regex spells differently.
fn translate_js_regex(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            match n {
                'd' => out.push_str("[0-9]"),
                'u' if i + 6 <= chars.len()
                    && chars[i + 2..i + 6].iter().all(char::is_ascii_hexdigit) =>
                {
                    let hex: String = chars[i + 2..i + 6].iter().collect();
                    out.push_str(&format!("\\x{{{hex}}}"));
                    i += 6;
                    continue;
                }
                '/' => out.push('/'),
                _ => {
                    out.push('\\');
                    out.push(n);
                }
            }
            i += 2;
            continue;
        }
        if c == '[' && !in_class {
            in_class = true;
            out.push(c);
            if chars.get(i + 1) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i + 1) == Some(&']') {
                out.push_str("\\]");
                i += 1;
            }
            i += 1;
            continue;
        }
        if in_class && c == '[' {
            out.push_str("\\[");
            i += 1;
            continue;
        }
        if c == ']' && in_class {
            in_class = false;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A scope of variable bindings; closures keep theirs alive.
#[derive(Debug, Default)]
pub(crate) struct Frame {
    pub vars: RefCell<Vec<(Arc<str>, Option<V>)>>,
    pub parent: Option<Rc<Frame>>,
}

impl Frame {
    pub fn child(parent: &Rc<Frame>) -> Rc<Frame> {
        Rc::new(Frame {
            vars: RefCell::new(Vec::new()),
            parent: Some(parent.clone()),
        })
    }

    /// `Some(binding)` when some frame binds `name` (the binding itself may be undefined).
    pub fn lookup(self: &Rc<Frame>, name: &str) -> Option<Option<V>> {
        let mut f: &Rc<Frame> = self;
        loop {
            if let Some((_, v)) = f.vars.borrow().iter().rev().find(|(k, _)| &**k == name) {
                return Some(v.clone());
            }
            match &f.parent {
                Some(p) => f = p,
                None => return None,
            }
        }
    }

    pub fn bind(&self, name: Arc<str>, v: Option<V>) {
        let mut vars = self.vars.borrow_mut();
        if let Some(slot) = vars.iter_mut().find(|(k, _)| *k == name) {
            slot.1 = v;
        } else {
            vars.push((name, v));
        }
    }
}

/// Argument of a partially applied function: a value or the `?` placeholder.
#[derive(Clone, Debug)]
pub(crate) enum PArg {
    Hole,
    Val(Option<V>),
}

#[derive(Debug)]
pub(crate) enum Func {
    Lambda {
        def: Arc<LambdaDef>,
        params: Vec<Arc<str>>,
        signature: Option<Arc<Signature>>,
        input: Option<V>,
        env: Rc<Frame>,
    },
    Thunk {
        call: Arc<Node>,
        input: Option<V>,
        env: Rc<Frame>,
    },
    Builtin(&'static super::builtins::Builtin),
    Partial {
        func: Rc<Func>,
        args: Vec<PArg>,
    },
    Transform {
        def: Arc<TransformDef>,
        env: Rc<Frame>,
    },
    Regex(Arc<Regex>),
    /// `next` of a regex match object: continue matching at `from` (a char offset).
    RegexNext {
        re: Arc<Regex>,
        text: Arc<str>,
        from: usize,
    },
}

impl Func {
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda { params, .. } => params.len(),
            Func::Builtin(b) => b.signature().hof_arity(),
            Func::Partial { args, .. } => args.iter().filter(|a| matches!(a, PArg::Hole)).count(),
            Func::Transform { .. } | Func::Regex(_) => 1,
            Func::Thunk { .. } | Func::RegexNext { .. } => 0,
        }
    }
}

impl V {
    pub fn str(s: &str) -> V {
        V::Str(Arc::from(s))
    }

    pub fn string(s: String) -> V {
        V::Str(Arc::from(s))
    }

    pub fn arr(items: Vec<V>) -> V {
        V::Arr(Rc::new(Arr {
            items,
            ..Arr::default()
        }))
    }

    pub fn seq(items: Vec<V>) -> V {
        V::Arr(Rc::new(Arr {
            items,
            seq: true,
            ..Arr::default()
        }))
    }

    pub fn obj(o: Obj) -> V {
        let depth = 1 + o.values().map(depth_of).max().unwrap_or(0);
        let has_fn = o.values().any(contains_fn);
        V::Obj(Rc::new(ObjNode::new(o, depth, has_fn)))
    }

    /// `obj` for a copy of `base`'s members, then changed (see `ObjNode::base`).
    pub fn obj_from(o: Obj, base: &Rc<ObjNode>) -> V {
        let V::Obj(node) = V::obj(o) else {
            unreachable!("V::obj builds an object")
        };
        // One link at most: a chain of links would be dropped recursively.
        if base.base.borrow().is_none() {
            *node.base.borrow_mut() = Some(base.clone());
        }
        V::Obj(node)
    }

    pub fn num(&self) -> Option<f64> {
        match self {
            V::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&Arc<str>> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Type symbol used by function signatures.
    pub fn sig_symbol(v: Option<&V>) -> char {
        match v {
            None => 'm',
            Some(V::Null) => 'l',
            Some(V::Bool(_)) => 'b',
            Some(V::Num(_)) => 'n',
            Some(V::Str(_)) => 's',
            Some(V::Arr(_)) => 'a',
            Some(V::Obj(_)) => 'o',
            Some(V::Func(_)) => 'f',
        }
    }
}

thread_local! {
    /// The last few JSON containers converted on this thread, keyed by allocation (the `Value`
    /// is kept alive so the address cannot be reused). A workflow evaluates many fields against
    /// the same `$states`/input, so each is converted once, not once per expression.
    static CONVERTED: RefCell<Vec<(Value, V)>> = const { RefCell::new(Vec::new()) };
}

const CONVERTED_SLOTS: usize = 8;

/// Objects this small (like `$states`, rebuilt per state around a shared `input`) have their
/// container members looked up in the memo too.
const SMALL_OBJECT: usize = 8;

fn container_addr(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(Arc::as_ptr(a) as *const u8 as usize),
        Value::Object(o) => Some(Arc::as_ptr(o) as *const u8 as usize),
        _ => None,
    }
}

/// `from_value`, memoised per thread for containers (see `CONVERTED`).
// PERF: `$states.input.x + 1` against a 2 KB input re-converted the input on every evaluation.
pub(crate) fn from_value_cached(v: &Value) -> V {
    let Some(addr) = container_addr(v) else {
        return from_value(v);
    };
    // PERF: a hit moves to the back (least recently used goes first), so results pushed by
    // every evaluation do not evict a shared input (`{'a': 1}` re-converted its input).
    let hit = CONVERTED.with(|c| {
        let mut c = c.borrow_mut();
        let i = c
            .iter()
            .position(|(k, _)| container_addr(k) == Some(addr))?;
        let last = c.len() - 1;
        if i != last {
            c[i..].rotate_left(1);
        }
        Some(c[last].1.clone())
    });
    if let Some(x) = hit {
        return x;
    }
    let x = match v {
        Value::Object(o) if o.len() <= SMALL_OBJECT => V::obj(
            o.iter()
                .map(|(k, m)| (k.clone(), from_value_cached(m)))
                .collect(),
        ),
        _ => from_value(v),
    };
    CONVERTED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CONVERTED_SLOTS {
            c.remove(0);
        }
        c.push((v.clone(), x.clone()));
    });
    x
}

/// Tells the memo that `json` is the JSON form of `v` (a result about to leave the
/// evaluator): the next state's input is that result, and then needs no conversion.
// PERF: a chain of JSONata states re-converted each state's input, O(document) per state.
pub(crate) fn remember(json: &Value, v: &V) {
    if container_addr(json).is_none() {
        return;
    }
    let Some(v) = normalise(v) else { return };
    CONVERTED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CONVERTED_SLOTS {
            c.remove(0);
        }
        c.push((json.clone(), v));
    });
}

/// Deep-copies a JSON value into the evaluator's form.
pub(crate) fn from_value(v: &Value) -> V {
    convert(v).0
}

/// Whether a number survives the trip through `f64` and back unchanged (`to_json` prints
/// integral floats as integers, and integers beyond 2^53 lose digits).
pub(crate) fn exact_number(n: &Number) -> bool {
    n.survives_doubles()
}

/// `from_value`, saying whether `to_json` of the result gives `v` back exactly; containers
/// that do remember `v` as their JSON form.
fn convert(v: &Value) -> (V, bool) {
    match v {
        Value::Null => (V::Null, true),
        Value::Bool(b) => (V::Bool(*b), true),
        Value::Number(n) => (V::Num(n.as_f64()), exact_number(n)),
        Value::String(s) => (V::Str(s.clone()), true),
        Value::Array(a) => {
            let mut exact = true;
            let items = a
                .iter()
                .map(|x| {
                    let (y, e) = convert(x);
                    exact &= e;
                    y
                })
                .collect();
            let arr = Arr {
                items,
                ..Arr::default()
            };
            if exact {
                let _ = arr.json.set((v.clone(), true));
            }
            (V::Arr(Rc::new(arr)), exact)
        }
        Value::Object(o) => {
            let mut exact = true;
            let mut map = obj_with_capacity(o.len());
            let mut depth = 0;
            for (k, x) in o.iter() {
                let (y, e) = convert(x);
                exact &= e;
                depth = depth.max(depth_of(&y));
                map.insert(k.clone(), y);
            }
            let node = ObjNode::new(map, depth + 1, false);
            if exact {
                let _ = node.json.set((v.clone(), true));
            }
            (V::Obj(Rc::new(node)), exact)
        }
    }
}

/// The JSON form of a result; functions become nothing (as `JSON.stringify` drops them).
/// Containers remember their JSON form, so a subtree that came from JSON unchanged (or was
/// converted before) costs O(1). Also says whether the conversion lost nothing (no function dropped, no
/// number changed), i.e. whether `from_value` of the result gives an equal `V` back.
pub(crate) fn to_json(v: &V) -> Option<(Value, bool)> {
    Some(match v {
        V::Null => (Value::Null, true),
        V::Bool(b) => (Value::Bool(*b), true),
        V::Num(n) => {
            if n.is_finite() {
                let exact = *n != 0.0 || n.is_sign_positive();
                (Value::Number(Number::from_f64_normalised(*n)), exact)
            } else {
                (Value::Null, false)
            }
        }
        V::Str(s) => (Value::String(s.clone()), true),
        V::Arr(a) => {
            let (j, exact) = a.json.get_or_init(|| {
                let mut exact = true;
                let items = a
                    .items
                    .iter()
                    .map(|x| match to_json(x) {
                        Some((j, e)) => {
                            exact &= e;
                            j
                        }
                        None => {
                            exact = false;
                            Value::Null
                        }
                    })
                    .collect();
                (Value::array(items), exact)
            });
            // Flags are read live: `Rc::make_mut` may set `keep` on an unshared array.
            (j.clone(), *exact && a.plain())
        }
        V::Obj(o) => to_json_obj(o),
        V::Func(_) => return None,
    })
}

/// The `V` that `from_value(json)` gives for `json = to_json(v)`, sharing every lossless
/// subtree of `v` (only the lossy parts are rebuilt). `None` for a function.
pub(crate) fn normalise(v: &V) -> Option<V> {
    Some(match v {
        V::Func(_) => return None,
        V::Num(n) if !n.is_finite() => V::Null,
        V::Num(n) => V::Num(Number::from_f64_normalised(*n).as_f64()),
        V::Arr(a) => {
            let (json, exact) = to_json(v)?;
            if exact {
                return Some(v.clone());
            }
            let items = a
                .items
                .iter()
                .map(|x| normalise(x).unwrap_or(V::Null))
                .collect();
            let arr = Arr {
                items,
                ..Arr::default()
            };
            let _ = arr.json.set((json, true));
            V::Arr(Rc::new(arr))
        }
        V::Obj(o) => {
            let (json, exact) = to_json(v)?;
            if exact {
                return Some(v.clone());
            }
            let mut map = obj_with_capacity(o.len());
            let mut depth = 0;
            for (k, x) in o.iter() {
                if let Some(y) = normalise(x) {
                    depth = depth.max(depth_of(&y));
                    map.insert(k.clone(), y);
                }
            }
            let node = ObjNode::new(map, depth + 1, false);
            let _ = node.json.set((json, true));
            V::Obj(Rc::new(node))
        }
        other => other.clone(),
    })
}

/// JSONata's `=`: deep equality, numbers by value.
pub(crate) fn deep_equal(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Num(x), V::Num(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Arr(x), V::Arr(y)) => {
            x.items.len() == y.items.len()
                && x.items
                    .iter()
                    .zip(y.items.iter())
                    .all(|(p, q)| deep_equal(p, q))
        }
        (V::Obj(x), V::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (V::Func(x), V::Func(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// `$boolean` semantics (undefined stays undefined).
pub(crate) fn truthy(v: Option<&V>) -> Option<bool> {
    let v = v?;
    Some(match v {
        V::Null => false,
        V::Bool(b) => *b,
        V::Num(n) => *n != 0.0,
        V::Str(s) => !s.is_empty(),
        V::Arr(a) => match a.items.len() {
            0 => false,
            1 => truthy(Some(&a.items[0])).unwrap_or(false),
            _ => a.items.iter().any(|x| truthy(Some(x)).unwrap_or(false)),
        },
        V::Obj(o) => !o.is_empty(),
        V::Func(_) => false,
    })
}

/// Appends `b` to `a` as jsonata's `fn.append` does (arrays are spliced, undefined skipped).
pub(crate) fn append(a: Option<V>, b: Option<V>) -> Option<V> {
    let Some(b) = b else { return a };
    let Some(a) = a else { return Some(b) };
    let mut out = match a {
        V::Arr(arr) => {
            let mut owned = Rc::try_unwrap(arr).unwrap_or_else(|rc| (*rc).clone());
            owned.json.take();
            owned
        }
        other => Arr {
            items: vec![other],
            seq: true,
            ..Arr::default()
        },
    };
    match b {
        V::Arr(barr) => out.items.extend(barr.items.iter().cloned()),
        other => out.items.push(other),
    }
    Some(V::Arr(Rc::new(out)))
}

/// A fresh deep copy in which every object is a new allocation (the transform operator mutates it).
pub(crate) fn deep_clone(v: &V, depth: usize) -> Result<V, Error> {
    if depth > 10_000 {
        return Err(Error::new("U1001", None, None));
    }
    Ok(match v {
        V::Arr(a) => {
            let mut items = Vec::with_capacity(a.items.len());
            for x in a.items.iter() {
                items.push(deep_clone(x, depth + 1)?);
            }
            V::Arr(Rc::new(Arr {
                items,
                ..(**a).clone_flags()
            }))
        }
        V::Obj(o) => {
            let mut m = obj_with_capacity(o.len());
            for (k, x) in o.iter() {
                m.insert(k.clone(), deep_clone(x, depth + 1)?);
            }
            V::obj(m)
        }
        other => other.clone(),
    })
}

impl Arr {
    /// Whether no hidden flag is set (an array as `from_value` builds it).
    pub fn plain(&self) -> bool {
        !(self.seq || self.keep || self.cons || self.outer || self.tuples.is_some())
    }

    pub fn clone_flags(&self) -> Arr {
        Arr {
            items: Vec::new(),
            seq: self.seq,
            keep: self.keep,
            cons: self.cons,
            outer: self.outer,
            tuples: None,
            json: OnceCell::new(),
        }
    }
}
