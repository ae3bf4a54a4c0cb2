//! Replays recorded Anthropic streams and bodies through the parser and the
//! conversion into OpenAI chunks.

use crate::common;

use common::{assemble, fixture, fixtures_with_extension, replay};
use llmops_core::Error;
use llmops_core::providers::anthropic::AnthropicStreamDecoder;
use llmops_core::providers::{DecoderStatus, StreamDecoder};
use llmops_core::sse::SseEvent;
use llmops_core::types::{ChatCompletion, ChatCompletionChunk, FinishReason, Role};

fn replay_file(name: &str) -> (Vec<ChatCompletionChunk>, ChatCompletion) {
    let chunks = replay(
        &fixture(name),
        AnthropicStreamDecoder::new("anthropic", true),
    )
    .unwrap();
    let completion = assemble(&chunks);
    (chunks, completion)
}

#[test]
fn text_stream_converts() {
    let (chunks, completion) = replay_file("anthropic/messages_stream_text.sse");
    assert_eq!(chunks[0].choices[0].delta.role, Some(Role::Assistant));
    assert_eq!(chunks[0].id, "msg_01T8kTq7cYyYJeQ5DxcVUc6D");
    assert_eq!(chunks[0].model, "claude-haiku-4-5-20251001");
    assert_eq!(completion.text(), "Hello");
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::Stop)
    );

    // message_delta repeats input 10; output 4 replaces the 2 of message_start.
    let usage = completion.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (10, 4, 14)
    );
    assert_eq!(usage.cached_tokens(), 0);
    assert_eq!(usage.cache_creation_tokens(), 0);
}

#[test]
fn usage_chunk_is_last_and_has_no_choices() {
    let (chunks, _) = replay_file("anthropic/messages_stream_text.sse");
    let last = chunks.last().unwrap();
    assert!(last.choices.is_empty());
    assert!(last.usage.is_some());
    assert_eq!(
        chunks.iter().filter(|chunk| chunk.usage.is_some()).count(),
        1
    );
}

#[test]
fn no_usage_chunk_unless_requested() {
    let chunks = replay(
        &fixture("anthropic/messages_stream_text.sse"),
        AnthropicStreamDecoder::new("anthropic", false),
    )
    .unwrap();
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk.usage.is_none() && !chunk.choices.is_empty())
    );
}

#[test]
fn cache_write_stream_usage() {
    let (_, completion) = replay_file("anthropic/messages_stream_cache_write.sse");
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::Length)
    );
    assert!(
        completion
            .text()
            .starts_with("Here are the key principles for designing scalable systems:")
    );
    assert_eq!(completion.text().len(), 438);
    let usage = completion.usage.unwrap();
    assert_eq!(usage.prompt_tokens, 18 + 1031);
    assert_eq!(usage.cache_creation_tokens(), 1031);
    assert_eq!(usage.cached_tokens(), 0);
    assert_eq!(usage.completion_tokens, 100);
    assert_eq!(usage.total_tokens, 18 + 1031 + 100);
}

#[test]
fn cache_read_stream_usage() {
    let (_, completion) = replay_file("anthropic/messages_stream_cache_read.sse");
    let usage = completion.usage.unwrap();
    assert_eq!(usage.prompt_tokens, 11 + 1031);
    assert_eq!(usage.cached_tokens(), 1031);
    assert_eq!(usage.cache_creation_tokens(), 0);
    assert_eq!(usage.completion_tokens, 100);
}

#[test]
fn text_then_tool_use_stream() {
    let (chunks, completion) =
        replay_file("anthropic/messages_stream_text_then_tool_use_claude3opus.sse");
    assert!(
        completion
            .text()
            .starts_with("<thinking>\nThe get_weather tool is relevant")
    );
    assert_eq!(completion.text().len(), 375);
    let choice = &completion.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    let calls = choice.message.tool_calls.as_ref().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "toolu_01DYJo37oETVsCdLTTcCWcdq");
    assert_eq!(calls[0].kind, "function");
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(
        calls[0].function.arguments,
        r#"{"location": "San Francisco, CA"}"#
    );

    // The tool block is content block 1, but the first tool call: index 0.
    let fragments: Vec<_> = chunks
        .iter()
        .flat_map(|chunk| chunk.choices.iter())
        .filter_map(|choice| choice.delta.tool_calls.as_ref())
        .flatten()
        .collect();
    assert!(fragments.iter().all(|fragment| fragment.index == 0));
    assert_eq!(
        fragments[0].id.as_deref(),
        Some("toolu_01DYJo37oETVsCdLTTcCWcdq")
    );
    assert!(fragments[1..].iter().all(|fragment| fragment.id.is_none()));

    // 2024 usage has only input and output tokens.
    let usage = completion.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (599, 135));
    assert_eq!(usage.prompt_tokens_details, None);
}

