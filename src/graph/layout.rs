//! A layered layout of one block, then of its groups inside it (Sugiyama's scheme, kept small).
//!
//! 1. Back edges (loops) are found by a depth-first walk from the start and set aside.
//! 2. Every node goes to the layer one below its deepest forward predecessor (longest path).
//! 3. Within a layer, nodes are ordered by the mean position of their predecessors (two sweeps).
//! 4. Each node is placed under the mean centre of its predecessors, pushed right to avoid its
//!    neighbour; a layer that overshoots is pulled back by half the overshoot.
//!
//! A group (Parallel, Map) is sized by laying out its branches first, side by side. Back edges
//! run up a lane on the right of the block, one lane each. Coordinates are relative to the
//! block's top-left corner; the SVG writer nests blocks with `translate`.

use super::{Block, EdgeKind, Node, NodeKind};

/// Space around a block's content.
pub(crate) const MARGIN: f64 = 16.0;
/// Horizontal space between neighbours in a layer.
const GAP_X: f64 = 28.0;
/// Vertical space between layers; more where an edge label sits.
const GAP_Y: f64 = 44.0;
const GAP_Y_LABEL: f64 = 8.0;
/// Height of one line of an edge label.
pub(crate) const LINE: f64 = 13.0;
/// Width of one back-edge lane.
pub(crate) const LANE: f64 = 14.0;
/// A group's title bar.
pub(crate) const GROUP_HEADER: f64 = 44.0;
/// Space between a group's branches, and inside each branch's frame.
pub(crate) const GROUP_GAP: f64 = 14.0;
/// Name and detail font sizes, and the width of an average character at each.
pub(crate) const FONT: f64 = 12.0;
pub(crate) const FONT_SMALL: f64 = 10.0;
const CHAR_W: f64 = 6.8;
const CHAR_W_SMALL: f64 = 5.8;

/// Where one node sits and, for a group, where each branch sits inside it.
#[derive(Debug)]
pub(crate) struct Placed {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Each branch's offset inside the node and its own layout.
    pub children: Vec<(f64, f64, BlockLayout)>,
}

impl Placed {
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
}

/// A laid-out block: its size, its nodes' places, and which edges run back up (with their lane).
#[derive(Debug)]
pub(crate) struct BlockLayout {
    pub w: f64,
    pub h: f64,
    pub nodes: Vec<Placed>,
    /// Per edge: `Some(lane x)` for a back edge, `None` for one drawn downwards.
    pub back: Vec<Option<f64>>,
}

/// Estimated width of `text` at a font whose average character is `char_w` wide.
pub(crate) fn text_width(text: &str, char_w: f64) -> f64 {
    text.chars().count() as f64 * char_w
}

/// The width of an edge label's widest line, with its padding.
pub(crate) fn label_width(label: &str) -> f64 {
    label
        .lines()
        .map(|l| text_width(l, CHAR_W_SMALL))
        .fold(0.0, f64::max)
        + 8.0
}

/// A plain node's size: its name, and its detail line if any.
fn node_size(node: &Node) -> (f64, f64) {
    match node.kind {
        NodeKind::Start | NodeKind::End => (30.0, 30.0),
        NodeKind::State(_) => {
            let name = text_width(&node.name, CHAR_W);
            let detail = node
                .detail
                .as_deref()
                .map_or(0.0, |d| text_width(d, CHAR_W_SMALL));
            let w = (name.max(detail) + 28.0).clamp(110.0, 340.0);
            let h = if node.detail.is_some() { 46.0 } else { 34.0 };
            (w, h)
        }
    }
}

