//! The direct tier: the expressions Step Functions definitions are mostly made of (`$states.input.a.b`,
//! `$var`, object and array constructors, `$merge`, `&`, arithmetic, comparisons, conditions and
//! a few pure built-ins), evaluated straight on our shared [`Value`]s, without converting the
//! input into the evaluator's own values and the result back.
//!
//! In: a parsed tree, which [`Direct::compile`] accepts only when every node is in that subset.
//! Out per evaluation: the result, or [`Bail`] whenever anything is off the plain path (an array
//! where a path steps on, a type error, a number JSONata would print differently, a workflow
//! variable shadowing a built-in). The caller then evaluates the same tree in full, so the tier
//! changes speed, never results: every expression it accepts is pure, and a bailed attempt leaves
//! nothing behind. Never here: errors of its own, allocation beyond the result, recursion deeper
//! than the expression (bounded by the parser) or than [`MAX_WALK`] levels of data.

use std::sync::Arc;

use super::ast::{BinOp, Kind, Node, Stage};
use super::{Env, Outcome, numfmt};
use crate::value::{Map, Number, Value};

/// Why the direct tier gave up: the full evaluator decides.
#[derive(Debug)]
pub(crate) struct Bail;

type R = Result<Option<Value>, Bail>;

/// Deepest data the final exactness walk and truthiness look into before giving up.
const MAX_WALK: usize = 256;

/// Deepest expression the tier takes on (its evaluation recurses once per level).
const MAX_NESTING: usize = 100;

/// A compiled expression of the subset.
#[derive(Debug)]
pub(crate) struct Direct(D);

#[derive(Debug)]
enum D {
    Lit(Value),
    /// `$name` (never `$`).
    Var(Arc<str>),
    /// `$name.m1.m2…` with an optional literal index on the last step.
    Path {
        var: Arc<str>,
        members: Vec<Arc<str>>,
        index: Option<f64>,
    },
    /// Literal keys, none repeated.
    Object(Vec<(Arc<str>, D)>),
    /// Items, each saying whether it is itself an array constructor (kept whole, not spliced).
    Array(Vec<(D, bool)>),
    Call(Func, Box<D>),
    Bin(BinOp, Box<D>, Box<D>),
    Neg(Box<D>),
    Cond(Box<D>, Box<D>, Option<Box<D>>),
    /// `(a; b)`: every expression evaluated, the last one's value.
    Block(Vec<D>),
}

/// The built-ins of the subset, each called with exactly one argument.
#[derive(Clone, Copy, Debug)]
enum Func {
    Merge,
    Exists,
    Count,
    Length,
    Uppercase,
    Lowercase,
    Not,
    Boolean,
    String,
}

impl Func {
    fn of(name: &str) -> Option<Func> {
        Some(match name {
            "merge" => Func::Merge,
            "exists" => Func::Exists,
            "count" => Func::Count,
            "length" => Func::Length,
            "uppercase" => Func::Uppercase,
            "lowercase" => Func::Lowercase,
            "not" => Func::Not,
            "boolean" => Func::Boolean,
            "string" => Func::String,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Func::Merge => "merge",
            Func::Exists => "exists",
            Func::Count => "count",
            Func::Length => "length",
            Func::Uppercase => "uppercase",
            Func::Lowercase => "lowercase",
            Func::Not => "not",
            Func::Boolean => "boolean",
            Func::String => "string",
        }
    }
}

/// Whether a node carries none of the annotations that change how it evaluates.
fn plain(n: &Node) -> bool {
    n.stages.is_empty() && plain_but_stages(n)
}

/// `plain`, except for a path step's stages (which `path` looks at itself).
fn plain_but_stages(n: &Node) -> bool {
    !n.keep_array
        && n.predicate.is_empty()
        && n.group.is_none()
        && n.focus.is_none()
        && n.index.is_none()
        && !n.tuple
        && !n.cons_array
        && n.ancestor.is_none()
        && n.seeking.is_empty()
}

impl Direct {
    /// The direct form of `root`, when all of it is in the subset.
    pub(crate) fn compile(root: &Node) -> Option<Direct> {
        build(root, 0).map(Direct)
    }

