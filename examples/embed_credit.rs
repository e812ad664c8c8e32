//! Embedding Expressway: register Rust handlers for the Task resources of the credit-card
//! workflow (Lambda invoke, SNS publish, DynamoDB scan) and run it in-process.
//!
//! `cargo run --example embed_credit`

use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::value::{Map, Str, Value};

fn main() {
    let mut engine = Engine::new(Settings::default());
    let tasks = engine.tasks_mut();
    // The SNS and DynamoDB stand-ins of the bench (and a Lambda echo, replaced just below: a later
    // registration of the same ARN wins).
    expressway::tasks::demo::register_tutorial_handlers(tasks);
    // A handler is an async closure from the request (resource, effective input, context…) to a
    // result or a `TaskError { error, cause }`. This one stands in for a credit-check function.
    tasks.register_fn("arn:aws:states:::lambda:invoke", |req| async move {
        let mut out = Map::new();
        out.insert(
            Str::from("Payload"),
            req.input.get("Payload").cloned().unwrap_or(Value::Null),
        );
        out.insert(Str::from("StatusCode"), Value::int(200));
        Ok(Value::object(out))
    });

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
