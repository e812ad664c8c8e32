//! The direct tier gives what the full evaluator gives, or bails: a table of expressions run
//! both ways against the same bindings.

use super::direct::Direct;
use super::*;
use crate::value::{Map, Value, parse};

/// `$states` with `input` (and whatever else the test sets), plus workflow variables.
struct TestEnv {
    states: Value,
    vars: Map,
}

impl Env for TestEnv {
    fn lookup(&self, name: &str) -> Option<Value> {
        if name == "states" {
            return Some(self.states.clone());
        }
        self.vars.get(name).cloned()
    }

    fn lookup_member(&self, name: &str, member: &str) -> Option<Option<Value>> {
        (name == "states").then(|| self.states.get(member).cloned())
    }
}

fn env(vars: &str) -> TestEnv {
    let input = parse(
        r#"{"id":42,"name":"alice","tags":["a","b","c"],"address":{"city":"Berlin","zip":"10115"},
        "score":87.5,"big":12345678901234567890,"huge":9007199254740993,"two":2.0,"neg":-3,
        "empty":[],"nested":[[1,2],[3]],"obj":{},"t":true,"n":null,"s":"","uni":"ÄéΩ😀",
        "arr1":[0],"mixed":[1,"x",{"a":1}],"list":[{"a":1},{"a":2}]}"#,
    )
    .expect("test input is JSON");
    let mut states = Map::new();
    states.insert("input".into(), input);
    states.insert(
        "context".into(),
        parse(r#"{"Execution":{"Name":"e1"}}"#).unwrap(),
    );
    let Value::Object(vars) = parse(vars).expect("test vars are JSON") else {
        panic!("vars must be an object")
    };
    TestEnv {
        states: Value::object(states),
        vars: (*vars).clone(),
    }
}

const VARS: &str = r#"{"x":5,"y":"str","o":{"k":[1,2.5]},"arr":[1,2,3],"f":1.5}"#;

