//! [`Cost`]: the price of one [`Usage`], line by line, in exact decimals.

use std::fmt;

use rust_decimal::Decimal;

use super::ModelPrice;
use crate::error::{Error, Result};
use crate::types::Usage;

/// One line of a [`Cost`]: a number of tokens and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CostLine {
    /// The tokens billed on this line.
    pub tokens: u64,
    /// Their cost in US dollars.
    pub usd: Decimal,
}

/// The cost of one request, by kind of token, in US dollars.
///
/// The lines never overlap: `prompt_tokens` is split into uncached input,
/// cache reads and cache writes, and `completion_tokens` into output and,
/// when the model prices them apart, reasoning.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cost {
    /// Input tokens neither read from nor written to the prompt cache.
    pub input: CostLine,
    /// Input tokens read from the prompt cache.
    pub cached_input: CostLine,
    /// Input tokens written to the prompt cache.
    pub cache_write: CostLine,
    /// Generated tokens, reasoning tokens included unless billed on the
    /// `reasoning` line.
    pub output: CostLine,
    /// Reasoning tokens billed at a separate reasoning price; zero tokens
    /// when the model has none.
    pub reasoning: CostLine,
    /// The sum of all lines in US dollars.
    pub total_usd: Decimal,
}

const MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

fn line(tokens: u64, per_million: Decimal) -> Result<CostLine> {
    let usd = Decimal::from(tokens)
        .checked_mul(per_million)
        .and_then(|product| product.checked_div(MILLION))
        .ok_or_else(|| {
            Error::invalid_request(
                "usage",
                format!("the cost of {tokens} tokens at ${per_million} per million overflows"),
            )
        })?;
    Ok(CostLine {
        tokens,
        usd: usd.normalize(),
    })
}

impl ModelPrice {
    /// Computes the cost of `usage` at these prices.
    ///
    /// `usage` follows OpenAI semantics: `prompt_tokens` includes cache
    /// reads (`cached_tokens`) and cache writes (`cache_creation_tokens`),
    /// and `completion_tokens` includes `reasoning_tokens`. Uncached input is
    /// `prompt_tokens - cached_tokens - cache_creation_tokens`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidRequest`] when the cache counts exceed
    /// `prompt_tokens` or the reasoning count exceeds `completion_tokens`,
    /// because such usage cannot be billed without a negative line, and
    /// [`Error::InvalidConfig`] when a price is negative.
    pub fn cost(&self, usage: &Usage) -> Result<Cost> {
        if let Some((field, price)) = self.first_negative_price() {
            return Err(Error::invalid_config(
                field,
                format!("price {price} is negative; prices must be zero or more"),
            ));
        }
        let cached = usage.cached_tokens();
        let cache_write = usage.cache_creation_tokens();
        let uncached = cached
            .checked_add(cache_write)
            .and_then(|cache| usage.prompt_tokens.checked_sub(cache))
            .ok_or_else(|| {
                Error::invalid_request(
                    "usage.prompt_tokens_details",
                    format!(
                        "cached_tokens {cached} plus cache_creation_tokens {cache_write} exceed prompt_tokens {}; prompt_tokens must include both (OpenAI semantics)",
                        usage.prompt_tokens
                    ),
                )
            })?;

        let reasoning = usage.reasoning_tokens();
        let Some(non_reasoning) = usage.completion_tokens.checked_sub(reasoning) else {
            return Err(Error::invalid_request(
                "usage.completion_tokens_details.reasoning_tokens",
                format!(
                    "reasoning_tokens {reasoning} exceed completion_tokens {}; completion_tokens must include them",
                    usage.completion_tokens
                ),
            ));
        };
        let (output, reasoning) = match self.reasoning_per_million {
            Some(price) => (
                line(non_reasoning, self.output_per_million)?,
                line(reasoning, price)?,
            ),
            None => (
                line(usage.completion_tokens, self.output_per_million)?,
                CostLine::default(),
            ),
        };

        let input = line(uncached, self.input_per_million)?;
        let cached_input = line(
            cached,
            self.cached_input_per_million
                .unwrap_or(self.input_per_million),
        )?;
        let cache_write = line(
            cache_write,
            self.cache_write_per_million
                .unwrap_or(self.input_per_million),
        )?;
        let total_usd = [input, cached_input, cache_write, output, reasoning]
            .iter()
            .map(|line| line.usd)
            .sum::<Decimal>()
            .normalize();
        Ok(Cost {
            input,
            cached_input,
            cache_write,
            output,
            reasoning,
            total_usd,
        })
    }
}

/// Formats US dollars with at least two decimals and every further digit
/// the exact amount has, such as `$0.054399` or `$12.50`.
pub fn format_usd(usd: Decimal) -> String {
    let usd = usd.normalize();
    if usd.scale() < 2 {
        format!("${usd:.2}")
    } else {
        format!("${usd}")
    }
}

impl fmt::Display for Cost {
    /// Writes one line per kind of token that was billed, then the total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = [
            ("input", self.input, true),
            ("cached input", self.cached_input, false),
            ("cache write", self.cache_write, false),
            ("output", self.output, true),
            ("reasoning", self.reasoning, false),
        ];
        for (label, line, always) in lines {
            if always || line.tokens > 0 {
                writeln!(
                    f,
                    "{label:<13}{:>12} tokens  {}",
                    line.tokens,
                    format_usd(line.usd)
                )?;
            }
        }
        write!(
            f,
            "{:<13}{:>19}  {}",
            "total",
            "",
            format_usd(self.total_usd)
        )
    }
}
