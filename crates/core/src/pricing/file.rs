//! The llmops price file format (TOML, shown in the module docs of
//! [`pricing`](super)) and its parsing.
//!
//! Prices are US dollars per million tokens written as decimal strings, so
//! no price passes through a binary float. Unknown keys are rejected to catch
//! misspelt field names.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::ModelPrice;
use crate::error::{Error, Result};

/// The only format version this code reads.
const FORMAT_VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    format_version: u32,
    #[serde(default)]
    models: BTreeMap<String, PriceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceEntry {
    provider: String,
    input_per_million: String,
    output_per_million: String,
    cached_input_per_million: Option<String>,
    cache_write_per_million: Option<String>,
    reasoning_per_million: Option<String>,
    context_window: Option<u64>,
    max_output_tokens: Option<u64>,
    source: Option<String>,
}

/// Parses a price file; `origin` names it in errors.
pub(crate) fn parse_price_file(text: &str, origin: &str) -> Result<BTreeMap<String, ModelPrice>> {
    let file: PriceFile = toml::from_str(text).map_err(|error| {
        let detail = error.to_string();
        let hint = if detail.contains("expected a string") {
            "; write prices as decimal strings, such as input_per_million = \"2.5\""
        } else {
            ""
        };
        Error::invalid_config(
            origin,
            format!("invalid price file: {}{hint}", detail.trim_end()),
        )
    })?;
    if file.format_version != FORMAT_VERSION {
        return Err(Error::invalid_config(
            origin,
            format!(
                "format_version {} is not supported; this version of llmops reads format_version {FORMAT_VERSION}",
                file.format_version
            ),
        ));
    }
    file.models
        .into_iter()
        .map(|(model, entry)| {
            let price = entry_to_price(&model, entry, origin)?;
            Ok((model, price))
        })
        .collect()
}

fn entry_to_price(model: &str, entry: PriceEntry, origin: &str) -> Result<ModelPrice> {
    let decimal = |field: &str, text: &str| -> Result<Decimal> {
        let value = Decimal::from_str(text.trim()).map_err(|_| {
            Error::invalid_config(
                origin,
                format!("models.{model:?}.{field} = {text:?} is not a decimal number; write the US dollar price per million tokens, such as \"2.5\""),
            )
        })?;
        if value.is_sign_negative() {
            return Err(Error::invalid_config(
                origin,
                format!(
                    "models.{model:?}.{field} = {text:?} is negative; prices must be zero or more"
                ),
            ));
        }
        Ok(value)
    };
    let optional =
        |field: &str, text: Option<String>| text.map(|text| decimal(field, &text)).transpose();

    let mut price = ModelPrice::new(
        entry.provider,
        decimal("input_per_million", &entry.input_per_million)?,
        decimal("output_per_million", &entry.output_per_million)?,
    );
    price.cached_input_per_million =
        optional("cached_input_per_million", entry.cached_input_per_million)?;
    price.cache_write_per_million =
        optional("cache_write_per_million", entry.cache_write_per_million)?;
    price.reasoning_per_million = optional("reasoning_per_million", entry.reasoning_per_million)?;
    price.context_window = entry.context_window;
    price.max_output_tokens = entry.max_output_tokens;
    price.source = entry.source;
    Ok(price)
}
