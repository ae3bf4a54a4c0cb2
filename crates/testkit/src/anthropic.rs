//! Renders replies in the Anthropic Messages wire format.
//!
//! Field order follows the recorded bodies in `data/anthropic/`: compact
//! JSON, and streams as `event: NAME\ndata: {json}\n\n` with a `ping` after
//! the first `content_block_start`. The recorded streams also pad `data:`
//! lines with spaces; these replies do not, which the protocol allows.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::body::Event;
use crate::recorded::anthropic::STREAM_ERROR_OVERLOADED_REPORTED;
use crate::reply::{ModelReply, TokenCounts};

/// Formats the `id` of the message with this serial number.
fn message_id(serial: u64) -> String {
    format!("msg_mock{serial:012}")
}

/// Formats the `id` of tool use block `index` of message `serial`.
fn tool_use_id(serial: u64, index: usize) -> String {
    format!("toolu_mock{serial:012}n{index}")
}

#[derive(Serialize)]
struct UsageOut {
    input_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    output_tokens: u64,
    service_tier: &'static str,
}

impl UsageOut {
    fn new(counts: &TokenCounts, output_tokens: u64) -> UsageOut {
        UsageOut {
            input_tokens: counts.uncached_input(),
            cache_creation_input_tokens: counts.cache_creation,
            cache_read_input_tokens: counts.cached,
            output_tokens,
            service_tier: "standard",
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockOut<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: String,
        name: &'a str,
        input: Value,
    },
}

#[derive(Serialize)]
struct MessageOut<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<BlockOut<'a>>,
    stop_reason: Option<&'static str>,
    stop_sequence: Option<()>,
    usage: UsageOut,
}

/// Parses tool arguments into the `input` object; text that is not JSON
/// becomes a JSON string so the reply still serializes.
fn tool_input(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_owned()))
}

