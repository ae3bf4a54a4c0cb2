//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod append;
mod assessment;
mod export;
mod gateway_hook;
mod kept_tree_heads;
mod open_existing;
mod proofs;
mod props;
mod read_paths;
mod report;
mod retention;
mod review;
mod review_summary;
mod shred;
mod tail_and_head;
mod tamper;
