//! Checks of error handling (`Retry`, `Catch`, `ErrorEquals`) and of variable assignment
//! (`Assign`), which several state types and Choice rules share.

use serde_json::{Map, Value};

use super::codes::*;
use super::syntax;
use super::validate::{Checker, Lang, PathKind};

/// Largest value AWS accepts for retry intervals and attempts.
const MAX_RETRY: i64 = 99_999_999;

/// Largest `MaxDelaySeconds` (one year and a day, in seconds).
const MAX_DELAY: i64 = 31_622_400;

/// Largest serialized `Assign` block.
const MAX_ASSIGN_BYTES: usize = 256 * 1024;

impl Checker {
    /// A `Retry` array: each retrier's fields, ranges and `ErrorEquals`.
    pub(super) fn retriers(&mut self, v: &Value, loc: &str) {
        self.each_handler(v, loc, |this, obj, here| {
            for (key, val) in obj {
                let at = format!("{here}/{key}");
                match key.as_str() {
                    "ErrorEquals" => {}
                    "Comment" => {
                        this.string(val, &at);
                    }
                    "IntervalSeconds" | "MaxAttempts" => {
                        this.int_in(val, &at, 0, MAX_RETRY);
                    }
                    "MaxDelaySeconds" => {
                        this.int_in(val, &at, 1, MAX_DELAY);
                    }
                    "BackoffRate" => {
                        this.number_in(val, &at, 1.0, f64::MAX);
                    }
                    "JitterStrategy" => this.one_of(val, &at, &["NONE", "FULL"]),
                    _ => this.unsupported(here, key),
                }
            }
        });
    }

    /// Runs `check` on each object of a `Retry` or `Catch` array with its location, after what
    /// retriers and catchers share: an array of objects, each with a valid `ErrorEquals`.
    fn each_handler(
        &mut self,
        v: &Value,
        loc: &str,
        mut check: impl FnMut(&mut Self, &Map<String, Value>, &str),
    ) {
        let Some(list) = self.array(v, loc) else {
            return;
        };
        for (i, handler) in list.iter().enumerate() {
            let here = format!("{loc}[{i}]");
            let Some(obj) = self.object(handler, &here) else {
                continue;
            };
            self.handler_errors(obj, &here, i + 1 == list.len());
            check(self, obj, &here);
        }
    }

    /// A `Catch` array: `ErrorEquals`, a `Next` in the same container, and the result fields of
    /// the state's query language.
    pub(super) fn catchers(
        &mut self,
        v: &Value,
        loc: &str,
        lang: Lang,
        siblings: &Map<String, Value>,
    ) {
        self.each_handler(v, loc, |this, obj, here| {
            if !obj.contains_key("Next") {
                let missing = if obj.contains_key("ErrorEquals") {
                    "Next"
                } else {
                    "ErrorEquals, Next"
                };
                this.required(here, missing);
            }
            for (key, val) in obj {
                let at = format!("{here}/{key}");
                match key.as_str() {
                    "ErrorEquals" => {}
                    "Comment" => {
                        this.string(val, &at);
                    }
                    "Next" => this.target(val, &at, siblings),
                    "Assign" => {
                        this.in_catcher = true;
                        this.assign(val, &at, lang);
                        this.in_catcher = false;
                    }
                    "ResultPath" if lang == Lang::JsonPath => this.path(val, &at, PathKind::Result),
                    "Output" if lang == Lang::Jsonata => {
                        this.in_catcher = true;
                        this.jsonata_strings(val, &at, 0);
                        this.in_catcher = false;
                    }
                    "ResultPath" | "Output" => this.wrong_language(here, lang, key),
                    _ => this.unsupported(here, key),
                }
            }
        });
    }

    /// `ErrorEquals` of a retrier or catcher: a non-empty list of error names, `States.ALL`
    /// alone and only in the last entry.
    fn handler_errors(&mut self, obj: &Map<String, Value>, loc: &str, last: bool) {
        let Some(v) = obj.get("ErrorEquals") else {
            self.required(loc, "ErrorEquals");
            return;
        };
        let at = format!("{loc}/ErrorEquals");
        let Some(names) = self.array(v, &at) else {
            return;
        };
        if names.is_empty() {
            self.empty(&at);
        }
        let mut has_all = false;
        for (i, n) in names.iter().enumerate() {
            let Some(name) = self.string(n, &format!("{at}[{i}]")) else {
                continue;
            };
            // Every name but `States.ALL` is matched as written, `States.` prefix included: AWS
            // accepts the user's own `States.QuorumMet` and the like (a Fail state may throw
            // them; the quorum and either-or patterns of AWS's sample workflows catch them).
            if name == "States.ALL" {
                has_all = true;
            }
        }
        if has_all && (names.len() > 1 || !last) {
            self.schema(&at, "States.ALL must appear alone and at end of list");
        }
    }

    /// An `Assign` block: an object of valid variable names (JSONPath keys may end in `.$`),
    /// values being templates (JSONPath) or holding JSONata expressions, within the size limit.
    pub(super) fn assign(&mut self, v: &Value, loc: &str, lang: Lang) {
        let Some(obj) = self.object(v, loc) else {
            return;
        };
        for key in obj.keys() {
            let name = match lang {
                Lang::JsonPath => key.strip_suffix(".$").unwrap_or(key),
                Lang::Jsonata => key.as_str(),
            };
            if let Err(e) = syntax::check_variable_name(name) {
                let code = if name == "states" {
                    RESERVED_VARIABLE_NAME
                } else {
                    INVALID_VARIABLE_NAME
                };
                self.err(code, &format!("{loc}/{key}"), e);
            }
        }
        match lang {
            Lang::JsonPath => self.template(v, loc),
            Lang::Jsonata => self.jsonata_strings(v, loc, 0),
        }
        if v.to_string().len() > MAX_ASSIGN_BYTES {
            self.schema(
                loc,
                format!("The field 'Assign' exceeds the maximum size of {MAX_ASSIGN_BYTES} bytes"),
            );
        }
    }
}
