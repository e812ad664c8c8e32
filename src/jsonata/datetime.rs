//! Date/time built-ins: `$now`, `$millis`, `$fromMillis`, `$toMillis`.

use super::functions::Builtin;

pub(crate) fn table() -> Vec<Builtin> {
    vec![]
}
