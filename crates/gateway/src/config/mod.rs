//! Gateway configuration: models and their deployments, task routes, retry,
//! health and routing defaults, rate limits, budgets and the response cache. Read from TOML or built in code, and
//! validated before a [`Gateway`](crate::Gateway) is built from it.

mod builder;
mod limits;
mod validate;
mod validate_limits;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::GatewayError;
use crate::strategy::Strategy;

pub use limits::{BudgetConfig, CacheConfig, LimitConfig};

/// The whole gateway configuration.
///
/// ```
/// use llmops_gateway::GatewayConfig;
///
/// let config = GatewayConfig::from_toml_str(r#"
///     [[models]]
///     name = "chat"
///     fallbacks = ["chat-backup"]
///
///     [[models.deployments]]
///     id = "mini"
///     provider = "openai"
///     model = "gpt-4o-mini"
///
///     [[models]]
///     name = "chat-backup"
///
///     [[models.deployments]]
///     id = "haiku"
///     provider = "anthropic"
///     model = "claude-haiku-4-5"
/// "#).unwrap();
/// assert_eq!(config.models[0].deployments[0].weight, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Routing defaults.
    #[serde(default)]
    pub defaults: Defaults,
    /// Retry and attempt bounds.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Passive health checks (circuit breakers) of deployments.
    #[serde(default)]
    pub health: HealthPolicy,
    /// The public model names and where each is served.
    #[serde(default)]
    pub models: Vec<ModelConfig>,
    /// Task tags and the model each maps to.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Rate limits per key, user, team or model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitConfig>,
    /// Spending budgets per key, user, team or model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<BudgetConfig>,
    /// The response cache.
    #[serde(default)]
    pub cache: CacheConfig,
}

/// Routing defaults for every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// The strategy of models that set none.
    pub strategy: Strategy,
    /// The model of requests whose task has no route and whose model name is
    /// not configured; none means such requests fail with an unknown-model
    /// error.
    pub model: Option<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            strategy: Strategy::WeightedRandom,
            model: None,
        }
    }
}

/// How often a failed call is tried again.
///
/// Every attempt, first or retry, on any deployment, counts against
/// `max_attempts`, and no deployment gets more than `retries + 1` attempts
/// per request, so an outage cannot turn into a retry storm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Extra attempts per deployment after its first one.
    pub retries: u32,
    /// Attempts per request across all deployments and fallbacks.
    pub max_attempts: u32,
    /// The first backoff delay, doubled after each retry round.
    pub base_delay_ms: u64,
    /// The largest backoff delay.
    pub max_delay_ms: u64,
    /// The longest `Retry-After` the gateway waits for; a deployment asking
    /// for longer is skipped for this request.
    pub max_retry_after_ms: u64,
}

impl RetryPolicy {
    /// Returns a policy of exactly one attempt per request: no retries, no
    /// fallback attempts and no waiting, as tests of a single call need.
    pub fn single_attempt() -> Self {
        RetryPolicy {
            retries: 0,
            max_attempts: 1,
            base_delay_ms: 0,
            max_delay_ms: 0,
            max_retry_after_ms: 0,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 1,
            max_attempts: 6,
            base_delay_ms: 100,
            max_delay_ms: 5_000,
            max_retry_after_ms: 10_000,
        }
    }
}

/// When a deployment is ejected from routing, and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthPolicy {
    /// The sliding window over which outcomes are counted.
    pub window_secs: u64,
    /// Outcomes needed in the window before a deployment can be ejected.
    pub min_requests: u32,
    /// The share of failed outcomes in the window that ejects a deployment.
    pub failure_ratio: f64,
    /// A call slower than this counts as failed; 0 turns the latency check
    /// off.
    pub slow_ms: u64,
    /// How long an ejected deployment gets no traffic before one probe
    /// request is let through.
    pub cooldown_secs: u64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            window_secs: 30,
            min_requests: 5,
            failure_ratio: 0.5,
            slow_ms: 0,
            cooldown_secs: 30,
        }
    }
}

/// A public model name and the deployments that serve it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The name clients put in `model`.
    pub name: String,
    /// The routing strategy; the default strategy when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Models tried in order when every deployment of this one failed with
    /// an error another deployment may not have (rate limit, overload,
    /// server error, timeout, network). Their own fallbacks follow them,
    /// and no model is tried twice in one request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Models tried when the request exceeds this model's context window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context_window_fallbacks: Vec<String>,
    /// Models tried when this model's provider refuses the content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_policy_fallbacks: Vec<String>,
    /// Where the model is served.
    pub deployments: Vec<DeploymentConfig>,
}

/// One place a model is served: a provider, an upstream model name and its
/// limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// A name unique across the configuration, used in records and metrics.
    pub id: String,
    /// `openai` (any OpenAI-compatible server), `anthropic`, or the name of
    /// a backend the application registered with
    /// [`GatewayBuilder::backend`](crate::GatewayBuilder::backend).
    pub provider: String,
    /// The model name sent upstream.
    pub model: String,
    /// The provider base URL; the provider's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable that holds the API key; the provider's
    /// usual variable when unset. The key itself never appears in the
    /// configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// The relative share of traffic under weighted routing. A deployment
    /// of weight 0 gets no first picks, only requests that every weighted
    /// deployment of the model failed.
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Labels such as `on_prem` or `eu` that residency rules match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The model's context window in tokens, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// The price-table entry that prices this deployment's usage; the
    /// upstream model name when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_model: Option<String>,
}

fn default_weight() -> u32 {
    1
}

/// A task tag and the model that serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The task tag, from `metadata.task` or the `x-llmops-task` header.
    pub task: String,
    /// The model name requests of this task go to.
    pub model: String,
}

impl GatewayConfig {
    /// Parses and validates a TOML configuration.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] naming the key and the fix when the
    /// text is not valid TOML, has an unknown key, or fails validation.
    pub fn from_toml_str(text: &str) -> Result<Self, GatewayError> {
        let config: GatewayConfig = toml::from_str(text).map_err(|error| {
            GatewayError::config(
                error
                    .span()
                    .map_or("gateway configuration".to_owned(), |span| {
                        describe_position(text, span.start)
                    }),
                error.message().to_owned(),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates a TOML configuration file.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Io`] when the file cannot be read, and the
    /// errors of [`GatewayConfig::from_toml_str`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, GatewayError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| GatewayError::Io {
            path: path.to_owned(),
            source,
        })?;
        GatewayConfig::from_toml_str(&text).map_err(|error| error.in_file(path))
    }

    /// Returns the model configuration named `name`.
    pub fn find_model(&self, name: &str) -> Option<&ModelConfig> {
        self.models.iter().find(|model| model.name == name)
    }

    /// Returns the task routes as a map from task to model.
    pub fn route_map(&self) -> BTreeMap<&str, &str> {
        self.routes
            .iter()
            .map(|route| (route.task.as_str(), route.model.as_str()))
            .collect()
    }
}

/// Describes a byte offset of `text` as `line L, column C`.
fn describe_position(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    format!("line {line}, column {column}")
}
