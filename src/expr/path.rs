//! JSONPath text → [`Path`]: roots, segments, definiteness and Jayway's canonical rendering.

use super::filter::{self, Filter};
use super::{MAX_DEPTH, SyntaxError};
use crate::value::{Str, Value};
use std::fmt::Write as _;
use std::sync::Arc;

/// What a path starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Var(Str),
}

/// One step of a path, as Jayway's path tokens.
#[derive(Clone, Debug)]
pub(crate) enum Seg {
    /// `.a` or `['a']`.
    Prop(Str),
    /// `['a','b']`: at the leaf, an object of the present members.
    Props(Box<[Str]>),
    /// `[0]`, `[-1]`.
    Index(i64),
    /// `[0,2]`.
    Indexes(Box<[i64]>),
    /// `[1:3]`, `[:2]`, `[-2:]`.
    Slice(Option<i64>, Option<i64>),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..`: the next segment applies at every depth.
    Scan,
    /// `[?(...)]`.
    Filter(Box<Filter>),
    /// `.length()`: the size of what the path before selects (always last).
    Length,
}

impl Seg {
    fn is_definite(&self, is_leaf: bool) -> bool {
        match self {
            Seg::Prop(_) | Seg::Index(_) | Seg::Length => true,
            Seg::Props(_) => is_leaf,
            _ => false,
        }
    }
}

/// A parsed JSONPath (`$.a[0]`, `$$.Execution.Id`, `$var.x`, `$..book[?(@.price < 10)]`).
/// Parsed once; `select` walks it without re-reading any text.
#[derive(Clone, Debug)]
pub struct Path {
    pub(crate) text: Str,
    pub(crate) root: Root,
    pub(crate) segs: Box<[Seg]>,
    pub(crate) definite: bool,
}

impl Path {
    /// Parses a path as AWS accepts it in InputPath, OutputPath, ItemsPath, `x.$` values,
    /// Choice `Variable`s and intrinsic arguments.
    pub fn parse(text: &str) -> Result<Path, SyntaxError> {
        let mut cur = Cursor::new(text);
        let root = parse_root(&mut cur)?;
        let segs = parse_segments(&mut cur, false, 0)?;
        if !cur.at_end() {
            return Err(cur.error("unexpected character"));
        }
        Ok(Path::from_parts(text, root, segs))
    }

    pub(crate) fn from_parts(text: &str, root: Root, segs: Vec<Seg>) -> Path {
        let definite = segs_definite(&segs);
        Path {
            text: Str::from(text),
            root,
            segs: segs.into_boxed_slice(),
            definite,
        }
    }

    /// Whether the path names at most one node (no wildcard, slice, filter, deep scan or
    /// index list): such a path yields the node itself, others yield an array of matches.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// The path's root.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The text the path was parsed from, as AWS quotes it in messages (`'$.a.b'`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the path is its root alone (`$`, `$$`, `$var`).
    pub fn is_root_only(&self) -> bool {
        self.segs.is_empty()
    }

    /// Jayway's bracket rendering (`$['a']['b'][0]`), which AWS prints in path errors. The
    /// root always renders as `$`, because AWS evaluates `$$` and `$var` paths against their
    /// own document.
    pub fn canonical(&self) -> String {
        render(&self.segs)
    }
}

pub(crate) fn segs_definite(segs: &[Seg]) -> bool {
    let n = segs.len();
    segs.iter()
        .enumerate()
        .all(|(i, s)| s.is_definite(i + 1 == n))
}

/// `$` followed by the rendering of `segs`.
pub(crate) fn render(segs: &[Seg]) -> String {
    let mut out = String::from("$");
    for s in segs {
        render_seg(&mut out, s);
    }
    out
}

pub(crate) fn render_seg(out: &mut String, seg: &Seg) {
    match seg {
        Seg::Prop(p) => {
            let _ = write!(out, "['{p}']");
        }
        Seg::Props(ps) => {
            out.push('[');
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "'{p}'");
            }
            out.push(']');
        }
        Seg::Index(i) => {
            let _ = write!(out, "[{i}]");
        }
        Seg::Indexes(is) => {
            out.push('[');
            for (n, i) in is.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{i}");
            }
            out.push(']');
        }
        Seg::Slice(a, b) => {
            out.push('[');
            if let Some(a) = a {
                let _ = write!(out, "{a}");
            }
            out.push(':');
            if let Some(b) = b {
                let _ = write!(out, "{b}");
            }
            out.push(']');
        }
        Seg::Wildcard => out.push_str("[*]"),
        Seg::Scan => out.push_str(".."),
        Seg::Filter(_) => out.push_str("[?]"),
        Seg::Length => out.push_str(".length()"),
    }
}

/// The number literal starting at `start` (a `-` or a digit) in a filter or an intrinsic's
/// argument list, and where it ends: an integer when it reads as one, else a finite float, else
/// `None`.
pub(crate) fn number_at(text: &str, start: usize) -> (Option<Value>, usize) {
    let bytes = text.as_bytes();
    let mut end = start + 1;
    while matches!(
        bytes.get(end),
        Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
    ) {
        end += 1;
    }
    let literal = text.get(start..end).unwrap_or("");
    let number = match literal.parse::<i64>() {
        Ok(i) => Some(Value::int(i)),
        Err(_) => literal
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::float),
    };
    (number, end)
}

/// A byte cursor over path text; all delimiters are ASCII so byte slicing stays on char
/// boundaries.
pub(crate) struct Cursor<'a> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
    /// Segments parsed so far, nested filters included (bounds evaluation recursion).
    segments: usize,
    /// Deep scans parsed so far (each may recurse through the whole input).
    scans: usize,
}

/// Most segments one path may hold, nested filter paths included.
const MAX_SEGMENTS: usize = 256;
/// Most deep scans (`..`) one path may hold.
const MAX_SCANS: usize = 4;

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            text,
            pos: 0,
            segments: 0,
            scans: 0,
        }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// `text[a..b]`, or `""` if that is not on char boundaries (never panics).
    pub(crate) fn slice(&self, a: usize, b: usize) -> &'a str {
        self.text.get(a..b).unwrap_or("")
    }

    /// The text from the cursor on.
    pub(crate) fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + n).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, b: u8) -> Result<(), SyntaxError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", b as char)))
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    pub(crate) fn error(&self, what: &str) -> SyntaxError {
        SyntaxError::new(format!(
            "Invalid JSONPath '{}': {what} at position {}",
            self.text, self.pos
        ))
    }

    /// A quoted string starting at the current quote. `\` escapes the quote character only;
    /// before anything else it stays a backslash (AWS reads `$['a\"b']` as the key `a\"b`).
    pub(crate) fn quoted(&mut self) -> Result<String, SyntaxError> {
        let quote = self.peek().ok_or_else(|| self.error("expected a quote"))?;
        self.pos += 1;
        let mut out = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b) if b == quote => {
                    out.push_str(self.slice(start, self.pos));
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') if self.peek_at(1) == Some(quote) => {
                    out.push_str(self.slice(start, self.pos));
                    out.push(quote as char);
                    self.pos += 2;
                    start = self.pos;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// An optionally signed integer.
    pub(crate) fn integer(&mut self) -> Result<i64, SyntaxError> {
        let start = self.pos;
        self.eat(b'-');
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
            .parse()
            .map_err(|_| self.error("expected an integer"))
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn parse_root(cur: &mut Cursor) -> Result<Root, SyntaxError> {
    if !cur.eat(b'$') {
        return Err(cur.error("a path must start with '$'"));
    }
    if cur.eat(b'$') {
        return Ok(Root::Context);
    }
    match cur.peek() {
        Some(b) if is_ident_start(b) => {
            let start = cur.pos;
            while cur.peek().is_some_and(is_ident_char) {
                cur.pos += 1;
            }
            Ok(Root::Var(Str::from(cur.slice(start, cur.pos))))
        }
        _ => Ok(Root::Input),
    }
}

/// Characters that end a dot-notation member name. Inside a filter, operators and
/// parentheses end it too.
fn ends_name(b: u8, in_filter: bool) -> bool {
    matches!(b, b'.' | b'[' | b'(' | b' ')
        || (in_filter && matches!(b, b')' | b'=' | b'<' | b'>' | b'!' | b'&' | b'|' | b','))
}

/// Segments until the text ends or (inside a filter) something that is not a segment.
pub(crate) fn parse_segments(
    cur: &mut Cursor,
    in_filter: bool,
    depth: usize,
) -> Result<Vec<Seg>, SyntaxError> {
    let mut segs = Vec::new();
    loop {
        if matches!(segs.last(), Some(Seg::Length)) {
            return Ok(segs);
        }
        cur.segments += 1;
        if cur.segments > MAX_SEGMENTS {
            return Err(cur.error("path has too many segments"));
        }
        match cur.peek() {
            Some(b'.') if cur.peek_at(1) == Some(b'.') => {
                cur.pos += 2;
                cur.scans += 1;
                if cur.scans > MAX_SCANS {
                    return Err(cur.error("path has too many deep scans"));
                }
                segs.push(Seg::Scan);
                match cur.peek() {
                    Some(b'[') => segs.push(parse_bracket(cur, depth)?),
                    Some(b'*') => {
                        cur.pos += 1;
                        segs.push(Seg::Wildcard);
                    }
                    _ => segs.push(parse_dot_name(cur, in_filter)?),
                }
            }
            Some(b'.') => {
                cur.pos += 1;
                if cur.eat(b'*') {
                    segs.push(Seg::Wildcard);
                } else if cur.peek() == Some(b'[') {
                    // Jayway reads a dot before a bracket as nothing: `$.[0]` is `$[0]`,
                    // `$.a.['b']` is `$.a['b']` (AWS accepts and evaluates them so).
                    segs.push(parse_bracket(cur, depth)?);
                } else {
                    segs.push(parse_dot_name(cur, in_filter)?);
                }
            }
            Some(b'[') => segs.push(parse_bracket(cur, depth)?),
            _ => return Ok(segs),
        }
    }
}

fn parse_dot_name(cur: &mut Cursor, in_filter: bool) -> Result<Seg, SyntaxError> {
    let start = cur.pos;
    while cur.peek().is_some_and(|b| !ends_name(b, in_filter)) {
        cur.pos += 1;
    }
    if cur.pos == start {
        return Err(cur.error("expected a member name"));
    }
    let name = cur.slice(start, cur.pos);
    if cur.peek() == Some(b'(') {
        if name == "length" && cur.peek_at(1) == Some(b')') {
            cur.pos += 2;
            return Ok(Seg::Length);
        }
        return Err(cur.error(&format!("unsupported function '{name}()'")));
    }
    Ok(Seg::Prop(Arc::from(name)))
}

fn parse_bracket(cur: &mut Cursor, depth: usize) -> Result<Seg, SyntaxError> {
    cur.expect(b'[')?;
    cur.skip_ws();
    let seg = match cur.peek() {
        Some(b'\'' | b'"') => {
            let mut names = vec![Str::from(cur.quoted()?)];
            cur.skip_ws();
            while cur.eat(b',') {
                cur.skip_ws();
                if !matches!(cur.peek(), Some(b'\'' | b'"')) {
                    return Err(cur.error("expected a quoted member name"));
                }
                names.push(Str::from(cur.quoted()?));
                cur.skip_ws();
            }
            if names.len() == 1 {
                Seg::Prop(names.pop().unwrap_or_else(|| Str::from("")))
            } else {
                Seg::Props(names.into_boxed_slice())
            }
        }
        Some(b'*') => {
            cur.pos += 1;
            cur.skip_ws();
            Seg::Wildcard
        }
        Some(b'?') => {
            cur.pos += 1;
            cur.skip_ws();
            cur.expect(b'(')?;
            let f = filter::parse(cur, depth + 1)?;
            cur.skip_ws();
            cur.expect(b')')?;
            cur.skip_ws();
            Seg::Filter(Box::new(f))
        }
        Some(b':') => {
            cur.pos += 1;
            cur.skip_ws();
            let end = cur.integer()?;
            cur.skip_ws();
            Seg::Slice(None, Some(end))
        }
        Some(b'-' | b'0'..=b'9') => parse_index_or_slice(cur)?,
        _ => return Err(cur.error("unexpected character in brackets")),
    };
    cur.expect(b']')?;
    if depth > MAX_DEPTH {
        return Err(cur.error("path nested too deeply"));
    }
    Ok(seg)
}

fn parse_index_or_slice(cur: &mut Cursor) -> Result<Seg, SyntaxError> {
    let first = cur.integer()?;
    cur.skip_ws();
    if cur.eat(b':') {
        cur.skip_ws();
        let end = if matches!(cur.peek(), Some(b'-' | b'0'..=b'9')) {
            Some(cur.integer()?)
        } else {
            None
        };
        cur.skip_ws();
        return Ok(Seg::Slice(Some(first), end));
    }
    let mut all = vec![first];
    while cur.eat(b',') {
        cur.skip_ws();
        all.push(cur.integer()?);
        cur.skip_ws();
    }
    Ok(if all.len() == 1 {
        Seg::Index(first)
    } else {
        Seg::Indexes(all.into_boxed_slice())
    })
}
