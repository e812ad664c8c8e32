//! The graph as a standalone SVG, from the layered layout in `layout`.
//!
//! Nodes are rounded boxes (Choice: a diamond-cornered box, Start/End: dark circles), groups are
//! dashed frames with one dotted frame per branch. `Next` edges are solid, `Default` solid and
//! labelled, `Catch` dashed red, `Retry` a dotted loop on the state's right. When `visited` names
//! states, they and the edges between them are drawn in green and the rest fades: the console
//! shows an execution's path this way.

use std::collections::HashSet;
use std::fmt::Write;

use super::dot::colours;
use super::layout::{BlockLayout, FONT, FONT_SMALL, GROUP_HEADER, LINE, MARGIN, Placed, layout};
use super::{Block, EdgeKind, Graph, NodeKind};
use crate::definition::StateType;

const PATH: &str = "#16a34a";
const EDGE: &str = "#6b7280";
const CATCH: &str = "#dc2626";

/// XML text escaping for element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The graph as SVG text; states named in `visited` (if any) are drawn as the path taken.
pub fn to_svg(graph: &Graph, visited: &HashSet<String>) -> String {
    let root = layout(&graph.root);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"Helvetica, Arial, sans-serif\">",
        w = root.w,
        h = root.h
    );
    out.push_str(
        "<defs>\
         <marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"context-stroke\"/></marker>\
         <marker id=\"arrow-grey\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#6b7280\"/></marker>\
         <marker id=\"arrow-red\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#dc2626\"/></marker>\
         <marker id=\"arrow-green\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#16a34a\"/></marker>\
         </defs>\n",
    );
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
    );
    let ctx = Ctx {
        visited,
        highlight: !visited.is_empty(),
    };
    draw_block(&graph.root, &root, &ctx, &mut out, true);
    out.push_str("</svg>\n");
    out
}

struct Ctx<'a> {
    visited: &'a HashSet<String>,
    highlight: bool,
}

impl Ctx<'_> {
    /// Whether a node counts as on the path (the markers follow the states next to them).
    fn on_path(&self, block: &Block, i: usize, top: bool) -> bool {
        let node = &block.nodes[i];
        match node.kind {
            NodeKind::State(_) => self.visited.contains(&node.name),
            NodeKind::Start => top,
            NodeKind::End => block
                .edges
                .iter()
                .any(|e| e.to == i && self.visited.contains(&block.nodes[e.from].name)),
        }
    }
}

fn draw_block(block: &Block, l: &BlockLayout, ctx: &Ctx, out: &mut String, top: bool) {
    for (k, edge) in block.edges.iter().enumerate() {
        let (a, b) = (&l.nodes[edge.from], &l.nodes[edge.to]);
        let lit = ctx.highlight
            && ctx.on_path(block, edge.from, top)
            && ctx.on_path(block, edge.to, top)
            && edge.kind != EdgeKind::Retry;
        let (colour, marker) = if lit {
            (PATH, "arrow-green")
        } else if edge.kind == EdgeKind::Catch {
            (CATCH, "arrow-red")
        } else {
            (EDGE, "arrow-grey")
        };
        let dash = match edge.kind {
            EdgeKind::Catch => " stroke-dasharray=\"6 4\"",
            EdgeKind::Retry => " stroke-dasharray=\"2 3\"",
            _ => "",
        };
        let width = if lit { 2.4 } else { 1.3 };
        let opacity = if ctx.highlight && !lit { 0.45 } else { 1.0 };
        let (d, lx, ly) = if edge.kind == EdgeKind::Retry || edge.from == edge.to {
            let (x, y) = (a.right(), a.cy());
            (
                format!(
                    "M{x:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {x:.1},{:.1}",
                    y - 7.0,
                    x + 34.0,
                    y - 24.0,
                    x + 34.0,
                    y + 24.0,
                    y + 7.0
                ),
                x + 30.0,
                y - 16.0,
            )
        } else if let Some(lane) = l.back[k] {
            let (sx, tx) = if lane < a.x {
                (a.x, b.x)
            } else {
                (a.right(), b.right())
            };
            let (sy, ty) = (a.cy(), b.cy());
            (
                format!("M{sx:.1},{sy:.1} H{lane:.1} V{ty:.1} H{tx:.1}"),
                lane,
                (sy + ty) / 2.0,
            )
        } else {
            // Spread the edges leaving one node along its bottom.
            let out_edges: Vec<usize> = block
                .edges
                .iter()
                .enumerate()
                .filter(|(j, e)| e.from == edge.from && e.from != e.to && l.back[*j].is_none())
                .map(|(j, _)| j)
                .collect();
            let pos = out_edges.iter().position(|&j| j == k).unwrap_or(0) as f64;
            let count = out_edges.len().max(1) as f64;
            let sx = a.x + a.w * (pos + 1.0) / (count + 1.0);
            let (sy, tx, ty) = (a.bottom(), b.cx(), b.y);
            let mid = (sy + ty) / 2.0;
            // Labels of one node's edges sit at different heights so that they never overlap.
            // A rule's label sits above the state it leads to (the layout keeps room there), a
            // Catch's near the state it leaves.
            let t = match edge.kind {
                EdgeKind::Choice | EdgeKind::Default => 0.78,
                _ if count > 1.0 => (pos + 1.0) / (count + 1.0),
                _ => 0.5,
            };
            let (lx, ly) = bezier([(sx, sy), (sx, mid), (tx, mid), (tx, ty)], t);
            (
                format!("M{sx:.1},{sy:.1} C{sx:.1},{mid:.1} {tx:.1},{mid:.1} {tx:.1},{ty:.1}"),
                lx,
                ly,
            )
        };
        let _ = writeln!(
            out,
            "<path class=\"edge\" d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\"{dash} \
             opacity=\"{opacity}\" marker-end=\"url(#{marker})\"/>"
        );
        let label = match (edge.kind, &edge.label) {
            (EdgeKind::Default, _) => Some("Default"),
            (_, Some(t)) => Some(t.as_str()),
            _ => None,
        };
        if let Some(t) = label {
            let lines: Vec<&str> = t.lines().collect();
            let w = super::layout::label_width(t);
            let h = LINE * lines.len() as f64 + 2.0;
            let top = ly - h / 2.0;
            let _ = write!(
                out,
                "<g class=\"edge-label\" opacity=\"{opacity}\"><rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{w:.1}\" \
                 height=\"{h:.1}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/><text font-size=\"{FONT_SMALL}\" \
                 text-anchor=\"middle\" fill=\"{colour}\">",
                lx - w / 2.0,
            );
            for (n, line) in lines.iter().enumerate() {
                let _ = write!(
                    out,
                    "<tspan x=\"{lx:.1}\" y=\"{:.1}\">{}</tspan>",
                    top + 11.0 + LINE * n as f64,
                    esc(line)
                );
            }
            out.push_str("</text></g>\n");
        }
    }
    for (i, node) in block.nodes.iter().enumerate() {
        let p = &l.nodes[i];
        let lit = ctx.highlight && ctx.on_path(block, i, top);
        let opacity = if ctx.highlight && !lit { 0.5 } else { 1.0 };
        let (fill, stroke) = colours(node.kind);
        let stroke = if lit { PATH } else { stroke };
        let width = if lit { 2.6 } else { 1.3 };
        let _ = write!(
            out,
            "<g class=\"node\" data-state=\"{}\" opacity=\"{opacity}\">",
            esc(&node.name)
        );
        match node.kind {
            NodeKind::Start | NodeKind::End => {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"8\" text-anchor=\"middle\" fill=\"#ffffff\">{}</text>",
                    p.cx(),
                    p.cy(),
                    p.w / 2.0,
                    p.cx(),
                    p.cy() + 3.0,
                    if node.kind == NodeKind::Start {
                        "Start"
                    } else {
                        "End"
                    }
                );
            }
            _ if !p.children.is_empty() => draw_group(block, i, p, ctx, out, stroke, width),
            NodeKind::State(t) => {
                let rx = if t == StateType::Choice { 14.0 } else { 7.0 };
                let _ = write!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{rx}\" fill=\"{fill}\" \
                     stroke=\"{stroke}\" stroke-width=\"{width}\"/>",
                    p.x, p.y, p.w, p.h
                );
                text_lines(out, p, &node.name, node.detail.as_deref());
            }
        }
        out.push_str("</g>\n");
    }
}

