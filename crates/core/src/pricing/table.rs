//! [`PriceTable`]: prices by model name, with the built-in defaults and
//! user overrides.

use std::collections::BTreeMap;
use std::path::Path;

use super::file::parse_price_file;
use super::litellm::parse_litellm_json;
use super::suggest::close_names;
use super::{Cost, ModelPrice};
use crate::error::{Error, Result};
use crate::types::Usage;

/// The default price table shipped with llmops, generated from litellm's
/// price list by `data/generate_prices.py`.
const DEFAULT_PRICES: &str = include_str!("../../data/prices.toml");

/// Prices by model name.
///
/// Start from [`PriceTable::defaults`], then [`PriceTable::merge`] a user
/// file over it or [`PriceTable::insert`] entries in code. A name is looked
/// up exactly, then without a leading `provider/` prefix. A model that is
/// still not found is an [`Error::UnknownModel`], never a zero cost.
///
/// ```
/// use llmops_core::pricing::PriceTable;
/// use llmops_core::types::{PromptTokensDetails, Usage};
///
/// let table = PriceTable::defaults().unwrap();
/// let mut usage = Usage::new(3 + 12_304, 550);
/// usage.prompt_tokens_details = Some(PromptTokensDetails {
///     cache_creation_tokens: Some(12_304),
///     ..Default::default()
/// });
/// let cost = table.cost("claude-3-7-sonnet-20250219", &usage).unwrap();
/// assert_eq!(cost.total_usd.to_string(), "0.054399");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceTable {
    models: BTreeMap<String, ModelPrice>,
}

impl PriceTable {
    /// Creates an empty table.
    pub fn new() -> Self {
        PriceTable::default()
    }

    /// Returns the built-in price table.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] if the built-in file does not parse,
    /// which a unit test rules out for every release.
    pub fn defaults() -> Result<Self> {
        Self::from_toml_str(DEFAULT_PRICES, "built-in price table")
    }

    /// Parses a table in the llmops price file format (TOML, see the
    /// [`pricing`](super) module docs); `origin` names the text in errors.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] naming the entry and field when the
    /// text is not valid TOML, misses a required field, has an unknown field
    /// or contains a price that is not a non-negative decimal string.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        Ok(PriceTable {
            models: parse_price_file(text, origin)?,
        })
    }

    /// Parses litellm's `model_prices_and_context_window.json`.
    ///
    /// Unknown keys are ignored and entries without numeric input and output
    /// prices are skipped; tiered, batch and priority prices are not read.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when the text is not a JSON object.
    pub fn from_litellm_json(text: &str, origin: &str) -> Result<Self> {
        Ok(PriceTable {
            models: parse_litellm_json(text, origin)?,
        })
    }

    /// Reads a price file: litellm's JSON format when the name ends in
    /// `.json`, the llmops TOML format otherwise.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] naming the path when the file cannot
    /// be read or parsed.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::invalid_config(&origin, format!("failed to read price file: {error}"))
        })?;
        let is_json = path
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_litellm_json(&text, &origin)
        } else {
            Self::from_toml_str(&text, &origin)
        }
    }

    /// Adds every entry of `other`, replacing entries of the same name.
    pub fn merge(&mut self, other: PriceTable) -> &mut Self {
        self.models.extend(other.models);
        self
    }

    /// Adds or replaces the price of `model`.
    pub fn insert(&mut self, model: impl Into<String>, price: ModelPrice) -> &mut Self {
        self.models.insert(model.into(), price);
        self
    }

    /// Returns the price of `model`: by exact name, else by the name without
    /// a leading `provider/` prefix.
    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.models.get(model).or_else(|| {
            let (_provider, bare) = model.split_once('/')?;
            self.models.get(bare)
        })
    }

    /// Returns the price of `model`.
    ///
    /// # Errors
    ///
    /// Returns [`Error::UnknownModel`] naming the model, the closest names in
    /// the table and how to add a price.
    pub fn lookup(&self, model: &str) -> Result<&ModelPrice> {
        self.get(model).ok_or_else(|| {
            let suggestions = self.suggest(model);
            let close = if suggestions.is_empty() {
                String::new()
            } else {
                format!("close names in the table: {}; ", suggestions.join(", "))
            };
            Error::UnknownModel {
                model: model.to_owned(),
                hint: format!(
                    "{close}add a [models.\"{model}\"] entry with input_per_million and output_per_million to a price file, or call PriceTable::insert"
                ),
            }
        })
    }

    /// Returns up to five model names in the table close to `model`, closest
    /// first, for error messages. They are never used as a match.
    pub fn suggest(&self, model: &str) -> Vec<&str> {
        close_names(model, self.models.keys().map(String::as_str), 5)
    }

    /// Computes the cost of `usage` for `model`; see [`ModelPrice::cost`].
    ///
    /// # Errors
    ///
    /// Returns [`Error::UnknownModel`] when the table has no price for
    /// `model`, and [`Error::InvalidRequest`] for inconsistent usage.
    pub fn cost(&self, model: &str, usage: &Usage) -> Result<Cost> {
        self.lookup(model)?.cost(usage)
    }

    /// Iterates over model names and prices in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ModelPrice)> {
        self.models
            .iter()
            .map(|(name, price)| (name.as_str(), price))
    }

    /// Returns the number of models in the table.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Returns whether the table has no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}
