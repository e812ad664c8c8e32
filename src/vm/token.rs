//! Task tokens: `$$.Task.Token` for `.waitForTaskToken` Tasks.
//!
//! A token is `AQ`, 32 hex digits drawn once per execution, then 16 hex digits counting the
//! tokens that execution issued (shared by its Parallel branches and Map iterations), so each
//! attempt of each callback Task gets its own. The VM only makes them; the engine's callback
//! registry parks the Task until one is answered.

use crate::value::Str;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The tokens of one execution; cloning shares the counter.
#[derive(Debug, Clone, Default)]
pub struct TokenSource {
    seed: u128,
    issued: Arc<AtomicU64>,
}

/// Length of every token this engine issues.
pub const TOKEN_LEN: usize = 2 + 32 + 16;

impl TokenSource {
    /// Tokens starting from `seed`: random per execution (the engine draws it), so that a
    /// token names one attempt of one Task among all executions.
    pub fn new(seed: u128) -> TokenSource {
        TokenSource {
            seed,
            issued: Arc::default(),
        }
    }

    /// A fresh token.
    pub fn next(&self) -> Str {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        Str::from(format!("AQ{:032x}{n:016x}", self.seed))
    }
}

/// Whether `token` has the shape of one this engine issues (AWS answers `InvalidToken` for
/// anything else).
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.starts_with("AQ")
        && token[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_well_formed() {
        let s = TokenSource::new(0xfeed);
        let (a, b) = (s.next(), s.clone().next());
        assert_ne!(a, b);
        assert!(is_well_formed(&a) && is_well_formed(&b));
        for bad in ["", "AQ", "token", &a[..TOKEN_LEN - 1], &a.to_uppercase()] {
            assert!(!is_well_formed(bad), "{bad}");
        }
        assert!(!is_well_formed(&format!("{a}0")));
        assert!(!is_well_formed("AQééééééééééééééééééééééééé"));
    }
}
