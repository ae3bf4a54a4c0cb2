//! Integration tests, built as one binary so that the crate and its
//! dependencies are linked once, not once per file. Each module is one test
//! file, and a new file needs its `mod` line here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod serve_support;

mod audit_command;
mod bad_input;
mod chat_and_model_commands;
mod compliance_command;
mod cost_command;
mod drift_command;
mod eval_command;
mod eval_labels_command;
mod experiment_command;
mod guard_command;
mod prompt_command;
mod rag_command;
mod serve_command;
mod serve_guardrails;
mod serve_semantic_cache;
mod tokens_command;
