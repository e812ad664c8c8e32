//! Versions and aliases: PublishStateMachineVersion, ListStateMachineVersions,
//! DeleteStateMachineVersion, and the alias operations; plus `resolve`, which turns a machine,
//! version or alias ARN into what an execution runs.
//!
//! In: a parsed request body and the registry. Out: the answer's JSON object or an `ApiError`;
//! `resolve`: the machine's name and the `Revision` an ARN runs.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Value, json};

use super::Server;
use super::protocol::{
    ApiError, OpResult, Req, epoch, local_machine, no_machine, paged, validation,
};
use super::registry::{Alias, Kind, Machine, Qualifier, Revision, Version, invalid_arn};

const MAX_VERSIONS: usize = 1000;

/// Publishes the machine's current revision as a version (or returns the latest version when it
/// already froze this revision), and returns its ARN.
pub fn publish(m: &mut Machine, description: Option<&str>) -> String {
    if let Some((n, v)) = m.versions.last()
        && v.revision.revision_id == m.current.revision_id
    {
        return format!("{}:{n}", m.arn);
    }
    let n = m.next_version;
    m.next_version += 1;
    m.versions.insert(
        n,
        Version {
            number: n,
            revision: m.current.clone(),
            description: description.map(str::to_string),
            created: SystemTime::now(),
        },
    );
    format!("{}:{n}", m.arn)
}

fn unqualified<'a>(
    server: &Server,
    arn: &str,
    name: &'a str,
    q: &Qualifier,
) -> Result<&'a str, ApiError> {
    if *q != Qualifier::None || !server.registry.arns.is_local(arn) {
        return Err(invalid_arn(arn));
    }
    Ok(name)
}

/// PublishStateMachineVersion: `revisionId`, when given, must be the current one.
pub fn publish_version(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let revision = r.opt_str("revisionId", 0, usize::MAX)?;
    let description = r.opt_str("description", 0, 256)?;
    let target = server.registry.arns.parse_machine(arn)?;
    let name = unqualified(server, arn, &target.name, &target.qualifier)?;
    let mut machines = server.registry.write();
    let m = machines
        .by_name
        .get_mut(name)
        .ok_or_else(|| no_machine(arn))?;
    if let Some(rev) = revision
        && rev != m.current.revision_id
    {
        return Err(ApiError::sfn(
            "ConflictException",
            format!(
                "Failed to publish the State Machine version for revision {rev}. The current State Machine revision is {}.",
                m.current.revision_id
            ),
        ));
    }
    if m.versions.len() >= MAX_VERSIONS {
        return Err(ApiError::sfn(
            "ServiceQuotaExceededException",
            format!(
                "Maximum number of versions ({MAX_VERSIONS}) reached for state machine '{arn}'"
            ),
        ));
    }
    let v = publish(m, description);
    let created = m
        .versions
        .last()
        .map(|(_, v)| v.created)
        .unwrap_or_else(SystemTime::now);
    Ok(json!({"stateMachineVersionArn": v, "creationDate": epoch(created)}))
}

/// ListStateMachineVersions, newest first.
pub fn list_versions(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let target = server.registry.arns.parse_machine(arn)?;
    let name = unqualified(server, arn, &target.name, &target.qualifier)?;
    let items = {
        let machines = server.registry.read();
        let m = machines.by_name.get(name).ok_or_else(|| no_machine(arn))?;
        m.versions
            .values()
            .rev()
            .map(|v| {
                json!({"stateMachineVersionArn": format!("{}:{}", m.arn, v.number),
                       "creationDate": epoch(v.created)})
            })
            .collect()
    };
    paged(r, "stateMachineVersions", items)
}

/// DeleteStateMachineVersion: refused while an alias routes to it.
pub fn delete_version(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineVersionArn", 1, 2000)?;
    let target = server.registry.arns.parse_machine(arn)?;
    let Qualifier::Version(n) = target.qualifier else {
        return Err(invalid_arn(arn));
    };
    let mut machines = server.registry.write();
    let Some(m) = machines.by_name.get_mut(&target.name) else {
        return Ok(json!({}));
    };
    let users: Vec<String> = m
        .aliases
        .values()
        .filter(|a| a.routing.iter().any(|(v, _)| v == arn))
        .map(|a| format!("{}:{}", m.arn, a.name))
        .collect();
    if !users.is_empty() {
        return Err(ApiError::sfn(
            "ConflictException",
            format!(
                "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                users.join(", ")
            ),
        ));
    }
    m.versions.shift_remove(&n);
    Ok(json!({}))
}

fn routing_error(msg: &str) -> ApiError {
    ApiError::sfn("ValidationException", msg).with("reason", "INVALID_ROUTING_CONFIGURATION")
}

