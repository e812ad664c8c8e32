//! Expressway: an embedded, high-throughput engine for AWS Step Functions Express workflows.
#![deny(unsafe_code)]

pub mod jsonata;
pub mod value;
