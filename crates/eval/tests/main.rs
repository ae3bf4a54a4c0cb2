//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ares_support;
mod common;
mod judge_support;

mod answer_relevance_generated;
mod ares_judge;
mod dataset;
mod evaluator;
mod gate_report;
mod grounded_gateway;
mod grounded_hook;
mod groundedness;
mod groundedness_quality;
mod guard_metric;
mod judge;
mod judge_agreement;
mod labels;
mod metrics;
#[cfg(all(feature = "gateway", feature = "registry"))]
mod online;
mod porter_vectors;
mod props;
mod rag_metrics;
mod reference_vectors;
