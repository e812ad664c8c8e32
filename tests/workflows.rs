//! The bench workflows produce their expected outputs (message ids masked).

use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::tasks::MockConfig;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).expect("bench workflows are in the repository")
}

fn mask(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k.eq_ignore_ascii_case("MessageId") {
                    *x = serde_json::Value::String("<masked>".into());
                } else {
                    mask(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask),
        _ => {}
    }
}

async fn check(w: &str) {
    let mut engine = Engine::new(Settings::default());
    let mut meta = ExecutionMeta::express(engine.settings(), w, "test");
    if w == "w5_credit" {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/mock-config.json"
        ))
        .expect("mock config");
        engine
            .tasks_mut()
            .set_mock_config(MockConfig::parse(&text).expect("parses"));
        meta.test_case = Some("HappyPath".into());
    }
    let program = engine
        .compile(&read(&format!("{w}.json")))
        .expect("compiles");
    let out = engine
        .execute(program, &read(&format!("{w}.input.json")), meta)
        .await;
    assert_eq!(out.status.as_str(), "SUCCEEDED", "{w}: {out:?}");
    let mut got: serde_json::Value =
        serde_json::from_str(out.output.as_deref().expect("output")).expect("json");
    let mut want: serde_json::Value =
        serde_json::from_str(&read(&format!("{w}.expected.json"))).expect("json");
    mask(&mut got);
    mask(&mut want);
    assert_eq!(got, want, "{w}");
}

#[tokio::test]
async fn w1_pass_chain() {
    check("w1_pass_chain").await;
}

#[tokio::test]
async fn w2_choice() {
    check("w2_choice").await;
}

#[tokio::test]
async fn w3_map100() {
    check("w3_map100").await;
}

#[tokio::test]
async fn w4_parallel() {
    check("w4_parallel").await;
}

#[tokio::test]
async fn w5_credit() {
    check("w5_credit").await;
}

#[tokio::test]
async fn w1_jsonata_matches_w1() {
    check("w1_jsonata").await;
}
