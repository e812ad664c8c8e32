//! Step Functions Local's mock configuration file ("Using mocked service integrations"):
//!
//! ```json
//! {"StateMachines": {"<sm>": {"TestCases": {"<case>": {"<state>": "<response name>"}}}},
//!  "MockedResponses": {"<response name>": {"0": {"Return": …}, "1-2": {"Throw": {"Error": …, "Cause": …}}}}}
//! ```
//!
//! Parsing checks the structure and reports every problem with its location. As in Step
//! Functions Local, a response is resolved only when a state uses it: a test case naming a missing
//! response, or an invocation past the listed ones, fails that execution (`States.Runtime`), not
//! the file.
//!
//! In: the file's JSON text; then a machine, test case, state name and invocation count. Out: the
//! parsed `MockConfig` (or every problem found), then the `MockStep` that invocation returns or
//! throws.

use std::collections::HashMap;
use std::sync::Arc;

use super::TaskError;
use crate::value::{self, Value};

/// What one invocation of a mocked state does.
#[derive(Clone, Debug, PartialEq)]
pub enum MockStep {
    /// The task succeeds with this result.
    Return(Value),
    /// The task fails with this error and cause.
    Throw {
        /// The error name `Retry`/`Catch` match.
        error: String,
        /// The cause text.
        cause: Option<String>,
    },
}

/// A named mocked response: steps for invocation ranges (inclusive, sorted, not overlapping).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MockedResponse {
    steps: Vec<(u32, u32, MockStep)>,
}

impl MockedResponse {
    /// The step for the `invocation`-th call (0-based), if the response lists one.
    pub fn step(&self, invocation: u32) -> Option<&MockStep> {
        self.steps
            .iter()
            .find(|(lo, hi, _)| *lo <= invocation && invocation <= *hi)
            .map(|(_, _, s)| s)
    }
}

/// Test case → state name → response name.
type TestCases = HashMap<String, HashMap<Arc<str>, Arc<str>>>;

/// A parsed mock configuration file, shared by every execution of a registry.
#[derive(Clone, Debug, Default)]
pub struct MockConfig {
    /// State machine → test case → state → response name.
    machines: HashMap<String, TestCases>,
    /// Response name → response.
    responses: HashMap<Arc<str>, MockedResponse>,
}

impl MockConfig {
    /// Parses the file's text. The error lists every problem found, one per line, each with its
    /// JSON location (`/MockedResponses/R/1-2: …`).
    pub fn parse(text: &str) -> Result<MockConfig, String> {
        let root = value::parse(text)
            .map_err(|e| format!("The mock configuration file is not valid JSON: {e}"))?;
        let mut errors = Vec::new();
        let config = MockConfig::from_value(&root, &mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(format!(
                "Invalid mock configuration file:\n{}",
                errors.join("\n")
            ))
        }
    }

    fn from_value(root: &Value, errors: &mut Vec<String>) -> MockConfig {
        let mut config = MockConfig::default();
        let Some(root) = root.as_object() else {
            errors.push("/: the mock configuration must be a JSON object".into());
            return config;
        };
        for key in root.keys() {
            if &**key != "StateMachines" && &**key != "MockedResponses" {
                errors.push(format!(
                    "/{key}: unknown field (expected StateMachines, MockedResponses)"
                ));
            }
        }
        if let Some(sms) = root.get("StateMachines") {
            for (sm, body) in each_object(sms, "/StateMachines", errors) {
                let loc = format!("/StateMachines/{sm}");
                let Some(cases) = body.get("TestCases") else {
                    errors.push(format!("{loc}: missing field TestCases"));
                    continue;
                };
                if body.as_object().is_some_and(|o| o.len() > 1) {
                    errors.push(format!("{loc}: only the field TestCases is allowed"));
                }
                let mut parsed = HashMap::new();
                for (case, states) in each_object(cases, &format!("{loc}/TestCases"), errors) {
                    let cloc = format!("{loc}/TestCases/{case}");
                    let mut map = HashMap::new();
                    for (state, name) in each_object(states, &cloc, errors) {
                        match name.as_str() {
                            Some(n) => {
                                map.insert(state.clone(), Arc::from(n));
                            }
                            None => errors.push(format!(
                                "{cloc}/{state}: must be the name of a mocked response (a string)"
                            )),
                        }
                    }
                    parsed.insert(case.to_string(), map);
                }
                config.machines.insert(sm.to_string(), parsed);
            }
        }
        if let Some(responses) = root.get("MockedResponses") {
            for (name, body) in each_object(responses, "/MockedResponses", errors) {
                let loc = format!("/MockedResponses/{name}");
                let response = parse_response(body, &loc, errors);
                config.responses.insert(name.clone(), response);
            }
        }
        config
    }

