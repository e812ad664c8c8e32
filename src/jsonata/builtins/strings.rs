//! String built-ins: `$string`, `$substring*`, `$pad`, `$trim`, `$match`, `$contains`,
//! `$replace`, `$split`, `$join`, `$number`, base64 and URL encoding.

use std::rc::Rc;
use std::sync::Arc;

use super::{err_v, n1, s0, s1};
use crate::jsonata::Error;
use crate::jsonata::apply::{CallCx, apply, arr_items, mk_arr, mk_seq};
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::numfmt::{describe, to_string};
use crate::jsonata::value::{Frame, Obj, V};

pub(crate) fn string(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(v) = &a[0] else { return Ok(None) };
    let pretty = matches!(a.get(1), Some(Some(V::Bool(true))));
    Ok(Some(V::string(to_string(v, pretty)?)))
}

pub(crate) fn js_int(x: f64) -> i64 {
    if x.is_nan() {
        0
    } else {
        x.trunc().clamp(-1e15, 1e15) as i64
    }
}

pub(crate) fn substring(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

pub(crate) fn substring_before(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let c = s1(a, 1).unwrap_or_default();
    Ok(Some(match s.find(&*c) {
        Some(p) => V::str(&s[..p]),
        None => V::Str(s),
    }))
}

pub(crate) fn substring_after(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(s) = s0(a) else { return Ok(None) };
    let c = s1(a, 1).unwrap_or_default();
    Ok(Some(match s.find(&*c) {
        Some(p) => V::str(&s[p + c.len()..]),
        None => V::Str(s),
    }))
}

pub(crate) fn trim(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

pub(crate) fn pad(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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
    cx.charge_bytes(n.saturating_mul(ch.len()))?;
    let padding: String = ch.chars().cycle().take(n).collect();
    Ok(Some(V::string(if width < 0.0 {
        format!("{padding}{s}")
    } else {
        format!("{s}{padding}")
    })))
}

pub(crate) fn limit_arg(a: &[Option<V>], i: usize, code: &str) -> Result<Option<f64>, Error> {
    match n1(a, i) {
        Some(l) if l < 0.0 => Err(err_v(code, Some(&V::Num(l)))),
        other => Ok(other),
    }
}

pub(crate) fn match_fn(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
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
            let mut r = Obj::default();
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

pub(crate) fn contains(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
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
pub(crate) fn all_matches(
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

pub(crate) fn check_match(m: Option<V>) -> Result<Option<V>, Error> {
    match &m {
        None => Ok(None),
        Some(V::Obj(o)) if o.get("match").is_some() && o.get("start").is_some() => Ok(m),
        Some(_) => Err(Error::new("T1010", None, None)),
    }
}

pub(crate) fn char_slice(chars: &[char], from: usize, to: usize) -> String {
    let to = to.min(chars.len());
    if from >= to {
        String::new()
    } else {
        chars[from..to].iter().collect()
    }
}

pub(crate) fn substitute(repl: &str, m: &Obj) -> String {
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

pub(crate) fn replace(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
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
    cx.charge_bytes(out.len())?;
    Ok(Some(V::string(out)))
}

pub(crate) fn split(cx: &Ctx, a: &[Option<V>], call: &CallCx) -> R {
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

pub(crate) fn join(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    if a[0].is_none() {
        return Ok(None);
    }
    let sep = s1(a, 1).unwrap_or_default();
    let parts: Vec<String> = arr_items(&a[0])
        .iter()
        .filter_map(|v| v.as_str().map(|s| s.to_string()))
        .collect();
    let joined = parts.join(&sep);
    cx.charge_bytes(joined.len())?;
    Ok(Some(V::string(joined)))
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

pub(crate) fn number(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

pub(crate) fn base64encode(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    use base64::Engine;
    Ok(s0(a).map(|s| V::string(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))))
}

pub(crate) fn base64decode(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
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

pub(crate) fn url(a: &[Option<V>], name: &str, encode: bool, component: bool) -> R {
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
