//! Expressway: an embedded, high-throughput engine for AWS Step Functions Express workflows.
//!
//! The pipeline: `definition` (parse, validate) → `compile` (a flat `Program`) → `vm` (a
//! sans-IO interpreter) → `engine` (the async driver), with `value`, `expr`, `jsonata` and
//! `tasks` beside them.
//!
//! From ASL text to output:
//!
//! ```
//! use expressway::engine::{Engine, ExecutionMeta, Settings};
//!
//! let engine = Engine::new(Settings::default());
//! let program = engine
//!     .compile(r#"{"StartAt": "Greet", "States": {"Greet": {"Type": "Pass",
//!         "Parameters": {"greeting.$": "States.Format('Hello, {}!', $.who)"}, "End": true}}}"#)
//!     .expect("a valid definition");
//! let meta = ExecutionMeta::express(engine.settings(), "hello", "first");
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! let outcome = rt.block_on(engine.execute(program, r#"{"who": "world"}"#, meta));
//! assert_eq!(outcome.status.as_str(), "SUCCEEDED");
//! assert_eq!(outcome.output.as_deref(), Some(r#"{"greeting":"Hello, world!"}"#));
//! ```
#![deny(unsafe_code)]

pub mod compile;
pub mod definition;
pub mod engine;
pub mod expr;
#[doc(hidden)]
pub mod fuzzing;
pub mod jsonata;
#[cfg(feature = "server")]
pub mod server;
pub mod tasks;
pub mod value;
pub mod vm;
