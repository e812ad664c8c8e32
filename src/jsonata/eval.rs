//! The evaluator: walks the processed tree as jsonata-js's `evaluate` does, with sequences,
//! tuple streams for `@`/`#` bindings, and bounded depth and time.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::ast::{BinOp, GroupBy, Kind, Node, SortTerm, Stage};
use super::functions::{self, describe};
use super::value::{Arr, Frame, Func, Obj, V, append, deep_equal, from_value, to_value, truthy};
use super::{Env, Error, Limits, Options};
use crate::value::Value;

pub(crate) type R = Result<Option<V>, Error>;

/// Per-evaluation state: limits, the caller's bindings, and frames to unlink at the end.
pub(crate) struct Ctx<'a> {
    depth: Cell<usize>,
    /// Where this evaluation started on the stack (see `super::stack`).
    stack_base: usize,
    ticks: Cell<u32>,
    pub limits: &'a Limits,
    deadline: Instant,
    ext: &'a dyn Env,
    ext_cache: RefCell<Vec<(String, Option<V>)>>,
    pub opts: Options,
    cleanup: RefCell<Vec<Rc<Frame>>>,
    pub now_millis: i64,
}

impl Ctx<'_> {
    pub fn check_items(&self, n: usize) -> Result<(), Error> {
        if n > self.limits.max_items {
            let mut e = Error::new("D2014", None, None);
            e.value = Some(n.to_string());
            return Err(e);
        }
        Ok(())
    }

    pub fn check_string(&self, n: usize) -> Result<(), Error> {
        if n > self.limits.max_string {
            let mut e = Error::new("D1001", None, None);
            e.value = Some(n.to_string());
            e.message = format!("String of {n} bytes exceeds the evaluation limit");
            return Err(e);
        }
        Ok(())
    }

    fn enter(&self, pos: usize) -> Result<(), Error> {
        let d = self.depth.get() + 1;
        self.depth.set(d);
        if d > self.limits.max_depth
            || super::stack::used_since(self.stack_base) > super::stack::EVAL_BUDGET
        {
            let mut e = Error::new("U1001", Some(pos), None);
            e.message = "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.".into();
            return Err(e);
        }
        self.tick(pos)
    }

    pub fn tick(&self, pos: usize) -> Result<(), Error> {
        let t = self.ticks.get().wrapping_add(1);
        self.ticks.set(t);
        if t % 256 == 0 && Instant::now() > self.deadline {
            let mut e = Error::new("U1001", Some(pos), None);
            e.message = "Expression evaluation timeout: Check for infinite loop".into();
            return Err(e);
        }
        Ok(())
    }

    pub fn bind(&self, frame: &Rc<Frame>, name: Arc<str>, v: Option<V>) {
        let holds_fn = match &v {
            Some(V::Func(_)) => true,
            Some(V::Arr(a)) => a.items.iter().any(V::is_func),
            Some(V::Obj(o)) => o.values().any(V::is_func),
            _ => false,
        };
        if holds_fn {
            self.cleanup.borrow_mut().push(frame.clone());
        }
        frame.bind(name, v);
    }

    /// Looks a variable up: local frames, then the caller's `Env`, then the built-in functions.
    pub fn lookup(&self, env: &Rc<Frame>, name: &str) -> Option<V> {
        if let Some(v) = env.lookup(name) {
            return v;
        }
        if let Some((_, v)) = self.ext_cache.borrow().iter().find(|(k, _)| k == name) {
            return v.clone();
        }
        if let Some(v) = self.ext.lookup(name) {
            let v = Some(from_value(&v));
            self.ext_cache
                .borrow_mut()
                .push((name.to_string(), v.clone()));
            return v;
        }
        functions::lookup(name, self.opts).map(|b| V::Func(Rc::new(Func::Builtin(b))))
    }
}

