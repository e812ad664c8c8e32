//! Expressway: an embedded, high-throughput engine for AWS Step Functions Express workflows.
//!
//! The pipeline: `definition` (parse, validate) → `compile` (a flat `Program`) → `vm` (a
//! sans-IO interpreter) → `engine` (the async driver), with `value`, `expr`, `jsonata` and
//! `tasks` beside them.
#![deny(unsafe_code)]

pub mod compile;
pub mod definition;
pub mod engine;
pub mod expr;
pub mod jsonata;
#[cfg(feature = "server")]
pub mod server;
pub mod tasks;
pub mod value;
pub mod vm;
