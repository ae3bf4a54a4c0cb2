//! Active health checks against the mock provider over loopback HTTP, on a
//! paused Tokio clock. A failing or hanging deployment is ejected, and a
//! passing check restores it before its cooldown. Checks follow the
//! interval and stop with the gateway or the server.
//!
//! The clock is paused, so time moves only through `tokio::time::advance`.
//! `settle_until` yields instead of sleeping, which keeps the runtime busy
//! so that it never skips ahead to a pending check timeout by itself while
//! loopback I/O is still under way.

use crate::common;
#[cfg(feature = "server")]
use crate::server_support;

use std::time::Duration;

use common::*;
use llmops_core::{Error, ModelBackend};
use llmops_gateway::{Gateway, GatewayConfig, HealthCheckConfig, HealthState};
use llmops_testkit::{Fault, MockServer, Scenario};

/// Yields to the runtime until `done` holds, without moving the paused
/// clock.
///
/// # Panics
///
/// When `done` still fails after many rounds of yielding.
async fn settle_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("still waiting for {what}");
}

/// Yields to the runtime for a while, so that work that is due can run.
async fn settle() {
    for _ in 0..2_000 {
        tokio::task::yield_now().await;
    }
}

fn state_of(gateway: &Gateway, id: &str) -> HealthState {
    gateway
        .health()
        .into_iter()
        .find(|(deployment, _)| deployment == id)
        .map(|(_, state)| state)
        .unwrap()
}

fn every_30s() -> HealthCheckConfig {
    HealthCheckConfig::new(Duration::from_secs(30), Duration::from_secs(5))
}

fn checked_config(mock: &MockServer) -> GatewayConfig {
    GatewayConfig::new()
        .retry(quick_retry(0, 1))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![openai_on(mock, "a", "model-a").health_check(every_30s())],
        ))
}

#[tokio::test(start_paused = true)]
async fn failing_check_ejects_and_passing_check_restores() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::error(Fault::status(500, "{}")));
    let (gateway, records) = build(checked_config(&mock));

    // The first check runs at once, and one failure ejects, whatever
    // min_requests is.
    settle_until("the failed check", || {
        state_of(&gateway, "a") == HealthState::Ejected
    })
    .await;
    assert_eq!(mock.request_count(), 1);
    let check = mock.last_request().unwrap().json.unwrap();
    assert_eq!(check["model"], "model-a");
    assert_eq!(check["max_tokens"], 1);
    assert_eq!(check["messages"][0]["content"], "ping");
    let counters = gateway.counters();
    assert_eq!(counters.health_checks_failed.get("a"), Some(&1));
    assert_eq!(counters.ejections.get("a"), Some(&1));
    assert!(records.records().is_empty(), "checks are not requests");

    // Traffic is not sent to the ejected deployment.
    let refused = gateway.complete(ask("chat")).await;
    assert!(
        matches!(refused, Err(Error::Overloaded { .. })),
        "{refused:?}"
    );
    assert_eq!(mock.request_count(), 1);

    // The next check waits for the interval.
    mock.reset();
    mock.always_for_model("model-a", Scenario::text("pong"));
    tokio::time::advance(Duration::from_secs(29)).await;
    settle().await;
    assert_eq!(mock.request_count(), 1);
    assert_eq!(state_of(&gateway, "a"), HealthState::Ejected);

    // The breaker's 30 s cooldown runs on the wall clock, which has not
    // moved, so only the passing check can restore the deployment.
    tokio::time::advance(Duration::from_secs(1)).await;
    settle_until("the passed check", || {
        state_of(&gateway, "a") == HealthState::Healthy
    })
    .await;
    assert_eq!(mock.request_count(), 2);
    assert_eq!(gateway.counters().health_checks_passed.get("a"), Some(&1));
    let served = gateway.complete(ask("chat")).await.unwrap();
    assert_eq!(served.text(), "pong");
}

#[tokio::test(start_paused = true)]
async fn hanging_check_fails_at_its_timeout() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::hang());
    let (gateway, _) = build(checked_config(&mock));
    settle_until("the check to arrive", || mock.request_count() == 1).await;

    tokio::time::advance(Duration::from_secs(4)).await;
    settle().await;
    assert_eq!(state_of(&gateway, "a"), HealthState::Healthy);
    assert!(gateway.counters().health_checks_failed.is_empty());

    tokio::time::advance(Duration::from_secs(1)).await;
    settle_until("the timeout", || {
        state_of(&gateway, "a") == HealthState::Ejected
    })
    .await;
    assert_eq!(gateway.counters().health_checks_failed.get("a"), Some(&1));
}

