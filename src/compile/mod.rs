//! Lowering a validated `Definition` to an immutable `Program`.
//!
//! In: `definition::Definition`. Out: `Program`: every state of every scope (the top level,
//! each Parallel branch, each Map processor) in one flat array, transitions as `StateId`s,
//! JSONPaths, payload templates, intrinsic calls, JSONata expressions and Choice rules parsed
//! once. Names become ids here and only here. Nothing here executes.

mod choice;
mod jsonata_tpl;

pub use choice::{ChoiceRule, Comparison, Cond, Operand, Operator};
pub use jsonata_tpl::{JExpr, JTemplate};

use crate::definition::{self, Definition, Diagnostic, QueryLanguage, State, StateType};
use crate::expr::{Intrinsic, Path, ReferencePath, Template};
use crate::value::{Str, Value};
use std::collections::HashMap;

/// Index into `Program::states`. `u32` keeps the tables small; `compile` checks the bound once
/// per scope (`StateId::new`), so ids made from a checked range cannot wrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateId(pub u32);

impl StateId {
    /// The id of the state at `index` in `Program::states`; `None` when the index does not fit
    /// a `u32` (a definition with too many states).
    ///
    /// ```
    /// use expressway::compile::StateId;
    /// assert_eq!(StateId::new(7), Some(StateId(7)));
    /// assert_eq!(StateId::new(u32::MAX as usize), Some(StateId(u32::MAX)));
    /// assert_eq!(StateId::new(u32::MAX as usize + 1), None);
    /// ```
    pub fn new(index: usize) -> Option<StateId> {
        u32::try_from(index).ok().map(StateId)
    }
}

/// Index into `Program::scopes` (0 is the top level).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScopeId(pub u32);

/// A compiled state machine. Immutable once built; shared as `Arc<Program>`.
#[derive(Debug)]
pub struct Program {
    pub states: Vec<CState>,
    pub scopes: Vec<CScope>,
    /// Top-level `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    /// Whether any state can read `$$.Execution.Input` (it reads the context object, or is a
    /// Task or a Map, whose context is built whole): otherwise the execution need not keep its
    /// input, and the first state owns it alone (a ResultPath then grafts in place).
    pub reads_execution_input: bool,
}

/// A scope: the top level, a Parallel branch, or a Map item processor.
#[derive(Debug)]
pub struct CScope {
    pub start: StateId,
}

/// One compiled state.
#[derive(Debug)]
pub struct CState {
    pub name: Str,
    pub jsonata: bool,
    pub op: Op,
    pub io: Io,
    pub next: Option<StateId>,
    pub retry: Box<[Retrier]>,
    pub catch: Box<[Catcher]>,
    /// `Assign`, in either query language.
    pub assign: Option<Assign>,
    /// Whether anything in the state reads the context object (`$$`, `$states.context`); the
    /// VM builds it only then.
    pub uses_context: bool,
}

impl CState {
    /// Whether `$$.State.RetryCount` exists for this state (states that can retry).
    pub fn has_retry_count(&self) -> bool {
        matches!(self.op, Op::Task(_))
    }
}

/// The data-flow fields of a state, by query language. Stored once per state and only
/// borrowed while running, so the size difference between the variants costs nothing.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Io {
    JsonPath {
        /// `None` = `$` (identity); `Some(None)` = JSON null (the input becomes `{}`).
        input_path: Option<Option<Path>>,
        parameters: Option<Template>,
        result_selector: Option<Template>,
        /// `None` = `$`; `Some(None)` = null (discard the result).
        result_path: Option<Option<ReferencePath>>,
        output_path: Option<Option<Path>>,
    },
    JsonAta {
        arguments: Option<JTemplate>,
        output: Option<JTemplate>,
    },
}

/// `Assign`: a payload template in JSONPath states, a JSONata template in JSONata states.
#[derive(Debug)]
pub enum Assign {
    JsonPath(Template),
    JsonAta(JTemplate),
}

/// A number that is either fixed in the definition or computed at run time.
#[derive(Debug)]
pub enum Dyn<T> {
    Fixed(T),
    Path(Path, Str),
    Expr(JExpr),
}

