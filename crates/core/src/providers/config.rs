//! Settings shared by the HTTP backends, and the pooled client built from them.

use std::fmt;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::SecretString;

use super::Timeouts;
use crate::error::{Error, Result};

/// Settings every HTTP backend has; each provider's public config wraps one.
#[derive(Clone)]
pub(crate) struct HttpSettings {
    pub(crate) base_url: String,
    pub(crate) api_key: Option<SecretString>,
    pub(crate) provider: String,
    pub(crate) models: Vec<String>,
    pub(crate) timeouts: Timeouts,
    /// Extra headers as given; values may hold credentials, so `Debug` shows
    /// only the names.
    pub(crate) headers: Vec<(String, String)>,
}

impl fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("provider", &self.provider)
            .field("models", &self.models)
            .field("timeouts", &self.timeouts)
            .field("header_names", &header_names)
            .finish()
    }
}

impl HttpSettings {
    pub(crate) fn new(base_url: &str, provider: &str) -> Self {
        HttpSettings {
            base_url: base_url.to_owned(),
            api_key: None,
            provider: provider.to_owned(),
            models: Vec::new(),
            timeouts: Timeouts::default(),
            headers: Vec::new(),
        }
    }

    /// Returns `{base_url}/{path}` with exactly one slash between them.
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// Checks the settings and builds the pooled client.
    pub(crate) fn build_client(&self, config_name: &str) -> Result<reqwest::Client> {
        let url = reqwest::Url::parse(&self.base_url).map_err(|error| {
            Error::invalid_config(
                format!("{config_name}.base_url"),
                format!(
                    "{:?} is not a valid URL ({error}); use a form like http://127.0.0.1:8000/v1",
                    self.base_url
                ),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid_config(
                format!("{config_name}.base_url"),
                format!(
                    "scheme {:?} is not supported; use http or https",
                    url.scheme()
                ),
            ));
        }
        if self.timeouts.first_token.is_zero()
            || self.timeouts.total.is_zero()
            || self.timeouts.connect.is_zero()
        {
            return Err(Error::invalid_config(
                format!("{config_name}.timeouts"),
                "every timeout must be greater than zero",
            ));
        }

        reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            .default_headers(self.header_map(config_name)?)
            .build()
            .map_err(|error| {
                Error::invalid_config(
                    config_name,
                    format!("the HTTP client could not be built: {error}"),
                )
            })
    }

    /// Converts the extra headers, marking every value sensitive so reqwest
    /// never prints it.
    fn header_map(&self, config_name: &str) -> Result<HeaderMap> {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            let key = format!("{config_name}.headers");
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::invalid_config(&key, format!("{name:?} is not a valid header name"))
            })?;
            let mut header_value = HeaderValue::from_str(value).map_err(|_| {
                Error::invalid_config(
                    &key,
                    format!("the value of header {name:?} contains invalid characters"),
                )
            })?;
            header_value.set_sensitive(true);
            map.append(header_name, header_value);
        }
        Ok(map)
    }
}

/// Reads an environment variable, treating an empty value as unset.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Writes the chained setters every provider config shares, over its
/// `http: HttpSettings` field. The arguments are the doc lines that differ
/// between providers.
macro_rules! http_setters {
    (
        base_url: $base_url_doc:literal,
        api_key: $api_key_doc:literal,
        provider: $provider_doc:literal,
        header: $header_doc:literal $(,)?
    ) => {
        #[doc = $base_url_doc]
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.http.base_url = base_url.into();
            self
        }

        #[doc = $api_key_doc]
        pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
            self.http.api_key = Some(::secrecy::SecretString::from(api_key.into()));
            self
        }

        #[doc = $provider_doc]
        pub fn provider(mut self, provider: impl Into<String>) -> Self {
            self.http.provider = provider.into();
            self
        }

        /// Sets the models the backend serves; empty (the default) means any
        /// model name is passed on.
        pub fn models<I, S>(mut self, models: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.http.models = models.into_iter().map(Into::into).collect();
            self
        }

        /// Sets all three timeouts at once.
        pub fn timeouts(mut self, timeouts: $crate::providers::Timeouts) -> Self {
            self.http.timeouts = timeouts;
            self
        }

        /// Sets the connect timeout. Default 10 s.
        pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.http.timeouts.connect = timeout;
            self
        }

        /// Sets the time allowed until the first output chunk, or until the
        /// response head of a non-streamed call. Default 60 s.
        pub fn first_token_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.http.timeouts.first_token = timeout;
            self
        }

        /// Sets the time allowed for the whole call. Default 600 s.
        pub fn total_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.http.timeouts.total = timeout;
            self
        }

        #[doc = $header_doc]
        pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
            self.http.headers.push((name.into(), value.into()));
            self
        }

        /// Returns the provider label.
        pub fn provider_name(&self) -> &str {
            &self.http.provider
        }
    };
}

pub(crate) use http_setters;
