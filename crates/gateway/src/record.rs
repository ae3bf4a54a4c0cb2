//! The record every routed request leaves, and where records go.

use std::sync::Mutex;

use llmops_core::types::Usage;
use rust_decimal::Decimal;
use serde::Serialize;

/// Why a request went to the model it went to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteDecision {
    /// The model name the client sent.
    pub requested_model: String,
    /// The configured model that served the request first.
    pub model: String,
    /// The task tag, when the request had one or the classifier chose one.
    pub task: Option<String>,
    /// How the model was chosen, such as `model name`, `task tag
    /// "summarize"` or `classifier: tools`.
    pub reason: String,
}

/// One call to one deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    /// The deployment called.
    pub deployment: String,
    /// The model the deployment belongs to.
    pub model: String,
    /// The strategy that picked it.
    pub strategy: &'static str,
    /// Milliseconds from the call to its answer or failure.
    pub latency_ms: f64,
    /// The failure, or none when the call succeeded.
    pub error: Option<String>,
    /// The failure's class, such as `rate_limited` or `timeout`; none when
    /// the call succeeded.
    pub error_class: Option<&'static str>,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum RequestStatus {
    /// A completion reached the client.
    Success,
    /// The request failed; `message` is the error returned to the client.
    Error {
        /// The error class, such as `rate_limited` or `timeout`.
        class: String,
        /// The error text.
        message: String,
    },
    /// The client went away before the end.
    Cancelled,
}

/// What the gateway did with one request: route, attempts, outcome,
/// timing, tokens and cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    /// A gateway-assigned id, unique per process.
    pub id: String,
    /// Unix time in milliseconds when the request arrived.
    pub started_at_ms: u64,
    /// The route and why.
    pub route: RouteDecision,
    /// Every call made, in order.
    pub attempts: Vec<AttemptRecord>,
    /// The deployment that answered, on success.
    pub deployment: Option<String>,
    /// The upstream model name that answered, on success.
    pub upstream_model: Option<String>,
    /// How the request ended.
    pub status: RequestStatus,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// Milliseconds from arrival to the last byte or the error.
    pub latency_ms: f64,
    /// Milliseconds from arrival to the first content chunk (streams only).
    pub time_to_first_token_ms: Option<f64>,
    /// Token usage, from the provider or counted.
    pub usage: Option<Usage>,
    /// Whether `usage` was counted by llmops because the provider sent none.
    pub usage_estimated: bool,
    /// The cost in US dollars; none when the model has no price.
    pub cost_usd: Option<Decimal>,
    /// Whether the response came from the response cache or the semantic
    /// cache. Such a record has no deployment and no usage, and a cost of 0.
    pub cache_hit: bool,
    /// The cache that served the response, or none when no cache did.
    pub cache_kind: Option<CacheKind>,
}

/// The cache that served a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CacheKind {
    /// The response cache, for a request identical to a stored one.
    Exact,
    /// The [`SemanticCache`](crate::SemanticCache), for a similar request.
    Semantic,
}

impl RequestRecord {
    /// Whether the request succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == RequestStatus::Success
    }
}

/// Receives a record for every request, successful or not.
///
/// Called on the request's task as the request ends, so an implementation
/// should hand the record off (to a channel, a buffer) rather than block.
pub trait RecordSink: Send + Sync {
    /// Takes one finished request's record.
    fn record(&self, record: RequestRecord);
}

/// A sink that keeps every record in memory, for tests and small tools.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<RequestRecord>>,
}

impl MemorySink {
    /// Creates an empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// Returns a copy of the records so far, oldest first.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.lock().clone()
    }

    /// Removes and returns the records so far.
    pub fn take(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RequestRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl RecordSink for MemorySink {
    fn record(&self, record: RequestRecord) {
        self.lock().push(record);
    }
}
