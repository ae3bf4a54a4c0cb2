//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod actions;
mod clinc150;
mod edge_cases;
mod panel;
mod properties;
mod reference_values;
mod store;
mod thresholds;
mod topics;
