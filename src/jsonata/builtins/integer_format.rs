//! Integer pictures (XPath `format-integer`): decimal digit patterns with grouping, letters,
//! roman numerals and English words, both ways. Used by `$formatInteger`, `$parseInteger` and
//! the date/time pictures.

use crate::jsonata::Error;
use crate::jsonata::apply::CallCx;
use crate::jsonata::eval::{Ctx, R};
use crate::jsonata::value::V;

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

fn words(num: f64, prev: bool, ord: bool) -> String {
    let num = num.floor();
    if num <= 19.0 {
        let i = num as usize;
        format!(
            "{}{}",
            if prev { " and " } else { "" },
            if ord { ORDINALS[i] } else { FEW[i] }
        )
    } else if num < 100.0 {
        let tens = (num / 10.0).floor() as usize;
        let rem = num % 10.0;
        let mut w = format!("{}{}", if prev { " and " } else { "" }, DECADES[tens - 2]);
        if rem > 0.0 {
            w = format!("{w}-{}", words(rem, false, ord));
        } else if ord {
            w.pop();
            w.push_str("ieth");
        }
        w
    } else if num < 1000.0 {
        let hundreds = (num / 100.0).floor() as usize;
        let rem = num % 100.0;
        let mut w = format!("{}{} Hundred", if prev { ", " } else { "" }, FEW[hundreds]);
        if rem > 0.0 {
            w.push_str(&words(rem, true, ord));
        } else if ord {
            w.push_str("th");
        }
        w
    } else {
        let mut mag = (num.log10() / 3.0).floor() as usize;
        if mag > MAGNITUDES.len() {
            mag = MAGNITUDES.len();
        }
        let factor = 10f64.powi(mag as i32 * 3);
        let mant = (num / factor).floor();
        let rem = num - mant * factor;
        let mut w = format!(
            "{}{} {}",
            if prev { ", " } else { "" },
            words(mant, false, false),
            MAGNITUDES[mag - 1]
        );
        if rem > 0.0 {
            w.push_str(&words(rem, true, ord));
        } else if ord {
            w.push_str("th");
        }
        w
    }
}

/// A regex alternation of every number word (for parsing `[Yw]`-style pictures).
pub(crate) fn words_regex() -> String {
    let mut alts: Vec<String> = Vec::new();
    for w in FEW.iter().chain(ORDINALS.iter()).chain(MAGNITUDES.iter()) {
        alts.push(w.to_lowercase());
    }
    for w in MAGNITUDES.iter() {
        alts.push(format!("{}th", w.to_lowercase()));
    }
    for w in DECADES.iter() {
        let l = w.to_lowercase();
        alts.push(format!("{}ieth", &l[..l.len() - 1]));
        alts.push(l);
    }
    alts.push("hundredth".into());
    alts.sort_by_key(|a| std::cmp::Reverse(a.len()));
    format!("(?:{}|and|[\\-, ])+", alts.join("|"))
}

fn word_value(w: &str) -> Option<f64> {
    for (i, x) in FEW.iter().enumerate() {
        if x.eq_ignore_ascii_case(w) {
            return Some(i as f64);
        }
    }
    for (i, x) in ORDINALS.iter().enumerate() {
        if x.eq_ignore_ascii_case(w) {
            return Some(i as f64);
        }
    }
    for (i, x) in DECADES.iter().enumerate() {
        let l = x.to_lowercase();
        let ieth = format!("{}ieth", &l[..l.len() - 1]);
        if l == w || ieth == w {
            return Some((i as f64 + 2.0) * 10.0);
        }
    }
    if w == "hundredth" {
        return Some(100.0);
    }
    for (i, x) in MAGNITUDES.iter().enumerate() {
        let l = x.to_lowercase();
        if l == w || format!("{l}th") == w {
            return Some(10f64.powi((i as i32 + 1) * 3));
        }
    }
    None
}

fn words_to_number(text: &str) -> f64 {
    let text = text.to_lowercase();
    let text = text
        .replace(", ", " ")
        .replace(" and ", " ")
        .replace('-', " ");
    let mut segs: Vec<f64> = vec![0.0];
    for part in text.split_whitespace() {
        let v = word_value(part).unwrap_or(f64::NAN);
        if v < 100.0 {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + v);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * v);
        }
    }
    segs.iter().sum()
}

const ROMAN: [(u64, &str); 13] = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
];

