//! Routing, fallback and retries over real HTTP to the mock provider.

use crate::common;

use std::collections::HashMap;

use common::*;
use llmops_core::Error;
use llmops_gateway::{CallContext, GatewayConfig, ModelConfig, RequestStatus, Strategy};
use llmops_testkit::{Fault, MockServer, Scenario};

#[tokio::test]
async fn rate_limited_deployment_falls_over_to_the_next() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model(
        "model-a",
        Scenario::error(Fault::RateLimit {
            retry_after_s: None,
        }),
    );
    mock.always_for_model("model-b", Scenario::text("Paris."));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![
                openai_on(&mock, "a", "model-a").weight(1_000_000),
                openai_on(&mock, "b", "model-b").weight(1),
            ],
        ));
    let (gateway, records) = build(config);
    let completion = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap();
    assert_eq!(completion.choices[0].message.text(), "Paris.");
    let record = &records.records()[0];
    assert!(record.succeeded());
    assert_eq!(record.deployment.as_deref(), Some("b"));
    let tried: Vec<&str> = record
        .attempts
        .iter()
        .map(|a| a.deployment.as_str())
        .collect();
    assert_eq!(tried, ["a", "b"]);
    assert!(
        record.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("rate limited")
    );
    assert_eq!(record.route.reason, "model name");
}

#[tokio::test]
async fn model_fallback_chain_runs_after_every_deployment_failed() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("primary", Scenario::error(Fault::AnthropicOverloaded));
    mock.always_for_model("backup", Scenario::text("from backup"));
    let config = GatewayConfig::new()
        .retry(quick_retry(1, 10))
        .health(lenient_health())
        .model(single_model("chat", vec![anthropic_on(&mock, "p", "primary")]).fallbacks(["spare"]))
        .model(single_model("spare", vec![openai_on(&mock, "s", "backup")]));
    let (gateway, records) = build(config);
    let completion = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap();
    assert_eq!(completion.choices[0].message.text(), "from backup");
    let record = &records.records()[0];
    let tried: Vec<(&str, &str)> = record
        .attempts
        .iter()
        .map(|a| (a.deployment.as_str(), a.model.as_str()))
        .collect();
    // One retry of the overloaded deployment, then the fallback model.
    assert_eq!(tried, [("p", "chat"), ("p", "chat"), ("s", "spare")]);
}

#[tokio::test]
async fn context_length_error_goes_to_the_larger_window_only() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("small", Scenario::error(Fault::ContextLengthExceeded));
    mock.always_for_model("other", Scenario::text("wrong model"));
    mock.always_for_model("large", Scenario::text("fits"));
    let config = GatewayConfig::new()
        .retry(quick_retry(2, 10))
        .health(lenient_health())
        .model(
            single_model("chat", vec![openai_on(&mock, "small", "small")])
                .fallbacks(["other"])
                .context_window_fallbacks(["long"]),
        )
        .model(single_model(
            "other",
            vec![openai_on(&mock, "other", "other")],
        ))
        .model(single_model(
            "long",
            vec![openai_on(&mock, "large", "large")],
        ));
    let (gateway, records) = build(config);
    let completion = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap();
    assert_eq!(completion.choices[0].message.text(), "fits");
    let record = &records.records()[0];
    let tried: Vec<&str> = record
        .attempts
        .iter()
        .map(|a| a.deployment.as_str())
        .collect();
    assert_eq!(
        tried,
        ["small", "large"],
        "no retry of a context-length error"
    );
}

#[tokio::test]
async fn authentication_error_returns_at_once() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("model-a", Scenario::error(Fault::Unauthorized));
    mock.always_for_model("model-b", Scenario::text("never"));
    let config = GatewayConfig::new()
        .retry(quick_retry(3, 10))
        .health(lenient_health())
        .model(
            single_model(
                "chat",
                vec![
                    openai_on(&mock, "a", "model-a").weight(1_000_000),
                    openai_on(&mock, "b", "model-b").weight(1),
                ],
            )
            .fallbacks(["chat2"]),
        )
        .model(single_model(
            "chat2",
            vec![openai_on(&mock, "c", "model-b")],
        ));
    let (gateway, records) = build(config);
    let error = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Authentication { .. }), "{error}");
    assert_eq!(mock.request_count(), 1);
    let record = &records.records()[0];
    assert!(
        matches!(&record.status, RequestStatus::Error { class, .. } if class == "authentication")
    );
    assert_eq!(record.attempts.len(), 1);
}

