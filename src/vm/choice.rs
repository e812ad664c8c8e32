//! Choice: evaluate the rules in order on the state's input.

use super::data::Frame;
use super::jsonata_eval;
use super::{ErrorName, Execution, Flow, StatesError, time};
use crate::compile::{ChoiceRule, Comparison, Cond, Operand, Operator, StateId};
use crate::expr::Scope;
use crate::value::{Number, Value};
use std::cmp::Ordering;

/// Choice: first matching rule wins, else Default, else `States.NoChoiceMatched`.
pub(super) fn run(
    exec: &mut Execution,
    f: &Frame,
    rules: &[ChoiceRule],
    default: Option<StateId>,
) -> Flow {
    let (input, ctx) = match f.choice_input(exec) {
        Ok(x) => x,
        Err(e) => return Flow::Fail(e),
    };
    let mut matched = None;
    for rule in rules {
        match eval(exec, f, &rule.cond, &input, &ctx) {
            Ok(true) => {
                matched = Some(rule);
                break;
            }
            Ok(false) => {}
            Err(e) => return Flow::Fail(e),
        }
    }
    let next = match (matched, default) {
        (Some(r), _) => r.next,
        (None, Some(d)) => d,
        (None, None) => {
            return Flow::Fail(StatesError::new(
                ErrorName::NO_CHOICE_MATCHED,
                "No Matches!",
            ));
        }
    };
    let output = f.choice_output(
        exec,
        &input,
        &ctx,
        matched.and_then(|r| r.output.as_ref()),
        matched.and_then(|r| r.assign.as_ref()),
    );
    match output {
        Ok((out, bound)) => match exec.commit(&f.state.name, &out, bound, f.take_assigned()) {
            Ok(()) => Flow::Next(next, out),
            Err(e) => Flow::Fail(e),
        },
        Err(e) => Flow::Fail(e),
    }
}

