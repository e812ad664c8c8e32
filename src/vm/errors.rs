//! Error names as AWS spells them, and the failure value that carries them.

use crate::value::Str;

/// Names of the errors Step Functions raises itself.
pub struct ErrorName;

impl ErrorName {
    pub const ALL: &'static str = "States.ALL";
    pub const RUNTIME: &'static str = "States.Runtime";
    pub const TIMEOUT: &'static str = "States.Timeout";
    pub const TASK_FAILED: &'static str = "States.TaskFailed";
    pub const DATA_LIMIT_EXCEEDED: &'static str = "States.DataLimitExceeded";
    pub const NO_CHOICE_MATCHED: &'static str = "States.NoChoiceMatched";
    pub const INTRINSIC_FAILURE: &'static str = "States.IntrinsicFailure";
    pub const QUERY_EVALUATION_ERROR: &'static str = "States.QueryEvaluationError";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &'static str =
        "States.ExceedToleratedFailureThreshold";
    pub const ITEM_READER_FAILED: &'static str = "States.ItemReaderFailed";
    pub const RESULT_WRITER_FAILED: &'static str = "States.ResultWriterFailed";
    pub const PERMISSIONS: &'static str = "States.Permissions";
    pub const HEARTBEAT_TIMEOUT: &'static str = "States.HeartbeatTimeout";
    pub const BRANCH_FAILED: &'static str = "States.BranchFailed";
}

/// How a state (and then possibly the execution) failed: AWS's error name and cause text.
/// `cause: None` is an absent cause, distinct from an empty one.
#[derive(Debug, Clone, PartialEq)]
pub struct StatesError {
    pub error: Option<Str>,
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
