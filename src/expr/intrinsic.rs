//! Intrinsic function calls (`States.Format('x={}', $.x)`): parsed once into a call tree.

use super::functions;
use super::path::{Path, number_at};
use super::{EvalError, MAX_DEPTH, PathError, Scope, SyntaxError};
use crate::value::Value;

/// The 18 intrinsic functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntrinsicFn {
    /// `States.Format(template, args…)`: `{}` placeholders filled in order.
    Format,
    /// `States.StringToJson(text)`: parses JSON text.
    StringToJson,
    /// `States.JsonToString(value)`: JSON text of a value.
    JsonToString,
    /// `States.Array(values…)`: an array of its arguments.
    Array,
    /// `States.ArrayPartition(array, size)`: chunks of at most `size` items.
    ArrayPartition,
    /// `States.ArrayContains(array, value)`: whether the value is an item.
    ArrayContains,
    /// `States.ArrayRange(first, last, step)`: the numbers from first to last by step.
    ArrayRange,
    /// `States.ArrayGetItem(array, index)`: the item at an index.
    ArrayGetItem,
    /// `States.ArrayLength(array)`: the number of items.
    ArrayLength,
    /// `States.ArrayUnique(array)`: the items without duplicates, first occurrences kept.
    ArrayUnique,
    /// `States.Base64Encode(text)`: base64 of the UTF-8 bytes.
    Base64Encode,
    /// `States.Base64Decode(text)`: the text that base64 encodes.
    Base64Decode,
    /// `States.Hash(data, algorithm)`: hex digest (MD5, SHA-1, SHA-256, SHA-384, SHA-512).
    Hash,
    /// `States.JsonMerge(a, b, false)`: a shallow merge, `b`'s members winning.
    JsonMerge,
    /// `States.MathRandom(start, end[, seed])`: a random integer in `[start, end)`.
    MathRandom,
    /// `States.MathAdd(a, b)`: the sum of two integers.
    MathAdd,
    /// `States.StringSplit(text, delimiter)`: the pieces between delimiters.
    StringSplit,
    /// `States.UUID()`: a random version-4 UUID.
    Uuid,
}

impl IntrinsicFn {
    const ALL: [IntrinsicFn; 18] = [
        IntrinsicFn::Format,
        IntrinsicFn::StringToJson,
        IntrinsicFn::JsonToString,
        IntrinsicFn::Array,
        IntrinsicFn::ArrayPartition,
        IntrinsicFn::ArrayContains,
        IntrinsicFn::ArrayRange,
        IntrinsicFn::ArrayGetItem,
        IntrinsicFn::ArrayLength,
        IntrinsicFn::ArrayUnique,
        IntrinsicFn::Base64Encode,
        IntrinsicFn::Base64Decode,
        IntrinsicFn::Hash,
        IntrinsicFn::JsonMerge,
        IntrinsicFn::MathRandom,
        IntrinsicFn::MathAdd,
        IntrinsicFn::StringSplit,
        IntrinsicFn::Uuid,
    ];

    /// The name as written in ASL (`States.Format`).
    pub fn name(self) -> &'static str {
        match self {
            IntrinsicFn::Format => "States.Format",
            IntrinsicFn::StringToJson => "States.StringToJson",
            IntrinsicFn::JsonToString => "States.JsonToString",
            IntrinsicFn::Array => "States.Array",
            IntrinsicFn::ArrayPartition => "States.ArrayPartition",
            IntrinsicFn::ArrayContains => "States.ArrayContains",
            IntrinsicFn::ArrayRange => "States.ArrayRange",
            IntrinsicFn::ArrayGetItem => "States.ArrayGetItem",
            IntrinsicFn::ArrayLength => "States.ArrayLength",
            IntrinsicFn::ArrayUnique => "States.ArrayUnique",
            IntrinsicFn::Base64Encode => "States.Base64Encode",
            IntrinsicFn::Base64Decode => "States.Base64Decode",
            IntrinsicFn::Hash => "States.Hash",
            IntrinsicFn::JsonMerge => "States.JsonMerge",
            IntrinsicFn::MathRandom => "States.MathRandom",
            IntrinsicFn::MathAdd => "States.MathAdd",
            IntrinsicFn::StringSplit => "States.StringSplit",
            IntrinsicFn::Uuid => "States.UUID",
        }
    }

    fn from_name(name: &str) -> Option<IntrinsicFn> {
        IntrinsicFn::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One argument of a call.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// A literal: string, number, `null`, boolean.
    Literal(Value),
    Path(Path),
    Call(Box<Intrinsic>),
}

