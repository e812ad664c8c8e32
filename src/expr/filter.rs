//! Filter expressions `[?(...)]`: parsing and Jayway's predicate semantics.
//!
//! `@` paths are relative to the candidate node, `$` paths to the document the whole path is
//! evaluated on. A path operand that selects nothing is "undefined": every comparison with it
//! is false (`!=` is the negation of `==`, as in Jayway).

use super::path::{Cursor, Seg, number_at, parse_segments, segs_definite};
use super::select::select_segs;
use super::{MAX_DEPTH, SyntaxError};
use crate::value::{Number, Value};
use std::cmp::Ordering;

/// A parsed filter predicate.
#[derive(Clone, Debug)]
pub(crate) enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `[?(@.isbn)]`: the path selects something (null included).
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
    /// `@.name =~ /pattern/i`: the whole string matches (Java `Matcher.matches`).
    Regex(Operand, Box<regex::Regex>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `in`: the left value equals an item of the right array.
    In,
    /// `nin`: the negation of `in`.
    Nin,
    /// `subsetof`: every item of the left array is in the right one.
    SubsetOf,
    /// `anyof`: some item of the left array is in the right one.
    AnyOf,
    /// `noneof`: no item of the left array is in the right one.
    NoneOf,
    /// `size`: the left array or string has the right number of items/characters.
    Size,
    /// `empty`: whether the left array or string is empty equals the right boolean.
    Empty,
}

const WORD_OPS: [(&str, CmpOp); 7] = [
    ("subsetof", CmpOp::SubsetOf),
    ("anyof", CmpOp::AnyOf),
    ("noneof", CmpOp::NoneOf),
    ("size", CmpOp::Size),
    ("empty", CmpOp::Empty),
    ("nin", CmpOp::Nin),
    ("in", CmpOp::In),
];

#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// `@...`: relative to the candidate node.
    Current(Box<[Seg]>, bool),
    /// `$...`: relative to the document root.
    Root(Box<[Seg]>, bool),
    Literal(Value),
}

/// Parses the predicate inside `[?(` ... `)]`; the cursor stops before the closing `)`.
pub(crate) fn parse(cur: &mut Cursor, depth: usize) -> Result<Filter, SyntaxError> {
    parse_or(cur, depth)
}

fn check_depth(cur: &Cursor, depth: usize) -> Result<(), SyntaxError> {
    if depth > MAX_DEPTH {
        Err(cur.error("filter nested too deeply"))
    } else {
        Ok(())
    }
}

fn parse_or(cur: &mut Cursor, depth: usize) -> Result<Filter, SyntaxError> {
    check_depth(cur, depth)?;
    parse_chain(cur, depth, b'|', parse_and, Filter::Or)
}

fn parse_and(cur: &mut Cursor, depth: usize) -> Result<Filter, SyntaxError> {
    parse_chain(cur, depth, b'&', parse_unary, Filter::And)
}