/// (expression, whether the direct tier must answer it itself).
const CASES: &[(&str, bool)] = &[
    ("$states.input.id", true),
    ("$states.input.tags", true),
    ("$states.input.tags[0]", true),
    ("$states.input.tags[-1]", true),
    ("$states.input.tags[5]", true),
    ("$states.input.tags[-4]", true),
    ("$states.input.tags[1.7]", true),
    ("$states.input.address.city", true),
    ("$states.input.missing.x", true),
    ("$states.input.name.x", false),
    ("$states.input.tags.x", false),
    ("$states.input.list.a", false),
    ("$states.input.nested[0]", true),
    ("$states.input.nested[1]", true),
    ("$states.input.address[0]", true),
    ("$states.input.address[-1]", true),
    ("$states.input.address[1]", true),
    ("$states.input.empty[0]", true),
    ("$states.input.two", true),
    ("$states.input.big", true),
    ("$states.input.huge", true),
    ("$states.input", true),
    ("$states.context.Execution.Name", true),
    ("$states.result", true),
    ("$states.result.x", true),
    ("$merge([$states.input.address, {'p': 1}])", true),
    ("$merge([$states.input.address, {'city': 'Paris'}])", true),
    ("$merge([])", true),
    ("$merge($states.input.address)", true),
    ("$merge([$states.input.address, 1])", false),
    ("$merge($states.input.missing)", true),
    (
        "{'a': $states.input.id, 'b': $states.input.missing, 'c': [1, $states.input.tags, [$states.input.tags]]}",
        true,
    ),
    (
        "[$states.input.tags, $states.input.empty, [$states.input.empty], $states.input.missing]",
        true,
    ),
    ("{'a': 1, 'a': 2}", false),
    ("$x + 1", true),
    ("$x * 2.5", true),
    ("$f * 2", true),
    ("$x / 0", false),
    ("$x % 3", true),
    ("-$x % 3", true),
    ("-$x", true),
    ("-$states.input.missing", true),
    ("$states.input.missing + 1", false),
    ("$y + 1", false),
    (
        "$y & '-' & $x & $states.input.t & $states.input.n & $states.input.score & (0.1 + 0.2)",
        true,
    ),
    ("$y & $states.input.missing", true),
    ("$states.input.missing & $states.input.missing", true),
    ("'n' & 1e21 & '/' & 1e-7 & '/' & 123456789012345678", true),
    ("$states.input.address & 'x'", false),
    ("$x = 5", true),
    ("$x != 5", true),
    ("$x = '5'", true),
    ("$states.input.n = null", true),
    ("$states.input.missing = 1", true),
    ("$states.input.missing != 1", true),
    ("$states.input.address = $states.input.address", false),
    (
        "{'n': [$states.input.two, {'h': $states.input.huge}], 'z': -0}",
        true,
    ),
    ("$merge([$states.input, {'two': 3}])", true),
    ("$x < 10", true),
    ("$x >= 5 and $x <= 5", true),
    ("$y > 'abc'", true),
    ("'a' < 'B'", true),
    ("$states.input.uni > 'Z'", true),
    ("$x < 'a'", false),
    ("$states.input.missing < 1", false),
    ("$x > 1 and $y = 'str'", true),
    ("$states.input.s or $states.input.empty", true),
    ("$states.input.mixed and $states.input.obj", true),
    ("$states.input.t ? 'yes' : 'no'", true),
    ("$states.input.n ? 'yes'", true),
    ("$states.input.arr1 ? 1 : 2", true),
    ("$exists($states.input.missing)", true),
    ("$exists($states.input.n)", true),
    ("$count($states.input.tags)", true),
    ("$count($states.input.missing)", true),
    ("$count($states.input.address)", true),
    ("$length($states.input.uni)", true),
    ("$length($x)", false),
    ("$uppercase($y)", true),
    ("$uppercase($states.input.uni)", false),
    ("$lowercase('ABC')", true),
    ("$not($states.input.empty)", true),
    ("$not($states.input.missing)", true),
    ("$boolean($states.input.arr1)", true),
    ("$boolean($states.input.mixed)", true),
    ("$string($x)", true),
    ("$string($states.input.score)", true),
    ("$string($states.input.t)", true),
    ("$string($states.input.address)", false),
    ("($x; $y)", true),
    ("$o.k", true),
    ("$o.k[1]", true),
    ("$arr", true),
    ("$nosuchvar", false),
    ("$merge", false),
    ("$states.input.id.x", false),
    ("$sum([1, 2])", false),
    ("$states.input.tags[$x]", false),
    ("$", false),
    ("id", false),
];

#[test]
fn direct_agrees_with_the_full_evaluator() {
    let env = env(VARS);
    let limits = Limits::default();
    let opts = Options {
        step_functions: true,
    };
    for (src, fast) in CASES {
        let (root, literals) = parser::parse(src, opts).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        let input = env.states.get("input").cloned();
        let full = eval::run(&root, &literals, input.as_ref(), &env, &limits, opts);
        let direct = Direct::compile(&root).map(|d| d.run(&env));
        match (&direct, fast) {
            (Some(Ok(got)), _) => {
                assert!(fast, "{src}: expected a bail, got {got:?}");
                assert_eq!(Ok(got), full.as_ref(), "{src}");
            }
            (_, false) => {}
            (other, true) => panic!("{src}: direct tier did not answer: {other:?}; full: {full:?}"),
        }
    }
}

