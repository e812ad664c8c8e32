//! Function application: calls `f(args)`, partial application `f(a, ?)`, chaining `~>`,
//! lambdas with their signatures, tail calls trampolined, and the matcher functions regex
//! literals evaluate to.
//!
//! In: a call's nodes or a function value with its arguments. Out: the result, with errors
//! located at the call. The built-ins themselves live in `builtins`; this module only calls them.

use std::rc::Rc;
use std::sync::{Arc, LazyLock};

use super::Error;
use super::ast::{Kind, Node};
use super::builtins::Builtin;
use super::eval::{Ctx, R, eval};
use super::numfmt::describe;
use super::signature::Signature;
use super::value::{Arr, Frame, Func, Obj, PArg, V};

/// Where a built-in was called from: the context value (for `-` signature parameters) and scope.
pub(crate) struct CallCx<'a> {
    pub input: Option<&'a V>,
    pub env: &'a Rc<Frame>,
}

fn proc_name(proc: &Node) -> Option<String> {
    match &proc.kind {
        Kind::Path { steps, .. } => match &steps[0].kind {
            Kind::Name(n) => Some(n.to_string()),
            _ => None,
        },
        Kind::Variable(v, _) => Some(v.to_string()),
        _ => None,
    }
}

fn forgot_dollar(proc: &Node, env: &Rc<Frame>, cx: &Ctx) -> Option<String> {
    if let Kind::Path { steps, .. } = &proc.kind
        && let Kind::Name(n) = &steps[0].kind
        && cx.lookup(env, n).is_some()
    {
        return Some(n.to_string());
    }
    None
}

/// A function call `proc(args)`; `apply_to` is the left side of `~>` (the first argument).
pub(crate) fn call_node(
    n: &Node,
    proc: &Node,
    args: &[Node],
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
    apply_to: Option<Option<V>>,
) -> R {
    let p = eval(proc, input, env, cx)?;
    if p.is_none() {
        forgot_dollar_call(n, proc, env, cx)?;
    }
    let mut vals = Vec::with_capacity(args.len() + 1);
    if let Some(c) = apply_to {
        vals.push(c);
    }
    for a in args {
        vals.push(eval(a, input, env, cx)?);
    }
    apply(cx, p.as_ref(), vals, input, env).map_err(|e| locate(e, n.pos, proc))
}

#[inline(never)]
fn locate(mut e: Error, pos: usize, proc: &Node) -> Error {
    if e.position.is_none() {
        e.position = Some(pos);
    }
    if e.token.is_none() {
        e.token = proc_name(proc);
    }
    e
}

#[inline(never)]
fn forgot_dollar_call(n: &Node, proc: &Node, env: &Rc<Frame>, cx: &Ctx) -> Result<(), Error> {
    match forgot_dollar(proc, env, cx) {
        Some(name) => Err(Error::new("T1005", Some(n.pos), Some(name))),
        None => Ok(()),
    }
}

