//! Helpers shared by the integration tests: fixture loading and replay.

#![allow(dead_code, unreachable_pub)]

pub mod loopback;

use std::path::PathBuf;

use llmops_core::providers::{DecoderStatus, StreamDecoder};
use llmops_core::sse::SseParser;
use llmops_core::types::{ChatCompletion, ChatCompletionChunk, StreamAccumulator};

/// Returns the path of a file under `tests/data/provider-wire-traffic`.
pub fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/provider-wire-traffic")
        .join(relative)
}

/// Reads a fixture file as bytes.
pub fn fixture(relative: &str) -> Vec<u8> {
    std::fs::read(fixture_path(relative))
        .unwrap_or_else(|error| panic!("reading {relative}: {error}"))
}

/// Lists the fixture files in `folder` ending with `extension`.
pub fn fixtures_with_extension(folder: &str, extension: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(folder))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(extension))
        .map(|name| format!("{folder}/{name}"))
        .collect();
    names.sort();
    names
}

/// Parses a recorded body and runs every event through `decoder`, stopping
/// at the decoder's end marker, as the HTTP backends do.
pub fn replay<D: StreamDecoder>(
    body: &[u8],
    mut decoder: D,
) -> llmops_core::Result<Vec<ChatCompletionChunk>> {
    let events = SseParser::parse_complete(body).expect("recorded stream parses");
    let mut chunks = Vec::new();
    for event in &events {
        if decoder.decode(event, &mut chunks)? == DecoderStatus::Finished {
            return Ok(chunks);
        }
    }
    decoder.finish_early()?;
    Ok(chunks)
}

/// Assembles chunks into one completion.
pub fn assemble(chunks: &[ChatCompletionChunk]) -> ChatCompletion {
    let mut accumulator = StreamAccumulator::default();
    for chunk in chunks {
        accumulator.push(chunk);
    }
    accumulator.finish()
}
