//! The server's state: state machines with their versions, aliases and tags, and the executions
//! that StartExecution started (a bounded store, oldest finished evicted first).
//!
//! Plain data behind `std::sync::RwLock`/`Mutex`: no lock is held across an `.await`, and a
//! poisoned lock is taken over (its data stays consistent: every update is a single insert).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use indexmap::IndexMap;

use super::protocol::ApiError;
use crate::compile::Program;

/// STANDARD or EXPRESS, as CreateStateMachine's `type` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Standard,
    Express,
}

impl Kind {
    /// AWS's spelling.
    pub fn as_aws(self) -> &'static str {
        match self {
            Kind::Standard => "STANDARD",
            Kind::Express => "EXPRESS",
        }
    }
}

/// One revision of a state machine's configuration: what a version freezes.
#[derive(Clone)]
pub struct Revision {
    pub definition: Arc<str>,
    pub program: Arc<Program>,
    pub role_arn: String,
    pub logging: Option<serde_json::Value>,
    pub tracing: Option<serde_json::Value>,
    pub revision_id: String,
    pub updated: SystemTime,
}

/// A published version (immutable).
#[derive(Clone)]
pub struct Version {
    pub number: u64,
    pub revision: Arc<Revision>,
    pub description: Option<String>,
    pub created: SystemTime,
}

/// An alias routing executions to one or two versions by weight.
#[derive(Clone)]
pub struct Alias {
    pub name: String,
    pub description: Option<String>,
    pub routing: Vec<(String, u32)>,
    pub created: SystemTime,
    pub updated: SystemTime,
}

/// A state machine and everything hanging off it.
#[derive(Clone)]
pub struct Machine {
    pub name: String,
    pub arn: String,
    pub kind: Kind,
    pub created: SystemTime,
    /// Shared with running executions and versions: publishing or starting clones an `Arc`.
    pub current: Arc<Revision>,
    pub tags: IndexMap<String, String>,
    pub versions: IndexMap<u64, Version>,
    pub next_version: u64,
    pub aliases: IndexMap<String, Alias>,
}

/// All state machines, in creation order (ListStateMachines pages through them in that order).
#[derive(Default)]
pub struct Machines {
    pub by_name: IndexMap<String, Machine>,
}

/// What an ARN names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Qualifier {
    None,
    Version(u64),
    Alias(String),
}

/// A parsed `stateMachine` ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineRef {
    pub name: String,
    pub qualifier: Qualifier,
}

/// A parsed execution ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionRef {
    pub express: bool,
    pub machine: String,
    pub name: String,
}

/// ARN formats of this server's region and account.
#[derive(Clone, Debug)]
pub struct Arns {
    pub region: String,
    pub account: String,
}

/// `InvalidArn` in AWS's words, for an ARN that is malformed or names the wrong kind of thing.
pub fn invalid_arn(arn: &str) -> ApiError {
    ApiError::sfn("InvalidArn", format!("Invalid Arn: '{arn}'"))
}

fn wrong_type(kind: &str) -> ApiError {
    ApiError::sfn(
        "InvalidArn",
        format!("Invalid Arn: 'Resource type not valid in this context: {kind}'"),
    )
}

impl Arns {
    fn prefix(&self) -> String {
        format!("arn:aws:states:{}:{}", self.region, self.account)
    }

    /// `arn:aws:states:<region>:<account>:stateMachine:<name>`.
    pub fn machine(&self, name: &str) -> String {
        format!("{}:stateMachine:{name}", self.prefix())
    }

    /// A standard execution's ARN.
    pub fn execution(&self, machine: &str, name: &str) -> String {
        format!("{}:execution:{machine}:{name}", self.prefix())
    }

    /// An express execution's ARN: `…:express:<sm>:<name>:<uuid>`.
    pub fn express(&self, machine: &str, name: &str, id: &str) -> String {
        format!("{}:express:{machine}:{name}:{id}", self.prefix())
    }

