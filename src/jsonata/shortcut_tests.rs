//! The shortcuts taken for speed give what the plain evaluation gives: JSON remembered by
//! containers and the input memo, patched `$merge` results, direct object paths,
//! `Env::lookup_member`.

use super::*;
use crate::value::{Map, Str, Value, parse};

fn eval_on(expr: &str, input: &Value, env: &dyn Env) -> Option<Value> {
    let e = compile_with(
        expr,
        Options {
            step_functions: true,
        },
    )
    .expect("test expressions compile");
    e.evaluate(Some(input), env, &Limits::default())
        .expect("test expressions evaluate")
}

/// `second` evaluated on the result of `first`, as the result itself (memo hit) and as a copy
/// parsed afresh: both must print `want`.
fn chain(first: &str, second: &str, input: &str, want: &str) {
    let input = parse(input).expect("test input is JSON");
    let mid = eval_on(first, &input, &()).expect("first gives a value");
    let fresh = parse(&mid.to_json()).expect("results are JSON");
    for i in [&mid, &fresh] {
        let out = eval_on(second, i, &()).map(|v| v.to_json());
        assert_eq!(out.as_deref(), Some(want), "{first} then {second}");
    }
}

#[test]
fn results_fed_back_as_input_read_as_their_json() {
    chain(
        "{'f': function() {1}, 'a': 1}",
        "$count($keys($))",
        "{}",
        "1",
    );
    chain("[1, 2, 3].($ * 2)", "$[0]", "{}", "2");
    chain("{'a': [1, 2][]}", "$count(a)", "{}", "2");
    chain("{'a': [[1], [2]]}", "a[0]", "{}", "[1]");
    chain("{'n': -0}", "$string(n)", "{}", "\"0\"");
    chain(
        "$merge([$, {'c': 3}])",
        "$keys($)",
        r#"{"a":1,"b":2}"#,
        r#"["a","b","c"]"#,
    );
    chain("$", "$.a", r#"{"a":1.0}"#, "1");
}

#[test]
fn merge_patches_the_json_of_its_first_object() {
    let cases = [
        (
            "$merge([$, {'a': 5}])",
            r#"{"a":1,"b":2}"#,
            r#"{"a":5,"b":2}"#,
        ),
        (
            "$merge([$, {'c': {'d': $.a}}])",
            r#"{"a":1}"#,
            r#"{"a":1,"c":{"d":1}}"#,
        ),
        (
            "$merge([{'f': function() {1}, 'a': 1}, {'b': 2}])",
            "{}",
            r#"{"a":1,"b":2}"#,
        ),
        (
            "$merge([$, {'b': function() {1}}])",
            r#"{"a":1,"b":2}"#,
            r#"{"a":1}"#,
        ),
        (
            "$merge([$merge([$, {'b': 2}]), {'c': 3}])",
            r#"{"a":1}"#,
            r#"{"a":1,"b":2,"c":3}"#,
        ),
        ("$merge([])", "{}", "{}"),
        (
            "$merge([$.x, $])",
            r#"{"x":{"k":[1]},"y":2}"#,
            r#"{"k":[1],"x":{"k":[1]},"y":2}"#,
        ),
    ];
    for (expr, input, want) in cases {
        let out = eval_on(expr, &parse(input).expect("JSON"), &()).map(|v| v.to_json());
        assert_eq!(out.as_deref(), Some(want), "{expr}");
    }
}

#[test]
fn object_paths_agree_with_the_general_walk() {
    let input = r#"{"a":{"b":[{"c":1},{"c":2}],"s":[1,2],"o":{"p":null}},"n":3}"#;
    let cases = [
        ("$.a.o.p", Some("null")),
        ("$.a.s", Some("[1,2]")),
        ("$.a.b.c", Some("[1,2]")),
        ("$.a.missing.x", None),
        ("$.n.x", None),
        ("($x := $.a; $x.o)", Some(r#"{"p":null}"#)),
        ("($x := [$.a, $.a]; $x.s)", Some("[1,2,1,2]")),
        ("$.a.s[1]", Some("2")),
        ("$.a.s[]", Some("[1,2]")),
    ];
    for (expr, want) in cases {
        let out = eval_on(expr, &parse(input).expect("JSON"), &()).map(|v| v.to_json());
        assert_eq!(out.as_deref(), want, "{expr}");
    }
}

/// An `Env` answering `lookup_member` for `$states`, to compare with a plain map binding.
struct Members(Map);

impl Env for Members {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.0.get(name).cloned()
    }

    fn lookup_member(&self, name: &str, member: &str) -> Option<Option<Value>> {
        let states = self.0.get(name)?.as_object()?;
        Some(states.get(member).cloned())
    }
}

#[test]
fn lookup_member_agrees_with_lookup() {
    let states = parse(r#"{"input":{"id":7,"tags":["a","b"]},"context":null}"#).expect("JSON");
    let mut m = Map::new();
    m.insert(Str::from("states"), states);
    let members = Members(m.clone());
    let input = parse("{}").expect("JSON");
    for expr in [
        "$states.input.id",
        "$states.input.tags",
        "$states.context",
        "$states.result",
        "$states.input.tags[0]",
        "($states := {'input': 1}; $states.input)",
        "$states.input.id + $states.input.id",
    ] {
        assert_eq!(
            eval_on(expr, &input, &members),
            eval_on(expr, &input, &m),
            "{expr}"
        );
    }
}
