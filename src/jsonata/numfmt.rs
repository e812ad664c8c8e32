//! Numbers as JavaScript prints them (`Number.prototype.toString`, `toPrecision`), and JSON text
//! as `JSON.stringify` writes it.

use std::fmt::Write;

use super::Error;
use super::value::V;

/// Shortest round-trip digits and the decimal exponent `n` such that value = 0.d1d2... × 10^n.
fn digits(x: f64) -> (String, i32) {
    let s = format!("{:e}", x.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0').to_string();
    let digits = if digits.is_empty() {
        "0".to_string()
    } else {
        digits
    };
    (digits, exp + 1)
}

/// `Number.prototype.toString()` for a double.
pub(crate) fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let (d, n) = digits(x);
    let k = d.len() as i32;
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&d);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&d[..n as usize]);
        out.push('.');
        out.push_str(&d[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&d);
    } else {
        out.push_str(&d[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&d[1..]);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e >= 0 { "+" } else { "-" }, e.abs());
    }
    out
}

/// `Number(x.toPrecision(15))`: how jsonata's `$string` rounds numbers before printing.
pub(crate) fn round15(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{:.14e}", x).parse().unwrap_or(x)
}

/// `JSON.stringify` of a string: the escapes JSON requires, as `value` writes them.
pub(crate) fn json_string(s: &str, out: &mut String) {
    crate::value::write_str(out, s);
}

/// `JSON.stringify(v, replacer, indent)` with jsonata's replacer (numbers to 15 significant
/// digits, functions as `""`). `indent` 0 is compact.
pub(crate) fn stringify(
    v: &V,
    indent: usize,
    level: usize,
    out: &mut String,
) -> Result<(), super::Error> {
    let nl = |out: &mut String, lvl: usize| {
        if indent > 0 {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent * lvl));
        }
    };
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Num(x) => {
            if x.is_finite() {
                out.push_str(&js_number(round15(*x)));
            } else {
                let mut e = super::Error::new("D1001", None, None);
                e.detail_mut().value = Some(js_number(*x));
                return Err(e);
            }
        }
        V::Str(s) => json_string(s, out),
        V::Func(_) => out.push_str("\"\""),
        V::Arr(a) => {
            if a.items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in a.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, level + 1);
                stringify(x, indent, level + 1, out)?;
            }
            nl(out, level);
            out.push(']');
        }
        V::Obj(o) => {
            if o.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, level + 1);
                json_string(k, out);
                out.push(':');
                if indent > 0 {
                    out.push(' ');
                }
                stringify(x, indent, level + 1, out)?;
            }
            nl(out, level);
            out.push('}');
        }
    }
    Ok(())
}

/// Short JSON-ish text of a value for error messages.
pub(crate) fn describe(v: &V) -> String {
    let mut s = String::new();
    if stringify(v, 0, 0, &mut s).is_err() {
        s = match v {
            V::Num(x) => js_number(*x),
            _ => "<value>".into(),
        };
    }
    if s.len() > 200 {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// `$string`: strings as they are, numbers as JavaScript prints them (15 significant digits),
/// everything else as JSON.
pub(crate) fn to_string(v: &V, pretty: bool) -> Result<String, Error> {
    Ok(match v {
        V::Str(s) => s.to_string(),
        V::Func(_) => String::new(),
        V::Num(x) => {
            if !x.is_finite() {
                let mut e = Error::new("D3001", None, None);
                e.detail_mut().value = Some(js_number(*x));
                return Err(e);
            }
            js_number(round15(*x))
        }
        other => {
            let mut s = String::new();
            stringify(other, if pretty { 2 } else { 0 }, 0, &mut s)?;
            s
        }
    })
}
