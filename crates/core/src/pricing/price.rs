//! [`ModelPrice`]: what one model costs per million tokens.

use rust_decimal::Decimal;

/// The prices and limits of one model, in US dollars per million tokens.
///
/// Build one in code with [`ModelPrice::new`] and the `with_` methods, or
/// load many from a price file with [`PriceTable`](super::PriceTable).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelPrice {
    /// The provider that bills the model, such as `openai` or `anthropic`.
    pub provider: String,
    /// Price of uncached input tokens.
    pub input_per_million: Decimal,
    /// Price of generated tokens, reasoning tokens included unless
    /// `reasoning_per_million` is set.
    pub output_per_million: Decimal,
    /// Price of input tokens read from the prompt cache; `None` bills them
    /// at `input_per_million`.
    pub cached_input_per_million: Option<Decimal>,
    /// Price of input tokens written to the prompt cache; `None` bills them
    /// at `input_per_million`, as OpenAI does.
    pub cache_write_per_million: Option<Decimal>,
    /// Price of reasoning tokens, for models that bill them apart from
    /// other output; `None` bills them at `output_per_million`.
    pub reasoning_per_million: Option<Decimal>,
    /// The maximum input tokens, when known.
    pub context_window: Option<u64>,
    /// The maximum generated tokens per request, when known.
    pub max_output_tokens: Option<u64>,
    /// The origin of the prices, such as `litellm 1.110.2`.
    pub source: Option<String>,
}

impl ModelPrice {
    /// Creates a price with input and output prices in US dollars per
    /// million tokens and no cache, reasoning or limit details.
    pub fn new(
        provider: impl Into<String>,
        input_per_million: Decimal,
        output_per_million: Decimal,
    ) -> Self {
        ModelPrice {
            provider: provider.into(),
            input_per_million,
            output_per_million,
            cached_input_per_million: None,
            cache_write_per_million: None,
            reasoning_per_million: None,
            context_window: None,
            max_output_tokens: None,
            source: None,
        }
    }

    /// Sets the price of cache reads per million tokens.
    pub fn with_cached_input(mut self, per_million: Decimal) -> Self {
        self.cached_input_per_million = Some(per_million);
        self
    }

    /// Sets the price of cache writes per million tokens.
    pub fn with_cache_write(mut self, per_million: Decimal) -> Self {
        self.cache_write_per_million = Some(per_million);
        self
    }

    /// Sets a separate price of reasoning tokens per million tokens.
    pub fn with_reasoning(mut self, per_million: Decimal) -> Self {
        self.reasoning_per_million = Some(per_million);
        self
    }

    /// Sets the maximum input tokens.
    pub fn with_context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// Sets the maximum generated tokens per request.
    pub fn with_max_output_tokens(mut self, tokens: u64) -> Self {
        self.max_output_tokens = Some(tokens);
        self
    }

    /// Sets where the prices come from.
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Returns the name and value of the first negative price, if any.
    pub(crate) fn first_negative_price(&self) -> Option<(&'static str, Decimal)> {
        [
            ("input_per_million", Some(self.input_per_million)),
            ("output_per_million", Some(self.output_per_million)),
            ("cached_input_per_million", self.cached_input_per_million),
            ("cache_write_per_million", self.cache_write_per_million),
            ("reasoning_per_million", self.reasoning_per_million),
        ]
        .into_iter()
        .find_map(|(field, price)| {
            price
                .filter(Decimal::is_sign_negative)
                .map(|price| (field, price))
        })
    }
}