/// Per-state work.
#[derive(Debug)]
pub enum Op {
    /// Pass: `Result` (JSONPath) replaces the effective input.
    Pass {
        result: Option<Value>,
    },
    Task(Box<TaskOp>),
    Choice {
        rules: Box<[ChoiceRule]>,
        default: Option<StateId>,
    },
    Wait(WaitOp),
    Succeed,
    Fail {
        error: Option<FailField>,
        cause: Option<FailField>,
    },
    Parallel {
        branches: Box<[ScopeId]>,
    },
    Map(Box<MapOp>),
}

// One per state, matched on every step: a variant that grows past today's size gets boxed.
const _: () = assert!(std::mem::size_of::<Op>() <= 160);

/// Task fields resolved at compile time.
#[derive(Debug)]
pub struct TaskOp {
    pub resource: Str,
    /// `.waitForTaskToken`: each attempt gets a `$$.Task.Token` and waits for it.
    pub callback: bool,
    pub timeout: Option<Dyn<u64>>,
    pub heartbeat: Option<Dyn<u64>>,
}

/// Wait: one of four sources of time.
#[derive(Debug)]
pub enum WaitOp {
    Seconds(Dyn<i64>),
    Timestamp(Value),
    SecondsPath(Path, Str),
    TimestampPath(Path, Str),
    TimestampExpr(JExpr),
}

/// Fail's `Error`/`Cause`: a literal, a path or intrinsic (`ErrorPath`), or a JSONata expression.
#[derive(Debug)]
pub enum FailField {
    Literal(Str),
    Path(Path, Str),
    Intrinsic(Intrinsic, Str),
    Expr(JExpr),
}

/// Map fields resolved at compile time.
#[derive(Debug)]
pub struct MapOp {
    pub processor: ScopeId,
    pub items_path: Option<Path>,
    pub items: Option<JTemplate>,
    pub item_selector: Option<ItemSelector>,
    pub max_concurrency: Option<Dyn<u64>>,
    pub tolerated_count: Option<Dyn<i64>>,
    pub tolerated_percentage: Option<Dyn<f64>>,
    pub distributed: bool,
    pub batcher: Option<Batcher>,
    pub label: Option<Str>,
    /// `ItemReader`: the items come from S3 (read by the driver) instead of the input.
    pub reader: Option<ReaderOp>,
    /// `ResultWriter`: the iterations' results go to S3 instead of the state's output.
    pub writer: Option<WriterOp>,
}

/// `ItemReader`: the resource, its `Parameters`/`Arguments`, `ReaderConfig` (without its
/// `MaxItems`/`MaxItemsPath`, which are evaluated per run).
#[derive(Debug)]
pub struct ReaderOp {
    pub resource: Str,
    pub parameters: Option<ItemSelector>,
    pub config: Value,
    pub max_items: Option<Dyn<Value>>,
}

/// `ResultWriter`: the resource, its `Parameters`/`Arguments` and `WriterConfig`.
#[derive(Debug)]
pub struct WriterOp {
    pub resource: Option<Str>,
    pub parameters: Option<ItemSelector>,
    pub config: Value,
}

/// `ItemBatcher`: iterations get `{"BatchInput": …, "Items": [...]}` instead of single items.
#[derive(Debug)]
pub struct Batcher {
    pub max_items: Option<Dyn<u64>>,
    pub max_bytes: Option<Dyn<u64>>,
    pub batch_input: Option<ItemSelector>,
}

/// Map's per-item selector (ItemSelector or legacy Parameters).
#[derive(Debug)]
pub enum ItemSelector {
    JsonPath(Template),
    JsonAta(JTemplate),
}

/// A `Retry` entry.
#[derive(Debug)]
pub struct Retrier {
    pub errors: Box<[Str]>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter_full: bool,
}

/// A `Catch` entry.
#[derive(Debug)]
pub struct Catcher {
    pub errors: Box<[Str]>,
    pub next: StateId,
    pub result_path: Option<Option<ReferencePath>>,
    pub output: Option<JTemplate>,
    pub assign: Option<Assign>,
}

/// Validates and compiles definition text in one go.
pub fn compile_text(text: &str) -> Result<Program, Vec<Diagnostic>> {
    let def = definition::load(text)?;
    compile(&def)
}

