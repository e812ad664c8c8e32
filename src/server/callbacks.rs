//! SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: answers to the task tokens of
//! `.waitForTaskToken` Tasks, handed to the engine's callback registry.
//!
//! In: the request (`taskToken`, `output` or `error`/`cause`). Out: `{}`, or AWS's error when the
//! token is unknown, already answered or timed out.

use serde_json::json;

use super::Server;
use super::protocol::OpResult;
use super::protocol::{ApiError, Req};
use crate::engine::{CallbackError, Callbacks};

/// AWS's bound on `output`, in bytes.
const MAX_OUTPUT: usize = 262_144;

fn callbacks(server: &Server) -> &Callbacks {
    server.engine.callbacks()
}

fn refused(e: CallbackError) -> ApiError {
    ApiError::sfn(e.code, e.message)
}

fn token<'a>(r: &Req<'a>) -> Result<&'a str, ApiError> {
    r.str("taskToken", 1, 2048)
}

/// SendTaskSuccess: the waiting Task succeeds with `output` (JSON text).
pub fn send_success(server: &Server, r: &Req) -> OpResult {
    let token = token(r)?;
    let output = r.str("output", 0, MAX_OUTPUT)?;
    let value = crate::value::parse(output)
        .map_err(|e| ApiError::sfn("InvalidOutput", format!("Invalid Output: '{e}'")))?;
    callbacks(server)
        .send_success(token, value)
        .map_err(refused)?;
    Ok(json!({}))
}

/// SendTaskFailure: the waiting Task fails with `error` and `cause`.
pub fn send_failure(server: &Server, r: &Req) -> OpResult {
    let token = token(r)?;
    let error = r.opt_str("error", 0, 256)?;
    let cause = r.opt_str("cause", 0, 32_768)?;
    callbacks(server)
        .send_failure(token, error, cause)
        .map_err(refused)?;
    Ok(json!({}))
}

/// SendTaskHeartbeat: restarts the waiting Task's `HeartbeatSeconds`.
pub fn send_heartbeat(server: &Server, r: &Req) -> OpResult {
    callbacks(server)
        .send_heartbeat(token(r)?)
        .map_err(refused)?;
    Ok(json!({}))
}