/// A piece of a `States.Format` template.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Placeholder,
}

/// A parsed intrinsic call; nested calls are evaluated innermost first.
#[derive(Clone, Debug)]
pub struct Intrinsic {
    pub(crate) func: IntrinsicFn,
    pub(crate) args: Box<[Arg]>,
    /// For `States.Format` with a valid literal template: its pieces, split once here.
    pub(crate) pieces: Option<Box<[Piece]>>,
}

impl Intrinsic {
    /// Parses a call as written in a `x.$` field, a Fail state's `ErrorPath`/`CausePath` or a
    /// nested argument.
    pub fn parse(text: &str) -> Result<Intrinsic, SyntaxError> {
        let mut p = Parser { text, pos: 0 };
        let call = p.call(0)?;
        p.skip_ws();
        if p.pos != text.len() {
            return Err(p.error("unexpected text after the call"));
        }
        Ok(call)
    }

    /// Whether `text` looks like an intrinsic call rather than a path (`States.` prefix).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Which function this is.
    pub fn func(&self) -> IntrinsicFn {
        self.func
    }

    /// Evaluates the call. Path arguments that select nothing fail with Jayway's text.
    pub fn eval(&self, scope: &Scope) -> Result<Value, EvalError> {
        self.eval_field(scope, None)
    }

    /// Evaluates for a named field (`value.$`, `CausePath`), which AWS quotes when an
    /// argument's path selects nothing.
    pub fn eval_for(&self, scope: &Scope, field: &str) -> Result<Value, EvalError> {
        self.eval_field(scope, Some(field))
    }

    pub(crate) fn eval_field(
        &self,
        scope: &Scope,
        field: Option<&str>,
    ) -> Result<Value, EvalError> {
        let mut values = Vec::with_capacity(self.args.len());
        for arg in self.args.iter() {
            values.push(match arg {
                Arg::Literal(v) => v.clone(),
                Arg::Path(p) => select_arg(p, scope, field)?,
                Arg::Call(c) => c.eval_field(scope, field)?,
            });
        }
        functions::call(self, values)
    }
}

/// A path argument's value, or AWS's text for a path that selects nothing.
pub(crate) fn select_arg(p: &Path, scope: &Scope, field: Option<&str>) -> Result<Value, EvalError> {
    p.select(scope)
        .map_err(|e| path_failure(p, scope, field, e))
}

/// Turns a path failure inside a template or intrinsic into AWS's cause text.
pub(crate) fn path_failure(
    p: &Path,
    scope: &Scope,
    field: Option<&str>,
    e: PathError,
) -> EvalError {
    match (e, field) {
        (PathError::UnknownVariable(name), _) => EvalError::unknown_variable(&name),
        (PathError::NotFound(_), Some(field)) => {
            let doc = match p.root() {
                super::Root::Context => scope.context,
                _ => scope.input,
            };
            EvalError::runtime(format!(
                "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                p.text(),
                doc.to_json()
            ))
        }
        (e, _) => EvalError::runtime(e.cause(p.text())),
    }
}