/// Renders a non-stream `message` body. Tool `input` objects are parsed
/// and written back, so their keys come out in sorted order.
pub(crate) fn message_body(reply: &ModelReply) -> Bytes {
    let text = reply.text();
    let mut content = Vec::with_capacity(reply.content.tool_calls.len() + 1);
    if reply.content.has_text() {
        content.push(BlockOut::Text { text: &text });
    }
    for (index, call) in reply.content.tool_calls.iter().enumerate() {
        content.push(BlockOut::ToolUse {
            id: tool_use_id(reply.serial, index),
            name: &call.name,
            input: tool_input(&call.arguments),
        });
    }
    let message = MessageOut {
        id: message_id(reply.serial),
        kind: "message",
        role: "assistant",
        model: &reply.model,
        content,
        stop_reason: Some(reply.stop_reason()),
        stop_sequence: None,
        usage: UsageOut::new(&reply.counts, reply.counts.completion),
    };
    let mut body = Vec::with_capacity(256);
    crate::json::write_compact(&mut body, &message);
    Bytes::from(body)
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEventOut<'a> {
    MessageStart {
        message: MessageOut<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: BlockOut<'a>,
    },
    ContentBlockDelta {
        index: usize,
        delta: DeltaOut<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDeltaOut,
        usage: OutputUsageOut,
    },
    MessageStop,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DeltaOut<'a> {
    TextDelta { text: &'a str },
    InputJsonDelta { partial_json: &'a str },
}

#[derive(Serialize)]
struct MessageDeltaOut {
    stop_reason: &'static str,
    stop_sequence: Option<()>,
}

#[derive(Serialize)]
struct OutputUsageOut {
    output_tokens: u64,
}

/// Returns the name on an event's `event:` line.
fn event_name(event: &StreamEventOut<'_>) -> &'static str {
    match event {
        StreamEventOut::MessageStart { .. } => "message_start",
        StreamEventOut::ContentBlockStart { .. } => "content_block_start",
        StreamEventOut::ContentBlockDelta { .. } => "content_block_delta",
        StreamEventOut::ContentBlockStop { .. } => "content_block_stop",
        StreamEventOut::MessageDelta { .. } => "message_delta",
        StreamEventOut::MessageStop => "message_stop",
    }
}

/// Frames an event as `event: NAME\ndata: {json}\n\n`.
fn frame(event: &StreamEventOut<'_>) -> Bytes {
    let name = event_name(event);
    let mut bytes = Vec::with_capacity(128);
    bytes.extend_from_slice(b"event: ");
    bytes.extend_from_slice(name.as_bytes());
    bytes.extend_from_slice(b"\ndata: ");
    crate::json::write_compact(&mut bytes, event);
    bytes.extend_from_slice(b"\n\n");
    Bytes::from(bytes)
}

/// The `ping` event exactly as recorded, with a space after the colon.
const PING_EVENT: &[u8] = b"event: ping\ndata: {\"type\": \"ping\"}\n\n";

/// Renders the event stream of a reply: `message_start`, then per content
/// block `content_block_start`, deltas and `content_block_stop` (with a
/// `ping` after the first start), then `message_delta` and `message_stop`.
/// `message_start` reports 1 output token, as the recorded streams do.
pub(crate) fn stream_events(reply: &ModelReply) -> Vec<Event> {
    let mut events = Vec::new();
    let start = StreamEventOut::MessageStart {
        message: MessageOut {
            id: message_id(reply.serial),
            kind: "message",
            role: "assistant",
            model: &reply.model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: UsageOut::new(&reply.counts, 1),
        },
    };
    events.push(Event::frame(frame(&start)));

    let mut block_index = 0;
    if reply.content.has_text() {
        push_block_start(&mut events, block_index, BlockOut::Text { text: "" });
        for piece in &reply.content.text {
            let delta = DeltaOut::TextDelta { text: piece };
            let event = StreamEventOut::ContentBlockDelta {
                index: block_index,
                delta,
            };
            events.push(Event::token(frame(&event)));
        }
        push_block_stop(&mut events, block_index);
        block_index += 1;
    }

    for (call_index, call) in reply.content.tool_calls.iter().enumerate() {
        let block = BlockOut::ToolUse {
            id: tool_use_id(reply.serial, call_index),
            name: &call.name,
            input: Value::Object(serde_json::Map::new()),
        };
        push_block_start(&mut events, block_index, block);
        // The recorded tool streams open with an empty fragment.
        let fragments = std::iter::once("").chain(call.fragments.iter().map(String::as_str));
        for fragment in fragments {
            let delta = DeltaOut::InputJsonDelta {
                partial_json: fragment,
            };
            let event = StreamEventOut::ContentBlockDelta {
                index: block_index,
                delta,
            };
            events.push(Event::token(frame(&event)));
        }
        push_block_stop(&mut events, block_index);
        block_index += 1;
    }

    let message_delta = StreamEventOut::MessageDelta {
        delta: MessageDeltaOut {
            stop_reason: reply.stop_reason(),
            stop_sequence: None,
        },
        usage: OutputUsageOut {
            output_tokens: reply.counts.completion,
        },
    };
    events.push(Event::frame(frame(&message_delta)));
    events.push(Event::frame(frame(&StreamEventOut::MessageStop)));
    events
}

fn push_block_stop(events: &mut Vec<Event>, index: usize) {
    let stop = StreamEventOut::ContentBlockStop { index };
    events.push(Event::frame(frame(&stop)));
}

/// Pushes `content_block_start`, and after the first block a `ping`.
fn push_block_start(events: &mut Vec<Event>, index: usize, block: BlockOut<'_>) {
    let start = StreamEventOut::ContentBlockStart {
        index,
        content_block: block,
    };
    events.push(Event::frame(frame(&start)));
    if index == 0 {
        events.push(Event::frame(Bytes::from_static(PING_EVENT)));
    }
}

/// Builds the `event: error` that `stream_error_after` sends, with the
/// reported `overloaded_error` payload.
pub(crate) fn stream_error_event() -> Bytes {
    let mut bytes = b"event: error\ndata: ".to_vec();
    bytes.extend_from_slice(STREAM_ERROR_OVERLOADED_REPORTED);
    bytes.extend_from_slice(b"\n\n");
    Bytes::from(bytes)
}
