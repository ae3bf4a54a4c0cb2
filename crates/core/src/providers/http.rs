//! Sending requests under the call's deadlines and mapping transport errors.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::time::{Instant, timeout_at};

use super::Timeouts;
use crate::error::{Error, Result, TimeoutPhase};

/// A provider's mapping from an HTTP error response to an [`Error`].
pub(crate) type ErrorMapper =
    fn(provider: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Error;

/// The absolute deadlines of one call, fixed when it starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    first_token: Instant,
    total: Instant,
    timeouts: Timeouts,
}

/// A deadline with the phase and configured duration to report when it
/// passes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) phase: TimeoutPhase,
    pub(crate) after: Duration,
}

impl Deadline {
    pub(crate) fn error(&self, provider: &str) -> Error {
        Error::Timeout {
            provider: provider.to_owned(),
            phase: self.phase,
            after: self.after,
        }
    }
}

impl Deadlines {
    pub(crate) fn start(timeouts: Timeouts) -> Self {
        let now = Instant::now();
        Deadlines {
            first_token: now + timeouts.first_token,
            total: now + timeouts.total,
            timeouts,
        }
    }

    /// Returns the deadline that applies before any output arrived, which is
    /// the earlier of the first-token and total deadlines.
    pub(crate) fn before_output(&self) -> Deadline {
        if self.first_token < self.total {
            Deadline {
                at: self.first_token,
                phase: TimeoutPhase::FirstToken,
                after: self.timeouts.first_token,
            }
        } else {
            self.total()
        }
    }

    pub(crate) fn total(&self) -> Deadline {
        Deadline {
            at: self.total,
            phase: TimeoutPhase::Total,
            after: self.timeouts.total,
        }
    }

    pub(crate) fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }
}

/// Sends a request and waits for the response head before the first-token
/// deadline; a non-success status becomes the provider's mapped error.
pub(crate) async fn send(
    provider: &str,
    request: reqwest::RequestBuilder,
    deadlines: &Deadlines,
    map_error: ErrorMapper,
) -> Result<reqwest::Response> {
    let head_deadline = deadlines.before_output();
    let response = match timeout_at(head_deadline.at, request.send()).await {
        Err(_) => return Err(head_deadline.error(provider)),
        Ok(Err(error)) => return Err(from_reqwest(provider, error, deadlines.timeouts())),
        Ok(Ok(response)) => response,
    };
    if response.status().is_success() {
        return Ok(response);
    }

    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_body(provider, response, deadlines).await?;
    let error = map_error(provider, status, &headers, &body);
    tracing::debug!(status, error = %error, "provider returned an error status");
    Err(error)
}

/// Reads a whole response body before the total deadline.
pub(crate) async fn read_body(
    provider: &str,
    response: reqwest::Response,
    deadlines: &Deadlines,
) -> Result<Bytes> {
    let deadline = deadlines.total();
    match timeout_at(deadline.at, response.bytes()).await {
        Err(_) => Err(deadline.error(provider)),
        Ok(Err(error)) => Err(from_reqwest(provider, error, deadlines.timeouts())),
        Ok(Ok(body)) => Ok(body),
    }
}

/// Classifies a reqwest failure: timeouts become [`Error::Timeout`], the rest
/// [`Error::Network`]. reqwest reports a body cut short as a decode error,
/// so decode errors are network errors too; llmops parses JSON itself. The
/// URL is left out of the message.
pub(crate) fn from_reqwest(provider: &str, error: reqwest::Error, timeouts: &Timeouts) -> Error {
    let provider = provider.to_owned();
    if error.is_timeout() {
        let (phase, after) = if error.is_connect() {
            (TimeoutPhase::Connect, timeouts.connect)
        } else {
            (TimeoutPhase::Total, timeouts.total)
        };
        return Error::Timeout {
            provider,
            phase,
            after,
        };
    }

    let context = if error.is_connect() {
        "connection failed"
    } else if error.is_decode() || error.is_body() {
        "reading the response body failed"
    } else {
        "sending the request failed"
    };
    let message = format!("{context}: {}", error_chain(&error.without_url()));
    Error::Network { provider, message }
}

/// Joins an error and its sources into one line, skipping repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}