    /// Evaluates with `env`'s bindings; `Err(Bail)` sends the caller to the full evaluator.
    pub(crate) fn run(&self, env: &dyn Env) -> Result<Outcome, Bail> {
        Ok(match eval(&self.0, env)? {
            None => Outcome::Undefined,
            Some(v) => Outcome::Value(v),
        })
    }
}

fn build(n: &Node, depth: usize) -> Option<D> {
    if depth > MAX_NESTING {
        return None;
    }
    let build = |n: &Node| build(n, depth + 1);
    if !plain(n) {
        return None;
    }
    Some(match &n.kind {
        Kind::Str(s) => D::Lit(Value::String(s.clone())),
        Kind::Num(x) if x.is_finite() => D::Lit(Value::Number(Number::from_f64_normalised(*x))),
        Kind::Bool(b) => D::Lit(Value::Bool(*b)),
        Kind::Null => D::Lit(Value::Null),
        Kind::Variable(name, _) if !name.is_empty() => D::Var(name.clone()),
        Kind::Path {
            steps,
            keep_singleton: false,
        } => path(steps)?,
        Kind::Object(pairs) => {
            let mut out: Vec<(Arc<str>, D)> = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                let Kind::Str(key) = &k.kind else {
                    return None;
                };
                if !plain(k) || out.iter().any(|(seen, _)| seen == key) {
                    return None;
                }
                out.push((key.clone(), build(v)?));
            }
            D::Object(out)
        }
        Kind::Array(items) => D::Array(
            items
                .iter()
                .map(|i| Some((build(i)?, i.is_array_cons())))
                .collect::<Option<_>>()?,
        ),
        Kind::Function { proc, args } if args.len() == 1 && plain(proc) => {
            let Kind::Variable(name, Some(builtin)) = &proc.kind else {
                return None;
            };
            let f = Func::of(super::builtins::get(*builtin).name)?;
            if **name != *f.name() {
                return None;
            }
            D::Call(f, Box::new(build(&args[0])?))
        }
        Kind::Binary(op, l, r) => match op {
            BinOp::In | BinOp::Range => return None,
            _ => D::Bin(*op, Box::new(build(l)?), Box::new(build(r)?)),
        },
        Kind::Neg(e) => D::Neg(Box::new(build(e)?)),
        Kind::Condition(c, t, e) => D::Cond(
            Box::new(build(c)?),
            Box::new(build(t)?),
            match e {
                Some(e) => Some(Box::new(build(e)?)),
                None => None,
            },
        ),
        Kind::Block(exprs) if !exprs.is_empty() => {
            D::Block(exprs.iter().map(&build).collect::<Option<_>>()?)
        }
        _ => return None,
    })
}

/// `$name.a.b…[i]`: a variable, then member names; only the last may carry one literal index.
fn path(steps: &[Node]) -> Option<D> {
    let (first, rest) = steps.split_first()?;
    let Kind::Variable(var, _) = &first.kind else {
        return None;
    };
    if var.is_empty() || !plain(first) || rest.is_empty() {
        return None;
    }
    let mut members = Vec::with_capacity(rest.len());
    let mut index = None;
    for (i, s) in rest.iter().enumerate() {
        let Kind::Name(m) = &s.kind else {
            return None;
        };
        let last = i + 1 == rest.len();
        match s.stages.as_slice() {
            [] => {}
            [Stage::Filter(f)] if last && plain(f) => match f.kind {
                Kind::Num(x) if x.is_finite() => index = Some(x),
                _ => return None,
            },
            _ => return None,
        }
        if !plain_but_stages(s) {
            return None;
        }
        members.push(m.clone());
    }
    Some(D::Path {
        var: var.clone(),
        members,
        index,
    })
}

fn eval(d: &D, env: &dyn Env) -> R {
    match d {
        D::Lit(v) => Ok(Some(v.clone())),
        D::Var(name) => normal(env.lookup(name).ok_or(Bail)?).map(Some),
        D::Path {
            var,
            members,
            index,
        } => walk(var, members, *index, env)?.map(normal).transpose(),
        D::Object(pairs) => {
            let mut m = Map::with_capacity(pairs.len());
            for (k, v) in pairs {
                if let Some(v) = eval(v, env)? {
                    m.insert(k.clone(), v);
                }
            }
            m.set_doubles_memo(true);
            Ok(Some(Value::object(m)))
        }
        D::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (item, nested) in items {
                match eval(item, env)? {
                    None => {}
                    Some(Value::Array(a)) if !nested => out.extend(a.iter().cloned()),
                    Some(v) => out.push(v),
                }
            }
            Ok(Some(Value::array(out)))
        }
        D::Call(f, arg) => {
            // A workflow variable of the built-in's name is what `$merge` denotes then.
            if env.lookup(f.name()).is_some() {
                return Err(Bail);
            }
            call(*f, eval(arg, env)?)
        }
        D::Bin(op, l, r) => binary(*op, eval(l, env)?, eval(r, env)?),
        D::Neg(e) => match eval(e, env)? {
            None => Ok(None),
            Some(Value::Number(n)) => number(-n.as_f64()),
            Some(_) => Err(Bail),
        },
        D::Cond(c, t, e) => {
            if truthy(eval(c, env)?.as_ref(), 0)? {
                eval(t, env)
            } else if let Some(e) = e {
                eval(e, env)
            } else {
                Ok(None)
            }
        }
        D::Block(exprs) => {
            let mut last = None;
            for e in exprs {
                last = eval(e, env)?;
            }
            Ok(last)
        }
    }
}

