//! Intrinsic functions. Cases marked "AWS" come from the recorded conformance cases.

use super::*;
use crate::value::parse;

const CTX: &str = r#"{"Execution":{"Name":"exec-1","Input":{"csv":"a,b"}},
  "StateMachine":{"Id":"arn:sm","Name":"my-machine-x"}}"#;

/// Evaluates `expr` on `input`: the JSON of the result, or `ERR <error>: <detail>`.
fn call(expr: &str, input: &str) -> String {
    let input = parse(input).expect("test input parses");
    let ctx = parse(CTX).expect("context parses");
    let f = Intrinsic::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    match f.eval(&Scope::new(&input, &ctx)) {
        Ok(v) => v.to_json(),
        Err(e) => format!("ERR {}: {}", e.error, e.detail),
    }
}

/// `call` with one input member `x`.
fn with_x(expr: &str, x: &str) -> String {
    call(expr, &format!(r#"{{"x":{x}}}"#))
}

/// `call` with input members `a` and `b`.
fn with_ab(expr: &str, a: &str, b: &str) -> String {
    call(expr, &format!(r#"{{"a":{a},"b":{b}}}"#))
}

fn invalid(name: &str) -> String {
    format!("ERR States.Runtime: Invalid arguments in States.{name}")
}

#[test]
fn format_renders_each_json_type_as_aws() {
    let f = "States.Format('Formatting argument {}.', $.x)";
    for (x, out) in [
        (r#""""#, "Formatting argument ."),
        (r#"" ""#, "Formatting argument  ."),
        (r#""HelloWorld""#, "Formatting argument HelloWorld."),
        ("1", "Formatting argument 1."),
        ("1.1", "Formatting argument 1.1."),
        ("null", "Formatting argument null."),
        ("true", "Formatting argument true."),
        (
            r#""{\"Arg1\": 1, \"Arg2\": []}""#,
            r#"Formatting argument {\"Arg1\": 1, \"Arg2\": []}."#,
        ),
        (
            r#"{"Arg1":1,"Arg2":[]}"#,
            "Formatting argument {Arg1=1, Arg2=[]}.",
        ),
        (
            r#"[1,"a",{"b":null}]"#,
            "Formatting argument [1, a, {b=null}].",
        ),
        ("2.0", "Formatting argument 2.0."),
        ("1e20", "Formatting argument 1.0E20."),
    ] {
        assert_eq!(with_x(f, x), format!(r#""{out}""#), "x = {x}");
    }
}

#[test]
fn format_templates() {
    assert_eq!(
        with_ab(
            "States.Format('fst={} and snd={}.', $.a, $.b)",
            "null",
            "null"
        ),
        r#""fst=null and snd=null.""#
    );
    assert_eq!(
        call(r"States.Format('a \{\} {} \'q\' \\', 1)", "{}"),
        r#""a {} 1 'q' \\""#
    );
    assert_eq!(call("States.Format('no holes')", "{}"), r#""no holes""#);
    // Nested call results print as JSON text, path values as Java objects.
    assert_eq!(
        call("States.Format('{}{}', 'a', States.Format('<{}>', 2))", "{}"),
        r#""a\"<2>\"""#
    );
    assert_eq!(
        call(
            "States.Format('{}', States.StringToJson($.j))",
            r#"{"j":"\"x\""}"#
        ),
        r#""\"x\"""#
    );
    assert_eq!(
        call("States.Format('{}', States.Array(1, 'a'))", "{}"),
        r#""[1,\"a\"]""#
    );
    for bad in [
        "States.Format('Hello {', 1)",
        "States.Format('Hello {{}}', 1)",
        "States.Format('}')",
    ] {
        assert_eq!(call(bad, "{}"), invalid("Format"), "{bad}");
    }
    assert_eq!(
        call("States.Format($.t, 1)", r#"{"t":"{} }"}"#),
        invalid("Format")
    );
    assert_eq!(
        call("States.Format($$.Execution.Name, 1)", "{}"),
        "ERR States.Runtime: Invalid arguments in States.Format: number of arguments do not match the occurrences of {}."
    );
    let f = r#"{"t":"It's {}!"}"#;
    assert_eq!(
        call("States.Format($.t, 'Pikachu')", f),
        r#""It's Pikachu!""#
    );
    assert_eq!(
        call("States.Format('{} {}', 1)", "{}"),
        "ERR States.Runtime: Invalid arguments in States.Format: number of arguments do not match the occurrences of {}."
    );
    assert_eq!(call("States.Format(1)", "{}"), invalid("Format"));
    assert_eq!(
        call(
            "States.Format('fst={} and snd={}.', $$.Execution.Name, $$.StateMachine)",
            "{}"
        ),
        r#""fst=exec-1 and snd={Id=arn:sm, Name=my-machine-x}.""#
    );
}

#[test]
fn string_to_json() {
    let f = "States.StringToJson($.x)";
    for (x, out) in [
        (r#""""#, "null"),
        (r#"" ""#, "null"),
        (r#""null""#, "null"),
        (r#""-0""#, "0"),
        (r#""1""#, "1"),
        (r#""1.1""#, "1.1"),
        (r#""true""#, "true"),
        (r#""\"HelloWorld\"""#, r#""HelloWorld""#),
        (r#""[1, 2, \"HelloWorld\"]""#, r#"[1,2,"HelloWorld"]"#),
        (
            r#""{\"Arg1\": 1, \"Arg2\": []}""#,
            r#"{"Arg1":1,"Arg2":[]}"#,
        ),
    ] {
        assert_eq!(with_x(f, x), out, "x = {x}");
    }
    assert_eq!(with_x(f, r#""{bad""#), invalid("StringToJson"));
    assert_eq!(with_x(f, "1"), invalid("StringToJson"));
}

/// A path argument may put a dot before a bracket, as AWS's sample workflows do.
#[test]
fn path_arguments_with_a_dot_before_a_bracket() {
    assert_eq!(
        call(
            "States.StringToJson($.[0].body)",
            r#"[{"body":"{\"a\":1}"}]"#
        ),
        r#"{"a":1}"#
    );
    assert_eq!(
        call("States.Format('{}', $.a.[1])", r#"{"a":[1,2]}"#),
        r#""2""#
    );
}

#[test]
fn json_to_string() {
    let f = "States.JsonToString($.x)";
    for (x, out) in [
        ("0", r#""0""#),
        ("1.1", r#""1.1""#),
        (r#""HelloWorld""#, r#""\"HelloWorld\"""#),
        (r#"[1,2,"HelloWorld"]"#, r#""[1,2,\"HelloWorld\"]""#),
        (r#"{"Arg1":1,"Arg2":[]}"#, r#""{\"Arg1\":1,\"Arg2\":[]}""#),
        ("null", r#""null""#),
    ] {
        assert_eq!(with_x(f, x), out, "x = {x}");
    }
}

#[test]
fn array_and_length() {
    assert_eq!(call("States.Array()", "{}"), "[]");
    assert_eq!(
        with_ab("States.Array($.a, $.b)", r#"" ""#, r#""""#),
        r#"[" ",""]"#
    );
    assert_eq!(
        with_ab("States.Array($.a, $.b)", "1.1", r#"{"k":[]}"#),
        r#"[1.1,{"k":[]}]"#
    );
    assert_eq!(
        call("States.Array('a', 1, null, true, false, -2.5)", "{}"),
        r#"["a",1,null,true,false,-2.5]"#
    );
    assert_eq!(
        with_x(
            "States.ArrayLength($.x)",
            r#"[null,null,true,1,1.1,"s",[],{"a":1},{"a":1}]"#
        ),
        "9"
    );
    assert_eq!(with_x("States.ArrayLength($.x)", "[]"), "0");
    assert_eq!(
        with_x("States.ArrayLength($.x)", r#""abc""#),
        invalid("ArrayLength")
    );
}

#[test]
fn array_partition() {
    let f = "States.ArrayPartition($.a, $.b)";
    for (a, b, out) in [
        ("[]", "1", "[]"),
        ("[]", "5", "[]"),
        ("[0]", "2", "[[0]]"),
        ("[0,1]", "1", "[[0],[1]]"),
        ("[0,1]", "2", "[[0,1]]"),
        ("[0,1]", "4", "[[0,1]]"),
        ("[0,1,2]", "2", "[[0,1],[2]]"),
        ("[0,1,2,3]", "2", "[[0,1],[2,3]]"),
        ("[1,2,3,4,5]", "2.6", "[[1,2],[3,4],[5]]"),
        ("[1,2,3]", "2147483647", "[[1,2,3]]"),
    ] {
        assert_eq!(with_ab(f, a, b), out, "{a} by {b}");
    }
    for (a, b) in [
        ("[1]", "0"),
        ("[1]", "-1"),
        ("[1]", "0.49"),
        ("[1]", r#""2""#),
        ("[1]", "null"),
        (r#""s""#, "2"),
    ] {
        assert_eq!(with_ab(f, a, b), invalid("ArrayPartition"), "{a} by {b}");
    }
    assert_eq!(
        call("States.ArrayPartition(States.Array(1,2,3), 2)", "{}"),
        "[[1,2],[3]]"
    );
    assert_eq!(
        call("States.ArrayPartition(States.Array(1,2,3))", "{}"),
        invalid("ArrayPartition")
    );
}

#[test]
fn array_contains() {
    let f = "States.ArrayContains($.a, $.b)";
    for (a, b, out) in [
        ("[]", "[]", "false"),
        ("[]", "1", "false"),
        ("[[1,2,3],2]", "null", "false"),
        ("[[1,2,3],2]", "2", "true"),
        (r#"[{"1":2,"2":[]}]"#, "[]", "false"),
        (r#"[{"1":2,"2":[]}]"#, r#"{"2":[],"1":2}"#, "true"),
        ("[true,false]", "true", "true"),
        ("[true,false]", "false", "true"),
        (r#"["a"]"#, r#""b""#, "false"),
        ("[1.0]", "1", "false"),
        ("[[1,2]]", "[1,2]", "true"),
    ] {
        assert_eq!(with_ab(f, a, b), out, "{b} in {a}");
    }
    assert_eq!(with_ab(f, "{}", "1"), invalid("ArrayContains"));
}

#[test]
fn array_range() {
    for (expr, out) in [
        ("States.ArrayRange(0, 10, 3)", "[0,3,6,9]"),
        ("States.ArrayRange(1, 9, 9)", "[1]"),
        ("States.ArrayRange(1, 9, 2)", "[1,3,5,7,9]"),
        ("States.ArrayRange(-2, 2, 2)", "[-2,0,2]"),
        ("States.ArrayRange(3, 3, -1)", "[3]"),
        ("States.ArrayRange(5, 1, -2)", "[5,3,1]"),
        ("States.ArrayRange(5, 1, 1)", "[]"),
        ("States.ArrayRange(1, 5, -1)", "[]"),
        ("States.ArrayRange(1.4, 5.6, 2.2)", "[1,3,5]"),
        ("States.ArrayRange(1.6, 1.4, 1)", "[1]"),
        ("States.ArrayRange(5.4, -0.6, -2.4)", "[5,3,1]"),
        ("States.ArrayRange(0, 3, 1)", "[0,1,2,3]"),
    ] {
        assert_eq!(call(expr, "{}"), out, "{expr}");
    }
    assert_eq!(
        call("States.ArrayRange(1, 1000, 1)", "{}")
            .matches(',')
            .count(),
        999
    );
    assert_eq!(
        call("States.ArrayRange(1000, 1, -1)", "{}")
            .matches(',')
            .count(),
        999
    );
    for expr in [
        "States.ArrayRange(1, 1001, 1)",
        "States.ArrayRange(1001, 1, -1)",
        "States.ArrayRange(1, 10, 0)",
        "States.ArrayRange(1, 10, 0.49)",
        "States.ArrayRange('a', 5, 1)",
        "States.ArrayRange(1, 5)",
        "States.ArrayRange(1, 5, 1, 99)",
        "States.ArrayRange(0, 99999999999, 1)",
    ] {
        assert_eq!(call(expr, "{}"), invalid("ArrayRange"), "{expr}");
    }
}

#[test]
fn array_get_item_and_unique() {
    let get = "States.ArrayGetItem($.a, $.b)";
    assert_eq!(with_ab(get, "[]", "999"), "null");
    assert_eq!(with_ab(get, "[10,20,30]", "1.2"), "20");
    assert_eq!(
        with_ab(get, "[10,20,30]", r#""1""#),
        invalid("ArrayGetItem")
    );
    assert_eq!(with_ab(get, r#""abc""#, "0"), invalid("ArrayGetItem"));
    assert_eq!(
        with_ab("States.ArrayGetItem($.a, $.b)", "[1,2,3,4,5,6,7,8,9]", "5"),
        "6"
    );
    assert_eq!(
        with_ab("States.ArrayGetItem($.a, $.b)", "[1,2]", "2"),
        invalid("ArrayGetItem")
    );
    assert_eq!(
        with_ab("States.ArrayGetItem($.a, $.b)", "[1,2]", "-1"),
        invalid("ArrayGetItem")
    );
    assert_eq!(
        with_x(
            "States.ArrayUnique($.x)",
            r#"[1,2,2,3,1,"1",1.0,{"a":1,"b":2},{"b":2,"a":1},[null],[null],null,null]"#
        ),
        r#"[1,2,3,"1",1.0,{"a":1,"b":2},[null],null]"#
    );
    assert_eq!(with_x("States.ArrayUnique($.x)", "[]"), "[]");
    assert_eq!(
        with_x("States.ArrayUnique($.x)", "{}"),
        invalid("ArrayUnique")
    );
}

#[test]
fn base64() {
    assert_eq!(
        call("States.Base64Encode('Hello World')", "{}"),
        r#""SGVsbG8gV29ybGQ=""#
    );
    assert_eq!(
        call("States.Base64Decode('SGVsbG8gV29ybGQ=')", "{}"),
        r#""Hello World""#
    );
    assert_eq!(call("States.Base64Encode('é')", "{}"), r#""w6k=""#);
    assert_eq!(
        call("States.Base64Decode('!!!')", "{}"),
        invalid("Base64Decode")
    );
    assert_eq!(call("States.Base64Decode('/w==')", "{}"), "\"\u{fffd}\"");
    assert_eq!(
        call("States.Base64Encode(1)", "{}"),
        invalid("Base64Encode")
    );
    let long = format!(r#""{}""#, "a".repeat(10_001));
    assert_eq!(
        with_x("States.Base64Encode($.x)", &long),
        invalid("Base64Encode")
    );
    let ok = format!(r#""{}""#, "a".repeat(10_000));
    assert!(with_x("States.Base64Encode($.x)", &ok).starts_with("\"YWFh"));
}

#[test]
fn hash() {
    let f = "States.Hash($.a, $.b)";
    for (alg, out) in [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "SHA-384",
            "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
        ),
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
    ] {
        assert_eq!(
            with_ab(f, r#""input data""#, &format!(r#""{alg}""#)),
            format!(r#""{out}""#),
            "{alg}"
        );
    }
    assert_eq!(
        call("States.Hash('Hash this string', 'SHA-256')", "{}"),
        r#""1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e""#
    );
    assert_eq!(call("States.Hash('x', 'SHA-3')", "{}"), invalid("Hash"));
    assert_eq!(call("States.Hash(1, 'MD5')", "{}"), invalid("Hash"));
    let long = format!(r#""{}""#, "a".repeat(10_001));
    assert_eq!(with_x("States.Hash($.x, 'MD5')", &long), invalid("Hash"));
}

#[test]
fn json_merge() {
    assert_eq!(
        with_ab(
            "States.JsonMerge($.a, $.b, false)",
            r#"{"a":{"a1":1,"a2":2},"b":2,"d":3}"#,
            r#"{"a":{"a3":1,"a4":2},"c":3,"d":4}"#
        ),
        r#"{"a":{"a3":1,"a4":2},"b":2,"d":4,"c":3}"#
    );
    assert_eq!(
        call(
            r#"States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), $$.Execution.Input, false)"#,
            "{}"
        ),
        r#"{"constant_in_literal":"false","csv":"a,b"}"#
    );
    assert_eq!(
        with_ab("States.JsonMerge($.a, $.b, true)", "{}", "{}"),
        invalid("JsonMerge")
    );
    assert_eq!(
        with_ab("States.JsonMerge($.a, $.b, false)", "[]", "{}"),
        invalid("JsonMerge")
    );
    assert_eq!(
        with_ab("States.JsonMerge($.a, $.b)", "{}", "{}"),
        invalid("JsonMerge")
    );
}

#[test]
fn math_add_rounds_halves_up_like_java() {
    let f = "States.MathAdd($.a, $.b)";
    for (a, b, out) in [
        ("-9", "3", "-6"),
        ("1.49", "1.5", "3"),
        ("1.5", "1.51", "4"),
        ("-1.49", "-1.5", "-2"),
        ("-1.5", "-1.51", "-3"),
        ("1.49", "-1.49", "0"),
        ("1.5", "0", "2"),
        ("1.51", "0", "2"),
        ("-1.49", "0", "-1"),
        ("-1.5", "0", "-1"),
        ("-1.51", "0", "-2"),
        ("0.5", "0", "1"),
        ("2.5", "0", "3"),
        ("3.5", "0", "4"),
        ("-0.5", "0.5", "1"),
        ("-0.5", "0", "0"),
        ("-2.5", "0", "-2"),
        ("-3.5", "0", "-3"),
        ("2147483646", "1", "2147483647"),
        ("-2147483647", "-1", "-2147483648"),
    ] {
        assert_eq!(with_ab(f, a, b), out, "{a} + {b}");
    }
    assert_eq!(with_ab(f, "1", r#""NOT A NUMBER""#), invalid("MathAdd"));
    assert_eq!(with_ab(f, "1", "2147483648"), invalid("MathAdd"));
    assert_eq!(with_ab(f, "2147483647", "1"), invalid("MathAdd"));
    assert_eq!(with_ab(f, "-2147483648", "-1"), invalid("MathAdd"));
    assert_eq!(with_ab(f, "true", "1"), invalid("MathAdd"));
    assert_eq!(with_ab(f, r#""1.5""#, "1"), invalid("MathAdd"));
    assert_eq!(call("States.MathAdd(States.MathAdd(1, 2), -1)", "{}"), "2");
}

#[test]
fn math_random() {
    for _ in 0..50 {
        let n: i64 = call("States.MathRandom(12.5, 44.51)", "{}")
            .parse()
            .expect("an integer");
        assert!((12..44).contains(&n), "{n}");
    }
    let a = call("States.MathRandom(0, 999, 3)", "{}");
    assert_eq!(
        a,
        call("States.MathRandom(0, 999, 3)", "{}"),
        "a seed repeats"
    );
    assert!((0..999).contains(&a.parse::<i64>().expect("an integer")));
    assert_eq!(call("States.MathRandom(5, 5)", "{}"), invalid("MathRandom"));
    assert_eq!(
        call("States.MathRandom('a', 5)", "{}"),
        invalid("MathRandom")
    );
    assert_eq!(call("States.MathRandom(1)", "{}"), invalid("MathRandom"));
}

#[test]
fn string_split_on_any_delimiter_character() {
    let f = "States.StringSplit($.a, $.b)";
    for (a, b, out) in [
        (r#"" ""#, r#"",""#, r#"[" "]"#),
        (r#"" , ""#, r#"",""#, r#"[" "," "]"#),
        (r#"",,,,""#, r#"",""#, "[]"),
        (r#""1,2,3,4,5""#, r#"",""#, r#"["1","2","3","4","5"]"#),
        (
            r#""This.is+a,test=string""#,
            r#"".+,=""#,
            r#"["This","is","a","test","string"]"#,
        ),
        (
            r#""split on T and \nnew line""#,
            r#""T\n""#,
            r#"["split on "," and ","new line"]"#,
        ),
        (r#""abc""#, r#""""#, r#"["abc"]"#),
        (r#""""#, r#"",""#, "[]"),
    ] {
        assert_eq!(with_ab(f, a, b), out, "{a} on {b}");
    }
    assert_eq!(
        with_x(
            "States.StringSplit($.x, ',')",
            r#""Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,'HelloWorld'\nNull,None,\n   \n""#
        ),
        r#"["Value1","Value2","Value3\nValue4","Value5","Value6\n","\ntrue","1","'HelloWorld'\nNull","None","\n   \n"]"#
    );
    assert_eq!(
        call("States.StringSplit('Hello\nWorld', '\n')", "{}"),
        r#"["Hello","World"]"#
    );
    assert_eq!(with_ab(f, "1", r#"",""#), invalid("StringSplit"));
}

#[test]
fn uuid() {
    let u = call("States.UUID()", "{}");
    assert_eq!(u.len(), 38, "{u}");
    assert_eq!(u.as_bytes()[15], b'4', "{u}");
    assert_ne!(u, call("States.UUID()", "{}"));
    assert_eq!(call("States.UUID(1)", "{}"), invalid("UUID"));
}

#[test]
fn nested_calls() {
    assert_eq!(
        call(
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)",
            "{}"
        ),
        r#""my""#
    );
    assert_eq!(
        call(
            "States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))",
            "{}"
        ),
        r#""x""#
    );
}

#[test]
fn path_arguments() {
    assert_eq!(call("States.Array($)", r#"{"a":1}"#), r#"[{"a":1}]"#);
    assert_eq!(
        call("States.Array($.a[*].b)", r#"{"a":[{"b":1},{"b":2}]}"#),
        "[[1,2]]"
    );
    assert_eq!(call("States.Array($['a'], $.a)", r#"{"a":1}"#), "[1,1]");
    assert_eq!(
        call("States.Array($.a[?(@ > 1)])", r#"{"a":[1,2,3]}"#),
        "[[2,3]]"
    );
    assert_eq!(
        call("States.Array($.missing)", "{}"),
        "ERR States.Runtime: Invalid path '$.missing' : No results for path: $['missing']"
    );
    let input = Value::Null;
    let err = Intrinsic::parse("States.Array($undefinedVar)")
        .expect("parses")
        .eval(&Scope::new(&input, &input))
        .expect_err("undefined variable");
    assert_eq!(err.kind, EvalErrorKind::UnknownVariable);
    assert_eq!(err.detail, "undefinedVar");
}

#[test]
fn variables_as_arguments() {
    let mut vars = crate::value::Map::new();
    vars.insert("n".into(), Value::int(5));
    vars.insert("s".into(), Value::from("Hello World"));
    let input = Value::Null;
    let scope = Scope {
        input: &input,
        context: &input,
        vars: &vars,
    };
    let eval = |e: &str| {
        Intrinsic::parse(e)
            .expect("parses")
            .eval(&scope)
            .expect("evaluates")
            .to_json()
    };
    assert_eq!(eval("States.MathAdd($n, 3)"), "8");
    assert_eq!(eval("States.Base64Encode($s)"), r#""SGVsbG8gV29ybGQ=""#);
    assert_eq!(eval("States.Format('{}-{}', $n, $s)"), r#""5-Hello World""#);
}

#[test]
fn parse_errors() {
    for bad in [
        "States.Nope()",
        "States.Format",
        "States.Format('x'",
        "States.Format('x',)",
        "States.Format('x' 1)",
        "States.Format('unterminated)",
        "States.Array(foo)",
        "States.Array($.a.)",
        "States.Array(1) trailing",
        "Format('x')",
        "States.Array(1.2.3)",
    ] {
        assert!(Intrinsic::parse(bad).is_err(), "{bad:?} should not parse");
    }
    let deep = format!("{}1{}", "States.Array(".repeat(200), ")".repeat(200));
    assert!(Intrinsic::parse(&deep).is_err());
    assert_eq!(
        Intrinsic::parse(" States.UUID( ) ")
            .expect("spaces are fine")
            .func(),
        IntrinsicFn::Uuid
    );
}
