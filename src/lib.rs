//! Expressway: an embedded, high-throughput engine for AWS Step Functions Express workflows.
#![deny(unsafe_code)]

pub mod definition;
#[cfg(feature = "server")]
pub mod server;
pub mod value;