/// Compiles a validated definition.
pub fn compile(def: &Definition) -> Result<Program, Vec<Diagnostic>> {
    let mut c = Compiler {
        program: Program {
            states: Vec::new(),
            scopes: Vec::new(),
            timeout_seconds: None,
            reads_execution_input: false,
        },
        errors: Vec::new(),
    };
    c.program.timeout_seconds = def.timeout_seconds.as_ref().and_then(|v| v.as_u64());
    let top_ql = def.query_language.unwrap_or(QueryLanguage::JSONPath);
    c.scope(def, top_ql, "");
    c.program.reads_execution_input = c
        .program
        .states
        .iter()
        .any(|s| s.uses_context || matches!(s.op, Op::Task(_) | Op::Map(_)));
    if c.errors.is_empty() {
        Ok(c.program)
    } else {
        Err(c.errors)
    }
}

struct Compiler {
    program: Program,
    errors: Vec<Diagnostic>,
}

/// Converts definition JSON (serde_json, order-preserving) into our value tree.
pub(crate) fn lit(v: &serde_json::Value) -> Value {
    Value::from_serde(v)
}

impl Compiler {
    fn err(&mut self, code: &'static str, loc: &str, msg: impl Into<String>) {
        self.errors.push(Diagnostic::error(code, loc, msg.into()));
    }

