//! `RedisState` on a real Redis server: two gateways with separate
//! connections enforce one limit, one budget and one cache.
//!
//! The server comes from `LLMOPS_TEST_REDIS_URL` (`.ci/redis.sh` starts
//! one). Without it the tests print why they are skipped, and fail when
//! `CI` is `true`.

#![cfg(feature = "redis")]
use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use llmops_core::pricing::{ModelPrice, PriceTable};
use llmops_core::tokens::TokenCounter;
use llmops_core::types::ChatRequest;
use llmops_core::{Error, ModelBackend};
use llmops_gateway::{
    BudgetPeriod, BudgetRule, CacheConfig, CallContext, Gateway, GatewayConfig, LimitRule,
    LimitScope, ManualClock, MemorySink, RedisState,
};
use llmops_testkit::{MockServer, Scenario};
use rust_decimal::Decimal;

const URL_VAR: &str = "LLMOPS_TEST_REDIS_URL";
const NOON_MS: u64 = 1_796_385_600_000;

/// Returns the Redis URL, or none after printing why the test is skipped.
///
/// # Panics
///
/// When the variable is unset while `CI` is `true`, so CI cannot pass
/// without running these tests.
fn redis_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{URL_VAR} is unset while CI=true; source .ci/redis.sh and call start_redis")
        }
        _ => {
            eprintln!(
                "skipped: {URL_VAR} is unset; source .ci/redis.sh and call start_redis to run the Redis tests"
            );
            None
        }
    }
}

/// Returns a key prefix no other test run uses, so runs on one server
/// stay apart.
fn fresh_prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "llmops-test:{}:{nanos}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

struct Pair {
    first: Gateway,
    second: Gateway,
    records: [Arc<MemorySink>; 2],
    clock: Arc<ManualClock>,
    mock: MockServer,
    prefix: String,
}

/// Two gateways over one mock, each with its own Redis connection under
/// one prefix, and one manual clock.
async fn start_pair(url: &str, cache: CacheConfig, cache_bytes: u64) -> Pair {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(1_000, 500));
    let prefix = fresh_prefix();
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let mut gateways = Vec::new();
    let mut records = Vec::new();
    for _ in 0..2 {
        let state = RedisState::connect(url)
            .await
            .unwrap()
            .with_prefix(prefix.clone())
            .with_cache_bytes(cache_bytes);
        let config = GatewayConfig::new()
            .retry(quick_retry(0, 1))
            .health(lenient_health())
            .model(single_model("chat", vec![openai_on(&mock, "a", "model-a")]))
            .cache(cache.clone());
        let mut prices = PriceTable::new();
        prices.insert(
            "model-a",
            ModelPrice::new("openai", Decimal::ONE, Decimal::TWO),
        );
        let clock = clock.clone();
        let (gateway, sink) = build_with(config, move |builder| {
            builder
                .shared_state(Arc::new(state))
                .clock(clock)
                .prices(prices)
        });
        gateways.push(gateway);
        records.push(sink);
    }
    let second = gateways.pop().unwrap();
    let first = gateways.pop().unwrap();
    let second_records = records.pop().unwrap();
    let first_records = records.pop().unwrap();
    Pair {
        first,
        second,
        records: [first_records, second_records],
        clock,
        mock,
        prefix,
    }
}

fn as_key(key: &str) -> CallContext {
    CallContext::new().with_key(key)
}

fn cold(text: &str) -> ChatRequest {
    let mut request = ChatRequest::new("chat", vec![llmops_core::types::ChatMessage::user(text)]);
    request.temperature = Some(0.0);
    request
}