#[test]
fn tool_use_without_arguments_gets_empty_object() {
    let (_, completion) = replay_file("anthropic/messages_stream_tool_use.sse");
    let calls = completion.choices[0].message.tool_calls.as_ref().unwrap();
    assert_eq!(calls[0].function.name, "pelican_name_generator");
    assert_eq!(calls[0].function.arguments, "{}");
    let usage = completion.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (543, 40));
}

#[test]
fn thinking_blocks_skipped() {
    let (_, completion) = replay_file("anthropic/messages_stream_thinking.sse");
    assert_eq!(
        completion.text(),
        "1. **Pouch** - references their iconic bill pouch\n2. **Pelé** - playful take on \"pelican\""
    );
    assert!(!completion.text().contains("The user wants"));
    let usage = completion.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (46, 133));
}

#[test]
fn every_recorded_stream_finishes() {
    let streams = fixtures_with_extension("anthropic", ".sse");
    assert_eq!(streams.len(), 6);
    for name in streams {
        let chunks = replay(
            &fixture(&name),
            AnthropicStreamDecoder::new("anthropic", true),
        )
        .unwrap_or_else(|error| panic!("{name}: {error}"));
        let finish = assemble(&chunks).choices[0].finish_reason.clone();
        assert!(finish.is_some(), "{name} has no finish reason");
    }
}

#[test]
fn truncated_stream_is_network_error() {
    let text = String::from_utf8(fixture("anthropic/messages_stream_text.sse")).unwrap();
    let cut = text.find("event: message_stop").unwrap();
    let error = replay(
        &text.as_bytes()[..cut],
        AnthropicStreamDecoder::new("anthropic", true),
    )
    .unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error}");
    assert!(error.to_string().contains("message_stop"), "{error}");
}

#[test]
fn mid_stream_error_event_maps_by_type() {
    let rows =
        std::fs::read_to_string(common::fixture_path("errors_from_github_issues.jsonl")).unwrap();
    let row: serde_json::Value = rows
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|row| row["transport"] == "sse_error_event")
        .unwrap();
    let event = SseEvent {
        event: Some("error".to_owned()),
        data: row["body"].as_str().unwrap().to_owned(),
        ..SseEvent::default()
    };
    let mut decoder = AnthropicStreamDecoder::new("anthropic", true);
    let mut out = Vec::new();
    let error = decoder.decode(&event, &mut out).unwrap_err();
    assert!(matches!(error, Error::Overloaded { .. }), "{error}");
    assert!(error.retry_may_help());
}

#[test]
fn unknown_event_types_tolerated() {
    let mut decoder = AnthropicStreamDecoder::new("anthropic", false);
    let mut out = Vec::new();
    for data in [
        r#"{"type":"future_event","payload":1}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"x"}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{}}}"#,
        r#"{"type":"ping"}"#,
    ] {
        let status = decoder.decode(&SseEvent::message(data), &mut out).unwrap();
        assert_eq!(status, DecoderStatus::Open);
    }
    assert!(out.is_empty());
}

#[test]
fn malformed_event_is_malformed_response() {
    let mut decoder = AnthropicStreamDecoder::new("anthropic", false);
    let error = decoder
        .decode(
            &SseEvent::message("{\"type\":\"content_block_delta\""),
            &mut Vec::new(),
        )
        .unwrap_err();
    assert!(matches!(error, Error::MalformedResponse { .. }), "{error}");
}

#[test]
fn json_output_tool_without_arguments_streams_an_empty_object() {
    let decoder =
        AnthropicStreamDecoder::new("anthropic", true).with_json_output("pelican_name_generator");
    let chunks = replay(&fixture("anthropic/messages_stream_tool_use.sse"), decoder).unwrap();
    let completion = assemble(&chunks);
    assert_eq!(completion.text(), "{}");
    assert!(completion.choices[0].message.tool_calls.is_none());
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::Stop)
    );
}

#[test]
fn json_output_leaves_other_tools_as_calls() {
    let decoder = AnthropicStreamDecoder::new("anthropic", true).with_json_output("answer");
    let chunks = replay(&fixture("anthropic/messages_stream_tool_use.sse"), decoder).unwrap();
    let completion = assemble(&chunks);
    let calls = completion.choices[0].message.tool_calls.as_ref().unwrap();
    assert_eq!(calls[0].function.name, "pelican_name_generator");
    assert_eq!(
        completion.choices[0].finish_reason,
        Some(FinishReason::ToolCalls)
    );
}
