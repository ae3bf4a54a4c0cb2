//! One benchmark run of llama.cpp through the `llama-cpp-2` bindings.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;

use crate::prompt;
use crate::report::{self, EngineReport};

/// Loads the model, formats the benchmark prompt with the model's chat
/// template and generates up to `max_tokens` tokens greedily, stopping
/// early at an end-of-generation token.
pub(crate) fn run(
    model_path: &Path,
    threads: usize,
    max_tokens: usize,
    context_tokens: usize,
) -> anyhow::Result<EngineReport> {
    let mut backend = LlamaBackend::init().context("failed to initialise llama.cpp")?;
    backend.void_logs();
    let threads_i32 = i32::try_from(threads)?;
    let context_u32 = u32::try_from(context_tokens)?;

    let load_start = Instant::now();
    let model = LlamaModel::load_from_file(&backend, model_path, &LlamaModelParams::default())
        .with_context(|| format!("failed to load {}", model_path.display()))?;
    let context_params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(context_u32))
        .with_n_batch(context_u32)
        .with_n_threads(threads_i32)
        .with_n_threads_batch(threads_i32);
    let mut ctx = model
        .new_context(&backend, context_params)
        .context("failed to create the llama.cpp context")?;
    let load_ms = report::millis(load_start.elapsed());

    let template = model
        .chat_template(None)
        .context("the model has no chat template")?;
    let messages = [
        LlamaChatMessage::new("system".into(), prompt::SYSTEM.into())?,
        LlamaChatMessage::new("user".into(), prompt::USER.into())?,
    ];
    let prompt_text = model.apply_chat_template(&template, &messages, true)?;
    let vocab = model.vocab();

    // Time to first token covers tokenizing, the prompt pass and one sample.
    let prompt_start = Instant::now();
    let prompt_ids = vocab.tokenize(prompt_text.as_bytes(), false, true);
    let mut batch = LlamaBatch::new(context_tokens, 1);
    let last_index = prompt_ids.len().saturating_sub(1);
    for (position, id) in prompt_ids.iter().enumerate() {
        batch.add(*id, i32::try_from(position)?, &[0], position == last_index)?;
    }
    ctx.decode(&mut batch)
        .context("llama.cpp failed on the prompt")?;
    let mut sampler = LlamaSampler::greedy();
    let mut token = sampler.sample(&ctx, batch.n_tokens() - 1);
    let first_token_at = Instant::now();
    let first_token_cpu_ms = report::process_cpu_ms()?;
    let ttft_ms = report::millis(first_token_at - prompt_start);

    let mut generated = Vec::new();
    let mut last_token_at = first_token_at;
    let mut position = prompt_ids.len();
    while !vocab.is_eog(token) {
        generated.push(token);
        last_token_at = Instant::now();
        if generated.len() == max_tokens {
            break;
        }
        batch.clear();
        batch.add(token, i32::try_from(position)?, &[0], true)?;
        position += 1;
        ctx.decode(&mut batch)
            .context("llama.cpp failed during generation")?;
        token = sampler.sample(&ctx, 0);
    }

    let generation_cpu_ms = report::process_cpu_ms()? - first_token_cpu_ms;
    let text = String::from_utf8_lossy(&vocab.detokenize(&generated, false, false)).into_owned();
    Ok(EngineReport {
        engine: "llama.cpp".into(),
        threads,
        load_ms,
        prompt_tokens: prompt_ids.len(),
        ttft_ms,
        generated_tokens: generated.len(),
        generation_ms: report::millis(last_token_at - first_token_at),
        generation_cpu_ms,
        peak_rss_kib: report::peak_rss_kib()?,
        final_rss_kib: report::current_rss_kib()?,
        text_head: report::head(&text, 80),
    })
}