/// Operands read by `operand`, joined left to right by the doubled operator `op` (`||`, `&&`).
fn parse_chain(
    cur: &mut Cursor,
    depth: usize,
    op: u8,
    operand: fn(&mut Cursor, usize) -> Result<Filter, SyntaxError>,
    join: fn(Box<Filter>, Box<Filter>) -> Filter,
) -> Result<Filter, SyntaxError> {
    let mut left = operand(cur, depth)?;
    loop {
        cur.skip_ws();
        if cur.peek() == Some(op) && cur.peek_at(1) == Some(op) {
            cur.pos += 2;
            let right = operand(cur, depth)?;
            left = join(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_unary(cur: &mut Cursor, depth: usize) -> Result<Filter, SyntaxError> {
    check_depth(cur, depth)?;
    cur.skip_ws();
    match cur.peek() {
        Some(b'!') => {
            cur.pos += 1;
            Ok(Filter::Not(Box::new(parse_unary(cur, depth + 1)?)))
        }
        Some(b'(') => {
            cur.pos += 1;
            let inner = parse_or(cur, depth + 1)?;
            cur.skip_ws();
            cur.expect(b')')?;
            Ok(inner)
        }
        _ => parse_comparison(cur, depth),
    }
}

fn parse_comparison(cur: &mut Cursor, depth: usize) -> Result<Filter, SyntaxError> {
    let left = parse_operand(cur, depth)?;
    cur.skip_ws();
    let op = match (cur.peek(), cur.peek_at(1)) {
        (Some(b'='), Some(b'=')) => Some((CmpOp::Eq, 2)),
        (Some(b'!'), Some(b'=')) => Some((CmpOp::Ne, 2)),
        (Some(b'<'), Some(b'=')) => Some((CmpOp::Le, 2)),
        (Some(b'>'), Some(b'=')) => Some((CmpOp::Ge, 2)),
        (Some(b'<'), _) => Some((CmpOp::Lt, 1)),
        (Some(b'>'), _) => Some((CmpOp::Gt, 1)),
        (Some(b'='), Some(b'~')) => {
            cur.pos += 2;
            cur.skip_ws();
            return Ok(Filter::Regex(left, Box::new(parse_regex(cur)?)));
        }
        _ => WORD_OPS.iter().find_map(|(word, op)| {
            let rest = cur.rest();
            let after = rest.as_bytes().get(word.len()).copied();
            (rest.starts_with(word) && !after.is_some_and(|b| b.is_ascii_alphanumeric()))
                .then_some((*op, word.len()))
        }),
    };
    match op {
        Some((op, len)) => {
            cur.pos += len;
            let right = parse_operand(cur, depth)?;
            Ok(Filter::Cmp(left, op, right))
        }
        None => match left {
            Operand::Literal(_) => Err(cur.error("expected a comparison operator")),
            path => Ok(Filter::Exists(path)),
        },
    }
}

fn parse_operand(cur: &mut Cursor, depth: usize) -> Result<Operand, SyntaxError> {
    cur.skip_ws();
    match cur.peek() {
        Some(b'@') => {
            cur.pos += 1;
            let segs = parse_segments(cur, true, depth + 1)?;
            let definite = segs_definite(&segs);
            Ok(Operand::Current(segs.into_boxed_slice(), definite))
        }
        Some(b'$') => {
            cur.pos += 1;
            let segs = parse_segments(cur, true, depth + 1)?;
            let definite = segs_definite(&segs);
            Ok(Operand::Root(segs.into_boxed_slice(), definite))
        }
        Some(b'\'' | b'"') => Ok(Operand::Literal(Value::from(cur.quoted()?))),
        Some(b'[') => {
            cur.pos += 1;
            let mut items = Vec::new();
            cur.skip_ws();
            if !cur.eat(b']') {
                loop {
                    match parse_operand(cur, depth + 1)? {
                        Operand::Literal(v) => items.push(v),
                        _ => return Err(cur.error("a list holds literals only")),
                    }
                    cur.skip_ws();
                    if cur.eat(b']') {
                        break;
                    }
                    cur.expect(b',')?;
                }
            }
            Ok(Operand::Literal(Value::array(items)))
        }
        Some(b'-' | b'0'..=b'9') => {
            let (number, end) = number_at(cur.text, cur.pos);
            cur.pos = end;
            number
                .map(Operand::Literal)
                .ok_or_else(|| cur.error("invalid number"))
        }
        _ => {
            // A bare word: `true`, `false`, `null`, or else a string. AWS accepts
            // `[?(@.Code==es)]` (real workflows compare with unquoted words) and the Jayway
            // releases it descends from read an operand that is neither a path, a number nor
            // JSON as a string, so `es` here is the string "es".
            let start = cur.pos;
            while cur.peek().is_some_and(is_bare_word_char) {
                cur.pos += 1;
            }
            match cur.slice(start, cur.pos) {
                "" => Err(cur.error("expected a filter operand")),
                "true" => Ok(Operand::Literal(Value::Bool(true))),
                "false" => Ok(Operand::Literal(Value::Bool(false))),
                "null" => Ok(Operand::Literal(Value::Null)),
                word => Ok(Operand::Literal(Value::from(word))),
            }
        }
    }
}

/// Characters of an unquoted word operand: letters, digits and `_ - . :` (so `AMOUNT_PAID`,
/// `en-US`, `v1.2`), never an operator, bracket, quote, comma or blank.
fn is_bare_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':') || b >= 0x80
}

/// `/pattern/flags` (flag `i` only), compiled to match the whole input.
fn parse_regex(cur: &mut Cursor) -> Result<regex::Regex, SyntaxError> {
    cur.expect(b'/')?;
    let start = cur.pos;
    loop {
        match cur.peek() {
            None => return Err(cur.error("unterminated regular expression")),
            Some(b'\\') => cur.pos += 2,
            Some(b'/') => break,
            Some(_) => cur.pos += 1,
        }
    }
    let pattern = cur
        .text
        .get(start..cur.pos)
        .ok_or_else(|| cur.error("invalid regex"))?;
    cur.pos += 1;
    let mut insensitive = false;
    while let Some(b) = cur.peek().filter(u8::is_ascii_alphabetic) {
        insensitive |= b == b'i';
        cur.pos += 1;
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(insensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| cur.error(&format!("invalid regular expression: {e}")))
}

/// Whether `node` satisfies the predicate; `root` is the document for `$` operands.
pub(crate) fn matches(f: &Filter, node: &Value, root: &Value) -> bool {
    match f {
        Filter::Or(a, b) => matches(a, node, root) || matches(b, node, root),
        Filter::And(a, b) => matches(a, node, root) && matches(b, node, root),
        Filter::Not(a) => !matches(a, node, root),
        Filter::Exists(op) => operand(op, node, root).is_some(),
        Filter::Regex(op, re) => match operand(op, node, root) {
            Some(Value::String(s)) => re.is_match(&s),
            _ => false,
        },
        Filter::Cmp(l, op, r) => {
            let (Some(l), Some(r)) = (operand(l, node, root), operand(r, node, root)) else {
                return matches!(op, CmpOp::Ne | CmpOp::Nin);
            };
            let within = |v: &Value| r.as_array().is_some_and(|items| items.contains(v));
            match op {
                CmpOp::Eq => l == r,
                CmpOp::Ne => l != r,
                CmpOp::Lt => order(&l, &r) == Some(Ordering::Less),
                CmpOp::Le => matches!(order(&l, &r), Some(Ordering::Less | Ordering::Equal)),
                CmpOp::Gt => order(&l, &r) == Some(Ordering::Greater),
                CmpOp::Ge => matches!(order(&l, &r), Some(Ordering::Greater | Ordering::Equal)),
                CmpOp::In => within(&l),
                CmpOp::Nin => !within(&l),
                CmpOp::SubsetOf => l.as_array().is_some_and(|items| items.iter().all(within)),
                CmpOp::AnyOf => l.as_array().is_some_and(|items| items.iter().any(within)),
                CmpOp::NoneOf => l.as_array().is_some_and(|items| !items.iter().any(within)),
                CmpOp::Size => size(&l).is_some_and(|n| r.as_i64() == Some(n as i64)),
                CmpOp::Empty => size(&l).is_some_and(|n| r.as_bool() == Some(n == 0)),
            }
        }
    }
}

fn operand(op: &Operand, node: &Value, root: &Value) -> Option<Value> {
    match op {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Current(segs, definite) => select_segs(segs, *definite, node, root).ok(),
        Operand::Root(segs, definite) => select_segs(segs, *definite, root, root).ok(),
    }
}

fn size(v: &Value) -> Option<usize> {
    match v {
        Value::Array(items) => Some(items.len()),
        Value::String(s) => Some(s.chars().count()),
        _ => None,
    }
}

/// Numbers order by value, strings lexicographically; other pairs do not order.
fn order(l: &Value, r: &Value) -> Option<Ordering> {
    match (l, r) {
        (Value::Number(Number::Int(a)), Value::Number(Number::Int(b))) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    }
}
