//! Sampling options and the model call shared by rubric and pairwise
//! judges.

use std::time::Duration;

use llmops_core::ModelBackend;
use llmops_core::types::{ChatMessage, ChatRequest, ResponseFormat};
use serde_json::Value;

use crate::error::{EvalError, Result};
use crate::judge::aggregate::Aggregation;

/// The maximum number of samples a judge takes per case.
pub const MAX_SAMPLES: u32 = 32;

/// Sampling settings of a judge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JudgeOptions {
    /// Samples per case; 1 by default.
    pub(crate) samples: u32,
    /// Sampling temperature; 0 by default.
    pub(crate) temperature: f64,
    /// Aggregation of samples; the mean by default.
    pub(crate) aggregation: Aggregation,
    /// Whether to send the output schema as `response_format`; on by
    /// default.
    pub(crate) structured_output: bool,
    /// Cap on generated tokens; 512 by default.
    pub(crate) max_tokens: u32,
    /// Retries of a judge call that failed with a retryable error.
    pub(crate) retry: RetryPolicy,
}

/// Retries of one judge call after a retryable failure (rate limit,
/// overload, timeout, 5xx, network error, malformed response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Attempts per call, the first included; 3 by default.
    pub(crate) max_attempts: u32,
    /// Wait before the first retry, doubled per retry; 500 ms by default.
    pub(crate) initial_backoff: Duration,
    /// Cap on any one wait, including a provider's `Retry-After`; 20 s by
    /// default.
    pub(crate) max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// Creates a policy; `max_attempts` is at least 1, and `max_backoff`
    /// at least `initial_backoff`.
    pub(crate) fn new(max_attempts: u32, initial_backoff: Duration, max_backoff: Duration) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            initial_backoff,
            max_backoff: max_backoff.max(initial_backoff),
        }
    }

    /// Returns the wait before retry number `retry` (1 for the first), or
    /// the provider's `retry_after`, capped at `max_backoff`.
    fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)));
        retry_after.unwrap_or(doubled).min(self.max_backoff)
    }
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            samples: 1,
            temperature: 0.0,
            aggregation: Aggregation::Mean,
            structured_output: true,
            max_tokens: 512,
            retry: RetryPolicy::default(),
        }
    }
}

impl JudgeOptions {
    /// Sets the samples per case and their temperature.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `samples` is 0 or above
    /// [`MAX_SAMPLES`], or `temperature` is outside 0 to 2.
    pub(crate) fn set_samples(&mut self, samples: u32, temperature: f64) -> Result<()> {
        if samples == 0 || samples > MAX_SAMPLES {
            return Err(EvalError::InvalidParameter {
                name: "samples",
                value: samples.to_string(),
                reason: format!("use 1 to {MAX_SAMPLES} samples per case"),
            });
        }
        if !(0.0..=2.0).contains(&temperature) {
            return Err(EvalError::InvalidParameter {
                name: "temperature",
                value: temperature.to_string(),
                reason: "use a temperature from 0 to 2".to_owned(),
            });
        }
        self.samples = samples;
        self.temperature = temperature;
        Ok(())
    }
}

/// Calls the judge model and returns its reply text, or the failure as a
/// reason. A call that fails with a retryable error is retried as
/// `options.retry` allows.
///
/// `sample` seeds the request when several samples are taken, so
/// backends that honour `seed` give distinct but repeatable samples.
pub(crate) async fn call_judge(
    backend: &dyn ModelBackend,
    model: &str,
    messages: Vec<ChatMessage>,
    options: &JudgeOptions,
    output_schema: Option<Value>,
    sample: u32,
) -> std::result::Result<String, String> {
    let mut request = ChatRequest::new(model, messages);
    request.temperature = Some(options.temperature);
    request.max_tokens = Some(options.max_tokens);
    if options.samples > 1 {
        request.seed = Some(i64::from(sample));
    }
    if let (true, Some(schema)) = (options.structured_output, output_schema) {
        request.response_format = Some(json_schema_format(schema));
    }
    let policy = options.retry;
    let mut attempt = 1;
    loop {
        match backend.complete(request.clone()).await {
            Ok(completion) => return Ok(completion.text()),
            Err(error) if error.retry_may_help() && attempt < policy.max_attempts => {
                let wait = policy.wait(attempt, error.retry_after());
                tracing::warn!(
                    model,
                    attempt,
                    class = error.class(),
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "judge call failed, retrying"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Err(error) => {
                tracing::warn!(model, attempt, class = error.class(), "judge call failed");
                return Err(format!(
                    "the judge call to `{model}` failed after {attempt} attempt(s): {error}"
                ));
            }
        }
    }
}

fn json_schema_format(schema: Value) -> ResponseFormat {
    ResponseFormat {
        kind: "json_schema".to_owned(),
        json_schema: Some(serde_json::json!({
            "name": "judge_verdict",
            "strict": true,
            "schema": schema,
        })),
        extra: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_doubles_from_initial_backoff() {
        let policy = RetryPolicy::new(5, Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(policy.wait(1, None), Duration::from_millis(100));
        assert_eq!(policy.wait(2, None), Duration::from_millis(200));
        assert_eq!(policy.wait(3, None), Duration::from_millis(400));
    }

    #[test]
    fn wait_is_capped_including_retry_after() {
        let policy = RetryPolicy::new(40, Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(policy.wait(10, None), Duration::from_secs(1));
        assert_eq!(policy.wait(39, None), Duration::from_secs(1));
        let asked = Some(Duration::from_secs(3600));
        assert_eq!(policy.wait(1, asked), Duration::from_secs(1));
        let short = Some(Duration::from_millis(30));
        assert_eq!(policy.wait(1, short), Duration::from_millis(30));
    }

    #[test]
    fn policy_keeps_at_least_one_attempt() {
        let policy = RetryPolicy::new(0, Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(policy.max_attempts, 1);
        assert_eq!(policy.max_backoff, Duration::from_secs(2));
    }
}
