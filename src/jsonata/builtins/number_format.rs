//! Number formatting built-ins: `$formatNumber` (XPath F&O 4.7 pictures), `$formatBase`, and the
//! `$formatInteger`/`$parseInteger` pair (see `integer_format`).

use super::{Builtin, b};
use crate::jsonata::Error;
use crate::jsonata::apply::CallCx;
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::value::V;

pub(crate) fn table() -> Vec<Builtin> {
    vec![
        b("formatNumber", "<n-so?:s>", format_number),
        b("formatBase", "<n-n?:s>", format_base),
        b(
            "formatInteger",
            "<n-s:s>",
            super::integer_format::format_integer_fn,
        ),
        b(
            "parseInteger",
            "<s-s:n>",
            super::integer_format::parse_integer_fn,
        ),
    ]
}

/// jsonata's banker's rounding to `precision` decimal places (shared with `$round`).
pub(crate) fn round_half_even(x: f64, precision: i32) -> f64 {
    let shift = |x: f64, p: i32| -> f64 {
        let s = crate::jsonata::numfmt::js_number(x);
        let (m, e) = match s.split_once('e') {
            Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
            None => (s, 0),
        };
        format!("{m}e{}", e + p).parse().unwrap_or(f64::NAN)
    };
    let mut v = if precision != 0 {
        shift(x, precision)
    } else {
        x
    };
    let mut r = (v + 0.5).floor();
    if (r - v).abs() == 0.5 && (r % 2.0).abs() == 1.0 {
        r -= 1.0;
    }
    if precision != 0 {
        r = shift(r, -precision);
    }
    if r == 0.0 {
        r = 0.0;
    }
    v = r;
    v
}

fn format_base(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Num(x)) = a[0] else {
        return Ok(None);
    };
    let x = round_half_even(x, 0);
    let radix = match a.get(1) {
        Some(Some(V::Num(r))) => *r,
        _ => 10.0,
    };
    if !(2.0..=36.0).contains(&radix) {
        let mut e = Error::new("D3100", None, None);
        e.detail_mut().value = Some(crate::jsonata::numfmt::js_number(radix));
        return Err(e);
    }
    let radix = radix as u32;
    let neg = x < 0.0;
    let mut n = x.abs();
    let mut digits = Vec::new();
    if n == 0.0 {
        digits.push('0');
    }
    while n >= 1.0 {
        let d = (n % radix as f64) as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        n = (n / radix as f64).floor();
    }
    if neg {
        digits.push('-');
    }
    digits.reverse();
    Ok(Some(V::string(digits.into_iter().collect())))
}

struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: char,
    percent: char,
    permille: char,
    zero: char,
    digit: char,
    pattern: char,
}

struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fraction: Vec<char>,
    sub: Vec<char>,
}

fn index_of(hay: &[char], c: char) -> Option<usize> {
    hay.iter().position(|&x| x == c)
}

fn last_index_of(hay: &[char], c: char) -> Option<usize> {
    hay.iter().rposition(|&x| x == c)
}

fn fmt_err(code: &str) -> Error {
    Error::new(code, None, None)
}

