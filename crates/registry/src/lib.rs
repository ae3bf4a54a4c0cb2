//! Prompt templates and A/B experiments for llmops.
//!
//! - [`render`]: prompt templates (chat messages or a single text) checked
//!   against a variable schema, compiled once with MiniJinja and rendered
//!   strictly into `llmops_core` chat messages or text.
//! - [`experiment`]: sticky, deterministic assignment of units to weighted
//!   arms and the statistics to analyse the outcome, with a stopping
//!   recommendation. Pure logic: nothing here needs a database.
//!
//! See each module for an example.

pub mod experiment;
pub mod render;
