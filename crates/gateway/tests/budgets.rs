//! Budgets over real loopback HTTP with a manual clock: spend from priced
//! usage, the hard stop, alerts once per period, and equal cost for
//! streamed and plain calls.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::StreamExt;
use llmops_core::pricing::{ModelPrice, PriceTable};
use llmops_core::types::{ChatRequest, StreamOptions};
use llmops_core::{Error, ModelBackend};
use llmops_gateway::{
    BudgetAlert, BudgetAlertSink, BudgetPeriod, BudgetRule, CallContext, Gateway, GatewayConfig,
    LimitScope, ManualClock, MemorySink, RequestRecord,
};
use llmops_testkit::{MockServer, Scenario};
use rust_decimal::Decimal;

/// 2026-12-04T12:00:00Z.
const NOON_MS: u64 = 1_796_385_600_000;

fn usd(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// $1 per million input tokens and $2 per million output tokens, so 1,000
/// prompt and 500 completion tokens cost exactly $0.002.
fn prices() -> PriceTable {
    let mut table = PriceTable::new();
    table.insert("model-a", ModelPrice::new("openai", usd("1"), usd("2")));
    table
}

#[derive(Default)]
struct Alerts(Mutex<Vec<BudgetAlert>>);

impl BudgetAlertSink for Alerts {
    fn alert(&self, alert: BudgetAlert) {
        self.0.lock().unwrap().push(alert);
    }
}

impl Alerts {
    fn shares(&self) -> Vec<Decimal> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|alert| alert.share)
            .collect()
    }
}

struct Setup {
    gateway: Gateway,
    records: Arc<MemorySink>,
    clock: Arc<ManualClock>,
    alerts: Arc<Alerts>,
    mock: MockServer,
}

async fn setup() -> Setup {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(1_000, 500));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(&mock, "a", "model-a")]));
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let alerts = Arc::new(Alerts::default());
    let (gateway, records) = build_with(config, |builder| {
        builder
            .prices(prices())
            .clock(clock.clone())
            .budget_alert_sink(alerts.clone())
    });
    Setup {
        gateway,
        records,
        clock,
        alerts,
        mock,
    }
}

fn team() -> CallContext {
    CallContext::new().with_team("research")
}

fn total_cost(records: &[RequestRecord]) -> Decimal {
    records.iter().filter_map(|record| record.cost_usd).sum()
}

#[tokio::test]
async fn spend_stops_requests_at_the_budget() {
    let setup = setup().await;
    let scope = LimitScope::Team("research".into());
    setup
        .gateway
        .set_budget(
            scope.clone(),
            BudgetRule::new(usd("0.005"), BudgetPeriod::Day),
        )
        .unwrap();
    for _ in 0..3 {
        setup
            .gateway
            .complete_with(ask("chat"), team())
            .await
            .unwrap();
    }
    assert_eq!(setup.gateway.spend(&scope).await.unwrap(), usd("0.006"));
    assert_eq!(total_cost(&setup.records.records()), usd("0.006"));

    let rejected = setup.gateway.complete_with(ask("chat"), team()).await;
    match rejected {
        Err(Error::RateLimited {
            retry_after,
            message,
            ..
        }) => {
            assert_eq!(
                retry_after,
                Some(Duration::from_secs(12 * 3_600)),
                "until midnight UTC"
            );
            assert!(message.contains("budget"), "{message}");
            assert!(message.contains("team research"), "{message}");
        }
        other => panic!("expected a budget rejection, got {other:?}"),
    }
    assert_eq!(setup.mock.request_count(), 3);

    // Another team and the next day are not stopped.
    setup
        .gateway
        .complete_with(ask("chat"), CallContext::new().with_team("ops"))
        .await
        .unwrap();
    setup.clock.advance(Duration::from_secs(12 * 3_600));
    assert_eq!(setup.gateway.spend(&scope).await.unwrap(), Decimal::ZERO);
    setup
        .gateway
        .complete_with(ask("chat"), team())
        .await
        .unwrap();
}

