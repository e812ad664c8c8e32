//! Pratt parser (jsonata-js's grammar and binding powers) and the post-parse pass that turns the
//! raw tree into the annotated `Node` tree the evaluator runs (paths, stages, tuples, tail calls).

use std::sync::Arc;

use super::Error;
use super::ancestry::{Pctx, push_ancestry, resolve_ancestry, seek_parent, slots_of};
use super::ast::{BinOp, GroupBy, Kind, LambdaDef, Node, SortTerm, Stage, TransformDef};
use super::lexer::{Lexer, Lit, Tok};
use super::literals::Literals;
use super::signature::Signature;
use super::value::Regex;

const MAX_PARSE_DEPTH: usize = 200;

#[derive(Debug)]
enum P {
    Str(String),
    Num(f64),
    Value(Lit),
    Name(String),
    Var(String),
    Regex(String, String),
    Wildcard,
    Descendant,
    Parent,
    Placeholder,
    Binary(&'static str, Box<Pn>, Box<Pn>),
    Neg(Box<Pn>),
    Array(Vec<Pn>),
    Object(Vec<(Pn, Pn)>),
    Group(Box<Pn>, Vec<(Pn, Pn)>),
    Predicate(Box<Pn>, Box<Pn>),
    Sort(Box<Pn>, Vec<(bool, Pn)>),
    Bind(String, Box<Pn>),
    Focus(Box<Pn>, String),
    Index(Box<Pn>, String),
    Call(Box<Pn>, Vec<Pn>, bool),
    Lambda(Vec<String>, Option<Signature>, Box<Pn>),
    Condition(Box<Pn>, Box<Pn>, Option<Box<Pn>>),
    Block(Vec<Pn>),
    Transform(Box<Pn>, Box<Pn>, Option<Box<Pn>>),
}

#[derive(Debug)]
struct Pn {
    p: P,
    pos: usize,
    keep_array: bool,
}

fn pn(p: P, pos: usize) -> Pn {
    Pn {
        p,
        pos,
        keep_array: false,
    }
}

fn lbp(t: &Tok) -> u32 {
    match t {
        Tok::Op(op) => match *op {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "?" => 20,
            "+" | "-" | "&" => 50,
            "*" | "/" | "%" => 60,
            "=" | "<" | ">" | "!=" | "<=" | ">=" | "^" | "~>" | "in" => 40,
            ":=" => 10,
            "and" => 30,
            "or" => 25,
            _ => 0,
        },
        _ => 0,
    }
}

struct Parser {
    lx: Lexer,
    tok: Tok,
    pos: usize,
    depth: usize,
    stack_base: usize,
}

fn tok_text(t: &Tok) -> Option<String> {
    Some(match t {
        Tok::Op(o) => o.to_string(),
        Tok::Str(s) | Tok::Name(s) => s.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Num(n) => super::numfmt::js_number(*n),
        Tok::Value(Lit::True) => "true".into(),
        Tok::Value(Lit::False) => "false".into(),
        Tok::Value(Lit::Null) => "null".into(),
        Tok::Regex(p, _) => p.clone(),
        Tok::End => return None,
    })
}

impl Parser {
    fn advance(&mut self) -> Result<(Tok, usize), Error> {
        let regex_ok = !matches!(
            self.tok,
            Tok::Name(_)
                | Tok::Var(_)
                | Tok::Str(_)
                | Tok::Num(_)
                | Tok::Value(_)
                | Tok::Regex(..)
                | Tok::Op(")")
                | Tok::Op("]")
                | Tok::Op("}")
        );
        let (t, p) = self.lx.next(regex_ok)?;
        if matches!(t, Tok::Op("!") | Tok::Op("~")) {
            return Err(Error::new("S0204", Some(p), tok_text(&t)));
        }
        let old = std::mem::replace(&mut self.tok, t);
        let old_pos = std::mem::replace(&mut self.pos, p);
        Ok((old, old_pos))
    }

    fn expect(&mut self, op: &'static str) -> Result<(), Error> {
        if self.tok == Tok::Op(op) {
            self.advance()?;
            return Ok(());
        }
        if self.tok == Tok::End {
            let mut e = Error::new("S0203", Some(self.pos), None);
            e.detail_mut().value = Some(op.to_string());
            e.message = format!("Expected {op} before end of expression");
            return Err(e);
        }
        let mut e = Error::new("S0202", Some(self.pos), tok_text(&self.tok));
        e.message = format!(
            "Expected {op}, got {}",
            tok_text(&self.tok).unwrap_or_default()
        );
        Err(e)
    }

