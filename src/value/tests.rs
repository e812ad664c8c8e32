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
