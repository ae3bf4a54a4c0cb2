//! Alert transitions POSTed as JSON to a URL.

use std::time::Duration;

use async_trait::async_trait;

use crate::alert::notifier::{AlertEvent, Notifier};
use crate::error::MonitorError;

/// How long a webhook call may take by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// POSTs each transition as an [`AlertEvent`] JSON body to a URL. Any
/// status other than 2xx counts as a failure.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl WebhookNotifier {
    /// Creates a notifier for `url`, with a 5 second timeout per call.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] when `url` is not an `http` or `https`
    /// URL, or the HTTP client cannot be built.
    pub fn new(url: &str) -> Result<Self, MonitorError> {
        Self::with_timeout(url, DEFAULT_TIMEOUT)
    }

    /// Like [`WebhookNotifier::new`] with a timeout per call.
    ///
    /// # Errors
    ///
    /// As [`WebhookNotifier::new`].
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, MonitorError> {
        let invalid = |fix: String| MonitorError::Invalid {
            field: "webhook url",
            value: url.to_owned(),
            fix,
        };
        let parsed = reqwest::Url::parse(url)
            .map_err(|error| invalid(format!("{error}; use http://HOST/PATH")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("use an http or https URL".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|error| invalid(format!("the HTTP client failed to start: {error}")))?;
        Ok(WebhookNotifier {
            client,
            url: parsed,
        })
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn notify(&self, event: &AlertEvent) -> Result<(), MonitorError> {
        let failed = |message: String| MonitorError::Notify {
            notifier: "webhook",
            message,
        };
        let response = self
            .client
            .post(self.url.clone())
            .json(event)
            .send()
            .await
            .map_err(|error| failed(format!("POST to {} failed: {error}", redact(&self.url))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!(
                "POST to {} returned HTTP {status}",
                redact(&self.url)
            )));
        }
        Ok(())
    }
}

/// The URL without user info or query, which may hold tokens.
fn redact(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_http_url() {
        assert!(WebhookNotifier::new("ftp://example.invalid/x").is_err());
        assert!(WebhookNotifier::new("not a url").is_err());
    }

    #[test]
    fn redact_drops_credentials_and_query() {
        let url = reqwest::Url::parse("https://user:secret@hooks.local:8443/a?token=t").unwrap();
        assert_eq!(redact(&url), "https://hooks.local:8443/a");
    }
}
