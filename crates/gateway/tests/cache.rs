//! The response cache over real loopback HTTP: hits and misses, streamed
//! replay, opt-out, temperature rule, errors, expiry, size bound, and what
//! a hit counts against limits and budgets.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use llmops_core::ModelBackend;
use llmops_core::pricing::{ModelPrice, PriceTable};
use llmops_core::types::{ChatCompletionChunk, ChatRequest, FinishReason, StreamOptions};
use llmops_gateway::{
    BudgetPeriod, BudgetRule, CacheConfig, CallContext, Gateway, GatewayConfig, LimitRule,
    LimitScope, ManualClock, MemorySink,
};
use llmops_testkit::{Fault, MockServer, Scenario};
use rust_decimal::Decimal;

const NOON_MS: u64 = 1_796_385_600_000;

fn cached_config(mock: &MockServer, cache: CacheConfig) -> GatewayConfig {
    GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(mock, "a", "model-a")]))
        .cache(cache)
}

fn enabled() -> CacheConfig {
    CacheConfig {
        enabled: true,
        ..CacheConfig::default()
    }
}

fn start(mock: &MockServer, cache: CacheConfig) -> (Gateway, Arc<MemorySink>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let mut prices = PriceTable::new();
    prices.insert(
        "model-a",
        ModelPrice::new("openai", Decimal::ONE, Decimal::TWO),
    );
    let (gateway, records) = build_with(cached_config(mock, cache), |builder| {
        builder.clock(clock.clone()).prices(prices)
    });
    (gateway, records, clock)
}

/// Builds a deterministic request: temperature 0.
fn cold(text: &str) -> ChatRequest {
    let mut request = ChatRequest::new("chat", vec![llmops_core::types::ChatMessage::user(text)]);
    request.temperature = Some(0.0);
    request
}

#[tokio::test]
async fn identical_request_is_served_from_cache() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(20, 2));
    let (gateway, records, _) = start(&mock, enabled());
    let first = gateway.complete(cold("Capital of France?")).await.unwrap();
    let second = gateway.complete(cold("Capital of France?")).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(mock.request_count(), 1);
    let records = records.records();
    assert!(!records[0].cache_hit);
    assert!(records[1].cache_hit);
    assert!(records[1].succeeded());
    assert_eq!(records[1].usage, None, "no upstream tokens");
    assert_eq!(records[1].cost_usd, Some(Decimal::ZERO));
    let stats = gateway.cache_stats().await.unwrap();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
    assert!(stats.bytes > 0);
    assert_eq!(stats.hit_ratio(), Some(0.5));

    gateway.complete(cold("Capital of Spain?")).await.unwrap();
    assert_eq!(mock.request_count(), 2, "another prompt is another entry");
}

#[tokio::test]
async fn cached_answer_replays_as_stream() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(20, 2));
    let (gateway, records, _) = start(&mock, enabled());
    gateway.complete(cold("Capital of France?")).await.unwrap();
    let mut request = cold("Capital of France?");
    request.stream = Some(true);
    request.stream_options =
        Some(serde_json::from_str::<StreamOptions>(r#"{"include_usage":true}"#).unwrap());
    let chunks: Vec<ChatCompletionChunk> = gateway
        .stream_with(request, CallContext::new())
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(mock.request_count(), 1);
    assert_eq!(chunks.len(), 4, "{chunks:?}");
    assert!(chunks[0].choices[0].delta.role.is_some());
    assert_eq!(chunks[1].delta_text(), Some("Paris."));
    assert_eq!(chunks[2].choices[0].finish_reason, Some(FinishReason::Stop));
    let usage = chunks[3].usage.clone().unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (20, 2));
    let record = records.records().pop().unwrap();
    assert!(record.cache_hit);
    assert!(record.stream);
}

#[tokio::test]
async fn streamed_answer_is_cached_for_plain_call() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text_chunks(["Par", "is."]));
    let (gateway, _, _) = start(&mock, enabled());
    let mut request = cold("Capital of France?");
    request.stream = Some(true);
    let mut stream = gateway
        .stream_with(request, CallContext::new())
        .await
        .unwrap();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    drop(stream);
    let completion = gateway.complete(cold("Capital of France?")).await.unwrap();
    assert_eq!(completion.text(), "Paris.");
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn opt_out_skips_lookup_and_store() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(&mock, enabled());
    let skip = || CallContext::new().without_cache();
    gateway.complete_with(cold("hi"), skip()).await.unwrap();
    gateway
        .complete_with(cold("hi"), CallContext::new())
        .await
        .unwrap();
    gateway.complete_with(cold("hi"), skip()).await.unwrap();
    assert_eq!(
        mock.request_count(),
        3,
        "the opt-out call stored nothing and read nothing"
    );
    gateway
        .complete_with(cold("hi"), CallContext::new())
        .await
        .unwrap();
    assert_eq!(mock.request_count(), 3);
}

