//! Payload templates and reference paths.

use super::*;
use crate::value::parse;
use std::sync::Arc;

/// Evaluates template `tpl` on `input`: the JSON of the result, or `ERR <error>: <detail>`.
fn run(tpl: &str, input: &str) -> String {
    let t = Template::compile(&parse(tpl).expect("template parses")).expect("template compiles");
    let input = parse(input).expect("input parses");
    let ctx = parse(r#"{"Execution":{"Id":"arn:e"},"Map":{"Item":{"Value":"v0"}}}"#).expect("ctx");
    let mut vars = crate::value::Map::new();
    vars.insert("greeting".into(), Value::from("hi"));
    let scope = Scope {
        input: &input,
        context: &ctx,
        vars: &vars,
    };
    match t.eval(&scope) {
        Ok(v) => v.to_json(),
        Err(e) => format!("ERR {}: {}", e.error, e.detail),
    }
}

fn compile_err(tpl: &str) -> bool {
    Template::compile(&parse(tpl).expect("template parses")).is_err()
}

/// Sets `result` at `path` in `target`: the JSON of the result, or `ERR <cause>`.
fn set(target: &str, path: &str, result: &str) -> String {
    let rp = ReferencePath::parse(path).expect("reference path parses");
    let target = parse(target).expect("target parses");
    match rp.set(&target, parse(result).expect("result parses")) {
        Ok(v) => v.to_json(),
        Err(e) => format!("ERR {}", e.cause(path)),
    }
}

#[test]
fn literals_pass_through() {
    assert_eq!(
        run(r#"{"a":1,"b":[true,null,{"c":"$.x"}]}"#, "{}"),
        r#"{"a":1,"b":[true,null,{"c":"$.x"}]}"#
    );
    assert_eq!(run(r#""plain""#, "{}"), r#""plain""#);
    assert_eq!(run("[]", "{}"), "[]");
}

#[test]
fn literal_subtrees_are_shared_not_copied() {
    let tpl = parse(r#"{"lit":{"deep":[1,2,3]},"x.$":"$.x"}"#).expect("parses");
    let t = Template::compile(&tpl).expect("compiles");
    assert!(!t.is_literal());
    let input = parse(r#"{"x":1}"#).expect("parses");
    let out = t
        .eval(&Scope::new(&input, &Value::Null))
        .expect("evaluates");
    let (Some(Value::Object(a)), Some(Value::Object(b))) = (out.get("lit"), tpl.get("lit")) else {
        panic!("objects expected");
    };
    assert!(Arc::ptr_eq(a, b));
    assert!(
        Template::compile(&parse(r#"{"a":[1]}"#).expect("parses"))
            .expect("compiles")
            .is_literal()
    );
    let lit = Template::compile(&parse(r#"{"a":"$.x"}"#).expect("parses")).expect("compiles");
    assert_eq!(
        lit.literal().map(Value::to_json).as_deref(),
        Some(r#"{"a":"$.x"}"#)
    );
    assert!(t.literal().is_none());
}

#[test]
fn dynamic_members() {
    assert_eq!(run(r#"{"v.$":"$.a"}"#, r#"{"a":[1]}"#), r#"{"v":[1]}"#);
    assert_eq!(run(r#"{"v.$":"$"}"#, r#"{"a":1}"#), r#"{"v":{"a":1}}"#);
    assert_eq!(
        run(r#"{"id.$":"$$.Execution.Id"}"#, "{}"),
        r#"{"id":"arn:e"}"#
    );
    assert_eq!(
        run(r#"{"item.$":"$$.Map.Item.Value"}"#, "{}"),
        r#"{"item":"v0"}"#
    );
    assert_eq!(run(r#"{"g.$":"$greeting"}"#, "{}"), r#"{"g":"hi"}"#);
    assert_eq!(
        run(
            r#"{"f.$":"States.Format('{} {}', $greeting, $.n)"}"#,
            r#"{"n":2}"#
        ),
        r#"{"f":"hi 2"}"#
    );
    assert_eq!(
        run(
            r#"{"outer":{"inner.$":"$.a","keep":1},"list":[{"x.$":"$.b"},2]}"#,
            r#"{"a":"A","b":"B"}"#
        ),
        r#"{"outer":{"inner":"A","keep":1},"list":[{"x":"B"},2]}"#
    );
    assert_eq!(
        run(
            r#"{"all.$":"$.items[*].v"}"#,
            r#"{"items":[{"v":1},{"v":2}]}"#
        ),
        r#"{"all":[1,2]}"#
    );
    assert_eq!(run(r#"{"none.$":"$.items[1:5]"}"#, "{}"), r#"{"none":[]}"#);
    assert_eq!(
        run(
            r#"{"item.$":"$.items[10]"}"#,
            r#"{"items":[0,1,2,3,4,5,6,7,8,9,10]}"#
        ),
        r#"{"item":10}"#
    );
    assert_eq!(
        run(r#"{"b":1,"a.$":"$.x","c":3}"#, r#"{"x":2}"#),
        r#"{"b":1,"a":2,"c":3}"#
    );
}

#[test]
fn missing_paths_fail_with_aws_text() {
    assert_eq!(
        run(
            r#"{"value.$":"$.no_such_jsonpath"}"#,
            r#"{"int-literal":0}"#
        ),
        "ERR States.Runtime: The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
    );
    assert_eq!(
        run(r#"{"missing.$":"$.nope.deep"}"#, r#"{"other":1}"#),
        "ERR States.Runtime: The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in the input '{\"other\":1}'"
    );
    assert_eq!(
        run(r#"{"a":{"f.$":"States.Array($.gone)"}}"#, "{}"),
        "ERR States.Runtime: The JSONPath '$.gone' specified for the field 'f.$' could not be found in the input '{}'"
    );
    assert_eq!(
        run(r#"{"x.$":"States.MathAdd($.a, 'b')"}"#, r#"{"a":1}"#),
        "ERR States.Runtime: Invalid arguments in States.MathAdd"
    );
}

#[test]
fn fields_outside_templates() {
    let input = parse(r#"{"Error":"E","Cause":"C","int-literal":0}"#).expect("parses");
    let scope = Scope::new(&input, &Value::Null);
    let p = Path::parse("$.ErrorX").expect("parses");
    assert_eq!(
        p.select_for(&scope, "ErrorPath")
            .expect_err("missing")
            .detail,
        r#"The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{"Error":"E","Cause":"C","int-literal":0}'"#
    );
    let f = Intrinsic::parse("States.Format('custom {}, caused by {}.', $.Error, $.Cause)")
        .expect("parses");
    assert_eq!(
        f.eval_for(&scope, "CausePath")
            .expect("evaluates")
            .to_json(),
        r#""custom E, caused by C.""#
    );
}

#[test]
fn undefined_variables_are_left_to_the_vm() {
    let t = Template::compile(&parse(r#"{"x.$":"$nope.a"}"#).expect("parses")).expect("compiles");
    let v = Value::Null;
    let err = t.eval(&Scope::new(&v, &v)).expect_err("undefined");
    assert_eq!(
        (err.kind, err.detail.as_str()),
        (EvalErrorKind::UnknownVariable, "nope")
    );
}

#[test]
fn compile_errors() {
    assert!(compile_err(r#"{"x.$":1}"#));
    assert!(compile_err(r#"{"x.$":"no-dollar"}"#));
    assert!(compile_err(r#"{"x.$":"$.a["}"#));
    assert!(compile_err(r#"{"x.$":"States.Nope()"}"#));
    assert!(compile_err(r#"{"x.$":"$.a","x":1}"#));
    assert!(compile_err(r#"{"deep":[{"x.$":"$$$"}]}"#));
    let mut deep = String::new();
    for _ in 0..100 {
        deep.push_str(r#"{"a":"#);
    }
    deep.push_str(r#"{"x.$":"$"}"#);
    deep.push_str(&"}".repeat(100));
    assert!(compile_err(&deep));
    let literal = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    assert!(!compile_err(&literal), "deep literals are fine");
}

#[test]
fn reference_paths_set_and_create() {
    assert_eq!(set(r#"{"a":1}"#, "$", r#""r""#), r#""r""#);
    assert_eq!(set(r#"{"a":1}"#, "$.b", "2"), r#"{"a":1,"b":2}"#);
    assert_eq!(set(r#"{"a":1,"b":0}"#, "$.a", "9"), r#"{"a":9,"b":0}"#);
    assert_eq!(
        set(r#"{"a":1}"#, "$.x.y.z", "true"),
        r#"{"a":1,"x":{"y":{"z":true}}}"#
    );
    assert_eq!(
        set(r#"{"x":{"k":1}}"#, "$.x.y", "2"),
        r#"{"x":{"k":1,"y":2}}"#
    );
    assert_eq!(
        set(r#"{"x":{"k":1}}"#, "$['x']['k']", "null"),
        r#"{"x":{"k":null}}"#
    );
    assert_eq!(
        set(r#"{"l":[1,{"a":2}]}"#, "$.l[1].a", "3"),
        r#"{"l":[1,{"a":3}]}"#
    );
    assert_eq!(set(r#"{"l":[1,2]}"#, "$.l[-1]", "3"), r#"{"l":[1,3]}"#);
    assert_eq!(set("[1,2]", "$[0]", "0"), "[0,2]");
}

#[test]
fn reference_path_conflicts() {
    assert_eq!(
        set(r#""input1""#, "$.someTaskResult", "1"),
        r#"ERR Unable to apply ReferencePath $.someTaskResult to input "input1""#
    );
    assert_eq!(
        set("[1]", "$.a", "1"),
        "ERR Unable to apply ReferencePath $.a to input [1]"
    );
    assert_eq!(
        set(r#"{"discovery":5}"#, "$.discovery.objects", "1"),
        r#"ERR Unable to apply step "discovery" to input {"discovery":5}"#
    );
    assert_eq!(
        set(r#"{"l":[1]}"#, "$.l[3]", "1"),
        r#"ERR Unable to apply ReferencePath $.l[3] to input {"l":[1]}"#
    );
}

#[test]
fn reference_paths_share_untouched_members() {
    let target = parse(r#"{"big":{"x":[1,2,3]},"r":{"old":1}}"#).expect("parses");
    let out = ReferencePath::parse("$.r.new")
        .expect("parses")
        .set(&target, Value::int(2))
        .expect("sets");
    let (Some(Value::Object(a)), Some(Value::Object(b))) = (out.get("big"), target.get("big"))
    else {
        panic!("objects expected");
    };
    assert!(Arc::ptr_eq(a, b));
    assert_eq!(
        out.to_json(),
        r#"{"big":{"x":[1,2,3]},"r":{"old":1,"new":2}}"#
    );
    assert_eq!(target.to_json(), r#"{"big":{"x":[1,2,3]},"r":{"old":1}}"#);
}

#[test]
fn reference_path_syntax() {
    for bad in [
        "$.a[*]",
        "$..a",
        "$.a[?(@.b)]",
        "$$.a",
        "$var.a",
        "$.a[0:1]",
        "$['a','b']",
        "a",
    ] {
        assert!(
            ReferencePath::parse(bad).is_err(),
            "{bad:?} is not a reference path"
        );
    }
    assert_eq!(
        ReferencePath::parse("$.a.b").expect("parses").text(),
        "$.a.b"
    );
}

#[test]
fn compiled_forms_are_shareable_across_threads() {
    fn shareable<T: Send + Sync + Clone>() {}
    shareable::<Path>();
    shareable::<ReferencePath>();
    shareable::<Template>();
    shareable::<Intrinsic>();
}

#[test]
fn size_bounds_hold_and_give_up_where_they_must() {
    let input = r#"{"a":{"b":[1,2,3]},"s":"x\"y","n":1.5}"#;
    let input_len = parse(input).unwrap().to_json().len();
    // (template, has a bound)
    let cases = [
        (r#"{"k":1}"#, true),
        (r#"{"a.$":"$.a","lit":[1,{"z":"é"}],"s.$":"$.s"}"#, true),
        (r#"[{"x.$":"$.a.b[0]"},{"y.$":"$"}]"#, true),
        (r#"{"all.$":"$"}"#, true),
        (r#"{"many.$":"$..b"}"#, false),
        (r#"{"ctx.$":"$$.Execution.Id"}"#, false),
        (r#"{"v.$":"$greeting"}"#, false),
        (r#"{"f.$":"States.Format('{}', $.s)"}"#, false),
    ];
    for (tpl, bounded) in cases {
        let t = Template::compile(&parse(tpl).unwrap()).unwrap();
        let built = run(tpl, input);
        match t.size_bound(input_len) {
            Some(b) => {
                assert!(bounded, "{tpl}: no bound expected");
                assert!(
                    b >= built.len(),
                    "{tpl}: bound {b} < {} ({built})",
                    built.len()
                );
            }
            None => assert!(!bounded, "{tpl}: a bound expected"),
        }
    }
}
