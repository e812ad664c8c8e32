//! A byte-level JSON parser straight into `Value`, accepting exactly what serde_json accepts.
//!
//! In: JSON bytes. Out: a `Value`, or the position and kind of the first problem (the public
//! wrapper turns that into serde_json's own message). Nothing here allocates per token beyond the
//! value it builds: array items and object members gather on shared stacks and move into
//! exact-size containers when their bracket closes, and repeated object keys share one `Arc<str>`.

use super::json::ESCAPE;
use super::{Map, Number, Str, Value};
use std::sync::Arc;

/// Nesting allowed before the parser refuses, as serde_json counts it: the 128th open bracket is
/// an error, so the stack never holds more than 127 frames of `value`.
const RECURSION_LIMIT: u32 = 128;

/// Why parsing stopped. The message is only built on the error path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Code {
    EofWhileParsingValue,
    EofWhileParsingString,
    EofWhileParsingList,
    EofWhileParsingObject,
    ExpectedValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    KeyMustBeAString,
    InvalidNumber,
    NumberOutOfRange,
    InvalidEscape,
    InvalidUnicodeCodePoint,
    LoneLeadingSurrogate,
    ControlCharacterWhileParsingString,
    TrailingCharacters,
    RecursionLimitExceeded,
}

impl Code {
    /// serde_json's wording for the same problem.
    pub(super) fn text(self) -> &'static str {
        match self {
            Code::EofWhileParsingValue => "EOF while parsing a value",
            Code::EofWhileParsingString => "EOF while parsing a string",
            Code::EofWhileParsingList => "EOF while parsing a list",
            Code::EofWhileParsingObject => "EOF while parsing an object",
            Code::ExpectedValue => "expected value",
            Code::ExpectedColon => "expected `:`",
            Code::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Code::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Code::KeyMustBeAString => "key must be a string",
            Code::InvalidNumber => "invalid number",
            Code::NumberOutOfRange => "number out of range",
            Code::InvalidEscape => "invalid escape",
            Code::InvalidUnicodeCodePoint => "invalid unicode code point",
            Code::LoneLeadingSurrogate => "lone leading surrogate in hex escape",
            Code::ControlCharacterWhileParsingString => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Code::TrailingCharacters => "trailing characters",
            Code::RecursionLimitExceeded => "recursion limit exceeded",
        }
    }
}

/// A problem and the byte offset where it was seen.
pub(super) type Fail = (Code, usize);

/// Parses a whole document: one value, optional whitespace, nothing else.
pub(super) fn document(bytes: &[u8]) -> Result<Value, Fail> {
    let mut p = Parser {
        bytes,
        pos: 0,
        depth: RECURSION_LIMIT,
        items: Vec::new(),
        members: Vec::new(),
        scratch: Vec::new(),
        keys: std::array::from_fn(|_| None),
    };
    let v = p.value()?;
    p.skip_ws();
    if p.pos < bytes.len() {
        return Err((Code::TrailingCharacters, p.pos));
    }
    Ok(v)
}

