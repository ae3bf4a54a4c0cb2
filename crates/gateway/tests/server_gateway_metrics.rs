//! The gateway's event counters in `/metrics`, scraped over loopback HTTP:
//! cache lookups and hit ratio, rate-limit and budget rejections, budget
//! alerts, fallbacks and ejections, kept across a reload.

#![cfg(feature = "server")]
use crate::server_support;

use llmops_core::pricing::{ModelPrice, PriceTable};
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::server::Server;
use llmops_gateway::{
    BudgetConfig, BudgetPeriod, CacheConfig, CallContext, DeploymentConfig, Gateway, GatewayConfig,
    HealthPolicy, LimitConfig, ModelConfig, RetryPolicy, ScopeKind,
};
use llmops_testkit::{Fault, MockServer, Scenario};
use rust_decimal::Decimal;
use server_support::start;

/// `chat` on a deployment that always fails with 500, falling back to
/// `backup`; one failure ejects. Each `backup` call costs $0.002.
fn config(mock: &MockServer) -> GatewayConfig {
    let mut config = GatewayConfig::new()
        .model(
            ModelConfig::new("chat")
                .deployment(
                    DeploymentConfig::new("primary", "openai", "bad-model")
                        .base_url(mock.openai_base_url()),
                )
                .fallbacks(["backup"]),
        )
        .model(
            ModelConfig::new("backup").deployment(
                DeploymentConfig::new("backup-mock", "openai", "good-model")
                    .base_url(mock.openai_base_url()),
            ),
        )
        .retry(RetryPolicy {
            retries: 0,
            max_attempts: 3,
            base_delay_ms: 0,
            max_delay_ms: 0,
            max_retry_after_ms: 0,
        })
        .health(HealthPolicy {
            min_requests: 1,
            ..HealthPolicy::default()
        })
        .cache(CacheConfig {
            enabled: true,
            ..CacheConfig::default()
        })
        .limit(LimitConfig {
            scope: ScopeKind::Key,
            id: Some("k1".to_owned()),
            rpm: Some(1),
            tpm: None,
        });
    config.budgets.push(BudgetConfig {
        scope: ScopeKind::Team,
        id: None,
        limit_usd: "0.003".parse().unwrap(),
        period: BudgetPeriod::Day,
        alert_at: vec![0.5],
    });
    config
}

fn build(mock: &MockServer) -> Gateway {
    let mut prices = PriceTable::new();
    prices.insert(
        "good-model",
        ModelPrice::new("openai", Decimal::ONE, Decimal::TWO),
    );
    Gateway::builder(config(mock))
        .prices(prices)
        .build()
        .unwrap()
}

fn ask(text: &str, temperature: Option<f64>) -> ChatRequest {
    let mut request = ChatRequest::new("chat", vec![ChatMessage::user(text)]);
    request.temperature = temperature;
    request
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn assert_lines(metrics: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            metrics.lines().any(|candidate| candidate == *line),
            "missing {line:?} in\n{metrics}"
        );
    }
}

#[tokio::test]
async fn metrics_count_gateway_events() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("bad-model", Scenario::error(Fault::status(500, "{}")));
    mock.always_for_model(
        "good-model",
        Scenario::text("Paris.").with_usage(1_000, 500),
    );
    let gateway = build(&mock);
    let server = start(Server::builder(gateway.clone())).await;
    let team = || CallContext::new().with_team("research");

    // A miss. The primary fails and is ejected, then the fallback responds
    // and its $0.002 crosses the 0.5 alert share of the $0.003 default.
    let cold = ask("Capital of France?", Some(0.0));
    gateway.complete_with(cold.clone(), team()).await.unwrap();
    // A hit.
    gateway.complete_with(cold, team()).await.unwrap();
    // Not cacheable; the primary is still ejected, so the request moves on
    // to the fallback again and the spend reaches $0.004.
    gateway
        .complete_with(ask("Capital of Spain?", None), team())
        .await
        .unwrap();
    // The hard stop.
    let stopped = gateway
        .complete_with(ask("Capital of Italy?", None), team())
        .await;
    assert!(stopped.is_err(), "{stopped:?}");
    // One request a minute for key k1.
    let key = || CallContext::new().with_key("k1");
    gateway
        .complete_with(ask("한국의 수도는?", None), key())
        .await
        .unwrap();
    let limited = gateway
        .complete_with(ask("한국의 수도는?", None), key())
        .await;
    assert!(limited.is_err(), "{limited:?}");

    let metrics = scrape(&server.url("/metrics")).await;
    assert_lines(
        &metrics,
        &[
            "# TYPE llmops_gateway_cache_lookups_total counter",
            "llmops_gateway_cache_lookups_total{result=\"hit\"} 1",
            "llmops_gateway_cache_lookups_total{result=\"miss\"} 1",
            "llmops_gateway_cache_hit_ratio 0.5",
            "llmops_gateway_rate_limit_rejections_total{scope=\"key\"} 1",
            "llmops_gateway_rate_limit_rejections_total{scope=\"team\"} 0",
            "llmops_gateway_budget_rejections_total{scope=\"team\"} 1",
            "llmops_gateway_budget_rejections_total{scope=\"key\"} 0",
            "llmops_gateway_budget_alerts_total{scope=\"team\"} 1",
            "llmops_gateway_fallbacks_total{model=\"backup\"} 3",
            "llmops_gateway_ejections_total{deployment=\"primary\"} 1",
            "llmops_gateway_ejections_total{deployment=\"backup-mock\"} 0",
        ],
    );
    assert_eq!(gateway.counters().fallbacks.get("backup"), Some(&3));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn counters_survive_a_reload() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("bad-model", Scenario::error(Fault::status(500, "{}")));
    mock.always_for_model(
        "good-model",
        Scenario::text("Paris.").with_usage(1_000, 500),
    );
    let gateway = build(&mock);
    let reload_config = config(&mock);
    let server = start(
        Server::builder(gateway.clone())
            .reload_with(move || Gateway::builder(reload_config.clone()).build()),
    )
    .await;
    gateway
        .complete_with(ask("Capital of France?", None), CallContext::new())
        .await
        .unwrap();
    server.handle.reload().await.unwrap();
    let reloaded = server.handle.gateway();
    reloaded
        .complete_with(ask("Capital of France?", None), CallContext::new())
        .await
        .unwrap();

    let metrics = scrape(&server.url("/metrics")).await;
    assert_lines(
        &metrics,
        &[
            "llmops_gateway_fallbacks_total{model=\"backup\"} 2",
            "llmops_gateway_ejections_total{deployment=\"primary\"} 2",
        ],
    );
    server.stop().await.unwrap();
}
