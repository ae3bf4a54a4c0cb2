//! Multi-model routing for LLM calls: task routes, routing strategies,
//! fallback chains chosen by error class, bounded retries with backoff,
//! circuit breakers, and a record of every request.
//!
//! A [`Gateway`] is built from a [`GatewayConfig`] (TOML or code) and is
//! itself a [`ModelBackend`](llmops_core::ModelBackend), so anything written
//! against one backend can run over many.
//!
//! ```
//! use std::sync::Arc;
//! use llmops_gateway::{Gateway, GatewayConfig, MemorySink};
//!
//! let config = GatewayConfig::from_toml_str(r#"
//!     [[models]]
//!     name = "chat"
//!     strategy = "least_latency"
//!
//!     [[models.deployments]]
//!     id = "vllm-a"
//!     provider = "openai"
//!     base_url = "http://127.0.0.1:8000/v1"
//!     model = "meta-llama/Llama-3.1-8B-Instruct"
//!
//!     [[models.deployments]]
//!     id = "vllm-b"
//!     provider = "openai"
//!     base_url = "http://127.0.0.1:8001/v1"
//!     model = "meta-llama/Llama-3.1-8B-Instruct"
//! "#)?;
//! let records = Arc::new(MemorySink::new());
//! let gateway = Gateway::builder(config).record_sink(records).build()?;
//! assert_eq!(gateway.models(), ["chat"]);
//! # Ok::<(), llmops_gateway::GatewayError>(())
//! ```
//!
//! How a failed call continues depends on its
//! [`Fallback`](llmops_core::Fallback) class: rate limits, overload, server
//! errors, timeouts and network failures move to the next deployment and
//! then to the model's `fallbacks`; a context-length error moves to
//! `context_window_fallbacks`; a content-policy refusal to
//! `content_policy_fallbacks`; authentication and invalid-request errors
//! return at once. No deployment gets more than `retries + 1` attempts per
//! request and no request more than `max_attempts`.
//!
//! Before routing, a request is admitted against the rate limits
//! ([`LimitRule`]) and budgets ([`BudgetRule`]) of its key, user, team and
//! model, and deterministic requests may be served from the response
//! cache ([`CacheConfig`]) or a [`SemanticCache`]. The counters live behind [`SharedState`] so that
//! several gateway processes can share them. `crates/gateway/docs/limits.md`
//! describes every key.
//!
//! A request that names no routed task and no configured model is routed
//! by [`classify`]. With [`GatewayBuilder::task_embedder`], the task whose
//! [`RouteConfig::examples`] are nearest in meaning is tried first. Calls
//! feed each deployment's circuit breaker, and optional active health
//! checks ([`HealthCheckConfig`]) feed it without traffic.
//! [`Gateway::counters`] returns event counts for metrics.
//!
//! Hooks plug other crates in without the gateway depending on them: a
//! [`PreCallHook`] may rewrite or reject a request, an [`OutputHook`] may
//! rewrite or reject the response the caller receives, and a
//! [`PostCallHook`] observes each finished request with its record.
//!
//! # Features
//!
//! - `server`: [`server`], an OpenAI-compatible HTTP server over a gateway
//!   with virtual API keys, Prometheus metrics, graceful shutdown and
//!   configuration reload.

mod active_health;
mod builder;
mod cache;
mod config;
mod counters;
mod deployment;
mod error;
mod gateway;
mod health;
mod hooks;
mod limits;
mod output;
mod record;
mod retry;
mod route;
mod semantic_cache;
#[cfg(feature = "server")]
pub mod server;
mod settle;
mod state;
mod strategy;
mod stream;
mod task_embedding;

pub use builder::GatewayBuilder;
pub use cache::write_canonical;
pub use config::{
    AI_GENERATED_HEADER, BudgetConfig, CacheConfig, Defaults, DeploymentConfig, GatewayConfig,
    HealthCheckConfig, HealthPolicy, LABEL_KEY, LimitConfig, ModelConfig, RetryPolicy, RouteConfig,
    TransparencyConfig,
};
pub use counters::GatewayCounters;
pub use error::GatewayError;
pub use gateway::{GATEWAY_PROVIDER, Gateway};
pub use health::HealthState;
pub use hooks::{CallContext, OutputHook, PostCallHook, PreCallHook};
pub use limits::{
    BudgetAlert, BudgetAlertSink, BudgetPeriod, BudgetRule, Clock, LimitRule, LimitScope,
    ManualClock, ScopeKind, SystemClock,
};
pub use record::{
    AttemptRecord, CacheKind, MemorySink, RecordSink, RequestRecord, RequestStatus, RouteDecision,
};
pub use route::{CLASSIFIER_TASKS, classify};
pub use semantic_cache::SemanticCache;
#[cfg(feature = "redis")]
pub use state::RedisState;
pub use state::{
    Admission, CacheStats, Charge, MemoryState, SharedState, SpendUpdate, StateError, Ticket,
};
pub use strategy::Strategy;

/// The tag that marks a deployment as on-premises. A deployment whose
/// backend runs on this machine carries it without configuration.
pub const ON_PREM_TAG: &str = "on_prem";
