//! Online evaluation: sampling, scoring behind a gateway, the bounded
//! queue under overload, and scores attached to registry versions.

use crate::judge_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use judge_support::FnBackend;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason};
use llmops_eval::judge::RubricPreset;
use llmops_eval::online::{
    OnlineConfig, OnlineEvaluator, OnlineScore, PROMPT_METADATA_KEY, PROMPT_VERSION_METADATA_KEY,
    PromptVersionRef, RegistryScoreSink, ScoreSink, should_sample,
};
use llmops_eval::{Metric, Sample, Score, ScoreRange};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, ModelConfig, PostCallHook,
    RequestRecord, RequestStatus, RouteDecision,
};
use llmops_registry::{MetricsScope, PromptContent, Registry, TimeWindows};
use llmops_store::Store;
use proptest::prelude::*;
use tokio::sync::Semaphore;

#[derive(Default)]
struct MemoryScores {
    scores: Mutex<Vec<OnlineScore>>,
}

impl MemoryScores {
    fn all(&self) -> Vec<OnlineScore> {
        self.scores.lock().unwrap().clone()
    }
}

#[async_trait]
impl ScoreSink for MemoryScores {
    async fn record(&self, score: &OnlineScore) -> llmops_eval::Result<()> {
        self.scores.lock().unwrap().push(score.clone());
        Ok(())
    }
}

/// A metric that waits for a permit per sample, so a test decides when
/// scoring may finish.
struct GatedMetric {
    gate: Arc<Semaphore>,
}

#[async_trait]
impl Metric for GatedMetric {
    fn name(&self) -> &str {
        "gated"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, _sample: &Sample<'_>) -> Score {
        let permit = self.gate.acquire().await.unwrap();
        permit.forget();
        Score::value(1.0)
    }
}

fn record(id: &str) -> RequestRecord {
    RequestRecord {
        id: id.to_owned(),
        started_at_ms: 0,
        route: RouteDecision {
            requested_model: "chat".to_owned(),
            model: "chat".to_owned(),
            task: None,
            reason: "model name".to_owned(),
        },
        attempts: Vec::new(),
        deployment: Some("d0".to_owned()),
        upstream_model: Some("m0".to_owned()),
        status: RequestStatus::Success,
        stream: false,
        latency_ms: 1.0,
        time_to_first_token_ms: None,
        usage: None,
        usage_estimated: false,
        cost_usd: None,
        cache_hit: false,
        cache_kind: None,
    }
}

fn completion(text: &str) -> ChatCompletion {
    ChatCompletion::new(
        "c",
        "m0",
        vec![Choice::new(
            0,
            ChatMessage::assistant(text),
            Some(FinishReason::Stop),
        )],
    )
}

fn request_for(prompt: Option<(&str, serde_json::Value)>) -> ChatRequest {
    let mut request = ChatRequest::new(
        "chat",
        vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("Say hi ✓"),
        ],
    );
    if let Some((name, version)) = prompt {
        let mut metadata = serde_json::Map::new();
        metadata.insert(PROMPT_METADATA_KEY.to_owned(), name.into());
        metadata.insert(PROMPT_VERSION_METADATA_KEY.to_owned(), version);
        request.metadata = Some(metadata);
    }
    request
}

#[test]
fn rates_zero_and_one_are_exact() {
    for index in 0..1_000 {
        let id = format!("req-{index}");
        assert!(!should_sample(&id, 0.0));
        assert!(should_sample(&id, 1.0));
    }
}

#[test]
fn sampled_share_follows_the_rate() {
    for rate in [0.01, 0.1, 0.5, 0.9] {
        let sampled = (0..20_000)
            .filter(|index| should_sample(&format!("req-{index}"), rate))
            .count();
        #[allow(clippy::cast_precision_loss)]
        let share = sampled as f64 / 20_000.0;
        // Four standard deviations of a binomial share with n = 20,000.
        let tolerance = 4.0 * (rate * (1.0 - rate) / 20_000.0_f64).sqrt();
        assert!(
            (share - rate).abs() < tolerance,
            "rate {rate}: share {share}"
        );
    }
}

