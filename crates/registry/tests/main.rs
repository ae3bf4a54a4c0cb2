//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

mod experiment_analysis;
mod experiment_assign;
mod experiment_props;
mod experiment_sequential;
mod experiment_stats;
mod experiment_store;
mod logging;
mod render_jinja2;
mod render_props;
mod render_rules;
mod score_summary;
mod transfer;
mod versions;
