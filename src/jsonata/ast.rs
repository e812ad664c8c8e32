//! The compiled form of an expression: jsonata-js's processed AST, with names kept as shared strings.
//!
//! Plain data: built-ins, regex literals and lambda signatures appear as ids, resolved by
//! `builtins::get` and by the expression's `literals::Literals` (so nothing here runs code).

use std::sync::Arc;

/// A node of the processed tree. The annotation fields mirror jsonata-js's (`keepArray`, `stages`...).
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: usize,
    pub keep_array: bool,
    /// Filters applied to the node's whole result (`$x[0]`, `(a)[0]`).
    pub predicate: Vec<Stage>,
    /// Filters and index bindings applied per input item when the node is a path step.
    pub stages: Vec<Stage>,
    pub group: Option<Box<GroupBy>>,
    pub focus: Option<Arc<str>>,
    pub index: Option<Arc<str>>,
    pub tuple: bool,
    pub cons_array: bool,
    /// Label under which a tuple step binds its input context for a `%` further on.
    pub ancestor: Option<Label>,
    /// Parent slots (indices into the parser's slot table) still looking for their step.
    pub seeking: Vec<usize>,
}

/// A built-in function by its index in the built-in table (`builtins::get` resolves it), so the
/// tree names built-ins without holding their code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BuiltinId(pub u16);

/// A regex literal: its index in the expression's compiled regexes (`literals::Literals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RegexId(pub usize);

/// A lambda's signature: its index in the expression's parsed signatures (`literals::Literals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SignatureId(pub usize);

/// A `%` binding label, shared between the `%` and the step it resolves to (the parser may
/// merge two labels after both exist, hence the shared cell).
pub(crate) type Label = Arc<std::sync::atomic::AtomicUsize>;

/// The variable name a label binds (never a valid `$name`, so it cannot clash).
pub(crate) fn label_name(l: &Label) -> String {
    format!("!{}", l.load(std::sync::atomic::Ordering::Relaxed))
}

#[derive(Debug)]
pub(crate) enum Stage {
    Filter(Node),
    Index(Arc<str>),
}

#[derive(Debug)]
pub(crate) struct GroupBy {
    pub pairs: Vec<(Node, Node)>,
    pub pos: usize,
}

#[derive(Debug)]
pub(crate) struct SortTerm {
    pub descending: bool,
    pub expr: Node,
}

#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub params: Vec<Arc<str>>,
    pub signature: Option<SignatureId>,
    pub body: Node,
}

#[derive(Debug)]
pub(crate) struct TransformDef {
    pub pattern: Node,
    pub update: Node,
    pub delete: Option<Node>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    And,
    Or,
    In,
    Range,
}

impl BinOp {
    pub fn from_str(s: &str) -> Option<BinOp> {
        Some(match s {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "=" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "&" => BinOp::Concat,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "in" => BinOp::In,
            ".." => BinOp::Range,
            _ => return None,
        })
    }

    pub fn token(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Concat => "&",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::Range => "..",
        }
    }
}

#[derive(Debug)]
pub(crate) enum Kind {
    Path {
        steps: Vec<Node>,
        keep_singleton: bool,
    },
    Binary(BinOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    Name(Arc<str>),
    Str(Arc<str>),
    Num(f64),
    Bool(bool),
    Null,
    Regex(RegexId),
    Wildcard,
    Descendant,
    Parent {
        label: Label,
        slot: usize,
    },
    Condition(Box<Node>, Box<Node>, Option<Box<Node>>),
    Block(Vec<Node>),
    Bind(Arc<str>, Box<Node>),
    Function {
        proc: Box<Node>,
        args: Vec<Node>,
    },
    Partial {
        proc: Box<Node>,
        args: Vec<Node>,
    },
    Placeholder,
    Lambda(Arc<LambdaDef>),
    /// A call in tail position of a lambda body: evaluates to a thunk the caller trampolines.
    TailCall(Arc<Node>),
    /// `$name`, with the built-in it denotes when no scope binds the name (resolved at compile
    /// time for the dialect).
    Variable(Arc<str>, Option<BuiltinId>),
    Apply(Box<Node>, Box<Node>),
    Transform(Arc<TransformDef>),
    Sort(Vec<SortTerm>),
}

impl Node {
    pub fn new(kind: Kind, pos: usize) -> Node {
        Node {
            kind,
            pos,
            keep_array: false,
            predicate: Vec::new(),
            stages: Vec::new(),
            group: None,
            focus: None,
            index: None,
            tuple: false,
            ancestor: None,
            seeking: Vec::new(),
            cons_array: false,
        }
    }

    pub fn is_array_cons(&self) -> bool {
        matches!(self.kind, Kind::Array(_))
    }

    /// Whether `pred` holds for this node or any node below it (operands, steps, filters,
    /// group-by pairs, lambda bodies, transform clauses, sort terms).
    pub fn any(&self, pred: &mut dyn FnMut(&Node) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        let stage = |s: &Stage, pred: &mut dyn FnMut(&Node) -> bool| match s {
            Stage::Filter(n) => n.any(pred),
            Stage::Index(_) => false,
        };
        if self.predicate.iter().any(|s| stage(s, pred))
            || self.stages.iter().any(|s| stage(s, pred))
            || self
                .group
                .iter()
                .flat_map(|g| g.pairs.iter())
                .any(|(k, v)| k.any(pred) || v.any(pred))
        {
            return true;
        }
        match &self.kind {
            Kind::Path { steps: nodes, .. } | Kind::Array(nodes) | Kind::Block(nodes) => {
                nodes.iter().any(|n| n.any(pred))
            }
            Kind::Binary(_, a, b) | Kind::Apply(a, b) => a.any(pred) || b.any(pred),
            Kind::Neg(a) | Kind::Bind(_, a) => a.any(pred),
            Kind::Object(pairs) => pairs.iter().any(|(k, v)| k.any(pred) || v.any(pred)),
            Kind::Condition(c, t, e) => {
                c.any(pred) || t.any(pred) || e.as_ref().is_some_and(|e| e.any(pred))
            }
            Kind::Function { proc, args } | Kind::Partial { proc, args } => {
                proc.any(pred) || args.iter().any(|n| n.any(pred))
            }
            Kind::Lambda(l) => l.body.any(pred),
            Kind::TailCall(n) => n.any(pred),
            Kind::Transform(t) => {
                t.pattern.any(pred)
                    || t.update.any(pred)
                    || t.delete.as_ref().is_some_and(|d| d.any(pred))
            }
            Kind::Sort(terms) => terms.iter().any(|t| t.expr.any(pred)),
            Kind::Name(_)
            | Kind::Str(_)
            | Kind::Num(_)
            | Kind::Bool(_)
            | Kind::Null
            | Kind::Regex(_)
            | Kind::Wildcard
            | Kind::Descendant
            | Kind::Parent { .. }
            | Kind::Placeholder
            | Kind::Variable(..) => false,
        }
    }
}
