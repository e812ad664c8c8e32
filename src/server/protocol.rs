//! The AWS JSON 1.0 protocol: error shapes, typed access to request members, timestamps.
//!
//! Requests are `POST /` with `X-Amz-Target: AWSStepFunctions.<Op>` and a JSON object body;
//! answers are JSON objects, errors `{"__type": "<namespace>#<Name>", "message": "..."}` with HTTP
//! 400 (as Step Functions answers every client error). Member checks follow botocore's service
//! model: a missing required member or a length constraint is a coral `ValidationException`, a
//! member of the wrong JSON type is a `SerializationException`.
//!
//! In: a request body's bytes, then its members by name and constraint. Out: typed members or
//! the `ApiError` AWS answers; an `OpResult` (the answer's JSON or that error) per operation, with
//! what every operation shares: paging (`maxResults`, `nextToken`) and `StateMachineDoesNotExist`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::Server;
use super::registry::{Machine, Machines};

/// The `X-Amz-Target` prefix of Step Functions operations.
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";
/// The content type AWS JSON 1.0 answers carry.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

const SFN: &str = "com.amazonaws.swf.service.v2.model";
const CORAL: &str = "com.amazon.coral.service";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate";

/// An error answer in AWS's shape. Clients read the part of `__type` after `#`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status of the answer (400 for client errors).
    pub status: u16,
    namespace: &'static str,
    /// The error's name, the part of `__type` after `#` (`InvalidArn`, `ValidationException`, …).
    pub kind: &'static str,
    /// The `message` member, when the error has one.
    pub message: Option<String>,
    /// `reason` of ValidationException, `resourceName` of ResourceNotFound/TooManyTags.
    pub extra: Option<(&'static str, String)>,
}

impl ApiError {
    /// A modelled Step Functions error (`StateMachineDoesNotExist`, `InvalidArn`, ...), HTTP 400.
    pub fn sfn(kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            namespace: SFN,
            kind,
            message: Some(message.into()),
            extra: None,
        }
    }

    /// A protocol-level (coral) error such as `UnknownOperationException`.
    pub fn coral(status: u16, kind: &'static str, message: Option<String>) -> ApiError {
        ApiError {
            status,
            namespace: CORAL,
            kind,
            message,
            extra: None,
        }
    }

    /// Adds the extra member (`reason`, `resourceName`).
    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> ApiError {
        self.extra = Some((key, value.into()));
        self
    }

    /// The `__type` member.
    pub fn type_name(&self) -> String {
        format!("{}#{}", self.namespace, self.kind)
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let mut m = Map::new();
        m.insert("__type".into(), Value::String(self.type_name()));
        if let Some(msg) = &self.message {
            m.insert("message".into(), Value::String(msg.clone()));
        }
        if let Some((k, v)) = &self.extra {
            m.insert((*k).into(), Value::String(v.clone()));
        }
        Value::Object(m).to_string()
    }
}

/// `UnknownOperationException` for a target we do not serve, with coral's message.
pub fn unknown_operation() -> ApiError {
    ApiError::coral(
        400,
        "UnknownOperationException",
        Some("The requested operation is not recognized by the service.".into()),
    )
}

/// A coral constraint violation, worded as AWS words it.
pub fn validation(member: &str, value: Option<&str>, constraint: &str) -> ApiError {
    let shown = match value {
        Some(v) => format!("'{v}'"),
        None => "null".to_string(),
    };
    ApiError {
        status: 400,
        namespace: CORAL_VALIDATE,
        kind: "ValidationException",
        message: Some(format!(
            "1 validation error detected: Value {shown} at '{member}' failed to satisfy constraint: {constraint}"
        )),
        extra: None,
    }
}

/// A body that is not JSON, or a member of the wrong type.
pub fn serialization(message: impl Into<String>) -> ApiError {
    ApiError::coral(400, "SerializationException", Some(message.into()))
}

/// Parses a request body: an empty body is `{}`, anything but an object is a serialization error.
pub fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(serialization(
            "Start of structure or map found where not expected",
        )),
        Err(e) => Err(serialization(format!("Could not parse request body: {e}"))),
    }
}

