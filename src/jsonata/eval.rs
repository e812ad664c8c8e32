//! The evaluator: walks the processed tree as jsonata-js's `evaluate` does, with sequences,
//! tuple streams for `@`/`#` bindings, and bounded depth and time.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::ast::{BinOp, GroupBy, Kind, Node, Stage};
use super::ast::{BuiltinId, RegexId, SignatureId};
use super::builtins;
use super::literals::Literals;
use super::numfmt::{self, describe};
use super::path::{GroupIn, eval_path, filter, group, group_pairs};
use super::signature::Signature;
use super::value::{Arr, Frame, Func, V, deep_equal, from_value_cached, remember, to_json, truthy};
use super::{Env, Error, Limits, Options};
use crate::value::Value;

pub(crate) type R = Result<Option<V>, Error>;

/// Per-evaluation state: limits, the caller's bindings, and frames to unlink at the end.
pub(crate) struct Ctx<'a> {
    depth: Cell<usize>,
    ticks: Cell<u32>,
    pub limits: &'a Limits,
    deadline: Instant,
    /// When the evaluation stops to be run again off the caller's thread (`hand_off_after`).
    hand_off: Option<Instant>,
    ext: &'a dyn Env,
    ext_cache: RefCell<Vec<(String, Option<Option<V>>)>>,
    pub opts: Options,
    cleanup: RefCell<Vec<Rc<Frame>>>,
    now: Cell<Option<i64>>,
    /// Items and string bytes built so far: bounds the total an evaluation may allocate.
    charged_items: Cell<usize>,
    charged_bytes: Cell<usize>,
    stack_base: usize,
    /// The regexes and signatures the evaluated tree names by id, then those of trees `$eval`
    /// parsed during this evaluation (numbered after them).
    literals: &'a Literals,
    more_literals: RefCell<Literals>,
}

