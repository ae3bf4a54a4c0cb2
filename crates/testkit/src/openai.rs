//! Renders replies in the OpenAI Chat Completions wire format.
//!
//! Field order and null fields follow the recorded bodies in
//! `data/openai/`. Non-stream bodies are pretty-printed with two spaces and
//! end with a newline. Stream chunks are compact `data: {json}\n\n` lines,
//! and the stream ends with `data: [DONE]\n\n`.

use bytes::Bytes;
use serde::Serialize;

use crate::body::Event;
use crate::reply::{ModelReply, TokenCounts};

/// The `system_fingerprint` of every mock reply.
const SYSTEM_FINGERPRINT: &str = "fp_llmopsmock";

/// Formats the `id` of the reply with this serial number.
fn completion_id(serial: u64) -> String {
    format!("chatcmpl-mock{serial:012}")
}

/// Formats the `id` of tool call `index` of reply `serial`.
fn tool_call_id(serial: u64, index: usize) -> String {
    format!("call_mock{serial:012}n{index}")
}

#[derive(Serialize)]
struct UsageOut {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetailsOut,
    completion_tokens_details: CompletionDetailsOut,
}

#[derive(Serialize)]
struct PromptDetailsOut {
    cached_tokens: u64,
    audio_tokens: u64,
}

#[derive(Serialize)]
struct CompletionDetailsOut {
    reasoning_tokens: u64,
    audio_tokens: u64,
    accepted_prediction_tokens: u64,
    rejected_prediction_tokens: u64,
}

impl UsageOut {
    fn new(counts: &TokenCounts) -> UsageOut {
        UsageOut {
            prompt_tokens: counts.prompt,
            completion_tokens: counts.completion,
            total_tokens: counts.prompt + counts.completion,
            prompt_tokens_details: PromptDetailsOut {
                cached_tokens: counts.cached,
                audio_tokens: 0,
            },
            completion_tokens_details: CompletionDetailsOut {
                reasoning_tokens: 0,
                audio_tokens: 0,
                accepted_prediction_tokens: 0,
                rejected_prediction_tokens: 0,
            },
        }
    }
}

#[derive(Serialize)]
struct CompletionOut<'a> {
    id: String,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [ChoiceOut<'a>; 1],
    usage: UsageOut,
    service_tier: &'static str,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
struct ChoiceOut<'a> {
    index: u32,
    message: MessageOut<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    role: &'static str,
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<ToolCallOut<'a>>>,
    refusal: Option<()>,
    annotations: [(); 0],
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// Renders a non-stream `chat.completion` body.
pub(crate) fn completion_body(reply: &ModelReply) -> Bytes {
    let content = reply.content.has_text().then(|| reply.text());
    let tool_calls = (!reply.content.tool_calls.is_empty()).then(|| {
        reply
            .content
            .tool_calls
            .iter()
            .enumerate()
            .map(|(index, call)| ToolCallOut {
                id: tool_call_id(reply.serial, index),
                kind: "function",
                function: FunctionOut {
                    name: &call.name,
                    arguments: &call.arguments,
                },
            })
            .collect()
    });
    let completion = CompletionOut {
        id: completion_id(reply.serial),
        object: "chat.completion",
        created: reply.created,
        model: &reply.model,
        choices: [ChoiceOut {
            index: 0,
            message: MessageOut {
                role: "assistant",
                content,
                tool_calls,
                refusal: None,
                annotations: [],
            },
            logprobs: None,
            finish_reason: reply.finish_reason(),
        }],
        usage: UsageOut::new(&reply.counts),
        service_tier: "default",
        system_fingerprint: SYSTEM_FINGERPRINT,
    };
    let mut body = crate::json::to_vec_pretty(&completion);
    body.push(b'\n');
    Bytes::from(body)
}

#[derive(Serialize)]
struct ChunkOut<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    service_tier: &'static str,
    system_fingerprint: &'static str,
    choices: &'a [ChunkChoiceOut<'a>],
    /// Absent without `include_usage`; `null` on every chunk but the last
    /// with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<&'a UsageOut>>,
}

#[derive(Serialize)]
struct ChunkChoiceOut<'a> {
    index: u32,
    delta: DeltaOut<'a>,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

#[derive(Serialize, Default)]
struct DeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCallDeltaOut<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<Option<()>>,
}

