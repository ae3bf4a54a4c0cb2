//! Reading litellm's `model_prices_and_context_window.json`.
//!
//! Entries hold prices per token as JSON numbers. Each number is converted
//! through its shortest decimal representation, so `3e-06` becomes exactly
//! 3 US dollars per million tokens. Unknown keys are ignored, and entries
//! without numeric input and output prices (such as `sample_spec`, whose
//! fields are descriptions) are skipped.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::ModelPrice;
use crate::error::{Error, Result};

const MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Parses litellm's price JSON; `origin` names it in errors.
pub(crate) fn parse_litellm_json(text: &str, origin: &str) -> Result<BTreeMap<String, ModelPrice>> {
    let root: Map<String, Value> = serde_json::from_str(text).map_err(|error| {
        Error::invalid_config(origin, format!("invalid litellm price JSON: {error}"))
    })?;

    let mut prices = BTreeMap::new();
    let mut skipped = 0_usize;
    for (model, spec) in &root {
        match entry_to_price(spec) {
            Some(price) => {
                prices.insert(model.clone(), price);
            }
            None => skipped += 1,
        }
    }
    tracing::debug!(
        origin,
        loaded = prices.len(),
        skipped,
        "read litellm price table"
    );
    Ok(prices)
}

fn per_million(spec: &Value, key: &str) -> Option<Decimal> {
    let number = spec.get(key)?.as_f64()?;
    // f64's Display is the shortest text that reads back as the same float.
    let per_token = Decimal::from_str(&number.to_string()).ok()?;
    let price = per_token.checked_mul(MILLION)?.normalize();
    (!price.is_sign_negative()).then_some(price)
}

fn entry_to_price(spec: &Value) -> Option<ModelPrice> {
    let input = per_million(spec, "input_cost_per_token")?;
    let output = per_million(spec, "output_cost_per_token")?;
    let provider = spec
        .get("litellm_provider")
        .and_then(Value::as_str)
        .unwrap_or("unknown");

    let mut price = ModelPrice::new(provider, input, output);
    price.cached_input_per_million = per_million(spec, "cache_read_input_token_cost");
    price.cache_write_per_million = per_million(spec, "cache_creation_input_token_cost");
    price.reasoning_per_million = per_million(spec, "output_cost_per_reasoning_token");
    price.context_window = spec.get("max_input_tokens").and_then(Value::as_u64);
    price.max_output_tokens = spec.get("max_output_tokens").and_then(Value::as_u64);
    price.source = Some("litellm".to_owned());
    Some(price)
}