    fn is(&self, op: &str) -> bool {
        matches!(self.tok, Tok::Op(o) if o == op)
    }

    fn expression(&mut self, rbp: u32) -> Result<Pn, Error> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH
            || super::stack_addr().abs_diff(self.stack_base) > super::PARSE_STACK
        {
            return Err(Error::new("S0201", Some(self.pos), Some("(depth)".into())));
        }
        let (t, p) = self.advance()?;
        let mut left = self.nud(t, p)?;
        // Each infix step nests `left` one level deeper without recursing here, so it counts
        // as depth too: a chain of 27,000 `+` would otherwise build a tree whose drop (and
        // every later pass) overflows the stack.
        let entered = self.depth;
        while rbp < lbp(&self.tok) {
            self.depth += 1;
            if self.depth > MAX_PARSE_DEPTH {
                return Err(Error::new("S0201", Some(self.pos), Some("(depth)".into())));
            }
            let (t, p) = self.advance()?;
            left = self.led(t, p, left)?;
        }
        self.depth = entered - 1;
        Ok(left)
    }

    fn nud(&mut self, t: Tok, pos: usize) -> Result<Pn, Error> {
        Ok(match t {
            Tok::Str(s) => pn(P::Str(s), pos),
            Tok::Num(n) => pn(P::Num(n), pos),
            Tok::Value(v) => pn(P::Value(v), pos),
            Tok::Name(n) => pn(P::Name(n), pos),
            Tok::Var(v) => pn(P::Var(v), pos),
            Tok::Regex(p, f) => pn(P::Regex(p, f), pos),
            Tok::End => return Err(Error::new("S0207", Some(pos), None)),
            Tok::Op(op) => match op {
                "and" | "or" | "in" => pn(P::Name(op.to_string()), pos),
                "-" => pn(P::Neg(Box::new(self.expression(70)?)), pos),
                "*" => pn(P::Wildcard, pos),
                "**" => pn(P::Descendant, pos),
                "%" => pn(P::Parent, pos),
                "(" => {
                    let mut exprs = Vec::new();
                    while !self.is(")") {
                        exprs.push(self.expression(0)?);
                        if !self.is(";") {
                            break;
                        }
                        self.advance()?;
                    }
                    self.expect(")")?;
                    pn(P::Block(exprs), pos)
                }
                "[" => {
                    let mut items = Vec::new();
                    if !self.is("]") {
                        loop {
                            let mut item = self.expression(0)?;
                            if self.is("..") {
                                let rp = self.pos;
                                self.advance()?;
                                let rhs = self.expression(0)?;
                                item = pn(P::Binary("..", Box::new(item), Box::new(rhs)), rp);
                            }
                            items.push(item);
                            if !self.is(",") {
                                break;
                            }
                            self.advance()?;
                        }
                    }
                    self.expect("]")?;
                    pn(P::Array(items), pos)
                }
                "{" => pn(P::Object(self.object_body()?), pos),
                "|" => {
                    let pattern = self.expression(0)?;
                    self.expect("|")?;
                    let update = self.expression(0)?;
                    let delete = if self.is(",") {
                        self.advance()?;
                        Some(Box::new(self.expression(0)?))
                    } else {
                        None
                    };
                    self.expect("|")?;
                    pn(
                        P::Transform(Box::new(pattern), Box::new(update), delete),
                        pos,
                    )
                }
                _ => return Err(Error::new("S0211", Some(pos), Some(op.to_string()))),
            },
        })
    }