    /// Compiles one scope; returns its id. States get ids in definition order.
    fn scope(&mut self, def: &Definition, ql: QueryLanguage, loc: &str) -> ScopeId {
        let scope_id = ScopeId(self.program.scopes.len() as u32);
        let base = self.program.states.len();
        // The one bound check: every id made below is less than this count, which fits.
        if StateId::new(base + def.states.len()).is_none() {
            self.err(
                "SCHEMA_VALIDATION_FAILED",
                &format!("{loc}/States"),
                format!(
                    "Too many states: a definition holds at most {} states",
                    u32::MAX
                ),
            );
            return scope_id;
        }
        let base = base as u32;
        let ids: HashMap<&str, StateId> = def
            .states
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), StateId(base + i as u32)))
            .collect();
        let start = match ids.get(def.start_at.as_str()) {
            Some(id) => *id,
            None => {
                self.err(
                    "MISSING_TRANSITION_TARGET",
                    &format!("{loc}/StartAt"),
                    format!("Missing 'Next' target: {}", def.start_at),
                );
                StateId(base)
            }
        };
        self.program.scopes.push(CScope { start });
        // Reserve the slots so nested scopes compiled below come after this scope's states.
        let placeholder = || CState {
            name: Str::from(""),
            jsonata: false,
            op: Op::Succeed,
            io: Io::JsonAta {
                arguments: None,
                output: None,
            },
            next: None,
            retry: Box::new([]),
            catch: Box::new([]),
            assign: None,
            uses_context: false,
        };
        for _ in 0..def.states.len() {
            self.program.states.push(placeholder());
        }
        for (i, (name, state)) in def.states.iter().enumerate() {
            let sloc = format!("{loc}/States/{name}");
            let compiled = self.state(name, state, ql, &ids, &sloc);
            self.program.states[base as usize + i] = compiled;
        }
        scope_id
    }

    fn target(&mut self, ids: &HashMap<&str, StateId>, name: &str, loc: &str) -> StateId {
        match ids.get(name) {
            Some(id) => *id,
            None => {
                self.err(
                    "MISSING_TRANSITION_TARGET",
                    loc,
                    format!("Missing 'Next' target: {name}"),
                );
                StateId(0)
            }
        }
    }

    fn path(&mut self, text: &str, loc: &str) -> Option<Path> {
        match Path::parse(text) {
            Ok(p) => Some(p),
            Err(e) => {
                self.err(
                    "SCHEMA_VALIDATION_FAILED",
                    loc,
                    format!(
                        "The value for the field '{}' must be a valid JSONPath: {e}",
                        field_of(loc)
                    ),
                );
                None
            }
        }
    }

    fn opt_path(&mut self, text: &Option<Option<String>>, loc: &str) -> Option<Option<Path>> {
        match text {
            None => None,
            Some(None) => Some(None),
            Some(Some(t)) if t == "$" => None,
            Some(Some(t)) => self.path(t, loc).map(Some),
        }
    }

    fn ref_path(
        &mut self,
        text: &Option<Option<String>>,
        loc: &str,
    ) -> Option<Option<ReferencePath>> {
        match text {
            None => None,
            Some(None) => Some(None),
            Some(Some(t)) => match ReferencePath::parse(t) {
                Ok(p) => Some(Some(p)),
                Err(e) => {
                    self.err("SCHEMA_VALIDATION_FAILED", loc, format!("The value for the field 'ResultPath' must be a valid ReferencePath: {e}"));
                    None
                }
            },
        }
    }

    fn template(&mut self, v: &Option<serde_json::Value>, loc: &str) -> Option<Template> {
        let v = v.as_ref()?;
        match Template::compile(&lit(v)) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err("SCHEMA_VALIDATION_FAILED", loc, e.to_string());
                None
            }
        }
    }

    fn jtemplate(
        &mut self,
        v: &Option<serde_json::Value>,
        field: &str,
        loc: &str,
    ) -> Option<JTemplate> {
        let v = v.as_ref()?;
        match JTemplate::compile(v, field) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err("SCHEMA_VALIDATION_FAILED", loc, e);
                None
            }
        }
    }

    fn assign(
        &mut self,
        v: &Option<serde_json::Value>,
        jsonata: bool,
        loc: &str,
    ) -> Option<Assign> {
        if jsonata {
            self.jtemplate(v, "Assign", loc).map(Assign::JsonAta)
        } else {
            self.template(v, loc).map(Assign::JsonPath)
        }
    }

    /// The numeric field `field` of the object at `loc`: a literal or a JSONata expression
    /// (`value`), or a reference path in its `…Path` twin (`path`). Diagnostics point at the
    /// field that was given.
    fn dyn_num<T>(
        &mut self,
        value: Option<&serde_json::Value>,
        path: Option<&str>,
        loc: &str,
        field: &str,
        conv: impl Fn(&serde_json::Value) -> Option<T>,
    ) -> Option<Dyn<T>> {
        if let Some(v) = value {
            let given = match v.as_str() {
                Some(s) => JExpr::parse_wrapped(s).ok().flatten().map(Dyn::Expr),
                None => conv(v).map(Dyn::Fixed),
            };
            if given.is_none() {
                let at = format!("{loc}/{field}");
                self.err(
                    "SCHEMA_VALIDATION_FAILED",
                    &at,
                    format!("Invalid value for the field at {at}"),
                );
            }
            return given;
        }
        let p = path?;
        let parsed = self.path(p, &format!("{loc}/{field}Path"))?;
        Some(Dyn::Path(parsed, Str::from(p)))
    }

    fn state(
        &mut self,
        name: &str,
        s: &State,
        scope_ql: QueryLanguage,
        ids: &HashMap<&str, StateId>,
        loc: &str,
    ) -> CState {
        let jsonata = s.query_language.unwrap_or(scope_ql) == QueryLanguage::JSONata;
        let next = s
            .next
            .as_ref()
            .map(|n| self.target(ids, n, &format!("{loc}/Next")));
        let io = if jsonata {
            Io::JsonAta {
                arguments: self.jtemplate(&s.arguments, "Arguments", &format!("{loc}/Arguments")),
                output: self.jtemplate(&s.output, "Output", &format!("{loc}/Output")),
            }
        } else {
            // Map's legacy `Parameters` is its ItemSelector, not a state-level template.
            let parameters = if s.kind == StateType::Map {
                None
            } else {
                self.template(&s.parameters, &format!("{loc}/Parameters"))
            };
            Io::JsonPath {
                input_path: self.opt_path(&s.input_path, &format!("{loc}/InputPath")),
                parameters,
                result_selector: self
                    .template(&s.result_selector, &format!("{loc}/ResultSelector")),
                result_path: self.ref_path(&s.result_path, &format!("{loc}/ResultPath")),
                output_path: self.opt_path(&s.output_path, &format!("{loc}/OutputPath")),
            }
        };
        let retry = s.retry.iter().flatten().map(retrier).collect();
        let catch = s
            .catch
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| {
                let cloc = format!("{loc}/Catch[{i}]");
                Catcher {
                    errors: c
                        .error_equals
                        .iter()
                        .map(|e| Str::from(e.as_str()))
                        .collect(),
                    next: self.target(ids, &c.next, &format!("{cloc}/Next")),
                    result_path: if jsonata {
                        None
                    } else {
                        self.ref_path(&c.result_path, &format!("{cloc}/ResultPath"))
                    },
                    output: if jsonata {
                        self.jtemplate(&c.output, "Output", &format!("{cloc}/Output"))
                    } else {
                        None
                    },
                    assign: self.assign(&c.assign, jsonata, &format!("{cloc}/Assign")),
                }
            })
            .collect();
        let assign = self.assign(&s.assign, jsonata, &format!("{loc}/Assign"));
        let op = self.op(s, jsonata, scope_ql, ids, loc);
        let text = serde_json::to_string(s).unwrap_or_default();
        let uses_context = text.contains("$$") || text.contains("context");
        CState {
            name: Str::from(name),
            jsonata,
            op,
            io,
            next,
            retry,
            catch,
            assign,
            uses_context,
        }
    }

    fn op(
        &mut self,
        s: &State,
        jsonata: bool,
        scope_ql: QueryLanguage,
        ids: &HashMap<&str, StateId>,
        loc: &str,
    ) -> Op {
        match s.kind {
            StateType::Pass => Op::Pass {
                result: s.result.as_ref().map(lit),
            },
            StateType::Succeed => Op::Succeed,
            StateType::Fail => {
                let field = |c: &mut Compiler,
                             v: &Option<serde_json::Value>,
                             p: &Option<String>,
                             f: &str|
                 -> Option<FailField> {
                    if let Some(v) = v {
                        let text = v.as_str().unwrap_or_default();
                        if jsonata && let Ok(Some(e)) = JExpr::parse_wrapped(text) {
                            return Some(FailField::Expr(e));
                        }
                        return Some(FailField::Literal(Str::from(text)));
                    }
                    let p = p.as_ref()?;
                    if p.starts_with("States.") {
                        return match Intrinsic::parse(p) {
                            Ok(i) => Some(FailField::Intrinsic(i, Str::from(p.as_str()))),
                            Err(e) => {
                                c.err(
                                    "SCHEMA_VALIDATION_FAILED",
                                    &format!("{loc}/{f}"),
                                    e.to_string(),
                                );
                                None
                            }
                        };
                    }
                    c.path(p, &format!("{loc}/{f}"))
                        .map(|x| FailField::Path(x, Str::from(p.as_str())))
                };
                let error = field(self, &s.error, &s.error_path, "ErrorPath");
                let cause = field(self, &s.cause, &s.cause_path, "CausePath");
                Op::Fail { error, cause }
            }
            StateType::Choice => {
                let rules = s
                    .choices
                    .iter()
                    .flatten()
                    .enumerate()
                    .filter_map(|(i, r)| {
                        let rloc = format!("{loc}/Choices[{i}]");
                        let next = r
                            .next
                            .as_ref()
                            .map(|n| self.target(ids, n, &format!("{rloc}/Next")))?;
                        let output = if jsonata {
                            self.jtemplate(&r.output, "Output", &format!("{rloc}/Output"))
                        } else {
                            None
                        };
                        let assign = self.assign(&r.assign, jsonata, &format!("{rloc}/Assign"));
                        match ChoiceRule::compile(r, next, output, assign) {
                            Ok(rule) => Some(rule),
                            Err(e) => {
                                self.err("SCHEMA_VALIDATION_FAILED", &rloc, e);
                                None
                            }
                        }
                    })
                    .collect();
                let default = s
                    .default
                    .as_ref()
                    .map(|d| self.target(ids, d, &format!("{loc}/Default")));
                Op::Choice { rules, default }
            }
            StateType::Wait => {
                let wait = if let Some(v) = &s.seconds {
                    self.dyn_num(Some(v), None, loc, "Seconds", |v| v.as_i64())
                        .map(WaitOp::Seconds)
                } else if let Some(v) = &s.timestamp {
                    match v.as_str().map(JExpr::parse_wrapped) {
                        Some(Ok(Some(e))) if jsonata => Some(WaitOp::TimestampExpr(e)),
                        _ => Some(WaitOp::Timestamp(lit(v))),
                    }
                } else if let Some(p) = &s.seconds_path {
                    self.path(p, &format!("{loc}/SecondsPath"))
                        .map(|x| WaitOp::SecondsPath(x, Str::from(p.as_str())))
                } else if let Some(p) = &s.timestamp_path {
                    self.path(p, &format!("{loc}/TimestampPath"))
                        .map(|x| WaitOp::TimestampPath(x, Str::from(p.as_str())))
                } else {
                    None
                };
                Op::Wait(wait.unwrap_or(WaitOp::Seconds(Dyn::Fixed(0))))
            }
            StateType::Task => Op::Task(Box::new(TaskOp {
                resource: Str::from(s.resource.as_deref().unwrap_or_default()),
                callback: s
                    .resource
                    .as_deref()
                    .is_some_and(|r| r.ends_with(".waitForTaskToken")),
                timeout: self.dyn_num(
                    s.timeout_seconds.as_ref(),
                    s.timeout_seconds_path.as_deref(),
                    loc,
                    "TimeoutSeconds",
                    |v| v.as_u64(),
                ),
                heartbeat: self.dyn_num(
                    s.heartbeat_seconds.as_ref(),
                    s.heartbeat_seconds_path.as_deref(),
                    loc,
                    "HeartbeatSeconds",
                    |v| v.as_u64(),
                ),
            })),
            StateType::Parallel => {
                let ql = if jsonata {
                    QueryLanguage::JSONata
                } else {
                    scope_ql
                };
                let branches = s
                    .branches
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, b)| {
                        self.scope(
                            b,
                            b.query_language.unwrap_or(ql),
                            &format!("{loc}/Branches[{i}]"),
                        )
                    })
                    .collect();
                Op::Parallel { branches }
            }
            StateType::Map => {
                let ql = if jsonata {
                    QueryLanguage::JSONata
                } else {
                    scope_ql
                };
                let (proc_def, ploc) = match (&s.item_processor, &s.iterator) {
                    (Some(p), _) => (p, "ItemProcessor"),
                    (None, Some(p)) => (p, "Iterator"),
                    (None, None) => {
                        self.err(
                            "SCHEMA_VALIDATION_FAILED",
                            loc,
                            "The Map state needs an ItemProcessor",
                        );
                        return Op::Succeed;
                    }
                };
                let distributed = proc_def
                    .processor_config
                    .as_ref()
                    .and_then(|c| c.mode.as_deref())
                    .is_some_and(|m| m == "DISTRIBUTED");
                let processor = self.scope(
                    proc_def,
                    proc_def.query_language.unwrap_or(ql),
                    &format!("{loc}/{ploc}"),
                );
                let selector_src = s.item_selector.as_ref().or(s.parameters.as_ref()).cloned();
                let item_selector = if jsonata {
                    self.jtemplate(
                        &selector_src,
                        "ItemSelector",
                        &format!("{loc}/ItemSelector"),
                    )
                    .map(ItemSelector::JsonAta)
                } else {
                    self.template(&selector_src, &format!("{loc}/ItemSelector"))
                        .map(ItemSelector::JsonPath)
                };
                Op::Map(Box::new(MapOp {
                    processor,
                    items_path: match &s.items_path {
                        Some(p) if !jsonata => self.path(p, &format!("{loc}/ItemsPath")),
                        _ => None,
                    },
                    items: if jsonata {
                        self.jtemplate(&s.items, "Items", &format!("{loc}/Items"))
                    } else {
                        None
                    },
                    item_selector,
                    max_concurrency: self.dyn_num(
                        s.max_concurrency.as_ref(),
                        s.max_concurrency_path.as_deref(),
                        loc,
                        "MaxConcurrency",
                        |v| v.as_u64(),
                    ),
                    tolerated_count: self.dyn_num(
                        s.tolerated_failure_count.as_ref(),
                        s.tolerated_failure_count_path.as_deref(),
                        loc,
                        "ToleratedFailureCount",
                        |v| v.as_i64(),
                    ),
                    tolerated_percentage: self.dyn_num(
                        s.tolerated_failure_percentage.as_ref(),
                        s.tolerated_failure_percentage_path.as_deref(),
                        loc,
                        "ToleratedFailurePercentage",
                        |v| v.as_f64(),
                    ),
                    distributed,
                    batcher: s
                        .item_batcher
                        .as_ref()
                        .map(|b| self.batcher(b, jsonata, &format!("{loc}/ItemBatcher"))),
                    label: s.label.as_deref().map(Str::from),
                    reader: s
                        .item_reader
                        .as_ref()
                        .map(|r| self.reader(r, jsonata, &format!("{loc}/ItemReader"))),
                    writer: s
                        .result_writer
                        .as_ref()
                        .map(|w| self.writer(w, jsonata, &format!("{loc}/ResultWriter"))),
                }))
            }
        }
    }
}