#[tokio::test]
async fn server_errors_stop_at_the_attempt_bounds() {
    let mock = MockServer::start().await.unwrap();
    let body = r#"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#;
    mock.set_default(Scenario::error(Fault::status(500, body)));
    let config = GatewayConfig::new()
        .retry(quick_retry(2, 100))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![openai_on(&mock, "a", "m1"), openai_on(&mock, "b", "m2")],
        ));
    let (gateway, records) = build(config.clone());
    let error = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::UpstreamServer { status: 500, .. }),
        "{error}"
    );
    // retries + 1 = 3 attempts on each of 2 deployments.
    assert_eq!(records.records()[0].attempts.len(), 6);
    assert_eq!(mock.request_count(), 6);

    let (gateway, records) = build(config.retry(quick_retry(2, 4)));
    gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap_err();
    assert_eq!(
        records.records()[0].attempts.len(),
        4,
        "max_attempts bounds the total"
    );
}

#[tokio::test]
async fn retry_after_longer_than_the_cap_skips_the_deployment() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model(
        "slow-to-recover",
        Scenario::error(Fault::RateLimit {
            retry_after_s: Some(3_600),
        }),
    );
    let config = GatewayConfig::new()
        .retry(quick_retry(5, 20))
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![openai_on(&mock, "a", "slow-to-recover")],
        ));
    let (gateway, records) = build(config);
    let error = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap_err();
    assert_eq!(
        error.retry_after(),
        Some(std::time::Duration::from_secs(3_600))
    );
    assert_eq!(
        records.records()[0].attempts.len(),
        1,
        "no wait of an hour, no retry"
    );
}

#[tokio::test]
async fn failing_deployment_is_ejected_while_another_serves() {
    let mock = MockServer::start().await.unwrap();
    let body = r#"{"error":{"message":"down","type":"server_error","param":null,"code":null}}"#;
    mock.always_for_model("broken", Scenario::error(Fault::status(503, body)));
    mock.always_for_model("fine", Scenario::text("ok"));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(llmops_gateway::HealthPolicy {
            window_secs: 60,
            min_requests: 3,
            failure_ratio: 0.5,
            slow_ms: 0,
            cooldown_secs: 600,
            check: None,
        })
        .model(
            single_model(
                "chat",
                vec![
                    openai_on(&mock, "broken", "broken"),
                    openai_on(&mock, "fine", "fine"),
                ],
            )
            .strategy(Strategy::WeightedRandom),
        );
    let (gateway, records) = build(config);
    for _ in 0..40 {
        gateway
            .complete_with(ask("chat"), CallContext::new())
            .await
            .unwrap();
    }
    let broken_calls = mock
        .requests()
        .iter()
        .filter(|request| request.model() == Some("broken"))
        .count();
    assert_eq!(
        broken_calls, 3,
        "ejected after min_requests failures, then never called"
    );
    let health: HashMap<String, _> = gateway.health().into_iter().collect();
    assert_eq!(health["broken"], llmops_gateway::HealthState::Ejected);
    assert!(records.records().iter().all(|record| record.succeeded()));
}

#[tokio::test]
async fn every_deployment_ejected_gives_overloaded_from_the_gateway() {
    let mock = MockServer::start().await.unwrap();
    let body = r#"{"error":{"message":"down","type":"server_error","param":null,"code":null}}"#;
    mock.set_default(Scenario::error(Fault::status(502, body)));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 4))
        .health(llmops_gateway::HealthPolicy {
            min_requests: 1,
            cooldown_secs: 600,
            ..Default::default()
        })
        .model(single_model("chat", vec![openai_on(&mock, "only", "m")]));
    let (gateway, _records) = build(config);
    gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap_err();
    let error = gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Overloaded { provider, .. } if provider == "llmops-gateway"),
        "{error}"
    );
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn residency_tag_keeps_requests_on_tagged_deployments() {
    let mock = MockServer::start().await.unwrap();
    mock.set_default(Scenario::text("ok"));
    let config = GatewayConfig::new()
        .health(lenient_health())
        .model(single_model(
            "chat",
            vec![
                openai_on(&mock, "cloud", "cloud-model").weight(100),
                openai_on(&mock, "onprem", "onprem-model")
                    .tags(["on_prem"])
                    .weight(1),
            ],
        ))
        .model(single_model(
            "cloud-only",
            vec![openai_on(&mock, "c2", "cloud-model")],
        ));
    let (gateway, records) = build(config);
    let context = CallContext::new().require_tag("on_prem");
    for _ in 0..20 {
        gateway
            .complete_with(ask("chat"), context.clone())
            .await
            .unwrap();
    }
    assert!(
        records
            .take()
            .iter()
            .all(|r| r.deployment.as_deref() == Some("onprem"))
    );

    let before = mock.request_count();
    let error = gateway
        .complete_with(ask("cloud-only"), context)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("on_prem"), "{error}");
    assert_eq!(mock.request_count(), before, "nothing left the boundary");
}