    fn object_body(&mut self) -> Result<Vec<(Pn, Pn)>, Error> {
        let mut pairs = Vec::new();
        if !self.is("}") {
            loop {
                let k = self.expression(0)?;
                self.expect(":")?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if !self.is(",") {
                    break;
                }
                self.advance()?;
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn led(&mut self, t: Tok, pos: usize, left: Pn) -> Result<Pn, Error> {
        let Tok::Op(op) = t else {
            return Err(Error::new("S0201", Some(pos), tok_text(&t)));
        };
        Ok(match op {
            "(" => {
                let mut args = Vec::new();
                let mut partial = false;
                if !self.is(")") {
                    loop {
                        if self.is("?") {
                            partial = true;
                            args.push(pn(P::Placeholder, self.pos));
                            self.advance()?;
                        } else {
                            args.push(self.expression(0)?);
                        }
                        if !self.is(",") {
                            break;
                        }
                        self.advance()?;
                    }
                }
                self.expect(")")?;
                if matches!(&left.p, P::Name(n) if n == "function" || n == "λ") {
                    let mut params = Vec::new();
                    for a in args {
                        match a.p {
                            P::Var(v) => params.push(v),
                            _ => {
                                let mut e = Error::new("S0208", Some(a.pos), None);
                                e.detail_mut().value = Some((params.len() + 1).to_string());
                                return Err(e);
                            }
                        }
                    }
                    let mut sig = None;
                    if self.is("<") {
                        let text = self.lx.raw_signature();
                        let sp = self.pos;
                        sig = Some(Signature::parse(&text).map_err(|mut e| {
                            e.position = Some(sp);
                            e
                        })?);
                        self.advance()?;
                    }
                    self.expect("{")?;
                    let body = self.expression(0)?;
                    self.expect("}")?;
                    return Ok(pn(P::Lambda(params, sig, Box::new(body)), pos));
                }
                pn(P::Call(Box::new(left), args, partial), pos)
            }
            "[" => {
                if self.is("]") {
                    let mut left = left;
                    mark_keep_array(&mut left);
                    self.advance()?;
                    return Ok(left);
                }
                let rhs = self.expression(0)?;
                self.expect("]")?;
                pn(P::Predicate(Box::new(left), Box::new(rhs)), pos)
            }
            "^" => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let mut desc = false;
                    if self.is("<") {
                        self.advance()?;
                    } else if self.is(">") {
                        desc = true;
                        self.advance()?;
                    }
                    terms.push((desc, self.expression(0)?));
                    if !self.is(",") {
                        break;
                    }
                    self.advance()?;
                }
                self.expect(")")?;
                pn(P::Sort(Box::new(left), terms), pos)
            }
            "{" => pn(P::Group(Box::new(left), self.object_body()?), pos),
            ":=" => {
                let P::Var(name) = left.p else {
                    return Err(Error::new("S0212", Some(left.pos), None));
                };
                let rhs = self.expression(9)?;
                pn(P::Bind(name, Box::new(rhs)), pos)
            }
            "@" | "#" => {
                let rhs = self.expression(80)?;
                let P::Var(name) = rhs.p else {
                    return Err(Error::new("S0214", Some(rhs.pos), Some(op.to_string())));
                };
                if op == "@" {
                    pn(P::Focus(Box::new(left), name), pos)
                } else {
                    pn(P::Index(Box::new(left), name), pos)
                }
            }
            "?" => {
                let then = self.expression(0)?;
                let els = if self.is(":") {
                    self.advance()?;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                pn(P::Condition(Box::new(left), Box::new(then), els), pos)
            }
            _ if lbp(&Tok::Op(op)) > 0 => {
                let rhs = self.expression(lbp(&Tok::Op(op)))?;
                pn(P::Binary(op, Box::new(left), Box::new(rhs)), pos)
            }
            _ => return Err(Error::new("S0201", Some(pos), Some(op.to_string()))),
        })
    }
}

fn mark_keep_array(n: &mut Pn) {
    match &mut n.p {
        P::Predicate(l, _) => mark_keep_array(l),
        _ => n.keep_array = true,
    }
}

/// Parses and processes `src` into the evaluator's tree and the literals it refers to.
pub(crate) fn parse(src: &str, options: super::Options) -> Result<(Node, Literals), Error> {
    parse_after(src, options, Literals::default())
}

/// [`parse`], numbering literals from where `literals` (empty, from [`Literals::after`]) starts.
pub(crate) fn parse_after(
    src: &str,
    options: super::Options,
    literals: Literals,
) -> Result<(Node, Literals), Error> {
    let mut lx = Lexer::new(src);
    let (tok, pos) = lx.next(true)?;
    let stack_base = super::stack_addr();
    let mut p = Parser {
        lx,
        tok,
        pos,
        depth: 0,
        stack_base,
    };
    let raw = p.expression(0)?;
    if p.tok != Tok::End {
        return Err(Error::new("S0201", Some(p.pos), tok_text(&p.tok)));
    }
    let mut pc = Pctx {
        base: stack_base,
        slots: Vec::new(),
        options,
        literals,
    };
    let root = process(raw, 0, &mut pc)?;
    let unresolved = super::ancestry::slots_of(&root);
    if unresolved.iter().any(|&s| pc.slots[s].level > 0) {
        return Err(Error::new("S0217", Some(root.pos), Some("%".into())));
    }
    Ok((root, pc.literals))
}

fn err_at(code: &'static str, pos: usize) -> Error {
    Error::new(code, Some(pos), None)
}

fn into_path(n: Node) -> Node {
    if matches!(n.kind, Kind::Path { .. }) {
        return n;
    }
    let pos = n.pos;
    Node::new(
        Kind::Path {
            steps: vec![n],
            keep_singleton: false,
        },
        pos,
    )
}

fn process(raw: Pn, depth: usize, pc: &mut Pctx) -> Result<Node, Error> {
    if depth > MAX_PARSE_DEPTH || super::stack_addr().abs_diff(pc.base) > super::PARSE_STACK {
        return Err(Error::new("S0201", Some(raw.pos), Some("(depth)".into())));
    }
    let d = depth + 1;
    let pos = raw.pos;
    let keep = raw.keep_array;
    let gathers = match &raw.p {
        P::Binary(op, ..) => *op != "." && *op != "~>",
        P::Neg(_) | P::Array(_) | P::Object(_) | P::Call(..) | P::Condition(..) | P::Block(_) => {
            true
        }
        _ => false,
    };
    let mut node = match raw.p {
        P::Str(s) => Node::new(Kind::Str(s.into()), pos),
        P::Num(n) => Node::new(Kind::Num(n), pos),
        P::Value(Lit::True) => Node::new(Kind::Bool(true), pos),
        P::Value(Lit::False) => Node::new(Kind::Bool(false), pos),
        P::Value(Lit::Null) => Node::new(Kind::Null, pos),
        P::Regex(p, f) => Node::new(
            Kind::Regex(pc.literals.add_regex(Regex::new(&p, &f, pos)?)),
            pos,
        ),
        P::Name(n) => {
            let mut step = Node::new(Kind::Name(n.into()), pos);
            step.keep_array = keep;
            let mut path = Node::new(
                Kind::Path {
                    steps: vec![step],
                    keep_singleton: keep,
                },
                pos,
            );
            path.keep_array = keep;
            return Ok(path);
        }
        P::Var(v) => {
            let builtin = super::builtins::lookup(&v, pc.options);
            Node::new(Kind::Variable(v.into(), builtin), pos)
        }
        P::Wildcard => Node::new(Kind::Wildcard, pos),
        P::Descendant => Node::new(Kind::Descendant, pos),
        P::Parent => {
            let (label, slot) = pc.new_slot();
            Node::new(Kind::Parent { label, slot }, pos)
        }
        P::Placeholder => Node::new(Kind::Placeholder, pos),
        P::Binary(".", l, r) => {
            let lstep = process(*l, d, pc)?;
            let lparent = match &lstep.kind {
                Kind::Parent { slot, .. } => Some(*slot),
                _ => None,
            };
            let mut result = into_path(lstep);
            if let Some(slot) = lparent {
                result.seeking = vec![slot];
            }
            let rest = process(*r, d, pc)?;
            let Kind::Path {
                steps,
                keep_singleton,
            } = &mut result.kind
            else {
                unreachable!()
            };
            match rest.kind {
                Kind::Path {
                    steps: rs,
                    keep_singleton: k2,
                } if rest.group.is_none() => {
                    *keep_singleton |= k2;
                    steps.extend(rs)
                }
                _ => {
                    let mut rest = rest;
                    if !rest.predicate.is_empty() {
                        rest.stages = std::mem::take(&mut rest.predicate);
                    }
                    steps.push(rest);
                }
            }
            for s in steps.iter_mut() {
                match &s.kind {
                    Kind::Num(_) | Kind::Bool(_) | Kind::Null => {
                        return Err(err_at("S0213", s.pos));
                    }
                    Kind::Str(v) => s.kind = Kind::Name(v.clone()),
                    _ => {}
                }
            }
            if steps.iter().any(|s| s.keep_array) {
                *keep_singleton = true;
            }
            if let Some(f) = steps.first_mut()
                && f.is_array_cons()
            {
                f.cons_array = true;
            }
            if let Some(l) = steps.last_mut()
                && l.is_array_cons()
            {
                l.cons_array = true;
            }
            resolve_ancestry(&mut result, pc)?;
            result
        }
        P::Predicate(l, r) => {
            let mut result = process(*l, d, pc)?;
            let pred = process(*r, d, pc)?;
            let is_path = matches!(result.kind, Kind::Path { .. }) && result.group.is_none();
            let step = match &mut result.kind {
                Kind::Path { steps, .. } if is_path => steps.last_mut().expect("paths have steps"),
                _ => &mut result,
            };
            if step.group.is_some() {
                return Err(err_at("S0209", pos));
            }
            if !pred.seeking.is_empty() {
                for &slot in &pred.seeking {
                    if pc.slots[slot].level == 1 {
                        seek_parent(step, slot, pc)?;
                    } else {
                        pc.slots[slot].level -= 1;
                    }
                }
                push_ancestry(step, &pred);
            }
            if is_path {
                step.stages.push(Stage::Filter(pred));
            } else {
                step.predicate.push(Stage::Filter(pred));
            }
            result
        }
        P::Group(l, pairs) => {
            let mut result = process(*l, d, pc)?;
            if result.group.is_some() {
                return Err(err_at("S0210", pos));
            }
            result.group = Some(Box::new(GroupBy {
                pairs: process_pairs(pairs, d, pc)?,
                pos,
            }));
            result
        }
        P::Sort(l, terms) => {
            let mut result = into_path(process(*l, d, pc)?);
            let mut ts = Vec::new();
            let mut seeking = Vec::new();
            for (descending, e) in terms {
                let expr = process(e, d, pc)?;
                seeking.extend(slots_of(&expr));
                ts.push(SortTerm { descending, expr });
            }
            let mut sort = Node::new(Kind::Sort(ts), pos);
            sort.seeking = seeking;
            if let Kind::Path { steps, .. } = &mut result.kind {
                steps.push(sort);
            }
            resolve_ancestry(&mut result, pc)?;
            result
        }
        P::Bind(name, rhs) => {
            let rhs = process(*rhs, d, pc)?;
            let seeking = slots_of(&rhs);
            let mut n = Node::new(Kind::Bind(name.into(), Box::new(rhs)), pos);
            n.seeking = seeking;
            n
        }
        P::Focus(l, name) => {
            let mut result = process(*l, d, pc)?;
            let step = match &mut result.kind {
                Kind::Path { steps, .. } => steps.last_mut().expect("paths have steps"),
                _ => &mut result,
            };
            if !step.stages.is_empty() || !step.predicate.is_empty() {
                return Err(err_at("S0215", pos));
            }
            if matches!(step.kind, Kind::Sort(_)) {
                return Err(err_at("S0216", pos));
            }
            if keep {
                step.keep_array = true;
            }
            step.focus = Some(name.into());
            step.tuple = true;
            result
        }
        P::Index(l, name) => {
            let result = process(*l, d, pc)?;
            let mut result = match result.kind {
                Kind::Path { .. } => result,
                _ => {
                    let mut r = result;
                    if !r.predicate.is_empty() {
                        r.stages = std::mem::take(&mut r.predicate);
                    }
                    Node::new(
                        Kind::Path {
                            steps: vec![r],
                            keep_singleton: false,
                        },
                        pos,
                    )
                }
            };
            let Kind::Path { steps, .. } = &mut result.kind else {
                unreachable!()
            };
            let step = steps.last_mut().expect("paths have steps");
            if step.stages.is_empty() {
                step.index = Some(name.into());
            } else {
                step.stages.push(Stage::Index(name.into()));
            }
            step.tuple = true;
            result
        }
        P::Binary("~>", l, r) => {
            let l = process(*l, d, pc)?;
            let r = process(*r, d, pc)?;
            let mut n = Node::new(Kind::Apply(Box::new(l), Box::new(r)), pos);
            if let Kind::Apply(l, r) = &n.kind {
                n.keep_array = l.keep_array || r.keep_array;
            }
            n
        }
        P::Binary(op, l, r) => {
            let Some(bop) = BinOp::from_str(op) else {
                return Err(Error::new("S0201", Some(pos), Some(op.to_string())));
            };
            Node::new(
                Kind::Binary(
                    bop,
                    Box::new(process(*l, d, pc)?),
                    Box::new(process(*r, d, pc)?),
                ),
                pos,
            )
        }
        P::Neg(e) => {
            let inner = process(*e, d, pc)?;
            if let Kind::Num(n) = inner.kind {
                let mut inner = inner;
                inner.kind = Kind::Num(-n);
                inner
            } else {
                Node::new(Kind::Neg(Box::new(inner)), pos)
            }
        }
        P::Array(items) => {
            let mut v = Vec::new();
            for i in items {
                v.push(process(i, d, pc)?);
            }
            Node::new(Kind::Array(v), pos)
        }
        P::Object(pairs) => Node::new(Kind::Object(process_pairs(pairs, d, pc)?), pos),
        P::Call(proc, args, partial) => {
            let mut a = Vec::new();
            for x in args {
                a.push(process(x, d, pc)?);
            }
            let proc = Box::new(process(*proc, d, pc)?);
            if partial {
                Node::new(Kind::Partial { proc, args: a }, pos)
            } else {
                Node::new(Kind::Function { proc, args: a }, pos)
            }
        }
        P::Lambda(params, sig, body) => {
            let body = tail_call(process(*body, d, pc)?);
            Node::new(
                Kind::Lambda(Arc::new(LambdaDef {
                    params: params.into_iter().map(Arc::from).collect(),
                    signature: sig.map(|s| pc.literals.add_signature(s)),
                    body,
                })),
                pos,
            )
        }
        P::Condition(c, t, e) => Node::new(
            Kind::Condition(
                Box::new(process(*c, d, pc)?),
                Box::new(process(*t, d, pc)?),
                match e {
                    Some(e) => Some(Box::new(process(*e, d, pc)?)),
                    None => None,
                },
            ),
            pos,
        ),
        P::Block(exprs) => {
            let mut v = Vec::new();
            let mut cons = false;
            for e in exprs {
                let part = process(e, d, pc)?;
                if part.cons_array
                    || matches!(&part.kind, Kind::Path { steps, .. } if steps[0].cons_array)
                {
                    cons = true;
                }
                v.push(part);
            }
            let mut n = Node::new(Kind::Block(v), pos);
            n.cons_array = cons;
            n
        }
        P::Transform(p, u, del) => Node::new(
            Kind::Transform(Arc::new(TransformDef {
                pattern: process(*p, d, pc)?,
                update: process(*u, d, pc)?,
                delete: match del {
                    Some(x) => Some(process(*x, d, pc)?),
                    None => None,
                },
            })),
            pos,
        ),
    };
    if keep {
        node.keep_array = true;
    }
    if gathers {
        node.seeking.extend(super::ancestry::child_slots(&node));
    }
    Ok(node)
}

fn process_pairs(
    pairs: Vec<(Pn, Pn)>,
    d: usize,
    pc: &mut Pctx,
) -> Result<Vec<(Node, Node)>, Error> {
    let mut out = Vec::new();
    for (k, v) in pairs {
        out.push((process(k, d, pc)?, process(v, d, pc)?));
    }
    Ok(out)
}

fn tail_call(n: Node) -> Node {
    match n.kind {
        Kind::Function { .. } if n.predicate.is_empty() => {
            let pos = n.pos;
            Node::new(Kind::TailCall(Arc::new(n)), pos)
        }
        Kind::Condition(c, t, e) => {
            let mut out = Node::new(
                Kind::Condition(
                    c,
                    Box::new(tail_call(*t)),
                    e.map(|e| Box::new(tail_call(*e))),
                ),
                n.pos,
            );
            copy_annotations(&mut out, n.keep_array, n.predicate, n.group);
            out
        }
        Kind::Block(mut exprs) => {
            if let Some(last) = exprs.pop() {
                exprs.push(tail_call(last));
            }
            let mut out = Node::new(Kind::Block(exprs), n.pos);
            out.cons_array = n.cons_array;
            copy_annotations(&mut out, n.keep_array, n.predicate, n.group);
            out
        }
        _ => n,
    }
}

fn copy_annotations(
    out: &mut Node,
    keep: bool,
    predicate: Vec<Stage>,
    group: Option<Box<GroupBy>>,
) {
    out.keep_array = keep;
    out.predicate = predicate;
    out.group = group;
}