/// Parses `routingConfiguration` and checks it against the machine: the machine's name and the
/// routes.
fn parse_routing(
    server: &Server,
    list: &[Value],
) -> Result<(String, Vec<(String, u32)>), ApiError> {
    if list.is_empty() || list.len() > 2 {
        return Err(validation(
            "routingConfiguration",
            None,
            "Member must have length less than or equal to 2",
        ));
    }
    let mut routes = Vec::new();
    let mut machine: Option<String> = None;
    for item in list {
        let Some(obj) = item.as_object() else {
            return Err(super::protocol::serialization(
                "routingConfiguration item must be a structure",
            ));
        };
        let r = Req::new(obj);
        let varn = r.str("stateMachineVersionArn", 1, 256)?;
        let weight = r
            .opt_int("weight", 0, 100)?
            .ok_or_else(|| validation("weight", None, "Member must not be null"))?;
        let target = server.registry.arns.parse_machine(varn)?;
        let Qualifier::Version(n) = target.qualifier else {
            return Err(routing_error(&format!("Invalid version ARN: '{varn}'")));
        };
        if machine.as_ref().is_some_and(|m| *m != target.name) {
            return Err(routing_error(
                "Routing configuration must contain state machine version ARNs of the same state machine",
            ));
        }
        let machines = server.registry.read();
        let exists = machines
            .by_name
            .get(&target.name)
            .is_some_and(|m| m.versions.contains_key(&n));
        if !exists || !server.registry.arns.is_local(varn) {
            return Err(
                ApiError::sfn("ResourceNotFound", format!("Resource not found: '{varn}'"))
                    .with("resourceName", varn),
            );
        }
        if routes.iter().any(|(v, _)| v == varn) {
            return Err(routing_error(
                "Routing configuration must contain distinct state machine version ARNs",
            ));
        }
        machine = Some(target.name);
        routes.push((varn.to_string(), weight as u32));
    }
    if routes.iter().map(|(_, w)| w).sum::<u32>() != 100 {
        return Err(routing_error(
            "Sum of routing configuration weights must be equal to 100",
        ));
    }
    Ok((machine.unwrap_or_default(), routes))
}

fn alias_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        && name.bytes().any(|b| !b.is_ascii_digit())
}

fn routing_json(routes: &[(String, u32)]) -> Value {
    routes
        .iter()
        .map(|(v, w)| json!({"stateMachineVersionArn": v, "weight": w}))
        .collect()
}

/// CreateStateMachineAlias: idempotent for an identical alias, ConflictException otherwise.
pub fn create_alias(server: &Server, r: &Req) -> OpResult {
    let name = r.str("name", 1, 80)?;
    let description = r.opt_str("description", 0, 256)?;
    let routing = r.list("routingConfiguration")?;
    if !alias_name_ok(name) {
        return Err(validation(
            "name",
            Some(name),
            "Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$",
        ));
    }
    let (machine, routes) = parse_routing(server, routing)?;
    let mut machines = server.registry.write();
    let m = machines
        .by_name
        .get_mut(&machine)
        .ok_or_else(|| no_machine(&server.registry.arns.machine(&machine)))?;
    let arn = format!("{}:{name}", m.arn);
    if let Some(a) = m.aliases.get(name) {
        if a.routing == routes && a.description.as_deref() == description {
            return Ok(json!({"stateMachineAliasArn": arn, "creationDate": epoch(a.created)}));
        }
        return Err(ApiError::sfn(
            "ConflictException",
            format!(
                "Failed to create alias because an alias with the same name and a different routing configuration already exists: '{arn}'"
            ),
        ));
    }
    let now = SystemTime::now();
    m.aliases.insert(
        name.to_string(),
        Alias {
            name: name.to_string(),
            description: description.map(str::to_string),
            routing: routes,
            created: now,
            updated: now,
        },
    );
    Ok(json!({"stateMachineAliasArn": arn, "creationDate": epoch(now)}))
}

fn alias_target(server: &Server, arn: &str) -> Result<(String, String), ApiError> {
    let target = server.registry.arns.parse_machine(arn)?;
    match target.qualifier {
        Qualifier::Alias(a) if server.registry.arns.is_local(arn) => Ok((target.name, a)),
        _ => Err(invalid_arn(arn)),
    }
}

fn alias_missing(arn: &str) -> ApiError {
    ApiError::sfn("ResourceNotFound", format!("Resource not found: '{arn}'"))
        .with("resourceName", arn)
}

/// DescribeStateMachineAlias.
pub fn describe_alias(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineAliasArn", 1, 256)?;
    let (machine, alias) = alias_target(server, arn)?;
    let machines = server.registry.read();
    let a = machines
        .by_name
        .get(&machine)
        .and_then(|m| m.aliases.get(&alias))
        .ok_or_else(|| alias_missing(arn))?;
    let mut out = json!({
        "stateMachineAliasArn": arn, "name": a.name,
        "routingConfiguration": routing_json(&a.routing),
        "creationDate": epoch(a.created), "updateDate": epoch(a.updated),
    });
    if let Some(d) = &a.description {
        out["description"] = json!(d);
    }
    Ok(out)
}

