//! Embedding Expressway: register Rust handlers for the Task resources of the credit-card
//! workflow (Lambda invoke, SNS publish, DynamoDB scan) and run it in-process.
//!
//! `cargo run --example embed_credit`

use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::value::{Map, Str, Value};

/// `lambda:invoke` the way AWS shapes it: the function (here: an echo) runs on `Payload`.
fn lambda_invoke(input: &Value) -> Value {
    let mut out = Map::new();
    out.insert(Str::from("ExecutedVersion"), Value::str("$LATEST"));
    out.insert(
        Str::from("Payload"),
        input.get("Payload").cloned().unwrap_or(Value::Null),
    );
    out.insert(Str::from("StatusCode"), Value::int(200));
    Value::object(out)
}

fn bureaus() -> Value {
    let items = ["Equifax", "Experian", "TransUnion"]
        .iter()
        .map(|name| {
            let mut s = Map::new();
            s.insert(Str::from("S"), Value::str(name));
            let mut item = Map::new();
            item.insert(Str::from("bureau_name"), Value::object(s));
            Value::object(item)
        })
        .collect();
    let mut out = Map::new();
    out.insert(Str::from("Items"), Value::array(items));
    Value::object(out)
}

fn main() {
    let mut engine = Engine::new(Settings::default());
    let tasks = engine.tasks_mut();
    tasks.register_fn("arn:aws:states:::lambda:invoke", |req| async move {
        Ok(lambda_invoke(&req.input))
    });
    tasks.register_fn("arn:aws:states:::sns:publish", |_req| async move {
        let mut out = Map::new();
        out.insert(
            Str::from("MessageId"),
            Value::from(uuid::Uuid::new_v4().to_string()),
        );
        Ok(Value::object(out))
    });
    tasks.register_fn(
        "arn:aws:states:::aws-sdk:dynamodb:scan",
        |_req| async move { Ok(bureaus()) },
    );

    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/workflows");
    let definition = std::fs::read_to_string(format!("{dir}/w5_credit.json"))
        .expect("the workflow is in benches/workflows");
    let input =
        std::fs::read_to_string(format!("{dir}/w5_credit.input.json")).expect("its input too");
    let program = engine.compile(&definition).expect("w5_credit is valid ASL");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let meta = ExecutionMeta::express(engine.settings(), "w5_credit", "embedded");
    let outcome = rt.block_on(engine.execute(program, &input, meta));
    println!(
        "{} {}",
        outcome.status.as_str(),
        outcome.output.unwrap_or_default()
    );
}
