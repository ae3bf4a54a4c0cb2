//! Every gateway request lands in the audit log: a gateway on a mock
//! provider over loopback, with the hook writing to a SQLite file.

use std::sync::Arc;
use std::time::Duration;

use llmops_compliance::{AuditHook, AuditLog, PersonalData, VerifyOptions};
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::{
    CallContext, DeploymentConfig, Gateway, GatewayConfig, ModelConfig, RetryPolicy,
};
use llmops_testkit::MockServer;

/// Polls until the log contains `size` entries, because the hook appends on
/// a spawned task after each response.
async fn wait_for_entries(log: &AuditLog, size: u64) {
    for _ in 0..500 {
        if log.head().await.unwrap().size >= size {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the log holds {} entries, expected {size}",
        log.head().await.unwrap().size
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_appends_one_verifiable_entry() {
    let database = llmops_store::testing::sqlite_file().await.unwrap();
    let log = AuditLog::open(database.store.clone()).await.unwrap();
    let mock = MockServer::start().await.unwrap();
    let mut config = GatewayConfig::new().model(
        ModelConfig::new("chat").deployment(
            DeploymentConfig::new("chat-mock", "openai", "gpt-4o-mini")
                .base_url(mock.openai_base_url()),
        ),
    );
    config.retry = RetryPolicy::single_attempt();
    let gateway = Gateway::builder(config)
        .post_call_hook(Arc::new(AuditHook::new(log.clone(), "gateway")))
        .build()
        .unwrap();

    let secret_prompt = "내 비밀 질문: 오늘 점심은?";
    let request = ChatRequest::new("chat", vec![ChatMessage::user(secret_prompt)]);
    gateway
        .complete_with(request.clone(), CallContext::new())
        .await
        .unwrap();
    gateway
        .complete_with(
            request.clone(),
            CallContext::new().with_user("ana@example.com"),
        )
        .await
        .unwrap();
    let unknown = ChatRequest::new("no-such-model", vec![ChatMessage::user("hi")]);
    gateway
        .complete_with(unknown, CallContext::new())
        .await
        .unwrap_err();
    wait_for_entries(&log, 3).await;

    let entries = log.entries(0, 10).await.unwrap();
    assert_eq!(entries.len(), 3);
    let mut statuses: Vec<&str> = entries
        .iter()
        .map(|entry| entry.payload["status"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["error", "success", "success"]);
    for entry in &entries {
        assert_eq!(entry.kind, "model_call");
        assert!(
            entry.subject.starts_with("request:gw-"),
            "{}",
            entry.subject
        );
        let text = entry.payload.to_string();
        assert!(
            !text.contains(secret_prompt),
            "prompts are not logged: {text}"
        );
        assert!(!text.contains("ana@example.com"), "{text}");
    }
    let success = entries
        .iter()
        .find(|entry| entry.payload["status"] == "success")
        .unwrap();
    assert_eq!(success.payload["deployment"], "chat-mock");
    assert!(success.payload["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    // The user's id is personal data: readable, then erased, and the chain
    // still verifies.
    let with_user = entries.iter().find(|entry| entry.sealed.is_some()).unwrap();
    match log.personal_data(with_user).await.unwrap() {
        PersonalData::Fields(fields) => assert_eq!(fields["user"], "ana@example.com"),
        other => panic!("expected the user's fields: {other:?}"),
    }
    log.erase_data_subject("ana@example.com", "privacy-team")
        .await
        .unwrap();
    assert_eq!(
        log.personal_data(with_user).await.unwrap(),
        PersonalData::Erased
    );
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );
}