fn format_number(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Num(value)) = a[0] else {
        return Ok(None);
    };
    let picture: Vec<char> = match &a[1] {
        Some(V::Str(s)) => s.chars().collect(),
        _ => return Ok(None),
    };
    let mut p = Props {
        decimal: '.',
        grouping: ',',
        exponent: 'e',
        minus: '-',
        percent: '%',
        permille: '\u{2030}',
        zero: '0',
        digit: '#',
        pattern: ';',
    };
    if let Some(Some(V::Obj(o))) = a.get(2) {
        for (k, v) in o.iter() {
            let Some(c) = v.as_str().and_then(|s| s.chars().next()) else {
                continue;
            };
            match &**k {
                "decimal-separator" => p.decimal = c,
                "grouping-separator" => p.grouping = c,
                "exponent-separator" => p.exponent = c,
                "minus-sign" => p.minus = c,
                "percent" => p.percent = c,
                "per-mille" => p.permille = c,
                "zero-digit" => p.zero = c,
                "digit" => p.digit = c,
                "pattern-separator" => p.pattern = c,
                _ => {}
            }
        }
    }
    let family: Vec<char> = (0..10)
        .filter_map(|i| char::from_u32(p.zero as u32 + i))
        .collect();
    let is_digit = |c: char| family.contains(&c);
    let active = |c: char| {
        is_digit(c) || [p.decimal, p.exponent, p.grouping, p.digit, p.pattern].contains(&c)
    };
    let subs: Vec<Vec<char>> = picture
        .split(|&c| c == p.pattern)
        .map(|s| s.to_vec())
        .collect();
    if subs.len() > 2 {
        return Err(fmt_err("D3080"));
    }
    let split = |sub: &Vec<char>| -> Parts {
        let pre_end = sub
            .iter()
            .position(|&c| active(c) && c != p.exponent)
            .unwrap_or(sub.len());
        let prefix = sub[..pre_end].to_vec();
        let suf_start = sub
            .iter()
            .rposition(|&c| active(c) && c != p.exponent)
            .map(|i| i + 1)
            .unwrap_or(sub.len());
        let suffix = if suf_start >= pre_end {
            sub[suf_start..].to_vec()
        } else {
            vec![]
        };
        let act_end = sub.len() - suffix.len();
        let active_part: Vec<char> = if pre_end <= act_end {
            sub[pre_end..act_end].to_vec()
        } else {
            vec![]
        };
        let exp_pos = sub
            .iter()
            .skip(prefix.len())
            .position(|&c| c == p.exponent)
            .map(|i| i + prefix.len());
        let (mantissa, exponent) = match exp_pos {
            Some(ep) if ep <= sub.len() - suffix.len() => {
                let rel = ep - prefix.len();
                let m = active_part[..rel.min(active_part.len())].to_vec();
                let e = if rel < active_part.len() {
                    active_part[rel + 1..].to_vec()
                } else {
                    vec![]
                };
                (m, Some(e))
            }
            _ => (active_part.clone(), None),
        };
        let (integer, fraction) = match index_of(&mantissa, p.decimal) {
            None => (mantissa.clone(), suffix.clone()),
            Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        };
        Parts {
            prefix,
            suffix,
            active: active_part,
            mantissa,
            exponent,
            integer,
            fraction,
            sub: sub.clone(),
        }
    };
    let parts: Vec<Parts> = subs.iter().map(split).collect();
    for pt in &parts {
        let sub = &pt.sub;
        let mut err = None;
        let dpos = index_of(sub, p.decimal);
        if dpos != last_index_of(sub, p.decimal) {
            err = Some("D3081");
        }
        if index_of(sub, p.percent) != last_index_of(sub, p.percent) {
            err = Some("D3082");
        }
        if index_of(sub, p.permille) != last_index_of(sub, p.permille) {
            err = Some("D3083");
        }
        if index_of(sub, p.percent).is_some() && index_of(sub, p.permille).is_some() {
            err = Some("D3084");
        }
        if !pt.mantissa.iter().any(|&c| is_digit(c) || c == p.digit) {
            err = Some("D3085");
        }
        if pt.active.iter().any(|&c| !active(c)) {
            err = Some("D3086");
        }
        match dpos {
            Some(d) => {
                if (d > 0 && sub[d - 1] == p.grouping) || sub.get(d + 1) == Some(&p.grouping) {
                    err = Some("D3087");
                }
            }
            None => {
                if pt.integer.last() == Some(&p.grouping) {
                    err = Some("D3088");
                }
            }
        }
        if sub
            .windows(2)
            .any(|w| w[0] == p.grouping && w[1] == p.grouping)
        {
            err = Some("D3089");
        }
        if let Some(od) = index_of(&pt.integer, p.digit)
            && pt.integer[..od].iter().any(|&c| is_digit(c))
        {
            err = Some("D3090");
        }
        if let Some(od) = last_index_of(&pt.fraction, p.digit)
            && pt.fraction[od..].iter().any(|&c| is_digit(c))
        {
            err = Some("D3091");
        }
        if let Some(ep) = &pt.exponent {
            if !ep.is_empty()
                && (index_of(sub, p.percent).is_some() || index_of(sub, p.permille).is_some())
            {
                err = Some("D3092");
            }
            if ep.is_empty() || ep.iter().any(|&c| !is_digit(c)) {
                err = Some("D3093");
            }
        }
        if let Some(code) = err {
            return Err(fmt_err(code));
        }
    }
    struct Pic {
        groups: Vec<usize>,
        regular: usize,
        min_int: usize,
        scaling: usize,
        prefix: String,
        frac_groups: Vec<usize>,
        min_frac: usize,
        max_frac: usize,
        min_exp: usize,
        has_exp: bool,
        suffix: String,
        sub: Vec<char>,
    }
    let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
        let mut out = Vec::new();
        for (i, &c) in part.iter().enumerate() {
            if c == p.grouping {
                let slice = if to_left { &part[..i] } else { &part[i..] };
                out.push(
                    slice
                        .iter()
                        .filter(|&&x| is_digit(x) || x == p.digit)
                        .count(),
                );
            }
        }
        out
    };
    let analyse = |pt: &Parts| -> Pic {
        let groups = grouping_positions(&pt.integer, false);
        let regular = if groups.is_empty() {
            0
        } else {
            fn gcd(a: usize, b: usize) -> usize {
                if b == 0 { a } else { gcd(b, a % b) }
            }
            let factor = groups.iter().copied().reduce(gcd).unwrap_or(0);
            if factor > 0 && (1..=groups.len()).all(|i| groups.contains(&(i * factor))) {
                factor
            } else {
                0
            }
        };
        let frac_groups = grouping_positions(&pt.fraction, true);
        let mut min_int = pt.integer.iter().filter(|&&c| is_digit(c)).count();
        let scaling = min_int;
        let mut min_frac = pt.fraction.iter().filter(|&&c| is_digit(c)).count();
        let mut max_frac = pt
            .fraction
            .iter()
            .filter(|&&c| is_digit(c) || c == p.digit)
            .count();
        let has_exp = pt.exponent.is_some();
        if min_int == 0 && max_frac == 0 {
            if has_exp {
                min_frac = 1;
                max_frac = 1;
            } else {
                min_int = 1;
            }
        }
        if has_exp && min_int == 0 && index_of(&pt.integer, p.digit).is_some() {
            min_int = 1;
        }
        if min_int == 0 && min_frac == 0 {
            min_frac = 1;
        }
        let min_exp = pt
            .exponent
            .as_ref()
            .map_or(0, |e| e.iter().filter(|&&c| is_digit(c)).count());
        Pic {
            groups,
            regular,
            min_int,
            scaling,
            prefix: pt.prefix.iter().collect(),
            frac_groups,
            min_frac,
            max_frac,
            min_exp,
            has_exp,
            suffix: pt.suffix.iter().collect(),
            sub: pt.sub.clone(),
        }
    };
    let mut pics: Vec<Pic> = parts.iter().map(analyse).collect();
    if pics.len() == 1 {
        let mut neg = analyse(&parts[0]);
        neg.prefix = format!("{}{}", p.minus, neg.prefix);
        pics.push(neg);
    }
    let pic = if value >= 0.0 { &pics[0] } else { &pics[1] };
    let adjusted = if index_of(&pic.sub, p.percent).is_some() {
        value * 100.0
    } else if index_of(&pic.sub, p.permille).is_some() {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exp == 0 && !pic.has_exp {
        (adjusted, None)
    } else {
        let max_m = 10f64.powi(pic.scaling as i32);
        let min_m = 10f64.powi(pic.scaling as i32 - 1);
        let mut m = adjusted;
        let mut e = 0i32;
        if m != 0.0 {
            let mut guard = 0;
            while m.abs() < min_m && guard < 700 {
                m *= 10.0;
                e -= 1;
                guard += 1;
            }
            while m.abs() > max_m && guard < 1400 {
                m /= 10.0;
                e += 1;
                guard += 1;
            }
        }
        (m, Some(e))
    };
    let rounded = round_half_even(mantissa, pic.max_frac as i32);
    let to_family = |s: String| -> Vec<char> {
        s.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    family[(c as u8 - b'0') as usize]
                } else {
                    c
                }
            })
            .collect()
    };
    let mut sv: Vec<char> = to_family(format!("{:.*}", pic.max_frac, rounded.abs()));
    match index_of(&sv, '.') {
        None => sv.push(p.decimal),
        Some(i) => sv[i] = p.decimal,
    }
    while sv.first() == Some(&p.zero) {
        sv.remove(0);
    }
    while sv.last() == Some(&p.zero) {
        sv.pop();
    }
    let dpos = index_of(&sv, p.decimal).unwrap_or(0);
    let pad_left = pic.min_int as isize - dpos as isize;
    let pad_right = pic.min_frac as isize - (sv.len() as isize - dpos as isize - 1);
    if pad_left > 0 {
        let mut v = vec![p.zero; pad_left as usize];
        v.extend(sv);
        sv = v;
    }
    if pad_right > 0 {
        sv.extend(std::iter::repeat_n(p.zero, pad_right as usize));
    }
    let mut dpos = index_of(&sv, p.decimal).unwrap_or(0);
    if let Some(count) = dpos.saturating_sub(1).checked_div(pic.regular) {
        for g in 1..=count {
            let at = dpos - g * pic.regular;
            sv.insert(at, p.grouping);
        }
    } else {
        for &pos in &pic.groups {
            if pos <= dpos {
                sv.insert(dpos - pos, p.grouping);
                dpos += 1;
            }
        }
    }
    let dpos = index_of(&sv, p.decimal).unwrap_or(0);
    for &pos in &pic.frac_groups {
        let at = pos + dpos + 1;
        if at <= sv.len() {
            sv.insert(at, p.grouping);
        }
    }
    let dpos = index_of(&sv, p.decimal).unwrap_or(0);
    if pic.min_frac == 0 && dpos + 1 == sv.len() {
        sv.pop();
    }
    let mut out: String = sv.into_iter().collect();
    if let Some(e) = exponent {
        let mut es: String = to_family(e.abs().to_string()).into_iter().collect();
        let pad = pic.min_exp as isize - es.chars().count() as isize;
        if pad > 0 {
            es = std::iter::repeat_n(p.zero, pad as usize).collect::<String>() + &es;
        }
        out.push(p.exponent);
        if e < 0 {
            out.push(p.minus);
        }
        out.push_str(&es);
    }
    Ok(Some(V::string(format!(
        "{}{}{}",
        pic.prefix, out, pic.suffix
    ))))
}
