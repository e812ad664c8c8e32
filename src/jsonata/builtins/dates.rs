//! Date/time built-ins: `$now`, `$millis`, `$fromMillis`, `$toMillis`, with XPath F&O 9.8
//! picture strings (`[Y0001]-[M01]-[D01]`...) in both directions. All arithmetic is in UTC
//! milliseconds since the epoch, as JavaScript's `Date` does it.

use super::integer_format::{self, Case, IntFormat, Primary};
use super::{Builtin, b};
use crate::jsonata::Error;
use crate::jsonata::apply::CallCx;
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::value::V;

pub(crate) fn table() -> Vec<Builtin> {
    vec![
        b("now", "<s?s?:s>", now),
        b("millis", "<:n>", |cx, _, _| {
            Ok(Some(V::Num(cx.now_millis() as f64)))
        }),
        b("fromMillis", "<n-s?s?:s>", from_millis),
        b("toMillis", "<s-s?:n>", to_millis),
    ]
}

const DAY: i64 = 86_400_000;
const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `Date.UTC(y, m0, d, h, mi, s, ms)` with JavaScript's overflow normalisation.
fn date_utc(y: i64, m0: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> i64 {
    // Clamp parsed components so that the arithmetic below cannot overflow.
    let (y, m0, d) = (
        y.clamp(-1_000_000, 1_000_000),
        m0.clamp(-1_000_000, 1_000_000),
        d.clamp(-1_000_000_000, 1_000_000_000),
    );
    let (h, mi) = (
        h.clamp(-1_000_000_000, 1_000_000_000),
        mi.clamp(-1_000_000_000, 1_000_000_000),
    );
    let (s, ms) = (
        s.clamp(-1_000_000_000_000, 1_000_000_000_000),
        ms.clamp(-1_000_000_000_000, 1_000_000_000_000),
    );
    let y = y + m0.div_euclid(12);
    let m = m0.rem_euclid(12);
    let days = days_from_civil(y, m + 1, 1) + d - 1;
    days * DAY + h * 3_600_000 + mi * 60_000 + s * 1000 + ms
}

struct Parts {
    year: i64,
    month0: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    weekday: i64, // 0 = Sunday
    millis: i64,
}

fn parts(ms: i64) -> Parts {
    let days = ms.div_euclid(DAY);
    let rem = ms.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    Parts {
        year: y,
        month0: m - 1,
        day: d,
        hour: rem / 3_600_000,
        minute: rem / 60_000 % 60,
        second: rem / 1000 % 60,
        milli: rem % 1000,
        weekday: (days + 4).rem_euclid(7),
        millis: ms,
    }
}

fn start_of_first_week(year: i64, month0: i64) -> i64 {
    let jan1 = date_utc(year, month0, 1, 0, 0, 0, 0);
    let mut dow = parts(jan1).weekday;
    if dow == 0 {
        dow = 7;
    }
    if dow > 4 {
        jan1 + (8 - dow) * DAY
    } else {
        jan1 - (dow - 1) * DAY
    }
}

fn delta_weeks(start: i64, end: i64) -> f64 {
    (end - start) as f64 / (DAY * 7) as f64 + 1.0
}

enum Frag {
    Num(i64),
    Text(String),
}

fn fragment(p: &Parts, c: char) -> Frag {
    Frag::Num(match c {
        'Y' => p.year,
        'M' => p.month0 + 1,
        'D' => p.day,
        'd' => {
            let today = date_utc(p.year, p.month0, p.day, 0, 0, 0, 0);
            (today - date_utc(p.year, 0, 1, 0, 0, 0, 0)) / DAY + 1
        }
        'F' => {
            if p.weekday == 0 {
                7
            } else {
                p.weekday
            }
        }
        'W' => {
            let start = start_of_first_week(p.year, 0);
            let today = date_utc(p.year, p.month0, p.day, 0, 0, 0, 0);
            let mut week = delta_weeks(start, today);
            if week > 52.0 {
                if today >= start_of_first_week(p.year + 1, 0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(p.year - 1, 0), today);
            }
            week.floor() as i64
        }
        'w' => {
            let start = start_of_first_week(p.year, p.month0);
            let today = date_utc(p.year, p.month0, p.day, 0, 0, 0, 0);
            let mut week = delta_weeks(start, today);
            let (ny, nm) = if p.month0 == 11 {
                (p.year + 1, 0)
            } else {
                (p.year, p.month0 + 1)
            };
            let (py, pm) = if p.month0 == 0 {
                (p.year - 1, 11)
            } else {
                (p.year, p.month0 - 1)
            };
            if week > 4.0 {
                if today >= start_of_first_week(ny, nm) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(py, pm), today);
            }
            week.floor() as i64
        }
        'X' => {
            let start = start_of_first_week(p.year, 0);
            let end = start_of_first_week(p.year + 1, 0);
            if p.millis < start {
                p.year - 1
            } else if p.millis >= end {
                p.year + 1
            } else {
                p.year
            }
        }
        'x' => {
            let start = start_of_first_week(p.year, p.month0);
            let (ny, nm) = if p.month0 == 11 {
                (p.year + 1, 0)
            } else {
                (p.year, p.month0 + 1)
            };
            let end = start_of_first_week(ny, nm);
            if p.millis < start {
                if p.month0 == 0 { 12 } else { p.month0 }
            } else if p.millis >= end {
                nm + 1
            } else {
                p.month0 + 1
            }
        }
        'H' => p.hour,
        'h' => {
            let h = p.hour % 12;
            if h == 0 { 12 } else { h }
        }
        'P' => {
            return Frag::Text(if p.hour >= 12 {
                "pm".into()
            } else {
                "am".into()
            });
        }
        'm' => p.minute,
        's' => p.second,
        'f' => p.milli,
        'C' | 'E' => return Frag::Text("ISO".into()),
        _ => 0,
    })
}

