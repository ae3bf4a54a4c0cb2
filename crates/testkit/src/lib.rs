//! Mock OpenAI and Anthropic servers with fault injection, for testing
//! llmops and applications built on it over real loopback HTTP.
//!
//! - [`MockServer`]: an axum server on `127.0.0.1` and an ephemeral port
//!   that speaks OpenAI Chat Completions (`POST /v1/chat/completions`,
//!   `POST /v1/embeddings`, `GET /v1/models`) and Anthropic Messages
//!   (`POST /v1/messages`), as JSON or as server-sent events. It records
//!   every request for assertions.
//! - [`Scenario`]: the reply to one request. It is a text or tool-call reply,
//!   a real provider error ([`Fault`]), a replayed recording or a hang. Faults
//!   add latency, slow or delayed tokens, disconnects, malformed JSON and
//!   split writes.
//! - [`recorded`]: response bodies recorded from the real APIs, which the
//!   faults send and parser tests can replay.
//!
//! Scenarios are chosen per request: queued ones first (FIFO, with
//! model-specific ones ahead), then sticky ones, then the default
//! [`Scenario::echo`].
//!
//! # Example
//!
//! ```
//! use llmops_testkit::{Fault, MockServer, Scenario};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::start().await?;
//! server.push_for_model("gpt-4o", Scenario::error(Fault::RateLimit { retry_after_s: Some(2) }));
//! server.push(Scenario::text("Hello from the mock").with_usage(12, 4));
//!
//! // Point a client at `server.openai_base_url()` or
//! // `server.anthropic_base_url()`. The next request for gpt-4o gets a 429,
//! // and the next request for any other model gets the text reply.
//! assert!(server.openai_base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(server.pending_scenarios(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! The `llmops-mock` binary runs the same server from the command line.

mod anthropic;
mod body;
mod counters;
mod embeddings;
mod error;
mod fault;
mod handler;
mod json;
mod openai;
pub mod recorded;
mod recording;
mod reply;
mod request;
mod rules;
mod scenario;
mod server;

pub use embeddings::embedding_for;
pub use error::MockError;
pub use fault::Fault;
pub use recording::RecordedRequest;
pub use rules::Route;
pub use scenario::Scenario;
pub use server::{MockServer, MockServerBuilder};