impl Compiler {
    /// `Parameters` (JSONPath) or `Arguments` (JSONata) of an ItemReader or ResultWriter.
    fn payload(&mut self, v: &serde_json::Value, jsonata: bool, loc: &str) -> Option<ItemSelector> {
        if jsonata {
            let args = v.get("Arguments").cloned();
            self.jtemplate(&args, "Arguments", &format!("{loc}/Arguments"))
                .map(ItemSelector::JsonAta)
        } else {
            let params = v.get("Parameters").cloned();
            self.template(&params, &format!("{loc}/Parameters"))
                .map(ItemSelector::JsonPath)
        }
    }

    fn reader(&mut self, r: &serde_json::Value, jsonata: bool, loc: &str) -> ReaderOp {
        let mut config = r
            .get("ReaderConfig")
            .and_then(|c| c.as_object())
            .cloned()
            .unwrap_or_default();
        let max_value = config.shift_remove("MaxItems");
        let max_path = config.shift_remove("MaxItemsPath");
        ReaderOp {
            resource: Str::from(r.get("Resource").and_then(|v| v.as_str()).unwrap_or("")),
            parameters: self.payload(r, jsonata, loc),
            config: lit(&serde_json::Value::Object(config)),
            max_items: self.dyn_num(
                max_value.as_ref(),
                max_path.as_ref().and_then(|p| p.as_str()),
                &format!("{loc}/ReaderConfig"),
                "MaxItems",
                |v| Some(lit(v)),
            ),
        }
    }