/// The point at `t` on a cubic Bézier curve.
fn bezier(p: [(f64, f64); 4], t: f64) -> (f64, f64) {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    (
        a * p[0].0 + b * p[1].0 + c * p[2].0 + d * p[3].0,
        a * p[0].1 + b * p[1].1 + c * p[2].1 + d * p[3].1,
    )
}

/// A node's name (and detail below it), centred and cut to the node's width.
fn text_lines(out: &mut String, p: &Placed, name: &str, detail: Option<&str>) {
    let fit = |s: &str, char_w: f64| {
        let max = ((p.w - 12.0) / char_w).max(4.0) as usize;
        if s.chars().count() <= max {
            s.to_string()
        } else {
            let mut t: String = s.chars().take(max - 1).collect();
            t.push('…');
            t
        }
    };
    let name_y = if detail.is_some() {
        p.y + 19.0
    } else {
        p.cy() + 4.0
    };
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{name_y:.1}\" font-size=\"{FONT}\" text-anchor=\"middle\" fill=\"#111827\">{}</text>",
        p.cx(),
        esc(&fit(name, 6.8))
    );
    if let Some(d) = detail {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{FONT_SMALL}\" text-anchor=\"middle\" fill=\"#4b5563\">{}</text>",
            p.cx(),
            p.y + 35.0,
            esc(&fit(d, 5.8))
        );
    }
}

/// A Parallel or Map: a dashed frame, its title, one dotted frame per branch, and the branches.
fn draw_group(
    block: &Block,
    i: usize,
    p: &Placed,
    ctx: &Ctx,
    out: &mut String,
    stroke: &str,
    width: f64,
) {
    let node = &block.nodes[i];
    let _ = write!(
        out,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"9\" fill=\"#fafafa\" \
         stroke=\"{stroke}\" stroke-width=\"{width}\" stroke-dasharray=\"7 4\"/>",
        p.x, p.y, p.w, p.h
    );
    let header = Placed {
        x: p.x,
        y: p.y,
        w: p.w,
        h: GROUP_HEADER,
        children: Vec::new(),
    };
    text_lines(out, &header, &node.name, node.detail.as_deref());
    for (k, ((dx, dy, inner), child)) in p.children.iter().zip(&node.children).enumerate() {
        let (x, y) = (p.x + dx, p.y + dy);
        let _ = write!(
            out,
            "<rect class=\"branch\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" \
             fill=\"#ffffff\" stroke=\"#9ca3af\" stroke-dasharray=\"2 3\"/>",
            inner.w, inner.h
        );
        let title = if node.kind == NodeKind::State(StateType::Map) {
            "Item processor".to_string()
        } else {
            format!("Branch {}", k + 1)
        };
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#6b7280\">{title}</text>",
            x + 6.0,
            y + MARGIN - 4.0
        );
        let _ = writeln!(out, "<g transform=\"translate({x:.1},{y:.1})\">");
        draw_block(child, inner, ctx, out, false);
        out.push_str("</g>");
    }
}