/// A path over objects: an array anywhere but at the end would map, so it bails.
// PERF: members are looked at by reference and only the value found is cloned (one reference
// count instead of one per step).
fn walk(var: &str, members: &[Arc<str>], index: Option<f64>, env: &dyn Env) -> R {
    let (root, rest) = match env.lookup_member(var, &members[0]) {
        Some(found) => (found, &members[1..]),
        None => (Some(env.lookup(var).ok_or(Bail)?), members),
    };
    let mut cur = root.as_ref();
    for m in rest {
        cur = match cur {
            None => return Ok(None),
            Some(Value::Object(o)) => o.get(&**m),
            Some(_) => return Err(Bail),
        };
    }
    let Some(i) = index else {
        return Ok(cur.cloned());
    };
    let i = i.floor();
    Ok(match cur {
        None => None,
        Some(Value::Array(a)) => {
            let at = if i < 0.0 { a.len() as f64 + i } else { i };
            if at < 0.0 || at >= a.len() as f64 {
                None
            } else {
                Some(a[at as usize].clone())
            }
        }
        Some(v) => (i == 0.0 || i == -1.0).then(|| v.clone()),
    })
}

fn number(x: f64) -> R {
    if x.is_finite() {
        Ok(Some(Value::Number(Number::from_f64_normalised(x))))
    } else {
        Err(Bail)
    }
}

fn num(v: &Value) -> Result<f64, Bail> {
    match v {
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err(Bail),
    }
}

fn binary(op: BinOp, l: Option<Value>, r: Option<Value>) -> R {
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            let (Some(l), Some(r)) = (l, r) else {
                return Err(Bail);
            };
            let (a, b) = (num(&l)?, num(&r)?);
            number(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => a % b,
            })
        }
        BinOp::Eq | BinOp::Ne => {
            let (Some(l), Some(r)) = (l, r) else {
                return Ok(Some(Value::Bool(false)));
            };
            let same = match (&l, &r) {
                (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Value::String(a), Value::String(b)) => a == b,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Null, Value::Null) => true,
                (Value::Array(_) | Value::Object(_), _)
                | (_, Value::Array(_) | Value::Object(_)) => {
                    return Err(Bail);
                }
                _ => false,
            };
            Ok(Some(Value::Bool(same == (op == BinOp::Eq))))
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ord = match (&l, &r) {
                (Some(Value::Number(a)), Some(Value::Number(b))) => {
                    a.as_f64().partial_cmp(&b.as_f64()).ok_or(Bail)?
                }
                (Some(Value::String(a)), Some(Value::String(b))) => utf16_cmp(a, b),
                _ => return Err(Bail),
            };
            Ok(Some(Value::Bool(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Le => ord.is_le(),
                BinOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })))
        }
        BinOp::Concat => {
            let mut s = String::new();
            for v in [l, r].iter().flatten() {
                text(v, &mut s)?;
            }
            Ok(Some(Value::str(&s)))
        }
        BinOp::And => Ok(Some(Value::Bool(
            truthy(l.as_ref(), 0)? && truthy(r.as_ref(), 0)?,
        ))),
        BinOp::Or => Ok(Some(Value::Bool(
            truthy(l.as_ref(), 0)? || truthy(r.as_ref(), 0)?,
        ))),
        BinOp::In | BinOp::Range => Err(Bail),
    }
}

/// JavaScript's string order: by UTF-16 code units.
fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `$string` of a scalar, appended to `out`; containers bail.
fn text(v: &Value, out: &mut String) -> Result<(), Bail> {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Number(n) => {
            let x = n.as_f64();
            if !x.is_finite() {
                return Err(Bail);
            }
            out.push_str(&numfmt::js_number(numfmt::round15(x)));
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Array(_) | Value::Object(_) => return Err(Bail),
    }
    Ok(())
}

