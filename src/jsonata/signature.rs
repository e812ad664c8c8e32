//! Function signatures (`<s-n?:s>`): parsed once, then used to validate and coerce arguments
//! exactly as jsonata-js's signature.js does (context substitution, array wrapping, T0410-T0412).

use std::rc::Rc;

use super::Error;
use super::value::{Arr, V};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Quant {
    One,
    Opt,
    Plus,
}

#[derive(Clone, Debug)]
pub(crate) struct Param {
    kind: char,
    allowed: String,
    quant: Quant,
    context: bool,
    subtype: Option<String>,
}

/// A parsed signature.
#[derive(Clone, Debug)]
pub(crate) struct Signature {
    pub params: Vec<Param>,
}

fn sig_err(code: &'static str, offset: usize) -> Error {
    let mut e = Error::new(code, Some(offset), None);
    e.detail_mut().value = Some(offset.to_string());
    e
}

impl Signature {
    pub fn parse(text: &str) -> Result<Signature, Error> {
        let chars: Vec<char> = text.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut i = 1; // skip '<'
        while i < chars.len() {
            let c = chars[i];
            match c {
                's' | 'n' | 'b' | 'l' | 'o' => params.push(param(c, format!("{c}m"))),
                'a' => params.push(param('a', "asnblfom".into())),
                'f' => params.push(param('f', "f".into())),
                'j' => params.push(param('j', "asnblom".into())),
                'x' => params.push(param('x', "asnblfom".into())),
                '(' => {
                    let close = chars[i..].iter().position(|&x| x == ')').map(|p| p + i);
                    let Some(close) = close else {
                        return Err(sig_err("S0401", i));
                    };
                    let choice: String = chars[i + 1..close].iter().collect();
                    if choice.contains('<') {
                        return Err(sig_err("S0402", i));
                    }
                    params.push(param('(', format!("{choice}m")));
                    i = close;
                }
                '-' => {
                    let Some(p) = params.last_mut() else {
                        return Err(sig_err("S0401", i));
                    };
                    p.context = true;
                    p.quant = Quant::Opt;
                }
                '?' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Opt;
                    }
                }
                '+' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Plus;
                    }
                }
                '<' => {
                    let Some(p) = params.last_mut() else {
                        return Err(sig_err("S0401", i));
                    };
                    if p.kind != 'a' && p.kind != 'f' {
                        return Err(sig_err("S0401", i));
                    }
                    let mut depth = 1;
                    let mut j = i + 1;
                    while j < chars.len() && depth > 0 {
                        if chars[j] == '<' {
                            depth += 1;
                        } else if chars[j] == '>' {
                            depth -= 1;
                        }
                        j += 1;
                    }
                    p.subtype = Some(
                        chars[i + 1..j.saturating_sub(1).max(i + 1)]
                            .iter()
                            .collect(),
                    );
                    i = j - 1;
                }
                ':' | '>' => break,
                _ => return Err(sig_err("S0401", i)),
            }
            i += 1;
        }
        Ok(Signature { params })
    }

    /// How many arguments a higher-order function passes to this built-in (its required ones).
    pub fn hof_arity(&self) -> usize {
        self.params
            .iter()
            .filter(|p| p.quant != Quant::Opt || p.context)
            .count()
    }

    /// Validates `args` (with `context` for `-` parameters) and returns the coerced argument list.
    pub fn validate(
        &self,
        args: &[Option<V>],
        context: Option<&V>,
    ) -> Result<Vec<Option<V>>, Error> {
        let symbols: Vec<char> = args.iter().map(|a| V::sig_symbol(a.as_ref())).collect();
        let Some(spans) = self.matches(&symbols) else {
            return Err(self.validation_error(args, &symbols));
        };
        let mut out = Vec::with_capacity(args.len());
        let mut ai = 0;
        for (p, (start, len)) in self.params.iter().zip(spans) {
            if len == 0 {
                if p.context {
                    let ct = V::sig_symbol(context);
                    if p.allowed.contains(ct) {
                        out.push(context.cloned());
                    } else {
                        let mut e = Error::new("T0411", None, None);
                        e.detail_mut().value = context.map(super::numfmt::describe);
                        e.detail_mut().index = Some(ai + 1);
                        return Err(e);
                    }
                } else {
                    out.push(args.get(ai).cloned().flatten());
                    ai += 1;
                }
                continue;
            }
            for k in 0..len {
                let single = symbols[start + k];
                let arg = args.get(ai).cloned().flatten();
                if p.kind == 'a' {
                    if single == 'm' {
                        out.push(None);
                        ai += 1;
                        continue;
                    }
                    let mut ok = true;
                    if let Some(sub) = &p.subtype {
                        let sub0 = sub.chars().next().unwrap_or('x');
                        if single != 'a' {
                            ok = sub0 == single || sub0 == 'x';
                        } else if let Some(V::Arr(a)) = &arg
                            && !a.items.is_empty()
                            && sub0 != 'x'
                        {
                            ok = a.items.iter().all(|x| V::sig_symbol(Some(x)) == sub0);
                        }
                    }
                    if !ok {
                        let mut e = Error::new("T0412", None, None);
                        e.detail_mut().value = arg.as_ref().map(super::numfmt::describe);
                        e.detail_mut().index = Some(ai + 1);
                        e.detail_mut().type_name =
                            p.subtype.as_deref().map(|s| match s.chars().next() {
                                Some('s') => "strings",
                                Some('n') => "numbers",
                                Some('b') => "booleans",
                                Some('o') => "objects",
                                Some('f') => "functions",
                                Some('a') => "arrays",
                                _ => "values",
                            });
                        return Err(e);
                    }
                    if single != 'a' {
                        out.push(arg.map(|v| {
                            V::Arr(Rc::new(Arr {
                                items: vec![v],
                                ..Arr::default()
                            }))
                        }));
                    } else {
                        out.push(arg);
                    }
                } else {
                    out.push(arg);
                }
                ai += 1;
            }
        }
        Ok(out)
    }

    /// Per-parameter (start, length) spans of a full match of `symbols`, or `None`.
    fn matches(&self, symbols: &[char]) -> Option<Vec<(usize, usize)>> {
        let mut spans = Vec::with_capacity(self.params.len());
        if self.match_from(0, 0, symbols, &mut spans, true) {
            Some(spans)
        } else {
            None
        }
    }

    fn match_from(
        &self,
        pi: usize,
        si: usize,
        symbols: &[char],
        spans: &mut Vec<(usize, usize)>,
        full: bool,
    ) -> bool {
        if pi == self.params.len() {
            return !full || si == symbols.len();
        }
        let p = &self.params[pi];
        let mut max = 0;
        while si + max < symbols.len() && p.allowed.contains(symbols[si + max]) {
            max += 1;
            if p.quant != Quant::Plus {
                break;
            }
        }
        let min = if p.quant == Quant::One || p.quant == Quant::Plus {
            1
        } else {
            0
        };
        let mut n = max;
        loop {
            if n < min {
                return false;
            }
            spans.push((si, n));
            if self.match_from(pi + 1, si + n, symbols, spans, full) {
                return true;
            }
            spans.pop();
            if n == 0 {
                return false;
            }
            n -= 1;
        }
    }

    fn validation_error(&self, args: &[Option<V>], symbols: &[char]) -> Error {
        let mut good = 0;
        for k in 1..=self.params.len() {
            let prefix = Signature {
                params: self.params[..k].to_vec(),
            };
            let mut spans = Vec::new();
            // longest prefix match of the first k params
            let mut best = None;
            for end in (0..=symbols.len()).rev() {
                if prefix.match_from(0, 0, &symbols[..end], &mut spans, true) {
                    best = Some(end);
                    break;
                }
                spans.clear();
            }
            match best {
                Some(end) => good = end,
                None => break,
            }
        }
        let mut e = Error::new("T0410", None, None);
        e.detail_mut().value = args
            .get(good)
            .cloned()
            .flatten()
            .as_ref()
            .map(super::numfmt::describe);
        e.detail_mut().index = Some(good + 1);
        e
    }
}

fn param(kind: char, allowed: String) -> Param {
    Param {
        kind,
        allowed,
        quant: Quant::One,
        context: false,
        subtype: None,
    }
}
