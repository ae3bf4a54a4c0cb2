//! The monitor fed by a real gateway through `MonitorHook` and through
//! `RecordSink`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason, Usage};
use llmops_core::{BackendInfo, ChatStream, Error, ModelBackend};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, HealthPolicy, ModelConfig, RetryPolicy,
};
use llmops_monitor::{
    Dimension, FeedbackSink, FeedbackStore, Monitor, MonitorHook, PROMPT_METADATA_KEY,
    PROMPT_VERSION_METADATA_KEY, SnapshotSource, UNKNOWN_MODEL, Window,
};

/// Fails every call to upstream model `flaky-m` as rate limited and
/// completes every other call.
struct Backend;

#[async_trait]
impl ModelBackend for Backend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new("test", Vec::new())
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion, Error> {
        if request.model == "flaky-m" {
            return Err(Error::RateLimited {
                provider: "flaky".into(),
                retry_after: None,
                message: "slow down".into(),
            });
        }
        let choice = Choice::new(0, ChatMessage::assistant("ok"), Some(FinishReason::Stop));
        let mut completion = ChatCompletion::new("c1", &request.model, vec![choice]);
        completion.usage = Some(Usage::new(12, 3));
        Ok(completion)
    }

    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream, Error> {
        Err(Error::invalid_request(
            "stream",
            "this test backend does not stream",
        ))
    }
}

fn config() -> GatewayConfig {
    GatewayConfig::new()
        .retry(RetryPolicy {
            retries: 0,
            max_attempts: 4,
            base_delay_ms: 0,
            max_delay_ms: 0,
            max_retry_after_ms: 0,
        })
        .health(HealthPolicy {
            min_requests: 1_000,
            ..HealthPolicy::default()
        })
        .model(
            ModelConfig::new("chat")
                .fallbacks(["spare"])
                .deployment(DeploymentConfig::new("a", "flaky", "flaky-m")),
        )
        .model(
            ModelConfig::new("spare").deployment(DeploymentConfig::new("b", "steady", "steady-m")),
        )
}

/// A gateway on the test backends with the hook `hook` builds from its
/// configuration.
fn hooked_gateway(hook: impl FnOnce(&GatewayConfig) -> MonitorHook) -> Gateway {
    let config = config();
    let hook = hook(&config);
    Gateway::builder(config)
        .backend("flaky", Arc::new(Backend))
        .backend("steady", Arc::new(Backend))
        .post_call_hook(Arc::new(hook))
        .build()
        .unwrap()
}

fn request_with_prompt() -> ChatRequest {
    let mut request = ChatRequest::new("chat", vec![ChatMessage::user("hi")]);
    let mut metadata = serde_json::Map::new();
    metadata.insert(PROMPT_METADATA_KEY.into(), "answer".into());
    metadata.insert(PROMPT_VERSION_METADATA_KEY.into(), 2.into());
    request.metadata = Some(metadata);
    request
}

/// Waits for the hook, which runs on a spawned task, to record `count`
/// requests; gives up after about five seconds.
async fn wait_for(monitor: &Monitor, count: u64) -> u64 {
    let mut seen = 0;
    for _ in 0..500 {
        seen = monitor.snapshot(Window::Minute).await.traffic.requests;
        if seen >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

#[tokio::test]
async fn hook_records_context_prompt_and_fallback() {
    let database = llmops_store::testing::sqlite_file().await.unwrap();
    let feedback = FeedbackStore::open(database.store.clone()).await.unwrap();
    let monitor = Monitor::new();
    let gateway = hooked_gateway(|config| {
        MonitorHook::new(monitor.clone(), config).with_feedback_store(feedback.clone())
    });

    let context = CallContext::new()
        .with_team("search")
        .with_key("key-7")
        .with_task("qa");
    gateway
        .complete_with(request_with_prompt(), context)
        .await
        .unwrap();
    assert_eq!(wait_for(&monitor, 1).await, 1);

    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.input_tokens, 12);
    assert_eq!(snapshot.fallbacks.requests_with_fallback, 1);
    assert_eq!(snapshot.fallbacks.by_reason[0].name, "rate_limited");
    assert_eq!(snapshot.cost.by_team[0].key, "search");
    assert_eq!(snapshot.cost.by_prompt_version[0].key, "answer@2");
    assert_eq!(
        monitor.spend_by(Window::Minute, Dimension::Key)[0].key,
        "key-7"
    );
    assert_eq!(
        monitor.spend_by(Window::Minute, Dimension::Route)[0].key,
        "qa"
    );
    assert_eq!(snapshot.cost.by_model[0].key, "spare");
    let text = monitor.render_prometheus();
    assert!(text.contains("gen_ai_provider_name=\"steady\""), "{text}");

    // The hook remembered the request, so feedback by id finds its prompt.
    let summary = feedback.summary(0).await.unwrap();
    assert_eq!(summary.count, 0);
    let stored_request = feedback.for_request("missing").await.unwrap();
    assert!(stored_request.is_empty());
    let id = {
        // The record id is only in the gateway's record; read it back from
        // the store's request table through a feedback submission.
        feedback.flush().await.unwrap();
        let rows = llmops_store::sqlx::query("SELECT request_id FROM monitor_requests")
            .fetch_all(database.store.pool())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        use llmops_store::sqlx::Row as _;
        rows[0].try_get::<String, _>(0).unwrap()
    };
    let stored = feedback
        .submit(llmops_monitor::Feedback {
            request_id: id,
            rating: 5,
            comment: None,
            prompt: None,
            prompt_version: None,
            created_at_ms: 0,
        })
        .await
        .unwrap();
    assert_eq!(stored.prompt.as_deref(), Some("answer"));
    assert_eq!(stored.prompt_version, Some(2));
}

#[tokio::test]
async fn record_sink_records_without_context() {
    let monitor = Monitor::new();
    let gateway = Gateway::builder(config())
        .backend("flaky", Arc::new(Backend))
        .backend("steady", Arc::new(Backend))
        .record_sink(Arc::new(monitor.clone()))
        .build()
        .unwrap();
    gateway
        .complete_with(
            request_with_prompt(),
            CallContext::new().with_team("search"),
        )
        .await
        .unwrap();
    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.requests, 1);
    assert_eq!(snapshot.traffic.errors, 0);
    assert!(snapshot.cost.by_team.is_empty());
    assert!(snapshot.cost.by_prompt_version.is_empty());
    assert_eq!(snapshot.fallbacks.requests_with_fallback, 1);
}

/// A model name nothing serves is the client's mistake: it is counted as
/// rejected under one label, not as an error under the client's spelling.
#[tokio::test]
async fn unknown_model_is_rejected_under_one_label() {
    let monitor = Monitor::new();
    let gateway = hooked_gateway(|config| MonitorHook::new(monitor.clone(), config));
    for typo in ["gpt-9", "gtp-4o"] {
        let request = ChatRequest::new(typo, vec![ChatMessage::user("hi")]);
        assert!(
            gateway
                .complete_with(request, CallContext::new())
                .await
                .is_err()
        );
    }
    assert_eq!(wait_for(&monitor, 2).await, 2);

    let snapshot = monitor.snapshot(Window::Minute).await;
    assert_eq!(snapshot.traffic.errors, 0);
    assert_eq!(snapshot.traffic.rejected, 2);
    let text = monitor.render_prometheus();
    assert!(!text.contains("gpt-9"), "{text}");
    assert!(
        text.contains(&format!("gen_ai_request_model=\"{UNKNOWN_MODEL}\"")),
        "{text}"
    );
}
