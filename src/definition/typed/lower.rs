//! From the serde model of a validated definition to the typed `Machine`.
//!
//! In: a `model::Definition` that `validate` accepted. Out: a `Machine`, every string field parsed
//! by the parsers `validate` checked it with (`crate::expr`, `crate::jsonata`), so a parse cannot
//! fail here unless the two disagree. Should they, the problem is reported as a diagnostic in the
//! parser's own words, never a panic. Names become scope-local positions here.

use std::collections::HashMap;

use super::*;
use crate::definition::codes::SCHEMA_VALIDATION_FAILED;
use crate::definition::model::{self, Definition, QueryLanguage, State, StateType};
use crate::definition::validate::{Diagnostic, missing_target};

/// The typed form of a definition `validate` accepted, or what could not be parsed.
pub(crate) fn lower(def: &Definition) -> Result<Machine, Vec<Diagnostic>> {
    let mut l = Lowering { errors: Vec::new() };
    let top_ql = def.query_language.unwrap_or(QueryLanguage::JSONPath);
    let root = l.scope(def, top_ql, "");
    if l.errors.is_empty() {
        Ok(Machine {
            timeout_seconds: def.timeout_seconds.as_ref().and_then(|v| v.as_u64()),
            root,
        })
    } else {
        Err(l.errors)
    }
}

struct Lowering {
    errors: Vec<Diagnostic>,
}

/// Definition JSON (serde_json, order-preserving) as our value tree.
fn lit(v: &serde_json::Value) -> Value {
    Value::from_serde(v)
}

impl Lowering {
    /// A parse `validate` should have refused, in the parser's words.
    fn err(&mut self, loc: &str, message: impl Into<String>) {
        self.errors.push(Diagnostic::error(
            SCHEMA_VALIDATION_FAILED,
            loc,
            message.into(),
        ));
    }

    fn scope(&mut self, def: &Definition, ql: QueryLanguage, loc: &str) -> ScopeDef {
        let ids: HashMap<&str, StateId> = def
            .states
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), StateId(i as u32)))
            .collect();
        let start = self.target(&ids, &def.start_at, &format!("{loc}/StartAt"));
        let states = def
            .states
            .iter()
            .map(|(name, state)| {
                let sloc = format!("{loc}/States/{name}");
                self.state(name, state, ql, &ids, &sloc)
            })
            .collect();
        ScopeDef { start, states }
    }

    fn target(&mut self, ids: &HashMap<&str, StateId>, name: &str, loc: &str) -> StateId {
        match ids.get(name) {
            Some(id) => *id,
            None => {
                self.errors.push(missing_target(loc, name));
                StateId(0)
            }
        }
    }

    fn path(&mut self, text: &str, loc: &str) -> Option<Path> {
        Path::parse(text).map_err(|e| self.err(loc, e.message)).ok()
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
            Some(Some(t)) => ReferencePath::parse(t)
                .map_err(|e| self.err(loc, e.message))
                .ok()
                .map(Some),
        }
    }

    fn template(&mut self, v: &Option<serde_json::Value>, loc: &str) -> Option<Template> {
        Template::compile(&lit(v.as_ref()?))
            .map_err(|e| self.err(loc, e.to_string()))
            .ok()
    }

    fn jtemplate(
        &mut self,
        v: &Option<serde_json::Value>,
        field: &str,
        loc: &str,
    ) -> Option<JTemplate> {
        JTemplate::parse(v.as_ref()?, field)
            .map_err(|e| self.err(loc, e))
            .ok()
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
                self.err(&at, format!("Invalid value for the field at {at}"));
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
    ) -> StateNode {
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
        let def = self.def(s, jsonata, scope_ql, ids, loc);
        let text = serde_json::to_string(s).unwrap_or_default();
        let uses_context = text.contains("$$") || text.contains("context");
        StateNode {
            name: Str::from(name),
            jsonata,
            def,
            io,
            next,
            retry,
            catch,
            assign,
            uses_context,
        }
    }

    /// Fail's `Error`/`Cause` (`value`) or `ErrorPath`/`CausePath` (`path`, named `field`).
    fn fail_field(
        &mut self,
        value: &Option<serde_json::Value>,
        path: &Option<String>,
        jsonata: bool,
        loc: &str,
        field: &str,
    ) -> Option<FailField> {
        if let Some(v) = value {
            let text = v.as_str().unwrap_or_default();
            if jsonata && let Ok(Some(e)) = JExpr::parse_wrapped(text) {
                return Some(FailField::Expr(e));
            }
            return Some(FailField::Literal(Str::from(text)));
        }
        let p = path.as_ref()?;
        let at = format!("{loc}/{field}");
        if p.starts_with("States.") {
            return Intrinsic::parse(p)
                .map(|i| FailField::Intrinsic(i, Str::from(p.as_str())))
                .map_err(|e| self.err(&at, e.to_string()))
                .ok();
        }
        self.path(p, &at)
            .map(|x| FailField::Path(x, Str::from(p.as_str())))
    }

    fn def(
        &mut self,
        s: &State,
        jsonata: bool,
        scope_ql: QueryLanguage,
        ids: &HashMap<&str, StateId>,
        loc: &str,
    ) -> StateDef {
        // Nested scopes inherit the state's language unless they set their own.
        let nested_ql = if jsonata {
            QueryLanguage::JSONata
        } else {
            scope_ql
        };
        match s.kind {
            StateType::Pass => StateDef::Pass {
                result: s.result.as_ref().map(lit),
            },
            StateType::Succeed => StateDef::Succeed,
            StateType::Fail => StateDef::Fail {
                error: self.fail_field(&s.error, &s.error_path, jsonata, loc, "ErrorPath"),
                cause: self.fail_field(&s.cause, &s.cause_path, jsonata, loc, "CausePath"),
            },
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
                        ChoiceRule::parse(r, next, output, assign)
                            .map_err(|e| self.err(&rloc, e))
                            .ok()
                    })
                    .collect();
                let default = s
                    .default
                    .as_ref()
                    .map(|d| self.target(ids, d, &format!("{loc}/Default")));
                StateDef::Choice { rules, default }
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
                StateDef::Wait(wait.unwrap_or(WaitOp::Seconds(Dyn::Fixed(0))))
            }
            StateType::Task => StateDef::Task(Box::new(TaskOp {
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
                let branches = s
                    .branches
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, b)| {
                        self.scope(
                            b,
                            b.query_language.unwrap_or(nested_ql),
                            &format!("{loc}/Branches[{i}]"),
                        )
                    })
                    .collect();
                StateDef::Parallel { branches }
            }
            StateType::Map => self.map(s, jsonata, nested_ql, loc),
        }
    }

    fn map(&mut self, s: &State, jsonata: bool, nested_ql: QueryLanguage, loc: &str) -> StateDef {
        let (proc_def, ploc) = match (&s.item_processor, &s.iterator) {
            (Some(p), _) => (p, "ItemProcessor"),
            (None, Some(p)) => (p, "Iterator"),
            (None, None) => {
                self.err(loc, "The Map state needs an ItemProcessor");
                return StateDef::Succeed;
            }
        };
        let distributed = proc_def
            .processor_config
            .as_ref()
            .and_then(|c| c.mode.as_deref())
            .is_some_and(|m| m == "DISTRIBUTED");
        let processor = self.scope(
            proc_def,
            proc_def.query_language.unwrap_or(nested_ql),
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
        StateDef::Map(Box::new(MapOp {
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

fn retrier(r: &model::Retrier) -> Retrier {
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
