//! The typed definition: what validation accepted, as one enum per state type.
//!
//! In: a definition `validate` accepted (built by `lower`). Out, to `crate::compile`: a `Machine`
//! whose scopes hold their states in definition order, each a `StateNode` with a `StateDef`
//! (`Pass`, `Task`, `Choice`, `Wait`, `Succeed`, `Fail`, `Parallel`, `Map`) and with every
//! JSONPath, reference path, payload template, intrinsic call, JSONata expression and Choice rule
//! already parsed. Transitions are resolved to positions; only ids across scopes are left to
//! `compile`. Nothing here executes.

mod choice;
mod jsonata;
mod lower;

pub use choice::{ChoiceRule, Comparison, Cond, Operand, Operator};
pub use jsonata::{JExpr, JTemplate};
pub(crate) use lower::lower;

use crate::expr::{Intrinsic, Path, ReferencePath, Template};
use crate::value::{Str, Value};

/// A state's position. In a `Machine`, counted from the first state of its own scope (a
/// transition never leaves its scope); in a `compile::Program`, from the program's first state.
/// `u32` keeps the tables small; `compile::compile_text` checks the bound once for the whole
/// definition (`StateId::new`), so ids made below it cannot wrap.
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

/// A whole typed state machine.
#[derive(Debug)]
pub struct Machine {
    /// Top-level `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    /// The top-level `StartAt`/`States`.
    pub root: ScopeDef,
}

/// A `StartAt`/`States` pair: the top level, a Parallel branch or a Map item processor.
#[derive(Debug)]
pub struct ScopeDef {
    /// `StartAt`, as a position in `states`.
    pub start: StateId,
    /// The states in definition order.
    pub states: Vec<StateNode>,
}

/// One state: the fields every type shares, and its type's own (`def`). In a `Machine`, `def`
/// holds its nested scopes; `compile::CState` is the same state with them laid out as ids.
#[derive(Debug)]
pub struct StateNode<D = StateDef> {
    pub name: Str,
    /// Whether the state's effective query language is JSONata.
    pub jsonata: bool,
    pub def: D,
    pub io: Io,
    /// `Next`, as a position in the state's scope.
    pub next: Option<StateId>,
    pub retry: Box<[Retrier]>,
    pub catch: Box<[Catcher]>,
    /// `Assign`, in either query language.
    pub assign: Option<Assign>,
    /// Whether anything in the state reads the context object (`$$`, `$states.context`).
    pub uses_context: bool,
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

/// What a state of each of the eight types does, beyond the fields every state shares
/// (`StateNode`). `S` is how a nested scope is held: the scope itself (`ScopeDef`) in a
/// definition, its `ScopeId` in a compiled program (`compile::Op`).
#[derive(Debug)]
pub enum StateDef<S = ScopeDef> {
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
        branches: Box<[S]>,
    },
    Map(Box<MapOp<S>>),
}

/// Task's fields, parsed.
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

/// Map's fields, parsed; `S` as in `StateDef`.
#[derive(Debug)]
pub struct MapOp<S = ScopeDef> {
    pub processor: S,
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