/// Lays out one block and, recursively, the groups in it.
pub(crate) fn layout(block: &Block) -> BlockLayout {
    let n = block.nodes.len();
    let mut nodes: Vec<Placed> = block.nodes.iter().map(place_node).collect();
    let back = back_edges(block);
    let forward: Vec<(usize, usize, usize)> = block
        .edges
        .iter()
        .zip(&back)
        .filter(|(e, b)| !**b && e.kind != EdgeKind::Retry && e.from != e.to)
        .map(|(e, _)| {
            let lines = match (&e.label, e.kind) {
                (Some(l), _) => l.lines().count(),
                (None, EdgeKind::Default) => 1,
                (None, _) => 0,
            };
            (e.from, e.to, lines)
        })
        .collect();

    // Layers by longest path over forward edges (a DAG once back edges are set aside).
    let mut layer = vec![0usize; n];
    let mut indegree = vec![0usize; n];
    for &(_, to, _) in &forward {
        indegree[to] += 1;
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    ready.sort_by_key(|&i| (i != block.start, i));
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for &(from, to, _) in &forward {
            if from == i {
                layer[to] = layer[to].max(layer[i] + 1);
                indegree[to] -= 1;
                if indegree[to] == 0 {
                    ready.push(to);
                }
            }
        }
    }
    debug_assert_eq!(seen, n, "back_edges leaves a DAG");
    let depth = layer.iter().copied().max().map_or(0, |m| m + 1);

    // Order within layers: definition order first, then two barycentre sweeps.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for i in 0..n {
        rows[layer[i]].push(i);
    }
    for _ in 0..2 {
        for l in 1..depth {
            let position = |j: usize| rows[layer[j]].iter().position(|&k| k == j).unwrap_or(0);
            let mut keyed: Vec<(f64, usize)> = rows[l]
                .iter()
                .map(|&i| {
                    let preds: Vec<f64> = forward
                        .iter()
                        .filter(|&&(_, to, _)| to == i)
                        .map(|&(from, _, _)| position(from) as f64)
                        .collect();
                    let key = if preds.is_empty() {
                        f64::MAX
                    } else {
                        preds.iter().sum::<f64>() / preds.len() as f64
                    };
                    (key, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|(_, i)| i).collect();
        }
    }

    // Rows top to bottom; within a row, under the predecessors' mean centre.
    let mut y = MARGIN;
    // Each node's slot: its own extent widened to the labels above it.
    let mut slots = vec![(0.0, 0.0); n];
    for (l, row) in rows.iter().enumerate() {
        let lines = forward
            .iter()
            .filter(|&&(_, to, _)| layer[to] == l)
            .map(|&(_, _, lines)| lines)
            .max()
            .unwrap_or(0);
        if l > 0 {
            y += GAP_Y
                + if lines > 0 {
                    GAP_Y_LABEL + LINE * lines as f64
                } else {
                    0.0
                };
        }
        let height = row.iter().map(|&i| nodes[i].h).fold(0.0, f64::max);
        let mut right = f64::MIN;
        let mut overshoot: f64 = 0.0;
        for &i in row {
            // A node takes the width of the widest label above it, so neighbours' labels
            // never overlap.
            let slot = nodes[i].w.max(
                block
                    .edges
                    .iter()
                    .filter(|e| e.to == i && matches!(e.kind, EdgeKind::Choice | EdgeKind::Default))
                    .map(|e| label_width(e.label.as_deref().unwrap_or("Default")))
                    .fold(0.0, f64::max),
            );
            let pad = (slot - nodes[i].w) / 2.0;
            let preds: Vec<f64> = forward
                .iter()
                .filter(|&&(from, to, _)| to == i && layer[from] < l)
                .map(|&(from, _, _)| nodes[from].cx())
                .collect();
            let want = if preds.is_empty() {
                right.max(0.0) + slot / 2.0
            } else {
                preds.iter().sum::<f64>() / preds.len() as f64
            };
            let x = (want - slot / 2.0).max(if right == f64::MIN {
                f64::MIN
            } else {
                right + GAP_X
            });
            overshoot = overshoot.max(x - (want - slot / 2.0));
            nodes[i].x = x + pad;
            nodes[i].y = y + (height - nodes[i].h) / 2.0;
            slots[i] = (x, x + slot);
            right = x + slot;
        }
        for &i in row {
            nodes[i].x -= overshoot / 2.0;
            slots[i].0 -= overshoot / 2.0;
            slots[i].1 -= overshoot / 2.0;
        }
        y += height;
    }

    // Shift everything right of the margin; lanes for back edges go past the widest node.
    let min_x = slots.iter().map(|s| s.0).fold(f64::MAX, f64::min);
    if min_x.is_finite() {
        for p in &mut nodes {
            p.x += MARGIN - min_x;
        }
    }
    // A loop runs up the side nearer its source: lanes on the left push the nodes right.
    let max_right = slots
        .iter()
        .map(|s| s.1 + MARGIN - min_x)
        .fold(0.0, f64::max);
    let mid = (MARGIN + max_right) / 2.0;
    let left: Vec<Option<bool>> = back
        .iter()
        .enumerate()
        .map(|(k, &b)| b.then(|| nodes[block.edges[k].from].cx() < mid))
        .collect();
    let shift = left.iter().filter(|s| **s == Some(true)).count() as f64 * LANE;
    for p in &mut nodes {
        p.x += shift;
    }
    let (mut on_left, mut on_right) = (0.0, 0.0);
    let back = left
        .iter()
        .map(|side| {
            side.map(|left| {
                if left {
                    on_left += LANE;
                    MARGIN + shift - on_left
                } else {
                    on_right += LANE;
                    max_right + shift + on_right
                }
            })
        })
        .collect();
    BlockLayout {
        w: max_right + shift + on_right + MARGIN,
        h: y + MARGIN,
        nodes,
        back,
    }
}

/// A node's size, laying out its groups first.
fn place_node(node: &Node) -> Placed {
    if node.children.is_empty() {
        let (w, h) = node_size(node);
        return Placed {
            x: 0.0,
            y: 0.0,
            w,
            h,
            children: Vec::new(),
        };
    }
    let mut children = Vec::new();
    let mut x = GROUP_GAP;
    let mut tallest: f64 = 0.0;
    for child in &node.children {
        let l = layout(child);
        tallest = tallest.max(l.h);
        let w = l.w;
        children.push((x, GROUP_HEADER, l));
        x += w + GROUP_GAP;
    }
    let title = text_width(&node.name, CHAR_W).max(
        node.detail
            .as_deref()
            .map_or(0.0, |d| text_width(d, CHAR_W_SMALL)),
    ) + 2.0 * GROUP_GAP;
    let w = x.max(title);
    // Centre the branches when the title is wider than they are.
    let shift = (w - x) / 2.0;
    for c in &mut children {
        c.0 += shift;
    }
    Placed {
        x: 0.0,
        y: 0.0,
        w,
        h: GROUP_HEADER + tallest + GROUP_GAP,
        children,
    }
}

/// Which edges close a loop: those reaching a node still on the depth-first path from the start
/// (retries, which loop on one state, are drawn apart and never count).
fn back_edges(block: &Block) -> Vec<bool> {
    let n = block.nodes.len();
    let mut back = vec![false; block.edges.len()];
    // 0 = unseen, 1 = on the current path, 2 = done. Iterative: a definition may be long.
    let mut mark = vec![0u8; n];
    let roots = std::iter::once(block.start).chain(0..n);
    for root in roots {
        if root >= n || mark[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let edge = (*next..block.edges.len()).find(|&k| {
                let e = &block.edges[k];
                e.from == node && e.kind != EdgeKind::Retry && e.from != e.to
            });
            match edge {
                Some(k) => {
                    *next = k + 1;
                    let to = block.edges[k].to;
                    match mark[to] {
                        0 => {
                            mark[to] = 1;
                            stack.push((to, 0));
                        }
                        1 => back[k] = true,
                        _ => {}
                    }
                }
                None => {
                    mark[node] = 2;
                    stack.pop();
                }
            }
        }
    }
    back
}
