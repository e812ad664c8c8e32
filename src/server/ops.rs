//! State machine operations: create, describe, update, delete, list, validate, and tags.
//!
//! One function per operation: a parsed body in, the answer's JSON object or an `ApiError` out.
//! Versions and aliases are in `versions.rs`, executions and TestState in `executions.rs`.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::Server;
use super::definitions::{express_restrictions, invalid_definition, validate_text};
use super::protocol::{
    ApiError, OpResult, Req, epoch, invalid_name, local_machine, no_machine, paged, valid_name,
    validation,
};
use super::registry::{Kind, Machine, Qualifier, Revision, invalid_arn};

const MAX_DEFINITION: usize = 1_048_576;
const MAX_TAGS: usize = 50;

/// A fresh revision id (AWS uses a UUID).
pub fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn check_role(role: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = role.split(':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[2] != "iam" {
        return Err(ApiError::sfn(
            "InvalidArn",
            format!("Invalid Arn: '{role}'"),
        ));
    }
    Ok(())
}

/// Default `loggingConfiguration` as DescribeStateMachine shows it.
fn logging_or_default(l: &Option<Value>) -> Value {
    l.clone()
        .unwrap_or_else(|| json!({"level": "OFF", "includeExecutionData": false}))
}

fn check_logging(l: Option<&Map<String, Value>>) -> Result<Option<Value>, ApiError> {
    let Some(l) = l else { return Ok(None) };
    let r = Req::new(l);
    let level = r.opt_enum("level", &["ALL", "ERROR", "FATAL", "OFF"])?;
    let include = r.opt_bool("includeExecutionData")?;
    let dest = r.opt_list("destinations")?.unwrap_or_default();
    if level.is_some_and(|lv| lv != "OFF") && dest.is_empty() {
        return Err(ApiError::sfn(
            "InvalidLoggingConfiguration",
            "Invalid Logging Configuration: Must specify exactly one Log Destination.",
        ));
    }
    let mut out = Map::new();
    out.insert("level".into(), json!(level.unwrap_or("OFF")));
    out.insert(
        "includeExecutionData".into(),
        json!(include.unwrap_or(false)),
    );
    if !dest.is_empty() {
        out.insert("destinations".into(), Value::Array(dest.to_vec()));
    }
    Ok(Some(Value::Object(out)))
}

