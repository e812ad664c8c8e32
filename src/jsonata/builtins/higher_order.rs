//! Higher-order built-ins, which call a function argument: `$map`, `$filter`, `$single`,
//! `$reduce`, `$sift`, `$each`, `$sort` (its comparator is optional).

use std::sync::Arc;

use crate::jsonata::Error;
use crate::jsonata::apply::{CallCx, apply, arr_items, call_hof, mk_arr, mk_seq};
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::path::merge_sort;
use crate::jsonata::value::{Obj, V, truthy};

fn hof_args(v: V, i: usize, arr: &V) -> Vec<Option<V>> {
    vec![Some(v), Some(V::Num(i as f64)), Some(arr.clone())]
}

pub(crate) fn map(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let mut out = Vec::new();
    let is_some = each_item(cx, a, call, |_, r| out.extend(r))?;
    Ok(if is_some { mk_seq(out) } else { None })
}

pub(crate) fn filter(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let mut out = Vec::new();
    let is_some = each_item(cx, a, call, |v, r| {
        if truthy(r.as_ref()).unwrap_or(false) {
            out.push(v);
        }
    })?;
    Ok(if is_some { mk_seq(out) } else { None })
}

/// Calls the function `a[1]` as `f(item, index, array)` on each item of `a[0]` and hands `keep`
/// the item and the result; `false` when `a[0]` is undefined.
fn each_item(
    cx: &Ctx,
    a: &[Option<V>],
    call: &CallCx,
    mut keep: impl FnMut(V, Option<V>),
) -> Result<bool, Error> {
    let Some(arr) = &a[0] else { return Ok(false) };
    let f = a[1].clone().unwrap_or(V::Null);
    for (i, v) in arr_items(&a[0]).into_iter().enumerate() {
        let r = call_hof(cx, &f, hof_args(v.clone(), i, arr), call.env)?;
        keep(v, r);
    }
    Ok(true)
}

pub(crate) fn single(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(arr) = &a[0] else { return Ok(None) };
    let mut found: Option<V> = None;
    for (i, v) in arr_items(&a[0]).into_iter().enumerate() {
        let ok = match &a[1] {
            Some(f) => truthy(call_hof(cx, f, hof_args(v.clone(), i, arr), call.env)?.as_ref())
                .unwrap_or(false),
            None => true,
        };
        if ok {
            if found.is_some() {
                return Err(Error::new("D3138", None, None));
            }
            found = Some(v);
        }
    }
    match found {
        Some(v) => Ok(Some(v)),
        None => Err(Error::new("D3139", None, None)),
    }
}

pub(crate) fn reduce(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(seq) = &a[0] else { return Ok(None) };
    let f = a[1].clone().unwrap_or(V::Null);
    let arity = match &f {
        V::Func(func) => func.arity(),
        _ => 0,
    };
    if arity < 2 {
        return Err(Error::new("D3050", None, None));
    }
    let items = arr_items(&a[0]);
    let (mut acc, start) = match (&a[2], items.first()) {
        (None, Some(first)) => (Some(first.clone()), 1),
        (init, _) => (init.clone(), 0),
    };
    for (i, item) in items.iter().enumerate().skip(start) {
        let mut args = vec![acc, Some(item.clone())];
        if arity >= 3 {
            args.push(Some(V::Num(i as f64)));
        }
        if arity >= 4 {
            args.push(Some(seq.clone()));
        }
        acc = apply(cx, Some(&f), args, None, call.env)?;
    }
    Ok(acc)
}

pub(crate) fn sift(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let mut out = Obj::default();
    each_entry(cx, a, call, |k, v, r| {
        if truthy(r.as_ref()).unwrap_or(false) {
            out.insert(k.clone(), v.clone());
        }
    })?;
    Ok(if out.is_empty() {
        None
    } else {
        Some(V::obj(out))
    })
}

pub(crate) fn each(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let mut out = Vec::new();
    let is_object = each_entry(cx, a, call, |_, _, r| out.extend(r))?;
    Ok(if is_object { mk_seq(out) } else { None })
}

/// Calls the function `a[1]` as `f(value, key, object)` on each entry of the object `a[0]`
/// and hands `keep` the entry and the result; `false` when `a[0]` is not an object.
fn each_entry(
    cx: &Ctx,
    a: &[Option<V>],
    call: &CallCx,
    mut keep: impl FnMut(&Arc<str>, &V, Option<V>),
) -> Result<bool, Error> {
    let Some(V::Obj(o)) = &a[0] else {
        return Ok(false);
    };
    let f = a[1].clone().unwrap_or(V::Null);
    for (k, v) in o.iter() {
        let args = vec![Some(v.clone()), Some(V::Str(k.clone())), a[0].clone()];
        keep(k, v, call_hof(cx, &f, args, call.env)?);
    }
    Ok(true)
}

pub(crate) fn sort(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(v) = &a[0] else { return Ok(None) };
    let items = arr_items(&a[0]);
    if items.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    let sorted = match &a[1] {
        None => {
            let all_num = items.iter().all(|x| matches!(x, V::Num(_)));
            let all_str = items.iter().all(|x| matches!(x, V::Str(_)));
            if !all_num && !all_str {
                return Err(Error::new("D3070", None, None));
            }
            merge_sort(items, &mut |x, y| {
                Ok(match (x, y) {
                    (V::Num(p), V::Num(q)) => p > q,
                    (V::Str(p), V::Str(q)) => p > q,
                    _ => false,
                })
            })?
        }
        Some(f) => merge_sort(items, &mut |x, y| {
            let r = apply(
                cx,
                Some(f),
                vec![Some(x.clone()), Some(y.clone())],
                None,
                call.env,
            )?;
            Ok(truthy(r.as_ref()).unwrap_or(false))
        })?,
    };
    Ok(Some(mk_arr(sorted)))
}