/// Partial application `f(a, ?)`.
pub(crate) fn partial_node(
    n: &Node,
    proc: &Node,
    args: &[Node],
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> R {
    let mut pargs = Vec::with_capacity(args.len());
    for a in args {
        if matches!(a.kind, Kind::Placeholder) {
            pargs.push(PArg::Hole);
        } else {
            pargs.push(PArg::Val(eval(a, input, env, cx)?));
        }
    }
    let p = eval(proc, input, env, cx)?;
    if p.is_none()
        && let Some(name) = forgot_dollar(proc, env, cx)
    {
        return Err(Error::new("T1007", Some(n.pos), Some(name)));
    }
    let Some(V::Func(f)) = p else {
        return Err(Error::new("T1008", Some(n.pos), proc_name(proc)));
    };
    if let Func::Lambda {
        def,
        params,
        input: li,
        env: lenv,
        ..
    } = &*f
    {
        let frame = Frame::child(lenv);
        let mut unbound = Vec::new();
        for (i, param) in params.iter().enumerate() {
            match pargs.get(i) {
                Some(PArg::Hole) => unbound.push(param.clone()),
                Some(PArg::Val(v)) => cx.bind(&frame, param.clone(), v.clone()),
                None => cx.bind(&frame, param.clone(), None),
            }
        }
        return Ok(Some(V::Func(Rc::new(Func::Lambda {
            def: def.clone(),
            params: unbound,
            signature: None,
            input: li.clone(),
            env: frame,
        }))));
    }
    Ok(Some(V::Func(Rc::new(Func::Partial {
        func: f,
        args: pargs,
    }))))
}

/// `lhs ~> rhs`.
pub(crate) fn apply_node(
    n: &Node,
    l: &Node,
    r: &Node,
    input: Option<&V>,
    env: &Rc<Frame>,
    cx: &Ctx,
) -> R {
    let lhs = eval(l, input, env, cx)?;
    if let Kind::Function { proc, args } = &r.kind {
        return call_node(r, proc, args, input, env, cx, Some(lhs));
    }
    let func = eval(r, input, env, cx)?;
    let Some(V::Func(g)) = func else {
        let mut e = Error::new("T2006", Some(n.pos), None);
        e.detail_mut().value = func.as_ref().map(describe);
        return Err(e);
    };
    if let Some(V::Func(f)) = lhs {
        return Ok(Some(V::Func(Rc::new(Func::Partial {
            func: Rc::new(Func::Builtin(&CHAIN)),
            args: vec![
                PArg::Val(Some(V::Func(f))),
                PArg::Val(Some(V::Func(g))),
                PArg::Hole,
            ],
        }))));
    }
    apply(cx, Some(&V::Func(g)), vec![lhs], None, env)
}

static CHAIN: LazyLock<Builtin> = LazyLock::new(|| Builtin::new("chain", "<ffx?:x>", chain));

fn chain(cx: &Ctx, args: &[Option<V>], call: &CallCx) -> R {
    let r = apply(
        cx,
        args[0].as_ref(),
        vec![args.get(2).cloned().flatten()],
        None,
        call.env,
    )?;
    apply(cx, args[1].as_ref(), vec![r], None, call.env)
}

/// Applies a function value to arguments, trampolining tail calls.
pub(crate) fn apply(
    cx: &Ctx,
    proc: Option<&V>,
    args: Vec<Option<V>>,
    input: Option<&V>,
    env: &Rc<Frame>,
) -> R {
    let result = apply_inner(cx, proc, args, input, env)?;
    match &result {
        Some(V::Func(f)) if matches!(**f, Func::Thunk { .. }) => trampoline(cx, result, input, env),
        _ => Ok(result),
    }
}

#[inline(never)]
fn trampoline(cx: &Ctx, mut result: Option<V>, input: Option<&V>, env: &Rc<Frame>) -> R {
    while let Some(V::Func(f)) = &result {
        let Func::Thunk {
            call,
            input: ti,
            env: te,
        } = &**f
        else {
            break;
        };
        cx.tick(call.pos)?;
        let Kind::Function { proc, args } = &call.kind else {
            break;
        };
        let next = eval(proc, ti.as_ref(), te, cx)?;
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(eval(a, ti.as_ref(), te, cx)?);
        }
        let name = proc_name(proc);
        let pos = call.pos;
        result = apply_inner(cx, next.as_ref(), vals, input, env).map_err(|mut e| {
            if e.token.is_none() {
                e.token = name;
            }
            if e.position.is_none() {
                e.position = Some(pos);
            }
            e
        })?;
    }
    Ok(result)
}

#[inline(never)]
fn apply_inner(
    cx: &Ctx,
    proc: Option<&V>,
    args: Vec<Option<V>>,
    input: Option<&V>,
    env: &Rc<Frame>,
) -> R {
    let Some(V::Func(f)) = proc else {
        return Err(Error::new("T1006", None, None));
    };
    match &**f {
        Func::Lambda { .. } => apply_lambda(cx, f, args, input),
        Func::Builtin(bi) => {
            let context = match input {
                Some(V::Arr(a)) if a.outer => a.items.first(),
                other => other,
            };
            let args = bi.signature().validate(&args, context)?;
            (bi.f)(cx, &args, &CallCx { input, env })
        }
        Func::Partial { func, args: pargs } => {
            let mut supplied = args.into_iter();
            let mut full = Vec::with_capacity(pargs.len());
            for p in pargs {
                match p {
                    PArg::Hole => full.push(supplied.next().flatten()),
                    PArg::Val(v) => full.push(v.clone()),
                }
            }
            apply_inner(cx, Some(&V::Func(func.clone())), full, input, env)
        }
        Func::Thunk { .. } => Ok(Some(V::Func(f.clone()))),
        Func::Transform { def, env: tenv } => {
            let args = TRANSFORM_SIG.validate(&args, input)?;
            super::transform::transform(cx, def, tenv, args.into_iter().next().flatten())
        }
        Func::Regex(re) => {
            let Some(V::Str(s)) = args.into_iter().next().flatten() else {
                return Ok(None);
            };
            regex_exec(re, &s, 0)
        }
        Func::RegexNext { re, text, from } => regex_exec(re, text, *from),
    }
}