#[tokio::test]
async fn two_gateways_enforce_one_limit() {
    let Some(url) = redis_url() else { return };
    let pair = start_pair(&url, CacheConfig::default(), 1 << 20).await;
    let scope = LimitScope::Key("k1".into());
    for gateway in [&pair.first, &pair.second] {
        gateway
            .set_limit(scope.clone(), LimitRule::new().rpm(3))
            .unwrap();
    }
    pair.first
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();
    pair.second
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();
    pair.first
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();
    for gateway in [&pair.second, &pair.first] {
        match gateway.complete_with(ask("chat"), as_key("k1")).await {
            Err(Error::RateLimited {
                retry_after,
                message,
                ..
            }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(60)));
                assert_eq!(message, "key k1 is over its 3 requests/minute limit");
            }
            other => panic!("expected a shared rate limit, got {other:?}"),
        }
    }
    assert_eq!(pair.mock.request_count(), 3);
    pair.clock.advance(Duration::from_secs(60));
    pair.second
        .complete_with(ask("chat"), as_key("k1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_requests_share_one_limit() {
    let Some(url) = redis_url() else { return };
    let pair = start_pair(&url, CacheConfig::default(), 1 << 20).await;
    let scope = LimitScope::Team("t".into());
    for gateway in [&pair.first, &pair.second] {
        gateway
            .set_limit(scope.clone(), LimitRule::new().rpm(5))
            .unwrap();
    }
    let calls: Vec<_> = (0..20)
        .map(|index| {
            let gateway = if index % 2 == 0 {
                pair.first.clone()
            } else {
                pair.second.clone()
            };
            tokio::spawn(async move {
                gateway
                    .complete_with(ask("chat"), CallContext::new().with_team("t"))
                    .await
            })
        })
        .collect();
    let mut admitted = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(Error::RateLimited { .. }) => {}
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(admitted, 5);
    assert_eq!(pair.mock.request_count(), 5);
}

#[tokio::test]
async fn token_reservations_settle_in_redis() {
    let Some(url) = redis_url() else { return };
    let pair = start_pair(&url, CacheConfig::default(), 1 << 20).await;
    let mut request = ask("chat");
    request.max_tokens = Some(2_000);
    let reservation = TokenCounter::new().count_request(&request).tokens + 2_000;
    let scope = LimitScope::Key("k1".into());
    for gateway in [&pair.first, &pair.second] {
        gateway
            .set_limit(scope.clone(), LimitRule::new().tpm(1_500 + reservation))
            .unwrap();
    }
    // The first call settles to its 1,500 tokens, which leaves room for
    // exactly one more reservation, on either gateway.
    pair.first
        .complete_with(request.clone(), as_key("k1"))
        .await
        .unwrap();
    pair.second
        .complete_with(request.clone(), as_key("k1"))
        .await
        .unwrap();
    let third = pair.first.complete_with(request, as_key("k1")).await;
    assert!(matches!(third, Err(Error::RateLimited { .. })), "{third:?}");
}

#[tokio::test]
async fn spend_is_shared_and_exact() {
    let Some(url) = redis_url() else { return };
    let pair = start_pair(&url, CacheConfig::default(), 1 << 20).await;
    let scope = LimitScope::Team("research".into());
    let rule = BudgetRule::new("0.005".parse().unwrap(), BudgetPeriod::Month);
    for gateway in [&pair.first, &pair.second] {
        gateway.set_budget(scope.clone(), rule.clone()).unwrap();
    }
    let team = || CallContext::new().with_team("research");
    pair.first.complete_with(ask("chat"), team()).await.unwrap();
    pair.second
        .complete_with(ask("chat"), team())
        .await
        .unwrap();
    pair.first.complete_with(ask("chat"), team()).await.unwrap();
    let expected: Decimal = pair
        .records
        .iter()
        .flat_map(|sink| sink.records())
        .filter_map(|record| record.cost_usd)
        .sum();
    assert_eq!(expected, "0.006".parse().unwrap());
    assert_eq!(pair.first.spend(&scope).await.unwrap(), expected);
    assert_eq!(pair.second.spend(&scope).await.unwrap(), expected);
    let rejected = pair.second.complete_with(ask("chat"), team()).await;
    assert!(
        matches!(&rejected, Err(Error::RateLimited { message, .. }) if message.contains("budget")),
        "{rejected:?}"
    );
}

#[tokio::test]
async fn cache_is_shared_bounded_and_expires() {
    let Some(url) = redis_url() else { return };
    let cache = CacheConfig {
        enabled: true,
        ttl_secs: 60,
        ..CacheConfig::default()
    };
    let pair = start_pair(&url, cache.clone(), 1 << 20).await;
    let answer = pair
        .first
        .complete(cold("Capital of France?"))
        .await
        .unwrap();
    let cached = pair
        .second
        .complete(cold("Capital of France?"))
        .await
        .unwrap();
    assert_eq!(cached, answer);
    assert_eq!(pair.mock.request_count(), 1);
    assert!(pair.records[1].records()[0].cache_hit);
    let stats = pair.second.cache_stats().await.unwrap();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
    assert!(stats.bytes > 0);

    pair.clock.advance(Duration::from_secs(60));
    pair.second
        .complete(cold("Capital of France?"))
        .await
        .unwrap();
    assert_eq!(pair.mock.request_count(), 2, "the entry expired");

    // A bound of about two entries evicts the least recently used.
    let one_entry = pair.first.cache_stats().await.unwrap().bytes;
    let small = start_pair(&url, cache, one_entry * 2 + one_entry / 2).await;
    for text in [
        "Capital of France?",
        "Capital of Spain??",
        "Capital of France?",
        "Capital of Italy??",
    ] {
        small.first.complete(cold(text)).await.unwrap();
    }
    let before = small.mock.request_count();
    small
        .second
        .complete(cold("Capital of France?"))
        .await
        .unwrap();
    assert_eq!(small.mock.request_count(), before, "recently used, so kept");
    small
        .second
        .complete(cold("Capital of Spain??"))
        .await
        .unwrap();
    assert_eq!(
        small.mock.request_count(),
        before + 1,
        "least recently used, so evicted"
    );
    let stats = small.first.cache_stats().await.unwrap();
    assert_eq!(stats.entries, 2);
    assert!(stats.bytes <= one_entry * 2 + one_entry / 2);
}

#[tokio::test]
async fn unreachable_server_is_an_error() {
    if redis_url().is_none() {
        return;
    }
    // Port 1 on loopback has no Redis server.
    let error = RedisState::connect("redis://127.0.0.1:1/0")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("Redis connection failed"),
        "{error}"
    );
    let error = RedisState::connect("not a url").await.unwrap_err();
    assert!(error.to_string().contains("URL"), "{error}");
}

