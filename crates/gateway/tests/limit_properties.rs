//! Invariants of limits and budgets over random request sequences, on
//! real loopback HTTP: spend equals the sum of recorded costs, and a model
//! over its limit is passed over for an eligible fallback.

use crate::common;

use std::sync::Arc;

use common::*;
use futures::StreamExt;
use llmops_core::pricing::{ModelPrice, PriceTable};
use llmops_core::types::StreamOptions;
use llmops_core::{Error, ModelBackend};
use llmops_gateway::{
    BudgetPeriod, BudgetRule, CallContext, GatewayConfig, LimitRule, LimitScope, ManualClock,
};
use llmops_testkit::{Fault, MockServer, Scenario};
use proptest::prelude::*;
use rust_decimal::Decimal;

const NOON_MS: u64 = 1_796_385_600_000;

/// One request of a generated sequence.
#[derive(Debug, Clone)]
struct Step {
    stream: bool,
    include_usage: bool,
    usage: Option<(u64, u64)>,
    fails: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::option::of((0u64..5_000, 0u64..5_000)),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(stream, include_usage, usage, fails)| Step {
            stream,
            include_usage,
            usage,
            fails,
        })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn run_steps(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mock = MockServer::start().await.unwrap();
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(&mock, "a", "model-a")]));
    let mut prices = PriceTable::new();
    prices.insert(
        "model-a",
        ModelPrice::new("openai", "0.15".parse().unwrap(), "0.6".parse().unwrap()),
    );
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let (gateway, records) = build_with(config, |builder| builder.prices(prices).clock(clock));
    let scopes = [
        LimitScope::Key("k1".into()),
        LimitScope::Team("t1".into()),
        LimitScope::Model("chat".into()),
    ];
    for scope in &scopes {
        gateway
            .set_budget(
                scope.clone(),
                BudgetRule::new(Decimal::ONE_HUNDRED, BudgetPeriod::Month),
            )
            .unwrap();
    }
    let context = || CallContext::new().with_key("k1").with_team("t1");

    for step in steps {
        let scenario = match (step.fails, step.usage) {
            (true, _) => Scenario::error(Fault::status(500, "boom")),
            (false, Some((prompt, completion))) => {
                Scenario::text_chunks(["The capital ", "is Paris."]).with_usage(prompt, completion)
            }
            (false, None) => Scenario::text_chunks(["The capital ", "is Paris."]),
        };
        mock.push_for_model("model-a", scenario);
        let mut request = ask("chat");
        if step.stream {
            request.stream = Some(true);
            if step.include_usage {
                request.stream_options = Some(
                    serde_json::from_str::<StreamOptions>(r#"{"include_usage":true}"#).unwrap(),
                );
            }
            if let Ok(mut stream) = gateway.stream_with(request, context()).await {
                while let Some(chunk) = stream.next().await {
                    chunk.unwrap();
                }
            }
        } else {
            let _ = gateway.complete_with(request, context()).await;
        }
    }
    let recorded: Decimal = records
        .records()
        .iter()
        .filter_map(|record| record.cost_usd)
        .sum();
    for scope in &scopes {
        prop_assert_eq!(gateway.spend(scope).await.unwrap(), recorded, "{}", scope);
    }
    Ok(())
}

/// Sends `requests` to `chat` (falling back to `spare`) under the given
/// per-minute request limits and returns how many each model served and
/// how many were rejected.
async fn route_under_limits(
    requests: usize,
    chat_rpm: u64,
    spare_rpm: Option<u64>,
) -> (usize, usize, usize, u64) {
    let mock = MockServer::start().await.unwrap();
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(lenient_health())
        .model(single_model("chat", vec![openai_on(&mock, "a", "model-a")]).fallbacks(["spare"]))
        .model(single_model(
            "spare",
            vec![openai_on(&mock, "b", "model-b")],
        ));
    let clock = Arc::new(ManualClock::new(NOON_MS));
    let (gateway, records) = build_with(config, |builder| builder.clock(clock));
    gateway
        .set_limit(
            LimitScope::Model("chat".into()),
            LimitRule::new().rpm(chat_rpm),
        )
        .unwrap();
    if let Some(rpm) = spare_rpm {
        gateway
            .set_limit(LimitScope::Model("spare".into()), LimitRule::new().rpm(rpm))
            .unwrap();
    }
    let mut rejected = 0;
    for _ in 0..requests {
        match gateway.complete(ask("chat")).await {
            Ok(_) => {}
            Err(Error::RateLimited { .. }) => rejected += 1,
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    let served = |id: &str| {
        records
            .records()
            .iter()
            .filter(|record| record.deployment.as_deref() == Some(id))
            .count()
    };
    let chat_calls = mock
        .requests()
        .iter()
        .filter(|request| request.model() == Some("model-a"))
        .count() as u64;
    (served("a"), served("b"), rejected, chat_calls)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn spend_equals_sum_of_record_costs(steps in proptest::collection::vec(step(), 1..8)) {
        runtime().block_on(run_steps(steps))?;
    }

    #[test]
    fn over_limit_model_is_passed_over(
        requests in 1usize..10,
        chat_rpm in 1u64..5,
        spare_rpm in proptest::option::of(1u64..5),
    ) {
        let (chat, spare, rejected, chat_calls) =
            runtime().block_on(route_under_limits(requests, chat_rpm, spare_rpm));
        let chat_expected = requests.min(chat_rpm as usize);
        prop_assert_eq!(chat, chat_expected, "chat serves until its limit");
        prop_assert_eq!(chat_calls, chat_expected as u64, "no call beyond the limit");
        let rest = requests - chat_expected;
        let spare_expected = spare_rpm.map_or(rest, |rpm| rest.min(rpm as usize));
        prop_assert_eq!(spare, spare_expected);
        prop_assert_eq!(rejected, rest - spare_expected, "only when no model is eligible");
    }
}
