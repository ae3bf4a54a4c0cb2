//! Building a [`Gateway`] from a configuration, backends and hooks.

use std::collections::HashMap;
use std::sync::Arc;

use llmops_core::pricing::PriceTable;
use llmops_core::providers::anthropic::{AnthropicBackend, AnthropicConfig};
use llmops_core::providers::openai::{DEFAULT_OPENAI_BASE_URL, OpenAiBackend, OpenAiConfig};
use llmops_core::{Embedder, ModelBackend};

use crate::config::{DeploymentConfig, GatewayConfig};
use crate::deployment::Deployment;
use crate::error::GatewayError;
use crate::gateway::{Accounting, Gateway};
use crate::hooks::{OutputHook, PostCallHook, PreCallHook};
use crate::limits::{BudgetAlertSink, BudgetTable, Clock, LimitTable, SystemClock};
use crate::record::RecordSink;
use crate::semantic_cache::SemanticCache;
use crate::state::{MemoryState, SharedState};
use crate::task_embedding::TaskEmbeddings;

/// Looks up an environment variable by name.
type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Collects what a [`Gateway`] needs beyond its configuration.
///
/// ```
/// use std::sync::Arc;
/// use llmops_gateway::{DeploymentConfig, Gateway, GatewayConfig, MemorySink, ModelConfig};
///
/// # async fn demo(my_backend: Arc<dyn llmops_core::ModelBackend>) -> Result<(), Box<dyn std::error::Error>> {
/// let config = GatewayConfig::new().model(
///     ModelConfig::new("chat").deployment(DeploymentConfig::new("mine", "in-house", "v1")),
/// );
/// let records = Arc::new(MemorySink::new());
/// let gateway = Gateway::builder(config)
///     .backend("in-house", my_backend)
///     .record_sink(records.clone())
///     .build()?;
/// # Ok(()) }
/// ```
pub struct GatewayBuilder {
    config: GatewayConfig,
    backends: HashMap<String, Arc<dyn ModelBackend>>,
    prices: Option<PriceTable>,
    sink: Option<Arc<dyn RecordSink>>,
    pre_hooks: Vec<Arc<dyn PreCallHook>>,
    post_hooks: Vec<Arc<dyn PostCallHook>>,
    output_hooks: Vec<Arc<dyn OutputHook>>,
    seed: Option<u64>,
    env: EnvLookup,
    state: Option<Arc<dyn SharedState>>,
    clock: Option<Arc<dyn Clock>>,
    alert_sink: Option<Arc<dyn BudgetAlertSink>>,
    task_embedder: Option<Arc<dyn Embedder>>,
    semantic_cache: Option<Arc<dyn SemanticCache>>,
}

impl Gateway {
    /// Starts building a gateway from `config`.
    pub fn builder(config: GatewayConfig) -> GatewayBuilder {
        GatewayBuilder {
            config,
            backends: HashMap::new(),
            prices: None,
            sink: None,
            pre_hooks: Vec::new(),
            post_hooks: Vec::new(),
            output_hooks: Vec::new(),
            seed: None,
            state: None,
            clock: None,
            alert_sink: None,
            task_embedder: None,
            semantic_cache: None,
            env: Box::new(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|value| !value.trim().is_empty())
            }),
        }
    }
}

impl GatewayBuilder {
    /// Registers a backend under a provider name that deployments can use,
    /// such as `local` for the embedded model or an application's own.
    /// A name of `openai` or `anthropic` replaces the built-in HTTP backend.
    pub fn backend(mut self, provider: impl Into<String>, backend: Arc<dyn ModelBackend>) -> Self {
        self.backends.insert(provider.into(), backend);
        self
    }

