//! Built-ins about evaluation itself: `$type`, `$error`, `$assert` and `$eval` (plain JSONata
//! only: the Step Functions dialect has no `$eval`).

use std::rc::Rc;
use std::sync::Arc;

use super::{s0, s1};
use crate::jsonata::Error;
use crate::jsonata::apply::CallCx;
use crate::jsonata::eval::{Ctx, R, eval};
use crate::jsonata::parser;
use crate::jsonata::value::{Arr, V};

pub(crate) fn error(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Err(user_error("D3137", s0(a), "$error() function evaluated"))
}

pub(crate) fn assert(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    if !matches!(a[0], Some(V::Bool(true))) {
        return Err(user_error("D3141", s1(a, 1), "$assert() statement failed"));
    }
    Ok(None)
}

/// The error `code` with the caller's `message`, or `default` when the caller gave none.
fn user_error(code: &str, message: Option<Arc<str>>, default: &str) -> Error {
    let mut e = Error::new(code, None, None);
    e.message = message.map_or_else(|| default.into(), |s| s.to_string());
    e
}

pub(crate) fn type_of(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(a[0].as_ref().map(|v| {
        V::str(match v {
            V::Null => "null",
            V::Bool(_) => "boolean",
            V::Num(_) => "number",
            V::Str(_) => "string",
            V::Arr(_) => "array",
            V::Obj(_) => "object",
            V::Func(_) => "function",
        })
    }))
}

pub(crate) fn eval_fn(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(src) = s0(a) else { return Ok(None) };
    let (node, literals) =
        parser::parse_after(&src, cx.opts, cx.next_literals()).map_err(|e| wrapped("D3120", &e))?;
    cx.add_literals(literals);
    let input = if a.len() > 1 && a[1].is_some() {
        a[1].clone()
    } else {
        call.input.cloned()
    };
    let input = match input {
        Some(V::Arr(arr)) if !arr.seq => Some(V::Arr(Rc::new(Arr {
            items: vec![V::Arr(arr)],
            seq: true,
            outer: true,
            ..Arr::default()
        }))),
        other => other,
    };
    eval(&node, input.as_ref(), call.env, cx).map_err(|e| wrapped("D3121", &e))
}

/// `$eval`'s error `code` carrying the code of the error `inner` that caused it.
fn wrapped(code: &str, inner: &Error) -> Error {
    let mut x = Error::new(code, None, None);
    x.detail_mut().value = Some(inner.code.clone());
    x
}