#[tokio::test]
async fn total_budget_has_no_retry_time() {
    let setup = setup().await;
    let scope = LimitScope::Key("k1".into());
    setup
        .gateway
        .set_budget(scope, BudgetRule::new(usd("0.001"), BudgetPeriod::Total))
        .unwrap();
    let context = || CallContext::new().with_key("k1");
    setup
        .gateway
        .complete_with(ask("chat"), context())
        .await
        .unwrap();
    match setup.gateway.complete_with(ask("chat"), context()).await {
        Err(Error::RateLimited {
            retry_after,
            message,
            ..
        }) => {
            assert_eq!(retry_after, None);
            assert!(message.contains("total budget"), "{message}");
        }
        other => panic!("expected a budget rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn alerts_fire_once_per_period() {
    let setup = setup().await;
    let scope = LimitScope::Team("research".into());
    let rule = BudgetRule::new(usd("0.01"), BudgetPeriod::Month).alert_at([usd("0.5"), usd("0.8")]);
    setup.gateway.set_budget(scope.clone(), rule).unwrap();
    // $0.002 each: 0.5 is crossed by the third call, 0.8 by the fourth.
    for _ in 0..2 {
        setup
            .gateway
            .complete_with(ask("chat"), team())
            .await
            .unwrap();
    }
    assert!(setup.alerts.shares().is_empty());
    setup
        .gateway
        .complete_with(ask("chat"), team())
        .await
        .unwrap();
    assert_eq!(setup.alerts.shares(), [usd("0.5")]);
    for _ in 0..2 {
        setup
            .gateway
            .complete_with(ask("chat"), team())
            .await
            .unwrap();
    }
    assert_eq!(setup.alerts.shares(), [usd("0.5"), usd("0.8")]);
    let alert = setup.alerts.0.lock().unwrap()[1].clone();
    assert_eq!(alert.scope, scope);
    assert_eq!(alert.period, "2026-12");
    assert_eq!(alert.spend, usd("0.008"));

    // 2027-01-01T00:00:00Z: a new period, so the alerts fire again.
    setup.clock.set(1_798_761_600_000);
    for _ in 0..3 {
        setup
            .gateway
            .complete_with(ask("chat"), team())
            .await
            .unwrap();
    }
    assert_eq!(setup.alerts.shares(), [usd("0.5"), usd("0.8"), usd("0.5")]);
}

fn streamed(include_usage: bool) -> ChatRequest {
    let mut request = ask("chat");
    request.stream = Some(true);
    if include_usage {
        request.stream_options =
            Some(serde_json::from_str::<StreamOptions>(r#"{"include_usage":true}"#).unwrap());
    }
    request
}

async fn drain(gateway: &Gateway, request: ChatRequest) {
    let mut stream = gateway.stream_with(request, team()).await.unwrap();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
}

#[tokio::test]
async fn stream_and_plain_call_cost_the_same() {
    let setup = setup().await;
    let scope = LimitScope::Team("research".into());
    setup
        .gateway
        .set_budget(
            scope.clone(),
            BudgetRule::new(usd("100"), BudgetPeriod::Month),
        )
        .unwrap();
    setup
        .gateway
        .complete_with(ask("chat"), team())
        .await
        .unwrap();
    drain(&setup.gateway, streamed(true)).await;
    let records = setup.records.take();
    assert!(!records[0].stream);
    assert!(records[1].stream);
    assert_eq!(records[0].usage, records[1].usage);
    assert_eq!(records[0].cost_usd, Some(usd("0.002")));
    assert_eq!(records[1].cost_usd, records[0].cost_usd);
    assert_eq!(setup.gateway.spend(&scope).await.unwrap(), usd("0.004"));
}

#[tokio::test]
async fn counted_usage_costs_the_same_streamed_or_not() {
    let setup = setup().await;
    let scope = LimitScope::Team("research".into());
    setup
        .gateway
        .set_budget(
            scope.clone(),
            BudgetRule::new(usd("100"), BudgetPeriod::Month),
        )
        .unwrap();
    // Neither reply carries usage, so the gateway counts both.
    let body = r#"{"id":"c1","object":"chat.completion","created":1,"model":"model-a","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"finish_reason":"stop"}]}"#;
    setup
        .mock
        .push_for_model("model-a", Scenario::replay_json(body));
    setup
        .gateway
        .complete_with(ask("chat"), team())
        .await
        .unwrap();
    setup.mock.push_for_model(
        "model-a",
        Scenario::text_chunks(["The capital ", "of France ", "is Paris."]),
    );
    drain(&setup.gateway, streamed(false)).await;
    let records = setup.records.take();
    assert!(records[0].usage_estimated);
    assert!(records[1].usage_estimated);
    assert_eq!(records[0].usage, records[1].usage);
    assert!(records[0].cost_usd.unwrap() > Decimal::ZERO);
    assert_eq!(records[0].cost_usd, records[1].cost_usd);
    assert_eq!(
        setup.gateway.spend(&scope).await.unwrap(),
        total_cost(&records)
    );
}

#[tokio::test]
async fn model_budget_counts_the_serving_model() {
    let setup = setup().await;
    let scope = LimitScope::Model("chat".into());
    setup
        .gateway
        .set_budget(
            scope.clone(),
            BudgetRule::new(usd("0.003"), BudgetPeriod::Day),
        )
        .unwrap();
    setup.gateway.complete(ask("chat")).await.unwrap();
    setup.gateway.complete(ask("chat")).await.unwrap();
    assert_eq!(setup.gateway.spend(&scope).await.unwrap(), usd("0.004"));
    let rejected = setup.gateway.complete(ask("chat")).await;
    assert!(
        matches!(&rejected, Err(Error::RateLimited { message, .. }) if message.contains("model chat has used its daily budget")),
        "{rejected:?}"
    );
}

#[test]
fn invalid_budget_rule_is_rejected() {
    let config = GatewayConfig::new().model(single_model(
        "chat",
        vec![
            llmops_gateway::DeploymentConfig::new("a", "openai", "m")
                .base_url("http://127.0.0.1:9/v1"),
        ],
    ));
    let gateway = Gateway::builder(config).build().unwrap();
    let error = gateway
        .set_budget(
            LimitScope::Key("k".into()),
            BudgetRule::new(usd("-1"), BudgetPeriod::Day),
        )
        .unwrap_err();
    assert!(error.to_string().contains("key k.limit_usd"), "{error}");
}

#[tokio::test]
async fn spent_model_falls_through_to_fallback() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(1_000, 500));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(&mock, "a", "model-a")]).fallbacks(["spare"]))
        .model(single_model(
            "spare",
            vec![openai_on(&mock, "b", "model-b")],
        ));
    let (gateway, records) = build_with(config, |builder| {
        builder
            .prices(prices())
            .clock(Arc::new(ManualClock::new(NOON_MS)))
    });
    gateway
        .set_budget(
            LimitScope::Model("chat".into()),
            BudgetRule::new(usd("0.002"), BudgetPeriod::Day),
        )
        .unwrap();
    gateway.complete(ask("chat")).await.unwrap();
    gateway.complete(ask("chat")).await.unwrap();
    let served: Vec<_> = records
        .records()
        .into_iter()
        .map(|record| record.deployment.unwrap())
        .collect();
    assert_eq!(
        served,
        ["a", "b"],
        "chat spent its budget on the first call"
    );
}