    /// A new Express execution's ARN, its id part a fresh random UUID.
    pub fn express_new(&self, machine: &str, name: &str) -> String {
        let mut s = String::with_capacity(
            32 + self.region.len() + self.account.len() + machine.len() + name.len() + 36,
        );
        s.push_str("arn:aws:states:");
        s.push_str(&self.region);
        s.push(':');
        s.push_str(&self.account);
        s.push_str(":express:");
        s.push_str(machine);
        s.push(':');
        s.push_str(name);
        s.push(':');
        super::ids::push_uuid(&mut s);
        s
    }

    /// Splits `arn:aws:states:<region>:<account>:<type>:<rest>` after checking its frame.
    fn split<'a>(&self, arn: &'a str) -> Result<(&'a str, Vec<&'a str>), ApiError> {
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() < 7
            || parts[0] != "arn"
            || parts[1].is_empty()
            || parts[2] != "states"
            || parts[3].is_empty()
            || parts[4].len() != 12
            || !parts[4].bytes().all(|b| b.is_ascii_digit())
            || parts[6..].iter().any(|p| p.is_empty())
        {
            return Err(invalid_arn(arn));
        }
        Ok((parts[5], parts[6..].to_vec()))
    }

    /// Whether an ARN is ours (region and account); other ARNs name nothing here.
    pub fn is_local(&self, arn: &str) -> bool {
        // PERF: compared piece by piece (it formatted the prefix twice per start).
        arn.strip_prefix("arn:aws:states:")
            .and_then(|r| r.strip_prefix(self.region.as_str()))
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|r| r.strip_prefix(self.account.as_str()))
            .is_some_and(|r| r.starts_with(':'))
    }

    /// Parses a state machine, version or alias ARN.
    pub fn parse_machine(&self, arn: &str) -> Result<MachineRef, ApiError> {
        let (kind, rest) = self.split(arn)?;
        if kind != "stateMachine" {
            return Err(wrong_type(kind));
        }
        let qualifier = match rest.as_slice() {
            [_] => Qualifier::None,
            [_, q] => match q.parse::<u64>() {
                Ok(n) => Qualifier::Version(n),
                Err(_) => Qualifier::Alias(q.to_string()),
            },
            _ => return Err(invalid_arn(arn)),
        };
        Ok(MachineRef {
            name: rest[0].to_string(),
            qualifier,
        })
    }

    /// Parses an execution ARN (standard or express).
    pub fn parse_execution(&self, arn: &str) -> Result<ExecutionRef, ApiError> {
        let (kind, rest) = self.split(arn)?;
        match (kind, rest.as_slice()) {
            ("execution", [m, n]) => Ok(ExecutionRef {
                express: false,
                machine: m.to_string(),
                name: n.to_string(),
            }),
            ("express", [m, n, _]) => Ok(ExecutionRef {
                express: true,
                machine: m.to_string(),
                name: n.to_string(),
            }),
            ("execution" | "express", _) => Err(invalid_arn(arn)),
            (other, _) => Err(wrong_type(other)),
        }
    }
}

/// An execution's state as DescribeExecution reports it.
#[derive(Clone, Debug)]
pub struct ExecState {
    pub status: &'static str,
    pub stop: Option<SystemTime>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// One execution started by StartExecution on a STANDARD machine (Express ones are not kept,
/// as AWS keeps no history for them).
pub struct ExecRecord {
    pub arn: String,
    pub name: String,
    pub machine_arn: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub input: String,
    pub start: SystemTime,
    pub definition: Arc<str>,
    pub role_arn: String,
    pub revision_id: String,
    /// Written once by the task running the execution, or by StopExecution.
    pub state: Mutex<ExecState>,
    /// Lets StopExecution abort the running task.
    pub abort: Mutex<Option<tokio::task::AbortHandle>>,
}

impl ExecRecord {
    /// A snapshot of the mutable state.
    pub fn snapshot(&self) -> ExecState {
        lock(&self.state).clone()
    }
}

/// Locks a mutex, taking over a poisoned one.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The bounded execution store.
struct Executions {
    by_arn: HashMap<String, Arc<ExecRecord>>,
    order: VecDeque<String>,
    capacity: usize,
}

/// Everything the server remembers.
pub struct Registry {
    pub arns: Arns,
    machines: RwLock<Machines>,
    executions: Mutex<Executions>,
}

impl Registry {
    /// An empty registry for one region and account, keeping at most `capacity` executions.
    pub fn new(arns: Arns, capacity: usize) -> Registry {
        Registry {
            arns,
            machines: RwLock::new(Machines::default()),
            executions: Mutex::new(Executions {
                by_arn: HashMap::new(),
                order: VecDeque::new(),
                capacity: capacity.max(1),
            }),
        }
    }