#[tokio::test(start_paused = true)]
async fn rejected_parameter_still_passes() {
    let mock = MockServer::start().await.unwrap();
    // A 400 shows that the upstream responds. Only errors that would eject
    // a deployment during traffic fail a check.
    mock.always_for_model("model-a", Scenario::error(Fault::ContextLengthExceeded));
    let (gateway, _) = build(checked_config(&mock));
    settle_until("the check", || {
        !gateway.counters().health_checks_passed.is_empty()
    })
    .await;
    assert_eq!(state_of(&gateway, "a"), HealthState::Healthy);

    mock.reset();
    mock.always_for_model("model-a", Scenario::error(Fault::Unauthorized));
    tokio::time::advance(Duration::from_secs(30)).await;
    settle_until("the failed check", || {
        state_of(&gateway, "a") == HealthState::Ejected
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn default_check_unless_opted_out() {
    let mock = MockServer::start().await.unwrap();
    let config = GatewayConfig::from_toml_str(&format!(
        r#"
        [health]
        min_requests = 1000
        check = {{ interval = "10s", timeout = "1s" }}

        [[models]]
        name = "chat"

        [[models.deployments]]
        id = "checked"
        provider = "openai"
        model = "model-a"
        base_url = "{base}"

        [[models.deployments]]
        id = "exempt"
        provider = "openai"
        model = "model-b"
        base_url = "{base}"
        health_check = {{ enabled = false }}
        "#,
        base = mock.openai_base_url()
    ))
    .unwrap();
    let (gateway, _) = build(config);
    for round in 1..=3u64 {
        settle_until("a check round", || mock.request_count() == round).await;
        settle().await;
        assert_eq!(mock.request_count(), round, "one check per interval");
        tokio::time::advance(Duration::from_secs(10)).await;
    }
    let models: Vec<String> = mock
        .requests()
        .iter()
        .map(|request| request.json.as_ref().unwrap()["model"].to_string())
        .collect();
    assert_eq!(models, ["\"model-a\""; 3]);
    assert_eq!(
        gateway.counters().health_checks_passed.get("checked"),
        Some(&3)
    );
}

#[tokio::test(start_paused = true)]
async fn checks_stop_with_the_gateway() {
    let mock = MockServer::start().await.unwrap();
    let (stopped, _) = build(checked_config(&mock));
    settle_until("the first check", || mock.request_count() == 1).await;
    stopped.stop_health_checks();
    tokio::time::advance(Duration::from_secs(90)).await;
    settle().await;
    assert_eq!(mock.request_count(), 1, "stopped explicitly");

    let other = MockServer::start().await.unwrap();
    let (dropped, _) = build(checked_config(&other));
    settle_until("the first check", || other.request_count() == 1).await;
    drop(dropped);
    tokio::time::advance(Duration::from_secs(90)).await;
    settle().await;
    assert_eq!(other.request_count(), 1, "stopped with the last clone");
}

#[test]
fn gateway_built_outside_a_runtime_runs_no_checks() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mock = runtime.block_on(MockServer::start()).unwrap();
    let (gateway, _) = build(checked_config(&mock));
    runtime.block_on(async {
        settle().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    });
    assert_eq!(mock.request_count(), 0);
    drop(gateway);
}

#[cfg(feature = "server")]
#[tokio::test(start_paused = true)]
async fn server_shutdown_stops_checks() {
    let mock = MockServer::start().await.unwrap();
    let (gateway, _) = build(checked_config(&mock));
    let server =
        server_support::start(llmops_gateway::server::Server::builder(gateway.clone())).await;
    settle_until("the first check", || mock.request_count() == 1).await;
    server.stop().await.unwrap();
    tokio::time::advance(Duration::from_secs(90)).await;
    settle().await;
    assert_eq!(mock.request_count(), 1);
    // The caller's clone still routes; only the checks stopped.
    gateway.complete(ask("chat")).await.unwrap();
}
