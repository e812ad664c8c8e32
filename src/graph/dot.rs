//! The graph as text for tools people already use: Graphviz DOT and Mermaid flowcharts.
//!
//! A Parallel or Map state is a cluster (DOT) or a subgraph (Mermaid) holding one group per
//! branch. DOT edges cannot end on a cluster, so an edge into a group is drawn to the group's
//! first state and clipped at its border (`lhead`), and an edge out of it from its last state
//! (`ltail`).

use std::fmt::Write;

use super::{Block, EdgeKind, Graph, Node, NodeKind, terminals};
use crate::definition::StateType;

/// Fill and stroke colours per kind of node, shared by every renderer.
pub(crate) fn colours(kind: NodeKind) -> (&'static str, &'static str) {
    match kind {
        NodeKind::Start | NodeKind::End => ("#3b3b3b", "#3b3b3b"),
        NodeKind::State(t) => match t {
            StateType::Task => ("#e8f1fb", "#1f6feb"),
            StateType::Choice => ("#fff4e0", "#d97706"),
            StateType::Pass => ("#f3f4f6", "#6b7280"),
            StateType::Wait => ("#f3e8ff", "#7c3aed"),
            StateType::Succeed => ("#e6f6ea", "#16a34a"),
            StateType::Fail => ("#fdecec", "#dc2626"),
            StateType::Parallel | StateType::Map => ("#ffffff", "#6b7280"),
        },
    }
}

/// The text of a node: its name, and its detail on a second line.
fn text(node: &Node, newline: &str) -> String {
    match &node.detail {
        Some(d) => format!("{}{newline}{d}", node.name),
        None => node.name.clone(),
    }
}

fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Graphviz DOT: `dot -Tsvg` draws it.
pub fn to_dot(graph: &Graph) -> String {
    let mut out = String::from(
        "digraph StateMachine {\n  compound=true;\n  rankdir=TB;\n  fontname=\"Helvetica\";\n  \
         node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n  \
         edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    dot_block(&graph.root, &mut out, 1);
    out.push_str("}\n");
    out
}

fn is_group(node: &Node) -> bool {
    !node.children.is_empty()
}

/// The real node an edge into `node` ends on: the first state of its first group, recursively.
fn entry(node: &Node) -> &Node {
    match node.children.first() {
        Some(b) if !b.nodes.is_empty() => entry(&b.nodes[b.start.min(b.nodes.len() - 1)]),
        _ => node,
    }
}

/// The real node an edge out of `node` starts from: a last state of its first group.
fn exit(node: &Node) -> &Node {
    match node.children.first() {
        Some(b) if !b.nodes.is_empty() => exit(&b.nodes[terminals(b)[0]]),
        _ => node,
    }
}

fn dot_block(block: &Block, out: &mut String, depth: usize) {
    let pad = "  ".repeat(depth);
    for node in &block.nodes {
        let (fill, stroke) = colours(node.kind);
        if is_group(node) {
            let _ = writeln!(out, "{pad}subgraph cluster_{} {{", node.id);
            let _ = writeln!(
                out,
                "{pad}  label=\"{}\"; style=\"rounded,dashed\"; color=\"{stroke}\";",
                dot_escape(&text(node, "\n"))
            );
            for (i, child) in node.children.iter().enumerate() {
                let _ = writeln!(out, "{pad}  subgraph cluster_{}_{i} {{", node.id);
                let _ = writeln!(out, "{pad}    label=\"\"; style=dotted;");
                dot_block(child, out, depth + 2);
                let _ = writeln!(out, "{pad}  }}");
            }
            let _ = writeln!(out, "{pad}}}");
            continue;
        }
        let shape = match node.kind {
            NodeKind::Start | NodeKind::End => ", shape=circle, fontcolor=\"#ffffff\"",
            NodeKind::State(StateType::Choice) => ", shape=diamond, style=filled",
            _ => "",
        };
        let _ = writeln!(
            out,
            "{pad}{} [label=\"{}\", fillcolor=\"{fill}\", color=\"{stroke}\"{shape}];",
            node.id,
            dot_escape(&text(node, "\n"))
        );
    }
    for edge in &block.edges {
        let (from, to) = (&block.nodes[edge.from], &block.nodes[edge.to]);
        if edge.kind == EdgeKind::Retry && is_group(from) {
            // A loop on a cluster cannot be drawn: the retry shows on the group's first state.
            let _ = writeln!(
                out,
                "{pad}{0} -> {0} [style=dotted, label=\"{1}\"];",
                entry(from).id,
                dot_escape(edge.label.as_deref().unwrap_or(""))
            );
            continue;
        }
        let mut attrs = Vec::new();
        if is_group(from) {
            attrs.push(format!("ltail=cluster_{}", from.id));
        }
        if is_group(to) {
            attrs.push(format!("lhead=cluster_{}", to.id));
        }
        match edge.kind {
            EdgeKind::Catch => attrs.push("style=dashed, color=\"#dc2626\"".into()),
            EdgeKind::Retry => attrs.push("style=dotted".into()),
            EdgeKind::Default => attrs.push("label=\"Default\"".into()),
            EdgeKind::Next | EdgeKind::Choice => {}
        }
        if let Some(l) = &edge.label {
            attrs.push(format!("label=\"{}\"", dot_escape(l)));
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(out, "{pad}{} -> {}{attrs};", exit(from).id, entry(to).id);
    }
}

fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid flowchart: GitHub and most wikis draw it inline.
pub fn to_mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    let mut classes = String::new();
    mermaid_block(&graph.root, &mut out, &mut classes, 1);
    out.push_str(
        "  classDef marker fill:#3b3b3b,stroke:#3b3b3b,color:#ffffff\n  \
         classDef task fill:#e8f1fb,stroke:#1f6feb\n  \
         classDef choice fill:#fff4e0,stroke:#d97706\n  \
         classDef pass fill:#f3f4f6,stroke:#6b7280\n  \
         classDef wait fill:#f3e8ff,stroke:#7c3aed\n  \
         classDef succeed fill:#e6f6ea,stroke:#16a34a\n  \
         classDef fail fill:#fdecec,stroke:#dc2626\n",
    );
    out.push_str(&classes);
    out
}

fn mermaid_block(block: &Block, out: &mut String, classes: &mut String, depth: usize) {
    let pad = "  ".repeat(depth);
    for node in &block.nodes {
        let label = mermaid_escape(&text(node, "\n"));
        if is_group(node) {
            let _ = writeln!(out, "{pad}subgraph {}[\"{label}\"]", node.id);
            let _ = writeln!(out, "{pad}  direction TB");
            for (i, child) in node.children.iter().enumerate() {
                let name = if node.kind == NodeKind::State(StateType::Map) {
                    "Item processor".to_string()
                } else {
                    format!("Branch {}", i + 1)
                };
                let _ = writeln!(out, "{pad}  subgraph {}_{i}[\"{name}\"]", node.id);
                let _ = writeln!(out, "{pad}    direction TB");
                mermaid_block(child, out, classes, depth + 2);
                let _ = writeln!(out, "{pad}  end");
            }
            let _ = writeln!(out, "{pad}end");
            continue;
        }
        let (open, close, class) = match node.kind {
            NodeKind::Start | NodeKind::End => ("((", "))", "marker"),
            NodeKind::State(t) => match t {
                StateType::Choice => ("{", "}", "choice"),
                StateType::Task => ("[", "]", "task"),
                StateType::Pass => ("[", "]", "pass"),
                StateType::Wait => ("[", "]", "wait"),
                StateType::Succeed => ("([", "])", "succeed"),
                StateType::Fail => ("([", "])", "fail"),
                StateType::Parallel | StateType::Map => ("[", "]", "pass"),
            },
        };
        let _ = writeln!(out, "{pad}{}{open}\"{label}\"{close}", node.id);
        let _ = writeln!(classes, "  class {} {class}", node.id);
    }
    for edge in &block.edges {
        let (from, to) = (&block.nodes[edge.from].id, &block.nodes[edge.to].id);
        let label = match (edge.kind, &edge.label) {
            (EdgeKind::Default, _) => Some("Default".to_string()),
            (_, Some(l)) => Some(mermaid_escape(l)),
            (_, None) => None,
        };
        let arrow = match edge.kind {
            EdgeKind::Catch | EdgeKind::Retry => "-.->",
            _ => "-->",
        };
        match label {
            Some(l) => {
                let _ = writeln!(out, "{pad}{from} {arrow}|\"{l}\"| {to}");
            }
            None => {
                let _ = writeln!(out, "{pad}{from} {arrow} {to}");
            }
        }
    }
}
