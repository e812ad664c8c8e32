//! Step Functions' additions to JSONata (`$partition`, `$range`, `$hash`, `$random(seed)`,
//! `$uuid`, `$parse`) and the function behind the transform operator `| pattern | update |`.

use std::rc::Rc;
use std::sync::Arc;

use super::Error;
use super::ast::TransformDef;
use super::eval::{Ctx, R, eval};
use super::functions::{CallCx, arr_items, describe, mk_arr, mk_seq};
use super::functions2::{err_v, n0, n1, s0, s1};
use super::value::{Frame, ObjNode, V, deep_clone};

// ---- Step Functions additions ----

pub(crate) fn partition(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

pub(crate) fn range(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

pub(crate) fn hash(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use sha2::Digest;
    let Some(s) = s0(a) else { return Ok(None) };
    let alg = s1(a, 1)
        .map(|x| x.to_string())
        .unwrap_or_else(|| "SHA-256".into());
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let out = match alg.as_str() {
        "MD5" => hex(&md5::Md5::digest(s.as_bytes())),
        "SHA-1" => hex(&sha1::Sha1::digest(s.as_bytes())),
        "SHA-256" => hex(&sha2::Sha256::digest(s.as_bytes())),
        "SHA-384" => hex(&sha2::Sha384::digest(s.as_bytes())),
        "SHA-512" => hex(&sha2::Sha512::digest(s.as_bytes())),
        other => {
            let mut e = Error::new("D3137", None, None);
            e.message = format!("Unsupported hash algorithm: {other}");
            return Err(e);
        }
    };
    Ok(Some(V::string(out)))
}

pub(crate) fn random_seeded(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use rand::{Rng, SeedableRng};
    Ok(Some(V::Num(match n0(a) {
        Some(seed) => rand::rngs::StdRng::seed_from_u64(seed.to_bits()).r#gen::<f64>(),
        None => rand::random::<f64>(),
    })))
}

pub(crate) fn uuid(_: &Ctx, _: &[Option<V>], _: &CallCx) -> R {
    Ok(Some(V::string(uuid::Uuid::new_v4().to_string())))
}

pub(crate) fn parse_json(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    match crate::value::parse(&s) {
        Ok(v) => Ok(Some(super::value::from_value(&v))),
        Err(_) => {
            let mut e = Error::new("D3137", None, None);
            e.message = format!("Unable to parse JSON: {}", describe(&V::Str(s.clone())));
            Err(e)
        }
    }
}

// ---- transform operator ----

/// Replaces the object at `target` (by identity) inside `v`, recording rebuilt ancestors.
pub(crate) fn replace_obj(
    v: &V,
    target: *const ObjNode,
    new: &V,
    remap: &mut Vec<(Rc<ObjNode>, V)>,
    depth: usize,
) -> Option<V> {
    if depth > 2000 {
        return None;
    }
    match v {
        V::Obj(o) => {
            if std::ptr::eq(Rc::as_ptr(o), target) {
                remap.push((o.clone(), new.clone()));
                return Some(new.clone());
            }
            for (i, (_, child)) in o.iter().enumerate() {
                if let Some(nc) = replace_obj(child, target, new, remap, depth + 1) {
                    let mut m = o.map.clone();
                    if let Some((_, slot)) = m.get_index_mut(i) {
                        *slot = nc;
                    }
                    let nv = V::obj(m);
                    remap.push((o.clone(), nv.clone()));
                    return Some(nv);
                }
            }
            None
        }
        V::Arr(a) => {
            for (i, child) in a.items.iter().enumerate() {
                if let Some(nc) = replace_obj(child, target, new, remap, depth + 1) {
                    let mut arr = (**a).clone();
                    arr.items[i] = nc;
                    return Some(V::Arr(Rc::new(arr)));
                }
            }
            None
        }
        _ => None,
    }
}

pub(crate) fn transform(cx: &Ctx, def: &Arc<TransformDef>, env: &Rc<Frame>, obj: Option<V>) -> R {
    let Some(obj) = obj else { return Ok(None) };
    let mut root = deep_clone(&obj, 0)?;
    let matches = eval(&def.pattern, Some(&root), env, cx)?;
    let matches = arr_items(&matches);
    let mut remap: Vec<(Rc<ObjNode>, V)> = Vec::new();
    for m in matches {
        let mut cur = m.clone();
        while let V::Obj(o) = &cur {
            let p = Rc::as_ptr(o);
            match remap
                .iter()
                .rev()
                .find(|(k, _)| std::ptr::eq(Rc::as_ptr(k), p))
            {
                Some((_, nv)) => cur = nv.clone(),
                None => break,
            }
        }
        let upd = eval(&def.update, Some(&cur), env, cx)?;
        let V::Obj(co) = &cur else {
            if let Some(u) = &upd
                && !matches!(u, V::Obj(_))
            {
                let mut e = err_v("T2011", Some(u));
                e.position = Some(def.update.pos);
                return Err(e);
            }
            continue;
        };
        let mut newo = co.map.clone();
        match upd {
            None => {}
            Some(V::Obj(u)) => {
                for (k, v) in u.iter() {
                    newo.insert(k.clone(), v.clone());
                }
            }
            Some(other) => {
                let mut e = err_v("T2011", Some(&other));
                e.position = Some(def.update.pos);
                return Err(e);
            }
        }
        if let Some(del) = &def.delete {
            let tmp = V::obj(newo.clone());
            let dels = eval(del, Some(&tmp), env, cx)?;
            if let Some(d) = &dels {
                let list = arr_items(&dels);
                if !list.iter().all(|x| matches!(x, V::Str(_))) {
                    let mut e = err_v("T2012", Some(d));
                    e.position = Some(del.pos);
                    return Err(e);
                }
                for k in list {
                    if let V::Str(k) = k {
                        newo.shift_remove(&k);
                    }
                }
            }
        }
        let newv = cx.check_depth(V::obj(newo))?;
        if let Some(r) = replace_obj(&root, Rc::as_ptr(co), &newv, &mut remap, 0) {
            root = r;
        }
    }
    Ok(Some(root))
}
