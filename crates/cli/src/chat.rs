//! `llmops chat`: stream an answer from the local model or a provider.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use llmops_core::ModelBackend;
use llmops_core::pricing::{PriceTable, format_usd};
use llmops_core::providers::anthropic::AnthropicBackend;
use llmops_core::providers::openai::OpenAiBackend;
use llmops_core::types::{ChatMessage, ChatRequest, FinishReason, StreamOptions, Usage};
use llmops_local::{LocalBackend, LocalModelConfig, MODEL_ALIAS, MODEL_NAME};

use crate::failure::Failure;

/// Ask a model one question and stream the answer to standard output.
///
/// The model name picks the backend. `local` (the default) runs SmolLM2 on
/// this machine. `claude-*` models go to Anthropic (ANTHROPIC_API_KEY). Any
/// other name goes to the OpenAI-compatible backend (OPENAI_API_KEY, plus
/// OPENAI_BASE_URL for vLLM, Ollama or a llama.cpp server). Token usage, time
/// to first token and cost are printed to standard error after the answer.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops chat \"What is the capital of France?\"\n  echo \"Summarise: ...\" | llmops chat -\n  llmops chat --model gpt-4o-mini \"Hello\""
)]
pub(crate) struct Args {
    /// The question; `-` reads it from standard input.
    question: String,

    /// Model name: `local` for the embedded SmolLM2, or a provider's model.
    #[arg(long, short, default_value = MODEL_ALIAS, value_parser = crate::input::parse_model_name)]
    model: String,

    /// A system message sent before the question.
    #[arg(long)]
    system: Option<String>,

    /// Cap on generated tokens, at least 1.
    #[arg(long, value_name = "TOKENS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_tokens: u32,

    /// Sampling temperature, 0 to 2; 0 picks the most likely token each step.
    #[arg(long, default_value_t = 0.0)]
    temperature: f64,

    /// Seed for sampling, so a run with temperature above 0 can be repeated.
    #[arg(long)]
    seed: Option<i64>,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    if !(0.0..=2.0).contains(&args.temperature) {
        return Err(Failure::Usage(format!(
            "invalid --temperature {}: use a value from 0 to 2",
            args.temperature
        )));
    }
    let question = read_question(&args.question)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(chat(args, question))
}

fn read_question(argument: &str) -> Result<String, Failure> {
    let question = if argument == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the question from standard input")?;
        text
    } else {
        argument.to_owned()
    };
    if question.trim().is_empty() {
        return Err(Failure::Usage(
            "the question is empty: pass it as an argument or on standard input with `-`".into(),
        ));
    }
    Ok(question)
}

pub(crate) async fn backend_for(model: &str) -> Result<Arc<dyn ModelBackend>, Failure> {
    if model == MODEL_ALIAS || model == MODEL_NAME {
        let backend = LocalBackend::load(LocalModelConfig::default())
            .await
            .map_err(anyhow::Error::from)?;
        return Ok(Arc::new(backend));
    }
    if model.starts_with("claude") {
        let backend = AnthropicBackend::from_env().map_err(anyhow::Error::from)?;
        return Ok(Arc::new(backend));
    }
    let backend = OpenAiBackend::from_env().map_err(anyhow::Error::from)?;
    Ok(Arc::new(backend))
}

async fn chat(args: Args, question: String) -> Result<(), Failure> {
    let backend = backend_for(&args.model).await?;

    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(ChatMessage::system(system.clone()));
    }
    messages.push(ChatMessage::user(question));
    let mut request = ChatRequest::new(args.model.clone(), messages);
    request.max_tokens = Some(args.max_tokens);
    request.temperature = Some(args.temperature);
    request.seed = args.seed;
    request.stream = Some(true);
    request.stream_options = Some(StreamOptions {
        include_usage: Some(true),
        ..StreamOptions::default()
    });

    let started = Instant::now();
    let mut stream = backend.stream(request).await.map_err(anyhow::Error::from)?;
    let mut first_token_ms = None;
    let mut usage = None;
    let mut finish_reason = None;
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(anyhow::Error::from)?;
        if let Some(text) = chunk.delta_text().filter(|text| !text.is_empty()) {
            first_token_ms.get_or_insert_with(|| started.elapsed().as_millis());
            write!(stdout, "{text}").context("failed to write to standard output")?;
            stdout
                .flush()
                .context("failed to write to standard output")?;
        }
        if let Some(reason) = chunk.choices.first().and_then(|c| c.finish_reason.clone()) {
            finish_reason = Some(reason);
        }
        if chunk.usage.is_some() {
            usage = chunk.usage;
        }
    }
    writeln!(stdout).context("failed to write to standard output")?;
    if finish_reason == Some(FinishReason::Length) {
        eprintln!("(stopped at the --max-tokens limit of {})", args.max_tokens);
    }
    report(
        &args.model,
        usage.as_ref(),
        first_token_ms,
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

fn report(model: &str, usage: Option<&Usage>, first_token_ms: Option<u128>, seconds: f64) {
    let Some(usage) = usage else {
        eprintln!("(the backend reported no usage)");
        return;
    };
    let first_token = first_token_ms.map_or("-".to_owned(), |ms| format!("{ms} ms"));
    eprintln!(
        "tokens: {} prompt, {} completion | first token: {first_token} | total: {seconds:.2} s",
        usage.prompt_tokens, usage.completion_tokens
    );
    let cost = PriceTable::defaults().and_then(|table| table.cost(model, usage));
    match cost {
        Ok(cost) => eprintln!("cost: {}", format_usd(cost.total_usd)),
        Err(_) if model == MODEL_ALIAS || model == MODEL_NAME => {
            eprintln!("cost: none (runs on this machine)");
        }
        Err(error) => eprintln!("cost: unknown ({error})"),
    }
}
