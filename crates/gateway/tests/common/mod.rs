//! Helpers shared by the gateway tests.

#![allow(dead_code)]

use std::sync::Arc;

use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::{
    DeploymentConfig, Gateway, GatewayBuilder, GatewayConfig, HealthPolicy, MemorySink,
    ModelConfig, RetryPolicy,
};
use llmops_testkit::MockServer;

/// A deployment of upstream model `model` on the mock's OpenAI route.
pub(crate) fn openai_on(mock: &MockServer, id: &str, model: &str) -> DeploymentConfig {
    DeploymentConfig::new(id, "openai", model).base_url(mock.openai_base_url())
}

/// A deployment of upstream model `model` on the mock's Anthropic route.
pub(crate) fn anthropic_on(mock: &MockServer, id: &str, model: &str) -> DeploymentConfig {
    DeploymentConfig::new(id, "anthropic", model)
        .base_url(mock.anthropic_base_url())
        .api_key_env("TEST_ANTHROPIC_KEY")
}

/// Retries without waiting, so tests run fast.
pub(crate) fn quick_retry(retries: u32, max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        retries,
        max_attempts,
        base_delay_ms: 0,
        max_delay_ms: 0,
        max_retry_after_ms: 2_000,
    }
}

/// A health policy that never ejects within a test.
pub(crate) fn lenient_health() -> HealthPolicy {
    HealthPolicy {
        min_requests: 1_000,
        ..HealthPolicy::default()
    }
}

pub(crate) fn build(config: GatewayConfig) -> (Gateway, Arc<MemorySink>) {
    build_with(config, |builder| builder)
}

/// Builds like [`build`], after `customize` adds to the builder (a clock,
/// prices, shared state).
pub(crate) fn build_with(
    config: GatewayConfig,
    customize: impl FnOnce(GatewayBuilder) -> GatewayBuilder,
) -> (Gateway, Arc<MemorySink>) {
    let records = Arc::new(MemorySink::new());
    let builder = Gateway::builder(config)
        .record_sink(records.clone())
        .env(|name| (name == "TEST_ANTHROPIC_KEY").then(|| "sk-ant-test".to_owned()))
        .seed(11);
    let gateway = customize(builder).build().unwrap();
    (gateway, records)
}

pub(crate) fn ask(model: &str) -> ChatRequest {
    ChatRequest::new(
        model,
        vec![ChatMessage::user("What is the capital of France?")],
    )
}

pub(crate) fn single_model(name: &str, deployments: Vec<DeploymentConfig>) -> ModelConfig {
    deployments
        .into_iter()
        .fold(ModelConfig::new(name), ModelConfig::deployment)
}
