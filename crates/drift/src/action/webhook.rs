//! Webhook notification.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use super::Action;
use crate::check::CheckOutcome;
use crate::error::{DriftError, Result};

/// Posts a JSON summary of the report to a URL: severity, measures, topic
/// shares and the labels and sizes of new and vanished topics. No input
/// text is sent, not even examples.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl Webhook {
    /// Creates a webhook to `url` with a 10-second timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            client: reqwest::Client::new(),
            timeout: Duration::from_secs(10),
        }
    }

    /// Sets the request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The URL without query string, which may hold a token.
    fn display_url(&self) -> String {
        self.url.split('?').next().unwrap_or_default().to_string()
    }
}

#[async_trait]
impl Action for Webhook {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn run(&self, outcome: &CheckOutcome) -> Result<String> {
        let report = &outcome.report;
        let new_topics: Vec<_> = report
            .new_topics
            .iter()
            .map(|topic| {
                let terms: Vec<&str> = topic
                    .terms
                    .iter()
                    .take(5)
                    .map(|t| t.term.as_str())
                    .collect();
                json!({"size": topic.size, "terms": terms})
            })
            .collect();
        let vanished: Vec<&str> = report
            .vanished_topics
            .iter()
            .map(|t| t.label.as_str())
            .collect();
        let body = json!({
            "severity": report.severity,
            "embedding_model": report.embedding_model,
            "reference_inputs": report.reference_inputs,
            "current_inputs": report.current_inputs,
            "measures": report.measures,
            "topic_shares": report.topic_shares,
            "new_topics": new_topics,
            "vanished_topics": vanished,
        });

        let failed = |message: String| DriftError::Webhook {
            url: self.display_url(),
            message,
        };
        let response = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .json(&body)
            .send()
            .await
            .map_err(|error| failed(error.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("HTTP status {status}")));
        }
        Ok(format!("posted to {} ({status})", self.display_url()))
    }
}
