//! Task tokens: `$$.Task.Token` for `.waitForTaskToken` Tasks.
//!
//! A token is `AQ`, then 32 hex digits of two hashes of a process-wide counter under a key drawn
//! once per process (so tokens cannot be guessed from one another), then the counter itself in
//! 16 hex digits (so no two tokens of the process are equal). Each attempt of each callback Task
//! gets one; nothing is stored or allocated per execution. The VM only makes them; the engine's
//! callback registry parks the Task until one is answered.

use crate::value::Str;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Length of every token this engine issues.
pub const TOKEN_LEN: usize = 2 + 32 + 16;

/// A fresh token.
pub fn next() -> Str {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    static ISSUED: AtomicU64 = AtomicU64::new(0);
    let key = KEY.get_or_init(RandomState::new);
    let n = ISSUED.fetch_add(1, Ordering::Relaxed);
    let (hi, lo) = (key.hash_one((n, 0u8)), key.hash_one((n, 1u8)));
    Str::from(format!("AQ{hi:016x}{lo:016x}{n:016x}"))
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
        let (a, b) = (next(), next());
        assert_ne!(a, b);
        assert_ne!(a[2..34], b[2..34], "not guessable from one another");
        assert!(is_well_formed(&a) && is_well_formed(&b));
        for bad in ["", "AQ", "token", &a[..TOKEN_LEN - 1], &a.to_uppercase()] {
            assert!(!is_well_formed(bad), "{bad}");
        }
        assert!(!is_well_formed(&format!("{a}0")));
        assert!(!is_well_formed("AQééééééééééééééééééééééééé"));
    }
}