#[tokio::test]
async fn usage_and_cost_are_recorded() {
    let mock = MockServer::start().await.unwrap();
    mock.set_default(Scenario::text("Paris.").with_usage(1_000, 100));
    let config = GatewayConfig::new().model(single_model(
        "chat",
        vec![openai_on(&mock, "mini", "gpt-4o-mini")],
    ));
    let (gateway, records) = build(config);
    gateway
        .complete_with(ask("chat"), CallContext::new())
        .await
        .unwrap();
    let record = &records.records()[0];
    assert_eq!(record.usage.as_ref().unwrap().prompt_tokens, 1_000);
    assert!(!record.usage_estimated);
    // gpt-4o-mini: $0.15 per million input, $0.60 per million output.
    assert_eq!(record.cost_usd.unwrap().to_string(), "0.00021");
}

#[tokio::test]
async fn unknown_model_is_an_error_with_the_served_names() {
    let mock = MockServer::start().await.unwrap();
    let config = GatewayConfig::new().model(single_model("chat", vec![openai_on(&mock, "a", "m")]));
    let (gateway, records) = build(config);
    let error = gateway
        .complete_with(ask("gpt-9"), CallContext::new())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UnknownModel { .. }), "{error}");
    assert!(error.to_string().contains("chat"), "{error}");
    assert_eq!(mock.request_count(), 0);
    assert_eq!(
        records.records().len(),
        1,
        "failed requests are recorded too"
    );
}

#[tokio::test]
async fn task_tag_routes_and_is_recorded() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("summarizer", Scenario::text("short"));
    let config = GatewayConfig::new()
        .model(single_model("chat", vec![openai_on(&mock, "a", "general")]))
        .model(ModelConfig::new("sum").deployment(openai_on(&mock, "s", "summarizer")))
        .route("summarize", "sum");
    let (gateway, records) = build(config);
    let context = CallContext::new().with_task("summarize");
    let completion = gateway.complete_with(ask("chat"), context).await.unwrap();
    assert_eq!(completion.choices[0].message.text(), "short");
    let route = &records.records()[0].route;
    assert_eq!(
        (route.model.as_str(), route.task.as_deref()),
        ("sum", Some("summarize"))
    );
    assert_eq!(mock.last_request().unwrap().model(), Some("summarizer"));
}

/// The routing hint in `metadata` stays in the gateway unless a deployment
/// sets `forward_metadata`.
#[tokio::test]
async fn metadata_goes_upstream_only_when_forwarded() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model("summarizer", Scenario::text("short"));
    mock.always_for_model("archivist", Scenario::text("stored"));
    let config = GatewayConfig::new()
        .model(ModelConfig::new("sum").deployment(openai_on(&mock, "s", "summarizer")))
        .model(
            ModelConfig::new("kept")
                .deployment(openai_on(&mock, "k", "archivist").forward_metadata(true)),
        )
        .route("summarize", "sum");
    let (gateway, _records) = build(config);
    let mut request = ask("chat");
    request.metadata = Some(
        serde_json::json!({"task": "summarize", "team": 7, "요약": "예"})
            .as_object()
            .unwrap()
            .clone(),
    );
    gateway
        .complete_with(request.clone(), CallContext::new())
        .await
        .unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.model(), Some("summarizer"), "routed by metadata.task");
    assert!(sent.json.as_ref().unwrap().get("metadata").is_none());

    request.model = "kept".to_owned();
    request.metadata.as_mut().unwrap().remove("task");
    gateway
        .complete_with(request, CallContext::new())
        .await
        .unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.model(), Some("archivist"));
    assert_eq!(
        sent.json.as_ref().unwrap()["metadata"],
        serde_json::json!({"team": 7, "요약": "예"})
    );
}

#[tokio::test]
async fn fallbacks_chain_and_cycles_end() {
    let mock = MockServer::start().await.unwrap();
    mock.always_for_model(
        "ma",
        Scenario::error(Fault::RateLimit {
            retry_after_s: None,
        }),
    );
    mock.always_for_model(
        "mb",
        Scenario::error(Fault::RateLimit {
            retry_after_s: None,
        }),
    );
    mock.always_for_model("mc", Scenario::text("from c"));
    let config = GatewayConfig::new()
        .retry(quick_retry(0, 10))
        .health(lenient_health())
        .model(single_model("a", vec![openai_on(&mock, "a1", "ma")]).fallbacks(["b"]))
        .model(single_model("b", vec![openai_on(&mock, "b1", "mb")]).fallbacks(["a", "c"]))
        .model(single_model("c", vec![openai_on(&mock, "c1", "mc")]));
    let (gateway, records) = build(config);
    let completion = gateway
        .complete_with(ask("a"), CallContext::new())
        .await
        .unwrap();
    assert_eq!(completion.choices[0].message.text(), "from c");
    let tried: Vec<String> = records.records()[0]
        .attempts
        .iter()
        .map(|attempt| attempt.deployment.clone())
        .collect();
    assert_eq!(tried, ["a1", "b1", "c1"], "a is not tried twice");
}
