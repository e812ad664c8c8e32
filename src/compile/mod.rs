//! Laying a typed definition out as an immutable `Program`.
//!
//! In: `definition::typed::Machine` (validated, every path, template, intrinsic call, JSONata
//! expression and Choice rule already parsed). Out: `Program`: every state of every scope (the
//! top level, each Parallel branch, each Map processor) in one flat array, scopes and
//! transitions as ids into it. This stage only assigns ids and builds the tables: it reports
//! nothing and cannot fail (the definition's size limit keeps the ids within `u32`). Nothing
//! here executes.

pub use crate::definition::typed::{
    Assign, Batcher, Catcher, ChoiceRule, Comparison, Cond, Dyn, FailField, Io, ItemSelector,
    JExpr, JTemplate, Operand, Operator, ReaderOp, Retrier, StateId, TaskOp, WaitOp, WriterOp,
};

use crate::definition::typed::{Machine, ScopeDef, StateDef, StateNode};
use crate::definition::{self, Diagnostic};
use crate::value::Str;

/// Per-state work: a `StateDef` whose nested scopes are ids into `Program::scopes`.
pub type Op = StateDef<ScopeId>;

/// Map's fields, its item processor an id into `Program::scopes`.
pub type MapOp = crate::definition::typed::MapOp<ScopeId>;

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

/// One compiled state: its nested scopes are ids into `Program::scopes`.
pub type CState = StateNode<Op>;

impl StateNode<Op> {
    /// Whether `$$.State.RetryCount` exists for this state (states that can retry).
    pub fn has_retry_count(&self) -> bool {
        matches!(self.def, Op::Task(_))
    }
}

/// Validates and compiles definition text in one go.
pub fn compile_text(text: &str) -> Result<Program, Vec<Diagnostic>> {
    let machine = definition::load_machine(text)?;
    // The one bound check: every id `compile` makes is less than this count, which fits.
    if StateId::new(state_count(&machine.root)).is_none() {
        return Err(vec![Diagnostic::error(
            definition::codes::SCHEMA_VALIDATION_FAILED,
            "/States",
            format!(
                "Too many states: a definition holds at most {} states",
                u32::MAX
            ),
        )]);
    }
    Ok(compile(machine))
}

/// How many states a scope holds, with those of the scopes nested in it.
fn state_count(scope: &ScopeDef) -> usize {
    scope.states.len()
        + scope
            .states
            .iter()
            .map(|node| match &node.def {
                StateDef::Parallel { branches } => branches.iter().map(state_count).sum(),
                StateDef::Map(map) => state_count(&map.processor),
                _ => 0,
            })
            .sum::<usize>()
}

/// Lays out a typed definition: ids for its states (in definition order, each scope's states
/// before those of the scopes nested in them) and scopes.
pub fn compile(def: Machine) -> Program {
    let mut program = Program {
        states: Vec::new(),
        scopes: Vec::new(),
        timeout_seconds: def.timeout_seconds,
        reads_execution_input: false,
    };
    scope(&mut program, def.root);
    program.reads_execution_input = program
        .states
        .iter()
        .any(|s| s.uses_context || matches!(s.def, Op::Task(_) | Op::Map(_)));
    program
}

/// Adds one scope and, after its states, the scopes nested in them; returns its id.
fn scope(program: &mut Program, def: ScopeDef) -> ScopeId {
    let scope_id = ScopeId(program.scopes.len() as u32);
    let base = program.states.len() as u32;
    program.scopes.push(CScope {
        start: rebase(def.start, base),
    });
    // Reserve the slots so nested scopes laid out below come after this scope's states.
    let placeholder = || CState {
        name: Str::from(""),
        jsonata: false,
        def: Op::Succeed,
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
    program
        .states
        .extend(std::iter::repeat_with(placeholder).take(def.states.len()));
    for (i, node) in def.states.into_iter().enumerate() {
        let state = state(program, node, base);
        program.states[base as usize + i] = state;
    }
    scope_id
}

/// A scope-local position as a program-wide id.
fn rebase(local: StateId, base: u32) -> StateId {
    StateId(base + local.0)
}

fn state(program: &mut Program, node: StateNode, base: u32) -> CState {
    let StateNode {
        name,
        jsonata,
        def,
        io,
        next,
        retry,
        mut catch,
        assign,
        uses_context,
    } = node;
    for c in catch.iter_mut() {
        c.next = rebase(c.next, base);
    }
    let op = match def {
        StateDef::Pass { result } => Op::Pass { result },
        StateDef::Task(t) => Op::Task(t),
        StateDef::Choice { mut rules, default } => {
            for r in rules.iter_mut() {
                r.next = rebase(r.next, base);
            }
            Op::Choice {
                rules,
                default: default.map(|d| rebase(d, base)),
            }
        }
        StateDef::Wait(w) => Op::Wait(w),
        StateDef::Succeed => Op::Succeed,
        StateDef::Fail { error, cause } => Op::Fail { error, cause },
        StateDef::Parallel { branches } => Op::Parallel {
            branches: branches
                .into_vec()
                .into_iter()
                .map(|b| scope(program, b))
                .collect(),
        },
        StateDef::Map(m) => {
            let m = *m;
            Op::Map(Box::new(MapOp {
                processor: scope(program, m.processor),
                items_path: m.items_path,
                items: m.items,
                item_selector: m.item_selector,
                max_concurrency: m.max_concurrency,
                tolerated_count: m.tolerated_count,
                tolerated_percentage: m.tolerated_percentage,
                distributed: m.distributed,
                batcher: m.batcher,
                label: m.label,
                reader: m.reader,
                writer: m.writer,
            }))
        }
    };
    CState {
        name,
        jsonata,
        def: op,
        io,
        next: next.map(|n| rebase(n, base)),
        retry,
        catch,
        assign,
        uses_context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions in a `Machine` count from their own scope; `compile` makes them program-wide,
    /// each scope's states before those of the scopes nested in them.
    #[test]
    fn nested_transitions_become_program_ids() {
        let text = r#"{"StartAt":"P","States":{
            "P":{"Type":"Parallel","Next":"E","Branches":[{"StartAt":"C","States":{
                "C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"Y"}],"Default":"N"},
                "Y":{"Type":"Succeed"},"N":{"Type":"Succeed"}}}]},
            "E":{"Type":"Succeed"}}}"#;
        let machine = definition::load_machine(text).expect("the definition is valid");
        let StateDef::Parallel { branches } = &machine.root.states[0].def else {
            panic!("P is a Parallel state");
        };
        let StateDef::Choice { rules, default } = &branches[0].states[0].def else {
            panic!("C is a Choice state");
        };
        assert_eq!((rules[0].next, *default), (StateId(1), Some(StateId(2))));

        let program = compile(machine);
        let names: Vec<&str> = program.states.iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["P", "E", "C", "Y", "N"]);
        assert_eq!(program.states[0].next, Some(StateId(1)));
        assert_eq!(program.scopes[1].start, StateId(2));
        let Op::Parallel { branches } = &program.states[0].def else {
            panic!("P is a Parallel state");
        };
        assert_eq!(&branches[..], [ScopeId(1)]);
        let Op::Choice { rules, default } = &program.states[2].def else {
            panic!("C is a Choice state");
        };
        assert_eq!((rules[0].next, *default), (StateId(3), Some(StateId(4))));
    }
}
