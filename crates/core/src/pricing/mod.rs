//! Model prices and the cost of usage, in exact decimal money.
//!
//! - [`PriceTable`]: prices by model name. [`PriceTable::defaults`] contains a
//!   curated set of OpenAI, Anthropic, Google and Mistral models generated
//!   from litellm's price list; applications merge their own file over it
//!   or insert entries in code.
//! - [`ModelPrice`]: one model's prices in US dollars per million tokens,
//!   plus its context window and output limit.
//! - [`Cost`]: the cost of one [`Usage`](crate::types::Usage), split into
//!   uncached input, cache reads, cache writes, output and reasoning.
//!
//! All money is [`rust_decimal::Decimal`]; no price or cost passes through a
//! binary float, so sums are exact.
//!
//! # Price file format
//!
//! ```toml
//! format_version = 1
//!
//! [models."claude-3-7-sonnet-20250219"]
//! provider = "anthropic"
//! input_per_million = "3"          # US dollars per million tokens
//! output_per_million = "15"
//! cached_input_per_million = "0.3" # optional; default: input price
//! cache_write_per_million = "3.75" # optional; default: input price
//! reasoning_per_million = "15"     # optional; default: output price
//! context_window = 200000          # optional
//! max_output_tokens = 128000       # optional
//! source = "litellm 1.74.0"        # optional
//! ```
//!
//! [`PriceTable::load_file`] also reads litellm's
//! `model_prices_and_context_window.json`.

mod cost;
mod file;
mod litellm;
mod price;
mod suggest;
mod table;

pub use cost::{Cost, CostLine, format_usd};
pub use price::ModelPrice;
pub use table::PriceTable;

#[cfg(test)]
mod tests;