fn eval(
    exec: &Execution,
    f: &Frame,
    cond: &Cond,
    input: &Value,
    ctx: &Value,
) -> Result<bool, StatesError> {
    match cond {
        Cond::And(all) => {
            for c in all.iter() {
                if !eval(exec, f, c, input, ctx)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Cond::Or(any) => {
            for c in any.iter() {
                if eval(exec, f, c, input, ctx)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Cond::Not(c) => Ok(!eval(exec, f, c, input, ctx)?),
        Cond::Jsonata(e) => {
            let states = f.jsonata_states(exec, ctx.clone());
            match jsonata_eval::expr(e, &states) {
                Ok(Value::Bool(b)) => Ok(b),
                Ok(v) => Err(f.fail_jsonata(
                    exec,
                    jsonata_eval::Failure(
                        ErrorName::QUERY_EVALUATION_ERROR.into(),
                        format!(
                            "The JSONata expression '{}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
                            e.src,
                            v.type_name(),
                            v.to_json()
                        ),
                    ),
                )),
                Err(d) => Err(f.fail_jsonata(exec, d)),
            }
        }
        Cond::Compare(c) => compare(exec, f, c, &f.scope_for(exec, input, ctx)),
    }
}

fn compare(
    exec: &Execution,
    f: &Frame,
    c: &Comparison,
    scope: &Scope,
) -> Result<bool, StatesError> {
    if c.operator == Operator::IsPresent {
        let present = c.variable.is_present(scope);
        return Ok(present == matches!(c.operand, Operand::Literal(Value::Bool(true))));
    }
    let var = c.variable.select(scope);
    let var = var.map_err(|e| {
        f.runtime_error(exec, &format!("Invalid path '{}' : {}", c.variable_text, e))
    })?;
    let operand = match &c.operand {
        Operand::Literal(v) => v.clone(),
        Operand::Path(p, text) => p
            .select(scope)
            .map_err(|e| f.runtime_error(exec, &format!("Invalid path '{text}' : {e}")))?,
    };
    let flag = |b: bool| matches!(operand, Value::Bool(x) if x == b);
    use Operator::*;
    Ok(match c.operator {
        IsNull => flag(var.is_null()),
        IsNumeric => flag(matches!(var, Value::Number(_))),
        IsString => flag(matches!(var, Value::String(_))),
        IsBoolean => flag(matches!(var, Value::Bool(_))),
        IsTimestamp => flag(var.as_str().and_then(time::parse_timestamp).is_some()),
        IsPresent => unreachable!("handled above"),
        StringEquals
        | StringLessThan
        | StringGreaterThan
        | StringLessThanEquals
        | StringGreaterThanEquals => match (var.as_str(), operand.as_str()) {
            (Some(a), Some(b)) => ordered(c.operator, a.cmp(b)),
            _ => false,
        },
        StringMatches => match (var.as_str(), operand.as_str()) {
            (Some(a), Some(p)) => string_matches(a, p),
            _ => false,
        },
        NumericEquals
        | NumericLessThan
        | NumericGreaterThan
        | NumericLessThanEquals
        | NumericGreaterThanEquals => match (var.as_number(), operand.as_number()) {
            (Some(a), Some(b)) => num_cmp(a, b).is_some_and(|o| ordered(c.operator, o)),
            _ => false,
        },
        BooleanEquals => matches!((&var, &operand), (Value::Bool(a), Value::Bool(b)) if a == b),
        TimestampEquals
        | TimestampLessThan
        | TimestampGreaterThan
        | TimestampLessThanEquals
        | TimestampGreaterThanEquals => {
            match (
                var.as_str().and_then(time::parse_timestamp),
                operand.as_str().and_then(time::parse_timestamp),
            ) {
                (Some(a), Some(b)) => ordered(c.operator, a.cmp(&b)),
                _ => false,
            }
        }
    })
}

fn num_cmp(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => Some(x.cmp(&y)),
        _ => a.as_f64().partial_cmp(&b.as_f64()),
    }
}

fn ordered(op: Operator, o: Ordering) -> bool {
    use Operator::*;
    match op {
        StringEquals | NumericEquals | TimestampEquals => o == Ordering::Equal,
        StringLessThan | NumericLessThan | TimestampLessThan => o == Ordering::Less,
        StringGreaterThan | NumericGreaterThan | TimestampGreaterThan => o == Ordering::Greater,
        StringLessThanEquals | NumericLessThanEquals | TimestampLessThanEquals => {
            o != Ordering::Greater
        }
        StringGreaterThanEquals | NumericGreaterThanEquals | TimestampGreaterThanEquals => {
            o != Ordering::Less
        }
        _ => false,
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal (and `\` before
/// any other character, or at the end, stands for that character, or itself).
///
/// Linear in `text` and `pattern`: the literal runs between stars are found in order, each at its
/// first occurrence (the leftmost is always the best choice), by `str::find`'s two-way search. The
/// backtracking matcher this replaces took 14 s on one 256 KiB input (issue 11, defect 6).
pub(super) fn string_matches(text: &str, pattern: &str) -> bool {
    // The literal runs between stars: `a*b*c` gives ["a", "b", "c"]; `*` gives ["", ""].
    let mut runs: Vec<String> = vec![String::new()];
    let mut chars = pattern.chars();
    while let Some(ch) = chars.next() {
        let run = runs.last_mut().expect("runs starts non-empty");
        match ch {
            '\\' => run.push(chars.next().unwrap_or('\\')),
            '*' => runs.push(String::new()),
            c => run.push(c),
        }
    }
    let (first, rest) = runs.split_first().expect("runs starts non-empty");
    let Some((last, middle)) = rest.split_last() else {
        return text == first;
    };
    if text.len() < first.len() + last.len()
        || !text.starts_with(first.as_str())
        || !text.ends_with(last.as_str())
    {
        return false;
    }
    let mut free = &text[first.len()..text.len() - last.len()];
    for run in middle {
        match free.find(run.as_str()) {
            Some(at) => free = &free[at + run.len()..],
            None => return false,
        }
    }
    true
}
