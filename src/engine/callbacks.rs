//! Task tokens in flight: where a `.waitForTaskToken` Task waits and SendTask* answers it.
//!
//! The driver parks a Task under its token (a channel receiver, no thread, no polling); the API
//! (`SendTaskSuccess`/`Failure`/`Heartbeat`) or an embedder holding [`Callbacks`] sends the
//! answer. A token leaves the live table when its Task ends in any way (answered, timed out,
//! execution stopped: the parked guard's `Drop`) and is then remembered among the recently
//! closed ones, so a second answer gets AWS's `TaskTimedOut` rather than `TaskDoesNotExist`.

use crate::value::{Str, Value};
use crate::vm::token::is_well_formed;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// How many closed tokens are remembered (oldest forgotten first).
const CLOSED_KEPT: usize = 100_000;

/// What a parked Task receives.
#[derive(Debug)]
pub(crate) enum Answer {
    Success(Value),
    Failure {
        error: Option<String>,
        cause: Option<String>,
    },
    Heartbeat,
}

/// Why an answer was refused, with AWS's error code (`InvalidToken`, `TaskDoesNotExist`,
/// `TaskTimedOut`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    /// AWS's error code (`InvalidToken`, `TaskDoesNotExist`, `TaskTimedOut`).
    pub code: &'static str,
    /// AWS's message, naming the token.
    pub message: String,
}

/// The answering side of task tokens; cheap to clone and keep (an embedder's handle).
#[derive(Clone, Default)]
pub struct Callbacks {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Parked Tasks by token. A std mutex: held only to look up, insert or remove.
    live: Mutex<HashMap<Str, mpsc::UnboundedSender<Answer>>>,
    /// Recently closed tokens, with their order of closing for forgetting the oldest.
    closed: Mutex<(HashSet<Str>, VecDeque<Str>)>,
}

/// A parked Task: receives its answers; unregisters its token when dropped.
pub(crate) struct Parked {
    token: Str,
    pub(crate) answers: mpsc::UnboundedReceiver<Answer>,
    inner: Arc<Inner>,
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.inner.close(&self.token);
    }
}

impl Inner {
    /// Ends a parked Task's token: a later answer gets `TaskTimedOut`.
    fn close(&self, token: &str) {
        if lock(&self.live).remove(token).is_some() {
            self.remember_closed(token);
        }
    }

    fn remember_closed(&self, token: &str) {
        let token = Str::from(token);
        let mut closed = lock(&self.closed);
        if closed.0.insert(token.clone()) {
            closed.1.push_back(token);
        }
        while closed.1.len() > CLOSED_KEPT {
            if let Some(old) = closed.1.pop_front() {
                closed.0.remove(&old);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves the maps consistent (single inserts/removes).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Callbacks {
    /// SendTaskSuccess: the Task succeeds with `output` as its result.
    pub fn send_success(&self, token: &str, output: Value) -> Result<(), CallbackError> {
        self.answer(token, Answer::Success(output))
    }

    /// SendTaskFailure: the Task fails with `error` and `cause` (its Retry and Catch apply).
    pub fn send_failure(
        &self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), CallbackError> {
        self.answer(
            token,
            Answer::Failure {
                error: error.map(str::to_string),
                cause: cause.map(str::to_string),
            },
        )
    }

    /// SendTaskHeartbeat: restarts the Task's `HeartbeatSeconds`.
    pub fn send_heartbeat(&self, token: &str) -> Result<(), CallbackError> {
        self.answer(token, Answer::Heartbeat)
    }

    /// How many Tasks wait for a token now.
    pub fn waiting(&self) -> usize {
        lock(&self.inner.live).len()
    }

    /// Registers `token` before its Task's resource is called, so no early answer is lost.
    pub(crate) fn park(&self, token: Str) -> Parked {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.inner.live).insert(token.clone(), tx);
        Parked {
            token,
            answers: rx,
            inner: self.inner.clone(),
        }
    }

    fn answer(&self, token: &str, answer: Answer) -> Result<(), CallbackError> {
        if !is_well_formed(token) {
            return Err(CallbackError {
                code: "InvalidToken",
                message: "Invalid Token: 'Unable to parse the task token'".into(),
            });
        }
        let final_answer = !matches!(answer, Answer::Heartbeat);
        let sent = {
            let mut live = lock(&self.inner.live);
            match live.get(token) {
                Some(tx) => {
                    let ok = tx.send(answer).is_ok();
                    if final_answer {
                        live.remove(token);
                    }
                    Some(ok)
                }
                None => None,
            }
        };
        if sent == Some(true) {
            if final_answer {
                self.inner.remember_closed(token);
            }
            return Ok(());
        }
        let closed = sent.is_some() || lock(&self.inner.closed).0.contains(token);
        Err(if closed {
            CallbackError {
                code: "TaskTimedOut",
                message: "Task Timed Out: 'Provided task does not exist anymore'".into(),
            }
        } else {
            CallbackError {
                code: "TaskDoesNotExist",
                message: "Task Does Not Exist: 'Provided task does not exist'".into(),
            }
        })
    }
}
