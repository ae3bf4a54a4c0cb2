//! Shared foundation of llmops: wire types, backend traits, errors, token
//! counting, pricing and HTTP provider backends.
//!
//! - [`types`]: requests, responses and stream chunks in the OpenAI Chat
//!   Completions wire format; unknown fields survive a round trip.
//! - [`ModelBackend`] and [`Embedder`]: the traits an application implements
//!   to plug in its own model or embedding provider.
//! - [`Error`]: one error type whose variants say whether a retry or a
//!   fallback may help.
//! - [`tokens`]: token counts with the model's own tokenizer, or a labelled
//!   estimate.
//! - [`pricing`]: a price table and the cost of usage in exact decimals.
//! - [`providers`]: OpenAI-compatible and Anthropic backends over HTTP.
//!
//! # Features
//!
//! - `openai` (default): the OpenAI-compatible HTTP backend.
//! - `anthropic` (default): the Anthropic Messages HTTP backend.
//!
//! # Example
//!
//! ```
//! use llmops_core::types::{ChatMessage, ChatRequest};
//!
//! let request = ChatRequest::new("gpt-4o-mini", vec![ChatMessage::user("Hello")]);
//! let json = serde_json::to_string(&request).unwrap();
//! assert_eq!(json, r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}"#);
//! ```

mod backend;
mod embed;
mod error;
pub mod pricing;
pub mod providers;
pub mod sse;
pub mod tokens;
pub mod types;

pub use backend::{BackendInfo, ChatStream, ModelBackend};
pub use embed::Embedder;
pub use error::{Error, Fallback, Result, TimeoutPhase};
