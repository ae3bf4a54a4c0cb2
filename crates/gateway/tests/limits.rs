//! Rate limits per key, user, team and model over real loopback HTTP, with
//! a manual clock: admission, rejection, token reservations and their
//! settlement, and fall-through of a model over its limit.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use llmops_core::tokens::TokenCounter;
use llmops_core::types::ChatRequest;
use llmops_core::{Error, ModelBackend};
use llmops_gateway::{
    CallContext, GATEWAY_PROVIDER, Gateway, GatewayConfig, LimitConfig, LimitRule, LimitScope,
    ManualClock, MemorySink, ScopeKind,
};
use llmops_testkit::{Fault, MockServer, Scenario};

/// 2026-12-04T12:00:00Z.
const NOON_MS: u64 = 1_796_385_600_000;

fn one_model(mock: &MockServer) -> GatewayConfig {
    GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(mock, "a", "model-a")]))
}

fn start(config: GatewayConfig) -> (Gateway, Arc<MemorySink>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let (gateway, records) = build_with(config, |builder| builder.clock(clock.clone()));
    (gateway, records, clock)
}

fn as_key(key: &str) -> CallContext {
    CallContext::new().with_key(key)
}

/// Returns the tokens the gateway reserves for `request` under a tokens
/// limit.
fn reserved(request: &ChatRequest) -> u64 {
    TokenCounter::new().count_request(request).tokens
        + request.output_token_limit().map_or(0, u64::from)
}

fn rate_limit_of(result: Result<impl std::fmt::Debug, Error>) -> (Option<Duration>, String) {
    match result {
        Err(Error::RateLimited {
            provider,
            retry_after,
            message,
        }) => {
            assert_eq!(provider, GATEWAY_PROVIDER);
            (retry_after, message)
        }
        other => panic!("expected a gateway rate limit, got {other:?}"),
    }
}

#[tokio::test]
async fn key_over_rpm_is_rejected_until_window_moves() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, records, clock) = start(one_model(&mock));
    gateway
        .set_limit(LimitScope::Key("k1".into()), LimitRule::new().rpm(2))
        .unwrap();
    gateway
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(10));
    gateway
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();

    let (retry_after, message) =
        rate_limit_of(gateway.complete_with(ask("chat"), as_key("k1")).await);
    assert_eq!(
        retry_after,
        Some(Duration::from_secs(50)),
        "the first request leaves the window in 50 s"
    );
    assert_eq!(message, "key k1 is over its 2 requests/minute limit");
    assert_eq!(
        mock.request_count(),
        2,
        "the rejected request never went upstream"
    );
    let last = records.records().pop().unwrap();
    assert!(!last.succeeded());
    assert!(last.attempts.is_empty());

    gateway
        .complete_with(ask("chat"), as_key("k2"))
        .await
        .unwrap();
    clock.advance(Duration::from_secs(50));
    gateway
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn default_user_limit_uses_request_user_field() {
    let mock = MockServer::start().await.unwrap();
    let config = one_model(&mock).limit(LimitConfig {
        scope: ScopeKind::User,
        id: None,
        rpm: Some(1),
        tpm: None,
    });
    let (gateway, _, _) = start(config);
    let from = |user: &str| {
        let mut request = ask("chat");
        request.user = Some(user.to_owned());
        request
    };
    gateway
        .complete_with(from("alice"), CallContext::new())
        .await
        .unwrap();
    let (_, message) = rate_limit_of(
        gateway
            .complete_with(from("alice"), CallContext::new())
            .await,
    );
    assert_eq!(message, "user alice is over its 1 requests/minute limit");
    gateway
        .complete_with(from("bob"), CallContext::new())
        .await
        .unwrap();
    // The context's user takes precedence over the request's field.
    gateway
        .complete_with(from("alice"), CallContext::new().with_user("carol"))
        .await
        .unwrap();
}