#[test]
fn a_variable_named_like_a_builtin_shadows_it() {
    let env = env(r#"{"merge": 1}"#);
    let opts = Options {
        step_functions: true,
    };
    let (root, _) = parser::parse("$merge([{'a': 1}])", opts).unwrap();
    let d = Direct::compile(&root).expect("in the subset");
    assert!(d.run(&env).is_err(), "must leave it to the full evaluator");
}

#[test]
fn public_evaluation_goes_through_the_tier_with_the_same_answers() {
    let env = env(VARS);
    for (src, _) in CASES {
        let Ok(e) = compile_with(
            src,
            Options {
                step_functions: true,
            },
        ) else {
            continue;
        };
        let input = env.states.get("input").cloned();
        let via_api = e.evaluate_outcome(input.as_ref(), &env, &Limits::default());
        let full = eval::run(
            &e.root,
            &e.literals,
            input.as_ref(),
            &env,
            &Limits::default(),
            e.options,
        )
        .map_err(Error::finish);
        assert_eq!(via_api, full, "{src}");
    }
}

/// Random expressions of the subset's grammar (and some just outside it) over data of every
/// shape: wherever the direct tier answers, the full evaluator must give the same outcome.
#[test]
fn generated_expressions_agree() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn make(r: &mut StdRng, depth: usize) -> String {
        const FIELDS: &[&str] = &[
            "id", "name", "tags", "address", "score", "big", "two", "neg", "empty", "nested",
            "obj", "t", "n", "s", "uni", "arr1", "mixed", "list", "missing",
        ];
        const LITERALS: &[&str] = &[
            "0", "1", "-2.5", "1e21", "0.1", "'x'", "''", "'é'", "true", "false", "null",
        ];
        const CALLS: &[&str] = &[
            "merge",
            "exists",
            "count",
            "length",
            "uppercase",
            "lowercase",
            "not",
            "boolean",
            "string",
            "sum",
        ];
        const OPS: &[&str] = &[
            "+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "&", "and", "or",
        ];
        let pick = |r: &mut StdRng, xs: &[&str]| xs[r.gen_range(0..xs.len())].to_string();
        let leaf = depth == 0 || r.gen_bool(0.3);
        match if leaf {
            r.gen_range(0..3)
        } else {
            r.gen_range(0..9)
        } {
            0 => {
                let mut p = String::from("$states.input");
                for _ in 0..r.gen_range(0..3) {
                    p.push('.');
                    p.push_str(&pick(r, FIELDS));
                }
                if r.gen_bool(0.2) {
                    p.push_str(&format!("[{}]", r.gen_range(-2..3)));
                }
                p
            }
            1 => pick(r, LITERALS),
            2 => ["$x", "$y", "$o.k", "$arr", "$o.k[1]"][r.gen_range(0..5)].to_string(),
            3 => format!(
                "{{'a': {}, 'b': {}}}",
                make(r, depth - 1),
                make(r, depth - 1)
            ),
            4 => format!("[{}, {}]", make(r, depth - 1), make(r, depth - 1)),
            5 => {
                let f = pick(r, CALLS);
                if f == "merge" && r.gen_bool(0.5) {
                    format!("$merge([{}, {}])", make(r, depth - 1), make(r, depth - 1))
                } else {
                    format!("${f}({})", make(r, depth - 1))
                }
            }
            6 => format!(
                "({} {} {})",
                make(r, depth - 1),
                pick(r, OPS),
                make(r, depth - 1)
            ),
            7 => format!("-{}", make(r, depth - 1)),
            _ => format!(
                "({} ? {} : {})",
                make(r, depth - 1),
                make(r, depth - 1),
                make(r, depth - 1)
            ),
        }
    }

    let env = env(VARS);
    let limits = Limits::default();
    let opts = Options {
        step_functions: true,
    };
    let input = env.states.get("input").cloned();
    let mut rng = StdRng::seed_from_u64(20261126);
    let (mut answered, mut total) = (0, 0);
    for _ in 0..5000 {
        let src = make(&mut rng, 3);
        let Ok((root, literals)) = parser::parse(&src, opts) else {
            continue;
        };
        total += 1;
        let Some(Ok(got)) = Direct::compile(&root).map(|d| d.run(&env)) else {
            continue;
        };
        answered += 1;
        let full = eval::run(&root, &literals, input.as_ref(), &env, &limits, opts);
        assert_eq!(Ok(&got), full.as_ref(), "{src}");
    }
    // The generator must exercise the tier, or this test proves nothing.
    assert!(
        answered * 3 > total,
        "only {answered} of {total} answered directly"
    );
}
