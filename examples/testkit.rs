//! Fault injection with `llmops-testkit`: a mock OpenAI-compatible server
//! on 127.0.0.1 sends error replies like those of real providers, and
//! llmops-core's OpenAI backend turns each into a typed error with a retry
//! hint and a fallback class.
//!
//! Run with `cargo run --example testkit`.
//!
//! The same mock backs the gateway example and the gateway's tests; point
//! any OpenAI client at `MockServer::openai_base_url()` to test it the
//! same way.

use std::time::Duration;

use anyhow::ensure;
use futures::StreamExt;
use llmops_core::providers::openai::{OpenAiBackend, OpenAiConfig};
use llmops_core::types::{ChatMessage, ChatRequest};
use llmops_core::{Fallback, ModelBackend};
use llmops_testkit::{Fault, MockServer, Scenario};

const KEY: &str = "sk-mock-key";
const UNAVAILABLE: &str = r#"{"error":{"message":"Service unavailable","type":"server_error"}}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mock = MockServer::builder().require_api_key(KEY).start().await?;
    let config = OpenAiConfig::new()
        .base_url(mock.openai_base_url())
        .api_key(KEY)
        .first_token_timeout(Duration::from_millis(300));
    let backend = OpenAiBackend::new(config)?;
    let ask = || ChatRequest::new("gpt-4o-mini", vec![ChatMessage::user("Capital of France?")]);

    // Each queued scenario is the reply to one request, in order.
    let rate_limit = Scenario::error(Fault::RateLimit {
        retry_after_s: Some(2),
    });
    let unavailable = Scenario::error(Fault::status(503, UNAVAILABLE));
    let too_long = Scenario::error(Fault::ContextLengthExceeded);
    let slow = Scenario::text("late").latency(Duration::from_secs(2));
    let faults = [
        ("429 with Retry-After: 2", rate_limit),
        ("503 service unavailable", unavailable),
        ("400 context window exceeded", too_long),
        ("no response head for 2 s", slow),
    ];
    let mut classes = Vec::new();
    for (name, scenario) in faults {
        mock.push(scenario);
        let Err(error) = backend.complete(ask()).await else {
            anyhow::bail!("the fault {name:?} did not fail the call");
        };
        let wait = error
            .retry_after()
            .map_or("-".to_owned(), |d| format!("{d:?}"));
        let (class, retry) = (error.class(), error.retry_may_help());
        row(
            name,
            format!("{class}, retry may help: {retry}, wait {wait}"),
        );
        row("", format!("fallback: {:?}", error.fallback()));
        classes.push((class, error.fallback()));
    }

    // A stream cut after three events fails part-way, after some text.
    mock.push(Scenario::text("Paris is the capital of France.").disconnect_after(3));
    let mut request = ask();
    request.stream = Some(true);
    let mut stream = backend.stream(request).await?;
    let (mut text, mut failure) = (String::new(), None);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => text.push_str(chunk.delta_text().unwrap_or_default()),
            Err(error) => failure = Some(error.class()),
        }
    }
    let ended = failure.unwrap_or("no error");
    row(
        "stream cut after 3 events",
        format!("{ended} after {text:?}"),
    );

    // A wrong key gets the provider's 401, which no retry or fallback fixes.
    let url = mock.openai_base_url();
    let wrong_key = OpenAiConfig::new().base_url(url).api_key("sk-wrong");
    let auth = OpenAiBackend::new(wrong_key)?.complete(ask()).await;
    let Err(auth) = auth else {
        anyhow::bail!("a wrong API key was accepted");
    };
    let (auth_class, auth_fallback) = (auth.class(), auth.fallback());
    row(
        "wrong API key",
        format!("{auth_class}, fallback: {auth_fallback:?}"),
    );

    // A healthy reply carries the text and usage the scenario sets.
    mock.push(Scenario::text("Paris.").with_usage(9, 2));
    let completion = backend.complete(ask()).await?;
    let reply = completion.choices.first().map(|c| c.message.text());
    let reply = reply.unwrap_or_default();
    let usage = completion.usage.unwrap_or_default();
    let (prompt_tokens, completion_tokens) = (usage.prompt_tokens, usage.completion_tokens);
    row(
        "healthy reply",
        format!("{reply:?}, {prompt_tokens} + {completion_tokens} tokens"),
    );
    println!("\nThe mock received {} requests.", mock.request_count());

    let expected = [
        ("rate_limited", Fallback::AnyDeployment),
        ("overloaded", Fallback::AnyDeployment),
        ("context_length_exceeded", Fallback::LargerContextWindow),
        ("timeout", Fallback::AnyDeployment),
    ];
    ensure!(classes == expected, "unexpected error classes {classes:?}");
    ensure!(ended == "network", "the cut stream ended with {ended}");
    ensure!(
        auth_class == "authentication",
        "a wrong key gave {auth_class}"
    );
    ensure!(
        auth_fallback == Fallback::None,
        "no fallback fixes a wrong key"
    );
    ensure!(
        reply == "Paris." && (prompt_tokens, completion_tokens) == (9, 2),
        "unexpected reply {reply:?}"
    );
    Ok(())
}

/// Prints one outcome after its scenario name, aligned.
fn row(name: &str, outcome: String) {
    println!("{name:<28} {outcome}");
}
