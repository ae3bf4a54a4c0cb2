//! Examples, integration tests and benchmarks of the llmops workspace.
//!
//! This package publishes nothing; it gives `examples/`, `tests/` and
//! `benches/` at the workspace root a home, so `cargo run --example
//! quickstart` works from a fresh clone.

/// The README's Rust examples, compiled by `cargo test --doc` so they keep
/// up with the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
