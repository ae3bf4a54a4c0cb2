//! Configuration of the Anthropic backend.

use crate::error::{Error, Result};
use crate::providers::config::{HttpSettings, env_var, http_setters};

/// The base URL of the Anthropic API.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header value sent by default.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// The `max_tokens` sent when a request sets no output limit. The Messages
/// API requires one. 4096 is the output maximum of Claude 3 Opus and Haiku,
/// the smallest of any Claude model, so every model accepts it.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Configuration of an [`AnthropicBackend`](super::AnthropicBackend), built
/// with chained setters.
///
/// The API key is kept in a [`SecretString`](secrecy::SecretString); `Debug` output shows neither
/// the key nor the values of extra headers.
///
/// ```
/// use llmops_core::providers::anthropic::AnthropicConfig;
///
/// let config = AnthropicConfig::new()
///     .api_key("sk-ant-example")
///     .default_max_tokens(1024)
///     .header("anthropic-beta", "prompt-caching-2024-07-31");
/// assert!(!format!("{config:?}").contains("sk-ant-example"));
/// ```
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    pub(crate) http: HttpSettings,
    pub(crate) version: String,
    pub(crate) default_max_tokens: u32,
}

impl Default for AnthropicConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl AnthropicConfig {
    /// Creates a configuration for the Anthropic API with no API key,
    /// provider label `anthropic` and the default [`Timeouts`](crate::providers::Timeouts).
    pub fn new() -> Self {
        AnthropicConfig {
            http: HttpSettings::new(DEFAULT_ANTHROPIC_BASE_URL, "anthropic"),
            version: DEFAULT_ANTHROPIC_VERSION.to_owned(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
        }
    }

    /// Reads `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` from the
    /// environment.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when `ANTHROPIC_API_KEY` is unset.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(env_var)
    }

    /// Builds the configuration from a variable lookup, so tests need not
    /// change the process environment.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut config = AnthropicConfig::new();
        if let Some(base_url) = var("ANTHROPIC_BASE_URL") {
            config = config.base_url(base_url);
        }
        let key = var("ANTHROPIC_API_KEY").ok_or_else(|| {
            Error::invalid_config(
                "ANTHROPIC_API_KEY",
                "the variable is not set; set it to an Anthropic API key",
            )
        })?;
        Ok(config.api_key(key))
    }

    http_setters! {
        base_url: " Sets the base URL, the part before `/v1/messages`. Default\n `https://api.anthropic.com`.",
        api_key: " Sets the API key, sent as `x-api-key`. Default none.",
        provider: " Sets the provider label used in logs, metrics and errors. Default\n `anthropic`.",
        header: " Adds a header sent with every request, such as `anthropic-beta`. Its\n value never appears in `Debug` output.",
    }

    /// Sets the `anthropic-version` header. Default `2023-06-01`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the `max_tokens` sent when a request has no output limit.
    /// Default [`DEFAULT_MAX_TOKENS`] (4096).
    pub fn default_max_tokens(mut self, max_tokens: u32) -> Self {
        self.default_max_tokens = max_tokens;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_env_requires_key() {
        let error = AnthropicConfig::from_vars(|_| None).unwrap_err();
        assert!(error.to_string().contains("ANTHROPIC_API_KEY"), "{error}");
    }

    #[test]
    fn from_env_reads_base_url_and_hides_key() {
        let config = AnthropicConfig::from_vars(|name| match name {
            "ANTHROPIC_API_KEY" => Some("sk-ant-hidden-1".to_owned()),
            "ANTHROPIC_BASE_URL" => Some("http://127.0.0.1:9".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.http.base_url, "http://127.0.0.1:9");
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-ant-hidden-1"), "{debug}");
    }
}
