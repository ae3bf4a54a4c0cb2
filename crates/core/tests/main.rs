//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod error_mapping;
mod http_backends;
mod openai_embeddings;
mod replay_anthropic;
mod replay_openai;
mod sse_chunking;
mod testkit_backends;
