//! Golden files for the bench workflows in all three formats, and the shape of the graph.
//!
//! `UPDATE_GOLDEN=1 cargo test --lib graph` rewrites `tests/graph/*` after a deliberate change;
//! look at the SVGs before committing them.

use std::collections::HashSet;

use super::{EdgeKind, Graph, NodeKind, to_dot, to_mermaid, to_svg};
use crate::definition::{StateType, load};

fn graph(text: &str) -> Graph {
    Graph::new(&load(text).expect("a valid definition"))
}

fn bench(name: &str) -> Graph {
    let path = format!(
        "{}/benches/workflows/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    graph(&std::fs::read_to_string(path).expect("bench workflow"))
}

fn golden(file: &str, actual: &str) {
    let path = format!("{}/tests/graph/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{file} differs from its golden file (UPDATE_GOLDEN=1 rewrites it):\n{actual}"
    );
}

#[test]
fn bench_workflows_match_their_golden_files() {
    for name in ["w2_choice", "w3_map100", "w4_parallel", "w5_credit"] {
        let g = bench(name);
        golden(&format!("{name}.dot"), &to_dot(&g));
        golden(&format!("{name}.mmd"), &to_mermaid(&g));
        let svg = to_svg(&g, &HashSet::new());
        roxmltree::Document::parse(&svg).expect("well-formed SVG");
        golden(&format!("{name}.svg"), &svg);
    }
}

#[test]
fn the_tutorial_has_its_states_groups_and_labelled_choices() {
    let g = bench("w5_credit");
    let names: Vec<&str> = g.root.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"Start"));
    assert_eq!(names.last(), Some(&"End"));
    assert!(names.contains(&"Credit applied >= 5000?"));
    let parallel = g
        .root
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::State(StateType::Parallel));
    assert_eq!(parallel.expect("the Parallel state").children.len(), 2);
    let labels: Vec<&str> = g
        .root
        .edges
        .iter()
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert!(labels.contains(&"$.credit.limit < 5000"), "{labels:?}");
    // The Default leads where the second rule leads: one edge, a line each.
    assert!(
        labels.contains(&"$.credit.limit >= 5000\nDefault"),
        "{labels:?}"
    );
    let task = g
        .root
        .nodes
        .iter()
        .find(|n| n.name == "Get credit limit")
        .expect("task");
    assert_eq!(task.detail.as_deref(), Some("lambda: GetCreditLimit"));
}

#[test]
fn catch_retry_and_loops_are_drawn_distinctly() {
    let g = graph(
        r#"{"StartAt": "Try", "States": {
            "Try": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}], "Next": "Again?"},
            "Again?": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.done", "IsPresent": true},
                "Next": "Try"}], "Default": "Done"},
            "Done": {"Type": "Succeed"},
            "Oops": {"Type": "Fail", "Error": "E"}}}"#,
    );
    let kinds: Vec<EdgeKind> = g.root.edges.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EdgeKind::Catch) && kinds.contains(&EdgeKind::Retry));
    let labels: Vec<&str> = g
        .root
        .edges
        .iter()
        .filter_map(|e| e.label.as_deref())
        .collect();
    assert!(labels.contains(&"retry States.Timeout ×2"), "{labels:?}");
    assert!(labels.contains(&"not ($.done is present)"), "{labels:?}");
    let svg = to_svg(&g, &HashSet::new());
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    // The loop back to Try runs up a lane (H…V…H), the catch is dashed red.
    assert!(svg.contains(" V"), "a back edge drawn up a lane");
    assert!(svg.contains("stroke=\"#dc2626\" stroke-width=\"1.3\" stroke-dasharray=\"6 4\""));
    let dot = to_dot(&g);
    assert!(
        dot.contains("style=dashed, color=\"#dc2626\", label=\"States.ALL\""),
        "{dot}"
    );
    let mermaid = to_mermaid(&g);
    assert!(mermaid.contains("-.->|\"States.ALL\"|"), "{mermaid}");
}

#[test]
fn a_visited_path_is_highlighted_and_the_rest_fades() {
    let g = bench("w2_choice");
    let first = g.root.nodes[1].name.clone();
    let visited: HashSet<String> = [first.clone()].into();
    let svg = to_svg(&g, &visited);
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let lit = format!("data-state=\"{first}\" opacity=\"1\"");
    assert!(svg.contains(&lit), "{svg}");
    assert!(svg.contains("opacity=\"0.5\""), "unvisited states fade");
}

#[test]
fn names_are_escaped_in_every_format() {
    let g = graph(
        r#"{"StartAt": "A <\"&'> B", "States": {"A <\"&'> B": {"Type": "Pass", "End": true}}}"#,
    );
    let svg = to_svg(&g, &HashSet::new());
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert!(svg.contains("A &lt;&quot;&amp;&apos;&gt; B"));
    assert!(to_dot(&g).contains("A <\\\"&'> B"));
    assert!(to_mermaid(&g).contains("A #lt;#quot;&'#gt; B"));
}

#[test]
fn a_long_chain_lays_out_without_deep_recursion() {
    // 2,000 states in a row: the back-edge walk is iterative.
    let mut states = String::new();
    for i in 0..2000 {
        states.push_str(&format!(
            "\"S{i}\": {{\"Type\": \"Pass\", \"Next\": \"S{}\"}},",
            i + 1
        ));
    }
    states.push_str("\"S2000\": {\"Type\": \"Succeed\"}");
    let g = graph(&format!(r#"{{"StartAt": "S0", "States": {{{states}}}}}"#));
    let svg = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || to_svg(&g, &HashSet::new()))
        .expect("spawn")
        .join()
        .expect("no overflow");
    assert!(svg.matches("class=\"node\"").count() == 2003);
}
