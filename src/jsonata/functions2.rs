//! The built-in functions of JSONata 2.0.6 (string, numeric, array, object, higher-order), the
//! Step Functions additions, and the transform operator's function.

use std::rc::Rc;
use std::sync::Arc;

use super::ast::TransformDef;
use super::eval::{Ctx, R, eval, lookup_field, merge_sort};
use super::functions::{
    Builtin, CallCx, apply, arr_items, builtin as b, call_hof, describe, mk_arr, mk_seq, to_string,
};
use super::value::{Arr, Frame, Obj, V, append, deep_clone, deep_equal, truthy};
use super::{Error, numfmt};

pub(crate) fn table() -> Vec<Builtin> {
    vec![
        b("sum", "<a<n>:n>", sum),
        b("count", "<a:n>", count),
        b("max", "<a<n>:n>", max),
        b("min", "<a<n>:n>", min),
        b("average", "<a<n>:n>", average),
        b("string", "<x-b?:s>", string),
        b("substring", "<s-nn?:s>", substring),
        b("substringBefore", "<s-s:s>", substring_before),
        b("substringAfter", "<s-s:s>", substring_after),
        b("lowercase", "<s-:s>", |_, a, _| {
            Ok(s0(a).map(|s| V::string(s.to_lowercase())))
        }),
        b("uppercase", "<s-:s>", |_, a, _| {
            Ok(s0(a).map(|s| V::string(s.to_uppercase())))
        }),
        b("length", "<s-:n>", |_, a, _| {
            Ok(s0(a).map(|s| V::Num(s.chars().count() as f64)))
        }),
        b("trim", "<s-:s>", trim),
        b("pad", "<s-ns?:s>", pad),
        b("match", "<s-f<s:o>n?:a<o>>", match_fn),
        b("contains", "<s-(sf):b>", contains),
        b("replace", "<s-(sf)(sf)n?:s>", replace),
        b("split", "<s-(sf)n?:a<s>>", split),
        b("join", "<a<s>s?:s>", join),
        b("number", "<(nsb)-:n>", number),
        b("floor", "<n-:n>", |_, a, _| {
            Ok(n0(a).map(|x| V::Num(x.floor())))
        }),
        b("ceil", "<n-:n>", |_, a, _| {
            Ok(n0(a).map(|x| V::Num(x.ceil())))
        }),
        b("round", "<n-n?:n>", round),
        b(
            "abs",
            "<n-:n>",
            |_, a, _| Ok(n0(a).map(|x| V::Num(x.abs()))),
        ),
        b("sqrt", "<n-:n>", sqrt),
        b("power", "<n-n:n>", power),
        b("random", "<:n>", |_, _, _| {
            Ok(Some(V::Num(rand::random::<f64>())))
        }),
        b("boolean", "<x-:b>", |_, a, _| {
            Ok(truthy(a[0].as_ref()).map(V::Bool))
        }),
        b("not", "<x-:b>", |_, a, _| {
            Ok(truthy(a[0].as_ref()).map(|x| V::Bool(!x)))
        }),
        b("map", "<af>", map),
        b("zip", "<a+>", zip),
        b("filter", "<af>", filter),
        b("single", "<af?>", single),
        b("reduce", "<afj?:j>", reduce),
        b("sift", "<o-f?:o>", sift),
        b("keys", "<x-:a<s>>", keys),
        b("lookup", "<x-s:x>", |_, a, _| {
            Ok(lookup_all(a[0].as_ref(), s1(a, 1).as_deref().unwrap_or("")))
        }),
        b("append", "<xx:a>", |_, a, _| {
            Ok(append(a[0].clone(), a[1].clone()).map(plain))
        }),
        b("exists", "<x:b>", |_, a, _| {
            Ok(Some(V::Bool(a[0].is_some())))
        }),
        b("spread", "<x-:a<o>>", |_, a, _| Ok(spread(a[0].as_ref()))),
        b("merge", "<a<o>:o>", merge),
        b("reverse", "<a:a>", reverse),
        b("each", "<o-f:a>", each),
        b("error", "<s?:x>", error),
        b("assert", "<bs?:x>", assert),
        b("type", "<x:s>", type_of),
        b("sort", "<af?:a>", sort),
        b("shuffle", "<a:a>", shuffle),
        b("distinct", "<x:x>", distinct),
        b("base64encode", "<s-:s>", base64encode),
        b("base64decode", "<s-:s>", base64decode),
        b("encodeUrlComponent", "<s-:s>", |_, a, _| {
            url(a, "encodeUrlComponent", true, true)
        }),
        b("encodeUrl", "<s-:s>", |_, a, _| {
            url(a, "encodeUrl", true, false)
        }),
        b("decodeUrlComponent", "<s-:s>", |_, a, _| {
            url(a, "decodeUrlComponent", false, true)
        }),
        b("decodeUrl", "<s-:s>", |_, a, _| {
            url(a, "decodeUrl", false, false)
        }),
        b("eval", "<sx?:x>", eval_fn),
        b("clone", "<(oa)-:o>", |_, a, _| {
            a[0].as_ref().map(|v| deep_clone(v, 0)).transpose()
        }),
    ]
}

