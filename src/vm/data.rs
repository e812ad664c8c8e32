//! The data flow of one state: InputPath → Parameters → (work) → ResultSelector → ResultPath →
//! OutputPath in JSONPath states, Arguments → (work) → Output/Assign in JSONata states, and the
//! context object. AWS's cause texts for every failure on the way.

use super::jsonata_eval::{self, States};
use super::limits::{self, Assigned, UNKNOWN, path_bound, result_path_bound};
use super::{Execution, StatesError, prefix, time};
use crate::compile::{Assign, CState, Catcher, Dyn, FailField, Io, ItemSelector, MapOp, WaitOp};
use crate::expr::{EvalError, Path, Scope};
use crate::value::{Map, Str, Value};
use std::cell::RefCell;
use std::time::{Duration, SystemTime};

/// What a state's input became when its result was grafted into it in place, and how to undo
/// that.
pub(super) struct Restore {
    grafted: Value,
    undo: crate::expr::Undo,
}

/// Borrowed view of one state while its data flows.
pub(super) struct Frame<'p> {
    pub state: &'p CState,
    /// Variables assigned by this state, committed after its output is computed.
    assigned: RefCell<Option<Assigned>>,
}

impl<'p> Frame<'p> {
    /// A view of `state` with nothing assigned yet; each step takes the execution it reads.
    pub fn new(state: &'p CState) -> Frame<'p> {
        Frame {
            state,
            assigned: RefCell::new(None),
        }
    }

    pub fn take_assigned(&self) -> Option<Assigned> {
        self.assigned.borrow_mut().take()
    }

    pub(super) fn fail(&self, exec: &Execution, error: &str, detail: &str) -> StatesError {
        StatesError::new(error, prefix(&self.state.name, exec.entered_event, detail))
    }

    pub(super) fn runtime(&self, exec: &Execution, detail: &str) -> StatesError {
        self.fail(exec, super::ErrorName::RUNTIME, detail)
    }

    pub(super) fn eval_err(&self, exec: &Execution, e: EvalError) -> StatesError {
        self.fail(exec, e.error, &e.detail)
    }

    /// The context object `$$` as an Express execution shows it.
    pub fn context(&self, exec: &Execution, with_retry: bool) -> Value {
        self.context_with_item(exec, with_retry, None)
    }

    pub(super) fn context_with_item(
        &self,
        exec: &Execution,
        with_retry: bool,
        item: Option<(i64, &Value)>,
    ) -> Value {
        let (execution, state_machine) = exec.info.context_parts.get_or_init(|| {
            let info = &exec.info;
            let mut e = Map::with_capacity(6);
            e.insert(Str::from("Id"), Value::String(info.execution_arn.clone()));
            e.insert(Str::from("Input"), info.input.clone());
            e.insert(
                Str::from("StartTime"),
                Value::from(time::iso_millis(info.start_time)),
            );
            e.insert(Str::from("Name"), Value::String(info.name.clone()));
            e.insert(Str::from("RoleArn"), Value::String(info.role_arn.clone()));
            // Recorded answers: StartExecution shows RedriveCount (Express too),
            // StartSyncExecution not.
            if let Some(n) = info.redrive_count {
                e.insert(Str::from("RedriveCount"), Value::int(n as i64));
            }
            let mut sm = Map::with_capacity(2);
            sm.insert(
                Str::from("Id"),
                Value::String(info.state_machine_arn.clone()),
            );
            sm.insert(
                Str::from("Name"),
                Value::String(info.state_machine_name.clone()),
            );
            (Value::object(e), Value::object(sm))
        });
        let mut st = Map::with_capacity(3);
        st.insert(Str::from("Name"), Value::String(self.state.name.clone()));
        st.insert(
            Str::from("EnteredTime"),
            Value::from(time::iso_millis(exec.entered_time)),
        );
        if with_retry {
            st.insert(Str::from("RetryCount"), Value::int(exec.retry_count as i64));
        }
        let mut ctx = Map::with_capacity(4);
        ctx.insert(Str::from("Execution"), execution.clone());
        ctx.insert(Str::from("StateMachine"), state_machine.clone());
        ctx.insert(Str::from("State"), Value::object(st));
        if let Some(token) = &exec.task_token {
            let mut task = Map::with_capacity(1);
            task.insert(Str::from("Token"), Value::String(token.clone()));
            ctx.insert(Str::from("Task"), Value::object(task));
        }
        if let Some((index, value)) = item {
            let mut it = Map::with_capacity(2);
            it.insert(Str::from("Index"), Value::int(index));
            it.insert(Str::from("Value"), value.clone());
            let mut m = Map::with_capacity(1);
            m.insert(Str::from("Item"), Value::object(it));
            ctx.insert(Str::from("Map"), Value::object(m));
        }
        Value::object(ctx)
    }

    pub(super) fn scope<'a>(
        &self,
        exec: &'a Execution,
        input: &'a Value,
        ctx: &'a Value,
    ) -> Scope<'a> {
        Scope {
            input,
            context: ctx,
            vars: &exec.vars,
        }
    }

    /// Context only for states that mention it; others get `null` (no allocation).
    pub(super) fn ctx(&self, exec: &Execution) -> Value {
        if self.state.uses_context {
            self.context(exec, self.state.has_retry_count())
        } else {
            Value::Null
        }
    }

    /// `InputPath`/`OutputPath`: `$` → identity, null → `{}`, else a path selection.
    fn apply_path(
        &self,
        exec: &Execution,
        path: &Option<Option<Path>>,
        input: &Value,
        ctx: &Value,
    ) -> Result<Value, StatesError> {
        match path {
            None => Ok(input.clone()),
            Some(None) => Ok(Value::empty_object()),
            Some(Some(p)) => p
                .select(&self.scope(exec, input, ctx))
                .map_err(|e| self.runtime(exec, &format!("Invalid path '{}' : {}", p.text(), e))),
        }
    }

    /// The effective input and a bound on its size: InputPath then Parameters (JSONPath), or
    /// Arguments (JSONata). What a template built must fit the payload quota.
    pub fn effective_input(&self, exec: &Execution) -> Result<(Value, usize), StatesError> {
        let ctx = self.ctx(exec);
        let built = match &self.state.io {
            Io::JsonPath {
                input_path,
                parameters,
                ..
            } => {
                let v = self.apply_path(exec, input_path, &exec.input, &ctx)?;
                let bound = path_bound(input_path, exec.input_bound);
                match parameters {
                    Some(t) => {
                        let built = t
                            .eval(&self.scope(exec, &v, &ctx))
                            .map_err(|e| self.eval_err(exec, e))?;
                        // A template's size is bounded from the input's, so small payloads
                        // need no walk (w1: two of its seven templates; no change measurable in
                        // its 91 k instructions per execution).
                        if let Some(b) = t.size_bound(bound)
                            && b <= exec.info.limits.payload_bytes
                        {
                            return Ok((built, b));
                        }
                        built
                    }
                    None => return Ok((v, bound)),
                }
            }
            Io::JsonAta { arguments, .. } => match arguments {
                Some(t) => jsonata_eval::template(t, &States::new(exec, &exec.input, ctx), None)
                    .map_err(|d| self.fail(exec, &d.0, &d.1))?,
                None => return Ok((exec.input.clone(), exec.input_bound)),
            },
        };
        match exec.measure(&built, exec.info.limits.payload_bytes) {
            Some(size) => Ok((built, size)),
            None => Err(limits::too_big(&self.state.name)),
        }
    }

    /// The result (its size bounded by `bound`) becomes the state output, returned with a
    /// bound on its size (and variables are computed). `input` is the state's input, moved
    /// out of the execution: a ResultPath grafts the result into it in place, and then the
    /// returned [`Restore`] gives it back as it was if the state fails after all.
    pub fn output_from_result(
        &self,
        exec: &Execution,
        input: &mut Value,
        result: Value,
        bound: usize,
        selector: bool,
    ) -> Result<(Value, usize, Option<Restore>), StatesError> {
        let ctx = self.ctx(exec);
        match &self.state.io {
            Io::JsonPath {
                result_selector,
                result_path,
                output_path,
                ..
            } => {
                let (result, bound) = match result_selector {
                    Some(t) if selector => {
                        let r = t
                            .eval(&self.scope(exec, &result, &ctx))
                            .map_err(|e| self.eval_err(exec, e))?;
                        let limit = exec.info.limits.payload_bytes;
                        let b = exec.measure(&r, limit).unwrap_or(UNKNOWN);
                        (r, b)
                    }
                    _ => (result, bound),
                };
                self.assign_jsonpath(exec, &result, &ctx)?;
                let (combined, restore) = match result_path {
                    None => (result, None),
                    Some(None) => (input.clone(), None),
                    Some(Some(rp)) => match rp.graft(std::mem::take(input), result) {
                        Ok((combined, undo)) => {
                            let restore = Restore {
                                grafted: combined.clone(),
                                undo,
                            };
                            (combined, Some(restore))
                        }
                        Err((e, unchanged)) => {
                            *input = unchanged;
                            let detail = format!("Invalid path '{}' : {}", rp.text(), e);
                            return Err(self.runtime(exec, &detail));
                        }
                    },
                };
                let bound = result_path_bound(result_path, exec.input_bound, bound);
                match self.apply_path(exec, output_path, &combined, &ctx) {
                    Ok(out) => Ok((out, path_bound(output_path, bound), restore)),
                    Err(e) => {
                        drop(combined);
                        if let Some(r) = restore {
                            *input = self.restore_input(r);
                        }
                        Err(e)
                    }
                }
            }
            Io::JsonAta { output, .. } => {
                let states = States::new(exec, input, ctx).with_result(result.clone());
                self.assign_jsonata(exec, &states)?;
                match output {
                    Some(t) => jsonata_eval::template(t, &states, None)
                        .map(|v| (v, UNKNOWN, None))
                        .map_err(|d| self.fail(exec, &d.0, &d.1)),
                    None => Ok((result, bound, None)),
                }
            }
        }
    }

    /// The input as it was before `output_from_result` grafted the result into it.
    pub fn restore_input(&self, r: Restore) -> Value {
        match &self.state.io {
            Io::JsonPath {
                result_path: Some(Some(rp)),
                ..
            } => rp.undo(r.grafted, r.undo),
            _ => unreachable!("only a ResultPath grafts"),
        }
    }

    fn apply_result_path(
        &self,
        exec: &Execution,
        result_path: &Option<Option<crate::expr::ReferencePath>>,
        result: Value,
    ) -> Result<Value, StatesError> {
        match result_path {
            None => Ok(result),
            Some(None) => Ok(exec.input.clone()),
            Some(Some(rp)) => rp
                .set(&exec.input, result)
                .map_err(|e| self.runtime(exec, &format!("Invalid path '{}' : {}", rp.text(), e))),
        }
    }

    fn assign_jsonpath(
        &self,
        exec: &Execution,
        result: &Value,
        ctx: &Value,
    ) -> Result<(), StatesError> {
        if let Some(Assign::JsonPath(t)) = &self.state.assign {
            let v = t
                .eval(&self.scope(exec, result, ctx))
                .map_err(|e| self.eval_err(exec, e))?;
            self.store(exec, v)?;
        }
        Ok(())
    }

    fn assign_jsonata(&self, exec: &Execution, states: &States) -> Result<(), StatesError> {
        if let Some(Assign::JsonAta(t)) = &self.state.assign {
            let v =
                jsonata_eval::template(t, states, None).map_err(|d| self.fail(exec, &d.0, &d.1))?;
            self.store(exec, v)?;
        }
        Ok(())
    }

    /// Keeps the values of one `Assign` field for the commit, each measured against the
    /// variable quotas.
    pub(super) fn store(&self, exec: &Execution, v: Value) -> Result<(), StatesError> {
        if let Value::Object(o) = v {
            let mut slot = self.assigned.borrow_mut();
            let assigned = slot.get_or_insert_with(Assigned::default);
            assigned.add(&exec.info.limits, &self.state.name, &o)?;
        }
        Ok(())
    }

    /// Output of states without a result (Wait, Succeed): the input, filtered, with a bound
    /// on its size.
    pub fn passthrough_output(&self, exec: &Execution) -> Result<(Value, usize), StatesError> {
        let ctx = self.ctx(exec);
        match &self.state.io {
            Io::JsonPath {
                input_path,
                output_path,
                ..
            } => {
                let v = self.apply_path(exec, input_path, &exec.input, &ctx)?;
                self.assign_jsonpath(exec, &v, &ctx)?;
                let out = self.apply_path(exec, output_path, &v, &ctx)?;
                let bound = path_bound(input_path, exec.input_bound);
                Ok((out, path_bound(output_path, bound)))
            }
            Io::JsonAta { output, .. } => {
                let states = States::new(exec, &exec.input, ctx);
                self.assign_jsonata(exec, &states)?;
                match output {
                    Some(t) => jsonata_eval::template(t, &states, None)
                        .map(|v| (v, UNKNOWN))
                        .map_err(|d| self.fail(exec, &d.0, &d.1)),
                    None => Ok((exec.input.clone(), exec.input_bound)),
                }
            }
        }
    }

    /// The input a Choice rule sees (after InputPath).
    pub fn choice_input(&self, exec: &Execution) -> Result<(Value, Value), StatesError> {
        let ctx = self.ctx(exec);
        match &self.state.io {
            Io::JsonPath { input_path, .. } => {
                Ok((self.apply_path(exec, input_path, &exec.input, &ctx)?, ctx))
            }
            Io::JsonAta { .. } => Ok((exec.input.clone(), ctx)),
        }
    }

    /// Choice output and a bound on its size: OutputPath over the (InputPath-filtered) input,
    /// or the matched rule's or the state's Output/Assign in JSONata.
    pub fn choice_output(
        &self,
        exec: &Execution,
        input: &Value,
        ctx: &Value,
        rule_output: Option<&crate::compile::JTemplate>,
        rule_assign: Option<&Assign>,
    ) -> Result<(Value, usize), StatesError> {
        match &self.state.io {
            Io::JsonPath {
                input_path,
                output_path,
                ..
            } => {
                for a in [rule_assign, self.state.assign.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    if let Assign::JsonPath(t) = a {
                        let v = t
                            .eval(&self.scope(exec, input, ctx))
                            .map_err(|e| self.eval_err(exec, e))?;
                        self.store(exec, v)?;
                    }
                }
                let out = self.apply_path(exec, output_path, input, ctx)?;
                let bound = path_bound(input_path, exec.input_bound);
                Ok((out, path_bound(output_path, bound)))
            }
            Io::JsonAta { output, .. } => {
                let states = States::new(exec, &exec.input, ctx.clone());
                for a in [self.state.assign.as_ref(), rule_assign]
                    .into_iter()
                    .flatten()
                {
                    if let Assign::JsonAta(t) = a {
                        let v = jsonata_eval::template(t, &states, None)
                            .map_err(|d| self.fail(exec, &d.0, &d.1))?;
                        self.store(exec, v)?;
                    }
                }
                match rule_output.or(output.as_ref()) {
                    Some(t) => jsonata_eval::template(t, &states, None)
                        .map(|v| (v, UNKNOWN))
                        .map_err(|d| self.fail(exec, &d.0, &d.1)),
                    None => Ok((exec.input.clone(), exec.input_bound)),
                }
            }
        }
    }

    pub fn jsonata_states<'e>(&self, exec: &'e Execution, ctx: Value) -> States<'e> {
        States::new(exec, &exec.input, ctx)
    }

    pub fn fail_jsonata(&self, exec: &Execution, d: jsonata_eval::Failure) -> StatesError {
        self.fail(exec, &d.0, &d.1)
    }

    pub fn runtime_error(&self, exec: &Execution, detail: &str) -> StatesError {
        self.runtime(exec, detail)
    }

    pub fn scope_for<'a>(
        &self,
        exec: &'a Execution,
        input: &'a Value,
        ctx: &'a Value,
    ) -> Scope<'a> {
        self.scope(exec, input, ctx)
    }

    /// Error output of a Catch: ResultPath over the raw input (JSONPath) or Output (JSONata),
    /// with a bound on its size, and the variables the catcher assigns.
    pub fn catch_output(
        &self,
        exec: &Execution,
        c: &Catcher,
        error_output: Value,
    ) -> Result<(Value, usize, Option<Assigned>), StatesError> {
        let limit = exec.info.limits.payload_bytes;
        let error_bound = exec.measure(&error_output, limit).unwrap_or(UNKNOWN);
        let ctx = self.ctx(exec);
        if self.state.jsonata {
            let states =
                States::new(exec, &exec.input, ctx).with_error_output(error_output.clone());
            if let Some(Assign::JsonAta(t)) = &c.assign {
                let v = jsonata_eval::template(t, &states, None)
                    .map_err(|d| self.fail(exec, &d.0, &d.1))?;
                self.store(exec, v)?;
            }
            let (out, bound) = match &c.output {
                Some(t) => (
                    jsonata_eval::template(t, &states, None)
                        .map_err(|d| self.fail(exec, &d.0, &d.1))?,
                    UNKNOWN,
                ),
                None => (error_output, error_bound),
            };
            return Ok((out, bound, self.take_assigned()));
        }
        if let Some(Assign::JsonPath(t)) = &c.assign {
            let v = t
                .eval(&self.scope(exec, &error_output, &ctx))
                .map_err(|e| self.eval_err(exec, e))?;
            self.store(exec, v)?;
        }
        let out = self.apply_result_path(exec, &c.result_path, error_output)?;
        let bound = result_path_bound(&c.result_path, exec.input_bound, error_bound);
        Ok((out, bound, self.take_assigned()))
    }

    /// A number field: literal, `…Path`, or JSONata expression.
    pub fn dyn_u64(
        &self,
        exec: &Execution,
        d: Option<&Dyn<u64>>,
        field: &str,
    ) -> Result<Option<u64>, StatesError> {
        let Some(d) = d else { return Ok(None) };
        let v = self.dyn_value(exec, d, |n: &u64| Value::int(*n as i64))?;
        match v.as_f64() {
            Some(f) if f >= 0.0 && f.fract() == 0.0 => Ok(Some(f as u64)),
            _ => match (&v, d) {
                (Value::String(s), Dyn::Path(_, text)) => match s.parse::<u64>() {
                    Ok(n) => Ok(Some(n)),
                    Err(_) => Err(self.runtime(exec, &format!("The {field}Path field refers to value \"{}\" which is not a valid integer: {text}", s))),
                },
                (_, Dyn::Path(_, text)) => Err(self.runtime(exec, &format!("The {field}Path field refers to value \"{}\" which is not a valid integer: {text}", v.to_json()))),
                (_, Dyn::Expr(e)) => Err(self.fail(exec, super::ErrorName::QUERY_EVALUATION_ERROR, &format!("The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}", e.src, v.type_name(), v.to_json()))),
                _ => Err(self.runtime(exec, &format!("The value of {field} is not a valid integer"))),
            },
        }
    }

    pub(super) fn dyn_value<T>(
        &self,
        exec: &Execution,
        d: &Dyn<T>,
        fixed: impl Fn(&T) -> Value,
    ) -> Result<Value, StatesError> {
        let ctx = self.ctx(exec);
        match d {
            Dyn::Fixed(t) => Ok(fixed(t)),
            Dyn::Path(p, text) => {
                let input = self.path_input(exec, &ctx)?;
                p.select(&self.scope(exec, &input, &ctx))
                    .map_err(|e| self.runtime(exec, &format!("Invalid path '{text}' : {e}")))
            }
            Dyn::Expr(e) => jsonata_eval::expr(e, &self.jsonata_states(exec, ctx))
                .map_err(|d| self.fail(exec, &d.0, &d.1)),
        }
    }

    /// What `…Path` fields read: the effective input after InputPath.
    fn path_input(&self, exec: &Execution, ctx: &Value) -> Result<Value, StatesError> {
        match &self.state.io {
            Io::JsonPath { input_path, .. } => self.apply_path(exec, input_path, &exec.input, ctx),
            Io::JsonAta { .. } => Ok(exec.input.clone()),
        }
    }

    /// Wait: when to wake up.
    pub fn wait_until(
        &self,
        exec: &Execution,
        w: &WaitOp,
        now: SystemTime,
    ) -> Result<SystemTime, StatesError> {
        let ctx = self.ctx(exec);
        // A huge wait (`"Seconds": 9223372036854775807`) saturates rather than overflowing the
        // clock: any time beyond the execution's timeout waits the same.
        let secs = |s: i64| {
            let d = Duration::from_secs(s.max(0) as u64);
            now.checked_add(d)
                .unwrap_or_else(|| now + Duration::from_secs(u64::from(u32::MAX)))
        };
        let stamp = |t: &str| time::parse_timestamp(t).map(SystemTime::from);
        match w {
            WaitOp::Seconds(Dyn::Fixed(s)) => Ok(secs(*s)),
            WaitOp::Seconds(Dyn::Expr(e)) => {
                let v = jsonata_eval::expr(e, &self.jsonata_states(exec, ctx)).map_err(|d| self.fail(exec, &d.0, &d.1))?;
                match v.as_i64() {
                    Some(s) if s >= 0 => Ok(secs(s)),
                    _ => Err(self.fail(exec, super::ErrorName::QUERY_EVALUATION_ERROR, &format!("The JSONata expression '{}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}", e.src, v.type_name(), v.to_json()))),
                }
            }
            WaitOp::Seconds(Dyn::Path(..)) => Ok(now),
            WaitOp::Timestamp(v) => match v.as_str().and_then(stamp) {
                Some(t) => Ok(t),
                None => Err(self.runtime(exec, "The Timestamp field is not a valid ISO-8601 extended offset date-time format string")),
            },
            WaitOp::TimestampExpr(e) => {
                let v = jsonata_eval::expr(e, &self.jsonata_states(exec, ctx)).map_err(|d| self.fail(exec, &d.0, &d.1))?;
                match v.as_str().map(|s| (s, stamp(s))) {
                    Some((_, Some(t))) => Ok(t),
                    // AWS's text (recorded), with the string as it is.
                    Some((s, None)) => Err(self.fail(exec, super::ErrorName::QUERY_EVALUATION_ERROR, &format!("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {s}"))),
                    None => Err(self.fail(exec, super::ErrorName::QUERY_EVALUATION_ERROR, &format!("The JSONata expression '{}' specified for the field 'Timestamp' returned an unexpected result type. Expected 'timestamp', but was '{}' for value: {}", e.src, v.type_name(), v.to_json()))),
                }
            }
            WaitOp::SecondsPath(p, text) => {
                let input = self.path_input(exec, &ctx)?;
                let v = p.select(&self.scope(exec, &input, &ctx)).map_err(|_| self.runtime(exec, &format!("The SecondsPath parameter does not reference an input value: {text}")))?;
                match v.as_number() {
                    Some(n) => match n.as_i64() {
                        Some(s) if s < 0 && matches!(n, crate::value::Number::Int(_)) => Err(self.runtime(exec, &format!("The SecondsPath parameter references a negative value: {text} == {s}"))),
                        Some(s) if matches!(n, crate::value::Number::Int(_)) => Ok(secs(s)),
                        _ => Err(self.runtime(exec, &format!("The SecondsPath parameter cannot be parsed as a long value: {text} == {}", v.to_json()))),
                    },
                    None => Err(self.runtime(exec, &format!("The SecondsPath parameter cannot be parsed as a long value: {text} == {}", display_plain(&v)))),
                }
            }
            WaitOp::TimestampPath(p, text) => {
                let input = self.path_input(exec, &ctx)?;
                let v = p.select(&self.scope(exec, &input, &ctx)).map_err(|_| self.runtime(exec, &format!("The TimestampPath parameter does not reference an input value: {text}")))?;
                match v.as_str().and_then(stamp) {
                    Some(t) => Ok(t),
                    None => Err(self.runtime(exec, &format!("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {text} == {}", display_plain(&v)))),
                }
            }
        }
    }

    /// Fail: Error/Cause from literals, paths, intrinsics or expressions.
    pub fn fail_fields(
        &self,
        exec: &Execution,
        error: Option<&FailField>,
        cause: Option<&FailField>,
    ) -> Result<StatesError, StatesError> {
        let ctx = self.ctx(exec);
        let input = match &self.state.io {
            Io::JsonPath { input_path, .. } => {
                self.apply_path(exec, input_path, &exec.input, &ctx)?
            }
            Io::JsonAta { .. } => exec.input.clone(),
        };
        // AWS requires a string: a path or intrinsic selecting anything else fails the state as
        // a non-integer `TimeoutSecondsPath` does, a JSONata expression as any expression of
        // the wrong result type does.
        let field = |f: Option<&FailField>, name: &str| -> Result<Option<Str>, StatesError> {
            let Some(f) = f else { return Ok(None) };
            let not_string = |v: &Value| {
                match f {
                FailField::Literal(_) => self.runtime(exec, &format!("The {name} field is not a valid string")),
                FailField::Path(_, text) | FailField::Intrinsic(_, text) => self.runtime(exec, &format!("The {name} field refers to value \"{}\" which is not a valid string: {text}", v.to_json())),
                FailField::Expr(e) => self.fail(exec, super::ErrorName::QUERY_EVALUATION_ERROR, &format!("The JSONata expression '{}' specified for the field '{}' returned an unexpected result type. Expected 'string', but was '{}' for value: {}", e.src, name.trim_end_matches("Path"), v.type_name(), v.to_json())),
            }
            };
            let v = match f {
                FailField::Literal(s) => return Ok(Some(s.clone())),
                FailField::Path(p, text) => p.select(&self.scope(exec, &input, &ctx)).map_err(|_| {
                    self.runtime(exec, &format!("The JSONPath '{text}' specified for the field '{name}' could not be found in the input '{}'", input.to_json()))
                })?,
                FailField::Intrinsic(i, _) => i.eval(&self.scope(exec, &input, &ctx)).map_err(|e| self.eval_err(exec, e))?,
                FailField::Expr(e) => jsonata_eval::expr(e, &self.jsonata_states(exec, ctx.clone())).map_err(|d| self.fail(exec, &d.0, &d.1))?,
            };
            match v {
                Value::String(s) => Ok(Some(s)),
                other => Err(not_string(&other)),
            }
        };
        Ok(StatesError {
            error: field(error, "ErrorPath")?,
            cause: field(cause, "CausePath")?,
        })
    }

    /// Map: the input the items come from.
    pub fn map_input(&self, exec: &Execution) -> Result<Value, StatesError> {
        let ctx = self.ctx(exec);
        self.path_input(exec, &ctx)
    }

    /// Map: the items array.
    pub fn map_items(
        &self,
        exec: &Execution,
        m: &MapOp,
        effective: &Value,
    ) -> Result<Vec<Value>, StatesError> {
        let ctx = self.ctx(exec);
        let v = if self.state.jsonata {
            match &m.items {
                Some(t) => {
                    let states = self.jsonata_states(exec, ctx);
                    let v = jsonata_eval::template(t, &states, None)
                        .map_err(|d| self.fail(exec, &d.0, &d.1))?;
                    if let (Value::Array(a), _) = (&v, ()) {
                        return Ok(a.as_ref().clone());
                    }
                    let src = match t {
                        crate::compile::JTemplate::Expr(e) => e.src.to_string(),
                        _ => String::new(),
                    };
                    return Err(self.fail(exec, super::ErrorName::QUERY_EVALUATION_ERROR, &format!("The JSONata expression '{src}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}", v.type_name(), v.to_json())));
                }
                None => effective.clone(),
            }
        } else {
            match &m.items_path {
                Some(p) => p.select(&self.scope(exec, effective, &ctx)).map_err(|e| {
                    self.runtime(exec, &format!("Invalid path '{}' : {}", p.text(), e))
                })?,
                None => effective.clone(),
            }
        };
        match v {
            Value::Array(a) => Ok(a.as_ref().clone()),
            other if self.state.jsonata => Err(self.fail(
                exec,
                super::ErrorName::QUERY_EVALUATION_ERROR,
                &format!(
                    "Map state input must be an array but was: {}",
                    other.to_json()
                ),
            )),
            other => Err(self.runtime(
                exec,
                &format!(
                    "Invalid path '{}' : The ItemsPath must reference an array, but was: {}",
                    m.items_path
                        .as_ref()
                        .map_or("$".to_string(), |p| p.text().to_string()),
                    other.to_json()
                ),
            )),
        }
    }

    /// Map: ToleratedFailureCount/Percentage (and their paths).
    pub fn tolerance(
        &self,
        exec: &Execution,
        m: &MapOp,
    ) -> Result<(Option<u64>, Option<f64>), StatesError> {
        let count = match &m.tolerated_count {
            None => None,
            Some(d) => {
                let v = self.dyn_value(exec, d, |n: &i64| Value::int(*n))?;
                let n = match (&v, d) {
                    (Value::Number(n), _) if n.as_i64().is_some() => n.as_i64().unwrap_or(0),
                    (Value::String(s), Dyn::Path(..)) if s.parse::<i64>().is_ok() => {
                        s.parse::<i64>().unwrap_or(0)
                    }
                    (_, Dyn::Path(_, text)) => {
                        let shown = if let Value::String(s) = &v {
                            s.to_string()
                        } else {
                            v.to_json()
                        };
                        return Err(self.runtime(exec, &format!("The ToleratedFailureCountPath field refers to value \"{shown}\" which is not a valid integer: {text}")));
                    }
                    _ => {
                        return Err(self.runtime(exec, "ToleratedFailureCount must be an integer."));
                    }
                };
                if n < 0 {
                    return Err(self.runtime(exec, "ToleratedFailureCount cannot be negative."));
                }
                Some(n as u64)
            }
        };
        let pct = match &m.tolerated_percentage {
            None => None,
            Some(d) => {
                let v = self.dyn_value(exec, d, |n: &f64| Value::float(*n))?;
                let p = match (&v, d) {
                    (Value::Number(n), _) => n.as_f64(),
                    (Value::String(s), Dyn::Path(..)) if s.parse::<f64>().is_ok() => {
                        s.parse::<f64>().unwrap_or(0.0)
                    }
                    (_, Dyn::Path(_, text)) => {
                        let shown = if let Value::String(s) = &v {
                            s.to_string()
                        } else {
                            v.to_json()
                        };
                        return Err(self.runtime(exec, &format!("The ToleratedFailurePercentagePath field refers to value \"{shown}\" which is not a valid float: {text}")));
                    }
                    _ => {
                        return Err(
                            self.runtime(exec, "ToleratedFailurePercentage must be a number.")
                        );
                    }
                };
                if !(0.0..=100.0).contains(&p) {
                    return Err(self.runtime(
                        exec,
                        "ToleratedFailurePercentage must be between 0 and 100.",
                    ));
                }
                Some(p)
            }
        };
        Ok((count, pct))
    }

    /// Map: each item through ItemSelector (with `$$.Map.Item`), or as it is.
    pub fn select_items(
        &self,
        exec: &Execution,
        m: &MapOp,
        effective: &Value,
        items: Vec<Value>,
    ) -> Result<Vec<Value>, StatesError> {
        let Some(sel) = &m.item_selector else {
            return Ok(items);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let ctx = self.context_with_item(exec, false, Some((i as i64, item)));
                match sel {
                    ItemSelector::JsonPath(t) => t
                        .eval(&self.scope(exec, effective, &ctx))
                        .map_err(|e| self.eval_err(exec, e)),
                    ItemSelector::JsonAta(t) => {
                        jsonata_eval::template(t, &States::new(exec, &exec.input, ctx), None)
                            .map_err(|d| self.fail(exec, &d.0, &d.1))
                    }
                }
            })
            .collect()
    }
}

