//! The document the dashboard draws: every panel's data for one window.
//!
//! Serialized as JSON for `GET /dashboard/api/snapshot` and for each event
//! of the live stream. Money is in US dollars as `f64`, for display only;
//! the gateway's accounting keeps exact decimals.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::MonitorError;

/// The length of the sliding window that aggregates cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Window {
    /// The last minute.
    #[serde(rename = "1m")]
    Minute,
    /// The last hour.
    #[serde(rename = "1h")]
    Hour,
    /// The last day.
    #[serde(rename = "1d")]
    Day,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 3] = [Window::Minute, Window::Hour, Window::Day];

    /// The window's length in milliseconds.
    pub fn millis(self) -> u64 {
        match self {
            Window::Minute => 60_000,
            Window::Hour => 3_600_000,
            Window::Day => 86_400_000,
        }
    }

    /// The name used in URLs and JSON: `1m`, `1h` or `1d`.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Minute => "1m",
            Window::Hour => "1h",
            Window::Day => "1d",
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Window {
    type Err = MonitorError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "1m" => Ok(Window::Minute),
            "1h" => Ok(Window::Hour),
            "1d" => Ok(Window::Day),
            _ => Err(MonitorError::Invalid {
                field: "window",
                value: value.to_owned(),
                fix: "use 1m, 1h or 1d".into(),
            }),
        }
    }
}

/// A panel whose data comes from a source that may be absent or failing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Panel<T> {
    /// The source answered.
    Ok {
        /// The panel's data.
        data: T,
    },
    /// No source is configured, or it has nothing yet; `hint` tells the
    /// user how to provide one, such as `run llmops drift baseline`.
    Absent {
        /// How to make the panel show data.
        hint: String,
    },
    /// The source failed.
    Error {
        /// The failure, for display.
        message: String,
    },
}

/// Everything the dashboard shows for one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Unix time in milliseconds when the snapshot was taken.
    pub generated_at_ms: u64,
    /// The window the aggregates cover.
    pub window: Window,
    /// Requests, errors and the time series of the window.
    pub traffic: TrafficPanel,
    /// Latency percentiles over the window.
    pub latency: LatencyPanel,
    /// Spend by model, team and prompt version, budgets and projections.
    pub cost: CostPanel,
    /// Response-cache hits.
    pub cache: CachePanel,
    /// Fallbacks to another deployment or model.
    pub fallbacks: FallbackPanel,
    /// Guardrail findings by entity type or check.
    pub guard_findings: Vec<NamedCount>,
    /// Evaluation scores and hallucination rates per prompt version.
    pub quality: Panel<QualitySummary>,
    /// The latest drift report.
    pub drift: Panel<DriftSummary>,
    /// The human-oversight review queue.
    pub oversight: Panel<OversightSummary>,
    /// User ratings.
    pub feedback: Panel<FeedbackSummary>,
    /// The state of every alert rule.
    pub alerts: Vec<AlertState>,
}

/// A name and a count, such as a guard finding type and how often it fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCount {
    /// The name.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// Request counts over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficPanel {
    /// Requests that ended in the window.
    pub requests: u64,
    /// Of those, the ones that failed on the service's side: every error
    /// class except the client's own mistakes (see
    /// [`CLIENT_ERROR_CLASSES`](crate::CLIENT_ERROR_CLASSES)).
    pub errors: u64,
    /// Of those, the ones rejected for the client's own mistake, such as an
    /// invalid request or an unknown model. They count neither as
    /// successes nor as errors.
    #[serde(default)]
    pub rejected: u64,
    /// `errors / requests`; none without requests.
    pub error_ratio: Option<f64>,
    /// Requests per second averaged over the window.
    pub requests_per_second: f64,
    /// Input (prompt) tokens.
    pub input_tokens: u64,
    /// Output (completion) tokens.
    pub output_tokens: u64,
    /// Failed requests by class, such as `rate_limited`, client errors
    /// included.
    pub errors_by_class: Vec<NamedCount>,
    /// The window cut into equal buckets (60 per window), oldest first.
    pub series: Vec<Point>,
}

/// One bucket of the time series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Unix time in milliseconds of the bucket's start.
    pub t_ms: u64,
    /// Requests that ended in the bucket.
    pub requests: u64,
    /// Of those, the failed ones.
    pub errors: u64,
    /// Median latency in milliseconds; none without requests.
    pub p50_ms: Option<f64>,
    /// 95th percentile latency in milliseconds.
    pub p95_ms: Option<f64>,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: Option<f64>,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Spend in US dollars.
    pub cost_usd: f64,
}

/// Latency percentiles over the whole window, in milliseconds; none without
/// requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyPanel {
    /// Median request duration.
    pub p50_ms: Option<f64>,
    /// 90th percentile.
    pub p90_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Median time to first token of streamed requests.
    pub ttft_p50_ms: Option<f64>,
    /// 99th percentile time to first token.
    pub ttft_p99_ms: Option<f64>,
}

/// Spend and tokens of one key of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// The model, team or `prompt@version`.
    pub key: String,
    /// Requests.
    pub requests: u64,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Spend in US dollars.
    pub cost_usd: f64,
}

/// Spend against one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetStatus {
    /// What the budget covers, such as `team:search` or `global`.
    pub scope: String,
    /// The budget period, such as `day` or `month`.
    pub period: String,
    /// The limit in US dollars.
    pub limit_usd: f64,
    /// Spent so far in the period.
    pub spent_usd: f64,
    /// Spend at the end of the period at the current rate.
    pub projected_usd: f64,
}

/// What the window's traffic would have cost on another model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostAlternative {
    /// A model in the price table.
    pub model: String,
    /// The window's tokens priced at that model's rates.
    pub cost_usd: f64,
    /// `cost_usd` divided by the actual spend; none when nothing was spent.
    pub ratio: Option<f64>,
}