impl Ctx<'_> {
    /// The regex literal `id` names.
    pub fn regex(&self, id: RegexId) -> Arc<super::value::Regex> {
        match self.literals.regex(id) {
            Some(re) => re.clone(),
            None => (self.more_literals.borrow().regex(id).cloned())
                .expect("regex ids come from this evaluation's trees"),
        }
    }

    /// The lambda signature `id` names.
    pub fn signature(&self, id: SignatureId) -> Arc<Signature> {
        match self.literals.signature(id) {
            Some(sig) => sig.clone(),
            None => (self.more_literals.borrow().signature(id).cloned())
                .expect("signature ids come from this evaluation's trees"),
        }
    }

    /// Where the literals of a tree parsed now (by `$eval`) must start numbering.
    pub fn next_literals(&self) -> Literals {
        Literals::after(&self.more_literals.borrow())
    }

    /// Takes in the literals of a tree parsed now, numbered by [`Ctx::next_literals`].
    pub fn add_literals(&self, more: Literals) {
        self.more_literals.borrow_mut().extend(more);
    }

    /// The evaluation's timestamp: read once, so `$now()` is stable within one evaluation.
    pub fn now_millis(&self) -> i64 {
        if let Some(t) = self.now.get() {
            return t;
        }
        let t = chrono::Utc::now().timestamp_millis();
        self.now.set(Some(t));
        t
    }

    pub fn check_items(&self, n: usize) -> Result<(), Error> {
        if n > self.limits.max_items {
            let mut e = Error::new("D2014", None, None);
            e.detail_mut().value = Some(n.to_string());
            e.message = format!(
                "The size of a sequence must not exceed {}.  Attempted to allocate {n}.",
                self.limits.max_items
            );
            return Err(e);
        }
        Ok(())
    }

    /// Counts `n` newly built items against the evaluation's total budget (8 × `max_items`).
    pub fn charge_items(&self, n: usize) -> Result<(), Error> {
        let total = self.charged_items.get().saturating_add(n);
        self.charged_items.set(total);
        if total > self.limits.max_items.saturating_mul(8) {
            let mut e = Error::new("D2014", None, None);
            e.message = format!(
                "The evaluation built more than {} items in total",
                self.limits.max_items.saturating_mul(8)
            );
            return Err(e);
        }
        Ok(())
    }

    /// Counts `n` newly built string bytes against the total budget (4 × `max_string`).
    pub fn charge_bytes(&self, n: usize) -> Result<(), Error> {
        self.check_string(n)?;
        let total = self.charged_bytes.get().saturating_add(n);
        self.charged_bytes.set(total);
        if total > self.limits.max_string.saturating_mul(4) {
            let mut e = Error::new("D1001", None, None);
            e.message = format!(
                "The evaluation built more than {} bytes of strings in total",
                self.limits.max_string.saturating_mul(4)
            );
            return Err(e);
        }
        Ok(())
    }

    /// Refuses a built value nested deeper than `MAX_DATA_DEPTH` (recursion over it, including
    /// its drop, must stay within the stack).
    pub fn check_depth(&self, v: V) -> Result<V, Error> {
        if super::value::depth_of(&v) > super::value::MAX_DATA_DEPTH {
            let mut e = Error::new("U1001", None, None);
            e.message = format!(
                "Value nesting exceeds {} levels",
                super::value::MAX_DATA_DEPTH
            );
            return Err(e);
        }
        Ok(v)
    }

    pub fn check_string(&self, n: usize) -> Result<(), Error> {
        if n > self.limits.max_string {
            let mut e = Error::new("D1001", None, None);
            e.detail_mut().value = Some(n.to_string());
            e.message = format!("String of {n} bytes exceeds the evaluation limit");
            return Err(e);
        }
        Ok(())
    }

    fn enter(&self, pos: usize) -> Result<(), Error> {
        let d = self.depth.get() + 1;
        self.depth.set(d);
        if d > self.limits.max_depth
            || super::stack_addr().abs_diff(self.stack_base) > self.limits.max_stack
        {
            return Err(stack_error(pos));
        }
        self.tick(pos)
    }

    pub fn tick(&self, pos: usize) -> Result<(), Error> {
        let t = self.ticks.get().wrapping_add(1);
        self.ticks.set(t);
        if t.is_multiple_of(256) {
            return self.check_clock(pos);
        }
        Ok(())
    }

    /// The time bounds, read every 256 ticks: the deadline, then the hand-off point.
    fn check_clock(&self, pos: usize) -> Result<(), Error> {
        let now = Instant::now();
        if now > self.deadline {
            return Err(timeout_error(pos));
        }
        if self.hand_off.is_some_and(|at| now > at) {
            let mut e = Error::new(HANDED_OFF, Some(pos), None);
            e.message = "The evaluation ran past its hand-off point".into();
            return Err(e);
        }
        Ok(())
    }

    pub fn bind(&self, frame: &Rc<Frame>, name: Arc<str>, v: Option<V>) {
        if v.as_ref().is_some_and(super::value::contains_fn) {
            self.cleanup.borrow_mut().push(frame.clone());
        }
        frame.bind(name, v);
    }

    /// Looks a variable up: local frames, then the caller's `Env`, then the built-in functions.
    pub fn lookup(&self, env: &Rc<Frame>, name: &str) -> Option<V> {
        if let Some(v) = env.lookup(name) {
            return v;
        }
        if let Some(v) = self.lookup_ext(name) {
            return v;
        }
        builtins::find(name, self.opts).map(|b| V::Func(Rc::new(Func::Builtin(b))))
    }

    /// `$name.member` straight from the caller's `Env` (see [`Env::lookup_member`]), when
    /// `name` is not bound locally, not converted yet, and `step` is that member's name.
    pub(crate) fn lookup_member(
        &self,
        env: &Rc<Frame>,
        name: &str,
        step: &Node,
    ) -> Option<Option<V>> {
        let Kind::Name(member) = &step.kind else {
            return None;
        };
        if name.is_empty()
            || env.lookup(name).is_some()
            || self.ext_cache.borrow().iter().any(|(k, _)| k == name)
        {
            return None;
        }
        let found = self.ext.lookup_member(name, member)?;
        Some(found.map(|v| from_value_cached(&v)))
    }

    /// The caller's binding of `name`, converted once per evaluation (misses are cached too).
    fn lookup_ext(&self, name: &str) -> Option<Option<V>> {
        if let Some((_, v)) = self.ext_cache.borrow().iter().find(|(k, _)| k == name) {
            return v.clone();
        }
        let found = self.ext.lookup(name).map(|v| Some(from_value_cached(&v)));
        self.ext_cache
            .borrow_mut()
            .push((name.to_string(), found.clone()));
        found
    }
}

