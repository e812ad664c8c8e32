//! Expressway: an embedded, high-throughput engine for AWS Step Functions Express workflows.
#![deny(unsafe_code)]

pub mod definition;
pub mod tasks;
pub mod value;
