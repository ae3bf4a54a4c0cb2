//! One benchmark run of the pure-Rust `llmops-local` backend through its
//! public streaming API.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use llmops_core::ModelBackend;
use llmops_core::types::{ChatMessage, ChatRequest, StreamOptions};
use llmops_local::{LocalBackend, LocalModelConfig};

use crate::prompt;
use crate::report::{self, EngineReport};

/// Loads the model with the backend's default settings, streams a greedy
/// completion of the benchmark prompt and times the chunks as they arrive.
///
/// The thread count reaches the backend's thread pool through
/// `RAYON_NUM_THREADS`, which the driver sets; `threads` is only recorded.
pub(crate) fn run(
    model_path: &Path,
    threads: usize,
    max_tokens: usize,
    context_tokens: usize,
) -> anyhow::Result<EngineReport> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(generate(model_path, threads, max_tokens, context_tokens))
}

async fn generate(
    model_path: &Path,
    threads: usize,
    max_tokens: usize,
    context_tokens: usize,
) -> anyhow::Result<EngineReport> {
    let load_start = Instant::now();
    let config = LocalModelConfig::default()
        .with_model_path(model_path)
        .with_download(false)
        .with_context_length(context_tokens);
    let backend = LocalBackend::load(config)
        .await
        .with_context(|| format!("failed to load {}", model_path.display()))?;
    let load_ms = report::millis(load_start.elapsed());

    let mut request = ChatRequest::new(
        "local",
        vec![
            ChatMessage::system(prompt::SYSTEM),
            ChatMessage::user(prompt::USER),
        ],
    );
    request.max_tokens = Some(u32::try_from(max_tokens)?);
    request.temperature = Some(0.0);
    request.stream = Some(true);
    request.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..StreamOptions::default()
    });

    // Time to first token runs from the request to the first chunk with text.
    let prompt_start = Instant::now();
    let mut stream = backend.stream(request).await?;
    let mut first_token_at = None;
    let mut first_token_cpu_ms = 0.0;
    let mut last_token_cpu_ms = 0.0;
    let mut last_token_at = prompt_start;
    let mut text = String::new();
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if let Some(delta) = chunk.delta_text().filter(|delta| !delta.is_empty()) {
            let now = Instant::now();
            let cpu_ms = report::process_cpu_ms()?;
            if first_token_at.is_none() {
                first_token_at = Some(now);
                first_token_cpu_ms = cpu_ms;
            }
            last_token_at = now;
            last_token_cpu_ms = cpu_ms;
            text.push_str(delta);
        }
        if chunk.usage.is_some() {
            usage = chunk.usage;
        }
    }
    let usage = usage.context("the stream ended without a usage chunk")?;
    let first_token_at = first_token_at.context("the stream produced no text")?;

    Ok(EngineReport {
        engine: "llmops-local".into(),
        threads,
        load_ms,
        prompt_tokens: usize::try_from(usage.prompt_tokens)?,
        ttft_ms: report::millis(first_token_at - prompt_start),
        generated_tokens: usize::try_from(usage.completion_tokens)?,
        generation_ms: report::millis(last_token_at - first_token_at),
        generation_cpu_ms: last_token_cpu_ms - first_token_cpu_ms,
        peak_rss_kib: report::peak_rss_kib()?,
        final_rss_kib: report::current_rss_kib()?,
        text_head: report::head(&text, 80),
    })
}
