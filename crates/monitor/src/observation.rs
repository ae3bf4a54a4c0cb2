//! What the monitor records: one finished request, or one score of a
//! response.
//!
//! The fields borrow their strings, so building an observation from data
//! the caller already holds allocates nothing.

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// A response reached the client.
    #[default]
    Success,
    /// The request failed with an error of this class, such as
    /// `rate_limited` or `timeout` (the OpenTelemetry `error.type`).
    ///
    /// The classes of [`CLIENT_ERROR_CLASSES`] are the request's own fault,
    /// which only the caller can fix. They are counted by class but not as
    /// errors of the service, so the error ratio and its alerts ignore them.
    Error(&'a str),
    /// The client went away before the end. Counted as a request but
    /// neither as a success nor as an error.
    Cancelled,
}

/// Error classes caused by the request itself: a malformed request, a model
/// name no deployment serves, a prompt longer than every context window, and
/// content the provider refuses under its policy.
pub const CLIENT_ERROR_CLASSES: [&str; 4] = [
    "invalid_request",
    "unknown_model",
    "context_length_exceeded",
    "content_policy",
];

/// Returns true when `class` counts toward the error ratio, which is every
/// class except those of [`CLIENT_ERROR_CLASSES`].
pub fn is_service_error(class: &str) -> bool {
    !CLIENT_ERROR_CLASSES.contains(&class)
}

/// A registry prompt and its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptRef<'a> {
    /// The prompt's name in the registry.
    pub name: &'a str,
    /// Its version.
    pub version: u32,
}

/// One finished request, as the monitor records it.
///
/// Label values (model, team, key, route, prompt) beyond the monitor's
/// per-dimension cap are counted under `other`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestObservation<'a> {
    /// The model the client asked for or the route chose
    /// (`gen_ai.request.model`).
    pub model: &'a str,
    /// The provider that served it (`gen_ai.provider.name`), such as
    /// `openai`; empty when unknown.
    pub provider: &'a str,
    /// The deployment that served it, when known.
    pub deployment: Option<&'a str>,
    /// The operation (`gen_ai.operation.name`), such as `chat`; empty
    /// reads as `chat`.
    pub operation: &'a str,
    /// How the request ended.
    pub outcome: Outcome<'a>,
    /// Milliseconds from arrival to the last byte or the error.
    pub duration_ms: f64,
    /// Milliseconds to the first streamed chunk, for streams.
    pub time_to_first_token_ms: Option<f64>,
    /// Input (prompt) tokens.
    pub input_tokens: u64,
    /// Output (completion) tokens.
    pub output_tokens: u64,
    /// Spend in US dollars.
    pub cost_usd: f64,
    /// Whether the request looked in the response cache.
    pub cache_lookup: bool,
    /// Whether the response came from the cache.
    pub cache_hit: bool,
    /// Whether a deployment other than the first one tried served it.
    pub fallback: bool,
    /// The error class of every failed attempt, in order.
    pub failed_attempts: &'a [&'a str],
    /// Guardrail findings on the request or response, by entity type or
    /// check name.
    pub guard_findings: &'a [&'a str],
    /// The id of the virtual API key (never the secret).
    pub key: Option<&'a str>,
    /// The team of the key.
    pub team: Option<&'a str>,
    /// The route or task tag.
    pub route: Option<&'a str>,
    /// The registry prompt and version that produced the request.
    pub prompt: Option<PromptRef<'a>>,
    /// The request id, as in the gateway's record.
    pub request_id: Option<&'a str>,
    /// Unix time in milliseconds when the request ended; the monitor's
    /// clock when none.
    pub timestamp_ms: Option<u64>,
}

/// One score of one response, such as an evaluator's groundedness.
#[derive(Debug, Clone, Copy)]
pub struct ScoreObservation<'a> {
    /// The model that produced the response.
    pub model: &'a str,
    /// The registry prompt and version, when the request had one.
    pub prompt: Option<PromptRef<'a>>,
    /// The metric, such as `groundedness`.
    pub metric: &'a str,
    /// The score; for groundedness, 0 (ungrounded) to 1 (grounded).
    pub value: f64,
    /// Unix time in milliseconds of the score; the monitor's clock when
    /// none.
    pub timestamp_ms: Option<u64>,
}
