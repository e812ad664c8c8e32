//! Distributed Map's `ItemReader` and `ResultWriter`, as far as the VM goes: their
//! `Parameters`/`Arguments` and `MaxItems` evaluated when the Map state is entered, and each item
//! the driver reads afterwards taken through `ItemSelector` one at a time. The VM does no I/O:
//! the driver reads the items (streaming) and writes the results.

use super::jsonata_eval::{self, States};
use super::{ErrorName, Execution, StatesError, data::Frame};
use crate::compile::{Dyn, ItemSelector, MapOp, Program, ReaderOp, WriterOp};
use crate::value::{Str, Value};

/// Where a Map's items come from when it has an `ItemReader`.
#[derive(Debug, Clone)]
pub struct ReaderRun {
    /// `arn:aws:states:::s3:getObject` or `…:s3:listObjectsV2`.
    pub resource: Str,
    /// `Parameters`/`Arguments` evaluated (`Bucket`, `Key`, `Prefix`, ...).
    pub params: Value,
    /// `ReaderConfig` without `MaxItems` (`InputType`, `CSVHeaderLocation`, `CSVHeaders`, ...).
    pub config: Value,
    /// `MaxItems` (0 = every item).
    pub max_items: u64,
}

/// Where a Map's results go when it has a `ResultWriter` with a resource.
#[derive(Debug, Clone)]
pub struct WriterRun {
    /// `arn:aws:states:::s3:putObject` (None: `WriterConfig` only, nothing is written).
    pub resource: Option<Str>,
    /// `Parameters`/`Arguments` evaluated (`Bucket`, `Prefix`).
    pub params: Value,
    /// `WriterConfig` (`Transformation`, `OutputType`), or null.
    pub config: Value,
}

/// `ItemBatcher`'s settings, evaluated once, for items the driver groups as they arrive.
#[derive(Debug, Clone)]
pub struct BatchSpec {
    /// Items in one batch at most (`MaxItemsPerBatch`; unbounded when not set).
    pub max_items: usize,
    /// Bytes of one batch's input at most (`MaxInputBytesPerBatch`, else 256 KiB).
    pub max_bytes: usize,
    /// `BatchInput`: the value every batch carries beside its `Items`.
    pub batch_input: Option<Value>,
}

/// The largest `MaxItems` AWS accepts.
const MAX_ITEMS_LIMIT: u64 = 100_000_000;

impl Frame<'_> {
    /// `Parameters`/`Arguments` of an ItemReader or ResultWriter against the state's input.
    fn payload(
        &self,
        exec: &Execution,
        sel: Option<&ItemSelector>,
        effective: &Value,
    ) -> Result<Value, StatesError> {
        let ctx = self.ctx(exec);
        match sel {
            None => Ok(Value::empty_object()),
            Some(ItemSelector::JsonPath(t)) => t
                .eval(&self.scope(exec, effective, &ctx))
                .map_err(|e| self.eval_err(exec, e)),
            Some(ItemSelector::JsonAta(t)) => {
                jsonata_eval::template(t, &States::new(exec, &exec.input, ctx), None)
                    .map_err(|d| self.fail(exec, &d.0, &d.1))
            }
        }
    }

    /// The reader's request for this run.
    pub fn reader_run(
        &self,
        exec: &Execution,
        r: &ReaderOp,
        effective: &Value,
    ) -> Result<ReaderRun, StatesError> {
        let params = self.payload(exec, r.parameters.as_ref(), effective)?;
        let max_items = match &r.max_items {
            None => 0,
            Some(d) => {
                let v = self.dyn_value(exec, d, Value::clone)?;
                let n = match &v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => match s.trim().parse::<f64>() {
                        Ok(f) => f,
                        Err(_) => {
                            return Err(self.item_reader_failed(&format!(
                                "field MaxItems must be a number, but was: {s}"
                            )));
                        }
                    },
                    other => {
                        let how = match d {
                            Dyn::Path(_, text) => format!(" (MaxItemsPath {text})"),
                            _ => String::new(),
                        };
                        return Err(self.item_reader_failed(&format!(
                            "field MaxItems must be a number{how}, but was: {}",
                            other.to_json()
                        )));
                    }
                };
                if n < 0.0 {
                    return Err(self.item_reader_failed("field MaxItems must be positive"));
                }
                if n.fract() != 0.0 {
                    return Err(self.item_reader_failed("field MaxItems must be an integer"));
                }
                if n > MAX_ITEMS_LIMIT as f64 {
                    return Err(self.item_reader_failed(&format!(
                        "field MaxItems must be at most {MAX_ITEMS_LIMIT}"
                    )));
                }
                n as u64
            }
        };
        Ok(ReaderRun {
            resource: r.resource.clone(),
            params,
            config: r.config.clone(),
            max_items,
        })
    }

    /// The writer's request for this run.
    pub fn writer_run(
        &self,
        exec: &Execution,
        w: &WriterOp,
        effective: &Value,
    ) -> Result<WriterRun, StatesError> {
        Ok(WriterRun {
            resource: w.resource.clone(),
            params: self.payload(exec, w.parameters.as_ref(), effective)?,
            config: w.config.clone(),
        })
    }

    /// `ItemBatcher`'s numbers and `BatchInput`, for the driver to batch read items.
    pub fn batch_spec(
        &self,
        exec: &Execution,
        b: &crate::compile::Batcher,
        effective: &Value,
    ) -> Result<BatchSpec, StatesError> {
        // `batch` over no items evaluates exactly what a batch needs; one probe item shows
        // BatchInput.
        let probe = self.batch(exec, b, effective, vec![Value::Null])?;
        let batch_input = probe.first().and_then(|v| v.get("BatchInput")).cloned();
        let (max_items, max_bytes) = self.batch_limits(exec, b)?;
        Ok(BatchSpec {
            max_items,
            max_bytes,
            batch_input,
        })
    }

    /// One read item through `ItemSelector` (with `$$.Map.Item`), or as it is.
    pub fn select_one(
        &self,
        exec: &Execution,
        m: &MapOp,
        effective: &Value,
        index: usize,
        item: Value,
    ) -> Result<Value, StatesError> {
        let Some(sel) = &m.item_selector else {
            return Ok(item);
        };
        let ctx = self.context_with_item(exec, false, Some((index as i64, &item)));
        match sel {
            ItemSelector::JsonPath(t) => t
                .eval(&self.scope(exec, effective, &ctx))
                .map_err(|e| self.eval_err(exec, e)),
            ItemSelector::JsonAta(t) => {
                jsonata_eval::template(t, &States::new(exec, &exec.input, ctx), None)
                    .map_err(|d| self.fail(exec, &d.0, &d.1))
            }
        }
    }

    fn item_reader_failed(&self, cause: &str) -> StatesError {
        StatesError::new(ErrorName::ITEM_READER_FAILED, cause)
    }
}

impl Execution {
    /// A read item of the Map state this scope waits in, through its `ItemSelector`. `effective`
    /// is the Map's effective input ([`super::MapRun::effective`]).
    pub fn select_read_item(
        &self,
        program: &Program,
        effective: &Value,
        index: usize,
        item: Value,
    ) -> Result<Value, StatesError> {
        let state = &program.states[self.pc.0 as usize];
        let crate::compile::Op::Map(m) = &state.def else {
            return Ok(item);
        };
        Frame::new(state).select_one(self, m, effective, index, item)
    }
}