fn to_roman(mut v: u64) -> String {
    let mut out = String::new();
    if v > 100_000 {
        return v.to_string();
    }
    for (n, s) in ROMAN {
        while v >= n {
            out.push_str(s);
            v -= n;
        }
    }
    out
}

fn from_roman(s: &str) -> f64 {
    let mut dec = 0.0;
    let mut max = 1.0;
    for c in s.chars().rev() {
        let v = match c {
            'M' => 1000.0,
            'D' => 500.0,
            'C' => 100.0,
            'L' => 50.0,
            'X' => 10.0,
            'I' => 1.0,
            'V' => 5.0,
            _ => f64::NAN,
        };
        if v < max {
            dec -= v;
        } else {
            max = v;
            dec += v;
        }
    }
    dec
}

fn to_letters(mut v: u64, a: char) -> String {
    let mut letters = Vec::new();
    while v > 0 {
        letters.push(char::from_u32(((v - 1) % 26) as u32 + a as u32).unwrap_or('?'));
        v = (v - 1) / 26;
    }
    letters.reverse();
    letters.into_iter().collect()
}

fn from_letters(s: &str, a: char) -> f64 {
    let mut dec = 0.0;
    for (i, c) in s.chars().rev().enumerate() {
        dec += (c as u32 as f64 - a as u32 as f64 + 1.0) * 26f64.powi(i as i32);
    }
    dec
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    Sequence,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Case {
    Upper,
    Lower,
    Title,
}

/// An analysed integer picture.
#[derive(Clone, Debug)]
pub(crate) struct IntFormat {
    pub primary: Primary,
    pub case: Case,
    pub ordinal: bool,
    pub zero: u32,
    pub mandatory: usize,
    pub optional: usize,
    pub regular: Option<(usize, char)>,
    pub separators: Vec<(usize, char)>,
    pub token: String,
}

const DECIMAL_GROUPS: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

pub(crate) fn analyse(picture: &str) -> Result<IntFormat, Error> {
    let mut f = IntFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero: 0x30,
        mandatory: 0,
        optional: 0,
        regular: None,
        separators: vec![],
        token: String::new(),
    };
    let primary = match picture.rfind(';') {
        None => picture,
        Some(i) => {
            if picture[i + 1..].starts_with('o') {
                f.ordinal = true;
            }
            &picture[..i]
        }
    };
    match primary {
        "A" => {
            f.case = Case::Upper;
            f.primary = Primary::Letters;
        }
        "a" => f.primary = Primary::Letters,
        "I" => {
            f.case = Case::Upper;
            f.primary = Primary::Roman;
        }
        "i" => f.primary = Primary::Roman,
        "W" => {
            f.case = Case::Upper;
            f.primary = Primary::Words;
        }
        "Ww" => {
            f.case = Case::Title;
            f.primary = Primary::Words;
        }
        "w" => f.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut pos = 0;
            for c in primary.chars().rev() {
                let cp = c as u32;
                if let Some(g) = DECIMAL_GROUPS.iter().find(|&&g| cp >= g && cp <= g + 9) {
                    f.mandatory += 1;
                    pos += 1;
                    match zero {
                        None => zero = Some(*g),
                        Some(z) if z != *g => return Err(Error::new("D3131", None, None)),
                        _ => {}
                    }
                } else if c == '#' {
                    pos += 1;
                    f.optional += 1;
                } else {
                    f.separators.push((pos, c));
                }
            }
            if f.mandatory > 0 {
                f.zero = zero.unwrap_or(0x30);
                if !f.separators.is_empty() && f.separators.iter().all(|s| s.1 == f.separators[0].1)
                {
                    fn gcd(a: usize, b: usize) -> usize {
                        if b == 0 { a } else { gcd(b, a % b) }
                    }
                    let idx: Vec<usize> = f.separators.iter().map(|s| s.0).collect();
                    let factor = idx.iter().copied().reduce(gcd).unwrap_or(0);
                    if factor > 0 && (1..=idx.len()).all(|i| idx.contains(&(i * factor))) {
                        f.regular = Some((factor, f.separators[0].1));
                    }
                }
            } else {
                f.primary = Primary::Sequence;
                f.token = primary.to_string();
            }
        }
    }
    Ok(f)
}

