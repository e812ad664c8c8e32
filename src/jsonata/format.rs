//! Number formatting built-ins: `$formatNumber`, `$formatBase`, `$formatInteger`, `$parseInteger`.

use super::functions::Builtin;

pub(crate) fn table() -> Vec<Builtin> {
    vec![]
}