#[tokio::test]
async fn dropped_stream_still_adds_its_spend() {
    let setup = setup().await;
    let scope = LimitScope::Team("research".into());
    setup
        .gateway
        .set_budget(
            scope.clone(),
            BudgetRule::new(usd("100"), BudgetPeriod::Month),
        )
        .unwrap();
    setup.mock.push_for_model(
        "model-a",
        Scenario::text_chunks(["The ", "capital ", "of ", "France ", "is ", "Paris."])
            .chunk_delay(Duration::from_millis(20)),
    );
    let mut stream = setup
        .gateway
        .stream_with(streamed(false), team())
        .await
        .unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);

    let record = setup.records.records().pop().unwrap();
    assert_eq!(record.status, llmops_gateway::RequestStatus::Cancelled);
    assert!(record.usage_estimated, "the partial text was counted");
    let cost = record.cost_usd.unwrap();
    assert!(cost > Decimal::ZERO);
    // The drop hands the accounting to a spawned task on this runtime.
    for _ in 0..100 {
        if setup.gateway.spend(&scope).await.unwrap() == cost {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(setup.gateway.spend(&scope).await.unwrap(), cost);
}

#[tokio::test]
async fn default_budget_stops_each_team_separately() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::text("Paris.").with_usage(1_000, 500));
    let config = GatewayConfig::from_toml_str(&format!(
        r#"
        [retry]
        retries = 0
        max_attempts = 1

        [[models]]
        name = "chat"

        [[models.deployments]]
        id = "a"
        provider = "openai"
        model = "model-a"
        base_url = "{}"

        [[budgets]]
        scope = "team"
        limit_usd = "0.003"
        period = "day"

        [[budgets]]
        scope = "team"
        id = "research"
        limit_usd = "0.007"
        period = "day"
        "#,
        mock.openai_base_url()
    ))
    .unwrap();
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let (gateway, _) = build_with(config, |builder| {
        builder.prices(prices()).clock(clock.clone())
    });
    let team = |id: &str| CallContext::new().with_team(id);

    // Each call costs $0.002: two reach the default $0.003 of a team.
    for id in ["ops", "운영팀"] {
        for _ in 0..2 {
            gateway.complete_with(ask("chat"), team(id)).await.unwrap();
        }
        let rejected = gateway.complete_with(ask("chat"), team(id)).await;
        assert!(
            matches!(&rejected, Err(Error::RateLimited { message, .. }) if message.contains("budget of $0.003")),
            "{id}: {rejected:?}"
        );
        let spend = gateway.spend(&LimitScope::Team(id.into())).await.unwrap();
        assert_eq!(spend, usd("0.004"), "{id}");
    }

    // The team with its own budget gets four calls, not two.
    for _ in 0..4 {
        gateway
            .complete_with(ask("chat"), team("research"))
            .await
            .unwrap();
    }
    let rejected = gateway.complete_with(ask("chat"), team("research")).await;
    assert!(
        matches!(&rejected, Err(Error::RateLimited { message, .. }) if message.contains("budget of $0.007")),
        "{rejected:?}"
    );

    // No team and other scope kinds have no budget.
    for _ in 0..3 {
        gateway
            .complete_with(ask("chat"), CallContext::new())
            .await
            .unwrap();
    }
    assert_eq!(
        gateway
            .spend(&LimitScope::Key("anyone".into()))
            .await
            .unwrap(),
        Decimal::ZERO
    );
}

#[tokio::test]
async fn default_budget_set_at_run_time() {
    let setup = setup().await;
    let rule = BudgetRule::new(usd("0.001"), BudgetPeriod::Day);
    setup
        .gateway
        .set_default_budget(llmops_gateway::ScopeKind::User, Some(rule))
        .unwrap();
    let user = || CallContext::new().with_user("alice@example.com");
    setup
        .gateway
        .complete_with(ask("chat"), user())
        .await
        .unwrap();
    let rejected = setup.gateway.complete_with(ask("chat"), user()).await;
    assert!(
        matches!(rejected, Err(Error::RateLimited { .. })),
        "{rejected:?}"
    );

    setup
        .gateway
        .set_default_budget(llmops_gateway::ScopeKind::User, None)
        .unwrap();
    setup
        .gateway
        .complete_with(ask("chat"), user())
        .await
        .unwrap();

    let invalid = BudgetRule::new(Decimal::ZERO, BudgetPeriod::Day);
    let error = setup
        .gateway
        .set_default_budget(llmops_gateway::ScopeKind::Team, Some(invalid))
        .unwrap_err();
    assert!(error.to_string().contains("default team"), "{error}");
}