/// Returns the remaining time to live of `key` in milliseconds: -1 when
/// it never expires, -2 when it does not exist.
async fn ttl_ms(url: &str, key: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn spend_of_ended_periods_expires() {
    use llmops_gateway::SharedState;

    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let state = RedisState::connect(&url)
        .await
        .unwrap()
        .with_prefix(prefix.clone());
    let day = format!("{prefix}spend:day");
    state
        .add_spend(0, "day", Decimal::ONE, Some(60_000))
        .await
        .unwrap();
    let ttl = ttl_ms(&url, &day).await;
    assert!((1..=60_000).contains(&ttl), "ttl {ttl}");
    state
        .add_spend(0, "day", Decimal::ONE, Some(600_000))
        .await
        .unwrap();
    let ttl = ttl_ms(&url, &day).await;
    assert!(ttl > 60_000, "a later addition moves the expiry: ttl {ttl}");

    state
        .add_spend(0, "total", Decimal::ONE, None)
        .await
        .unwrap();
    assert_eq!(ttl_ms(&url, &format!("{prefix}spend:total")).await, -1);

    // A hash that reaches its expiry is gone, and its spend reads as 0.
    state
        .add_spend(0, "short", Decimal::ONE, Some(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(state.spend("short").await.unwrap(), Decimal::ZERO);
    assert_eq!(ttl_ms(&url, &format!("{prefix}spend:short")).await, -2);
}

#[tokio::test]
async fn daily_spend_expires_a_day_after_its_period() {
    let Some(url) = redis_url() else { return };
    let pair = start_pair(&url, CacheConfig::default(), 1 << 20).await;
    let scope = LimitScope::Team("research".into());
    let rule = BudgetRule::new(Decimal::ONE, BudgetPeriod::Day);
    pair.first.set_budget(scope.clone(), rule).unwrap();
    pair.first
        .complete_with(ask("chat"), CallContext::new().with_team("research"))
        .await
        .unwrap();
    // NOON_MS is 12:00 UTC: 12 hours left in the day plus one day kept.
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}spend:*", pair.prefix))
        .query_async(&mut connection)
        .await
        .unwrap();
    let key = format!("{}spend:spend:team:research:2026-12-04", pair.prefix);
    assert_eq!(keys, vec![key.clone()]);
    let ttl = ttl_ms(&url, &key).await;
    let expected = 36 * 3_600_000;
    assert!(ttl <= expected, "ttl {ttl}");
    assert!(ttl > expected - 60_000, "ttl {ttl}");
}
