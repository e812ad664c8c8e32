//! Resource and function names: which form a Task's `Resource` takes, and the Lambda function a
//! `FunctionName` (name, partial ARN or ARN, with or without qualifier) designates.
//!
//! In: a `Resource` string, or a `FunctionName` and the context (for its region and account).
//! Out: the resource's form and pattern suffix, or the resolved `FunctionRef` and its ARNs.

use crate::value::Value;

/// Account used when neither the function name nor the context names one.
const DEFAULT_ACCOUNT: &str = "123456789012";
/// Region used when neither the function name nor the context names one.
const DEFAULT_REGION: &str = "us-east-1";

/// The integration-pattern suffix of a service ARN (`.sync`, `.sync:2`, `.waitForTaskToken`).
pub(crate) fn pattern_suffix(resource: &str) -> Option<&str> {
    if !resource.contains(":states:::") {
        return None;
    }
    [".waitForTaskToken", ".sync:2", ".sync"]
        .into_iter()
        .find(|s| resource.ends_with(s))
}

/// Whether `resource` is the optimized Lambda integration `arn:<partition>:states:::lambda:invoke`.
pub(crate) fn is_lambda_invoke(resource: &str) -> bool {
    resource
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(_, rest)| rest == "states:::lambda:invoke")
}

/// Whether `resource` is a bare Lambda function ARN (`arn:<partition>:lambda:…:function:…`).
pub(crate) fn is_lambda_function_arn(resource: &str) -> bool {
    let mut parts = resource.split(':');
    parts.next() == Some("arn")
        && parts.next().is_some()
        && parts.next() == Some("lambda")
        && parts.nth(2) == Some("function")
}

/// The partition, region and account of the running state machine, from `$$.StateMachine.Id`
/// (or `$$.Execution.Id`), so that a bare function name resolves where AWS would resolve it.
fn context_location(context: &Value) -> (String, String, String) {
    let arn = context
        .get("StateMachine")
        .and_then(|s| s.get("Id"))
        .or_else(|| context.get("Execution").and_then(|e| e.get("Id")))
        .and_then(Value::as_str)
        .unwrap_or("");
    let parts: Vec<&str> = arn.split(':').collect();
    let pick = |i: usize, default: &str| {
        parts
            .get(i)
            .filter(|p| !p.is_empty() && parts.len() > 5)
            .map_or_else(|| default.to_string(), |p| p.to_string())
    };
    (
        pick(1, "aws"),
        pick(3, DEFAULT_REGION),
        pick(4, DEFAULT_ACCOUNT),
    )
}

/// A Lambda function as AWS resolves a `FunctionName`: every part filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionRef {
    /// `aws`, `aws-cn`, ...
    pub partition: String,
    /// The function's region.
    pub region: String,
    /// The function's account.
    pub account: String,
    /// The function's name.
    pub name: String,
    /// Version or alias; `None` means `$LATEST`.
    pub qualifier: Option<String>,
}

impl FunctionRef {
    /// Resolves `function_name` (`name`, `name:qualifier`, `account:function:name[:q]` or a full
    /// ARN) against the context's location, because Lambda accepts all four forms.
    /// `None` when the text cannot name a function at all.
    pub fn parse(function_name: &str, context: &Value) -> Option<FunctionRef> {
        let (partition, region, account) = context_location(context);
        let parts: Vec<&str> = function_name.split(':').collect();
        let (partition, region, account, name, qualifier) = match parts.as_slice() {
            [name] => (partition, region, account, *name, None),
            [name, q] => (partition, region, account, *name, Some(*q)),
            [acct, "function", name] => (partition, region, acct.to_string(), *name, None),
            [acct, "function", name, q] => (partition, region, acct.to_string(), *name, Some(*q)),
            ["arn", p, "lambda", r, a, "function", name] => {
                (p.to_string(), r.to_string(), a.to_string(), *name, None)
            }
            ["arn", p, "lambda", r, a, "function", name, q] => {
                (p.to_string(), r.to_string(), a.to_string(), *name, Some(*q))
            }
            _ => return None,
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 140
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !valid(name) || qualifier.is_some_and(|q| q.is_empty() || q.len() > 128) {
            return None;
        }
        Some(FunctionRef {
            partition,
            region,
            account,
            name: name.to_string(),
            qualifier: qualifier.map(str::to_string),
        })
    }

    /// The unqualified function ARN (the key mocks and registrations use).
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.name
        )
    }

    /// The ARN with its qualifier, `$LATEST` when none: how Lambda's errors name a function.
    pub fn qualified_arn(&self) -> String {
        format!(
            "{}:{}",
            self.arn(),
            self.qualifier.as_deref().unwrap_or("$LATEST")
        )
    }
}
