//! Expressway: an embedded, high-throughput engine for AWS Step Functions Express workflows.
#![deny(unsafe_code)]

pub mod expr;
pub mod value;
