//! `--svg FILE`: throughput and latency over time, two stacked panels, as a standalone SVG.
//!
//! Our own writer of lines and text: the plotting crates (plotters and kin) bring font and
//! bitmap stacks for what is here two polylines per panel and a few labels.

use super::report::{Point, Report, human};
use std::fmt::Write;

const W: f64 = 820.0;
const PANEL_H: f64 = 200.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 80.0;
const GAP: f64 = 60.0;

struct Panel {
    top: f64,
    t_max: f64,
}

impl Panel {
    fn x(&self, t: f64) -> f64 {
        LEFT + (W - LEFT - RIGHT) * (t / self.t_max.max(1e-9))
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn polyline(o: &mut String, pts: &[(f64, f64)], color: &str) {
    if pts.is_empty() {
        return;
    }
    let list: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = writeln!(
        o,
        r#"<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{}"/>"#,
        list.join(" ")
    );
}

fn text(o: &mut String, x: f64, y: f64, anchor: &str, size: u32, s: &str) {
    let _ = writeln!(
        o,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="{size}">{}</text>"#,
        esc(s)
    );
}

fn legend(o: &mut String, top: f64, items: &[(&str, &str)]) {
    for (i, (label, color)) in items.iter().enumerate() {
        let y = top + 16.0 + i as f64 * 18.0;
        let x = W - RIGHT + 14.0;
        let _ = writeln!(
            o,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{color}" stroke-width="3"/>"#,
            x + 18.0
        );
        text(o, x + 24.0, y + 4.0, "start", 12, label);
    }
}

/// Axes, the time ticks and a frame for a panel.
fn frame(o: &mut String, p: &Panel, title: &str) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, p.top, p.top + PANEL_H);
    let _ = writeln!(
        o,
        r##"<rect x="{x0}" y="{y0}" width="{}" height="{PANEL_H}" fill="none" stroke="#888"/>"##,
        x1 - x0
    );
    text(o, x0, y0 - 8.0, "start", 13, title);
    let step = nice_step(p.t_max / 6.0);
    let mut t = 0.0;
    while t <= p.t_max + 1e-9 {
        let x = p.x(t);
        let _ = writeln!(
            o,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{}" stroke="#888"/>"##,
            y1 + 4.0
        );
        text(o, x, y1 + 17.0, "middle", 11, &format!("{t}s"));
        t = ((t + step) * 1e6).round() / 1e6;
    }
}

/// `10^d` microseconds as a tick label: `1 µs`, `100 µs`, `10 ms`, `1 s`.
fn decade(d: f64) -> String {
    let d = d as i32;
    let (unit, base) = match d {
        ..=2 => ("µs", 0),
        3..=5 => ("ms", 3),
        _ => ("s", 6),
    };
    if d < 0 {
        return format!("{} ns", 10f64.powi(d + 3));
    }
    format!("{} {unit}", 10u64.pow((d - base) as u32))
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// The SVG document for `r`'s time line.
pub fn render(r: &Report) -> String {
    let pts: &[Point] = &r.timeline.points;
    let t_max = pts.last().map(|p| p.t_s).unwrap_or(1.0);
    let h = TOP + 2.0 * PANEL_H + GAP + 40.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif">"#
    );
    let _ = writeln!(o, r#"<rect width="100%" height="100%" fill="white"/>"#);
    text(
        &mut o,
        LEFT,
        22.0,
        "start",
        15,
        &format!("expressway bench {}", r.workflow),
    );
    let heading = format!(
        "{}, {} loop {}: {:.0} passing/s, p99 {}",
        r.target,
        r.mode,
        match r.rate {
            Some(rate) => format!("{rate}/s (≤{} in flight)", r.concurrency),
            None => format!("{} in flight", r.concurrency),
        },
        r.executions_per_s,
        human(r.latency_us.p99)
    );
    text(&mut o, LEFT, 42.0, "start", 12, &heading);

    // Throughput: linear from zero.
    let tp = Panel { top: TOP, t_max };
    frame(&mut o, &tp, "executions/s (per time slice)");
    let top_rate = pts
        .iter()
        .map(|p| p.passed_per_s.max(p.errors_per_s))
        .fold(0.0, f64::max)
        .max(1.0);
    let step = nice_step(top_rate / 4.0);
    let y_max = step * (top_rate / step).ceil();
    let y = |v: f64| tp.top + PANEL_H * (1.0 - v / y_max);
    let mut v = 0.0;
    while v <= y_max + 1e-9 {
        text(
            &mut o,
            LEFT - 6.0,
            y(v) + 4.0,
            "end",
            11,
            &format!("{v:.0}"),
        );
        v += step;
    }
    let line = |f: fn(&Point) -> f64| -> Vec<(f64, f64)> {
        pts.iter().map(|p| (tp.x(p.t_s), y(f(p)))).collect()
    };
    polyline(&mut o, &line(|p| p.passed_per_s), "#2a8a2a");
    polyline(&mut o, &line(|p| p.errors_per_s), "#c62828");
    legend(
        &mut o,
        tp.top,
        &[("passing", "#2a8a2a"), ("errors", "#c62828")],
    );

    // Latency: log scale, decades from the fastest p50 to the slowest max.
    let lp = Panel {
        top: TOP + PANEL_H + GAP,
        t_max,
    };
    frame(&mut o, &lp, "latency (log scale)");
    let vals = pts.iter().flat_map(|p| [p.p50_us, p.p99_us, p.max_us]);
    let lo = vals.clone().filter(|v| *v > 0.0).fold(f64::MAX, f64::min);
    let hi = vals.fold(0.0, f64::max);
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (1.0, 10.0) };
    let (d0, d1) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let ly = |us: f64| lp.top + PANEL_H * (1.0 - (us.max(1e-3).log10() - d0) / (d1 - d0));
    let mut d = d0;
    while d <= d1 + 1e-9 {
        let yy = ly(10f64.powf(d));
        text(&mut o, LEFT - 6.0, yy + 4.0, "end", 11, &decade(d));
        let _ = writeln!(
            o,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" stroke="#e4e4e4"/>"##,
            W - RIGHT
        );
        d += 1.0;
    }
    let line = |f: fn(&Point) -> f64| -> Vec<(f64, f64)> {
        pts.iter().map(|p| (lp.x(p.t_s), ly(f(p)))).collect()
    };
    polyline(&mut o, &line(|p| p.max_us), "#9e9e9e");
    polyline(&mut o, &line(|p| p.p99_us), "#ef6c00");
    polyline(&mut o, &line(|p| p.p50_us), "#1565c0");
    legend(
        &mut o,
        lp.top,
        &[("p50", "#1565c0"), ("p99", "#ef6c00"), ("max", "#9e9e9e")],
    );
    o.push_str("</svg>\n");
    o
}