/// The code of the error that stops an evaluation at `Limits::hand_off_after` (never shown:
/// the caller runs the evaluation again).
pub(crate) const HANDED_OFF: &str = "handed-off";

#[inline(never)]
fn timeout_error(pos: usize) -> Error {
    let mut e = Error::new("U1001", Some(pos), None);
    e.message = "Expression evaluation timeout: Check for infinite loop".into();
    e
}

#[inline(never)]
fn stack_error(pos: usize) -> Error {
    let mut e = Error::new("U1001", Some(pos), None);
    e.message = "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.".into();
    e
}

thread_local! {
    /// The name of the root context binding, allocated once per thread.
    static DOLLAR: Arc<str> = Arc::from("$");
}

pub(crate) fn run(
    root: &Node,
    literals: &Literals,
    input: Option<&Value>,
    env: &dyn Env,
    limits: &Limits,
    opts: Options,
) -> Result<super::Outcome, Error> {
    let start = Instant::now();
    let cx = Ctx {
        depth: Cell::new(0),
        ticks: Cell::new(0),
        limits,
        deadline: {
            let own = start + limits.max_time;
            limits.deadline.map_or(own, |d| d.min(own))
        },
        hand_off: limits.hand_off_after.and_then(|d| start.checked_add(d)),
        ext: env,
        ext_cache: RefCell::new(Vec::new()),
        opts,
        cleanup: RefCell::new(Vec::new()),
        now: Cell::new(None),
        charged_items: Cell::new(0),
        charged_bytes: Cell::new(0),
        stack_base: super::stack_addr(),
        literals,
        more_literals: RefCell::new(Literals::after(literals)),
    };
    let mut inp = input.map(from_value_cached);
    if let Some(V::Arr(a)) = &inp {
        inp = Some(V::Arr(Rc::new(Arr {
            items: vec![V::Arr(a.clone())],
            seq: true,
            outer: true,
            ..Arr::default()
        })));
    }
    let frame = Rc::new(Frame::default());
    frame.bind(DOLLAR.with(Arc::clone), inp.clone());
    let r = eval(root, inp.as_ref(), &frame, &cx);
    for f in cx.cleanup.borrow().iter() {
        f.vars.borrow_mut().clear();
    }
    frame.vars.borrow_mut().clear();
    Ok(match r? {
        None => super::Outcome::Undefined,
        Some(V::Func(_)) => super::Outcome::Function,
        Some(v) => match to_json(&v) {
            Some((json, _)) => {
                remember(&json, &v);
                super::Outcome::Value(json)
            }
            None => super::Outcome::Undefined,
        },
    })
}

pub(crate) fn seq_of(items: Vec<V>) -> Arr {
    Arr {
        items,
        seq: true,
        ..Arr::default()
    }
}

/// Evaluates a node: jsonata-js's `evaluate`, including predicates, grouping and the final
/// unwrapping of singleton sequences.
pub(crate) fn eval(n: &Node, input: Option<&V>, env: &Rc<Frame>, cx: &Ctx) -> R {
    cx.enter(n.pos)?;
    let r = eval_inner(n, input, env, cx);
    cx.depth.set(cx.depth.get() - 1);
    if n.predicate.is_empty() && n.group.is_none() {
        return Ok(finish_seq(r?, n.keep_array));
    }
    post_filters(n, r?, env, cx)
}

