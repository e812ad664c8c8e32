//! Tokenizer: JSONata source text to tokens, as jsonata-js 2.0.6 splits it.

use super::Error;

/// One token and where it starts (a char offset, as jsonata-js reports positions).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Op(&'static str),
    Str(String),
    Num(f64),
    Value(Lit),
    Name(String),
    Var(String),
    Regex(String, String),
    End,
}

/// `true`, `false` and `null`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Lit {
    True,
    False,
    Null,
}

const OPS2: [&str; 7] = ["..", ":=", "!=", ">=", "<=", "**", "~>"];
const OPS1: &str = ".[]{}(),@#;:?+-*/%|=<>^&!~";

fn op1(c: char) -> Option<&'static str> {
    const ALL: [&str; 26] = [
        ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%",
        "|", "=", "<", ">", "^", "&", "!", "~",
    ];
    ALL.iter().copied().find(|o| o.starts_with(c))
}

pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    pub fn new(src: &str) -> Lexer {
        Lexer {
            chars: src.chars().collect(),
            pos: 0,
        }
    }

    fn err(code: &'static str, pos: usize, token: Option<String>) -> Error {
        Error::new(code, Some(pos), token)
    }

    /// Next token; `regex_ok` says whether a `/` here starts a regex literal (prefix position).
    pub fn next(&mut self, regex_ok: bool) -> Result<(Tok, usize), Error> {
        let c = &self.chars;
        let n = c.len();
        loop {
            while self.pos < n && matches!(c[self.pos], ' ' | '\t' | '\n' | '\r' | '\u{b}') {
                self.pos += 1;
            }
            if self.pos + 1 < n && c[self.pos] == '/' && c[self.pos + 1] == '*' {
                let start = self.pos;
                self.pos += 2;
                loop {
                    if self.pos + 1 >= n {
                        return Err(Self::err("S0106", start, None));
                    }
                    if c[self.pos] == '*' && c[self.pos + 1] == '/' {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let start = self.pos;
        if self.pos >= n {
            return Ok((Tok::End, start));
        }
        let ch = c[self.pos];
        if regex_ok && ch == '/' {
            return self.regex().map(|t| (t, start));
        }
        if self.pos + 1 < n {
            let two: String = c[self.pos..self.pos + 2].iter().collect();
            if let Some(op) = OPS2.iter().find(|o| **o == two) {
                self.pos += 2;
                return Ok((Tok::Op(op), start));
            }
        }
        if OPS1.contains(ch) {
            self.pos += 1;
            return Ok((Tok::Op(op1(ch).expect("listed operator")), start));
        }
        if ch == '"' || ch == '\'' {
            return self.string(ch).map(|t| (t, start));
        }
        if ch.is_ascii_digit() {
            return self.number().map(|t| (t, start));
        }
        if ch == '`' {
            self.pos += 1;
            let from = self.pos;
            while self.pos < n && c[self.pos] != '`' {
                self.pos += 1;
            }
            if self.pos >= n {
                return Err(Self::err("S0105", start, None));
            }
            let name: String = c[from..self.pos].iter().collect();
            self.pos += 1;
            return Ok((Tok::Name(name), start));
        }
        let mut i = self.pos;
        while i < n && !matches!(c[i], ' ' | '\t' | '\n' | '\r' | '\u{b}') && !OPS1.contains(c[i]) {
            i += 1;
        }
        let word: String = c[self.pos..i].iter().collect();
        self.pos = i;
        if let Some(var) = word.strip_prefix('$') {
            return Ok((Tok::Var(var.to_string()), start));
        }
        let tok = match word.as_str() {
            "and" => Tok::Op("and"),
            "or" => Tok::Op("or"),
            "in" => Tok::Op("in"),
            "true" => Tok::Value(Lit::True),
            "false" => Tok::Value(Lit::False),
            "null" => Tok::Value(Lit::Null),
            _ => Tok::Name(word),
        };
        Ok((tok, start))
    }

    /// The raw text of a lambda signature: the current token was its opening `<`.
    pub fn raw_signature(&mut self) -> String {
        let mut depth = 1;
        let mut out = String::from("<");
        while self.pos < self.chars.len() && depth > 0 {
            let ch = self.chars[self.pos];
            self.pos += 1;
            if ch == '<' {
                depth += 1;
            } else if ch == '>' {
                depth -= 1;
            }
            if !ch.is_whitespace() {
                out.push(ch);
            }
        }
        out
    }

    fn regex(&mut self) -> Result<Tok, Error> {
        let c = &self.chars;
        let start = self.pos;
        self.pos += 1;
        let from = self.pos;
        let mut in_class = false;
        loop {
            if self.pos >= c.len() {
                return Err(Self::err("S0302", start, None));
            }
            let ch = c[self.pos];
            if ch == '\\' {
                self.pos += 2;
                continue;
            }
            if ch == '[' {
                in_class = true;
            } else if ch == ']' {
                in_class = false;
            } else if ch == '/' && !in_class {
                break;
            }
            self.pos += 1;
        }
        let pattern: String = c[from..self.pos].iter().collect();
        if pattern.is_empty() {
            return Err(Self::err("S0301", start, None));
        }
        self.pos += 1;
        let ff = self.pos;
        while self.pos < c.len() && matches!(c[self.pos], 'i' | 'm' | 'g' | 's' | 'u' | 'y') {
            self.pos += 1;
        }
        let flags: String = c[ff..self.pos].iter().collect();
        Ok(Tok::Regex(pattern, flags))
    }

    fn string(&mut self, quote: char) -> Result<Tok, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut pending_high: Option<u32> = None;
        loop {
            let Some(&ch) = self.chars.get(self.pos) else {
                return Err(Self::err("S0101", start, None));
            };
            self.pos += 1;
            if ch == quote {
                if let Some(h) = pending_high.take() {
                    out.push(char::from_u32(h).unwrap_or('\u{fffd}'));
                }
                return Ok(Tok::Str(out));
            }
            if ch != '\\' {
                if pending_high.take().is_some() {
                    out.push('\u{fffd}');
                }
                out.push(ch);
                continue;
            }
            let Some(&e) = self.chars.get(self.pos) else {
                return Err(Self::err("S0101", start, None));
            };
            self.pos += 1;
            let simple = match e {
                '"' => Some('"'),
                '\\' => Some('\\'),
                '/' => Some('/'),
                'b' => Some('\u{8}'),
                'f' => Some('\u{c}'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'u' => None,
                other => return Err(Self::err("S0103", self.pos - 1, Some(other.to_string()))),
            };
            if let Some(s) = simple {
                if pending_high.take().is_some() {
                    out.push('\u{fffd}');
                }
                out.push(s);
                continue;
            }
            let hex: String = self.chars.iter().skip(self.pos).take(4).collect();
            if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                return Err(Self::err("S0104", self.pos, None));
            }
            self.pos += 4;
            let code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
            if (0xD800..0xDC00).contains(&code) {
                if pending_high.replace(code).is_some() {
                    out.push('\u{fffd}');
                }
            } else if (0xDC00..0xE000).contains(&code) {
                match pending_high.take() {
                    Some(h) => {
                        let cp = 0x10000 + ((h - 0xD800) << 10) + (code - 0xDC00);
                        out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                    }
                    None => out.push('\u{fffd}'),
                }
            } else {
                if pending_high.take().is_some() {
                    out.push('\u{fffd}');
                }
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
        }
    }

    fn number(&mut self) -> Result<Tok, Error> {
        let c = &self.chars;
        let start = self.pos;
        let mut i = self.pos;
        let digits = |i: &mut usize| {
            let s = *i;
            while *i < c.len() && c[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > s
        };
        if c[i] == '0' {
            i += 1;
        } else {
            digits(&mut i);
        }
        if i + 1 < c.len() && c[i] == '.' && c[i + 1].is_ascii_digit() {
            i += 1;
            digits(&mut i);
        }
        if i < c.len() && (c[i] == 'e' || c[i] == 'E') {
            let mut j = i + 1;
            if j < c.len() && (c[j] == '+' || c[j] == '-') {
                j += 1;
            }
            if digits(&mut j) {
                i = j;
            }
        }
        let text: String = c[start..i].iter().collect();
        self.pos = i;
        let v: f64 = text.parse().unwrap_or(f64::NAN);
        if !v.is_finite() {
            return Err(Self::err("S0102", start, Some(text)));
        }
        Ok(Tok::Num(v))
    }
}
