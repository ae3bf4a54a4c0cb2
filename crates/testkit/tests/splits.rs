//! Split writes deliver the same bytes in more reads, including cuts inside
//! UTF-8 characters, JSON objects and `data:` lines.
use crate::common;

use common::{chat_request, data_json, messages_request, post};
use llmops_testkit::recorded::{anthropic, openai};
use llmops_testkit::{MockServer, Scenario};

#[tokio::test]
async fn replay_split_every_keeps_bytes() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    for size in [1, 5, 64] {
        server.push(Scenario::replay_sse(openai::CHAT_STREAM_TEXT).split_every(size));
        let reply = post(&url, &chat_request("m", "q", true, true)).await;
        assert!(reply.error.is_none());
        assert_eq!(reply.bytes(), openai::CHAT_STREAM_TEXT, "size {size}");
        let minimum_reads = openai::CHAT_STREAM_TEXT.len().div_ceil(size);
        assert!(
            reply.frames.len() >= minimum_reads,
            "size {size}: {} reads",
            reply.frames.len()
        );
        assert!(reply.frames.iter().all(|frame| frame.len() <= size));
    }
}

#[tokio::test]
async fn split_at_inside_utf8_character() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/messages", server.anthropic_base_url());
    let text = "안녕하세요 👋🏽 세계";
    // Find the byte offset of the first Hangul syllable in the rendered
    // stream with a dry run, then cut one byte into it.
    server.push(Scenario::text(text));
    let plain = post(&url, &messages_request("c", "q", true)).await.bytes();
    let syllable = "안".as_bytes();
    let position = plain
        .windows(3)
        .position(|window| window == syllable)
        .unwrap();
    let emoji = "👋".as_bytes();
    let emoji_position = plain.windows(4).position(|window| window == emoji).unwrap();

    server.push(Scenario::text(text).split_at([position + 1, emoji_position + 2]));
    let reply = post(&url, &messages_request("c", "q", true)).await;

    assert!(reply.error.is_none());
    assert!(reply.frames.len() >= 3);
    assert!(
        reply
            .frames
            .iter()
            .any(|frame| std::str::from_utf8(frame).is_err()),
        "some read must end inside a character"
    );
    let joined: String = data_json(&reply.text())
        .iter()
        .filter_map(|event| event["delta"]["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(joined, text);
}

#[tokio::test]
async fn split_every_byte_generated_stream() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/chat/completions", server.openai_base_url());
    let text = "Grüße, 世界! 🎉";
    server.push(Scenario::text(text).split_every(1));
    let reply = post(&url, &chat_request("m", "q", true, true)).await;
    assert!(reply.error.is_none());
    assert_eq!(reply.frames.len(), reply.bytes().len(), "one read per byte");
    let joined: String = data_json(&reply.text())
        .iter()
        .filter_map(|chunk| {
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(joined, text);
    assert!(reply.text().ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn split_non_stream_body_keeps_length() {
    let server = MockServer::start().await.unwrap();
    let url = format!("{}/v1/messages", server.anthropic_base_url());
    server.push(Scenario::replay_json(anthropic::MESSAGES_CACHE_READ).split_every(100));
    let reply = post(&url, &messages_request("c", "q", false)).await;
    assert_eq!(reply.bytes(), anthropic::MESSAGES_CACHE_READ);
    let length = anthropic::MESSAGES_CACHE_READ.len().to_string();
    assert_eq!(reply.header("content-length"), Some(length.as_str()));
}
