//! Error names as AWS spells them, and the failure value that carries them.

use crate::value::Str;

/// Names of the errors Step Functions raises itself.
pub struct ErrorName;

impl ErrorName {
    /// Matches every error name in `ErrorEquals` except `States.Runtime`; never raised itself.
    pub const ALL: &'static str = "States.ALL";
    /// The execution hit something it cannot go on from (a path on the wrong type, bad JSON).
    pub const RUNTIME: &'static str = "States.Runtime";
    /// A Task ran past `TimeoutSeconds`, or the execution past its own timeout.
    pub const TIMEOUT: &'static str = "States.Timeout";
    /// Matches every error a Task raises except `States.Timeout`; never raised itself.
    pub const TASK_FAILED: &'static str = "States.TaskFailed";
    /// A state's input, output or result is over the payload limit (256 KiB).
    pub const DATA_LIMIT_EXCEEDED: &'static str = "States.DataLimitExceeded";
    /// A Choice state matched no rule and has no `Default`.
    pub const NO_CHOICE_MATCHED: &'static str = "States.NoChoiceMatched";
    /// An intrinsic function call failed (bad argument type, out of range, …).
    pub const INTRINSIC_FAILURE: &'static str = "States.IntrinsicFailure";
    /// A JSONata expression failed to evaluate (JSONata states).
    pub const QUERY_EVALUATION_ERROR: &'static str = "States.QueryEvaluationError";
    /// A Map's failed items went past `ToleratedFailureCount`/`Percentage`.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &'static str =
        "States.ExceedToleratedFailureThreshold";
    /// A Map's `ItemReader` could not read its items.
    pub const ITEM_READER_FAILED: &'static str = "States.ItemReaderFailed";
    /// A Map's `ResultWriter` could not write its results.
    pub const RESULT_WRITER_FAILED: &'static str = "States.ResultWriterFailed";
    /// The execution's role may not do what a state asked.
    pub const PERMISSIONS: &'static str = "States.Permissions";
    /// A Task sent no heartbeat within `HeartbeatSeconds`.
    pub const HEARTBEAT_TIMEOUT: &'static str = "States.HeartbeatTimeout";
    /// A Parallel branch or Map iteration failed, and the state fails with it.
    pub const BRANCH_FAILED: &'static str = "States.BranchFailed";
}

/// How a state (and then possibly the execution) failed: AWS's error name and cause text.
/// `cause: None` is an absent cause, distinct from an empty one.
#[derive(Debug, Clone, PartialEq)]
pub struct StatesError {
    /// The error name (`States.Timeout`, a task's error); `None` when a Fail state gave none.
    pub error: Option<Str>,
    /// The cause text; `None` when absent (distinct from empty).
    pub cause: Option<Str>,
}

impl StatesError {
    /// An error with a name and a cause.
    pub fn new(error: &str, cause: impl Into<Str>) -> StatesError {
        StatesError {
            error: Some(Str::from(error)),
            cause: Some(cause.into()),
        }
    }

    /// The error name, or `""` for a Fail state without `Error`.
    pub fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// Whether a Retry/Catch `ErrorEquals` entry matches this error.
    /// `States.Runtime` matches nothing (AWS fails the execution at once); `States.ALL` matches
    /// everything but `States.DataLimitExceeded`;
    /// `States.TaskFailed` matches every error except `States.Timeout` (and those two).
    pub fn matches(&self, pattern: &str) -> bool {
        let name = self.name();
        // States.Runtime is final: no Retry or Catch sees it, even when named explicitly.
        if name == ErrorName::RUNTIME {
            return false;
        }
        if pattern == name {
            return true;
        }
        let terminal = name == ErrorName::RUNTIME || name == ErrorName::DATA_LIMIT_EXCEEDED;
        match pattern {
            ErrorName::ALL => !terminal,
            ErrorName::TASK_FAILED => !terminal && name != ErrorName::TIMEOUT,
            _ => false,
        }
    }
}
