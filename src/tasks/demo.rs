//! Stand-in services for the credit-card workflow of the Step Functions tutorial (the shared
//! bench's w5): Lambda invokes echo their `Payload`, SNS publish returns a fresh `MessageId`, the
//! DynamoDB scan returns three credit bureaus in attribute-value form. The CLI's `bench` and the
//! embedding example use them, as the peers' harnesses use their equivalents.
//!
//! In: a [`TaskRegistry`]. Out: the same registry serving those three resources. Behind the
//! `demo` feature (on with `cli`): these are stand-ins for tutorials and benches, not services.

use super::TaskRegistry;
use crate::value::{Map, Str, Value};

/// Registers the three stand-ins on `registry`.
pub fn register_tutorial_handlers(registry: &mut TaskRegistry) {
    registry.register_fn("arn:aws:states:::lambda:invoke", |req| async move {
        Ok(lambda_echo(&req.input))
    });
    registry.register_fn("arn:aws:states:::sns:publish", |_req| async move {
        Ok(object([(
            "MessageId",
            Value::from(uuid::Uuid::new_v4().to_string()),
        )]))
    });
    registry.register_fn(
        "arn:aws:states:::aws-sdk:dynamodb:scan",
        |_req| async move {
            let items = ["Equifax", "Experian", "TransUnion"]
                .iter()
                .map(|name| object([("bureau_name", object([("S", Value::str(name))]))]))
                .collect();
            Ok(object([("Items", Value::array(items))]))
        },
    );
}

/// `lambda:invoke`'s result shape around a function that returns its event.
fn lambda_echo(input: &Value) -> Value {
    object([
        ("ExecutedVersion", Value::str("$LATEST")),
        (
            "Payload",
            input.get("Payload").cloned().unwrap_or(Value::Null),
        ),
        ("StatusCode", Value::int(200)),
    ])
}

fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::object(
        members
            .into_iter()
            .map(|(k, v)| (Str::from(k), v))
            .collect::<Map>(),
    )
}
