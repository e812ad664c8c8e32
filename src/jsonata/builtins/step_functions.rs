//! Step Functions' additions to JSONata: `$partition`, `$range`, `$hash`, `$random(seed)`,
//! `$uuid`, `$parse` (in that dialect `$random` takes a seed and `$eval` is gone).

use super::{Builtin, b, n0, n1, s0, s1};
use crate::jsonata::Error;
use crate::jsonata::apply::{CallCx, arr_items, mk_arr, mk_seq};
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::numfmt::describe;
use crate::jsonata::value::V;

/// The dialect's additions; in that dialect they shadow the plain built-ins of the same name.
pub(super) fn table() -> Vec<Builtin> {
    vec![
        b("partition", "<an:a>", partition),
        b("range", "<nnn?:a>", range),
        b("hash", "<s-s?:s>", hash),
        b("random", "<n?:n>", random_seeded),
        b("uuid", "<:s>", uuid),
        b("parse", "<s-:x>", parse_json),
    ]
}

fn partition(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(_) = &a[0] else { return Ok(None) };
    let size = n1(a, 1).unwrap_or(0.0);
    if size < 1.0 || size.fract() != 0.0 {
        let mut e = Error::new("D3137", None, None);
        e.message = "The size argument of $partition must be a positive integer".into();
        return Err(e);
    }
    let items = arr_items(&a[0]);
    cx.check_items(items.len())?;
    Ok(Some(
        cx.check_depth(mk_arr(
            items
                .chunks(size as usize)
                .map(|c| mk_arr(c.to_vec()))
                .collect(),
        ))?,
    ))
}

fn range(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let (Some(start), Some(end)) = (n0(a), n1(a, 1)) else {
        return Ok(None);
    };
    let step = n1(a, 2).unwrap_or(1.0);
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
        let mut e = Error::new("D3137", None, None);
        e.message = "The step argument of $range must be a non-zero number".into();
        return Err(e);
    }
    let n = ((end - start) / step).floor();
    if n < 0.0 {
        return Ok(mk_seq(vec![]));
    }
    cx.check_items(n as usize + 1)?;
    cx.charge_items(n as usize + 1)?;
    Ok(mk_seq(
        (0..=n as usize)
            .map(|i| V::Num(start + step * i as f64))
            .collect(),
    ))
}

fn hash(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let alg = s1(a, 1);
    let alg = alg.as_deref().unwrap_or("SHA-256");
    match crate::digest::hex_digest(alg, s.as_bytes()) {
        Some(hex) => Ok(Some(V::string(hex))),
        None => {
            let mut e = Error::new("D3137", None, None);
            e.message = format!("Unsupported hash algorithm: {alg}");
            Err(e)
        }
    }
}

fn random_seeded(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use rand::{Rng, SeedableRng};
    Ok(Some(V::Num(match n0(a) {
        Some(seed) => rand::rngs::StdRng::seed_from_u64(seed.to_bits()).r#gen::<f64>(),
        None => rand::random::<f64>(),
    })))
}

fn uuid(_: &Ctx, _: &[Option<V>], _: &CallCx) -> R {
    Ok(Some(V::string(uuid::Uuid::new_v4().to_string())))
}

fn parse_json(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    match crate::value::parse(&s) {
        Ok(v) => Ok(Some(crate::jsonata::value::from_value(&v))),
        Err(_) => {
            let mut e = Error::new("D3137", None, None);
            e.message = format!("Unable to parse JSON: {}", describe(&V::Str(s.clone())));
            Err(e)
        }
    }
}