/// Typed, constraint-checked access to a request's members.
pub struct Req<'a> {
    body: &'a Map<String, Value>,
}

fn type_error(member: &str, want: &str) -> ApiError {
    serialization(format!(
        "Unexpected value type in payload for member '{member}': expected {want}"
    ))
}

impl<'a> Req<'a> {
    /// Wraps a parsed body.
    pub fn new(body: &'a Map<String, Value>) -> Req<'a> {
        Req { body }
    }

    fn present(&self, member: &str) -> Option<&'a Value> {
        self.body.get(member).filter(|v| !v.is_null())
    }

    /// An optional string member with length bounds (in characters, as the model counts).
    pub fn opt_str(
        &self,
        member: &str,
        min: usize,
        max: usize,
    ) -> Result<Option<&'a str>, ApiError> {
        let Some(v) = self.present(member) else {
            return Ok(None);
        };
        let Some(s) = v.as_str() else {
            return Err(type_error(member, "a string"));
        };
        let n = s.chars().count();
        if n < min {
            return Err(validation(
                member,
                Some(s),
                &format!("Member must have length greater than or equal to {min}"),
            ));
        }
        if n > max {
            let shown = if n > 256 { None } else { Some(s) };
            let mut e = validation(
                member,
                shown,
                &format!("Member must have length less than or equal to {max}"),
            );
            if shown.is_none() {
                e.message = e
                    .message
                    .map(|m| m.replacen("Value null at", "Value at", 1));
            }
            return Err(e);
        }
        Ok(Some(s))
    }

    /// A required string member.
    pub fn str(&self, member: &str, min: usize, max: usize) -> Result<&'a str, ApiError> {
        self.opt_str(member, min, max)?
            .ok_or_else(|| validation(member, None, "Member must not be null"))
    }

    /// An optional boolean member.
    pub fn opt_bool(&self, member: &str) -> Result<Option<bool>, ApiError> {
        match self.present(member) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(type_error(member, "a boolean")),
        }
    }

    /// An optional integer member within bounds.
    pub fn opt_int(&self, member: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.present(member) else {
            return Ok(None);
        };
        let Some(i) = v.as_i64() else {
            return Err(type_error(member, "an integer"));
        };
        if i < min {
            let text = i.to_string();
            let c = format!("Member must have value greater than or equal to {min}");
            return Err(validation(member, Some(&text), &c));
        }
        if i > max {
            let text = i.to_string();
            let c = format!("Member must have value less than or equal to {max}");
            return Err(validation(member, Some(&text), &c));
        }
        Ok(Some(i))
    }

    /// An optional object member.
    pub fn opt_obj(&self, member: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match self.present(member) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(type_error(member, "a structure")),
        }
    }

    /// An optional list member.
    pub fn opt_list(&self, member: &str) -> Result<Option<&'a [Value]>, ApiError> {
        match self.present(member) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(type_error(member, "a list")),
        }
    }

    /// A required list member.
    pub fn list(&self, member: &str) -> Result<&'a [Value], ApiError> {
        self.opt_list(member)?
            .ok_or_else(|| validation(member, None, "Member must not be null"))
    }

    /// An optional string member restricted to an enum.
    pub fn opt_enum(&self, member: &str, allowed: &[&str]) -> Result<Option<&'a str>, ApiError> {
        let Some(s) = self.opt_str(member, 0, usize::MAX)? else {
            return Ok(None);
        };
        if allowed.contains(&s) {
            return Ok(Some(s));
        }
        let set = allowed.join(", ");
        let c = format!("Member must satisfy enum value set: [{set}]");
        Err(validation(member, Some(s), &c))
    }
}

/// A timestamp as AWS JSON 1.0 sends it: epoch seconds with milliseconds.
pub fn epoch(t: SystemTime) -> Value {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let millis = d.as_millis() as f64;
    let secs = (millis / 1000.0 * 1000.0).round() / 1000.0;
    serde_json::Number::from_f64(secs)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Name rules for state machines, executions, versions' aliases: AWS's `InvalidName` cases.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 80
        && name.chars().all(|c| {
            !(c.is_whitespace()
                || c.is_control()
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c))
        })
}