impl Frame<'_> {
    /// ItemBatcher: groups items into `{"BatchInput": …, "Items": [...]}` by count and size.
    /// ItemBatcher's MaxItemsPerBatch and MaxInputBytesPerBatch (256 KiB when unset or 0).
    pub(super) fn batch_limits(
        &self,
        exec: &Execution,
        b: &crate::compile::Batcher,
    ) -> Result<(usize, usize), StatesError> {
        let max_items = self
            .dyn_u64(exec, b.max_items.as_ref(), "MaxItemsPerBatch")?
            .filter(|n| *n > 0)
            .unwrap_or(u64::MAX) as usize;
        let max_bytes = self
            .dyn_u64(exec, b.max_bytes.as_ref(), "MaxInputBytesPerBatch")?
            .filter(|n| *n > 0)
            .unwrap_or(256 * 1024) as usize;
        Ok((max_items, max_bytes))
    }

    pub fn batch(
        &self,
        exec: &Execution,
        b: &crate::compile::Batcher,
        effective: &Value,
        items: Vec<Value>,
    ) -> Result<Vec<Value>, StatesError> {
        let (max_items, max_bytes) = self.batch_limits(exec, b)?;
        let ctx = self.ctx(exec);
        let batch_input = match &b.batch_input {
            None => None,
            Some(ItemSelector::JsonPath(t)) => Some(
                t.eval(&self.scope(exec, effective, &ctx))
                    .map_err(|e| self.eval_err(exec, e))?,
            ),
            Some(ItemSelector::JsonAta(t)) => Some(
                jsonata_eval::template(t, &States::new(exec, &exec.input, ctx), None)
                    .map_err(|d| self.fail(exec, &d.0, &d.1))?,
            ),
        };
        let wrap = |batch: Vec<Value>| {
            let mut m = Map::with_capacity(2);
            if let Some(bi) = &batch_input {
                m.insert(Str::from("BatchInput"), bi.clone());
            }
            m.insert(Str::from("Items"), Value::array(batch));
            Value::object(m)
        };
        let mut out = Vec::new();
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for item in items {
            let size = item.to_json().len() + 1;
            if !batch.is_empty() && (batch.len() >= max_items || bytes + size > max_bytes) {
                out.push(wrap(std::mem::take(&mut batch)));
                bytes = 0;
            }
            bytes += size;
            batch.push(item);
        }
        if !batch.is_empty() {
            out.push(wrap(batch));
        }
        Ok(out)
    }
}

/// A value as AWS prints it after `==` in Wait causes: strings bare, the rest as JSON.
fn display_plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    }
}
