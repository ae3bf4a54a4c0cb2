//! The gateway in front of two OpenAI-compatible providers: a task route,
//! a backup deployment taking over from a failing one, the response cache,
//! a per-user rate limit, and the record the gateway writes per request.
//!
//! Run with `cargo run --example gateway`.
//!
//! Both providers are `llmops-testkit` mock servers on 127.0.0.1, so no API
//! key or network is needed. The first one returns 503 for the first
//! request, as a provider in an outage would.

use std::sync::Arc;

use anyhow::ensure;
use llmops_core::Error;
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_gateway::{CallContext, Gateway, GatewayConfig, MemorySink, RequestRecord};
use llmops_testkit::{Fault, MockServer, Scenario};

/// `{primary}` and `{backup}` are replaced with the mock servers' URLs. The
/// backup deployment has weight 0: it gets no first picks, only requests
/// the primary failed.
const CONFIG: &str = r#"
[retry]
retries = 1            # at most 2 calls per deployment per request
max_attempts = 4       # and 4 calls in all
base_delay_ms = 20
max_delay_ms = 100

[[models]]
name = "support"
strategy = "weighted_random"
fallbacks = ["general"] # when every deployment of "support" fails

[[models.deployments]]
id = "primary"
provider = "openai"
model = "gpt-4o-mini"
base_url = "{primary}"

[[models.deployments]]
id = "backup"
provider = "openai"
model = "gpt-4.1-mini"
base_url = "{backup}"
weight = 0

[[models]]
name = "general"

[[models.deployments]]
id = "general-backup"
provider = "openai"
model = "gpt-4.1-mini"
base_url = "{backup}"

[[routes]]
task = "support"
model = "support"

[[limits]]
scope = "user"
id = "trial-user"
rpm = 3                # requests per minute, cache hits included

[cache]
enabled = true         # only requests with temperature 0 are cached
ttl_secs = 60
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let primary = MockServer::start().await?;
    let backup = MockServer::start().await?;
    let reply = "You can return unused items within 30 days for a full refund.";
    primary.set_default(Scenario::text(reply).with_usage(42, 14));
    backup.set_default(Scenario::text(reply).with_usage(42, 14));
    let outage = br#"{"error":{"message":"The server is overloaded","type":"server_error"}}"#;
    primary.push(Scenario::error(Fault::status(503, &outage[..])));

    let toml = CONFIG
        .replace("{primary}", &primary.openai_base_url())
        .replace("{backup}", &backup.openai_base_url());
    let records = Arc::new(MemorySink::new());
    // The mocks need no key, so no OPENAI_API_KEY from the environment is sent.
    let gateway = Gateway::builder(GatewayConfig::from_toml_str(&toml)?)
        .record_sink(records.clone())
        .env(|_| None)
        .build()?;

    let steps = [
        (
            "primary down, the backup answers",
            "What is your refund policy?",
        ),
        (
            "same request again, from the cache",
            "What is your refund policy?",
        ),
        ("primary back", "How long do refunds take?"),
        ("fourth request within a minute", "And for sale items?"),
    ];
    let mut outcomes = Vec::new();
    for (number, (step, question)) in steps.iter().enumerate() {
        let mut request = ChatRequest::new("support", vec![ChatMessage::user(*question)]);
        request.temperature = Some(0.0);
        let context = CallContext::new()
            .with_task("support")
            .with_user("trial-user");
        let result = gateway.complete_with(request, context).await;
        println!("{}. {step}", number + 1);
        match &result {
            Ok(completion) => {
                let text = completion.choices.first().map(|c| c.message.text());
                println!("   reply: {}", text.unwrap_or_default());
            }
            Err(error) => println!("   rejected: {error}"),
        }
        for record in records.take() {
            print_record(&record);
            let rate_limited = matches!(result, Err(Error::RateLimited { .. }));
            outcomes.push((record, rate_limited));
        }
    }

    ensure!(
        outcomes.len() == steps.len(),
        "expected one record per request"
    );
    let outage = &outcomes[0].0;
    let tried: Vec<&str> = outage.attempts.iter().map(|a| &*a.deployment).collect();
    let failed_over = tried == ["primary", "backup"];
    let routed_by_task = outage.route.task.as_deref() == Some("support");
    let recovered = outcomes[2].0.deployment.as_deref() == Some("primary");
    ensure!(
        failed_over,
        "expected primary, then backup, but tried {tried:?}"
    );
    ensure!(routed_by_task, "the task route was not used");
    ensure!(
        outcomes[1].0.cache_hit,
        "the repeated request missed the cache"
    );
    ensure!(recovered, "the primary did not recover");
    ensure!(outcomes[3].1, "request 4 was not rate limited");
    ensure!(
        backup.request_count() == 1,
        "the backup got calls after the outage"
    );
    let stats = gateway.cache_stats().await?;
    let (hits, misses) = (stats.hits, stats.misses);
    println!(
        "\nResponse cache: hits {hits}, misses {misses}, entries {}.",
        stats.entries
    );
    Ok(())
}

/// Prints the gateway's record of one request: route, attempts and cost.
fn print_record(record: &RequestRecord) {
    let route = &record.route;
    println!(
        "   route: {} -> {} ({})",
        route.requested_model, route.model, route.reason
    );
    for attempt in &record.attempts {
        let outcome = match (&attempt.error_class, &attempt.error) {
            (Some(class), Some(error)) => format!("failed, {class}: {error}"),
            _ => "ok".to_owned(),
        };
        println!(
            "   attempt {} ({}): {outcome}",
            attempt.deployment, attempt.model
        );
    }
    let source = match (&record.deployment, record.cache_hit) {
        (_, true) => "served from the cache".to_owned(),
        (Some(deployment), false) => format!("served by {deployment}"),
        (None, false) => "no provider called".to_owned(),
    };
    let tokens = match &record.usage {
        Some(usage) => format!(
            "{} + {} tokens",
            usage.prompt_tokens, usage.completion_tokens
        ),
        None => "no usage".to_owned(),
    };
    let cost = match record.cost_usd {
        Some(usd) => format!("${usd}"),
        None => "none".to_owned(),
    };
    println!(
        "   {source}, {tokens}, cost {cost}, {:.0} ms",
        record.latency_ms
    );
}
