use super::*;

fn rt(text: &str) -> String {
    parse(text).expect("parses").to_json()
}

#[test]
fn keeps_key_order_and_number_kinds() {
    assert_eq!(
        rt(r#"{"b":1,"a":2.5,"c":[1.0,-3]}"#),
        r#"{"b":1,"a":2.5,"c":[1.0,-3]}"#
    );
}

#[test]
fn escapes_strings() {
    assert_eq!(rt(r#""a\"b\\c\n\u0001é""#), r#""a\"b\\c\n\u0001é""#);
}

#[test]
fn duplicate_key_last_wins() {
    assert_eq!(rt(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
}

#[test]
fn rejects_trailing_garbage_and_deep_nesting() {
    assert!(parse("{} x").is_err());
    assert!(parse(&"[".repeat(100_000)).is_err());
    assert!(parse("").is_err());
}

#[test]
fn numbers_compare_by_value() {
    assert_eq!(parse("1").unwrap(), parse("1.0").unwrap());
    assert_ne!(parse("1").unwrap(), parse("\"1\"").unwrap());
    assert_eq!(
        parse(r#"{"a":1,"b":2}"#).unwrap(),
        parse(r#"{"b":2,"a":1}"#).unwrap()
    );
}

#[test]
fn big_unsigned_becomes_float() {
    assert_eq!(
        parse("18446744073709551615").unwrap().as_f64(),
        Some(1.8446744073709552e19)
    );
}

/// Inputs where our parser must agree with the serde_json reading it replaced: same
/// accept/reject, same value (u64 beyond i64 a float), same error text.
const AGREES_WITH_SERDE: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "1.0",
    "1e20",
    "1E+2",
    "1e-7",
    "-1.5e300",
    "123456789012345678901234567890",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "0.1",
    "2.5e-324",
    "1.7976931348623157e308",
    "1e400",
    "-1e400",
    "01",
    "1.",
    ".5",
    "-",
    "+1",
    "1e",
    "1e+",
    "0x10",
    "00",
    "-01",
    "1.5.",
    "NaN",
    "Infinity",
    r#""a\u00e9\ud83d\ude00""#,
    r#""\ud83d""#,
    r#""\ude00""#,
    r#""\ud83dx""#,
    r#""\ud83d\u0041""#,
    r#""\x""#,
    r#""\u12""#,
    "\"a\u{1}b\"",
    "\"tab\there\"",
    r#""\/\b\f\n\r\t""#,
    "\"unterminated",
    "[1,2,]",
    "[,]",
    "[1 2]",
    "[",
    "]",
    "{",
    "{\"a\"}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{1:2}",
    "{\"a\":1 \"b\":2}",
    "{\"a\" : 1 , \"b\" : [ ] , \"c\" : { } }",
    " \n\t\r[true,false,null] ",
    "tru",
    "nul",
    "truex",
    "[true false]",
    "{}{}",
    "1 2",
    "\"\"",
    "[[[]]]",
    "{\"\":\"\"}",
    "{\"k\":1,\"k\":2,\"j\":3,\"k\":4}",
    "\u{feff}1",
    "\"é\"",
    "  ",
    "[1,\n2,\n x]",
];

#[test]
fn agrees_with_serde_json() {
    for &text in AGREES_WITH_SERDE {
        let ours = parse(text);
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a.to_json(), Value::from_serde(b).to_json(), "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.0, b.to_string(), "{text}"),
            _ => panic!("{text}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
}

#[test]
fn number_kinds() {
    for (text, kind) in [
        ("3", "int"),
        ("-3", "int"),
        ("-0", "float"),
        ("3.0", "float"),
        ("9223372036854775807", "int"),
        ("9223372036854775808", "float"),
        ("-9223372036854775808", "int"),
        ("-9223372036854775809", "float"),
    ] {
        let got = match parse(text).unwrap() {
            Value::Number(Number::Int(_)) => "int",
            Value::Number(Number::Float(_)) => "float",
            _ => "other",
        };
        assert_eq!(got, kind, "{text}");
    }
}

#[test]
fn depth_limit_is_serde_jsons() {
    let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
    let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
    let objs = format!("{}1{}", "{\"a\":".repeat(200), "}".repeat(200));
    assert!(parse(&ok).is_ok());
    assert_eq!(
        parse(&deep).unwrap_err().0,
        serde_json::from_str::<serde_json::Value>(&deep)
            .unwrap_err()
            .to_string()
    );
    assert!(parse(&objs).is_err());
}

#[test]
fn floats_print_as_serde_json_prints_them() {
    for f in [
        0.0,
        -0.0,
        1.0,
        1.5,
        0.1,
        1e20,
        1e21,
        1e-7,
        123456.789,
        1e300,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        1.0 / 3.0,
        -2.5e-10,
        9.0e15,
        1.8446744073709552e19,
    ] {
        assert_eq!(
            Value::float(f).to_json(),
            serde_json::to_string(&f).unwrap(),
            "{f}"
        );
    }
    assert_eq!(Value::float(f64::NAN).to_json(), "null");
    for i in [0, -1, i64::MAX, i64::MIN, 42] {
        assert_eq!(Value::int(i).to_json(), i.to_string());
    }
}

#[test]
fn escapes_every_control_character() {
    let s: String = (0u8..0x80).map(char::from).chain("é😀".chars()).collect();
    assert_eq!(Value::str(&s).to_json(), serde_json::to_string(&s).unwrap());
    assert_eq!(parse(&Value::str(&s).to_json()).unwrap(), Value::str(&s));
}

#[test]
fn repeated_keys_are_shared_and_values_kept() {
    let v = parse(r#"[{"id":1,"label":"a"},{"id":2,"label":"b"},{"label":"c","id":3}]"#).unwrap();
    assert_eq!(
        v.to_json(),
        r#"[{"id":1,"label":"a"},{"id":2,"label":"b"},{"label":"c","id":3}]"#
    );
    let a = v.as_array().unwrap();
    let k0 = a[0].as_object().unwrap().keys().next().unwrap();
    let k1 = a[1].as_object().unwrap().keys().next().unwrap();
    assert!(std::sync::Arc::ptr_eq(k0, k1));
}

#[test]
fn invalid_utf8_is_an_error() {
    assert!(parse_slice(b"\"\xff\"").is_err());
    assert!(parse_slice(b"{\"\xc3\":1}").is_err());
    assert_eq!(parse_slice("\"é\"".as_bytes()).unwrap(), Value::str("é"));
}

/// Mutated JSON (bytes replaced, dropped, duplicated) must be read exactly as serde_json reads
/// it: same accept/reject and the same value. Deterministic, so a failure reproduces.
#[test]
fn mutations_agree_with_serde_json() {
    let seeds = [
        r#"{"batch":"b-1","items":[{"id":0,"value":-1.5e3,"label":"item-0\n"},[true,false,null]]}"#,
        r#"[1,-0,0.25,1e5,"\u00e9\ud83d\ude00",{"a":{"b":[{}]}},9223372036854775808]"#,
        r#"{"a":1,"a":2,"b":"x\\y\"z","c":[[],[[]]]}"#,
    ];
    let alphabet = b"{}[]:,\"\\-+.0123456789eEtrufalsn \n\x01\xc3\xa9u";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in seeds {
        for _ in 0..3000 {
            let mut b = seed.as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let i = (next() as usize) % b.len().max(1);
                match next() % 3 {
                    0 if !b.is_empty() => b[i] = alphabet[(next() as usize) % alphabet.len()],
                    1 if !b.is_empty() => {
                        b.remove(i);
                    }
                    _ => b.insert(i.min(b.len()), alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let ours = parse_slice(&b);
            let theirs = serde_json::from_slice::<serde_json::Value>(&b);
            let text = String::from_utf8_lossy(&b);
            match (&ours, &theirs) {
                (Ok(a), Ok(t)) => assert!(same(a, &Value::from_serde(t)), "{text}"),
                (Err(a), Err(t)) => assert_eq!(a.0, t.to_string(), "{text}"),
                _ => panic!("{text}: ours {ours:?}, serde_json {theirs:?}"),
            }
        }
    }
}

/// Same tree, same key order, same number kinds; floats may differ in the last bit, because
/// serde_json (without `float_roundtrip`) can round `1.5e38` to `1.4999999999999999e38` where we
/// round correctly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(Number::Float(x)), Value::Number(Number::Float(y))) => {
            x == y || (x - y).abs() <= x.abs().max(y.abs()) * 4.0 * f64::EPSILON
        }
        (Value::Number(Number::Int(x)), Value::Number(Number::Int(y))) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, p), (l, q))| k == l && same(p, q))
        }
        (Value::Number(_), _) | (Value::Array(_), _) | (Value::Object(_), _) => false,
        _ => a == b,
    }
}

#[test]
fn python_escapes_everything_outside_printable_ascii() {
    let cases = [
        ("plain ~", r#""plain ~""#),
        ("q\"b\\n\n\r\t\u{8}\u{c}", r#""q\"b\\n\n\r\t\b\f""#),
        ("\u{1}\u{1f}\u{7f}", r#""\u0001\u001f\u007f""#),
        ("é€😀", r#""\u00e9\u20ac\ud83d\ude00""#),
    ];
    for (text, python) in cases {
        let mut out = String::new();
        write_str_ascii(&mut out, text);
        assert_eq!(out, python, "{text:?}");
    }
}

#[test]
fn string_literals_are_escaped_as_serde_json_escapes_them() {
    let mut cases: Vec<String> = vec![
        String::new(),
        "plain".into(),
        "exactly8".into(),
        "sixteen bytes ok".into(),
        "é ü 😀 中文 \u{7f} \u{80}".into(),
        (0u8..0x20).map(char::from).collect(),
        r#"{"k":"v\"w","n":[1,2],"s":"a\\b"}"#.into(),
    ];
    // Every escape at every offset from an eight-byte boundary, in runs of either side.
    for c in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
        for before in 0..17 {
            cases.push(format!(
                "{}{c}{}",
                "x".repeat(before),
                "é".repeat(before % 5)
            ));
            cases.push(format!("{}{c}{c}", "y".repeat(before)));
        }
    }
    for s in &cases {
        let mut ours = String::new();
        super::json::write_str(&mut ours, s);
        assert_eq!(ours, serde_json::to_string(s).unwrap(), "{s:?}");
    }
}
