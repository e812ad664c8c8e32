//! A stack budget for the recursive parts of JSONata (parse, process, evaluate): recursion on
//! user input stops with an error before it can overflow the thread's stack, whatever the
//! build profile makes a frame cost. Depth counters alone cannot promise that: a debug build's
//! frames are many times larger than a release build's.

use std::cell::Cell;

/// Bytes of stack the parser (with `process`) may use below where `parse` started. Release
/// budgets leave half a MiB of a tokio worker's 2 MiB to the callers; a debug build's frames are
/// several times larger, so a debug build gets larger budgets and needs threads of 8 MiB or more
/// (as the jsonata-suite and robustness tests give it) to reach them.
pub(crate) const PARSE_BUDGET: usize = if cfg!(debug_assertions) {
    4 << 20
} else {
    1 << 20
};
/// Bytes of stack one evaluation may use below where it started. A debug build takes about
/// 22 KiB per evaluation level (jsonata-suite's non-tail `$factorial(99)` reaches 6.3 MiB).
pub(crate) const EVAL_BUDGET: usize = if cfg!(debug_assertions) {
    7 << 20
} else {
    3 << 19
};

thread_local! {
    /// Where the current `parse` call started on this thread's stack (0 = not parsing).
    static PARSE_BASE: Cell<usize> = const { Cell::new(0) };
}

/// An address in the caller's stack frame.
#[inline(always)]
pub(crate) fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Bytes of stack used between `base` and here (either growth direction).
pub(crate) fn used_since(base: usize) -> usize {
    base.abs_diff(here())
}

/// Marks where a parse starts; returns the previous mark to restore with `end_parse`.
pub(crate) fn begin_parse() -> usize {
    PARSE_BASE.with(|b| b.replace(here()))
}

/// Restores the mark `begin_parse` returned.
pub(crate) fn end_parse(previous: usize) {
    PARSE_BASE.with(|b| b.set(previous));
}

/// Whether the current parse has used up its stack budget.
pub(crate) fn parse_exhausted() -> bool {
    PARSE_BASE.with(|b| {
        let base = b.get();
        base != 0 && used_since(base) > PARSE_BUDGET
    })
}
