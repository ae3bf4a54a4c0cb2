//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[cfg(feature = "dashboard")]
mod support;

mod alerts;
mod budget_replace;
mod cardinality;
mod concurrency;
mod dashboard_browser;
mod dashboard_feedback;
mod dashboard_gateway;
mod dashboard_http;
mod feedback_store;
mod gateway;
mod otlp;
mod percentiles;
mod prometheus;
mod snapshot;
mod webhook;
mod windows;