/// `InvalidName` in AWS's words.
pub fn invalid_name(name: &str) -> ApiError {
    ApiError::sfn("InvalidName", format!("Invalid Name: '{name}'"))
}

// ---- What every operation shares: its result, paging, the missing machine ----

/// A JSON answer or an error in AWS's shape.
pub type OpResult = Result<Value, ApiError>;

/// `StateMachineDoesNotExist` in AWS's words.
pub fn no_machine(arn: &str) -> ApiError {
    ApiError::sfn(
        "StateMachineDoesNotExist",
        format!("State Machine Does Not Exist: '{arn}'"),
    )
}

/// The machine named `name` when `arn` (which named it) is ours: every operation that reads a
/// machine answers `StateMachineDoesNotExist` alike for a missing one and a foreign ARN.
pub(crate) fn local_machine<'a>(
    server: &Server,
    machines: &'a Machines,
    name: &str,
    arn: &str,
) -> Result<&'a Machine, ApiError> {
    machines
        .by_name
        .get(name)
        .filter(|_| server.registry.arns.is_local(arn))
        .ok_or_else(|| no_machine(arn))
}

/// Decodes a page token: the index of the next item.
fn page_start(token: Option<&str>, len: usize) -> Result<usize, ApiError> {
    let Some(t) = token else { return Ok(0) };
    let bad = || ApiError::sfn("InvalidToken", format!("Invalid Token: '{t}'"));
    let n: usize = t
        .strip_prefix("ewy1.")
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)?;
    if n > len {
        return Err(bad());
    }
    Ok(n)
}

/// Encodes the token of the page starting at `next`, if there is one.
fn page_token(next: usize, len: usize) -> Option<String> {
    (next < len).then(|| format!("ewy1.{next}"))
}

/// Pages `items` by `maxResults` (0 or absent: 100) and `nextToken`.
pub(crate) fn paged(r: &Req, key: &str, items: Vec<Value>) -> OpResult {
    let max = r.opt_int("maxResults", 0, 1000)?.unwrap_or(0);
    let size = if max == 0 { 100 } else { max as usize };
    let start = page_start(r.opt_str("nextToken", 1, 1024)?, items.len())?;
    let end = (start + size).min(items.len());
    let mut out = Map::new();
    out.insert(key.into(), Value::Array(items[start..end].to_vec()));
    if let Some(t) = page_token(end, items.len()) {
        out.insert("nextToken".into(), json!(t));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_have_aws_shape() {
        let e = ApiError::sfn("InvalidArn", "Invalid Arn: 'x'");
        assert_eq!(
            e.body(),
            r#"{"__type":"com.amazonaws.swf.service.v2.model#InvalidArn","message":"Invalid Arn: 'x'"}"#
        );
        let u = unknown_operation();
        assert_eq!(
            u.body(),
            r#"{"__type":"com.amazon.coral.service#UnknownOperationException","message":"The requested operation is not recognized by the service."}"#
        );
    }

    #[test]
    fn names_follow_aws_rules() {
        for ok in ["a", "my-machine_1.v2", "ü", &"x".repeat(80)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a:b",
            "a/b",
            "a*",
            "tab\t",
            "\u{85}",
            &"x".repeat(81),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn members_are_checked_as_the_model_says() {
        let body = parse_body(br#"{"name":"","n":5,"b":"x"}"#).unwrap();
        let r = Req::new(&body);
        assert_eq!(
            r.str("name", 1, 80).unwrap_err().kind,
            "ValidationException"
        );
        assert_eq!(
            r.str("missing", 1, 80).unwrap_err().kind,
            "ValidationException"
        );
        assert_eq!(r.opt_bool("b").unwrap_err().kind, "SerializationException");
        assert_eq!(
            r.opt_int("n", 0, 3).unwrap_err().kind,
            "ValidationException"
        );
        assert_eq!(
            parse_body(b"[1]").unwrap_err().kind,
            "SerializationException"
        );
        assert_eq!(parse_body(b"{").unwrap_err().kind, "SerializationException");
        assert!(parse_body(b"").unwrap().is_empty());
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        assert_eq!(epoch(t).to_string(), "1700000000.123");
    }
}