#[inline(never)]
fn post_filters(n: &Node, mut result: Option<V>, env: &Rc<Frame>, cx: &Ctx) -> R {
    if let Some(V::Arr(a)) = &result
        && let Some(ts) = &a.tuples
    {
        let ts = super::path::tuple_stages(&n.predicate, (**ts).clone(), env, cx)?;
        let items = ts.iter().filter_map(|t| t.at.clone()).collect();
        let arr = Arr {
            items,
            seq: true,
            tuples: Some(Rc::new(ts)),
            ..Arr::default()
        };
        return Ok(Some(V::Arr(Rc::new(arr))));
    }
    for stage in &n.predicate {
        if let Stage::Filter(p) = stage {
            result = filter(p, result, env, cx)?.map(|a| V::Arr(Rc::new(a)));
        }
    }
    if !matches!(n.kind, Kind::Path { .. })
        && let Some(g) = &n.group
    {
        result = Some(group(g, GroupIn::Vals(result), env, cx)?);
    }
    Ok(finish_seq(result, n.keep_array))
}

fn finish_seq(result: Option<V>, keep_array: bool) -> Option<V> {
    match result {
        Some(V::Arr(mut a)) if a.seq && a.tuples.is_none() => {
            if keep_array && !a.keep {
                Rc::make_mut(&mut a).keep = true;
            }
            match a.items.len() {
                0 => None,
                1 if !a.keep => Some(a.items[0].clone()),
                _ => Some(V::Arr(a)),
            }
        }
        other => other,
    }
}

fn eval_inner(n: &Node, input: Option<&V>, env: &Rc<Frame>, cx: &Ctx) -> R {
    match &n.kind {
        Kind::Path {
            steps,
            keep_singleton,
        } => eval_path(n, steps, *keep_singleton, input, env, cx),
        Kind::Binary(op, l, r) => binary(n, *op, l, r, input, env, cx),
        Kind::Name(name) => Ok(lookup_field(input, name)),
        Kind::Str(s) => Ok(Some(V::Str(s.clone()))),
        Kind::Num(x) => Ok(Some(V::Num(*x))),
        Kind::Bool(b) => Ok(Some(V::Bool(*b))),
        Kind::Null => Ok(Some(V::Null)),
        Kind::Wildcard => Ok(wildcard(input)),
        Kind::Condition(c, t, e) => condition(c, t, e.as_deref(), input, env, cx),
        Kind::Variable(name, builtin) => Ok(variable(name, *builtin, input, env, cx)),
        Kind::Function { proc, args } => {
            super::apply::call_node(n, proc, args, input, env, cx, None)
        }
        Kind::Partial { proc, args } => super::apply::partial_node(n, proc, args, input, env, cx),
        Kind::Apply(l, r) => super::apply::apply_node(n, l, r, input, env, cx),
        Kind::Block(exprs) => block(exprs, input, env, cx),
        _ => eval_misc(n, input, env, cx),
    }
}