#[tokio::test]
async fn runtime_limit_can_be_removed() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(one_model(&mock));
    let team = LimitScope::Team("research".into());
    gateway
        .set_limit(team.clone(), LimitRule::new().rpm(1))
        .unwrap();
    let context = || CallContext::new().with_team("research");
    gateway.complete_with(ask("chat"), context()).await.unwrap();
    let (_, message) = rate_limit_of(gateway.complete_with(ask("chat"), context()).await);
    assert!(message.starts_with("team research"), "{message}");
    assert_eq!(gateway.remove_limit(&team), Some(LimitRule::new().rpm(1)));
    gateway.complete_with(ask("chat"), context()).await.unwrap();
}

#[test]
fn empty_or_zero_rule_is_rejected() {
    let config = GatewayConfig::new().model(single_model(
        "chat",
        vec![
            llmops_gateway::DeploymentConfig::new("a", "openai", "m")
                .base_url("http://127.0.0.1:9/v1"),
        ],
    ));
    let gateway = Gateway::builder(config).build().unwrap();
    let error = gateway
        .set_limit(LimitScope::Key("k".into()), LimitRule::new())
        .unwrap_err();
    assert!(error.to_string().contains("neither rpm nor tpm"), "{error}");
    let error = gateway
        .set_limit(LimitScope::Key("k".into()), LimitRule::new().tpm(0))
        .unwrap_err();
    assert!(error.to_string().contains("key k.tpm"), "{error}");
}

#[tokio::test]
async fn tokens_settle_to_actual_usage() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(10, 5));
    let (gateway, _, _) = start(one_model(&mock));
    let mut request = ask("chat");
    request.max_tokens = Some(200);
    let reservation = reserved(&request);
    assert!(reservation > 200);
    // Room for one call's real usage plus one reservation, not for two
    // reservations: the second call fits only if the first was settled.
    gateway
        .set_limit(
            LimitScope::Key("k1".into()),
            LimitRule::new().tpm(reservation + 15),
        )
        .unwrap();
    gateway
        .complete_with(request.clone(), as_key("k1"))
        .await
        .unwrap();
    gateway
        .complete_with(request.clone(), as_key("k1"))
        .await
        .unwrap();
    let (retry_after, message) = rate_limit_of(gateway.complete_with(request, as_key("k1")).await);
    assert!(retry_after.is_some());
    assert_eq!(
        message,
        format!(
            "key k1 is over its {} tokens/minute limit (this request reserves {reservation} tokens)",
            reservation + 15
        )
    );
}

#[tokio::test]
async fn failed_call_returns_its_tokens() {
    let mock = MockServer::start().await.unwrap();
    mock.push_for_model("model-a", Scenario::error(Fault::status(500, "boom")));
    let (gateway, _, _) = start(one_model(&mock));
    let request = ask("chat");
    gateway
        .set_limit(
            LimitScope::Key("k1".into()),
            LimitRule::new().tpm(reserved(&request)),
        )
        .unwrap();
    let failed = gateway.complete_with(request.clone(), as_key("k1")).await;
    assert!(
        matches!(failed, Err(Error::UpstreamServer { .. })),
        "{failed:?}"
    );
    gateway.complete_with(request, as_key("k1")).await.unwrap();
}

#[tokio::test]
async fn request_larger_than_tpm_is_invalid() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(one_model(&mock));
    gateway
        .set_limit(LimitScope::Key("k1".into()), LimitRule::new().tpm(100))
        .unwrap();
    let mut request = ask("chat");
    request.max_tokens = Some(1_000);
    match gateway.complete_with(request, as_key("k1")).await {
        Err(Error::InvalidRequest { param, message, .. }) => {
            assert_eq!(param.as_deref(), Some("max_tokens"));
            assert!(
                message.contains("100 tokens/minute that key k1 may use"),
                "{message}"
            );
        }
        other => panic!("expected an invalid request, got {other:?}"),
    }
    assert_eq!(mock.request_count(), 0);
}

/// Streams `request` to the end and returns its text.
async fn stream_text(
    gateway: &Gateway,
    request: ChatRequest,
    context: CallContext,
) -> Result<String, Error> {
    let mut stream = gateway.stream_with(request, context).await?;
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(chunk?.delta_text().unwrap_or_default());
    }
    Ok(text)
}