fn plain(v: V) -> V {
    match v {
        V::Arr(a) if a.seq => V::Arr(Rc::new(Arr {
            items: a.items.clone(),
            ..Arr::default()
        })),
        other => other,
    }
}

fn s0(a: &[Option<V>]) -> Option<Arc<str>> {
    s1(a, 0)
}

fn s1(a: &[Option<V>], i: usize) -> Option<Arc<str>> {
    match a.get(i) {
        Some(Some(V::Str(s))) => Some(s.clone()),
        _ => None,
    }
}

fn n0(a: &[Option<V>]) -> Option<f64> {
    n1(a, 0)
}

fn n1(a: &[Option<V>], i: usize) -> Option<f64> {
    match a.get(i) {
        Some(Some(V::Num(x))) => Some(*x),
        _ => None,
    }
}

fn err_v(code: &str, v: Option<&V>) -> Error {
    let mut e = Error::new(code, None, None);
    e.detail_mut().value = v.map(describe);
    e
}

fn nums(a: &Option<V>) -> Option<Vec<f64>> {
    a.as_ref()?;
    Some(arr_items(a).iter().filter_map(V::num).collect())
}

fn sum(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(nums(&a[0]).map(|v| V::Num(v.iter().sum())))
}

fn count(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(Some(V::Num(arr_items(&a[0]).len() as f64)))
}

fn max(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(nums(&a[0])
        .filter(|v| !v.is_empty())
        .map(|v| V::Num(v.iter().cloned().fold(f64::NEG_INFINITY, f64::max))))
}

fn min(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(nums(&a[0])
        .filter(|v| !v.is_empty())
        .map(|v| V::Num(v.iter().cloned().fold(f64::INFINITY, f64::min))))
}

fn average(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(nums(&a[0])
        .filter(|v| !v.is_empty())
        .map(|v| V::Num(v.iter().sum::<f64>() / v.len() as f64)))
}

fn string(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(v) = &a[0] else { return Ok(None) };
    let pretty = matches!(a.get(1), Some(Some(V::Bool(true))));
    Ok(Some(V::string(to_string(v, pretty)?)))
}

fn js_int(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else {
        x.trunc().clamp(-1e15, 1e15) as i64
    }
}

fn substring(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let mut start = js_int(n1(a, 1).unwrap_or(0.0));
    if len + start < 0 {
        start = 0;
    }
    let slice = |from: i64, to: i64| -> String {
        let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
        let (f, t) = (norm(from), norm(to));
        if f >= t {
            String::new()
        } else {
            chars[f as usize..t as usize].iter().collect()
        }
    };
    let out = match n1(a, 2) {
        Some(l) => {
            if l <= 0.0 {
                String::new()
            } else {
                let l = if l.is_infinite() { len } else { js_int(l) };
                let end = if start >= 0 {
                    start + l
                } else {
                    len + start + l
                };
                slice(start, end)
            }
        }
        None => slice(start, len),
    };
    Ok(Some(V::string(out)))
}

fn substring_before(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let c = s1(a, 1).unwrap_or_default();
    Ok(Some(match s.find(&*c) {
        Some(p) => V::str(&s[..p]),
        None => V::Str(s),
    }))
}

fn substring_after(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let c = s1(a, 1).unwrap_or_default();
    Ok(Some(match s.find(&*c) {
        Some(p) => V::str(&s[p + c.len()..]),
        None => V::Str(s),
    }))
}

fn trim(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let mut out = String::new();
    let mut ws = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            ws = true;
        } else {
            if ws {
                out.push(' ');
            }
            ws = false;
            out.push(c);
        }
    }
    if ws {
        out.push(' ');
    }
    let out = out.strip_prefix(' ').unwrap_or(&out).to_string();
    let out = out.strip_suffix(' ').unwrap_or(&out).to_string();
    Ok(Some(V::string(out)))
}

