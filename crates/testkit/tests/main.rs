//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod anthropic_wire;
mod api_key;
mod binary;
mod concurrency;
mod embeddings_models;
mod error_faults;
mod lifecycle;
mod openai_wire;
mod recording;
mod replay;
mod splits;
mod stream_faults;
mod wire_properties;