fn apply_lambda(cx: &Ctx, f: &Func, args: Vec<Option<V>>, input: Option<&V>) -> R {
    let Func::Lambda {
        def,
        params,
        signature,
        input: li,
        env: lenv,
    } = f
    else {
        return Ok(None);
    };
    let args = match signature {
        Some(sig) => sig.validate(&args, input)?,
        None => args,
    };
    let frame = Frame::child(lenv);
    for (i, p) in params.iter().enumerate() {
        cx.bind(&frame, p.clone(), args.get(i).cloned().flatten());
    }
    eval(&def.body, li.as_ref(), &frame, cx)
}

static TRANSFORM_SIG: LazyLock<Signature> =
    LazyLock::new(|| Signature::parse("<(oa):o>").expect("valid signature"));

/// Byte offset of char index `ci` in `s`.
pub(crate) fn byte_at(s: &str, ci: usize) -> usize {
    s.char_indices().nth(ci).map(|(b, _)| b).unwrap_or(s.len())
}

/// One match of a regex as jsonata's matcher objects: `{match, start, end, groups, next}`.
fn regex_exec(re: &Arc<super::value::Regex>, s: &Arc<str>, from: usize) -> R {
    let start_b = byte_at(s, from);
    if start_b > s.len() {
        return Ok(None);
    }
    let Some(caps) = re.re.captures_at(s, start_b) else {
        return Ok(None);
    };
    let m = caps.get(0).expect("group 0 always matches");
    let start = s[..m.start()].chars().count();
    let end = start + m.as_str().chars().count();
    if from > 0 && m.as_str().is_empty() {
        let mut e = Error::new("D1004", Some(re.pos), None);
        e.detail_mut().value = Some(re.source.clone());
        return Err(e);
    }
    let mut o = Obj::default();
    o.insert("match".into(), V::str(m.as_str()));
    o.insert("start".into(), V::Num(start as f64));
    o.insert("end".into(), V::Num(end as f64));
    let groups: Vec<V> = (1..caps.len())
        .map(|i| {
            caps.get(i)
                .map(|g| V::str(g.as_str()))
                .unwrap_or(V::str(""))
        })
        .collect();
    o.insert("groups".into(), V::arr(groups));
    let next_from = if m.as_str().is_empty() { end + 1 } else { end };
    let total = s.chars().count();
    if next_from <= total {
        o.insert(
            "next".into(),
            V::Func(Rc::new(Func::RegexNext {
                re: re.clone(),
                text: s.clone(),
                from: next_from,
            })),
        );
    }
    Ok(Some(V::obj(o)))
}

/// Calls a function value with as many of `args` as it takes (the HOF convention of jsonata).
pub(crate) fn call_hof(cx: &Ctx, f: &V, args: Vec<Option<V>>, env: &Rc<Frame>) -> R {
    let arity = match f {
        V::Func(func) => func.arity(),
        _ => args.len(),
    };
    let mut args = args;
    args.truncate(arity.max(1));
    apply(cx, Some(f), args, None, env)
}

pub(crate) fn arr_items(v: &Option<V>) -> Vec<V> {
    match v {
        None => vec![],
        Some(V::Arr(a)) => a.items.clone(),
        Some(other) => vec![other.clone()],
    }
}

pub(crate) fn mk_arr(items: Vec<V>) -> V {
    V::Arr(Rc::new(Arr {
        items,
        ..Arr::default()
    }))
}

pub(crate) fn mk_seq(items: Vec<V>) -> Option<V> {
    Some(V::Arr(Rc::new(Arr {
        items,
        seq: true,
        ..Arr::default()
    })))
}