fn pad(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let width = n1(a, 1).unwrap_or(0.0);
    let ch = s1(a, 2)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| Arc::from(" "));
    let size = js_int(width.abs()).max(0) as usize;
    let len = s.chars().count();
    if size <= len {
        return Ok(Some(V::Str(s)));
    }
    let n = size - len;
    cx.check_string(n * 4)?;
    let padding: String = ch.chars().cycle().take(n).collect();
    Ok(Some(V::string(if width < 0.0 {
        format!("{padding}{s}")
    } else {
        format!("{s}{padding}")
    })))
}

fn limit_arg(a: &[Option<V>], i: usize, code: &str) -> Result<Option<f64>, Error> {
    match n1(a, i) {
        Some(l) if l < 0.0 => Err(err_v(code, Some(&V::Num(l)))),
        other => Ok(other),
    }
}

fn match_fn(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let limit = limit_arg(a, 2, "D3040")?;
    let mut out = Vec::new();
    if limit.is_none_or(|l| l > 0.0) {
        let mut m = check_match(apply(
            cx,
            a[1].as_ref(),
            vec![Some(V::Str(s))],
            None,
            call.env,
        )?)?;
        while let Some(V::Obj(o)) = &m {
            if limit.is_some_and(|l| out.len() as f64 >= l) {
                break;
            }
            let mut r = Obj::new();
            r.insert(
                "match".into(),
                o.get("match").cloned().unwrap_or(V::str("")),
            );
            r.insert(
                "index".into(),
                o.get("start").cloned().unwrap_or(V::Num(0.0)),
            );
            r.insert(
                "groups".into(),
                o.get("groups").cloned().unwrap_or(V::arr(vec![])),
            );
            out.push(V::obj(r));
            m = match o.get("next") {
                Some(next) => check_match(apply(cx, Some(next), vec![], None, call.env)?)?,
                None => None,
            };
        }
    }
    Ok(mk_seq(out))
}

fn contains(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    Ok(Some(V::Bool(match &a[1] {
        Some(V::Str(t)) => s.contains(&**t),
        other => check_match(apply(
            cx,
            other.as_ref(),
            vec![Some(V::Str(s))],
            None,
            call.env,
        )?)?
        .is_some(),
    })))
}

/// Matches of `pattern` (a matcher function) over `s` as (start char, end char, match, groups).
fn all_matches(
    cx: &Ctx,
    pattern: &V,
    s: &Arc<str>,
    env: &Rc<Frame>,
    limit: Option<f64>,
) -> Result<Vec<(usize, usize, V)>, Error> {
    let mut out = Vec::new();
    let mut m = check_match(apply(
        cx,
        Some(pattern),
        vec![Some(V::Str(s.clone()))],
        None,
        env,
    )?)?;
    while let Some(V::Obj(o)) = &m {
        if limit.is_some_and(|l| out.len() as f64 >= l) {
            break;
        }
        let start = o.get("start").and_then(V::num).unwrap_or(0.0) as usize;
        let mlen = o
            .get("match")
            .and_then(|x| x.as_str().map(|s| s.chars().count()))
            .unwrap_or(0);
        out.push((start, start + mlen, V::Obj(o.clone())));
        m = match o.get("next") {
            Some(next) => check_match(apply(cx, Some(next), vec![], None, env)?)?,
            None => None,
        };
        cx.check_items(out.len())?;
    }
    Ok(out)
}

fn check_match(m: Option<V>) -> Result<Option<V>, Error> {
    match &m {
        None => Ok(None),
        Some(V::Obj(o)) if o.get("match").is_some() && o.get("start").is_some() => Ok(m),
        Some(_) => Err(Error::new("T1010", None, None)),
    }
}

fn char_slice(chars: &[char], from: usize, to: usize) -> String {
    let to = to.min(chars.len());
    if from >= to {
        String::new()
    } else {
        chars[from..to].iter().collect()
    }
}

