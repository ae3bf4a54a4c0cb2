//! Throughput of SSE parsing plus JSON decoding of recorded OpenAI streams.
//!
//! Run with `cargo bench --bench sse`. Throughput is in bytes of the
//! recorded body per second.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llmops_core::providers::openai::OpenAiStreamDecoder;
use llmops_core::providers::{DecoderStatus, StreamDecoder};
use llmops_core::sse::SseParser;

const STREAMS: &[(&str, &[u8])] = &[
    (
        "cached_tokens_31KB",
        include_bytes!(
            "../crates/core/tests/data/provider-wire-traffic/openai/chat_stream_cached_tokens_include_usage.sse"
        ),
    ),
    (
        "azure_19KB",
        include_bytes!(
            "../crates/core/tests/data/provider-wire-traffic/openai/azure_chat_stream_with_prompt_filter_results.sse"
        ),
    ),
    (
        "tool_calls_3KB",
        include_bytes!(
            "../crates/core/tests/data/provider-wire-traffic/openai/chat_stream_tool_calls_include_usage.sse"
        ),
    ),
];

/// Network reads rarely align with events; 1,400 bytes is about one TCP
/// segment's payload.
const READ_SIZE: usize = 1400;

fn parse_and_decode(body: &[u8]) -> usize {
    let mut parser = SseParser::new();
    let mut decoder = OpenAiStreamDecoder::new("openai");
    let mut chunks = Vec::new();
    for piece in body.chunks(READ_SIZE) {
        parser.feed(piece);
        while let Some(event) = parser.next_event().unwrap() {
            if decoder.decode(&event, &mut chunks).unwrap() == DecoderStatus::Finished {
                break;
            }
        }
    }
    chunks.len()
}

/// The baseline: the same events decoded into untyped `serde_json::Value`s.
fn parse_and_decode_to_value(body: &[u8]) -> usize {
    let mut parser = SseParser::new();
    let mut objects = 0;
    for piece in body.chunks(READ_SIZE) {
        parser.feed(piece);
        while let Some(event) = parser.next_event().unwrap() {
            if event.data == "[DONE]" {
                break;
            }
            let value: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            objects += usize::from(value.is_object());
        }
    }
    objects
}

fn parse_only(body: &[u8]) -> usize {
    let mut parser = SseParser::new();
    let mut count = 0;
    for piece in body.chunks(READ_SIZE) {
        parser.feed(piece);
        while let Some(event) = parser.next_event().unwrap() {
            count += event.data.len();
        }
    }
    count
}

fn sse_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_parse_and_decode");
    for (name, body) in STREAMS {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| b.iter(|| parse_and_decode(black_box(body))));
    }
    group.finish();

    let mut group = c.benchmark_group("sse_parse_and_decode_to_value");
    for (name, body) in STREAMS {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| parse_and_decode_to_value(black_box(body)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sse_parse_only");
    for (name, body) in STREAMS {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(*name, |b| b.iter(|| parse_only(black_box(body))));
    }
    group.finish();
}

criterion_group!(benches, sse_benches);
criterion_main!(benches);