/// Splits a Format template: `{}` is a placeholder, `\x` is the character `x`. A brace that is
/// not part of `{}` makes the template invalid (`None`), as AWS rejects `'Hello {'`.
pub(crate) fn split_template(raw: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    text.push(n);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Placeholder);
            }
            '{' | '}' => return None,
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Some(pieces)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn slice(&self, a: usize, b: usize) -> &str {
        self.text.get(a..b).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error(&self, what: &str) -> SyntaxError {
        SyntaxError::new(format!(
            "Invalid intrinsic function call '{}': {what} at position {}",
            self.text, self.pos
        ))
    }

    fn call(&mut self, depth: usize) -> Result<Intrinsic, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.error("calls nested too deeply"));
        }
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
        {
            self.pos += 1;
        }
        let name = self.slice(start, self.pos);
        let func = IntrinsicFn::from_name(name)
            .ok_or_else(|| self.error(&format!("unknown function '{name}'")))?;
        self.skip_ws();
        if self.peek() != Some(b'(') {
            return Err(self.error("expected '('"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        let mut raw_first: Option<String> = None;
        self.skip_ws();
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            loop {
                let (arg, raw) = self.arg(depth)?;
                if args.is_empty() {
                    raw_first = raw;
                }
                args.push(arg);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.error("expected ',' or ')'")),
                }
            }
        }
        let pieces = match (func, raw_first) {
            (IntrinsicFn::Format, Some(raw)) => split_template(&raw).map(Vec::into_boxed_slice),
            _ => None,
        };
        Ok(Intrinsic {
            func,
            args: args.into_boxed_slice(),
            pieces,
        })
    }

    /// One argument; for a string literal also its raw text (escapes kept) for Format.
    fn arg(&mut self, depth: usize) -> Result<(Arg, Option<String>), SyntaxError> {
        self.skip_ws();
        match self.peek() {
            Some(b'\'') => {
                let (value, raw) = self.string()?;
                Ok((Arg::Literal(Value::from(value)), Some(raw)))
            }
            Some(b'$') => Ok((Arg::Path(self.path()?), None)),
            Some(b'-' | b'0'..=b'9') => Ok((Arg::Literal(self.number()?), None)),
            _ => {
                let rest = self.slice(self.pos, self.text.len());
                for (word, v) in [
                    ("null", Value::Null),
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                ] {
                    let after = rest.as_bytes().get(word.len()).copied();
                    if rest.starts_with(word) && !after.is_some_and(|b| b.is_ascii_alphanumeric()) {
                        self.pos += word.len();
                        return Ok((Arg::Literal(v), None));
                    }
                }
                if rest.starts_with("States.") {
                    return Ok((Arg::Call(Box::new(self.call(depth + 1)?)), None));
                }
                Err(self.error("expected an argument"))
            }
        }
    }

    /// `'...'` with `\'`, `\\`, `\{`, `\}` escapes: the value and the raw inner text.
    fn string(&mut self) -> Result<(String, String), SyntaxError> {
        self.pos += 1;
        let start = self.pos;
        let mut value = String::new();
        loop {
            let rest = self.slice(self.pos, self.text.len());
            let mut chars = rest.chars();
            match chars.next() {
                None => return Err(self.error("unterminated string")),
                Some('\'') => {
                    let raw = self.slice(start, self.pos).to_string();
                    self.pos += 1;
                    return Ok((value, raw));
                }
                Some('\\') => {
                    let n = chars
                        .next()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    value.push(n);
                    self.pos += 1 + n.len_utf8();
                }
                Some(c) => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let (number, end) = number_at(self.text, self.pos);
        self.pos = end;
        number.ok_or_else(|| self.error("invalid number"))
    }

    /// A path runs to the next top-level `,` or `)`; brackets, parentheses and quotes nest.
    fn path(&mut self) -> Result<Path, SyntaxError> {
        let start = self.pos;
        let mut nesting = 0usize;
        let mut quote: Option<u8> = None;
        while let Some(b) = self.peek() {
            match (quote, b) {
                (Some(_), b'\\') => self.pos += 1,
                (Some(q), b) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'\'' | b'"') => quote = Some(b),
                (None, b'[' | b'(') => nesting += 1,
                (None, b']' | b')') if nesting > 0 => nesting -= 1,
                (None, b',' | b')') => break,
                _ => {}
            }
            self.pos += 1;
        }
        let text = self
            .text
            .get(start..self.pos)
            .ok_or_else(|| self.error("bad path"))?;
        Path::parse(text.trim_end())
    }
}