/// Spend over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostPanel {
    /// Spend in the window.
    pub total_usd: f64,
    /// Spend by model, highest first.
    pub by_model: Vec<Breakdown>,
    /// Spend by team, highest first.
    pub by_team: Vec<Breakdown>,
    /// Spend by prompt version, highest first.
    pub by_prompt_version: Vec<Breakdown>,
    /// Spend against each configured budget.
    pub budgets: Vec<BudgetStatus>,
    /// Spend from the start of the calendar month (UTC) projected to its
    /// end at the rate of the last day.
    pub projected_month_end_usd: f64,
    /// The same traffic priced on other models, cheapest first.
    pub alternatives: Vec<CostAlternative>,
}

/// Response-cache use over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachePanel {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that looked in the cache.
    pub lookups: u64,
    /// `hits / lookups`; none without lookups.
    pub hit_ratio: Option<f64>,
}

/// Fallbacks over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackPanel {
    /// Requests served by a deployment other than the first one tried.
    pub requests_with_fallback: u64,
    /// Failed attempts by error class.
    pub by_reason: Vec<NamedCount>,
}

/// Evaluation scores and hallucination rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySummary {
    /// Mean score per prompt version and metric.
    pub scores: Vec<ScoreRow>,
    /// Share of responses judged ungrounded, per model and prompt version.
    pub hallucination: Vec<HallucinationRow>,
    /// User feedback per rated prompt version, whether or not it has
    /// scores. The dashboard shows it in the score table's rows of that
    /// version.
    #[serde(default)]
    pub feedback: Vec<VersionFeedback>,
}

/// User ratings of one prompt version in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionFeedback {
    /// The registry prompt.
    pub prompt: String,
    /// Its version.
    pub version: u32,
    /// How many ratings.
    pub count: u64,
    /// Their mean, 1 to 5.
    pub mean_rating: f64,
    /// Share of ratings of 4 or 5, the thumbs-up ratio of a 5-point scale.
    pub positive_ratio: f64,
    /// The newest non-empty comments, newest first (at most
    /// [`crate::MAX_VERSION_COMMENTS`]), as stored after redaction.
    pub latest_comments: Vec<String>,
}

/// The mean of one metric over one prompt version's scored responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    /// The registry prompt.
    pub prompt: String,
    /// Its version.
    pub version: u32,
    /// The metric, such as `groundedness` or `exact_match`.
    pub metric: String,
    /// The mean score.
    pub mean: f64,
    /// How many scores the mean covers.
    pub count: u64,
    /// Mean user rating (1 to 5) of the same version, when it has any.
    pub feedback_mean: Option<f64>,
}

/// Hallucination rate of one model and prompt version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallucinationRow {
    /// The model that answered.
    pub model: String,
    /// `prompt@version`, or none for requests without a registry prompt.
    pub prompt_version: Option<String>,
    /// Responses with a groundedness score.
    pub scored: u64,
    /// Share of those below the groundedness threshold.
    pub rate: f64,
}

/// The latest drift report in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    /// The baseline the report compares against.
    pub baseline: String,
    /// Unix time in milliseconds of the report.
    pub created_at_ms: u64,
    /// `none`, `warning` or `alert`.
    pub severity: String,
    /// Each measure against its threshold.
    pub measures: Vec<DriftMeasure>,
    /// Topic shares in the baseline and in the checked window.
    pub topics: Vec<TopicShare>,
}

/// One drift measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftMeasure {
    /// Such as `js_divergence` or `psi`.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// The threshold that raises an alert, when one is set.
    pub threshold: Option<f64>,
}

/// One topic's share of inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicShare {
    /// The topic's label, such as its top c-TF-IDF terms.
    pub label: String,
    /// Share in the baseline, 0 to 1.
    pub baseline: f64,
    /// Share in the checked window, 0 to 1.
    pub current: f64,
}

/// The human-oversight review queue in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OversightSummary {
    /// Items waiting for a reviewer.
    pub pending: u64,
    /// Age in seconds of the oldest waiting item.
    pub oldest_pending_age_s: Option<u64>,
    /// The most recent items, newest first (at most 20).
    pub items: Vec<OversightItem>,
}

/// One review item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OversightItem {
    /// The item's id.
    pub id: String,
    /// What is to be reviewed, such as `output_guard` or `drift`.
    pub kind: String,
    /// `pending`, `approved`, `rejected`, ...
    pub status: String,
    /// Unix time in milliseconds when the item was opened.
    pub created_at_ms: u64,
}

/// User ratings in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackSummary {
    /// Ratings received in the window.
    pub count: u64,
    /// Their mean, 1 to 5.
    pub mean_rating: Option<f64>,
    /// The most recent, newest first (at most 20); comments are shown as
    /// stored, after the sink's own redaction.
    pub recent: Vec<crate::feedback::Feedback>,
}

/// Whether an alert rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Below the threshold.
    Ok,
    /// Above the threshold.
    Firing,
}

/// One alert rule's current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    /// The rule's name.
    pub rule: String,
    /// Firing or not.
    pub status: AlertStatus,
    /// The last evaluated value; none when the aggregate had no data.
    pub value: Option<f64>,
    /// The threshold that fires the rule.
    pub threshold: f64,
    /// Unix time in milliseconds of the last change of status.
    pub since_ms: u64,
}

/// Where the dashboard gets its snapshots.
#[async_trait]
pub trait SnapshotSource: Send + Sync {
    /// Takes a snapshot over `window`. Panel sources that fail show up as
    /// [`Panel::Error`]; the call itself does not fail.
    async fn snapshot(&self, window: Window) -> Snapshot;
}
