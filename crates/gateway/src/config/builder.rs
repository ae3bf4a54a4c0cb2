//! Chained setters for building a configuration in code.

use super::{
    BudgetConfig, CacheConfig, DeploymentConfig, GatewayConfig, HealthCheckConfig, HealthPolicy,
    LimitConfig, ModelConfig, RetryPolicy, RouteConfig,
};
use crate::strategy::Strategy;

impl GatewayConfig {
    /// Creates an empty configuration with the default policies.
    pub fn new() -> Self {
        GatewayConfig::default()
    }

    /// Adds a model.
    pub fn model(mut self, model: ModelConfig) -> Self {
        self.models.push(model);
        self
    }

    /// Routes requests tagged `task` to `model`.
    pub fn route(mut self, task: impl Into<String>, model: impl Into<String>) -> Self {
        self.routes.push(RouteConfig {
            task: task.into(),
            model: model.into(),
            examples: Vec::new(),
        });
        self
    }

    /// Routes requests tagged `task` to `model`, and untagged requests
    /// whose text is nearest in meaning to `examples`, when the gateway
    /// has a task embedder.
    pub fn route_with_examples<I, S>(
        mut self,
        task: impl Into<String>,
        model: impl Into<String>,
        examples: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.routes.push(RouteConfig {
            task: task.into(),
            model: model.into(),
            examples: examples.into_iter().map(Into::into).collect(),
        });
        self
    }

    /// Sends requests for unconfigured model names without a task route to
    /// `model`.
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.defaults.model = Some(model.into());
        self
    }

    /// Sets the strategy of models that set none.
    pub fn default_strategy(mut self, strategy: Strategy) -> Self {
        self.defaults.strategy = strategy;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the health policy.
    pub fn health(mut self, health: HealthPolicy) -> Self {
        self.health = health;
        self
    }

    /// Adds a rate limit.
    pub fn limit(mut self, limit: LimitConfig) -> Self {
        self.limits.push(limit);
        self
    }

    /// Adds a budget.
    pub fn budget(mut self, budget: BudgetConfig) -> Self {
        self.budgets.push(budget);
        self
    }

    /// Sets the response cache.
    pub fn cache(mut self, cache: CacheConfig) -> Self {
        self.cache = cache;
        self
    }
}

impl ModelConfig {
    /// Creates a model named `name` with no deployments yet.
    pub fn new(name: impl Into<String>) -> Self {
        ModelConfig {
            name: name.into(),
            strategy: None,
            fallbacks: Vec::new(),
            context_window_fallbacks: Vec::new(),
            content_policy_fallbacks: Vec::new(),
            deployments: Vec::new(),
        }
    }

    /// Adds a deployment.
    pub fn deployment(mut self, deployment: DeploymentConfig) -> Self {
        self.deployments.push(deployment);
        self
    }

    /// Sets the routing strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Sets the models tried after every deployment failed.
    pub fn fallbacks<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fallbacks = models.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the models tried when a request exceeds the context window.
    pub fn context_window_fallbacks<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context_window_fallbacks = models.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the models tried when the provider refuses the content.
    pub fn content_policy_fallbacks<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.content_policy_fallbacks = models.into_iter().map(Into::into).collect();
        self
    }
}

impl DeploymentConfig {
    /// Creates a deployment `id` of upstream `model` on `provider`, with
    /// weight 1 and no tags.
    pub fn new(
        id: impl Into<String>,
        provider: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        DeploymentConfig {
            id: id.into(),
            provider: provider.into(),
            model: model.into(),
            base_url: None,
            api_key_env: None,
            weight: 1,
            tags: Vec::new(),
            context_window: None,
            price_model: None,
            health_check: None,
            forward_metadata: false,
        }
    }

    /// Sends the request's `metadata` object upstream, for a provider that
    /// stores it (such as OpenAI with `store: true`).
    pub fn forward_metadata(mut self, forward: bool) -> Self {
        self.forward_metadata = forward;
        self
    }

    /// Sets the relative share of traffic under weighted routing.
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the provider base URL.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Sets the environment variable holding the API key.
    pub fn api_key_env(mut self, variable: impl Into<String>) -> Self {
        self.api_key_env = Some(variable.into());
        self
    }

    /// Sets the tags residency rules match, such as `on_prem`.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the context window in tokens.
    pub fn context_window(mut self, tokens: u64) -> Self {
        self.context_window = Some(tokens);
        self
    }

    /// Sets the price-table entry that prices this deployment.
    pub fn price_model(mut self, model: impl Into<String>) -> Self {
        self.price_model = Some(model.into());
        self
    }

    /// Sets the active health checks of this deployment, in place of the
    /// default in [`HealthPolicy::check`].
    pub fn health_check(mut self, check: HealthCheckConfig) -> Self {
        self.health_check = Some(check);
        self
    }
}
