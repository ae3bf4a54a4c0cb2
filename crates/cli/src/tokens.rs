//! `llmops tokens`: count the tokens of a text file or a chat request.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use llmops_core::tokens::{TokenCount, TokenCounter};
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_local::{LocalModelConfig, LocalTokenizer, MODEL_ALIAS, MODEL_NAME};
use serde_json::Value;

use crate::failure::Failure;
use crate::input::read_text;
use crate::output::outln;

/// Count the tokens of a text file, or of a chat request with `--chat`.
///
/// Prints the count and whether it is exact (the model's own tokenizer) or
/// an estimate. OpenAI models (gpt-4o, gpt-4.1, o1/o3/o4, gpt-5, gpt-4,
/// gpt-3.5-turbo, text-embedding-3) are counted exactly with tiktoken. The
/// local model (`local`) is counted exactly with its own tokenizer, read
/// from the cached model file. Other models are estimated with o200k_base.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops tokens --model gpt-4o notes.txt\n  echo 'Hello' | llmops tokens --model gpt-4o -\n  llmops tokens --model gpt-4o --chat request.json"
)]
pub(crate) struct Args {
    /// Model whose tokenizer to use, such as gpt-4o or openai/gpt-4o-mini.
    #[arg(long, short, value_parser = crate::input::parse_model_name)]
    model: String,

    /// Read FILE as a JSON chat request (an object with `messages` and
    /// optional `tools`) or a JSON list of messages, and include the chat
    /// format's per-message and reply tokens.
    #[arg(long)]
    chat: bool,

    /// UTF-8 text file to count, or `-` for standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let text = read_text(&args.file)?;
    let mut counter = TokenCounter::new();
    if args.model == MODEL_ALIAS || args.model == MODEL_NAME {
        let tokenizer = local_tokenizer()?;
        counter.register(MODEL_ALIAS, tokenizer.clone());
        counter.register(MODEL_NAME, tokenizer);
    }
    let count = if args.chat {
        let request = parse_chat(&text, &args.model)
            .with_context(|| format!("{} is not a chat request", args.file.display()))?;
        counter.count_request(&request)
    } else {
        counter.count_text(&args.model, &text)
    };
    print_count(&count);
    Ok(())
}

/// Loads the local model's tokenizer from the cached model file, without
/// loading the weights or downloading anything.
fn local_tokenizer() -> anyhow::Result<Arc<LocalTokenizer>> {
    let config = LocalModelConfig::default().with_download(false);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let path = runtime
        .block_on(config.locate_model())
        .context("the local model file is needed to count its tokens; run `llmops model fetch`")?;
    Ok(Arc::new(LocalTokenizer::from_gguf_file(&path)?))
}

fn print_count(count: &TokenCount) {
    outln!("{count}");
}

/// Parses a chat request or a bare message list; `model` replaces the
/// request's own model because the count is for `--model`.
fn parse_chat(text: &str, model: &str) -> anyhow::Result<ChatRequest> {
    let value: Value = serde_json::from_str(text).context("invalid JSON")?;
    let mut request = match value {
        Value::Array(_) => {
            let messages: Vec<ChatMessage> = serde_json::from_value(value)
                .context("expected a list of messages with `role` and `content`")?;
            ChatRequest::new(model, messages)
        }
        Value::Object(mut object) => {
            if !object.contains_key("messages") {
                anyhow::bail!("expected an object with a `messages` list, or a list of messages");
            }
            if let Some(Value::String(own)) = object.get("model") {
                if own != model {
                    eprintln!("note: counting for --model {model}, not the request's model {own}");
                }
            }
            object.insert("model".to_owned(), Value::String(model.to_owned()));
            serde_json::from_value(Value::Object(object))
                .context("the request does not match the chat completions format")?
        }
        _ => anyhow::bail!("expected an object with a `messages` list, or a list of messages"),
    };
    request.model = model.to_owned();
    Ok(request)
}