fn substitute(repl: &str, m: &Obj) -> String {
    let groups: Vec<V> = match m.get("groups") {
        Some(V::Arr(g)) => g.items.clone(),
        _ => vec![],
    };
    let whole = m
        .get("match")
        .and_then(|x| x.as_str().cloned())
        .unwrap_or_default();
    let r: Vec<char> = repl.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < r.len() {
        if r[i] != '$' {
            out.push(r[i]);
            i += 1;
            continue;
        }
        i += 1;
        match r.get(i) {
            Some('$') => {
                out.push('$');
                i += 1;
            }
            Some('0') => {
                out.push_str(&whole);
                i += 1;
            }
            _ => {
                let max_digits = if groups.is_empty() {
                    1
                } else {
                    (groups.len() as f64).log10().floor() as usize + 1
                };
                let take = |n: usize| -> Option<usize> {
                    let d: String = r[i..(i + n).min(r.len())]
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    d.parse().ok()
                };
                let mut idx = take(max_digits);
                if max_digits > 1 && idx.is_some_and(|x| x > groups.len()) {
                    idx = take(max_digits - 1);
                }
                match idx {
                    Some(ix) => {
                        if ix >= 1
                            && let Some(V::Str(g)) = groups.get(ix - 1)
                        {
                            out.push_str(g);
                        }
                        i += ix.to_string().len();
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    out
}

fn replace(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    if matches!(&a[1], Some(V::Str(p)) if p.is_empty()) {
        return Err(err_v("D3010", a[1].as_ref()));
    }
    let limit = limit_arg(a, 3, "D3011")?;
    if limit.is_some_and(|l| l == 0.0) {
        return Ok(Some(V::Str(s)));
    }
    let mut out = String::new();
    match &a[1] {
        Some(V::Str(p)) => {
            let repl = match &a[2] {
                Some(V::Str(r)) => r.to_string(),
                Some(other) => to_string(other, false)?,
                None => String::new(),
            };
            let mut rest: &str = &s;
            let mut n = 0.0;
            while let Some(pos) = rest.find(&**p) {
                if limit.is_some_and(|l| n >= l) {
                    break;
                }
                out.push_str(&rest[..pos]);
                out.push_str(&repl);
                rest = &rest[pos + p.len()..];
                n += 1.0;
                cx.check_string(out.len())?;
            }
            out.push_str(rest);
        }
        Some(pat) => {
            let chars: Vec<char> = s.chars().collect();
            let ms = all_matches(cx, pat, &s, call.env, limit)?;
            let mut pos = 0;
            for (start, end, m) in ms {
                out.push_str(&char_slice(&chars, pos, start));
                let V::Obj(mo) = &m else { continue };
                match &a[2] {
                    Some(V::Str(r)) => out.push_str(&substitute(r, mo)),
                    f => match apply(cx, f.as_ref(), vec![Some(m.clone())], None, call.env)? {
                        Some(V::Str(x)) => out.push_str(&x),
                        other => return Err(err_v("D3012", other.as_ref())),
                    },
                }
                cx.check_string(out.len())?;
                pos = end;
            }
            out.push_str(&char_slice(&chars, pos, chars.len()));
        }
        None => return Ok(Some(V::Str(s))),
    }
    Ok(Some(V::string(out)))
}

fn split(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let limit = limit_arg(a, 2, "D3020")?.map(|l| l.floor());
    let mut out: Vec<V> = Vec::new();
    if limit.is_none_or(|l| l > 0.0) {
        match &a[1] {
            Some(V::Str(sep)) => {
                let parts: Vec<String> = if sep.is_empty() {
                    s.chars().map(|c| c.to_string()).collect()
                } else {
                    s.split(&**sep).map(str::to_string).collect()
                };
                out = parts.into_iter().map(V::string).collect();
                if let Some(l) = limit {
                    out.truncate(l as usize);
                }
            }
            Some(pat) => {
                let chars: Vec<char> = s.chars().collect();
                let ms = all_matches(cx, pat, &s, call.env, limit)?;
                let mut pos = 0;
                let n = ms.len();
                for (start, end, _) in ms {
                    out.push(V::string(char_slice(&chars, pos, start)));
                    pos = end;
                }
                if limit.is_none_or(|l| (n as f64) < l) {
                    out.push(V::string(char_slice(&chars, pos, chars.len())));
                }
            }
            None => {}
        }
    }
    Ok(Some(mk_arr(out)))
}

fn join(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    if a[0].is_none() {
        return Ok(None);
    }
    let sep = s1(a, 1).unwrap_or_default();
    let parts: Vec<String> = arr_items(&a[0])
        .iter()
        .filter_map(|v| v.as_str().map(|s| s.to_string()))
        .collect();
    Ok(Some(V::string(parts.join(&sep))))
}

/// `$number` of a string: JSON number syntax, or 0x/0o/0b integers.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let json_like = i > digits_start
        && b.len() < 400
        && {
            if b.get(i) == Some(&b'.') {
                i += 1;
                let f = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                i > f
            } else {
                true
            }
        }
        && {
            if matches!(b.get(i), Some(b'e' | b'E')) {
                i += 1;
                if matches!(b.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                let f = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                i > f
            } else {
                true
            }
        }
        && i == b.len();
    if json_like {
        return s.parse::<f64>().ok().filter(|x| x.is_finite());
    }
    let radix = |p: &str, r: u32| u64::from_str_radix(p, r).ok().map(|x| x as f64);
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return radix(h, 16);
    }
    if let Some(o) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        return radix(o, 8);
    }
    if let Some(bn) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        return radix(bn, 2);
    }
    None
}

fn number(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    Ok(match &a[0] {
        None => None,
        Some(V::Num(x)) => Some(V::Num(*x)),
        Some(V::Bool(b)) => Some(V::Num(if *b { 1.0 } else { 0.0 })),
        Some(V::Str(s)) => match parse_number(s) {
            Some(x) => Some(V::Num(x)),
            None => return Err(err_v("D3030", a[0].as_ref())),
        },
        Some(other) => return Err(err_v("D3030", Some(other))),
    })
}

fn shift(x: f64, p: i32) -> f64 {
    let s = numfmt::js_number(x);
    let (m, e) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    format!("{m}e{}", e + p).parse().unwrap_or(f64::NAN)
}

fn round(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

fn sqrt(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(x) = n0(a) else { return Ok(None) };
    if x < 0.0 {
        return Err(err_v("D3060", a[0].as_ref()));
    }
    Ok(Some(V::Num(x.sqrt())))
}

fn power(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

fn hof_args(f: &V, v: V, i: usize, arr: &V) -> Vec<Option<V>> {
    let _ = f;
    vec![Some(v), Some(V::Num(i as f64)), Some(arr.clone())]
}

fn map(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(arr) = &a[0] else { return Ok(None) };
    let f = a[1].clone().unwrap_or(V::Null);
    let mut out = Vec::new();
    for (i, v) in arr_items(&a[0]).into_iter().enumerate() {
        if let Some(r) = call_hof(cx, &f, hof_args(&f, v, i, arr), call.env)? {
            out.push(r);
        }
    }
    Ok(mk_seq(out))
}

fn filter(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(arr) = &a[0] else { return Ok(None) };
    let f = a[1].clone().unwrap_or(V::Null);
    let mut out = Vec::new();
    for (i, v) in arr_items(&a[0]).into_iter().enumerate() {
        let r = call_hof(cx, &f, hof_args(&f, v.clone(), i, arr), call.env)?;
        if truthy(r.as_ref()).unwrap_or(false) {
            out.push(v);
        }
    }
    Ok(mk_seq(out))
}

fn single(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(arr) = &a[0] else { return Ok(None) };
    let mut found: Option<V> = None;
    for (i, v) in arr_items(&a[0]).into_iter().enumerate() {
        let ok = match &a[1] {
            Some(f) => truthy(call_hof(cx, f, hof_args(f, v.clone(), i, arr), call.env)?.as_ref())
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

fn reduce(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
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

fn sift(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(V::Obj(o)) = &a[0] else {
        return Ok(None);
    };
    let f = a[1].clone().unwrap_or(V::Null);
    let mut out = Obj::new();
    for (k, v) in o.iter() {
        let r = call_hof(
            cx,
            &f,
            vec![Some(v.clone()), Some(V::Str(k.clone())), a[0].clone()],
            call.env,
        )?;
        if truthy(r.as_ref()).unwrap_or(false) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(if out.is_empty() {
        None
    } else {
        Some(V::obj(out))
    })
}

fn each(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(V::Obj(o)) = &a[0] else {
        return Ok(None);
    };
    let f = a[1].clone().unwrap_or(V::Null);
    let mut out = Vec::new();
    for (k, v) in o.iter() {
        let r = call_hof(
            cx,
            &f,
            vec![Some(v.clone()), Some(V::Str(k.clone())), a[0].clone()],
            call.env,
        )?;
        if let Some(r) = r {
            out.push(r);
        }
    }
    Ok(mk_seq(out))
}

fn keys(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

fn lookup_all(v: Option<&V>, key: &str) -> Option<V> {
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

fn spread(v: Option<&V>) -> Option<V> {
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
                    let mut m = Obj::new();
                    m.insert(k.clone(), x.clone());
                    V::obj(m)
                })
                .collect();
            mk_seq(items)
        }
        other => Some(other.clone()),
    }
}

fn merge(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    if a[0].is_none() {
        return Ok(None);
    }
    let mut out = Obj::new();
    for item in arr_items(&a[0]) {
        if let V::Obj(o) = item {
            for (k, v) in o.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Some(V::obj(out)))
}

fn reverse(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(v) = &a[0] else { return Ok(None) };
    let mut items = arr_items(&a[0]);
    if items.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    items.reverse();
    Ok(Some(mk_arr(items)))
}

fn error(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let mut e = Error::new("D3137", None, None);
    e.message = s0(a)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "$error() function evaluated".into());
    Err(e)
}

fn assert(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    if !matches!(a[0], Some(V::Bool(true))) {
        let mut e = Error::new("D3141", None, None);
        e.message = s1(a, 1)
            .map(|s| s.to_string())
            .unwrap_or_else(|| "$assert() statement failed".into());
        return Err(e);
    }
    Ok(None)
}

fn type_of(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

fn sort(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
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

fn shuffle(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use rand::seq::SliceRandom;
    let Some(v) = &a[0] else { return Ok(None) };
    let mut items = arr_items(&a[0]);
    if items.len() <= 1 {
        return Ok(Some(v.clone()));
    }
    items.shuffle(&mut rand::thread_rng());
    Ok(Some(mk_arr(items)))
}

fn distinct(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

fn zip(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let arrays: Vec<Vec<V>> = a.iter().map(arr_items).collect();
    let len = if a.iter().any(Option::is_none) {
        0
    } else {
        arrays.iter().map(Vec::len).min().unwrap_or(0)
    };
    Ok(Some(mk_arr(
        (0..len)
            .map(|i| mk_arr(arrays.iter().map(|x| x[i].clone()).collect()))
            .collect(),
    )))
}

fn base64encode(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use base64::Engine;
    Ok(s0(a).map(|s| V::string(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))))
}

fn base64decode(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use base64::Engine;
    let Some(s) = s0(a) else { return Ok(None) };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(
            s.trim_end_matches('=').to_string()
                + &"=".repeat((4 - s.trim_end_matches('=').len() % 4) % 4),
        )
        .unwrap_or_default();
    Ok(Some(V::string(
        String::from_utf8_lossy(&bytes).into_owned(),
    )))
}

fn url(a: &[Option<V>], name: &str, encode: bool, component: bool) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let keep = |c: char| {
        c.is_ascii_alphanumeric()
            || "-_.!~*'()".contains(c)
            || (!component && ";,/?:@&=+$#".contains(c))
    };
    if encode {
        let mut out = String::new();
        for c in s.chars() {
            if keep(c) {
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        return Ok(Some(V::string(out)));
    }
    let bad = || {
        let mut e = Error::new("D3140", None, None);
        e.message = format!(
            "Malformed URL passed to ${name}(): {}",
            describe(&V::Str(s.clone()))
        );
        e
    };
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(bad)?;
            let byte = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
            if !component && byte < 0x80 && ";,/?:@&=+$#".contains(byte as char) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(byte);
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(|x| Some(V::string(x)))
        .map_err(|_| bad())
}

fn eval_fn(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
    let Some(src) = s0(a) else { return Ok(None) };
    let node = super::parser::parse(&src).map_err(|e| {
        let mut x = Error::new("D3120", None, None);
        x.detail_mut().value = Some(e.code.clone());
        x
    })?;
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
    eval(&node, input.as_ref(), call.env, cx).map_err(|e| {
        let mut x = Error::new("D3121", None, None);
        x.detail_mut().value = Some(e.code.clone());
        x
    })
}

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
    Ok(Some(mk_arr(
        items
            .chunks(size as usize)
            .map(|c| mk_arr(c.to_vec()))
            .collect(),
    )))
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
fn replace_obj(
    v: &V,
    target: *const Obj,
    new: &V,
    remap: &mut Vec<(Rc<Obj>, V)>,
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
                    let mut m = (**o).clone();
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
    let mut remap: Vec<(Rc<Obj>, V)> = Vec::new();
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
        let mut newo = (**co).clone();
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
        let newv = V::obj(newo);
        if let Some(r) = replace_obj(&root, Rc::as_ptr(co), &newv, &mut remap, 0) {
            root = r;
        }
    }
    Ok(Some(root))
}