pub(crate) fn run(
    root: &Node,
    input: Option<&Value>,
    env: &dyn Env,
    limits: &Limits,
    opts: Options,
) -> Result<Option<Value>, Error> {
    let cx = Ctx {
        depth: Cell::new(0),
        stack_base: super::stack::here(),
        ticks: Cell::new(0),
        limits,
        deadline: Instant::now() + limits.max_time,
        ext: env,
        ext_cache: RefCell::new(Vec::new()),
        opts,
        cleanup: RefCell::new(Vec::new()),
        now_millis: chrono::Utc::now().timestamp_millis(),
    };
    let mut inp = input.map(from_value);
    if let Some(V::Arr(a)) = &inp {
        inp = Some(V::Arr(Rc::new(Arr {
            items: vec![V::Arr(a.clone())],
            seq: true,
            outer: true,
            ..Arr::default()
        })));
    }
    let frame = Rc::new(Frame::default());
    frame.bind(Arc::from("$"), inp.clone());
    let r = eval(root, inp.as_ref(), &frame, &cx);
    for f in cx.cleanup.borrow().iter() {
        f.vars.borrow_mut().clear();
    }
    frame.vars.borrow_mut().clear();
    let r = r?;
    // Step Functions rejects a function as a field's value ("unsupported result type").
    if opts.step_functions && matches!(r, Some(V::Func(_))) {
        let mut e = Error::new(FUNCTION_RESULT, None, None);
        e.message = "The expression returned a function".into();
        return Err(e);
    }
    Ok(r.as_ref().and_then(to_value))
}

/// Error code (ours, outside jsonata-js's codes) for a function returned in Step Functions mode.
pub const FUNCTION_RESULT: &str = "SFN0001";

