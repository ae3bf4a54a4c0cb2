//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

mod chunking;
mod ingest;
mod metrics;
mod pack;
mod persistent_cache;
mod retrieval;
mod scifact;
mod semantic_cache;
mod versions;
