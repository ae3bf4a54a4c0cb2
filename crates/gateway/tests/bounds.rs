//! Property tests of the attempt bounds, with an in-process backend whose
//! every call fails or succeeds as a generated script says.

use crate::common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason, Usage};
use llmops_core::{BackendInfo, ChatStream, Error, ModelBackend, TimeoutPhase};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, HealthPolicy, MemorySink, ModelConfig,
};
use proptest::prelude::*;

/// What one call does.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Ok,
    RateLimited,
    Overloaded,
    ServerError,
    Timeout,
    ContextLength,
    ContentPolicy,
    Auth,
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        3 => Just(Outcome::Ok),
        2 => Just(Outcome::RateLimited),
        2 => Just(Outcome::Overloaded),
        3 => Just(Outcome::ServerError),
        2 => Just(Outcome::Timeout),
        1 => Just(Outcome::ContextLength),
        1 => Just(Outcome::ContentPolicy),
        1 => Just(Outcome::Auth),
    ]
}

/// Plays a script per upstream model; an exhausted script fails with a
/// server error.
#[derive(Default)]
struct Scripted {
    scripts: Mutex<HashMap<String, VecDeque<Outcome>>>,
    calls: Mutex<Vec<String>>,
}

#[async_trait]
impl ModelBackend for Scripted {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new("scripted", Vec::new())
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion, Error> {
        self.calls.lock().unwrap().push(request.model.clone());
        let next = self
            .scripts
            .lock()
            .unwrap()
            .get_mut(&request.model)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Outcome::ServerError);
        let provider = "scripted".to_owned();
        let message = "scripted".to_owned();
        Err(match next {
            Outcome::Ok => {
                let choice = Choice::new(0, ChatMessage::assistant("ok"), Some(FinishReason::Stop));
                let mut completion = ChatCompletion::new("c1", &request.model, vec![choice]);
                completion.usage = Some(Usage::new(10, 2));
                return Ok(completion);
            }
            Outcome::RateLimited => Error::RateLimited {
                provider,
                retry_after: Some(Duration::from_millis(1)),
                message,
            },
            Outcome::Overloaded => Error::Overloaded {
                provider,
                retry_after: None,
                message,
            },
            Outcome::ServerError => Error::UpstreamServer {
                provider,
                status: 500,
                message,
            },
            Outcome::Timeout => Error::Timeout {
                provider,
                phase: TimeoutPhase::FirstToken,
                after: Duration::from_millis(5),
            },
            Outcome::ContextLength => Error::ContextLengthExceeded { provider, message },
            Outcome::ContentPolicy => Error::ContentPolicy { provider, message },
            Outcome::Auth => Error::Authentication { provider, message },
        })
    }

    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream, Error> {
        Err(Error::invalid_request(
            "stream",
            "the scripted backend does not stream",
        ))
    }
}

fn config(deployments: usize, retries: u32, max_attempts: u32) -> GatewayConfig {
    let mut primary = ModelConfig::new("chat")
        .fallbacks(["spare"])
        .context_window_fallbacks(["long"])
        .content_policy_fallbacks(["spare"]);
    for index in 0..deployments {
        primary = primary.deployment(DeploymentConfig::new(
            format!("d{index}"),
            "scripted",
            format!("m{index}"),
        ));
    }
    GatewayConfig::new()
        .retry(common::quick_retry(retries, max_attempts))
        .health(HealthPolicy {
            min_requests: 1_000,
            ..HealthPolicy::default()
        })
        .model(primary)
        .model(
            ModelConfig::new("spare").deployment(DeploymentConfig::new("s", "scripted", "spare-m")),
        )
        .model(
            ModelConfig::new("long").deployment(DeploymentConfig::new("l", "scripted", "long-m")),
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn attempts_never_exceed_the_bounds(
        deployments in 1usize..4,
        retries in 0u32..3,
        max_attempts in 1u32..12,
        scripts in prop::collection::vec(prop::collection::vec(outcome(), 0..8), 6),
        requests in 1usize..4,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let backend = Arc::new(Scripted::default());
        {
            let mut table = backend.scripts.lock().unwrap();
            let models = ["m0", "m1", "m2", "spare-m", "long-m", "m3"];
            for (model, script) in models.iter().zip(&scripts) {
                table.insert((*model).to_owned(), script.iter().copied().collect());
            }
        }
        let records = Arc::new(MemorySink::new());
        let gateway = Gateway::builder(config(deployments, retries, max_attempts))
            .backend("scripted", backend.clone())
            .record_sink(records.clone())
            .seed(3)
            .build()
            .unwrap();
        runtime.block_on(async {
            for _ in 0..requests {
                let request = ChatRequest::new("chat", vec![ChatMessage::user("hi")]);
                let _ = gateway.complete_with(request, CallContext::new()).await;
            }
        });
        let records = records.records();
        prop_assert_eq!(records.len(), requests, "every request leaves a record");
        let total_attempts: usize = records.iter().map(|r| r.attempts.len()).sum();
        prop_assert_eq!(total_attempts, backend.calls.lock().unwrap().len());
        for record in &records {
            prop_assert!(record.attempts.len() <= max_attempts as usize, "{:?}", record.attempts);
            let mut per_deployment: HashMap<&str, u32> = HashMap::new();
            for attempt in &record.attempts {
                *per_deployment.entry(attempt.deployment.as_str()).or_default() += 1;
            }
            for (deployment, count) in per_deployment {
                prop_assert!(count <= retries + 1, "{} called {} times", deployment, count);
            }
            prop_assert_eq!(record.succeeded(), record.attempts.last().is_some_and(|a| a.error.is_none()));
        }
    }
}