proptest! {
    #[test]
    fn sampling_is_deterministic_and_monotone(id in ".{0,40}", low in 0.0f64..=1.0, high in 0.0f64..=1.0) {
        let (low, high) = if low <= high { (low, high) } else { (high, low) };
        prop_assert_eq!(should_sample(&id, low), should_sample(&id, low));
        if should_sample(&id, low) {
            prop_assert!(should_sample(&id, high), "sampled at {} but not at {}", low, high);
        }
    }
}

#[test]
fn invalid_configs_are_rejected() {
    assert!(OnlineConfig::new(-0.1).is_err());
    assert!(OnlineConfig::new(1.5).is_err());
    assert!(OnlineConfig::new(f64::NAN).is_err());
    assert!(OnlineConfig::new(0.5).unwrap().queue_capacity(0).is_err());
    assert!(OnlineConfig::new(0.5).unwrap().concurrency(0).is_err());
}

#[tokio::test]
async fn start_needs_a_metric() {
    let error = OnlineEvaluator::start(
        OnlineConfig::new(1.0).unwrap(),
        Vec::new(),
        Arc::new(MemoryScores::default()),
    )
    .unwrap_err();
    assert!(error.to_string().contains("metric"), "{error}");
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let metric: Arc<dyn Metric> = Arc::new(GatedMetric {
        gate: Arc::new(Semaphore::new(0)),
    });
    let result = OnlineEvaluator::start(
        OnlineConfig::new(1.0).unwrap(),
        vec![metric],
        Arc::new(MemoryScores::default()),
    );
    assert!(result.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_drops_without_blocking() {
    let gate = Arc::new(Semaphore::new(0));
    let metric: Arc<dyn Metric> = Arc::new(GatedMetric { gate: gate.clone() });
    let sink = Arc::new(MemoryScores::default());
    let config = OnlineConfig::new(1.0)
        .unwrap()
        .queue_capacity(2)
        .unwrap()
        .concurrency(1)
        .unwrap();
    let evaluator = OnlineEvaluator::start(config, vec![metric], sink.clone()).unwrap();

    // Every metric call is blocked, yet each after_call returns; the
    // timeout only turns a hang into a failure.
    let request = request_for(None);
    let answer = completion("hi");
    tokio::time::timeout(Duration::from_secs(30), async {
        for index in 0..20 {
            let id = format!("req-{index}");
            evaluator
                .after_call(&request, &CallContext::new(), Some(&answer), &record(&id))
                .await;
        }
    })
    .await
    .expect("after_call blocked on a full queue");

    let stats = evaluator.stats();
    assert_eq!(stats.seen, 20);
    assert_eq!(stats.sampled, 20);
    // At most capacity (2) queued plus concurrency (1) taken by the worker.
    assert!(stats.dropped >= 17, "{stats:?}");
    assert!(stats.dropped <= 18, "{stats:?}");
    assert_eq!(stats.scored, 0);

    gate.add_permits(100);
    evaluator.shutdown().await;
    let stats = evaluator.stats();
    assert_eq!(stats.scored, 20 - stats.dropped);
    assert_eq!(sink.all().len() as u64, stats.scored);

    // After shutdown, sampled requests are dropped, not queued.
    evaluator
        .after_call(
            &request,
            &CallContext::new(),
            Some(&answer),
            &record("late"),
        )
        .await;
    assert_eq!(evaluator.stats().dropped, stats.dropped + 1);
}

#[tokio::test]
async fn failed_requests_are_not_scored() {
    let metric: Arc<dyn Metric> = Arc::new(GatedMetric {
        gate: Arc::new(Semaphore::new(10)),
    });
    let evaluator = OnlineEvaluator::start(
        OnlineConfig::new(1.0).unwrap(),
        vec![metric],
        Arc::new(MemoryScores::default()),
    )
    .unwrap();
    let mut failed = record("r1");
    failed.status = RequestStatus::Cancelled;
    evaluator
        .after_call(&request_for(None), &CallContext::new(), None, &failed)
        .await;
    evaluator.shutdown().await;
    assert_eq!(evaluator.stats().seen, 0);
    assert_eq!(evaluator.stats().scored, 0);
}

/// A model backend for the gateway that answers every request.
fn model_backend() -> Arc<FnBackend> {
    Arc::new(FnBackend::fixed("Hi there!"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_traffic_is_judged_with_prompt_versions() {
    let judge_backend = Arc::new(FnBackend::fixed(r#"{"reasoning": "ok", "score": 4}"#));
    let judge: Arc<dyn Metric> = Arc::new(
        RubricPreset::Helpfulness
            .judge(judge_backend.clone(), "judge")
            .unwrap(),
    );
    let sink = Arc::new(MemoryScores::default());
    let evaluator = Arc::new(
        OnlineEvaluator::start(OnlineConfig::new(1.0).unwrap(), vec![judge], sink.clone()).unwrap(),
    );

    let config = GatewayConfig::new()
        .model(ModelConfig::new("chat").deployment(DeploymentConfig::new("d0", "scripted", "m0")));
    let gateway = Gateway::builder(config)
        .backend("scripted", model_backend())
        .post_call_hook(evaluator.clone())
        .build()
        .unwrap();

    let versions = [serde_json::json!(3), serde_json::json!("4")];
    for version in versions {
        let request = request_for(Some(("support", version)));
        let answer = gateway
            .complete_with(request, CallContext::new())
            .await
            .unwrap();
        assert_eq!(answer.text(), "Hi there!");
    }
    gateway
        .complete_with(request_for(None), CallContext::new())
        .await
        .unwrap();

    // Post-call hooks run on spawned tasks; wait until all three ran.
    tokio::time::timeout(Duration::from_secs(30), async {
        while evaluator.stats().seen < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the hook never saw the requests");
    evaluator.shutdown().await;

    let mut scores = sink.all();
    scores.sort_by_key(|score| score.prompt.as_ref().map(|p| p.version));
    assert_eq!(scores.len(), 3);
    assert_eq!(scores[0].prompt, None);
    let support = |version| {
        Some(PromptVersionRef {
            name: "support".to_owned(),
            version,
        })
    };
    assert_eq!(scores[1].prompt, support(3));
    assert_eq!(scores[2].prompt, support(4));
    for score in &scores {
        assert_eq!(score.metric, "helpfulness");
        assert_eq!(score.score, Score::value(4.0));
        assert_eq!(score.model, "m0");
    }
    let judged = judge_support::prompt(&judge_backend.requests()[0]);
    assert!(judged.contains("Say hi ✓"), "{judged}");
    assert!(judged.contains("Hi there!"), "{judged}");
}

#[tokio::test]
async fn registry_sink_attaches_scores_to_versions() {
    let registry = Arc::new(
        Registry::open(Store::connect("sqlite::memory:").await.unwrap())
            .await
            .unwrap(),
    );
    let published = registry
        .publish(
            "support",
            &PromptContent::text("Answer {{ question }}"),
            "ana",
        )
        .await
        .unwrap();
    let sink = RegistryScoreSink::new(registry.clone());

    let score = |request_id: &str, prompt: Option<PromptVersionRef>, score: Score| OnlineScore {
        request_id: request_id.to_owned(),
        prompt,
        model: "m0".to_owned(),
        metric: "helpfulness".to_owned(),
        score,
    };
    let version = || {
        Some(PromptVersionRef {
            name: "support".to_owned(),
            version: published.version,
        })
    };
    sink.record(&score("r1", version(), Score::value(4.0)))
        .await
        .unwrap();
    sink.record(&score("r2", version(), Score::value(2.0)))
        .await
        .unwrap();
    sink.record(&score("r3", version(), Score::undetermined("no score")))
        .await
        .unwrap();
    sink.record(&score("r4", None, Score::value(5.0)))
        .await
        .unwrap();
    assert_eq!(sink.skipped(), 2);

    let unknown = Some(PromptVersionRef {
        name: "support".to_owned(),
        version: 99,
    });
    let error = sink
        .record(&score("r5", unknown, Score::value(1.0)))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("r5"), "{error}");

    let windows = TimeWindows {
        from_ms: 0,
        to_ms: i64::MAX / 2,
        window_ms: i64::MAX / 2,
    };
    let metrics = registry
        .metrics(
            "support",
            &MetricsScope::Version(published.version),
            windows,
        )
        .await
        .unwrap();
    let (mean, count) = metrics[0].scores["helpfulness"];
    assert_eq!(count, 2);
    assert_eq!(mean, 3.0);
}
