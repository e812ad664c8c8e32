//! Array and object built-ins: `$keys`, `$lookup`, `$spread`, `$merge`, `$reverse`, `$shuffle`,
//! `$distinct`, `$zip` (`$append`, `$exists`, `$clone` are one-liners in the table).

use std::rc::Rc;
use std::sync::Arc;

use crate::jsonata::apply::{CallCx, arr_items, mk_arr, mk_seq};
use crate::jsonata::eval::{Ctx, R, lookup_field};
use crate::jsonata::value::{Arr, Obj, V, append, deep_equal};

pub(crate) fn plain(v: V) -> V {
    match v {
        V::Arr(a) if a.seq => V::Arr(Rc::new(Arr {
            items: a.items.clone(),
            ..Arr::default()
        })),
        other => other,
    }
}

pub(crate) fn keys(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let mut out: Vec<Arc<str>> = Vec::new();
    match &a[0] {
        Some(V::Arr(arr)) => {
            for item in arr.items.iter() {
                if let V::Obj(o) = item {
                    for k in o.keys() {
                        if !out.contains(k) {
                            out.push(k.clone());
                        }
                    }
                }
            }
        }
        Some(V::Obj(o)) => out.extend(o.keys().cloned()),
        _ => {}
    }
    Ok(mk_seq(out.into_iter().map(V::Str).collect()))
}

pub(crate) fn lookup_all(v: Option<&V>, key: &str) -> Option<V> {
    match v? {
        V::Arr(a) => {
            let mut out = Vec::new();
            for item in a.items.iter() {
                match lookup_all(Some(item), key) {
                    Some(V::Arr(r)) => out.extend(r.items.iter().cloned()),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            mk_seq(out)
        }
        other => lookup_field(Some(other), key),
    }
}

pub(crate) fn spread(v: Option<&V>) -> Option<V> {
    match v? {
        V::Arr(a) => {
            let mut acc: Option<V> = mk_seq(vec![]);
            for item in a.items.iter() {
                acc = append(acc, spread(Some(item)));
            }
            acc
        }
        V::Obj(o) => {
            let items = o
                .iter()
                .map(|(k, x)| {
                    let mut m = Obj::default();
                    m.insert(k.clone(), x.clone());
                    V::obj(m)
                })
                .collect();
            mk_seq(items)
        }
        other => Some(other.clone()),
    }
}

pub(crate) fn merge(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    if a[0].is_none() {
        return Ok(None);
    }
    // PERF: the first object's table is cloned, not rehashed key by key
    // (`$merge([$states.input, {...}])`): with the JSON memo, w1_jsonata 213 µs → 132 µs
    let mut out: Option<Obj> = None;
    let mut base = None;
    for item in arr_items(&a[0]) {
        if let V::Obj(o) = item {
            match &mut out {
                None => {
                    out = Some(o.map.clone());
                    base = Some(o);
                }
                Some(m) => {
                    m.reserve(o.len());
                    for (k, v) in o.iter() {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Ok(Some(match base {
        Some(b) => V::obj_from(out.unwrap_or_default(), &b),
        None => V::obj(Obj::default()),
    }))
}

pub(crate) fn reverse(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(reordered(a, |items| items.reverse()))
}

pub(crate) fn shuffle(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use rand::seq::SliceRandom;
    Ok(reordered(a, |items| items.shuffle(&mut rand::thread_rng())))
}

/// The items of `a[0]` as a new array in the order `reorder` leaves them; `a[0]` itself when it
/// holds at most one item.
fn reordered(a: &[Option<V>], reorder: impl FnOnce(&mut Vec<V>)) -> Option<V> {
    let v = a[0].as_ref()?;
    let mut items = arr_items(&a[0]);
    if items.len() <= 1 {
        return Some(v.clone());
    }
    reorder(&mut items);
    Some(mk_arr(items))
}

pub(crate) fn distinct(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Arr(arr)) = &a[0] else {
        return Ok(a[0].clone());
    };
    if arr.items.len() <= 1 {
        return Ok(a[0].clone());
    }
    let mut out: Vec<V> = Vec::new();
    for x in arr.items.iter() {
        if !out.iter().any(|y| deep_equal(x, y)) {
            out.push(x.clone());
        }
    }
    Ok(Some(V::Arr(Rc::new(Arr {
        items: out,
        seq: arr.seq,
        ..Arr::default()
    }))))
}

pub(crate) fn zip(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let arrays: Vec<Vec<V>> = a.iter().map(arr_items).collect();
    let len = if a.iter().any(Option::is_none) {
        0
    } else {
        arrays.iter().map(Vec::len).min().unwrap_or(0)
    };
    Ok(Some(
        cx.check_depth(mk_arr(
            (0..len)
                .map(|i| mk_arr(arrays.iter().map(|x| x[i].clone()).collect()))
                .collect(),
        ))?,
    ))
}