    /// Whether the file defines `case` for state machine `sm`, so StartExecution can reject an
    /// unknown test case up front.
    pub fn has_test_case(&self, sm: &str, case: &str) -> bool {
        self.machines.get(sm).is_some_and(|c| c.contains_key(case))
    }

    /// The name of the response mocking `state` in test case `case` of `sm`, if it is mocked.
    pub fn response_name(&self, sm: &str, case: &str, state: &str) -> Option<&Arc<str>> {
        self.machines.get(sm)?.get(case)?.get(state)
    }

    /// A mocked response by name.
    pub fn response(&self, name: &str) -> Option<&MockedResponse> {
        self.responses.get(name)
    }

    /// What the `invocation`-th call of a mocked state returns: `None` when the state is not
    /// mocked in this test case (it falls through to the registered handlers).
    pub fn resolve(
        &self,
        sm: &str,
        case: &str,
        state: &str,
        invocation: u32,
    ) -> Option<Result<Value, TaskError>> {
        let name = self.response_name(sm, case, state)?;
        let Some(response) = self.responses.get(name) else {
            return Some(Err(TaskError::runtime(format!(
                "The mocked response '{name}' used by state '{state}' in test case '{case}' \
                 is not defined in MockedResponses."
            ))));
        };
        Some(match response.step(invocation) {
            Some(MockStep::Return(v)) => Ok(v.clone()),
            Some(MockStep::Throw { error, cause }) => Err(TaskError {
                error: error.clone(),
                cause: cause.clone(),
            }),
            None => Err(TaskError::runtime(format!(
                "The mocked response '{name}' for state '{state}' in test case '{case}' defines \
                 no response for invocation {invocation}."
            ))),
        })
    }
}

/// The members of an object, reporting a non-object at `loc`.
fn each_object<'a>(
    v: &'a Value,
    loc: &str,
    errors: &mut Vec<String>,
) -> Vec<(&'a Arc<str>, &'a Value)> {
    match v.as_object() {
        Some(o) => o.iter().collect(),
        None => {
            errors.push(format!("{loc}: must be an object, got {}", v.type_name()));
            Vec::new()
        }
    }
}

/// An invocation key: `"3"` or the inclusive range `"1-2"`.
fn parse_range(key: &str) -> Option<(u32, u32)> {
    let digits = |s: &str| {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match key.split_once('-') {
        None => digits(key).map(|n| (n, n)),
        Some((lo, hi)) => {
            let (lo, hi) = (digits(lo)?, digits(hi)?);
            (lo <= hi).then_some((lo, hi))
        }
    }
}

fn parse_response(body: &Value, loc: &str, errors: &mut Vec<String>) -> MockedResponse {
    let mut steps = Vec::new();
    for (key, step) in each_object(body, loc, errors) {
        let sloc = format!("{loc}/{key}");
        let Some((lo, hi)) = parse_range(key) else {
            errors.push(format!(
                "{sloc}: an invocation must be a number (\"0\") or an inclusive range (\"1-2\")"
            ));
            continue;
        };
        let Some(obj) = step.as_object() else {
            errors.push(format!("{sloc}: must be an object with Return or Throw"));
            continue;
        };
        let parsed = match (obj.get("Return"), obj.get("Throw"), obj.len()) {
            (Some(v), None, 1) => Some(MockStep::Return(v.clone())),
            (None, Some(t), 1) => parse_throw(t, &sloc, errors),
            _ => {
                errors.push(format!(
                    "{sloc}: must contain exactly one field, Return or Throw"
                ));
                None
            }
        };
        if let Some(p) = parsed {
            steps.push((lo, hi, p));
        }
    }
    steps.sort_by_key(|(lo, _, _)| *lo);
    for pair in steps.windows(2) {
        if pair[1].0 <= pair[0].1 {
            errors.push(format!(
                "{loc}: invocations {}-{} and {}-{} overlap",
                pair[0].0, pair[0].1, pair[1].0, pair[1].1
            ));
        }
    }
    MockedResponse { steps }
}

fn parse_throw(t: &Value, loc: &str, errors: &mut Vec<String>) -> Option<MockStep> {
    let Some(obj) = t.as_object() else {
        errors.push(format!(
            "{loc}/Throw: must be an object with Error and Cause"
        ));
        return None;
    };
    let error = match obj.get("Error").and_then(Value::as_str) {
        Some(e) => e.to_string(),
        None => {
            errors.push(format!("{loc}/Throw/Error: must be a string"));
            return None;
        }
    };
    let cause = match obj.get("Cause") {
        None => None,
        Some(Value::String(c)) => Some(c.to_string()),
        Some(_) => {
            errors.push(format!("{loc}/Throw/Cause: must be a string"));
            return None;
        }
    };
    if let Some(k) = obj.keys().find(|k| &***k != "Error" && &***k != "Cause") {
        errors.push(format!(
            "{loc}/Throw/{k}: unknown field (expected Error, Cause)"
        ));
    }
    Some(MockStep::Throw { error, cause })
}