    /// Sets the price table for costs; the built-in table when unset.
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Sends every request's record to `sink`.
    pub fn record_sink(mut self, sink: Arc<dyn RecordSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Adds a hook that runs before routing, in the order added.
    pub fn pre_call_hook(mut self, hook: Arc<dyn PreCallHook>) -> Self {
        self.pre_hooks.push(hook);
        self
    }

    /// Adds a hook that runs after each request, in the order added.
    pub fn post_call_hook(mut self, hook: Arc<dyn PostCallHook>) -> Self {
        self.post_hooks.push(hook);
        self
    }

    /// Adds a hook that checks the output each caller receives, in the
    /// order added.
    pub fn output_hook(mut self, hook: Arc<dyn OutputHook>) -> Self {
        self.output_hooks.push(hook);
        self
    }

    /// Seeds the random choices (weighted routing, jitter), for
    /// reproducible tests.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Reads API keys through `lookup` instead of the process environment.
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Box::new(lookup);
        self
    }

    /// Keeps rate-limit windows, spend and cached responses in `state`,
    /// which other gateway processes may share; a [`MemoryState`] of this
    /// process, bounded by `cache.max_bytes`, when unset.
    pub fn shared_state(mut self, state: Arc<dyn SharedState>) -> Self {
        self.state = Some(state);
        self
    }

    /// Reads time from `clock`, for tests of windows, periods and expiry;
    /// the system clock when unset.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Sends budget alerts to `sink` as well as to the log.
    pub fn budget_alert_sink(mut self, sink: Arc<dyn BudgetAlertSink>) -> Self {
        self.alert_sink = Some(sink);
        self
    }

    /// Routes requests that name no task and no configured model to the
    /// task whose `[[routes]]` examples are nearest in meaning, by the
    /// cosine similarity of `embedder`'s vectors, before the rule
    /// classifier. The examples are embedded once, at the first such
    /// request or at [`Gateway::embed_task_examples`]; each such request
    /// then costs one embedding of its last user message.
    pub fn task_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.task_embedder = Some(embedder);
        self
    }

    /// Consults `cache` after the exact response cache misses, and stores
    /// successful responses in it. Default none.
    pub fn semantic_cache(mut self, cache: Arc<dyn SemanticCache>) -> Self {
        self.semantic_cache = Some(cache);
        self
    }

    /// Validates the configuration, creates every deployment's backend and
    /// starts the active health checks that the configuration sets on the
    /// current Tokio runtime (outside one, they do not run).
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] for an invalid configuration or a
    /// provider that is neither built in nor registered, and
    /// [`GatewayError::Backend`] when a provider rejects its settings (a
    /// malformed base URL, a missing API key).
    pub fn build(self) -> Result<Gateway, GatewayError> {
        self.config.validate()?;
        let prices = match self.prices {
            Some(prices) => prices,
            None => PriceTable::defaults().map_err(|error| {
                GatewayError::config(
                    "prices",
                    format!("the built-in price table failed to load: {error}"),
                )
            })?,
        };
        let mut deployments = Vec::new();
        for (model_index, model) in self.config.models.iter().enumerate() {
            for (index, deployment) in model.deployments.iter().enumerate() {
                let key = format!("models[{model_index}].deployments[{index}]");
                let backend = match self.backends.get(&deployment.provider) {
                    Some(backend) => Arc::clone(backend),
                    None => built_in(&key, deployment, &*self.env, &self.backends)?,
                };
                deployments.push(Arc::new(Deployment::new(
                    deployment.clone(),
                    model.name.clone(),
                    backend,
                    &self.config.health,
                )));
            }
        }
        let mut accounting = accounting(
            &self.config,
            prices,
            self.state,
            self.clock,
            self.alert_sink,
        )?;
        accounting.task_embeddings = self
            .task_embedder
            .and_then(|embedder| TaskEmbeddings::new(&self.config, embedder));
        accounting.semantic_cache = self.semantic_cache;
        accounting.output_hooks = self.output_hooks;
        let gateway = Gateway::from_parts(
            self.config,
            deployments,
            self.sink,
            self.pre_hooks,
            self.post_hooks,
            self.seed,
            accounting,
        );
        gateway.start_health_checks();
        Ok(gateway)
    }
}

