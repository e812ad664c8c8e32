//! Unit tests of `http_invoke.rs`.

use super::*;

fn obj(text: &str) -> Map {
    value::parse(text)
        .expect("JSON")
        .as_object()
        .expect("an object")
        .clone()
}

fn runtime(params: &str) -> String {
    let e = parse_call(&value::parse(params).expect("JSON"))
        .err()
        .expect("refused");
    assert_eq!(e.error, "States.Runtime");
    e.cause.expect("a cause")
}

#[test]
fn url_encoding_follows_the_array_format() {
    let body = obj(r#"{"a":["x","y z"],"b":{"c":1},"d":true}"#);
    let enc = |f| url_encode(&body, f).expect("encodes");
    assert_eq!(enc(ArrayFormat::Indices), "a[0]=x&a[1]=y%20z&b[c]=1&d=true");
    assert_eq!(enc(ArrayFormat::Repeat), "a=x&a=y%20z&b[c]=1&d=true");
    assert_eq!(enc(ArrayFormat::Commas), "a=x,y%20z&b[c]=1&d=true");
    assert_eq!(enc(ArrayFormat::Brackets), "a[]=x&a[]=y%20z&b[c]=1&d=true");
}

#[test]
fn bad_parameters_fail_naming_what_is_wrong() {
    let base = r#""ApiEndpoint":"https://e.example","Method":"GET","Authentication":{"ConnectionArn":"c"}"#;
    assert!(runtime("[]").contains("must be a JSON object, not array"));
    assert!(runtime(r#"{"Method":"GET"}"#).contains("needs ApiEndpoint"));
    assert!(runtime(r#"{"ApiEndpoint":"ftp://x","Method":"GET"}"#).contains("'ftp://x'"));
    assert!(runtime(r#"{"ApiEndpoint":"https://x","Method":"FETCH"}"#).contains("'FETCH'"));
    assert!(runtime(r#"{"ApiEndpoint":"https://x","Method":"GET"}"#).contains("ConnectionArn"));
    let with = |extra: &str| runtime(&format!("{{{base},{extra}}}"));
    assert!(with(r#""Headers":{"Host":"x"}"#).contains("header 'Host'"));
    assert!(with(r#""Headers":{"a":{"b":1}}"#).contains("header 'a' must be a string"));
    assert!(with(r#""Headers":[1]"#).contains("Headers must be an object"));
    assert!(with(r#""QueryParameters":{"q":{"x":1}}"#).contains("query parameter 'q'"));
    assert!(
        with(r#""RequestBody":"x","Transform":{"RequestBodyEncoding":"URL_ENCODED"}"#)
            .contains("must be an object to be URL_ENCODED")
    );
    assert!(
        with(r#""RequestBody":{},"Transform":{"RequestBodyEncoding":"GZIP"}"#).contains("'GZIP'")
    );
    assert!(with(r#""Transform":{"RequestEncodingOptions":{"ArrayFormat":"X"}}"#).contains("'X'"));
}

#[test]
fn the_newer_invocation_config_names_the_connection_too() {
    let call = parse_call(
        &value::parse(
            r#"{"ApiEndpoint":"https://e.example/p?x=1","Method":"POST","InvocationConfig":{"ConnectionArn":"arn:c"},"QueryParameters":{"limit":5,"tag":["a","b"]}}"#,
        )
        .expect("JSON"),
    )
    .expect("valid");
    assert_eq!(call.connection, "arn:c");
    assert_eq!(
        with_query(&call.url, &call.query),
        "https://e.example/p?x=1&limit=5&tag=a&tag=b"
    );
}

#[test]
fn connections_read_eventbridge_shapes_and_name_their_problems() {
    let c = Connections::parse(
        r#"{"arn:k":{"AuthorizationType":"API_KEY","AuthParameters":{"ApiKeyAuthParameters":{"ApiKeyName":"x-api-key","ApiKeyValue":"s"},
             "InvocationHttpParameters":{"HeaderParameters":[{"Key":"h","Value":"v"}]}}},
            "arn:b":{"AuthorizationType":"BASIC","AuthParameters":{"BasicAuthParameters":{"Username":"u","Password":"p"}}}}"#,
    )
    .expect("valid");
    assert_eq!(
        c.0["arn:k"].auth,
        Auth::ApiKey {
            name: "x-api-key".into(),
            value: "s".into()
        }
    );
    assert_eq!(c.0["arn:k"].invocation.headers, [("h".into(), "v".into())]);
    let e = Connections::parse(r#"{"arn:x":{"AuthorizationType":"KERBEROS","AuthParameters":{}}}"#)
        .expect_err("refused");
    assert!(
        e.contains("connection 'arn:x'") && e.contains("KERBEROS"),
        "{e}"
    );
    let e = Connections::parse(r#"{"arn:x":{"AuthorizationType":"BASIC","AuthParameters":{}}}"#)
        .expect_err("refused");
    assert!(e.contains("'BasicAuthParameters' is missing"), "{e}");
    assert!(Connections::parse("[").is_err());
}