#[inline(never)]
fn condition(
    c: &Node,
    t: &Node,
    e: Option<&Node>,
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> R {
    let cv = eval(c, input, env, cx)?;
    if truthy(cv.as_ref()).unwrap_or(false) {
        eval(t, input, env, cx)
    } else if let Some(e) = e {
        eval(e, input, env, cx)
    } else {
        Ok(None)
    }
}

#[inline(never)]
fn block(exprs: &[Node], input: Option<&V>, env: &Rc<Frame>, cx: &Ctx) -> R {
    let frame = Frame::child(env);
    let mut r = None;
    for e in exprs {
        r = eval(e, input, &frame, cx)?;
    }
    Ok(r)
}

fn variable(
    name: &str,
    builtin: Option<BuiltinId>,
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Option<V> {
    if name.is_empty() {
        return match input {
            Some(V::Arr(a)) if a.outer => a.items.first().cloned(),
            other => other.cloned(),
        };
    }
    if let Some(v) = env.lookup(name) {
        return v;
    }
    if let Some(v) = cx.lookup_ext(name) {
        return v;
    }
    builtin.map(|id| V::Func(Rc::new(Func::Builtin(builtins::get(id)))))
}

#[inline(never)]
fn eval_misc(n: &Node, input: Option<&V>, env: &Rc<Frame>, cx: &Ctx) -> R {
    Ok(match &n.kind {
        Kind::Path {
            steps,
            keep_singleton,
        } => eval_path(n, steps, *keep_singleton, input, env, cx)?,
        Kind::Binary(op, l, r) => binary(n, *op, l, r, input, env, cx)?,
        Kind::Neg(e) => match eval(e, input, env, cx)? {
            None => None,
            Some(V::Num(x)) => Some(V::Num(-x)),
            Some(other) => {
                let mut err = Error::new("D1002", Some(n.pos), Some("-".into()));
                err.detail_mut().value = Some(describe(&other));
                return Err(err);
            }
        },
        Kind::Array(items) => {
            let mut out: Vec<V> = Vec::new();
            for item in items {
                if let Some(v) = eval(item, input, env, cx)? {
                    if item.is_array_cons() {
                        out.push(v);
                    } else if let V::Arr(a) = v {
                        out.extend(a.items.iter().cloned());
                    } else {
                        out.push(v);
                    }
                    cx.check_items(out.len())?;
                }
            }
            cx.charge_items(out.len())?;
            Some(cx.check_depth(V::Arr(Rc::new(Arr {
                items: out,
                cons: n.cons_array,
                ..Arr::default()
            })))?)
        }
        Kind::Object(pairs) => {
            let g = GroupBy {
                pairs: Vec::new(),
                pos: n.pos,
            };
            Some(group_pairs(
                &g,
                pairs,
                GroupIn::Vals(input.cloned()),
                env,
                cx,
            )?)
        }
        Kind::Name(name) => lookup_field(input, name),
        Kind::Str(s) => Some(V::Str(s.clone())),
        Kind::Num(x) => Some(V::Num(*x)),
        Kind::Bool(b) => Some(V::Bool(*b)),
        Kind::Null => Some(V::Null),
        Kind::Regex(id) => Some(V::Func(Rc::new(Func::Regex(cx.regex(*id))))),
        Kind::Wildcard => wildcard(input),
        Kind::Descendant => {
            let mut out = Vec::new();
            if let Some(i) = input {
                descendants(i, &mut out, 0, cx)?;
            }
            match out.len() {
                0 => None,
                1 => out.pop(),
                _ => Some(V::seq(out)),
            }
        }
        Kind::Parent { label, .. } => cx.lookup(env, &super::ast::label_name(label)),
        Kind::Condition(c, t, e) => {
            let cv = eval(c, input, env, cx)?;
            if truthy(cv.as_ref()).unwrap_or(false) {
                eval(t, input, env, cx)?
            } else if let Some(e) = e {
                eval(e, input, env, cx)?
            } else {
                None
            }
        }
        Kind::Block(exprs) => {
            let frame = Frame::child(env);
            let mut r = None;
            for e in exprs {
                r = eval(e, input, &frame, cx)?;
            }
            r
        }
        Kind::Variable(name, builtin) => variable(name, *builtin, input, env, cx),
        Kind::Bind(name, rhs) => {
            let v = eval(rhs, input, env, cx)?;
            cx.bind(env, name.clone(), v.clone());
            v
        }
        Kind::Function { proc, args } => {
            super::apply::call_node(n, proc, args, input, env, cx, None)?
        }
        Kind::Partial { proc, args } => super::apply::partial_node(n, proc, args, input, env, cx)?,
        Kind::Placeholder => None,
        Kind::Lambda(def) => Some(V::Func(Rc::new(Func::Lambda {
            def: def.clone(),
            params: def.params.clone(),
            signature: def.signature.map(|id| cx.signature(id)),
            input: input.cloned(),
            env: env.clone(),
        }))),
        Kind::TailCall(call) => Some(V::Func(Rc::new(Func::Thunk {
            call: call.clone(),
            input: input.cloned(),
            env: env.clone(),
        }))),
        Kind::Apply(l, r) => super::apply::apply_node(n, l, r, input, env, cx)?,
        Kind::Transform(def) => Some(V::Func(Rc::new(Func::Transform {
            def: def.clone(),
            env: env.clone(),
        }))),
        Kind::Sort(_) => None,
    })
}

/// `fn.lookup`: a member of an object, mapped over arrays (flattening one level).
pub(crate) fn lookup_field(input: Option<&V>, name: &str) -> Option<V> {
    match input? {
        V::Arr(a) => {
            let mut out = Vec::new();
            for item in a.items.iter() {
                if let Some(r) = lookup_field(Some(item), name) {
                    match r {
                        V::Arr(ra) if !ra.cons => out.extend(ra.items.iter().cloned()),
                        other => out.push(other),
                    }
                }
            }
            Some(V::seq(out))
        }
        V::Obj(o) => o.get(name).cloned(),
        _ => None,
    }
}

fn flatten_into(v: &V, out: &mut Vec<V>) {
    match v {
        V::Arr(a) => a.items.iter().for_each(|x| flatten_into(x, out)),
        other => out.push(other.clone()),
    }
}

fn wildcard(input: Option<&V>) -> Option<V> {
    let mut input = input?;
    if let V::Arr(a) = input
        && a.outer
        && let Some(first) = a.items.first()
    {
        input = first;
    }
    let mut out: Vec<V> = Vec::new();
    let mut plain = false;
    let values: Vec<V> = match input {
        V::Obj(o) => o.values().cloned().collect(),
        V::Arr(a) => a.items.clone(),
        _ => vec![],
    };
    for v in &values {
        if let V::Arr(_) = v {
            flatten_into(v, &mut out);
            plain = true;
        } else {
            out.push(v.clone());
        }
    }
    Some(V::Arr(Rc::new(Arr {
        items: out,
        seq: !plain,
        ..Arr::default()
    })))
}

fn descendants(v: &V, out: &mut Vec<V>, depth: usize, cx: &Ctx) -> Result<(), Error> {
    if depth > 5000 {
        return Err(Error::new("U1001", None, None));
    }
    match v {
        V::Arr(a) => {
            for x in a.items.iter() {
                descendants(x, out, depth + 1, cx)?;
            }
        }
        V::Obj(o) => {
            out.push(v.clone());
            for x in o.values() {
                descendants(x, out, depth + 1, cx)?;
            }
        }
        other => out.push(other.clone()),
    }
    cx.check_items(out.len())
}

fn binary(
    n: &Node,
    op: BinOp,
    l: &Node,
    r: &Node,
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> R {
    let lhs = eval(l, input, env, cx)?;
    match op {
        BinOp::And => {
            let lb = truthy(lhs.as_ref()).unwrap_or(false);
            if !lb {
                return Ok(Some(V::Bool(false)));
            }
            let rhs = eval(r, input, env, cx)?;
            return Ok(Some(V::Bool(truthy(rhs.as_ref()).unwrap_or(false))));
        }
        BinOp::Or => {
            let lb = truthy(lhs.as_ref()).unwrap_or(false);
            if lb {
                return Ok(Some(V::Bool(true)));
            }
            let rhs = eval(r, input, env, cx)?;
            return Ok(Some(V::Bool(truthy(rhs.as_ref()).unwrap_or(false))));
        }
        _ => {}
    }
    let rhs = eval(r, input, env, cx)?;
    binary_values(op, lhs, rhs, cx).map_err(|e| with_pos(e, n.pos, op))
}

#[inline(never)]
fn with_pos(mut e: Error, pos: usize, op: BinOp) -> Error {
    e.position = Some(pos);
    e.token = Some(op.token().to_string());
    e
}

#[inline(never)]
fn binary_values(op: BinOp, lhs: Option<V>, rhs: Option<V>, cx: &Ctx) -> R {
    let val_err = |code: &str, v: &V| {
        let mut e = Error::new(code, None, None);
        e.detail_mut().value = Some(describe(v));
        e
    };
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            for v in [&lhs, &rhs].into_iter().flatten() {
                if let V::Num(x) = v
                    && !x.is_finite()
                {
                    return Err(val_err("D1001", v));
                }
            }
            if let Some(l) = &lhs
                && !matches!(l, V::Num(_))
            {
                return Err(val_err("T2001", l));
            }
            if let Some(r) = &rhs
                && !matches!(r, V::Num(_))
            {
                return Err(val_err("T2002", r));
            }
            let (Some(V::Num(a)), Some(V::Num(b))) = (lhs, rhs) else {
                return Ok(None);
            };
            let x = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => a % b,
            };
            Ok(Some(V::Num(x)))
        }
        BinOp::Eq | BinOp::Ne => {
            let (Some(a), Some(b)) = (lhs, rhs) else {
                return Ok(Some(V::Bool(false)));
            };
            let eq = deep_equal(&a, &b);
            Ok(Some(V::Bool(if op == BinOp::Eq { eq } else { !eq })))
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let comparable = |v: &Option<V>| matches!(v, None | Some(V::Num(_)) | Some(V::Str(_)));
            if !comparable(&lhs) || !comparable(&rhs) {
                let bad = if comparable(&lhs) {
                    rhs.as_ref()
                } else {
                    lhs.as_ref()
                };
                let mut e = Error::new("T2010", None, None);
                e.detail_mut().value = bad.map(describe);
                return Err(e);
            }
            let (Some(a), Some(b)) = (lhs, rhs) else {
                return Ok(None);
            };
            let ord = match (&a, &b) {
                (V::Num(x), V::Num(y)) => x.partial_cmp(y),
                (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
                _ => {
                    let mut e = Error::new("T2009", None, None);
                    e.detail_mut().value = Some(describe(&a));
                    e.detail_mut().value2 = Some(describe(&b));
                    return Err(e);
                }
            };
            use std::cmp::Ordering::*;
            let r = match (op, ord) {
                (_, None) => false,
                (BinOp::Lt, Some(o)) => o == Less,
                (BinOp::Le, Some(o)) => o != Greater,
                (BinOp::Gt, Some(o)) => o == Greater,
                (_, Some(o)) => o != Less,
            };
            Ok(Some(V::Bool(r)))
        }
        BinOp::Concat => {
            let mut s = String::new();
            if let Some(l) = &lhs {
                s.push_str(&numfmt::to_string(l, false)?);
            }
            if let Some(r) = &rhs {
                s.push_str(&numfmt::to_string(r, false)?);
            }
            cx.charge_bytes(s.len())?;
            Ok(Some(V::string(s)))
        }
        BinOp::Range => {
            let int = |v: &Option<V>| match v {
                None => Ok(None),
                Some(V::Num(x)) if x.fract() == 0.0 && x.is_finite() => Ok(Some(*x)),
                Some(_) => Err(()),
            };
            let a = int(&lhs).map_err(|_| val_err("T2003", lhs.as_ref().unwrap_or(&V::Null)))?;
            let b = int(&rhs).map_err(|_| val_err("T2004", rhs.as_ref().unwrap_or(&V::Null)))?;
            let (Some(a), Some(b)) = (a, b) else {
                return Ok(None);
            };
            if a > b {
                return Ok(None);
            }
            let size = b - a + 1.0;
            if size > 1e7 {
                let mut e = Error::new("D2014", None, None);
                e.detail_mut().value = Some(super::numfmt::js_number(size));
                return Err(e);
            }
            cx.check_items(size as usize)?;
            cx.charge_items(size as usize)?;
            let items = (0..size as i64).map(|i| V::Num(a + i as f64)).collect();
            Ok(Some(V::seq(items)))
        }
        BinOp::In => {
            let (Some(a), Some(b)) = (lhs, rhs) else {
                return Ok(Some(V::Bool(false)));
            };
            let list: Vec<V> = match b {
                V::Arr(arr) => arr.items.clone(),
                other => vec![other],
            };
            Ok(Some(V::Bool(list.iter().any(|x| strict_equal(x, &a)))))
        }
        BinOp::And | BinOp::Or => unreachable!("handled before"),
    }
}

/// JavaScript `===`: primitives by value, containers by identity.
pub(crate) fn strict_equal(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Arr(x), V::Arr(y)) => Rc::ptr_eq(x, y),
        (V::Obj(x), V::Obj(y)) => Rc::ptr_eq(x, y),
        (V::Func(x), V::Func(y)) => Rc::ptr_eq(x, y),
        _ => deep_equal(a, b),
    }
}