/// jsonata's `fn.boolean`.
fn truthy(v: Option<&Value>, depth: usize) -> Result<bool, Bail> {
    if depth > MAX_WALK {
        return Err(Bail);
    }
    Ok(match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != 0.0,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Array(a)) => {
            for x in a.iter() {
                if truthy(Some(x), depth + 1)? {
                    return Ok(true);
                }
            }
            false
        }
    })
}

fn call(f: Func, arg: Option<Value>) -> R {
    match f {
        Func::Exists => return Ok(Some(Value::Bool(arg.is_some()))),
        Func::Count => {
            return Ok(Some(Value::int(match &arg {
                None => 0,
                Some(Value::Array(a)) => a.len() as i64,
                Some(_) => 1,
            })));
        }
        _ => {}
    }
    let Some(arg) = arg else {
        return Ok(None);
    };
    Ok(Some(match (f, arg) {
        (Func::Merge, Value::Object(o)) => Value::Object(o),
        (Func::Merge, Value::Array(items)) => {
            let mut out: Option<Map> = None;
            for item in items.iter() {
                let Value::Object(o) = item else {
                    return Err(Bail);
                };
                match &mut out {
                    None => out = Some((**o).clone()),
                    Some(m) => {
                        m.reserve(o.len());
                        for (k, v) in o.iter() {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            let m = out.unwrap_or_default();
            m.set_doubles_memo(true);
            Value::object(m)
        }
        (Func::Length, Value::String(s)) => Value::int(s.chars().count() as i64),
        (Func::Uppercase, Value::String(s)) if s.is_ascii() => Value::str(&s.to_ascii_uppercase()),
        (Func::Lowercase, Value::String(s)) if s.is_ascii() => Value::str(&s.to_ascii_lowercase()),
        (Func::Not, v) => Value::Bool(!truthy(Some(&v), 0)?),
        (Func::Boolean, v) => Value::Bool(truthy(Some(&v), 0)?),
        (Func::String, v) => {
            let mut s = String::new();
            text(&v, &mut s)?;
            Value::str(&s)
        }
        _ => return Err(Bail),
    }))
}

/// A value read from a binding, as the full evaluator would see it. Every value the tier builds
/// is made of such values, literals and computed numbers, which all survive a trip through a
/// double: so the objects it builds are marked as such, and a result needs no walk at the end.
// PERF: no walk of the whole result per evaluation, and a `$merge` chain's objects are walked
// once: w1_jsonata 116 k → 101 k instructions per execution (cachegrind; w1_pass_chain 81 k).
#[inline]
fn normal(v: Value) -> Result<Value, Bail> {
    match &v {
        Value::String(_) | Value::Bool(_) | Value::Null => Ok(v),
        Value::Object(o) if o.doubles_memo() == Some(true) => Ok(v),
        _ => Ok(js_normal(&v, 0)?.unwrap_or(v)),
    }
}

/// `v` as the full evaluator hands it back: a number that does not survive its trip through a
/// double is printed as JavaScript would, and the containers holding one are rebuilt (`None`:
/// nothing to change, the common case, which allocates nothing).
fn js_normal(v: &Value, depth: usize) -> Result<Option<Value>, Bail> {
    if depth > MAX_WALK {
        return Err(Bail);
    }
    Ok(match v {
        Value::Number(n) if !n.survives_doubles() => {
            Some(Value::Number(Number::from_f64_normalised(n.as_f64())))
        }
        Value::Array(a) => {
            let mut out: Option<Vec<Value>> = None;
            for (i, x) in a.iter().enumerate() {
                if let Some(y) = js_normal(x, depth + 1)? {
                    out.get_or_insert_with(|| a.to_vec())[i] = y;
                }
            }
            out.map(Value::array)
        }
        // An object found exact once is not walked again while it is shared unchanged.
        Value::Object(o) if o.doubles_memo() == Some(true) => None,
        Value::Object(o) => {
            let mut out: Option<Map> = None;
            for (i, x) in o.values().enumerate() {
                if let Some(y) = js_normal(x, depth + 1)? {
                    let m = out.get_or_insert_with(|| (**o).clone());
                    if let Some((_, slot)) = m.get_index_mut(i) {
                        *slot = y;
                    }
                }
            }
            match &out {
                None => o.set_doubles_memo(true),
                Some(m) => m.set_doubles_memo(true),
            }
            out.map(Value::object)
        }
        _ => None,
    })
}