#[derive(Serialize)]
struct ToolCallDeltaOut<'a> {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: FunctionDeltaOut<'a>,
}

#[derive(Serialize)]
struct FunctionDeltaOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

/// Writes the chunks of one reply.
struct ChunkWriter<'a> {
    id: String,
    reply: &'a ModelReply,
    include_usage: bool,
    events: Vec<Event>,
}

impl ChunkWriter<'_> {
    fn push(&mut self, delta: DeltaOut<'_>, finish_reason: Option<&'static str>, token: bool) {
        let choices = [ChunkChoiceOut {
            index: 0,
            delta,
            logprobs: None,
            finish_reason,
        }];
        let chunk = ChunkOut {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.reply.created,
            model: &self.reply.model,
            service_tier: "default",
            system_fingerprint: SYSTEM_FINGERPRINT,
            choices: &choices,
            usage: self.include_usage.then_some(None),
        };
        self.events.push(Event {
            bytes: data_event(&chunk),
            token,
        });
    }

    fn push_usage(&mut self) {
        let usage = UsageOut::new(&self.reply.counts);
        let chunk = ChunkOut {
            id: &self.id,
            object: "chat.completion.chunk",
            created: self.reply.created,
            model: &self.reply.model,
            service_tier: "default",
            system_fingerprint: SYSTEM_FINGERPRINT,
            choices: &[],
            usage: Some(Some(&usage)),
        };
        self.events.push(Event::frame(data_event(&chunk)));
    }
}

/// Renders the stream of `chat.completion.chunk` events of a reply: the
/// role chunk, one chunk per content piece or argument fragment, the finish
/// chunk, the usage chunk when `include_usage` is set, then `[DONE]`.
pub(crate) fn stream_events(reply: &ModelReply, include_usage: bool) -> Vec<Event> {
    let mut writer = ChunkWriter {
        id: completion_id(reply.serial),
        reply,
        include_usage,
        events: Vec::new(),
    };

    let has_text = reply.content.has_text();
    if has_text {
        let role = DeltaOut {
            role: Some("assistant"),
            content: Some(Some("")),
            refusal: Some(None),
            ..DeltaOut::default()
        };
        writer.push(role, None, false);
        for piece in &reply.content.text {
            let delta = DeltaOut {
                content: Some(Some(piece)),
                ..DeltaOut::default()
            };
            writer.push(delta, None, true);
        }
    }

    for (index, call) in reply.content.tool_calls.iter().enumerate() {
        let head = ToolCallDeltaOut {
            index,
            id: Some(tool_call_id(reply.serial, index)),
            kind: Some("function"),
            function: FunctionDeltaOut {
                name: Some(&call.name),
                arguments: "",
            },
        };
        // Only the first chunk of the reply carries the role.
        let first_chunk = index == 0 && !has_text;
        let delta = DeltaOut {
            role: first_chunk.then_some("assistant"),
            content: first_chunk.then_some(None),
            tool_calls: Some([head]),
            refusal: first_chunk.then_some(None),
        };
        writer.push(delta, None, true);
        for fragment in &call.fragments {
            let fragment_delta = ToolCallDeltaOut {
                index,
                id: None,
                kind: None,
                function: FunctionDeltaOut {
                    name: None,
                    arguments: fragment,
                },
            };
            let delta = DeltaOut {
                tool_calls: Some([fragment_delta]),
                ..DeltaOut::default()
            };
            writer.push(delta, None, true);
        }
    }

    let finish_reason = Some(reply.finish_reason());
    writer.push(DeltaOut::default(), finish_reason, false);
    if include_usage {
        writer.push_usage();
    }
    writer
        .events
        .push(Event::frame(Bytes::from_static(b"data: [DONE]\n\n")));
    writer.events
}

// NOTE: no recording of an OpenAI mid-stream error was available; this
// payload follows the shape of OpenAI's HTTP error bodies.
/// The event that `stream_error_after` sends on OpenAI routes.
pub(crate) const STREAM_ERROR_EVENT: &[u8] = b"data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";

/// Frames a value as `data: {json}\n\n`.
fn data_event(value: &impl Serialize) -> Bytes {
    let mut bytes = b"data: ".to_vec();
    crate::json::write_compact(&mut bytes, value);
    bytes.extend_from_slice(b"\n\n");
    Bytes::from(bytes)
}