    fn writer(&mut self, w: &serde_json::Value, jsonata: bool, loc: &str) -> WriterOp {
        WriterOp {
            resource: w.get("Resource").and_then(|v| v.as_str()).map(Str::from),
            parameters: self.payload(w, jsonata, loc),
            config: w.get("WriterConfig").map(lit).unwrap_or(Value::Null),
        }
    }

    fn batcher(&mut self, b: &serde_json::Value, jsonata: bool, loc: &str) -> Batcher {
        let batch_input = b.get("BatchInput").cloned();
        Batcher {
            max_items: self.dyn_num(
                b.get("MaxItemsPerBatch"),
                b.get("MaxItemsPerBatchPath").and_then(|v| v.as_str()),
                loc,
                "MaxItemsPerBatch",
                |v| v.as_u64(),
            ),
            max_bytes: self.dyn_num(
                b.get("MaxInputBytesPerBatch"),
                b.get("MaxInputBytesPerBatchPath").and_then(|v| v.as_str()),
                loc,
                "MaxInputBytesPerBatch",
                |v| v.as_u64(),
            ),
            batch_input: if jsonata {
                self.jtemplate(&batch_input, "BatchInput", &format!("{loc}/BatchInput"))
                    .map(ItemSelector::JsonAta)
            } else {
                self.template(&batch_input, &format!("{loc}/BatchInput"))
                    .map(ItemSelector::JsonPath)
            },
        }
    }
}

fn retrier(r: &definition::Retrier) -> Retrier {
    Retrier {
        errors: r
            .error_equals
            .iter()
            .map(|e| Str::from(e.as_str()))
            .collect(),
        interval_seconds: r
            .interval_seconds
            .as_ref()
            .and_then(|v| v.as_f64())
            .unwrap_or(1.0),
        max_attempts: r
            .max_attempts
            .as_ref()
            .and_then(|v| v.as_u64())
            .map_or(3, |n| n.min(u32::MAX as u64) as u32),
        backoff_rate: r
            .backoff_rate
            .as_ref()
            .and_then(|v| v.as_f64())
            .unwrap_or(2.0),
        max_delay_seconds: r.max_delay_seconds.as_ref().and_then(|v| v.as_f64()),
        jitter_full: r.jitter_strategy.as_deref() == Some("FULL"),
    }
}

/// The last segment of a location, e.g. `InputPath` of `/States/A/InputPath`.
fn field_of(loc: &str) -> &str {
    loc.rsplit('/').next().unwrap_or(loc)
}
