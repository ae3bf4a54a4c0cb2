//! Shared helpers of the model tests.
//!
//! The model file is found through the normal resolution (configured path,
//! `LLMOPS_LOCAL_MODEL`, then the cache). A model missing from the cache is
//! downloaded once per test binary before any test loads it, so concurrent
//! tests never fetch it twice, and a failed download fails the test with
//! the resolution error instead of skipping it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::StreamExt;
use llmops_core::ModelBackend;
use llmops_core::types::{ChatCompletionChunk, ChatMessage, ChatRequest};
use llmops_local::{LocalBackend, LocalModelConfig};
use tokio::sync::OnceCell;

/// Returns the configuration every model test uses, after fetching the
/// model into the cache when it is missing. Downloads are then off.
pub(crate) async fn config() -> LocalModelConfig {
    static FETCHED: OnceCell<()> = OnceCell::const_new();
    FETCHED
        .get_or_init(|| async {
            if let Err(error) = LocalModelConfig::default().locate_model().await {
                panic!("cannot find or fetch the local model: {error}");
            }
        })
        .await;
    LocalModelConfig::default().with_download(false)
}

/// Returns a backend loaded once per test binary.
pub(crate) async fn backend() -> &'static LocalBackend {
    static BACKEND: OnceCell<LocalBackend> = OnceCell::const_new();
    BACKEND
        .get_or_init(|| async {
            match LocalBackend::load(config().await).await {
                Ok(backend) => backend,
                Err(error) => panic!("cannot load the local model: {error}"),
            }
        })
        .await
}

/// A greedy request for `max_tokens` tokens answering `prompt`.
pub(crate) fn greedy(prompt: &str, max_tokens: u32) -> ChatRequest {
    let mut request = ChatRequest::new("local", vec![ChatMessage::user(prompt)]);
    request.temperature = Some(0.0);
    request.max_tokens = Some(max_tokens);
    request
}

/// Streams `request` and returns every chunk.
pub(crate) async fn collect(
    backend: &impl ModelBackend,
    request: ChatRequest,
) -> Vec<ChatCompletionChunk> {
    let mut stream = backend.stream(request).await.unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.unwrap());
    }
    chunks
}

/// Returns the concatenated content of `chunks`.
pub(crate) fn content(chunks: &[ChatCompletionChunk]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| chunk.delta_text())
        .collect()
}
