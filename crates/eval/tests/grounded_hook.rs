//! The groundedness gateway hook: it never waits for scoring, drops and
//! counts responses when its queue is full, and scores every response when
//! the worker keeps up.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason};
use llmops_eval::grounded::{GroundednessHook, ReviewSink, contexts_from_request};
use llmops_eval::{GroundednessRecord, GroundednessScorer, GroundednessSink};
use llmops_gateway::{CallContext, PostCallHook, RequestRecord, RequestStatus, RouteDecision};
use serde_json::json;
use tokio::sync::mpsc;

const PACKED: &str = "Answer from these passages.\n\n[1] (atlas bytes 0-40)\n\
                      Canberra is the capital of Australia.\n\n[2] (atlas bytes 41-90)\n\
                      Sydney is the largest city of Australia.\n\n";

fn request(prompt_version: &str) -> ChatRequest {
    let mut request = ChatRequest::new(
        "gpt-4o",
        vec![
            ChatMessage::system(PACKED),
            ChatMessage::user("What is the capital of Australia?"),
        ],
    );
    request.metadata = Some(
        json!({"llmops_prompt": "atlas-qa", "llmops_prompt_version": prompt_version})
            .as_object()
            .unwrap()
            .clone(),
    );
    request
}

fn completion(text: &str) -> ChatCompletion {
    let choice = Choice::new(0, ChatMessage::assistant(text), Some(FinishReason::Stop));
    ChatCompletion::new("chatcmpl-1", "gpt-4o", vec![choice])
}

fn record(id: usize) -> RequestRecord {
    RequestRecord {
        id: format!("req-{id}"),
        started_at_ms: 0,
        route: RouteDecision {
            requested_model: "gpt-4o".into(),
            model: "gpt-4o".into(),
            task: None,
            reason: "model name".into(),
        },
        attempts: Vec::new(),
        deployment: Some("openai-1".into()),
        upstream_model: Some("gpt-4o-2024-08-06".into()),
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

/// Forwards every record to a channel.
struct ChannelSink(mpsc::UnboundedSender<GroundednessRecord>);

impl GroundednessSink for ChannelSink {
    fn record(&self, record: GroundednessRecord) {
        self.0.send(record).unwrap();
    }
}

/// Blocks in its first `record` call until the test releases it, after
/// announcing that the call began.
struct GateSink {
    entered: Mutex<Option<std_mpsc::Sender<()>>>,
    release: Mutex<std_mpsc::Receiver<()>>,
}

impl GroundednessSink for GateSink {
    fn record(&self, _record: GroundednessRecord) {
        let Some(entered) = self.entered.lock().unwrap().take() else {
            return;
        };
        entered.send(()).unwrap();
        self.release.lock().unwrap().recv().unwrap();
    }
}

#[derive(Default)]
struct CollectingReview(Mutex<Vec<String>>);

impl ReviewSink for CollectingReview {
    fn submit(&self, record: &GroundednessRecord) {
        self.0.lock().unwrap().push(record.request_id.clone());
    }
}

#[test]
fn contexts_read_from_packed_passages() {
    let contexts = contexts_from_request(&request("atlas-qa@1"));
    assert_eq!(
        contexts,
        [
            "Canberra is the capital of Australia.",
            "Sydney is the largest city of Australia."
        ]
    );
    let plain = ChatRequest::new("m", vec![ChatMessage::system("Be brief.")]);
    assert!(contexts_from_request(&plain).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_scored() {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let review = Arc::new(CollectingReview::default());
    let hook =
        GroundednessHook::builder(GroundednessScorer::lexical(), Arc::new(ChannelSink(sender)))
            .queue_capacity(64)
            .unwrap()
            .review(review.clone())
            .start()
            .unwrap();
    let answers = [
        "Canberra is the capital of Australia.",
        "Sydney is the capital of Australia since 1901.",
    ];
    let total = 40;
    for id in 0..total {
        let completion = completion(answers[id % 2]);
        hook.after_call(
            &request("atlas-qa@3"),
            &CallContext::new(),
            Some(&completion),
            &record(id),
        )
        .await;
    }
    hook.after_call(
        &request("atlas-qa@3"),
        &CallContext::new(),
        None,
        &record(total),
    )
    .await;

    let mut records = Vec::new();
    for _ in 0..total {
        records.push(receiver.recv().await.unwrap());
    }
    records.sort_by_key(|r| r.request_id[4..].parse::<usize>().unwrap());
    let ids: Vec<String> = records.iter().map(|r| r.request_id.clone()).collect();
    let expected: Vec<String> = (0..total).map(|id| format!("req-{id}")).collect();
    assert_eq!(ids, expected);
    assert!(!records[0].flagged);
    assert!(records[1].flagged);
    assert_eq!(records[1].unsupported_claims, [answers[1]]);
    assert_eq!(records[0].prompt_version.as_deref(), Some("atlas-qa@3"));
    assert_eq!(records[0].prompt.as_deref(), Some("atlas-qa"));
    assert_eq!(records[0].model, "gpt-4o-2024-08-06");

    let stats = hook.stats();
    assert_eq!(stats.enqueued, total as u64);
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.skipped, 1);
    let mut reviewed = review.0.lock().unwrap().clone();
    reviewed.sort();
    assert_eq!(reviewed.len(), total / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_drops_without_waiting() {
    let (entered_sender, entered) = std_mpsc::channel();
    let (release, release_receiver) = std_mpsc::channel();
    let sink = Arc::new(GateSink {
        entered: Mutex::new(Some(entered_sender)),
        release: Mutex::new(release_receiver),
    });
    let capacity = 2;
    let hook = GroundednessHook::builder(GroundednessScorer::lexical(), sink)
        .queue_capacity(capacity)
        .unwrap()
        .start()
        .unwrap();
    let completion = completion("Canberra is the capital of Australia.");
    let call = |id| {
        hook.after_call(
            &request("v1"),
            &CallContext::new(),
            Some(&completion),
            &record(id),
        )
        .now_or_never()
    };

    // The first response occupies the worker, which blocks in the sink.
    assert!(call(0).is_some());
    tokio::task::spawn_blocking(move || entered.recv().unwrap())
        .await
        .unwrap();

    // Fill the queue, then overflow it: every call completes on its first
    // poll, so none waits for the blocked worker.
    for id in 1..=capacity + 5 {
        assert!(
            call(id).is_some(),
            "after_call {id} did not complete at once"
        );
    }
    let stats = hook.stats();
    assert_eq!(stats.enqueued, 1 + capacity as u64);
    assert_eq!(stats.dropped, 5);
    // Only the first response is scored: it waits in the sink.
    assert_eq!(stats.scored, 1);
    release.send(()).unwrap();
}
