//! Every response of a gateway on a mock provider over loopback gets a
//! groundedness record from the hook.

use std::sync::Arc;

use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_eval::grounded::GroundednessHook;
use llmops_eval::{GroundednessRecord, GroundednessScorer, GroundednessSink};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, ModelConfig, RetryPolicy,
};
use llmops_testkit::{MockServer, Scenario};
use tokio::sync::mpsc;

const PACKED: &str = "[1] (atlas bytes 0-40)\nCanberra is the capital of Australia.\n\n";

struct ChannelSink(mpsc::UnboundedSender<GroundednessRecord>);

impl GroundednessSink for ChannelSink {
    fn record(&self, record: GroundednessRecord) {
        self.0.send(record).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_responses_all_scored() {
    let mock = MockServer::start().await.unwrap();
    let mut config = GatewayConfig::new().model(
        ModelConfig::new("chat").deployment(
            DeploymentConfig::new("chat-mock", "openai", "gpt-4o-mini")
                .base_url(mock.openai_base_url()),
        ),
    );
    config.retry = RetryPolicy::single_attempt();
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let hook =
        GroundednessHook::builder(GroundednessScorer::lexical(), Arc::new(ChannelSink(sender)))
            .start()
            .unwrap();
    let hook = Arc::new(hook);
    let gateway = Gateway::builder(config)
        .post_call_hook(hook.clone())
        .build()
        .unwrap();

    let replies = [
        "Canberra is the capital of Australia.",
        "Sydney has been the capital of Australia since 1788.",
    ];
    let total = 6;
    for index in 0..total {
        mock.push(Scenario::text(replies[index % 2]));
        let request = ChatRequest::new(
            "chat",
            vec![
                ChatMessage::system(PACKED),
                ChatMessage::user("What is the capital of Australia?"),
            ],
        );
        gateway
            .complete_with(request, CallContext::new())
            .await
            .unwrap();
    }

    let mut records = Vec::new();
    for _ in 0..total {
        records.push(receiver.recv().await.unwrap());
    }
    let flagged = records.iter().filter(|record| record.flagged).count();
    assert_eq!(flagged, total / 2);
    for record in &records {
        assert!(
            record.request_id.starts_with("gw-"),
            "{}",
            record.request_id
        );
        assert!(record.score.as_value().is_some());
    }
    let stats = hook.stats();
    assert_eq!(stats.scored, total as u64);
    assert_eq!(stats.dropped, 0);
}
