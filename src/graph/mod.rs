//! A state machine as a picture: the states as nodes, transitions as edges, Parallel branches
//! and Map processors as nested groups.
//!
//! In: a validated [`Definition`]. Out: a [`Graph`] (blocks of nodes and edges), rendered as
//! Graphviz DOT ([`to_dot`]), a Mermaid flowchart ([`to_mermaid`]) or an SVG laid out here
//! ([`to_svg`], a layered layout: no Graphviz at run time). Nothing here executes; the console
//! passes the names of the states an execution visited to colour its path.
//!
//! Edge kinds are drawn distinctly: `Next`, a Choice rule (labelled with its condition), a
//! Choice's `Default`, a `Catch` (labelled with its error names) and a `Retry` (a loop on the
//! state, labelled with its error names and attempts).

mod dot;
mod label;
mod layout;
mod svg;

#[cfg(test)]
mod tests;

use crate::definition::{Definition, State, StateType};

pub use dot::{to_dot, to_mermaid};
pub use svg::to_svg;

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A state of the definition.
    State(StateType),
    /// Where the machine starts (the top-level block only).
    Start,
    /// Where it ends (the top-level block only).
    End,
}

/// One node of a block.
#[derive(Clone, Debug)]
pub struct Node {
    /// Unique across the whole graph (`n0`, `n1`, …): DOT, Mermaid and SVG ids.
    pub id: String,
    /// The state's name (`Start`/`End` for the markers).
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
    /// A second line: the Task's service and action, the Map's or Wait's gist.
    pub detail: Option<String>,
    /// Parallel branches, or the Map's processor: each a block of its own.
    pub children: Vec<Block>,
}

/// How one node leads to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// `Next`, or a terminal state's way to `End`.
    Next,
    /// A Choice rule's `Next`.
    Choice,
    /// A Choice's `Default`.
    Default,
    /// A `Catch` entry's `Next`.
    Catch,
    /// A `Retry` entry: from the state to itself.
    Retry,
}

/// One edge of a block, between indices of its `nodes`.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Index of the source node.
    pub from: usize,
    /// Index of the target node.
    pub to: usize,
    /// Which transition it is.
    pub kind: EdgeKind,
    /// The condition, error names or attempts, when there is something to say.
    pub label: Option<String>,
}

/// A definition, a Parallel branch or a Map processor: its states and their edges.
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// The nodes, in the definition's order (the markers first and last at the top level).
    pub nodes: Vec<Node>,
    /// The edges, in the order the definition names them.
    pub edges: Vec<Edge>,
    /// The node the block starts at.
    pub start: usize,
}

/// A whole state machine as a picture.
#[derive(Clone, Debug)]
pub struct Graph {
    /// The top-level block, with `Start` and `End` markers.
    pub root: Block,
}

impl Graph {
    /// The graph of a definition that `definition::load` accepted (names it cannot resolve are
    /// left out rather than failing: a graph is for looking at).
    pub fn new(def: &Definition) -> Graph {
        let mut ids = 0;
        let mut root = Block::default();
        root.nodes.push(Node {
            id: next_id(&mut ids),
            name: "Start".into(),
            kind: NodeKind::Start,
            detail: None,
            children: Vec::new(),
        });
        let inner = block(def, &mut ids);
        let offset = 1;
        root.nodes.extend(inner.nodes);
        root.edges.extend(inner.edges.into_iter().map(|e| Edge {
            from: e.from + offset,
            to: e.to + offset,
            ..e
        }));
        let end = root.nodes.len();
        root.nodes.push(Node {
            id: next_id(&mut ids),
            name: "End".into(),
            kind: NodeKind::End,
            detail: None,
            children: Vec::new(),
        });
        root.edges.insert(
            0,
            Edge {
                from: 0,
                to: inner.start + offset,
                kind: EdgeKind::Next,
                label: None,
            },
        );
        for (i, state) in def.states.values().enumerate() {
            if is_terminal(state) {
                root.edges.push(Edge {
                    from: i + offset,
                    to: end,
                    kind: EdgeKind::Next,
                    label: None,
                });
            }
        }
        root.start = 0;
        Graph { root }
    }
}

fn next_id(ids: &mut usize) -> String {
    let id = format!("n{ids}");
    *ids += 1;
    id
}

/// A state that ends its block: `End: true`, Succeed or Fail.
pub(crate) fn is_terminal(state: &State) -> bool {
    state.end == Some(true) || matches!(state.kind, StateType::Succeed | StateType::Fail)
}

/// The nodes and edges of one definition (branch, processor or the whole machine).
fn block(def: &Definition, ids: &mut usize) -> Block {
    let index = |name: &str| def.states.get_index_of(name);
    let mut out = Block {
        start: index(&def.start_at).unwrap_or(0),
        ..Block::default()
    };
    for (name, state) in &def.states {
        let id = next_id(ids);
        let children = match state.kind {
            StateType::Parallel => state
                .branches
                .iter()
                .flatten()
                .map(|b| block(b, ids))
                .collect(),
            StateType::Map => state
                .item_processor
                .as_ref()
                .or(state.iterator.as_ref())
                .map(|p| vec![block(p, ids)])
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        out.nodes.push(Node {
            id,
            name: name.clone(),
            kind: NodeKind::State(state.kind),
            detail: label::detail(state),
            children,
        });
    }
    for (from, state) in def.states.values().enumerate() {
        let edges = &mut out.edges;
        let edge = |edges: &mut Vec<Edge>, to: Option<&str>, kind: EdgeKind, label| {
            if let Some(to) = to.and_then(index) {
                edges.push(Edge {
                    from,
                    to,
                    kind,
                    label,
                });
            }
        };
        // Rules that lead to the same state share one edge, their conditions a line each.
        let first_choice = edges.len();
        for rule in state.choices.iter().flatten() {
            let to = rule.next.as_deref().and_then(index);
            let condition = label::condition(rule);
            match edges[first_choice..].iter_mut().find(|e| Some(e.to) == to) {
                Some(e) => label::add_line(e.label.get_or_insert_with(String::new), &condition),
                None => edge(
                    edges,
                    rule.next.as_deref(),
                    EdgeKind::Choice,
                    Some(condition),
                ),
            }
        }
        // A Default that leads where a rule leads is a line of that rule's edge.
        let default = state.default.as_deref();
        match edges[first_choice..]
            .iter_mut()
            .find(|e| Some(e.to) == default.and_then(index))
        {
            Some(e) => label::add_line(e.label.get_or_insert_with(String::new), "Default"),
            None => edge(edges, default, EdgeKind::Default, None),
        }
        edge(edges, state.next.as_deref(), EdgeKind::Next, None);
        for c in state.catch.iter().flatten() {
            let errors = label::errors(&c.error_equals);
            edge(edges, Some(&c.next), EdgeKind::Catch, Some(errors));
        }
        for r in state.retry.iter().flatten() {
            edges.push(Edge {
                from,
                to: from,
                kind: EdgeKind::Retry,
                label: Some(label::retry(r)),
            });
        }
    }
    out
}

/// The definition's blocks in the order the renderers visit them, with each block's terminal
/// nodes (for drawing the way out of a group).
pub(crate) fn terminals(block: &Block) -> Vec<usize> {
    let leaves: Vec<usize> = (0..block.nodes.len())
        .filter(|&i| {
            !block
                .edges
                .iter()
                .any(|e| e.from == i && e.kind != EdgeKind::Retry && e.kind != EdgeKind::Catch)
        })
        .collect();
    if leaves.is_empty() {
        vec![block.start]
    } else {
        leaves
    }
}