/// Fills the limit and budget tables from the configuration.
fn accounting(
    config: &GatewayConfig,
    prices: PriceTable,
    state: Option<Arc<dyn SharedState>>,
    clock: Option<Arc<dyn Clock>>,
    alert_sink: Option<Arc<dyn BudgetAlertSink>>,
) -> Result<Accounting, GatewayError> {
    let mut limits = LimitTable::default();
    for limit in &config.limits {
        match limit.limit_scope() {
            Some(scope) => limits.set(scope, limit.rule()),
            None => limits.set_default(limit.scope, Some(limit.rule())),
        }
    }
    let mut budgets = BudgetTable::default();
    for (index, budget) in config.budgets.iter().enumerate() {
        let rule = budget.rule().map_err(|(position, share)| {
            GatewayError::config(
                format!("budgets[{index}].alert_at[{position}]"),
                format!("{share} is not a number; use a share such as 0.8"),
            )
        })?;
        match budget.limit_scope() {
            Some(scope) => budgets.set(scope, rule),
            None => budgets.set_default(budget.scope, Some(rule)),
        }
    }
    let state =
        state.unwrap_or_else(|| Arc::new(MemoryState::with_cache_bytes(config.cache.max_bytes)));
    Ok(Accounting {
        prices,
        limits,
        budgets,
        state,
        clock: clock.unwrap_or_else(|| Arc::new(SystemClock)),
        alert_sink,
        task_embeddings: None,
        semantic_cache: None,
        output_hooks: Vec::new(),
    })
}

/// Creates the built-in HTTP backend a deployment names.
fn built_in(
    key: &str,
    deployment: &DeploymentConfig,
    env: &dyn Fn(&str) -> Option<String>,
    registered: &HashMap<String, Arc<dyn ModelBackend>>,
) -> Result<Arc<dyn ModelBackend>, GatewayError> {
    let backend_error = |source| GatewayError::Backend {
        deployment: deployment.id.clone(),
        source,
    };
    match deployment.provider.as_str() {
        "openai" => {
            let mut config = OpenAiConfig::new();
            if let Some(base_url) = &deployment.base_url {
                config = config.base_url(base_url);
            }
            let variable = deployment
                .api_key_env
                .as_deref()
                .unwrap_or("OPENAI_API_KEY");
            match env(variable) {
                Some(key) => config = config.api_key(key),
                None if deployment
                    .base_url
                    .as_deref()
                    .is_none_or(|url| url == DEFAULT_OPENAI_BASE_URL) =>
                {
                    return Err(GatewayError::config(
                        format!("{key}.api_key_env"),
                        format!(
                            "{variable} is not set; set it to an OpenAI API key, or point base_url at a server that needs none"
                        ),
                    ));
                }
                None => {
                    if deployment.api_key_env.is_some() {
                        tracing::warn!(
                            deployment = %deployment.id,
                            variable,
                            "api_key_env names a variable that is not set; calling base_url without a key"
                        );
                    }
                }
            }
            Ok(Arc::new(OpenAiBackend::new(config).map_err(backend_error)?))
        }
        "anthropic" => {
            let mut config = AnthropicConfig::new();
            if let Some(base_url) = &deployment.base_url {
                config = config.base_url(base_url);
            }
            let variable = deployment
                .api_key_env
                .as_deref()
                .unwrap_or("ANTHROPIC_API_KEY");
            let api_key = env(variable).ok_or_else(|| {
                GatewayError::config(
                    format!("{key}.api_key_env"),
                    format!("{variable} is not set; set it to an Anthropic API key"),
                )
            })?;
            Ok(Arc::new(
                AnthropicBackend::new(config.api_key(api_key)).map_err(backend_error)?,
            ))
        }
        other => {
            let mut known: Vec<&str> = registered.keys().map(String::as_str).collect();
            known.extend(["openai", "anthropic"]);
            known.sort_unstable();
            Err(GatewayError::config(
                format!("{key}.provider"),
                format!(
                    "provider {other:?} is neither built in nor registered; use one of {known:?}, or register it with GatewayBuilder::backend"
                ),
            ))
        }
    }
}