#[derive(Clone, Debug)]
struct Marker {
    component: char,
    pres1: String,
    pres2: Option<char>,
    names: Option<Case>,
    width: Option<(Option<usize>, Option<usize>)>,
    int: Option<IntFormat>,
    n: i64,
}

enum Part {
    Lit(String),
    Mark(Marker),
}

fn default_pres(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

fn analyse(picture: &str) -> Result<Vec<Part>, Error> {
    let pic: Vec<char> = picture.chars().collect();
    let mut spec = Vec::new();
    let lit = |spec: &mut Vec<Part>, from: usize, to: usize| {
        if to > from {
            let s: String = pic[from..to].iter().collect();
            spec.push(Part::Lit(s.replace("]]", "]")));
        }
    };
    let (mut start, mut pos) = (0, 0);
    while pos < pic.len() {
        if pic[pos] == '[' {
            if pic.get(pos + 1) == Some(&'[') {
                lit(&mut spec, start, pos);
                spec.push(Part::Lit("[".into()));
                pos += 2;
                start = pos;
                continue;
            }
            lit(&mut spec, start, pos);
            start = pos;
            let Some(close) = pic[start..]
                .iter()
                .position(|&c| c == ']')
                .map(|i| i + start)
            else {
                return Err(Error::new("D3135", None, None));
            };
            pos = close;
            let marker: String = pic[start + 1..pos]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            let mchars: Vec<char> = marker.chars().collect();
            let component = mchars.first().copied().unwrap_or(' ');
            let mut width = None;
            let pres: String = match marker.rfind(',') {
                Some(comma) => {
                    let wm = &marker[comma + 1..];
                    let pw = |s: &str| {
                        if s == "*" || s.is_empty() {
                            None
                        } else {
                            s.parse::<usize>().ok()
                        }
                    };
                    width = Some(match wm.find('-') {
                        None => (pw(wm), None),
                        Some(d) => (pw(&wm[..d]), pw(&wm[d + 1..])),
                    });
                    // JavaScript's `substring(1, comma)` swaps its ends when the comma is
                    // the marker's first character (`[,]`): so does this.
                    let first = component.len_utf8();
                    marker[first.min(comma)..first.max(comma)].to_string()
                }
                None => marker.chars().skip(1).collect(),
            };
            let pchars: Vec<char> = pres.chars().collect();
            let (pres1, pres2) = if pchars.len() > 1 && "atco".contains(pchars[pchars.len() - 1]) {
                (
                    pchars[..pchars.len() - 1].iter().collect(),
                    Some(pchars[pchars.len() - 1]),
                )
            } else if pchars.is_empty() {
                match default_pres(component) {
                    Some(d) => (d.to_string(), None),
                    None => {
                        let mut e = Error::new("D3132", None, None);
                        e.detail_mut().value = Some(format!("\"{component}\""));
                        return Err(e);
                    }
                }
            } else {
                (pres, None)
            };
            if default_pres(component).is_none() {
                let mut e = Error::new("D3132", None, None);
                e.detail_mut().value = Some(format!("\"{component}\""));
                return Err(e);
            }
            let p1: Vec<char> = pres1.chars().collect();
            let mut m = Marker {
                component,
                pres1: pres1.clone(),
                pres2,
                names: None,
                width,
                int: None,
                n: -1,
            };
            if p1.first() == Some(&'n') {
                m.names = Some(Case::Lower);
            } else if p1.first() == Some(&'N') {
                m.names = Some(if p1.get(1) == Some(&'n') {
                    Case::Title
                } else {
                    Case::Upper
                });
            } else if "YMDdFWwXxHhmsf".contains(component) {
                let mut ip = pres1.clone();
                if let Some(p2) = pres2 {
                    ip.push(';');
                    ip.push(p2);
                }
                let mut f = integer_format::analyse(&ip)?;
                if let Some((Some(min), _)) = width
                    && f.mandatory < min
                {
                    f.mandatory = min.min(64);
                }
                if component == 'Y' {
                    if let Some((_, Some(max))) = width {
                        m.n = max.min(64) as i64;
                        f.mandatory = max.min(64);
                    } else {
                        let w = f.mandatory + f.optional;
                        if w >= 2 {
                            m.n = w as i64;
                        }
                    }
                }
                m.int = Some(f);
            }
            if component == 'Z' || component == 'z' {
                m.int = Some(integer_format::analyse(&m.pres1)?);
            }
            spec.push(Part::Mark(m));
            start = pos + 1;
        }
        pos += 1;
    }
    lit(&mut spec, start, pos.min(pic.len()));
    Ok(spec)
}

fn format_datetime(millis: f64, picture: Option<&str>, tz: Option<&str>) -> Result<String, Error> {
    let (mut oh, mut om) = (0i64, 0i64);
    if let Some(tz) = tz {
        let off: i64 = tz.trim_start_matches('+').parse().unwrap_or(0);
        let off = off.clamp(-9999, 9999);
        oh = off.div_euclid(100);
        om = off.rem_euclid(100);
        if off < 0 && om != 0 {
            oh = -((-off) / 100);
            om = -((-off) % 100);
        }
    }
    let spec = analyse(picture.unwrap_or("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"))?;
    if !millis.is_finite() || millis.abs() > 8.64e15 {
        let mut e = Error::new("D1001", None, None);
        e.detail_mut().value = Some(crate::jsonata::numfmt::js_number(millis));
        return Err(e);
    }
    let ms = millis.floor() as i64 + (60 * oh + om) * 60_000;
    let p = parts(ms);
    let mut out = String::new();
    for part in &spec {
        let m = match part {
            Part::Lit(s) => {
                out.push_str(s);
                continue;
            }
            Part::Mark(m) => m,
        };
        let c = m.component;
        if "YMDdFWwXxHhms".contains(c) {
            let Frag::Num(mut v) = fragment(&p, c) else {
                continue;
            };
            if c == 'Y' && m.n != -1 {
                v %= 10i64.pow(m.n.clamp(0, 18) as u32);
            }
            if let Some(case) = m.names {
                let name = match c {
                    'M' | 'x' => MONTHS
                        .get((v - 1).clamp(0, 11) as usize)
                        .copied()
                        .unwrap_or(""),
                    'F' => DAYS.get(v.clamp(0, 7) as usize).copied().unwrap_or(""),
                    _ => {
                        let mut e = Error::new("D3133", None, None);
                        e.detail_mut().value = Some(format!("\"{c}\""));
                        return Err(e);
                    }
                };
                let mut name = match case {
                    Case::Upper => name.to_uppercase(),
                    Case::Lower => name.to_lowercase(),
                    Case::Title => name.to_string(),
                };
                if let Some((_, Some(max))) = m.width
                    && name.chars().count() > max
                {
                    name = name.chars().take(max).collect();
                }
                out.push_str(&name);
            } else if let Some(f) = &m.int {
                out.push_str(&integer_format::format(v as f64, f)?);
            }
        } else if c == 'f' {
            if let (Frag::Num(v), Some(f)) = (fragment(&p, c), &m.int) {
                out.push_str(&integer_format::format(v as f64, f)?);
            }
        } else if c == 'Z' || c == 'z' {
            let f = m
                .int
                .clone()
                .unwrap_or_else(|| integer_format::analyse("01:01").expect("valid"));
            let offset = oh * 100 + om;
            let mut s = if f.regular.is_some() {
                integer_format::format(offset as f64, &f)?
            } else {
                match f.mandatory {
                    1 | 2 => {
                        let mut s = integer_format::format(oh as f64, &f)?;
                        if om != 0 {
                            s.push_str(&format!(":{:02}", om.abs()));
                        }
                        s
                    }
                    3 | 4 => integer_format::format(offset as f64, &f)?,
                    n => {
                        let mut e = Error::new("D3134", None, None);
                        e.detail_mut().value = Some(n.to_string());
                        return Err(e);
                    }
                }
            };
            if offset >= 0 {
                s.insert(0, '+');
            }
            if c == 'z' {
                s.insert_str(0, "GMT");
            }
            if offset == 0 && m.pres2 == Some('t') {
                s = "Z".into();
            }
            out.push_str(&s);
        } else if c == 'P' {
            if let Frag::Text(t) = fragment(&p, 'P') {
                out.push_str(&if m.names == Some(Case::Upper) {
                    t.to_uppercase()
                } else {
                    t
                });
            }
        } else if let Frag::Text(t) = fragment(&p, c) {
            out.push_str(&t);
        }
    }
    Ok(out)
}

fn now(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let pic = a.first().cloned().flatten();
    let tz = a.get(1).cloned().flatten();
    Ok(Some(V::string(format_datetime(
        cx.now_millis() as f64,
        pic.as_ref()
            .and_then(|p| p.as_str().map(|s| s.to_string()))
            .as_deref(),
        tz.as_ref()
            .and_then(|p| p.as_str().map(|s| s.to_string()))
            .as_deref(),
    )?)))
}

fn from_millis(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Num(ms)) = a[0] else {
        return Ok(None);
    };
    let pic = a.get(1).cloned().flatten();
    let tz = a.get(2).cloned().flatten();
    Ok(Some(V::string(format_datetime(
        ms,
        pic.as_ref()
            .and_then(|p| p.as_str().map(|s| s.to_string()))
            .as_deref(),
        tz.as_ref()
            .and_then(|p| p.as_str().map(|s| s.to_string()))
            .as_deref(),
    )?)))
}