/// Parses a `tags` list: `[{key, value}]` with AWS's bounds.
pub fn parse_tags(list: &[Value]) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for t in list {
        let Some(obj) = t.as_object() else {
            return Err(super::protocol::serialization("Tag must be a structure"));
        };
        let r = Req::new(obj);
        let key = r.opt_str("key", 1, 128)?.unwrap_or_default();
        let value = r.opt_str("value", 0, 256)?.unwrap_or_default();
        if key.is_empty() {
            return Err(validation(
                "tags.member.key",
                None,
                "Member must not be null",
            ));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

fn compile(server: &Server, definition: &str, kind: Kind) -> Result<Revision, ApiError> {
    let program = server
        .engine
        .compile(definition)
        .map_err(|d| invalid_definition(&d))?;
    if kind == Kind::Express {
        let diags = express_restrictions(definition);
        if !diags.is_empty() {
            return Err(invalid_definition(&diags));
        }
    }
    Ok(Revision {
        definition: definition.into(),
        program,
        role_arn: String::new(),
        logging: None,
        tracing: None,
        revision_id: new_revision_id(),
        updated: SystemTime::now(),
    })
}

/// CreateStateMachine: idempotent for an identical request, `StateMachineAlreadyExists` otherwise.
pub fn create_state_machine(server: &Server, r: &Req) -> OpResult {
    let name = r.str("name", 1, 80)?;
    let definition = r.str("definition", 1, MAX_DEFINITION)?;
    let role = r.str("roleArn", 1, 256)?;
    let kind = match r.opt_enum("type", &["STANDARD", "EXPRESS"])? {
        Some("EXPRESS") => Kind::Express,
        _ => Kind::Standard,
    };
    let logging = check_logging(r.opt_obj("loggingConfiguration")?)?;
    let tracing = r
        .opt_obj("tracingConfiguration")?
        .map(|t| Value::Object(t.clone()));
    let tags = parse_tags(r.opt_list("tags")?.unwrap_or_default())?;
    let publish = r.opt_bool("publish")?.unwrap_or(false);
    let description = r.opt_str("versionDescription", 0, 256)?;
    r.opt_obj("encryptionConfiguration")?;
    if !valid_name(name) {
        return Err(invalid_name(name));
    }
    if description.is_some() && !publish {
        return Err(ApiError::sfn(
            "ValidationException",
            "Version description can only be set when publish is true",
        ));
    }
    check_role(role)?;
    if tags.len() > MAX_TAGS {
        return Err(too_many_tags(&server.registry.arns.machine(name)));
    }
    let arn = server.registry.arns.machine(name);
    {
        let machines = server.registry.read();
        if let Some(m) = machines.by_name.get(name) {
            return existing(m, definition, kind, &logging, &tracing);
        }
    }
    let mut revision = compile(server, definition, kind)?;
    revision.role_arn = role.to_string();
    revision.logging = logging.clone();
    revision.tracing = tracing.clone();
    let now = SystemTime::now();
    let mut machine = Machine {
        name: name.to_string(),
        arn: arn.clone(),
        kind,
        created: now,
        current: Arc::new(revision),
        tags: tags.into_iter().collect(),
        versions: Default::default(),
        next_version: 1,
        aliases: Default::default(),
    };
    let version_arn = publish.then(|| super::versions::publish(&mut machine, description));
    let mut machines = server.registry.write();
    if let Some(m) = machines.by_name.get(name) {
        return existing(m, definition, kind, &logging, &tracing);
    }
    server
        .engine
        .define_machine(&arn, machine.current.program.clone());
    machines.by_name.insert(name.to_string(), machine);
    let mut out = json!({"stateMachineArn": arn, "creationDate": epoch(now)});
    if let Some(v) = version_arn {
        out["stateMachineVersionArn"] = json!(v);
    }
    Ok(out)
}

fn existing(
    m: &Machine,
    definition: &str,
    kind: Kind,
    logging: &Option<Value>,
    tracing: &Option<Value>,
) -> OpResult {
    let same = &*m.current.definition == definition
        && m.kind == kind
        && logging_or_default(&m.current.logging) == logging_or_default(logging)
        && m.current.tracing == *tracing;
    if same {
        Ok(json!({"stateMachineArn": m.arn, "creationDate": epoch(m.created)}))
    } else {
        Err(ApiError::sfn(
            "StateMachineAlreadyExists",
            format!("State Machine Already Exists: '{}'", m.arn),
        ))
    }
}

fn too_many_tags(arn: &str) -> ApiError {
    ApiError::sfn(
        "TooManyTags",
        format!("Too many tags: the resource '{arn}' can have at most {MAX_TAGS} tags"),
    )
    .with("resourceName", arn)
}

/// DescribeStateMachine: a machine, or a version when given a version ARN.
pub fn describe_state_machine(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    r.opt_enum("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    let target = server.registry.arns.parse_machine(arn)?;
    let machines = server.registry.read();
    let m = local_machine(server, &machines, &target.name, arn)?;
    let (rev, created, description, shown_arn) = match &target.qualifier {
        Qualifier::None => (&m.current, m.created, None, m.arn.clone()),
        Qualifier::Version(n) => {
            let v = m.versions.get(n).ok_or_else(|| no_machine(arn))?;
            (
                &v.revision,
                v.created,
                v.description.clone(),
                arn.to_string(),
            )
        }
        Qualifier::Alias(_) => {
            return Err(invalid_arn(arn));
        }
    };
    let mut out = json!({
        "stateMachineArn": shown_arn,
        "name": m.name,
        "status": "ACTIVE",
        "definition": &*rev.definition,
        "roleArn": rev.role_arn,
        "type": m.kind.as_aws(),
        "creationDate": epoch(created),
        "loggingConfiguration": logging_or_default(&rev.logging),
        "tracingConfiguration": rev.tracing.clone().unwrap_or_else(|| json!({"enabled": false})),
        "revisionId": rev.revision_id,
    });
    if let Some(d) = description {
        out["description"] = json!(d);
    }
    Ok(out)
}

/// UpdateStateMachine: a new revision; `publish` also makes it a version.
pub fn update_state_machine(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let definition = r.opt_str("definition", 1, MAX_DEFINITION)?;
    let role = r.opt_str("roleArn", 1, 256)?;
    let logging = check_logging(r.opt_obj("loggingConfiguration")?)?;
    let tracing = r
        .opt_obj("tracingConfiguration")?
        .map(|t| Value::Object(t.clone()));
    let publish = r.opt_bool("publish")?.unwrap_or(false);
    let description = r.opt_str("versionDescription", 0, 256)?;
    r.opt_obj("encryptionConfiguration")?;
    let target = server.registry.arns.parse_machine(arn)?;
    if target.qualifier != Qualifier::None {
        return Err(invalid_arn(arn));
    }
    if definition.is_none() && role.is_none() && logging.is_none() && tracing.is_none() {
        return Err(ApiError::sfn(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified",
        ));
    }
    if description.is_some() && !publish {
        return Err(ApiError::sfn(
            "ValidationException",
            "Version description can only be set when publish is true",
        ));
    }
    if let Some(role) = role {
        check_role(role)?;
    }
    let kind = {
        let machines = server.registry.read();
        let m = local_machine(server, &machines, &target.name, arn)?;
        m.kind
    };
    let compiled = match definition {
        Some(d) => Some(compile(server, d, kind)?),
        None => None,
    };
    let mut machines = server.registry.write();
    let m = machines
        .by_name
        .get_mut(&target.name)
        .ok_or_else(|| no_machine(arn))?;
    let mut rev = (*m.current).clone();
    if let Some(c) = compiled {
        rev.definition = c.definition;
        rev.program = c.program;
    }
    if let Some(role) = role {
        rev.role_arn = role.to_string();
    }
    if logging.is_some() {
        rev.logging = logging;
    }
    if tracing.is_some() {
        rev.tracing = tracing;
    }
    let now = SystemTime::now();
    rev.updated = now;
    rev.revision_id = new_revision_id();
    m.current = Arc::new(rev);
    server
        .engine
        .define_machine(&m.arn, m.current.program.clone());
    let mut out = json!({"updateDate": epoch(now), "revisionId": m.current.revision_id});
    if publish {
        out["stateMachineVersionArn"] = json!(super::versions::publish(m, description));
    }
    Ok(out)
}

/// DeleteStateMachine: succeeds for a machine that does not exist, as AWS does.
pub fn delete_state_machine(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let target = server.registry.arns.parse_machine(arn)?;
    if target.qualifier != Qualifier::None {
        return Err(invalid_arn(arn));
    }
    if server.registry.arns.is_local(arn) {
        server.registry.write().by_name.shift_remove(&target.name);
        server
            .engine
            .forget_machine(&server.registry.arns.machine(&target.name));
    }
    Ok(json!({}))
}

/// ListStateMachines, in creation order.
pub fn list_state_machines(server: &Server, r: &Req) -> OpResult {
    let items = server
        .registry
        .read()
        .by_name
        .values()
        .map(|m| {
            json!({"stateMachineArn": m.arn, "name": m.name, "type": m.kind.as_aws(),
                   "creationDate": epoch(m.created)})
        })
        .collect();
    paged(r, "stateMachines", items)
}

/// ValidateStateMachineDefinition: diagnostics instead of an error.
pub fn validate_definition(server: &Server, r: &Req) -> OpResult {
    let definition = r.str("definition", 1, MAX_DEFINITION)?;
    let kind = r.opt_enum("type", &["STANDARD", "EXPRESS"])?;
    let severity = r
        .opt_enum("severity", &["ERROR", "WARNING"])?
        .unwrap_or("ERROR");
    let max = r.opt_int("maxResults", 0, 100)?.unwrap_or(0);
    let max = if max == 0 { 100 } else { max as usize };
    let mut diags = validate_text(definition);
    if !diags
        .iter()
        .any(|d| d.severity == crate::definition::Severity::Error)
    {
        if let Err(more) = server.engine.compile(definition) {
            diags.extend(more);
        }
        if kind == Some("EXPRESS") {
            diags.extend(express_restrictions(definition));
        }
    }
    let failed = diags
        .iter()
        .any(|d| d.severity == crate::definition::Severity::Error);
    let wanted: Vec<Value> = diags
        .iter()
        .filter(|d| severity == "WARNING" || d.severity == crate::definition::Severity::Error)
        .map(|d| {
            let sev = match d.severity {
                crate::definition::Severity::Error => "ERROR",
                crate::definition::Severity::Warning => "WARNING",
            };
            json!({"severity": sev, "code": d.code, "message": d.message, "location": d.location})
        })
        .collect();
    let truncated = wanted.len() > max;
    let shown: Vec<Value> = wanted.into_iter().take(max).collect();
    Ok(json!({
        "result": if failed { "FAIL" } else { "OK" },
        "diagnostics": shown,
        "truncated": truncated,
    }))
}

fn resource_not_found(arn: &str) -> ApiError {
    ApiError::sfn("ResourceNotFound", format!("Resource not found: '{arn}'"))
        .with("resourceName", arn)
}

/// Runs `f` on the tags of the machine `arn` names (tags live on unqualified machines).
fn with_tags<T>(
    server: &Server,
    arn: &str,
    f: impl FnOnce(&mut indexmap::IndexMap<String, String>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let target = server.registry.arns.parse_machine(arn)?;
    let mut machines = server.registry.write();
    let m = machines
        .by_name
        .get_mut(&target.name)
        .filter(|_| target.qualifier == Qualifier::None && server.registry.arns.is_local(arn))
        .ok_or_else(|| resource_not_found(arn))?;
    f(&mut m.tags)
}

/// TagResource: adds or replaces tags, at most 50 in all.
pub fn tag_resource(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("resourceArn", 1, 256)?;
    let tags = parse_tags(r.list("tags")?)?;
    with_tags(server, arn, |t| {
        let mut next = t.clone();
        next.extend(tags);
        if next.len() > MAX_TAGS {
            return Err(too_many_tags(arn));
        }
        *t = next;
        Ok(json!({}))
    })
}

/// UntagResource.
pub fn untag_resource(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("resourceArn", 1, 256)?;
    let keys = r.list("tagKeys")?;
    with_tags(server, arn, |t| {
        for k in keys {
            if let Some(k) = k.as_str() {
                t.shift_remove(k);
            }
        }
        Ok(json!({}))
    })
}

/// ListTagsForResource.
pub fn list_tags(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("resourceArn", 1, 256)?;
    with_tags(server, arn, |t| {
        let tags: Vec<Value> = t
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        Ok(json!({ "tags": tags }))
    })
}