    /// Shared access to the machines.
    pub fn read(&self) -> RwLockReadGuard<'_, Machines> {
        self.machines.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access to the machines.
    pub fn write(&self) -> RwLockWriteGuard<'_, Machines> {
        self.machines.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Remembers an execution, evicting the oldest (finished first) beyond capacity.
    pub fn add_execution(&self, rec: Arc<ExecRecord>) {
        let mut ex = lock(&self.executions);
        ex.order.push_back(rec.arn.clone());
        ex.by_arn.insert(rec.arn.clone(), rec);
        while ex.by_arn.len() > ex.capacity {
            let Some(oldest) = ex.order.pop_front() else {
                break;
            };
            ex.by_arn.remove(&oldest);
        }
    }

    /// An execution by ARN.
    pub fn execution(&self, arn: &str) -> Option<Arc<ExecRecord>> {
        lock(&self.executions).by_arn.get(arn).cloned()
    }

    /// Executions of one machine, newest first.
    pub fn executions_of(&self, machine_arn: &str) -> Vec<Arc<ExecRecord>> {
        let ex = lock(&self.executions);
        ex.order
            .iter()
            .rev()
            .filter_map(|a| ex.by_arn.get(a))
            .filter(|r| r.machine_arn == machine_arn)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arns() -> Arns {
        Arns {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    #[test]
    fn machine_arns_parse_with_qualifiers() {
        let a = arns();
        let p = |s: &str| a.parse_machine(s).map(|m| (m.name, m.qualifier));
        let base = "arn:aws:states:us-east-1:123456789012:stateMachine:sm";
        assert_eq!(p(base), Ok(("sm".into(), Qualifier::None)));
        assert_eq!(
            p(&format!("{base}:3")),
            Ok(("sm".into(), Qualifier::Version(3)))
        );
        assert_eq!(
            p(&format!("{base}:prod")),
            Ok(("sm".into(), Qualifier::Alias("prod".into())))
        );
        assert_eq!(
            p("nope").unwrap_err().message.unwrap(),
            "Invalid Arn: 'nope'"
        );
        let act = "arn:aws:states:us-east-1:123456789012:activity:x";
        assert_eq!(
            p(act).unwrap_err().message.unwrap(),
            "Invalid Arn: 'Resource type not valid in this context: activity'"
        );
    }

    #[test]
    fn local_arns_are_this_region_and_account() {
        let a = arns();
        assert!(a.is_local("arn:aws:states:us-east-1:123456789012:stateMachine:sm"));
        assert!(a.is_local("arn:aws:states:us-east-1:123456789012:"));
        for other in [
            "arn:aws:states:us-east-1:123456789012",
            "arn:aws:states:us-east-2:123456789012:stateMachine:sm",
            "arn:aws:states:us-east-1:1234567890123:stateMachine:sm",
            "arn:aws:states:us-east-1x:123456789012:stateMachine:sm",
            "arn:aws-cn:states:us-east-1:123456789012:stateMachine:sm",
            "",
        ] {
            assert!(!a.is_local(other), "{other}");
        }
        let ex = a.express_new("sm", "run");
        let id = ex
            .strip_prefix("arn:aws:states:us-east-1:123456789012:express:sm:run:")
            .expect(&ex);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{ex}");
        assert_ne!(ex, a.express_new("sm", "run"));
    }

    #[test]
    fn execution_arns_parse() {
        let a = arns();
        let ex = a.express("sm", "run", "u-1");
        assert!(a.parse_execution(&ex).unwrap().express);
        let st = a.execution("sm", "run");
        assert_eq!(a.parse_execution(&st).unwrap().name, "run");
        assert!(a.parse_execution(&a.machine("sm")).is_err());
    }
}