fn d3110(s: &str) -> Error {
    let mut e = Error::new("D3110", None, None);
    e.detail_mut().value = Some(crate::jsonata::numfmt::describe(&V::str(s)));
    e
}

/// `Date.parse` of the ISO 8601 forms jsonata accepts.
fn parse_iso(s: &str) -> Result<f64, Error> {
    let re = regex::Regex::new(
        r"^(\d{4})(?:-([01]\d))?(?:-([0-3]\d))?(?:T([0-2]\d):([0-5]\d)(?::([0-5]\d))?(?:\.(\d+))?)?(Z|[+-][0-2]\d:?[0-5]\d)?$",
    )
    .expect("valid regex");
    let Some(c) = re.captures(s) else {
        return Err(d3110(s));
    };
    let num = |i: usize, d: i64| {
        c.get(i)
            .and_then(|m| m.as_str().parse::<i64>().ok())
            .unwrap_or(d)
    };
    let frac = c.get(7).map(|m| {
        let t: String = m.as_str().chars().chain("000".chars()).take(3).collect();
        t.parse::<i64>().unwrap_or(0)
    });
    let mut ms = date_utc(
        num(1, 0),
        num(2, 1) - 1,
        num(3, 1),
        num(4, 0),
        num(5, 0),
        num(6, 0),
        frac.unwrap_or(0),
    );
    if let Some(z) = c.get(8) {
        let z = z.as_str();
        if z != "Z" {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| c.is_ascii_digit()).collect();
            let h: i64 = digits[..2].parse().unwrap_or(0);
            let m: i64 = digits[2..].parse().unwrap_or(0);
            ms -= sign * (h * 60 + m) * 60_000;
        }
    }
    Ok(ms as f64)
}

