//! Replays recorded OpenAI streams and bodies through the parser and decoder.

use crate::common;

use common::{assemble, fixture, fixtures_with_extension, replay};
use llmops_core::Error;
use llmops_core::providers::openai::OpenAiStreamDecoder;
use llmops_core::types::{ChatCompletion, FinishReason};

fn replay_file(name: &str) -> ChatCompletion {
    let chunks = replay(&fixture(name), OpenAiStreamDecoder::new("openai")).unwrap();
    assemble(&chunks)
}

#[test]
fn tool_call_stream_assembles() {
    let completion = replay_file("openai/chat_stream_tool_calls_include_usage.sse");
    let choice = &completion.choices[0];
    let calls = choice.message.tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "call_ZR5UUuTt3pf61kjwAJIYdVMj");
    assert_eq!(calls[0].function.name, "get_capital");
    assert_eq!(calls[0].function.arguments, r#"{"country":"UK"}"#);
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));

    let usage = completion.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (53, 15, 68)
    );
}

#[test]
fn tool_call_stream_2025_assembles() {
    let completion = replay_file("openai/chat_stream_tool_calls_include_usage_2025-05.sse");
    let calls = completion.choices[0].message.tool_calls.clone().unwrap();
    assert_eq!(calls[0].function.name, "multiply");
    assert_eq!(calls[0].function.arguments, r#"{"a":1231,"b":2331}"#);
    let usage = completion.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (54, 20, 74)
    );
}

#[test]
fn text_streams_assemble() {
    let completion = replay_file("openai/chat_stream_text_include_usage.sse");
    assert_eq!(completion.text(), "The capital of the UK is London.");
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::Stop)
    );
    let usage = completion.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (78, 9, 87)
    );

    let completion = replay_file("openai/chat_stream_text_after_tool_include_usage_2025-05.sse");
    assert_eq!(
        completion.text(),
        r"The result of \( 1231 \times 2331 \) is \( 2,869,461 \)."
    );
    let usage = completion.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (87, 26, 113)
    );
}

#[test]
fn cached_tokens_stream_usage() {
    let completion = replay_file("openai/chat_stream_cached_tokens_include_usage.sse");
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::Length)
    );
    assert!(
        completion
            .text()
            .starts_with("Structuring a database schema effectively")
    );
    assert_eq!(completion.text().chars().count(), 529);
    let usage = completion.usage.unwrap();
    assert_eq!(usage.prompt_tokens, 1420);
    assert_eq!(usage.cached_tokens(), 1280);
    assert_eq!(usage.completion_tokens, 100);
    assert_eq!(usage.total_tokens, 1520);
}

#[test]
fn azure_stream_tolerated() {
    let chunks = replay(
        &fixture("openai/azure_chat_stream_with_prompt_filter_results.sse"),
        OpenAiStreamDecoder::new("azure"),
    )
    .unwrap();
    assert!(chunks[0].choices.is_empty());
    assert!(chunks[0].extra.contains_key("prompt_filter_results"));
    assert!(
        chunks[1].choices[0]
            .extra
            .contains_key("content_filter_results")
    );
    let completion = assemble(&chunks);
    assert!(
        completion
            .text()
            .starts_with("I'm unable to provide real-time weather updates.")
    );
    assert_eq!(completion.text().chars().count(), 199);
    assert_eq!(completion.usage, None);
}

#[test]
fn unknown_fields_survive_round_trip() {
    let chunks = replay(
        &fixture("openai/chat_stream_tool_calls_include_usage.sse"),
        OpenAiStreamDecoder::new("openai"),
    )
    .unwrap();
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk.extra.contains_key("obfuscation"))
    );
    let reserialized = serde_json::to_value(&chunks[0]).unwrap();
    assert_eq!(reserialized["obfuscation"], "C63r");
}

#[test]
fn every_chat_stream_ends_with_done() {
    let streams: Vec<String> = fixtures_with_extension("openai", ".sse")
        .into_iter()
        .filter(|name| !name.contains("responses_api"))
        .collect();
    assert_eq!(streams.len(), 6);
    for name in streams {
        let chunks = replay(&fixture(&name), OpenAiStreamDecoder::new("openai"))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(!chunks.is_empty(), "{name}");
    }
}

#[test]
fn responses_api_stream_is_rejected_as_malformed() {
    // The Responses API sends `response.*` events, not chat chunks.
    let error = replay(
        &fixture("openai/responses_api_stream_text.sse"),
        OpenAiStreamDecoder::new("openai"),
    )
    .unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
}

#[test]
fn truncated_stream_is_network_error() {
    let body = fixture("openai/chat_stream_text_include_usage.sse");
    let text = String::from_utf8(body).unwrap();
    let cut = text.find("data: [DONE]").unwrap();
    let error = replay(&text.as_bytes()[..cut], OpenAiStreamDecoder::new("openai")).unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error}");
    assert!(error.to_string().contains("stream ended before [DONE]"));
}

#[test]
fn non_stream_bodies_parse() {
    let completion: ChatCompletion =
        serde_json::from_slice(&fixture("openai/chat_completion_tool_calls.json")).unwrap();
    let calls = completion.choices[0].message.tool_calls.as_ref().unwrap();
    assert!(!calls.is_empty());
    assert!(serde_json::from_str::<serde_json::Value>(&calls[0].function.arguments).is_ok());

    let completion: ChatCompletion =
        serde_json::from_slice(&fixture("openai/chat_completion_text.json")).unwrap();
    assert!(!completion.text().is_empty());

    let completion: ChatCompletion =
        serde_json::from_slice(&fixture("openai/chat_completion_cached_tokens.json")).unwrap();
    let usage = completion.usage.unwrap();
    assert_eq!(usage.prompt_tokens, 1220);
    assert_eq!(usage.completion_tokens, 100);
    assert_eq!(usage.cached_tokens(), 1152);
    assert_eq!(completion.service_tier.as_deref(), Some("default"));
}