fn seq_of(items: Vec<V>) -> Arr {
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
    let mut result = r?;
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
        Some(V::Arr(mut a)) if a.seq => {
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
                err.value = Some(describe(&other));
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
            Some(V::Arr(Rc::new(Arr {
                items: out,
                cons: n.cons_array,
                ..Arr::default()
            })))
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
        Kind::Regex(re) => Some(V::Func(Rc::new(Func::Regex(re.clone())))),
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
        Kind::Parent => {
            let mut e = Error::new("S0217", Some(n.pos), Some("%".into()));
            e.message = "The parent operator (%) is not supported by this implementation".into();
            return Err(e);
        }
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
        Kind::Bind(name, rhs) => {
            let v = eval(rhs, input, env, cx)?;
            cx.bind(env, name.clone(), v.clone());
            v
        }
        Kind::Variable(name) => {
            if name.is_empty() {
                match input {
                    Some(V::Arr(a)) if a.outer => a.items.first().cloned(),
                    other => other.cloned(),
                }
            } else {
                cx.lookup(env, name)
            }
        }
        Kind::Function { proc, args } => {
            super::functions::call_node(n, proc, args, input, env, cx, None)?
        }
        Kind::Partial { proc, args } => {
            super::functions::partial_node(n, proc, args, input, env, cx)?
        }
        Kind::Placeholder => None,
        Kind::Lambda(def) => Some(V::Func(Rc::new(Func::Lambda {
            def: def.clone(),
            params: def.params.clone(),
            signature: def.signature.clone(),
            input: input.cloned(),
            env: env.clone(),
        }))),
        Kind::TailCall(call) => Some(V::Func(Rc::new(Func::Thunk {
            call: call.clone(),
            input: input.cloned(),
            env: env.clone(),
        }))),
        Kind::Apply(l, r) => super::functions::apply_node(n, l, r, input, env, cx)?,
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

/// A tuple of a tuple stream: the context value `@` and the variables bound so far.
#[derive(Clone, Debug)]
pub(crate) struct Tuple {
    at: Option<V>,
    vars: Vec<(Arc<str>, Option<V>)>,
}

impl Tuple {
    fn set(&mut self, name: &Arc<str>, v: Option<V>) {
        if let Some(s) = self.vars.iter_mut().find(|(k, _)| k == name) {
            s.1 = v;
        } else {
            self.vars.push((name.clone(), v));
        }
    }
}

fn tuple_frame(env: &Rc<Frame>, t: &Tuple, cx: &Ctx) -> Rc<Frame> {
    let f = Frame::child(env);
    for (k, v) in &t.vars {
        cx.bind(&f, k.clone(), v.clone());
    }
    f
}

fn eval_path(
    n: &Node,
    steps: &[Node],
    keep_singleton: bool,
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> R {
    let mut input_seq: Vec<Option<V>> = match input {
        Some(V::Arr(a)) if !matches!(steps[0].kind, Kind::Variable(_)) => {
            a.items.iter().cloned().map(Some).collect()
        }
        other => vec![other.cloned()],
    };
    let mut result: Option<Rc<Arr>> = None;
    let mut tuples: Option<Vec<Tuple>> = None;
    let mut is_tuple = false;
    for (i, step) in steps.iter().enumerate() {
        if step.tuple {
            is_tuple = true;
        }
        if i == 0 && step.cons_array {
            let r = eval(step, input, env, cx)?;
            result = Some(match r {
                Some(V::Arr(a)) => a,
                Some(other) => Rc::new(seq_of(vec![other])),
                None => Rc::new(seq_of(vec![])),
            });
        } else if is_tuple {
            tuples = Some(tuple_step(step, &input_seq, tuples, env, cx)?);
        } else {
            result = Some(eval_step(step, &input_seq, env, cx, i == steps.len() - 1)?);
        }
        if !is_tuple && result.as_ref().is_none_or(|r| r.items.is_empty()) {
            break;
        }
        if step.focus.is_none() {
            if let Some(r) = &result {
                input_seq = r.items.iter().cloned().map(Some).collect();
            }
        }
        if is_tuple && step.focus.is_none() {
            if let Some(ts) = &tuples {
                input_seq = ts.iter().map(|t| t.at.clone()).collect();
            }
        }
    }
    let mut rs: Rc<Arr> = if is_tuple {
        let ts = tuples.clone().unwrap_or_default();
        Rc::new(seq_of(ts.into_iter().filter_map(|t| t.at).collect()))
    } else {
        result.unwrap_or_else(|| Rc::new(seq_of(vec![])))
    };
    if keep_singleton {
        if rs.cons && !rs.seq {
            rs = Rc::new(seq_of(vec![V::Arr(rs)]));
        }
        Rc::make_mut(&mut rs).keep = true;
    }
    if let Some(g) = &n.group {
        let gin = if is_tuple {
            GroupIn::Tuples(tuples.unwrap_or_default())
        } else {
            GroupIn::Vals(Some(V::Arr(rs)))
        };
        return Ok(Some(group(g, gin, env, cx)?));
    }
    Ok(Some(V::Arr(rs)))
}

fn eval_step(
    step: &Node,
    input: &[Option<V>],
    env: &Rc<Frame>,
    cx: &Ctx,
    last: bool,
) -> Result<Rc<Arr>, Error> {
    if let Kind::Sort(terms) = &step.kind {
        let items: Vec<V> = input.iter().flatten().cloned().collect();
        let sorted = sort_values(step, terms, items, env, cx)?;
        let mut r = Some(V::seq(sorted));
        for st in &step.stages {
            if let Stage::Filter(p) = st {
                r = filter(p, r, env, cx)?.map(|a| V::Arr(Rc::new(a)));
            }
        }
        return Ok(match r {
            Some(V::Arr(a)) => a,
            _ => Rc::new(seq_of(vec![])),
        });
    }
    let mut results: Vec<V> = Vec::with_capacity(input.len());
    for item in input {
        let mut res = eval(step, item.as_ref(), env, cx)?;
        for st in &step.stages {
            if let Stage::Filter(p) = st {
                res = filter(p, res, env, cx)?.map(|a| V::Arr(Rc::new(a)));
            }
        }
        if let Some(r) = res {
            results.push(r);
        }
    }
    if last && results.len() == 1 {
        if let V::Arr(a) = &results[0]
            && !a.seq
        {
            return Ok(a.clone());
        }
    }
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match r {
            V::Arr(a) if !a.cons => out.extend(a.items.iter().cloned()),
            other => out.push(other),
        }
    }
    cx.check_items(out.len())?;
    Ok(Rc::new(seq_of(out)))
}

fn tuple_step(
    step: &Node,
    input: &[Option<V>],
    tuples: Option<Vec<Tuple>>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Result<Vec<Tuple>, Error> {
    if let Kind::Sort(terms) = &step.kind {
        let mut result = match tuples {
            Some(ts) => sort_tuples(step, terms, ts, env, cx)?,
            None => {
                let items: Vec<V> = input.iter().flatten().cloned().collect();
                let sorted = sort_values(step, terms, items, env, cx)?;
                sorted
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut t = Tuple {
                            at: Some(v),
                            vars: vec![],
                        };
                        if let Some(ix) = &step.index {
                            t.set(ix, Some(V::Num(i as f64)));
                        }
                        t
                    })
                    .collect()
            }
        };
        result = tuple_stages(&step.stages, result, env, cx)?;
        return Ok(result);
    }
    let tuples = tuples.unwrap_or_else(|| {
        input
            .iter()
            .map(|v| Tuple {
                at: v.clone(),
                vars: vec![],
            })
            .collect()
    });
    let mut result = Vec::new();
    for t in &tuples {
        let f = tuple_frame(env, t, cx);
        let res = eval(step, t.at.as_ref(), &f, cx)?;
        let Some(res) = res else { continue };
        let items: Vec<V> = match res {
            V::Arr(a) => a.items.clone(),
            other => vec![other],
        };
        for (bb, item) in items.into_iter().enumerate() {
            let mut nt = t.clone();
            if let Some(focus) = &step.focus {
                nt.set(focus, Some(item));
            } else {
                nt.at = Some(item);
            }
            if let Some(ix) = &step.index {
                nt.set(ix, Some(V::Num(bb as f64)));
            }
            result.push(nt);
        }
        cx.check_items(result.len())?;
    }
    tuple_stages(&step.stages, result, env, cx)
}

fn tuple_stages(
    stages: &[Stage],
    mut ts: Vec<Tuple>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Result<Vec<Tuple>, Error> {
    for st in stages {
        match st {
            Stage::Filter(p) => {
                let len = ts.len();
                let mut out = Vec::new();
                if let Kind::Num(x) = p.kind {
                    let mut idx = x.floor();
                    if idx < 0.0 {
                        idx += len as f64;
                    }
                    if idx >= 0.0 && (idx as usize) < len {
                        out.push(ts[idx as usize].clone());
                    }
                } else {
                    for (i, t) in ts.iter().enumerate() {
                        let f = tuple_frame(env, t, cx);
                        let res = eval(p, t.at.as_ref(), &f, cx)?;
                        if predicate_keeps(res.as_ref(), i, len) {
                            out.push(t.clone());
                        }
                    }
                }
                ts = out;
            }
            Stage::Index(name) => {
                for (i, t) in ts.iter_mut().enumerate() {
                    t.set(name, Some(V::Num(i as f64)));
                }
            }
        }
    }
    Ok(ts)
}

fn predicate_keeps(res: Option<&V>, index: usize, len: usize) -> bool {
    let nums: Option<Vec<f64>> = match res {
        Some(V::Num(x)) => Some(vec![*x]),
        Some(V::Arr(a))
            if !a.items.is_empty() && a.items.iter().all(|x| matches!(x, V::Num(_))) =>
        {
            Some(a.items.iter().filter_map(V::num).collect())
        }
        _ => None,
    };
    match nums {
        Some(ns) => ns.iter().any(|x| {
            let mut i = x.floor();
            if i < 0.0 {
                i += len as f64;
            }
            i == index as f64
        }),
        None => truthy(res).unwrap_or(false),
    }
}

/// `evaluateFilter` over a value sequence.
fn filter(pred: &Node, input: Option<V>, env: &Rc<Frame>, cx: &Ctx) -> Result<Option<Arr>, Error> {
    let items: Vec<V> = match input {
        None => vec![],
        Some(V::Arr(a)) => a.items.clone(),
        Some(other) => vec![other],
    };
    let len = items.len();
    if let Kind::Num(x) = pred.kind {
        let mut idx = x.floor();
        if idx < 0.0 {
            idx += len as f64;
        }
        if idx >= 0.0 && (idx as usize) < len {
            let item = items[idx as usize].clone();
            if let V::Arr(a) = item {
                return Ok(Some((*a).clone()));
            }
            return Ok(Some(seq_of(vec![item])));
        }
        return Ok(Some(seq_of(vec![])));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let res = eval(pred, Some(item), env, cx)?;
        if predicate_keeps(res.as_ref(), i, len) {
            out.push(item.clone());
        }
    }
    Ok(Some(seq_of(out)))
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
    let with_pos = |mut e: Error| {
        e.position = Some(n.pos);
        e.token = Some(op.token().to_string());
        e
    };
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
    binary_values(op, lhs, rhs, cx).map_err(with_pos)
}

fn binary_values(op: BinOp, lhs: Option<V>, rhs: Option<V>, cx: &Ctx) -> R {
    let val_err = |code: &str, v: &V| {
        let mut e = Error::new(code, None, None);
        e.value = Some(describe(v));
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
                e.value = bad.map(describe);
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
                    e.value = Some(describe(&a));
                    e.value2 = Some(describe(&b));
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
                s.push_str(&functions::to_string(l, false)?);
            }
            if let Some(r) = &rhs {
                s.push_str(&functions::to_string(r, false)?);
            }
            cx.check_string(s.len())?;
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
                e.value = Some(super::numfmt::js_number(size));
                return Err(e);
            }
            cx.check_items(size as usize)?;
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

pub(crate) enum GroupIn {
    Vals(Option<V>),
    Tuples(Vec<Tuple>),
}

fn group(g: &GroupBy, input: GroupIn, env: &Rc<Frame>, cx: &Ctx) -> Result<V, Error> {
    group_pairs(g, &g.pairs, input, env, cx)
}

enum GData {
    Val(Option<V>),
    Tuples(Vec<Tuple>),
}

fn group_pairs(
    g: &GroupBy,
    pairs: &[(Node, Node)],
    input: GroupIn,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Result<V, Error> {
    let mut groups: indexmap::IndexMap<Arc<str>, (GData, usize)> = indexmap::IndexMap::new();
    let (items, tuples): (Vec<Option<V>>, Option<Vec<Tuple>>) = match input {
        GroupIn::Vals(v) => {
            let mut items: Vec<Option<V>> = match v {
                Some(V::Arr(a)) => a.items.iter().cloned().map(Some).collect(),
                other => vec![other],
            };
            if items.is_empty() {
                items.push(None);
            }
            (items, None)
        }
        GroupIn::Tuples(ts) => {
            let items = ts.iter().map(|t| t.at.clone()).collect();
            (items, Some(ts))
        }
    };
    let count = items.len().max(1);
    for idx in 0..count {
        let item = items.get(idx).cloned().flatten();
        let frame = match &tuples {
            Some(ts) if idx < ts.len() => tuple_frame(env, &ts[idx], cx),
            _ => env.clone(),
        };
        for (pi, (kexpr, _)) in pairs.iter().enumerate() {
            let key = eval(kexpr, item.as_ref(), &frame, cx)?;
            let key = match key {
                None => continue,
                Some(V::Str(s)) => s,
                Some(other) => {
                    let mut e = Error::new("T1003", Some(g.pos), None);
                    e.value = Some(describe(&other));
                    return Err(e);
                }
            };
            match groups.get_mut(&key) {
                Some((data, ei)) => {
                    if *ei != pi {
                        let mut e = Error::new("D1009", Some(g.pos), None);
                        e.value = Some(key.to_string());
                        return Err(e);
                    }
                    match data {
                        GData::Val(d) => *d = append(d.take(), item.clone()),
                        GData::Tuples(ts) => {
                            ts.push(tuples.as_ref().expect("tuple mode")[idx].clone())
                        }
                    }
                }
                None => {
                    let data = match &tuples {
                        Some(ts) => GData::Tuples(vec![ts[idx].clone()]),
                        None => GData::Val(item.clone()),
                    };
                    groups.insert(key, (data, pi));
                }
            }
        }
    }
    let mut out = Obj::with_capacity(groups.len());
    for (key, (data, ei)) in groups {
        let (ctx_val, frame) = match data {
            GData::Val(v) => (v, env.clone()),
            GData::Tuples(ts) => {
                let mut merged: Vec<(Arc<str>, Option<V>)> = Vec::new();
                let mut at: Option<V> = None;
                for (i, t) in ts.iter().enumerate() {
                    at = if i == 0 {
                        t.at.clone()
                    } else {
                        append(at, t.at.clone())
                    };
                    for (k, v) in &t.vars {
                        if let Some(slot) = merged.iter_mut().find(|(mk, _)| mk == k) {
                            slot.1 = append(slot.1.take(), v.clone());
                        } else {
                            merged.push((k.clone(), v.clone()));
                        }
                    }
                }
                let t = Tuple {
                    at: None,
                    vars: merged,
                };
                (at, tuple_frame(env, &t, cx))
            }
        };
        if let Some(v) = eval(&pairs[ei].1, ctx_val.as_ref(), &frame, cx)? {
            out.insert(key, v);
        }
    }
    Ok(V::obj(out))
}

fn sort_keys(
    terms: &[SortTerm],
    ctx: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Result<Vec<Option<V>>, Error> {
    terms.iter().map(|t| eval(&t.expr, ctx, env, cx)).collect()
}

fn compare_keys(
    step: &Node,
    terms: &[SortTerm],
    a: &[Option<V>],
    b: &[Option<V>],
) -> Result<bool, Error> {
    let mut comp = 0;
    for (i, t) in terms.iter().enumerate() {
        let (aa, bb) = (&a[i], &b[i]);
        let (Some(x), Some(y)) = (aa, bb) else {
            comp = match (aa, bb) {
                (None, None) => 0,
                (None, _) => 1,
                _ => -1,
            };
            if comp != 0 {
                break;
            }
            continue;
        };
        let ok = |v: &V| matches!(v, V::Num(_) | V::Str(_));
        if !ok(x) || !ok(y) {
            let mut e = Error::new("T2008", Some(step.pos), None);
            e.value = Some(describe(if ok(x) { y } else { x }));
            return Err(e);
        }
        let c = match (x, y) {
            (V::Num(p), V::Num(q)) => p.partial_cmp(q).map_or(0, |o| o as i32),
            (V::Str(p), V::Str(q)) => p.cmp(q) as i32,
            _ => {
                let mut e = Error::new("T2007", Some(step.pos), None);
                e.value = Some(describe(x));
                e.value2 = Some(describe(y));
                return Err(e);
            }
        };
        if c != 0 {
            comp = if t.descending { -c } else { c };
            break;
        }
    }
    Ok(comp == 1)
}

fn sort_values(
    step: &Node,
    terms: &[SortTerm],
    items: Vec<V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Result<Vec<V>, Error> {
    let mut keyed = Vec::with_capacity(items.len());
    for it in items {
        let k = sort_keys(terms, Some(&it), env, cx)?;
        keyed.push((it, k));
    }
    let sorted = merge_sort(keyed, &mut |a, b| compare_keys(step, terms, &a.1, &b.1))?;
    Ok(sorted.into_iter().map(|(v, _)| v).collect())
}

fn sort_tuples(
    step: &Node,
    terms: &[SortTerm],
    ts: Vec<Tuple>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> Result<Vec<Tuple>, Error> {
    let mut keyed = Vec::with_capacity(ts.len());
    for t in ts {
        let f = tuple_frame(env, &t, cx);
        let k = sort_keys(terms, t.at.as_ref(), &f, cx)?;
        keyed.push((t, k));
    }
    let sorted = merge_sort(keyed, &mut |a, b| compare_keys(step, terms, &a.1, &b.1))?;
    Ok(sorted.into_iter().map(|(t, _)| t).collect())
}

/// jsonata-js's stable merge sort: `swap(a, b)` says whether `b` goes before `a`.
pub(crate) fn merge_sort<T: Clone>(
    items: Vec<T>,
    swap: &mut dyn FnMut(&T, &T) -> Result<bool, Error>,
) -> Result<Vec<T>, Error> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut items = items;
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, swap)?;
    let right = merge_sort(right, swap)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if swap(&left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}
