//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod server_support;

mod active_health;
mod bounds;
mod budgets;
mod cache;
mod config;
mod limit_properties;
mod limits;
mod output_hook;
mod redis_state;
mod routing;
mod server_chat;
mod server_embeddings;
mod server_errors;
mod server_gateway_metrics;
mod server_keys;
mod server_lifecycle;
mod server_openai_python;
mod server_routes;
mod server_sighup;
mod server_transparency;
mod streaming;
mod task_routing;