/// Formats `value` (already an integer) per `f`.
pub(crate) fn format(value: f64, f: &IntFormat) -> Result<String, Error> {
    if !value.is_finite() {
        let mut e = Error::new("D1001", None, None);
        e.detail_mut().value = Some(crate::jsonata::numfmt::js_number(value));
        return Err(e);
    }
    let neg = value < 0.0;
    let v = value.abs();
    let mut s = match f.primary {
        Primary::Letters => to_letters(v as u64, if f.case == Case::Upper { 'A' } else { 'a' }),
        Primary::Roman => {
            let r = to_roman(v as u64);
            if f.case == Case::Upper {
                r.to_uppercase()
            } else {
                r
            }
        }
        Primary::Words => {
            let w = words(v, false, f.ordinal);
            match f.case {
                Case::Upper => w.to_uppercase(),
                Case::Lower => w.to_lowercase(),
                Case::Title => w,
            }
        }
        Primary::Decimal => {
            let mut digits: Vec<char> = format!("{v:.0}").chars().collect();
            if f.mandatory > digits.len() {
                let mut p = vec!['0'; f.mandatory - digits.len()];
                p.extend(digits);
                digits = p;
            }
            if f.zero != 0x30 {
                digits = digits
                    .iter()
                    .map(|c| char::from_u32(*c as u32 - 0x30 + f.zero).unwrap_or(*c))
                    .collect();
            }
            match f.regular {
                Some((every, ch)) => {
                    let n = (digits.len().saturating_sub(1)) / every;
                    for i in (1..=n).rev() {
                        let pos = digits.len() - i * every;
                        digits.insert(pos, ch);
                    }
                }
                None => {
                    for &(p, ch) in f.separators.iter().rev() {
                        if p <= digits.len() {
                            let pos = digits.len() - p;
                            digits.insert(pos, ch);
                        }
                    }
                }
            }
            let mut s: String = digits.into_iter().collect();
            if f.ordinal {
                let chars: Vec<char> = s.chars().collect();
                let last = chars.last().copied().unwrap_or('0');
                let mut suffix = match last {
                    '1' => "st",
                    '2' => "nd",
                    '3' => "rd",
                    _ => "th",
                };
                if chars.len() > 1 && chars[chars.len() - 2] == '1' {
                    suffix = "th";
                }
                s.push_str(suffix);
            }
            s
        }
        Primary::Sequence => {
            let mut e = Error::new("D3130", None, None);
            e.detail_mut().value = Some(format!("\"{}\"", f.token));
            return Err(e);
        }
    };
    if neg {
        s.insert(0, '-');
    }
    Ok(s)
}

/// Parses `text` per `f` (the inverse of [`format`]).
pub(crate) fn parse(text: &str, f: &IntFormat) -> Result<f64, Error> {
    Ok(match f.primary {
        Primary::Letters => from_letters(text, if f.case == Case::Upper { 'A' } else { 'a' }),
        Primary::Roman => from_roman(&text.to_uppercase()),
        Primary::Words => words_to_number(text),
        Primary::Decimal => {
            let mut digits: String = text.to_string();
            if f.ordinal && digits.chars().count() >= 2 {
                let n = digits.chars().count();
                digits = digits.chars().take(n - 2).collect();
            }
            match f.regular {
                Some((_, ch)) => digits.retain(|c| c != ch),
                None => {
                    for &(_, ch) in &f.separators {
                        digits.retain(|c| c != ch);
                    }
                }
            }
            if f.zero != 0x30 {
                digits = digits
                    .chars()
                    .map(|c| char::from_u32(c as u32 + 0x30 - f.zero).unwrap_or(c))
                    .collect();
            }
            let lead: String = digits.chars().take_while(|c| c.is_ascii_digit()).collect();
            lead.parse::<f64>().unwrap_or(f64::NAN)
        }
        Primary::Sequence => {
            let mut e = Error::new("D3130", None, None);
            e.detail_mut().value = Some(format!("\"{}\"", f.token));
            return Err(e);
        }
    })
}

pub(crate) fn format_integer_fn(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Num(x)) = a[0] else {
        return Ok(None);
    };
    let Some(V::Str(p)) = &a[1] else {
        return Ok(None);
    };
    let f = analyse(p)?;
    Ok(Some(V::string(format(x.floor(), &f)?)))
}

pub(crate) fn parse_integer_fn(_: &Ctx, a: &[Option<V>], _: &CallCx) -> R {
    let Some(V::Str(s)) = &a[0] else {
        return Ok(None);
    };
    let Some(V::Str(p)) = &a[1] else {
        return Ok(None);
    };
    let f = analyse(p)?;
    let v = parse(s, &f)?;
    Ok(if v.is_nan() { None } else { Some(V::Num(v)) })
}
