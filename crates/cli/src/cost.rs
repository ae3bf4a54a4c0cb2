//! `llmops cost`: price token counts for a model.

use std::path::PathBuf;

use anyhow::Context;
use llmops_core::Error;
use llmops_core::pricing::{PriceTable, format_usd};
use llmops_core::types::{CompletionTokensDetails, PromptTokensDetails, Usage};

use crate::failure::Failure;
use crate::input::parse_token_count;
use crate::output::outln;

/// Print the cost of one request's token usage, line by line, in US dollars.
///
/// Counts follow OpenAI's usage semantics: --input is all prompt tokens,
/// cached and cache-written ones included, and --output is all generated
/// tokens, reasoning included. For Anthropic usage, pass
/// --input = input_tokens + cache_creation_input_tokens +
/// cache_read_input_tokens, --cached = cache_read_input_tokens and
/// --cache-write = cache_creation_input_tokens.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (Claude 3.7 Sonnet, 3 input tokens plus 12304 written to the cache):\n  llmops cost --model claude-3-7-sonnet-20250219 --input 12307 --cache-write 12304 --output 550"
)]
pub(crate) struct Args {
    /// Model to price, such as gpt-4o or claude-3-7-sonnet-20250219.
    #[arg(long, short, value_parser = crate::input::parse_model_name)]
    model: String,

    /// Prompt tokens, including cached and cache-written tokens.
    #[arg(long, value_name = "TOKENS", value_parser = parse_token_count, allow_negative_numbers = true)]
    input: u64,

    /// Generated tokens, including reasoning tokens.
    #[arg(long, value_name = "TOKENS", value_parser = parse_token_count, allow_negative_numbers = true)]
    output: u64,

    /// Prompt tokens read from the prompt cache (part of --input).
    #[arg(long, value_name = "TOKENS", default_value = "0", value_parser = parse_token_count, allow_negative_numbers = true)]
    cached: u64,

    /// Prompt tokens written to the prompt cache (part of --input).
    #[arg(long, value_name = "TOKENS", default_value = "0", value_parser = parse_token_count, allow_negative_numbers = true)]
    cache_write: u64,

    /// Reasoning tokens (part of --output); priced apart only for models
    /// with a reasoning price.
    #[arg(long, value_name = "TOKENS", default_value = "0", value_parser = parse_token_count, allow_negative_numbers = true)]
    reasoning: u64,

    /// Price file merged over the built-in table: llmops TOML, or litellm's
    /// model_prices_and_context_window.json when the name ends in .json.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let mut table = PriceTable::defaults().context("failed to load the built-in price table")?;
    if let Some(path) = &args.prices {
        table.merge(PriceTable::load_file(path).map_err(anyhow::Error::from)?);
    }

    let Some(price) = table.get(&args.model) else {
        return Err(Failure::Usage(unknown_model_message(&table, &args.model)));
    };
    let usage = usage_from_args(&args);
    let cost = price.cost(&usage).map_err(|error| match error {
        Error::InvalidRequest { .. } => Failure::Usage(usage_error_message(&args, &error)),
        other => Failure::Other(other.into()),
    })?;

    let source = price
        .source
        .as_deref()
        .map(|source| format!(", prices from {source}"))
        .unwrap_or_default();
    outln!("{} ({}{source})", args.model, price.provider);
    outln!("{cost}");
    tracing::debug!(total = %format_usd(cost.total_usd), "priced usage");
    Ok(())
}

fn unknown_model_message(table: &PriceTable, model: &str) -> String {
    let suggestions = table.suggest(model);
    let close = if suggestions.is_empty() {
        String::new()
    } else {
        format!("; close names in the table: {}", suggestions.join(", "))
    };
    format!(
        "no price for model {model:?}{close}. To price it, write a price file with a \
         [models.{model:?}] entry containing provider, input_per_million and \
         output_per_million, and pass it with --prices FILE"
    )
}

fn usage_from_args(args: &Args) -> Usage {
    let mut usage = Usage::new(args.input, args.output);
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(args.cached),
        cache_creation_tokens: Some(args.cache_write),
        ..Default::default()
    });
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(args.reasoning),
        ..Default::default()
    });
    usage
}

fn usage_error_message(args: &Args, error: &Error) -> String {
    if args.cached.saturating_add(args.cache_write) > args.input {
        return format!(
            "--cached {} plus --cache-write {} exceed --input {}; --input counts all prompt tokens, cached and cache-written ones included",
            args.cached, args.cache_write, args.input
        );
    }
    if args.reasoning > args.output {
        return format!(
            "--reasoning {} exceeds --output {}; --output counts all generated tokens, reasoning included",
            args.reasoning, args.output
        );
    }
    error.to_string()
}
