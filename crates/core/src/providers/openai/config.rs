//! Configuration of the OpenAI-compatible backend.

use crate::error::{Error, Result};
use crate::providers::config::{HttpSettings, env_var, http_setters};

/// The base URL of the OpenAI API.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// Configuration of an [`OpenAiBackend`](super::OpenAiBackend), built with
/// chained setters.
///
/// The API key is kept in a [`SecretString`](secrecy::SecretString); `Debug` output shows neither
/// the key nor the values of extra headers.
///
/// ```
/// use std::time::Duration;
/// use llmops_core::providers::openai::OpenAiConfig;
///
/// let config = OpenAiConfig::new()
///     .base_url("http://127.0.0.1:8000/v1")
///     .provider("vllm")
///     .models(["meta-llama/Llama-3.1-8B-Instruct"])
///     .first_token_timeout(Duration::from_secs(30));
/// assert_eq!(config.provider_name(), "vllm");
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub(crate) http: HttpSettings,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenAiConfig {
    /// Creates a configuration for the OpenAI API with no API key, provider
    /// label `openai` and the default [`Timeouts`](crate::providers::Timeouts).
    pub fn new() -> Self {
        OpenAiConfig {
            http: HttpSettings::new(DEFAULT_OPENAI_BASE_URL, "openai"),
        }
    }

    /// Reads `OPENAI_API_KEY` and `OPENAI_BASE_URL` from the environment.
    ///
    /// # Errors
    ///
    /// Returns [`Error::InvalidConfig`] when `OPENAI_API_KEY` is unset while
    /// the base URL is the OpenAI API. Servers at another base URL, such as a
    /// local vLLM or Ollama, may run without a key.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(env_var)
    }

    /// Builds the configuration from a variable lookup, so tests need not
    /// change the process environment.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut config = OpenAiConfig::new();
        if let Some(base_url) = var("OPENAI_BASE_URL") {
            config = config.base_url(base_url);
        }
        match var("OPENAI_API_KEY") {
            Some(key) => Ok(config.api_key(key)),
            None if config.http.base_url == DEFAULT_OPENAI_BASE_URL => Err(Error::invalid_config(
                "OPENAI_API_KEY",
                "the variable is not set; set it to an OpenAI API key, or set OPENAI_BASE_URL to a server that needs none",
            )),
            None => Ok(config),
        }
    }

    http_setters! {
        base_url: " Sets the base URL, the part before `/chat/completions`. Default\n `https://api.openai.com/v1`.",
        api_key: " Sets the API key, sent as `Authorization: Bearer`. Default none.",
        provider: " Sets the provider label used in logs, metrics and errors, such as\n `vllm` or `ollama`. Default `openai`.",
        header: " Adds a header sent with every request, such as `OpenAI-Organization`\n or `api-key` for Azure. Its value never appears in `Debug` output.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        }
    }

    #[test]
    fn from_env_requires_key_for_openai() {
        let error = OpenAiConfig::from_vars(lookup(&[])).unwrap_err();
        assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
    }

    #[test]
    fn from_env_local_server_without_key() {
        let config =
            OpenAiConfig::from_vars(lookup(&[("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")]))
                .unwrap();
        assert_eq!(config.http.base_url, "http://127.0.0.1:11434/v1");
        assert!(config.http.api_key.is_none());
    }

    #[test]
    fn debug_hides_key_and_header_values() {
        let config = OpenAiConfig::from_vars(lookup(&[("OPENAI_API_KEY", "sk-test-hidden-123")]))
            .unwrap()
            .header("api-key", "azure-hidden-456");
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-test-hidden-123"), "{debug}");
        assert!(!debug.contains("azure-hidden-456"), "{debug}");
        assert!(debug.contains("api-key"), "{debug}");
        assert!(debug.contains("[REDACTED]"), "{debug}");
    }
}