#[tokio::test]
async fn sampled_requests_are_not_cached_by_default() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _, _) = start(&mock, enabled());
    let mut unset = cold("hi");
    unset.temperature = None;
    let mut warm = cold("hi");
    warm.temperature = Some(0.7);
    for request in [unset.clone(), unset, warm.clone(), warm] {
        gateway.complete(request).await.unwrap();
    }
    assert_eq!(mock.request_count(), 4);
    let stats = gateway.cache_stats().await.unwrap();
    assert_eq!((stats.hits, stats.misses, stats.entries), (0, 0, 0));
}

#[tokio::test]
async fn nondeterministic_caching_is_opt_in() {
    let mock = MockServer::start().await.unwrap();
    let cache = CacheConfig {
        cache_nondeterministic: true,
        ..enabled()
    };
    let (gateway, _, _) = start(&mock, cache);
    let mut warm = cold("hi");
    warm.temperature = Some(0.7);
    gateway.complete(warm.clone()).await.unwrap();
    gateway.complete(warm).await.unwrap();
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn errors_are_never_cached() {
    let mock = MockServer::start().await.unwrap();
    mock.push_for_model("model-a", Scenario::error(Fault::status(500, "boom")));
    let (gateway, _, _) = start(&mock, enabled());
    assert!(gateway.complete(cold("hi")).await.is_err());
    let answer = gateway.complete(cold("hi")).await.unwrap();
    assert!(!answer.text().is_empty());
    assert_eq!(mock.request_count(), 2);
    assert_eq!(gateway.cache_stats().await.unwrap().entries, 1);
}

#[tokio::test]
async fn entry_expires_after_ttl() {
    let mock = MockServer::start().await.unwrap();
    let cache = CacheConfig {
        ttl_secs: 60,
        ..enabled()
    };
    let (gateway, _, clock) = start(&mock, cache);
    gateway.complete(cold("hi")).await.unwrap();
    clock.advance(Duration::from_secs(59));
    gateway.complete(cold("hi")).await.unwrap();
    assert_eq!(mock.request_count(), 1);
    clock.advance(Duration::from_secs(1));
    gateway.complete(cold("hi")).await.unwrap();
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn size_bound_evicts_least_recent() {
    let mock = MockServer::start().await.unwrap();
    let (probe, _, _) = start(&mock, enabled());
    probe.complete(cold("first")).await.unwrap();
    let one_entry = probe.cache_stats().await.unwrap().bytes;
    mock.reset();

    // Room for two entries of this size, not three.
    let cache = CacheConfig {
        max_bytes: one_entry * 2 + one_entry / 2,
        ..enabled()
    };
    let (gateway, _, _) = start(&mock, cache);
    for text in ["first", "secnd", "first", "third"] {
        gateway.complete(cold(text)).await.unwrap();
    }
    let before = mock.request_count();
    gateway.complete(cold("first")).await.unwrap();
    assert_eq!(
        mock.request_count(),
        before,
        "first was used recently and stayed"
    );
    gateway.complete(cold("secnd")).await.unwrap();
    assert_eq!(mock.request_count(), before + 1, "secnd was evicted");
    let stats = gateway.cache_stats().await.unwrap();
    assert!(stats.bytes <= one_entry * 2 + one_entry / 2);
    assert_eq!(stats.entries, 2);
}

#[tokio::test]
async fn hit_costs_no_budget_and_no_tokens() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(1_000, 500));
    let (gateway, records, _) = start(&mock, enabled());
    let key = LimitScope::Key("k1".into());
    gateway
        .set_budget(
            key.clone(),
            BudgetRule::new("0.01".parse().unwrap(), BudgetPeriod::Day),
        )
        .unwrap();
    let mut request = cold("Capital of France?");
    request.max_tokens = Some(2_000);
    let reservation = llmops_core::tokens::TokenCounter::new()
        .count_request(&request)
        .tokens
        + 2_000;
    // Room for the real call's 1,500 tokens and one reservation, not for
    // two reservations: each hit fits only if the call before it settled.
    gateway
        .set_limit(key.clone(), LimitRule::new().tpm(1_500 + reservation))
        .unwrap();
    let context = || CallContext::new().with_key("k1");
    gateway
        .complete_with(request.clone(), context())
        .await
        .unwrap();
    let spend = gateway.spend(&key).await.unwrap();
    assert_eq!(spend, "0.002".parse().unwrap());
    for _ in 0..5 {
        gateway
            .complete_with(request.clone(), context())
            .await
            .unwrap();
    }
    assert_eq!(gateway.spend(&key).await.unwrap(), spend);
    assert_eq!(mock.request_count(), 1);
    let records = records.records();
    let spent: Decimal = records.iter().filter_map(|record| record.cost_usd).sum();
    assert_eq!(spent, spend);
    assert_eq!(records.iter().filter(|record| record.cache_hit).count(), 5);
}
