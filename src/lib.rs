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
//!
//! Embedding it:
//!
//! - **Features.** `cli` (the binary), `server` ([`server`], hyper) and `http-client`
//!   ([`tasks::LambdaHttpClient`]) are on by default; an embedder takes
//!   `expressway = { …, default-features = false }` and gets the engine alone. `demo` (on with
//!   `cli`) adds `tasks::demo`, the tutorial stand-ins that `--demo-tasks` and the benches use.
//! - **Runtime.** [`engine::Engine::execute`] runs on the caller's tokio runtime. Build it with
//!   `enable_all()` (or `enable_time()`): Waits, retries, `TimeoutSeconds` and the execution's
//!   timeout use tokio's timers, and an execution that needs one where there is none fails with
//!   `States.Runtime` naming the cause instead of panicking.
//! - **Tasks.** [`tasks::TaskRegistry::register_fn`] serves a `Resource` written exactly so;
//!   [`tasks::TaskRegistry::register_lambda`] with a [`tasks::LambdaBackend`] serves Lambda
//!   functions in every form a workflow names them (`lambda:invoke` with any `FunctionName`, bare
//!   function ARNs, qualifiers).
//!
//! README.md's "Use it as a library" holds a complete program with a Lambda function written in
//! Rust (compiled by `cargo test`), and `examples/embed_credit.rs` runs the Step Functions
//! tutorial's credit-card workflow with Rust handlers (`cargo run --example embed_credit`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

/// README.md's Rust examples ("Use it as a library"), compiled and run by `cargo test` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// `Program`'s tables and `definition::model`'s flat `State` get their field docs with the typed
// definition that replaces them (issue 17 item 1, in progress elsewhere).
#[allow(missing_docs)]
pub mod compile;
pub mod definition;
pub(crate) mod digest;
pub mod engine;
pub mod expr;
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
pub mod jsonata;
#[cfg(any(feature = "server", feature = "http-client"))]
pub(crate) mod percent;
#[cfg(feature = "server")]
pub mod server;
pub mod tasks;
pub mod value;
pub mod vm;
