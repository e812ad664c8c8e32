//! The transform operator `| pattern | update [, delete] |`: a function that deep-copies its
//! argument, evaluates `pattern` on the copy, and merges `update` into (and removes the keys
//! `delete` names from) each object matched, rebuilding the ancestors of what it changed.
//!
//! In: the operator's parsed parts ([`TransformDef`]), the scope it was created in, the object.
//! Out: the transformed copy (the argument itself is never changed), or T2011/T2012 when the
//! update or delete clause gives something other than an object / strings.

use std::rc::Rc;
use std::sync::Arc;

use super::apply::arr_items;
use super::ast::TransformDef;
use super::builtins::err_v;
use super::eval::{Ctx, R, eval};
use super::value::{Frame, ObjNode, V, deep_clone};

/// Replaces the object at `target` (by identity) inside `v`, recording rebuilt ancestors.
fn replace_obj(
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
