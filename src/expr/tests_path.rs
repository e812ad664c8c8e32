use super::*;
use crate::value::parse;

const STORE: &str = r#"{"store":{"book":[
  {"category":"reference","author":"Nigel Rees","title":"Sayings","price":8.95},
  {"category":"fiction","author":"Evelyn Waugh","title":"Sword","price":12.99},
  {"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553","price":8.99},
  {"category":"fiction","author":"J. R. R. Tolkien","title":"LOTR","isbn":"0-395","price":22.99}],
  "bicycle":{"color":"red","price":19.95}},"expensive":10}"#;

/// Selects `path` from `doc`: the JSON of the result, or `ERR <AWS cause>`.
fn sel(doc: &str, path: &str) -> String {
    let doc = parse(doc).expect("test document parses");
    let ctx = parse(r#"{"Execution":{"Id":"arn:x"},"Map":{"Item":{"Index":2}}}"#).expect("ctx");
    let mut vars = crate::value::Map::new();
    vars.insert("v".into(), parse(r#"{"a":[1,2,3]}"#).expect("var"));
    let scope = Scope {
        input: &doc,
        context: &ctx,
        vars: &vars,
    };
    let p = Path::parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match p.select(&scope) {
        Ok(v) => v.to_json(),
        Err(e) => format!("ERR {}", e.cause(path)),
    }
}

fn syntax(path: &str) -> bool {
    Path::parse(path).is_err()
}

fn canon(path: &str) -> String {
    Path::parse(path).expect("parses").canonical()
}

fn definite(path: &str) -> bool {
    Path::parse(path).expect("parses").is_definite()
}

#[test]
fn roots() {
    assert_eq!(sel(r#"{"a":1}"#, "$"), r#"{"a":1}"#);
    assert_eq!(sel("{}", "$$.Execution.Id"), r#""arn:x""#);
    assert_eq!(sel("{}", "$$.Map.Item.Index"), "2");
    assert_eq!(sel("{}", "$v"), r#"{"a":[1,2,3]}"#);
    assert_eq!(sel("{}", "$v.a[1]"), "2");
    assert_eq!(sel("{}", "$v.a[*]"), "[1,2,3]");
    assert_eq!(
        sel("{}", "$nope.a"),
        "ERR Invalid path '$nope.a' : The variable 'nope' is not defined"
    );
}

#[test]
fn unknown_variable_is_its_own_kind() {
    let p = Path::parse("$nope").expect("parses");
    let v = Value::Null;
    assert_eq!(
        p.select(&Scope::new(&v, &v)),
        Err(PathError::UnknownVariable("nope".into()))
    );
}

#[test]
fn members_and_indexes() {
    assert_eq!(sel(r#"{"a":{"b":2}}"#, "$.a.b"), "2");
    assert_eq!(sel(r#"{"a":{"b":2}}"#, "$['a']['b']"), "2");
    assert_eq!(sel(r#"{"a":{"b":2}}"#, r#"$["a"].b"#), "2");
    assert_eq!(sel(r#"{"a b":1}"#, "$['a b']"), "1");
    assert_eq!(sel(r#"{"it's":1}"#, r"$['it\'s']"), "1");
    assert_eq!(
        sel(
            r#"{"Test\\\"\"Name\"":"Value\"\\"}"#,
            r#"$['Test\""Name"']"#
        ),
        r#""Value\"\\""#
    );
    assert_eq!(sel(r#"{"a-b":{"c:d":1}}"#, "$.a-b.c:d"), "1");
    assert_eq!(sel("[1,2,3]", "$[0]"), "1");
    assert_eq!(sel("[1,2,3]", "$[-1]"), "3");
    assert_eq!(sel(r#"{"a":[[1,2],[3,4]]}"#, "$.a[1][0]"), "3");
    assert_eq!(sel(r#"{"a":null}"#, "$.a"), "null");
}

#[test]
fn multi_members_merge_at_the_leaf() {
    assert_eq!(
        sel(r#"{"a":1,"b":2,"c":3}"#, "$['a','c']"),
        r#"{"a":1,"c":3}"#
    );
    assert_eq!(sel(r#"{"a":1,"b":2}"#, "$['a', 'zz']"), r#"{"a":1}"#);
    assert!(definite("$['a','b']"));
    assert_eq!(
        sel(r#"{"a":{"v":1},"b":{"v":2}}"#, "$['a', 'b'].v"),
        "ERR Invalid path '$['a', 'b'].v' : Multi properties can only be used as path leafs: $['a', 'b']"
    );
}

#[test]
fn missing_members_word_like_jayway() {
    for (doc, path, cause) in [
        (
            "{}",
            "$.NoSuchInputPath",
            "No results for path: $['NoSuchInputPath']",
        ),
        (
            "{}",
            "$.no.such.result.path",
            "Missing property in path $['no']",
        ),
        (
            r#"{"a":{}}"#,
            "$.a.b.c",
            "Missing property in path $['a']['b']",
        ),
        (r#"{"a":{}}"#, "$.a.b", "No results for path: $['a']['b']"),
        ("[1]", "$[5]", "No results for path: $[5]"),
        (
            r#"{"a":[]}"#,
            "$.a[0].b",
            "No results for path: $['a'][0]['b']",
        ),
        (r#"{"a":null}"#, "$.a[0]", "The path $['a'] is null"),
        (
            r#"{"a":{"k":1}}"#,
            "$.a[0]",
            "Filter: [0] can only be applied to arrays. Current context is: {k=1}",
        ),
        (
            r#"{"a":"s"}"#,
            "$.a.b",
            "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        ),
    ] {
        let want = format!("ERR Invalid path '{path}' : {cause}");
        assert_eq!(sel(doc, path), want, "{path} on {doc}");
    }
}

#[test]
fn wildcards_and_slices() {
    assert_eq!(sel("{}", "$[*]"), "[]");
    assert_eq!(sel(r#"{"a":1,"b":[2]}"#, "$.*"), "[1,[2]]");
    assert_eq!(sel("[1,2,3]", "$[*]"), "[1,2,3]");
    assert_eq!(sel(r#"[{"a":1},{"b":2},{"a":3}]"#, "$[*].a"), "[1,3]");
    assert_eq!(sel("[0,1,2,3,4]", "$[1:3]"), "[1,2]");
    assert_eq!(sel("[0,1,2,3,4]", "$[:2]"), "[0,1]");
    assert_eq!(sel("[0,1,2,3,4]", "$[-2:]"), "[3,4]");
    assert_eq!(sel("[0,1,2,3,4]", "$[3:]"), "[3,4]");
    assert_eq!(sel("[0,1,2,3,4]", "$[3:99]"), "[3,4]");
    assert_eq!(sel("[0,1,2,3,4]", "$[4:1]"), "[]");
    assert_eq!(sel("[0,1,2,3,4]", "$[0,2]"), "[0,2]");
    assert_eq!(sel("[0,1,2,3,4]", "$[0,9]"), "[0]");
    assert_eq!(sel(r#"{"a":[]}"#, "$.a[*].b"), "[]");
    assert_eq!(sel("{}", "$.missing[*]"), "[]");
    assert_eq!(sel("{}", "$.item.items[1:5].itemValue"), "[]");
    assert_eq!(sel(r#"{"a":5}"#, "$.a[:1]"), "[]");
    assert_eq!(sel(r#"{"a":null}"#, "$.a[?(@.b)]"), "[]");
}

#[test]
fn deep_scan() {
    assert_eq!(
        sel(STORE, "$..author"),
        r#"["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]"#
    );
    assert_eq!(
        sel(STORE, "$.store..price"),
        "[8.95,12.99,8.99,22.99,19.95]"
    );
    assert_eq!(sel(STORE, "$..book[2].title"), r#"["Moby Dick"]"#);
    assert_eq!(sel(STORE, "$..book[-1:].title"), r#"["LOTR"]"#);
    assert_eq!(sel(r#"{"a":[1,[2,3]]}"#, "$..[0]"), "[1,2]");
    assert_eq!(sel(r#"{"a":{"b":1}}"#, "$..*"), r#"[{"b":1},1]"#);
    assert_eq!(sel(r#"{"a":1}"#, "$..zz"), "[]");
    assert_eq!(
        sel(
            r#"{"x":{"a":1,"b":2},"y":[{"a":3},{"a":4,"b":5,"c":6}]}"#,
            "$..['a','b']"
        ),
        r#"[{"a":1,"b":2},{"a":4,"b":5}]"#
    );
}

#[test]
fn filters() {
    assert_eq!(
        sel(STORE, "$.store.book[?(@.price < 10)].title"),
        r#"["Sayings","Moby Dick"]"#
    );
    assert_eq!(
        sel(STORE, "$..book[?(@.isbn)].title"),
        r#"["Moby Dick","LOTR"]"#
    );
    assert_eq!(
        sel(STORE, "$..book[?(!@.isbn)].title"),
        r#"["Sayings","Sword"]"#
    );
    assert_eq!(
        sel(STORE, "$..book[?(@.price > $.expensive)].title"),
        r#"["Sword","LOTR"]"#
    );
    assert_eq!(
        sel(
            STORE,
            "$..book[?(@.category == 'fiction' && @.price <= 12.99)].title"
        ),
        r#"["Sword","Moby Dick"]"#
    );
    assert_eq!(
        sel(
            STORE,
            r#"$..book[?(@.author == "Nigel Rees" || @.price >= 22.99)].title"#
        ),
        r#"["Sayings","LOTR"]"#
    );
    assert_eq!(
        sel(STORE, "$..book[?(@.category != 'fiction')].title"),
        r#"["Sayings"]"#
    );
    assert_eq!(
        sel(STORE, "$..book[?((@.price < 9) && !(@.isbn))].title"),
        r#"["Sayings"]"#
    );
    assert_eq!(
        sel(STORE, "$..book[?(@.author =~ /.*REES/i)].title"),
        r#"["Sayings"]"#
    );
    assert_eq!(sel(STORE, "$..book[?(@.author =~ /Rees/)].title"), "[]");
    assert_eq!(sel(STORE, "$..[?(@.color)].price"), "[19.95]");
    assert_eq!(
        sel(r#"[{"a":1},{"a":"1"},{"a":1.0},{}]"#, "$[?(@.a == 1)]"),
        r#"[{"a":1},{"a":1.0}]"#
    );
    assert_eq!(
        sel(r#"[{"a":"b"},{"a":"a"}]"#, "$[?(@.a < 'b')]"),
        r#"[{"a":"a"}]"#
    );
    assert_eq!(
        sel(r#"[{"a":null},{"b":1}]"#, "$[?(@.a == null)]"),
        r#"[{"a":null}]"#
    );
    assert_eq!(
        sel(r#"[{"a":true},{"a":false}]"#, "$[?(@.a == true)]"),
        r#"[{"a":true}]"#
    );
    assert_eq!(
        sel(r#"[{"a":[1,2]},{"a":[]}]"#, "$[?(@.a.length() > 1)]"),
        r#"[{"a":[1,2]}]"#
    );
    assert_eq!(sel(r#"{"x":{"a":1}}"#, "$.x[?(@.a == 1)]"), r#"[{"a":1}]"#);
    assert_eq!(sel("[1,2,3]", "$[?(@ > 1)]"), "[2,3]");
}

#[test]
fn filter_word_operators() {
    let doc = r#"[{"s":"S","t":["a","b"]},{"s":"M","t":[]},{"s":"XL","t":["c"]}]"#;
    assert_eq!(sel(doc, "$[?(@.s in ['S', 'M'])].s"), r#"["S","M"]"#);
    assert_eq!(sel(doc, "$[?(@.s nin ['S','M'])].s"), r#"["XL"]"#);
    assert_eq!(
        sel(doc, "$[?(@.t subsetof ['a','b','c'])].s"),
        r#"["S","M","XL"]"#
    );
    assert_eq!(sel(doc, "$[?(@.t anyof ['b'])].s"), r#"["S"]"#);
    assert_eq!(sel(doc, "$[?(@.t noneof ['b'])].s"), r#"["M","XL"]"#);
    assert_eq!(sel(doc, "$[?(@.t size 1)].s"), r#"["XL"]"#);
    assert_eq!(sel(doc, "$[?(@.s size 2)].s"), r#"["XL"]"#);
    assert_eq!(sel(doc, "$[?(@.t empty true)].s"), r#"["M"]"#);
    assert_eq!(sel(doc, "$[?(@.zz in [1])].s"), "[]");
    assert!(syntax("$[?(@.s in [@.x])]"));
}

#[test]
fn length_function() {
    assert_eq!(sel(r#"{"a":[1,2,3]}"#, "$.a.length()"), "3");
    assert_eq!(sel(r#"{"a":"héllo"}"#, "$.a.length()"), "5");
    assert_eq!(sel(r#"{"a":[{"b":1},{"b":2}]}"#, "$.a[*].b.length()"), "2");
}

#[test]
fn definiteness() {
    assert!(definite("$"));
    assert!(definite("$.a.b[0]['c']"));
    assert!(definite("$$.Execution.Id"));
    assert!(definite("$.a.length()"));
    assert!(!definite("$.a[*]"));
    assert!(!definite("$.a.*"));
    assert!(!definite("$..a"));
    assert!(!definite("$.a[0,1]"));
    assert!(!definite("$.a[1:2]"));
    assert!(!definite("$.a[?(@.b)]"));
    assert!(!definite("$['a','b'].c"));
}

#[test]
fn canonical_rendering() {
    assert_eq!(canon("$.a.b"), "$['a']['b']");
    assert_eq!(canon("$.a[0][-1]"), "$['a'][0][-1]");
    assert_eq!(canon("$['a','b']"), "$['a', 'b']");
    assert_eq!(canon("$..x[*]"), "$..['x'][*]");
    assert_eq!(canon("$.a[1:3][:2][-2:][0,2]"), "$['a'][1:3][:2][-2:][0,2]");
    assert_eq!(canon("$$.Execution.Id"), "$['Execution']['Id']");
    assert_eq!(Path::parse("$.a.b").expect("parses").text(), "$.a.b");
}

#[test]
fn syntax_errors() {
    for bad in [
        "",
        "a",
        "$.",
        "$..",
        "$.a.",
        "$[",
        "$['a'",
        "$[a]",
        "$[?(@.a <)]",
        "$.a[?(@.b == )]",
        "$.a b",
        "$.a()",
        "$[1:x]",
        "$[?(@.a =~ /(/)]",
        "$.a.foo()",
    ] {
        assert!(syntax(bad), "{bad:?} should not parse");
    }
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let deep = format!("$[?({}@.a{})]", "(".repeat(500), ")".repeat(500));
    assert!(syntax(&deep));
    let long = format!("${}", ".a".repeat(1000));
    assert!(syntax(&long));
    let scans = "$..a..b..c..d..e";
    assert!(syntax(scans));
    let mut doc = String::new();
    for _ in 0..120 {
        doc.push_str(r#"{"a":"#);
    }
    doc.push('1');
    doc.push_str(&"}".repeat(120));
    assert_eq!(sel(&doc, "$..zz"), "[]");
}

/// Random concatenations of path and call fragments: parsing and evaluating never panics.
#[test]
fn random_texts_never_panic() {
    const PARTS: [&str; 40] = [
        "$", "$$", ".", "..", "[", "]", "'", "\"", "\\", "*", "?", "(", ")", "@", "a", "é", "0",
        "-1", ":", ",", " ", "==", "<", "!", "&&", "||", "=~", "/", "length()", "States.",
        "Format", "Array", "'{}'", " in ", "true", "null", "MathAdd", "[?(@.a", "$v", "2.5",
    ];
    let doc = parse(r#"{"a":[{"a":1},{"b":[1,2]}],"v":{"a":"é"}}"#).expect("parses");
    let mut vars = crate::value::Map::new();
    vars.insert("v".into(), doc.clone());
    let scope = Scope {
        input: &doc,
        context: &doc,
        vars: &vars,
    };
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..30_000 {
        let n = 1 + next() % 12;
        let text: String = (0..n)
            .map(|_| PARTS[(next() % PARTS.len() as u64) as usize])
            .collect();
        if let Ok(p) = Path::parse(&text) {
            let _ = p.select(&scope);
            let _ = p.canonical();
        }
        if let Ok(f) = Intrinsic::parse(&text) {
            let _ = f.eval(&scope);
        }
        if let Ok(r) = ReferencePath::parse(&text) {
            let _ = r.set(&doc, Value::Null);
        }
        let mut tpl = crate::value::Map::new();
        tpl.insert("x.$".into(), Value::from(text.as_str()));
        if let Ok(t) = Template::compile(&Value::object(tpl)) {
            let _ = t.eval(&scope);
        }
    }
}

/// Shapes from AWS's sample workflows that AWS accepts (each a minimal reproducer).
#[test]
fn dot_before_bracket_is_the_bracket() {
    assert_eq!(sel(r#"[{"a":1},{"a":2}]"#, "$.[0]"), r#"{"a":1}"#);
    assert_eq!(canon("$.[0]"), "$[0]");
    assert_eq!(
        sel(
            r#"{"Snapshots":[{"State":"completed"}]}"#,
            "$.Snapshots.[0].State"
        ),
        r#""completed""#
    );
    assert_eq!(canon("$.Snapshots.[0].State"), "$['Snapshots'][0]['State']");
    assert_eq!(
        sel(r#"[{"OU":0},{"OU":3}]"#, "$.[?(@.OU > 0)]"),
        r#"[{"OU":3}]"#
    );
    assert_eq!(
        sel(
            r#"[{"bucket":"b1","key":"k1","x":1},{"bucket":"b2","key":"k2"}]"#,
            "$.[*].['bucket', 'key']"
        ),
        r#"[{"bucket":"b1","key":"k1"},{"bucket":"b2","key":"k2"}]"#
    );
    assert_eq!(sel(r#"{"a":{"b c":1}}"#, "$.a.['b c']"), "1");
    assert!(definite("$.a.[0]"));
    // A dot still needs something after it, and `..` before a bracket stays a deep scan.
    assert!(syntax("$."));
    assert!(syntax("$.a."));
    assert!(syntax("$.a.[0"));
    assert_eq!(sel(r#"{"a":[[1],[2]]}"#, "$..[0]"), r#"[[1],1,2]"#);
}

/// AWS accepts `[?(@.TargetLanguageCode==es)]`; an unquoted word is the string it spells
/// (`true`, `false` and `null` keep their meaning; numbers stay numbers).
#[test]
fn unquoted_filter_words_are_strings() {
    let doc = r#"[{"c":"es","t":"hola"},{"c":"fr","t":"salut"},{"c":"ja","t":"konnichiwa"}]"#;
    assert_eq!(sel(doc, "$[?(@.c==es)].t"), r#"["hola"]"#);
    assert_eq!(sel(doc, "$[?(@.c==fr)].t"), r#"["salut"]"#);
    assert_eq!(sel(doc, "$[?(@.c == ja)].t"), r#"["konnichiwa"]"#);
    assert_eq!(sel(doc, "$[?(@.c!=es)].t"), r#"["salut","konnichiwa"]"#);
    let fields = r#"[{"Type":{"Text":"AMOUNT_PAID"},"V":"9.99"},{"Type":{"Text":"VENDOR_NAME"},"V":"Shop"}]"#;
    assert_eq!(
        sel(fields, "$[?(@.Type.Text==AMOUNT_PAID)].V"),
        r#"["9.99"]"#
    );
    assert_eq!(
        sel(r#"[{"n":"Receipt"},{"n":"Paper"}]"#, "$[?(@.n==Receipt)]"),
        r#"[{"n":"Receipt"}]"#
    );
    assert_eq!(
        sel(r#"[{"a":"x"},{"a":"y"}]"#, "$[?(@.a==x && @.a!=y)]"),
        r#"[{"a":"x"}]"#
    );
    assert_eq!(
        sel(r#"[{"a":true},{"a":"trueish"}]"#, "$[?(@.a==trueish)]"),
        r#"[{"a":"trueish"}]"#
    );
    assert_eq!(
        sel(r#"[{"a":true},{"a":"true"}]"#, "$[?(@.a==true)]"),
        r#"[{"a":true}]"#
    );
    assert_eq!(
        sel(r#"[{"a":1},{"a":"1"}]"#, "$[?(@.a==1)]"),
        r#"[{"a":1}]"#
    );
    assert_eq!(canon("$[?(@.c==es)]"), canon("$[?(@.c=='es')]"));
    assert!(syntax("$[?(@.c==)]"));
    assert!(syntax("$[?(@.c==!)]"));
}