#[tokio::test]
async fn stream_without_usage_counts_streamed_text() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model(
        "model-a",
        Scenario::text_chunks(["The capital ", "of France ", "is Paris."]),
    );
    let (gateway, records, _) = start(one_model(&mock));
    let mut request = ask("chat");
    request.stream = Some(true);

    // An unlimited key shows what the gateway counts for this stream.
    stream_text(&gateway, request.clone(), as_key("probe"))
        .await
        .unwrap();
    let probe = records.take().pop().unwrap();
    assert!(probe.usage_estimated, "the mock sent no usage chunk");
    let counted = probe.usage.unwrap().total_tokens;
    assert!(counted > 0);

    let reservation = reserved(&request);
    gateway
        .set_limit(
            LimitScope::Key("k1".into()),
            LimitRule::new().tpm(reservation + counted),
        )
        .unwrap();
    assert_eq!(
        stream_text(&gateway, request.clone(), as_key("k1"))
            .await
            .unwrap(),
        "The capital of France is Paris."
    );
    stream_text(&gateway, request.clone(), as_key("k1"))
        .await
        .unwrap();
    let third = stream_text(&gateway, request, as_key("k1")).await;
    let (_, message) = rate_limit_of(third);
    assert!(message.contains("tokens/minute"), "{message}");
}

#[tokio::test]
async fn model_over_limit_falls_through_to_fallback() {
    let mock = MockServer::start().await.unwrap();
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(&mock, "a", "model-a")]).fallbacks(["spare"]))
        .model(single_model(
            "spare",
            vec![openai_on(&mock, "b", "model-b")],
        ))
        .limit(LimitConfig {
            scope: ScopeKind::Model,
            id: Some("chat".into()),
            rpm: Some(1),
            tpm: None,
        });
    let (gateway, records, _) = start(config);
    gateway.complete(ask("chat")).await.unwrap();
    gateway.complete(ask("chat")).await.unwrap();
    let served: Vec<_> = records
        .records()
        .into_iter()
        .map(|record| record.deployment.unwrap())
        .collect();
    assert_eq!(served, ["a", "b"]);
}

#[tokio::test]
async fn model_over_limit_without_fallback_fails() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(one_model(&mock));
    gateway
        .set_limit(LimitScope::Model("chat".into()), LimitRule::new().rpm(1))
        .unwrap();
    gateway.complete(ask("chat")).await.unwrap();
    let (_, message) = rate_limit_of(gateway.complete(ask("chat")).await);
    assert_eq!(message, "model chat is over its 1 requests/minute limit");
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn concurrent_requests_admit_exactly_the_limit() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(one_model(&mock));
    gateway
        .set_limit(LimitScope::Key("k1".into()), LimitRule::new().rpm(5))
        .unwrap();
    let calls = (0..20).map(|_| {
        let gateway = gateway.clone();
        tokio::spawn(async move { gateway.complete_with(ask("chat"), as_key("k1")).await })
    });
    let mut admitted = 0;
    let mut limited = 0;
    for call in calls.collect::<Vec<_>>() {
        match call.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(Error::RateLimited { .. }) => limited += 1,
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(admitted, 5);
    assert_eq!(limited, 15);
    assert_eq!(mock.request_count(), 5);
}

#[tokio::test]
async fn unicode_ids_are_kept_apart() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(one_model(&mock));
    gateway
        .set_default_limit(ScopeKind::Key, Some(LimitRule::new().rpm(1)))
        .unwrap();
    gateway
        .complete_with(ask("chat"), as_key("clé:1"))
        .await
        .unwrap();
    let (_, message) = rate_limit_of(gateway.complete_with(ask("chat"), as_key("clé:1")).await);
    assert!(message.contains("clé:1"), "{message}");
    // Each key has its own window under the default.
    gateway
        .complete_with(ask("chat"), as_key("clé"))
        .await
        .unwrap();
    gateway
        .complete_with(ask("chat"), as_key(""))
        .await
        .unwrap();
}