/// UpdateStateMachineAlias: description and/or routing.
pub fn update_alias(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineAliasArn", 1, 256)?;
    let description = r.opt_str("description", 0, 256)?;
    let routing = r.opt_list("routingConfiguration")?;
    let (machine, alias) = alias_target(server, arn)?;
    if description.is_none() && routing.is_none() {
        return Err(ApiError::sfn(
            "ValidationException",
            "Either the description or the RoutingConfiguration must be specified",
        )
        .with("reason", "MISSING_REQUIRED_PARAMETER"));
    }
    let routes = match routing {
        Some(list) => {
            let (m, routes) = parse_routing(server, list)?;
            if m != machine {
                return Err(routing_error(
                    "Routing configuration must use versions of the alias's state machine",
                ));
            }
            Some(routes)
        }
        None => None,
    };
    let mut machines = server.registry.write();
    let a = machines
        .by_name
        .get_mut(&machine)
        .and_then(|m| m.aliases.get_mut(&alias))
        .ok_or_else(|| alias_missing(arn))?;
    if let Some(d) = description {
        a.description = Some(d.to_string());
    }
    if let Some(routes) = routes {
        a.routing = routes;
    }
    a.updated = SystemTime::now();
    Ok(json!({"updateDate": epoch(a.updated)}))
}

/// DeleteStateMachineAlias.
pub fn delete_alias(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineAliasArn", 1, 256)?;
    let (machine, alias) = alias_target(server, arn)?;
    let mut machines = server.registry.write();
    let m = machines
        .by_name
        .get_mut(&machine)
        .ok_or_else(|| alias_missing(arn))?;
    m.aliases
        .shift_remove(&alias)
        .ok_or_else(|| alias_missing(arn))?;
    Ok(json!({}))
}

/// ListStateMachineAliases.
pub fn list_aliases(server: &Server, r: &Req) -> OpResult {
    let arn = r.str("stateMachineArn", 1, 256)?;
    let target = server.registry.arns.parse_machine(arn)?;
    let items = {
        let machines = server.registry.read();
        let m = local_machine(server, &machines, &target.name, arn)?;
        let wanted = match &target.qualifier {
            Qualifier::Version(n) => Some(format!("{}:{n}", m.arn)),
            _ => None,
        };
        m.aliases
            .values()
            .filter(|a| {
                wanted
                    .as_ref()
                    .is_none_or(|w| a.routing.iter().any(|(v, _)| v == w))
            })
            .map(|a| {
                json!({"stateMachineAliasArn": format!("{}:{}", m.arn, a.name),
                       "creationDate": epoch(a.created)})
            })
            .collect()
    };
    paged(r, "stateMachineAliases", items)
}

/// What an execution runs, resolved from a machine, version or alias ARN.
pub struct Target {
    pub machine_arn: String,
    pub name: String,
    pub kind: Kind,
    pub revision: Arc<Revision>,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
}

/// Resolves an ARN for StartExecution/StartSyncExecution; an alias picks a version by weight.
pub fn resolve(server: &Server, arn: &str) -> Result<Target, ApiError> {
    let target = server.registry.arns.parse_machine(arn)?;
    let machines = server.registry.read();
    let m = local_machine(server, &machines, &target.name, arn)?;
    let base =
        |revision: Arc<Revision>, version_arn: Option<String>, alias_arn: Option<String>| Target {
            machine_arn: m.arn.clone(),
            name: m.name.clone(),
            kind: m.kind,
            revision,
            version_arn,
            alias_arn,
        };
    match &target.qualifier {
        Qualifier::None => Ok(base(m.current.clone(), None, None)),
        Qualifier::Version(n) => {
            let v = m.versions.get(n).ok_or_else(|| no_machine(arn))?;
            Ok(base(v.revision.clone(), Some(arn.to_string()), None))
        }
        Qualifier::Alias(a) => {
            let alias = m.aliases.get(a).ok_or_else(|| no_machine(arn))?;
            let roll = rand::random::<u32>() % 100;
            let mut acc = 0;
            let mut chosen = alias.routing.first().map(|(v, _)| v.clone());
            for (v, w) in &alias.routing {
                acc += w;
                if roll < acc {
                    chosen = Some(v.clone());
                    break;
                }
            }
            let varn = chosen.ok_or_else(|| no_machine(arn))?;
            let n = varn.rsplit(':').next().and_then(|n| n.parse::<u64>().ok());
            let v = n
                .and_then(|n| m.versions.get(&n))
                .ok_or_else(|| no_machine(arn))?;
            Ok(base(v.revision.clone(), Some(varn), Some(arn.to_string())))
        }
    }
}