fn to_millis(cx: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Str(s)) = &a[0] else {
        return Ok(None);
    };
    match a.get(1).cloned().flatten() {
        Some(V::Str(p)) => Ok(parse_datetime(s, &p, cx.now_millis())?.map(V::Num)),
        _ => Ok(Some(V::Num(parse_iso(s)?))),
    }
}

fn int_regex(f: &IntFormat, n: i64) -> String {
    match f.primary {
        Primary::Letters => "[a-zA-Z]+".into(),
        Primary::Roman => "[MDCLXVImdclxvi]+".into(),
        Primary::Words => integer_format::words_regex(),
        _ => {
            let mut r = if n > 0 {
                format!("[0-9]{{{n}}}")
            } else if f.mandatory > 1 && f.separators.is_empty() {
                format!("[0-9]{{{}}}", f.mandatory)
            } else {
                let seps: String = f
                    .separators
                    .iter()
                    .map(|s| regex::escape(&s.1.to_string()))
                    .collect();
                format!("[0-9{seps}]+")
            };
            if f.ordinal {
                r.push_str("(?:th|st|nd|rd)");
            }
            r
        }
    }
}

fn parse_datetime(s: &str, picture: &str, now_ms: i64) -> Result<Option<f64>, Error> {
    let spec = analyse(picture)?;
    let mut re = String::from("(?i)^");
    let mut marks: Vec<&Marker> = Vec::new();
    for part in &spec {
        match part {
            Part::Lit(l) => re.push_str(&regex::escape(l)),
            Part::Mark(m) => {
                let r = if m.component == 'Z' || m.component == 'z' {
                    let sep = m.int.as_ref().and_then(|f| f.regular.map(|r| r.1));
                    let mut r = if m.component == 'z' {
                        "GMT".to_string()
                    } else {
                        String::new()
                    };
                    r.push_str("[-+][0-9]+");
                    if let Some(c) = sep {
                        r.push_str(&regex::escape(&c.to_string()));
                        r.push_str("[0-9]+");
                    }
                    r
                } else if let Some(f) = &m.int {
                    int_regex(f, if m.component == 'Y' { m.n } else { -1 })
                } else {
                    if !matches!(m.component, 'M' | 'x' | 'F' | 'P') {
                        let mut e = Error::new("D3133", None, None);
                        e.detail_mut().value = Some(format!("\"{}\"", m.component));
                        return Err(e);
                    }
                    "[a-zA-Z]+".into()
                };
                re.push('(');
                re.push_str(&r);
                re.push(')');
                marks.push(m);
            }
        }
    }
    re.push('$');
    let matcher = regex::Regex::new(&re).map_err(|_| Error::new("D3136", None, None))?;
    let Some(caps) = matcher.captures(s) else {
        return Ok(None);
    };
    let mut comps: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    for (i, m) in marks.iter().enumerate() {
        let Some(text) = caps.get(i + 1).map(|x| x.as_str()) else {
            continue;
        };
        let v: Option<f64> = if m.component == 'Z' || m.component == 'z' {
            let t = if m.component == 'z' { &text[3..] } else { text };
            let sep = m.int.as_ref().and_then(|f| f.regular.map(|r| r.1));
            let (h, mi): (f64, f64) = match sep.and_then(|c| t.find(c)) {
                Some(ix) => (
                    t[..ix].parse().unwrap_or(0.0),
                    t[ix + 1..].parse().unwrap_or(0.0),
                ),
                None => {
                    if t.len() - 1 <= 2 {
                        (t.parse().unwrap_or(0.0), 0.0)
                    } else {
                        (t[..3].parse().unwrap_or(0.0), t[3..].parse().unwrap_or(0.0))
                    }
                }
            };
            Some(h * 60.0 + if h < 0.0 { -mi } else { mi })
        } else if let Some(f) = &m.int {
            integer_format::parse(text, f).ok().filter(|x| !x.is_nan())
        } else {
            let width = m.width.and_then(|w| w.1);
            let trunc = |n: &str| -> String {
                match width {
                    Some(w) => n.chars().take(w).collect::<String>().to_lowercase(),
                    None => n.to_lowercase(),
                }
            };
            let t = text.to_lowercase();
            match m.component {
                'M' | 'x' => MONTHS
                    .iter()
                    .position(|n| trunc(n) == t)
                    .map(|i| i as f64 + 1.0),
                'F' => DAYS[1..]
                    .iter()
                    .position(|n| trunc(n) == t)
                    .map(|i| i as f64 + 1.0),
                'P' => match t.as_str() {
                    "am" => Some(0.0),
                    "pm" => Some(1.0),
                    _ => None,
                },
                _ => None,
            }
        };
        if let Some(v) = v {
            comps.insert(m.component, v as i64);
        }
    }
    if comps.is_empty() {
        return Ok(None);
    }
    let mask_of = |order: &str| -> u32 {
        let mut mask = 0u32;
        for c in order.chars() {
            mask = (mask << 1) | u32::from(comps.contains_key(&c));
        }
        mask
    };
    let is_type = |t: u32, mask: u32| (!t & mask) == 0 && (t & mask) != 0;
    let dmask = mask_of("YXMxWwdD");
    let date_a = is_type(161, dmask);
    let date_b = !date_a && is_type(130, dmask);
    let date_c = is_type(84, dmask);
    let date_d = !date_c && is_type(72, dmask);
    let tmask = mask_of("PHhmsf");
    let time_a = is_type(23, tmask);
    let time_b = !time_a && is_type(47, tmask);
    let date_comps = if date_b {
        "Yd"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let now = parts(now_ms);
    let (mut started, mut ended) = (false, false);
    for c in date_comps.chars().chain(time_comps.chars()) {
        if let std::collections::hash_map::Entry::Vacant(e) = comps.entry(c) {
            if started {
                e.insert(if "MDd".contains(c) { 1 } else { 0 });
                ended = true;
            } else {
                let v = match fragment(&now, c) {
                    Frag::Num(n) => n,
                    Frag::Text(t) => i64::from(t == "pm"),
                };
                e.insert(v);
            }
        } else {
            started = true;
            if ended {
                return Err(Error::new("D3136", None, None));
            }
        }
    }
    let get = |c: char| comps.get(&c).copied().unwrap_or(0);
    let mut month0 = if get('M') > 0 { get('M') - 1 } else { 0 };
    let mut day = get('D');
    if date_b {
        let d = parts(date_utc(get('Y'), 0, 1, 0, 0, 0, 0) + (get('d') - 1) * DAY);
        month0 = d.month0;
        day = d.day;
    }
    if date_c || date_d {
        return Err(Error::new("D3136", None, None));
    }
    let mut hour = get('H');
    if time_b {
        hour = if get('h') == 12 { 0 } else { get('h') };
        if get('P') == 1 {
            hour += 12;
        }
    }
    let mut ms = date_utc(get('Y'), month0, day, hour, get('m'), get('s'), get('f'));
    let tz = comps
        .get(&'Z')
        .or_else(|| comps.get(&'z'))
        .copied()
        .unwrap_or(0);
    ms -= tz * 60_000;
    Ok(Some(ms as f64))
}
