//! Numeric built-ins: `$sum`, `$count`, `$max`, `$min`, `$average`, `$round` (half to even),
//! `$sqrt`, `$power` (`$floor`, `$ceil`, `$abs` are one-liners in the table).

use super::{err_v, n0, n1};
use crate::jsonata::apply::{CallCx, arr_items};
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::numfmt;
use crate::jsonata::value::V;

fn nums(a: &Option<V>) -> Option<Vec<f64>> {
    a.as_ref()?;
    Some(arr_items(a).iter().filter_map(V::num).collect())
}

pub(crate) fn sum(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(nums(&a[0]).map(|v| V::Num(v.iter().sum())))
}

pub(crate) fn count(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(Some(V::Num(arr_items(&a[0]).len() as f64)))
}

pub(crate) fn max(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    on_nums(a, |v| v.iter().cloned().fold(f64::NEG_INFINITY, f64::max))
}

pub(crate) fn min(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    on_nums(a, |v| v.iter().cloned().fold(f64::INFINITY, f64::min))
}

pub(crate) fn average(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    on_nums(a, |v| v.iter().sum::<f64>() / v.len() as f64)
}

/// `f` of the numbers in the array argument; undefined when there are none.
fn on_nums(a: &[Option<V>], f: impl FnOnce(&[f64]) -> f64) -> R {
    Ok(nums(&a[0]).filter(|v| !v.is_empty()).map(|v| V::Num(f(&v))))
}

fn shift(x: f64, p: i32) -> f64 {
    let s = numfmt::js_number(x);
    let (m, e) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    format!("{m}e{}", e + p).parse().unwrap_or(f64::NAN)
}

pub(crate) fn round(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(mut x) = n0(a) else { return Ok(None) };
    let p = n1(a, 1).map(|p| p as i32).unwrap_or(0);
    if p != 0 {
        x = shift(x, p);
    }
    let mut r = (x + 0.5).floor();
    if (r - x).abs() == 0.5 && (r % 2.0).abs() == 1.0 {
        r -= 1.0;
    }
    if p != 0 {
        r = shift(r, -p);
    }
    if r == 0.0 {
        r = 0.0;
    }
    Ok(Some(V::Num(r)))
}

pub(crate) fn sqrt(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(x) = n0(a) else { return Ok(None) };
    if x < 0.0 {
        return Err(err_v("D3060", a[0].as_ref()));
    }
    Ok(Some(V::Num(x.sqrt())))
}

pub(crate) fn power(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(x) = n0(a) else { return Ok(None) };
    let e = n1(a, 1).unwrap_or(f64::NAN);
    let r = x.powf(e);
    if !r.is_finite() {
        let mut err = err_v("D3061", a[0].as_ref());
        err.detail_mut().value2 = Some(numfmt::js_number(e));
        return Err(err);
    }
    Ok(Some(V::Num(r)))
}
