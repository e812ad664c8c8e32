//! The Amazon States Language as serde types, spelled exactly as AWS spells the fields.
//!
//! One flat `State` struct carries every field any state type accepts; which fields a type may
//! carry, and in which query language, is `validate`'s business, so that a definition with several
//! problems is reported whole instead of failing at serde's first surprise. Fields that may hold a
//! JSONata `{% … %}` string where JSONPath wants a number (`TimeoutSeconds`, `Seconds`,
//! `MaxConcurrency`, …) are kept as raw JSON (`Json`) and typed by `typed::lower`, which turns
//! this model into one enum variant per state type.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Raw JSON for fields whose type depends on the query language or that hold payload templates.
pub type Json = serde_json::Value;

/// A whole state machine (or a Parallel branch / Map processor: the same shape).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Definition {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: IndexMap<String, State>,
    pub timeout_seconds: Option<Json>,
    pub version: Option<String>,
    pub query_language: Option<QueryLanguage>,
    /// Map `ItemProcessor` only.
    pub processor_config: Option<ProcessorConfig>,
}

/// `QueryLanguage`, top level or per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum QueryLanguage {
    JSONPath,
    JSONata,
}

/// The eight state types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

/// Every field a state of any type can carry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct State {
    #[serde(rename = "Type")]
    pub kind: StateType,
    pub comment: Option<String>,
    pub query_language: Option<QueryLanguage>,
    pub next: Option<String>,
    pub end: Option<bool>,

    // JSONPath data flow. `InputPath`/`OutputPath`/`ResultPath` may be JSON `null`.
    #[serde(default, deserialize_with = "nullable")]
    pub input_path: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub output_path: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub result_path: Option<Option<String>>,
    pub parameters: Option<Json>,
    pub result_selector: Option<Json>,
    // JSONata data flow and variables.
    #[serde(default, deserialize_with = "present")]
    pub arguments: Option<Json>,
    #[serde(default, deserialize_with = "present")]
    pub output: Option<Json>,
    pub assign: Option<Json>,

    pub retry: Option<Vec<Retrier>>,
    pub catch: Option<Vec<Catcher>>,

    // Pass
    #[serde(default, deserialize_with = "present")]
    pub result: Option<Json>,

    // Task
    pub resource: Option<String>,
    pub timeout_seconds: Option<Json>,
    pub timeout_seconds_path: Option<String>,
    pub heartbeat_seconds: Option<Json>,
    pub heartbeat_seconds_path: Option<String>,
    pub credentials: Option<Json>,

    // Choice
    pub choices: Option<Vec<ChoiceRule>>,
    pub default: Option<String>,

    // Wait
    pub seconds: Option<Json>,
    pub timestamp: Option<Json>,
    pub seconds_path: Option<String>,
    pub timestamp_path: Option<String>,

    // Fail
    pub error: Option<Json>,
    pub cause: Option<Json>,
    pub error_path: Option<String>,
    pub cause_path: Option<String>,

    // Parallel
    pub branches: Option<Vec<Definition>>,

    // Map
    pub iterator: Option<Definition>,
    pub item_processor: Option<Definition>,
    pub items_path: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub items: Option<Json>,
    pub item_selector: Option<Json>,
    pub item_reader: Option<Json>,
    pub item_batcher: Option<Json>,
    pub result_writer: Option<Json>,
    pub max_concurrency: Option<Json>,
    pub max_concurrency_path: Option<String>,
    pub tolerated_failure_count: Option<Json>,
    pub tolerated_failure_count_path: Option<String>,
    pub tolerated_failure_percentage: Option<Json>,
    pub tolerated_failure_percentage_path: Option<String>,
    pub label: Option<String>,
}

/// A Choice rule: a comparison on `Variable` (JSONPath), a JSONata `Condition`, or a boolean
/// combination. Only top-level rules carry `Next` (and, in JSONata, `Output`/`Assign`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChoiceRule {
    pub variable: Option<String>,
    pub and: Option<Vec<ChoiceRule>>,
    pub or: Option<Vec<ChoiceRule>>,
    pub not: Option<Box<ChoiceRule>>,
    pub next: Option<String>,
    pub condition: Option<Json>,
    pub output: Option<Json>,
    pub assign: Option<Json>,
    pub comment: Option<String>,
    /// The comparison operator(s), e.g. `"StringEquals": "x"`; `validate` allows exactly one.
    #[serde(flatten)]
    pub comparisons: IndexMap<String, Json>,
}

/// A `Retry` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: Option<Json>,
    pub max_attempts: Option<Json>,
    pub backoff_rate: Option<Json>,
    pub max_delay_seconds: Option<Json>,
    pub jitter_strategy: Option<String>,
    pub comment: Option<String>,
}

/// A `Catch` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    #[serde(default, deserialize_with = "nullable")]
    pub result_path: Option<Option<String>>,
    pub output: Option<Json>,
    pub assign: Option<Json>,
    pub comment: Option<String>,
}

/// `ItemProcessor.ProcessorConfig`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorConfig {
    pub mode: Option<String>,
    pub execution_type: Option<String>,
}

/// A field that is present, even as JSON `null` (`"Output": null` outputs null), is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

/// Distinguishes an absent field (`None`) from an explicit JSON `null` (`Some(None)`): for
/// `InputPath`/`OutputPath`/`ResultPath` the two mean different things.
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl Definition {
    /// Parses a definition that `validate` accepted. A shape serde rejects here is reported as a
    /// schema diagnostic by the caller.
    pub fn from_json(v: &serde_json::Value) -> Result<Definition, serde_json::Error> {
        Definition::deserialize(v)
    }
}