/// Slots in the key cache: enough for the distinct keys of typical payload objects.
const KEY_SLOTS: usize = 64;
/// Keys longer than this are not cached (they rarely repeat and cost more to compare).
const KEY_MAX: usize = 32;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Open brackets still allowed.
    depth: u32,
    /// Items of every array being parsed, innermost last.
    items: Vec<Value>,
    /// Members of every object being parsed, innermost last.
    members: Vec<(Str, Value)>,
    /// Unescaped bytes of the string being parsed, when it has escapes.
    scratch: Vec<u8>,
    // PERF: keys shared through a direct-mapped cache instead of one allocation per key.
    keys: [Option<Str>; KEY_SLOTS],
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Value, Fail> {
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Err((Code::EofWhileParsingValue, self.pos));
        };
        match b {
            b'"' => {
                self.pos += 1;
                let s = match self.string()? {
                    Some(s) => s,
                    None => utf8(&self.scratch, self.pos)?,
                };
                Ok(Value::String(Arc::from(s)))
            }
            b'{' => self.nested(Self::object),
            b'[' => self.nested(Self::array),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            _ => Err((Code::ExpectedValue, self.pos)),
        }
    }

    /// Enters one nesting level, refusing past the limit.
    fn nested(&mut self, f: fn(&mut Self) -> Result<Value, Fail>) -> Result<Value, Fail> {
        self.depth -= 1;
        if self.depth == 0 {
            return Err((Code::RecursionLimitExceeded, self.pos));
        }
        self.pos += 1;
        let v = f(self);
        self.depth += 1;
        v
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, Fail> {
        for &w in word {
            match self.peek() {
                None => return Err((Code::EofWhileParsingValue, self.pos)),
                Some(b) if b == w => self.pos += 1,
                Some(_) => return Err((Code::ExpectedValue, self.pos)),
            }
        }
        Ok(v)
    }

    fn array(&mut self) -> Result<Value, Fail> {
        let base = self.items.len();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(Arc::new(Vec::new())));
        }
        let r = self.array_items();
        // PERF: one exact-size Vec per array instead of push-and-grow.
        let items: Vec<Value> = self.items.drain(base..).collect();
        r.map(|()| Value::Array(Arc::new(items)))
    }

    fn array_items(&mut self) -> Result<(), Fail> {
        loop {
            let v = self.value()?;
            self.items.push(v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err((Code::ExpectedListCommaOrEnd, self.pos)),
                None => return Err((Code::EofWhileParsingList, self.pos)),
            }
        }
    }

    fn object(&mut self) -> Result<Value, Fail> {
        let base = self.members.len();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Arc::new(Map::new())));
        }
        let r = self.object_members();
        let mut map = Map::with_capacity(self.members.len() - base);
        for (k, v) in self.members.drain(base..) {
            // Duplicate keys: the last value wins, at the first key's position.
            map.insert(k, v);
        }
        r.map(|()| Value::Object(Arc::new(map)))
    }

    fn object_members(&mut self) -> Result<(), Fail> {
        loop {
            match self.peek() {
                Some(b'"') => self.pos += 1,
                Some(_) => return Err((Code::KeyMustBeAString, self.pos)),
                None => return Err((Code::EofWhileParsingValue, self.pos)),
            }
            let k = self.key()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.pos += 1,
                Some(_) => return Err((Code::ExpectedColon, self.pos)),
                None => return Err((Code::EofWhileParsingObject, self.pos)),
            }
            let v = self.value()?;
            self.members.push((k, v));
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(_) => return Err((Code::ExpectedObjectCommaOrEnd, self.pos)),
                None => return Err((Code::EofWhileParsingObject, self.pos)),
            }
        }
    }

    /// An object key (after its opening quote), shared with earlier equal keys of this document.
    fn key(&mut self) -> Result<Str, Fail> {
        let s = match self.string()? {
            Some(s) => s,
            None => utf8(&self.scratch, self.pos)?,
        };
        if s.len() > KEY_MAX {
            return Ok(Arc::from(s));
        }
        let b = s.as_bytes();
        let h = match b {
            [] => 0,
            [x] => *x as usize,
            [x, .., y] => (*x as usize) ^ ((*y as usize) << 1) ^ (b[b.len() / 2] as usize) << 2,
        };
        let slot = (h ^ b.len().wrapping_mul(7)) % KEY_SLOTS;
        if let Some(k) = &self.keys[slot]
            && k.as_bytes() == b
        {
            return Ok(Arc::clone(k));
        }
        let k: Str = Arc::from(s);
        self.keys[slot] = Some(Arc::clone(&k));
        Ok(k)
    }

    /// A string's contents after its opening quote: borrowed from the input when it has no
    /// escapes, else `None` and the unescaped bytes are in `scratch`.
    fn string(&mut self) -> Result<Option<&'a str>, Fail> {
        let start = self.pos;
        let bytes = self.bytes;
        let mut i = start;
        // The scan stops where a writer would escape: the quote, the backslash, control bytes.
        while i < bytes.len() && !ESCAPE[bytes[i] as usize] {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                utf8(&bytes[start..i], start).map(Some)
            }
            Some(b'\\') => {
                self.scratch.clear();
                self.scratch.extend_from_slice(&bytes[start..i]);
                self.pos = i;
                self.string_escaped()?;
                Ok(None)
            }
            Some(_) => Err((Code::ControlCharacterWhileParsingString, i)),
            None => Err((Code::EofWhileParsingString, i)),
        }
    }

    /// The rest of a string with escapes, unescaped into `scratch`; `pos` is at a backslash.
    fn string_escaped(&mut self) -> Result<(), Fail> {
        let bytes = self.bytes;
        loop {
            let Some(&b) = bytes.get(self.pos) else {
                return Err((Code::EofWhileParsingString, self.pos));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(()),
                b'\\' => self.escape()?,
                0..=0x1f => return Err((Code::ControlCharacterWhileParsingString, self.pos - 1)),
                _ => self.scratch.push(b),
            }
        }
    }

    /// One escape after its backslash.
    fn escape(&mut self) -> Result<(), Fail> {
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err((Code::EofWhileParsingString, self.pos));
        };
        self.pos += 1;
        let c = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(),
            _ => return Err((Code::InvalidEscape, self.pos - 1)),
        };
        self.scratch.push(c);
        Ok(())
    }

    fn unicode_escape(&mut self) -> Result<(), Fail> {
        let hi = self.hex4()?;
        let c = match hi {
            0xDC00..=0xDFFF => return Err((Code::LoneLeadingSurrogate, self.pos)),
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    let at = self.pos.min(self.bytes.len());
                    return Err(if self.pos + 2 > self.bytes.len() {
                        (Code::EofWhileParsingString, self.bytes.len())
                    } else {
                        (Code::LoneLeadingSurrogate, at)
                    });
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err((Code::LoneLeadingSurrogate, self.pos));
                }
                0x10000 + (((hi - 0xD800) << 10) | (lo - 0xDC00))
            }
            _ => hi,
        };
        let ch = char::from_u32(c).ok_or((Code::InvalidUnicodeCodePoint, self.pos))?;
        let mut buf = [0u8; 4];
        self.scratch
            .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let mut n = 0u32;
        for _ in 0..4 {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err((Code::EofWhileParsingString, self.pos));
            };
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err((Code::InvalidEscape, self.pos)),
            };
            n = (n << 4) | u32::from(d);
            self.pos += 1;
        }
        Ok(n)
    }

    /// A number: integers that fit `i64` stay integers; `-0`, fractions, exponents and integers
    /// beyond `i64` become floats (as serde_json reads them); a float overflow is an error.
    fn number(&mut self) -> Result<Number, Fail> {
        let bytes = self.bytes;
        let start = self.pos;
        let negative = bytes[start] == b'-';
        let mut i = start + usize::from(negative);
        let mut sig: u64 = 0;
        let mut overflow = false;
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if let Some(b'0'..=b'9') = bytes.get(i) {
                    return Err((Code::InvalidNumber, i));
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    match sig
                        .checked_mul(10)
                        .and_then(|s| s.checked_add(u64::from(d - b'0')))
                    {
                        Some(s) => sig = s,
                        None => overflow = true,
                    }
                    i += 1;
                }
            }
            Some(_) => return Err((Code::InvalidNumber, i)),
            None => return Err((Code::EofWhileParsingValue, i)),
        }
        let mut float = overflow;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            i = digits(bytes, i)?;
            float = true;
        }
        if let Some(b'e' | b'E') = bytes.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            i = digits(bytes, i)?;
            float = true;
        }
        self.pos = i;
        if !float {
            if !negative {
                if let Ok(n) = i64::try_from(sig) {
                    return Ok(Number::Int(n));
                }
            } else if sig == 0 {
                return Ok(Number::Float(-0.0));
            } else if sig <= 1 << 63 {
                return Ok(Number::Int((sig as i64).wrapping_neg()));
            }
        }
        let text =
            std::str::from_utf8(&bytes[start..i]).map_err(|_| (Code::InvalidNumber, start))?;
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Number::Float(f)),
            _ => Err((Code::NumberOutOfRange, i)),
        }
    }
}

/// At least one digit from `i`; returns the index after the last.
fn digits(bytes: &[u8], mut i: usize) -> Result<usize, Fail> {
    match bytes.get(i) {
        Some(b'0'..=b'9') => {}
        Some(_) => return Err((Code::InvalidNumber, i)),
        None => return Err((Code::EofWhileParsingValue, i)),
    }
    while let Some(b'0'..=b'9') = bytes.get(i) {
        i += 1;
    }
    Ok(i)
}

fn utf8(b: &[u8], at: usize) -> Result<&str, Fail> {
    std::str::from_utf8(b).map_err(|e| (Code::InvalidUnicodeCodePoint, at + e.valid_up_to()))
}
