//! Conversion of Anthropic Messages stream events into OpenAI chunks.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::error::error_from_event;
use super::response::{AnthropicUsage, finish_reason, unix_now};
use crate::error::{Error, Result};
use crate::providers::wire_error::describe_json_error;
use crate::providers::{DecoderStatus, StreamDecoder};
use crate::sse::SseEvent;
use crate::types::{
    ChatCompletionChunk, ChunkChoice, Delta, ExtraFields, FinishReason, FunctionCallDelta, Role,
    ToolCallDelta,
};

/// The stream events of the Messages API, tagged by their `type` field.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: u32,
        content_block: BlockStart,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaFields,
        #[serde(default)]
        usage: Option<AnthropicUsage>,
    },
    MessageStop,
    Ping,
    Error {
        #[serde(default)]
        error: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct MessageStart {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: AnthropicUsage,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockStart {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDeltaFields {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// A tool-use block in progress.
#[derive(Debug)]
struct ToolBlock {
    /// The position among the tool calls of the message, which OpenAI's
    /// `tool_calls[].index` counts; text and thinking blocks do not count.
    tool_index: u32,
    /// The `input` of `content_block_start`, sent when no fragment follows.
    start_input: Value,
    sent_arguments: bool,
}

/// A [`StreamDecoder`] from Messages API stream events to OpenAI chunks.
///
/// `message_start` gives a chunk with the assistant role, and text deltas
/// become content chunks. A `tool_use` block becomes tool-call deltas whose
/// first fragment carries the id and name. `message_delta` gives the finish
/// reason. At `message_stop`, a usage chunk with no choices follows when
/// usage was requested. Thinking, signature and unknown events are skipped. An `error`
/// event becomes the mapped [`Error`].
#[derive(Debug)]
pub struct AnthropicStreamDecoder {
    provider: String,
    include_usage: bool,
    id: String,
    model: String,
    created: u64,
    usage: AnthropicUsage,
    tool_blocks: HashMap<u32, ToolBlock>,
    tool_count: u32,
    /// The name of the tool that carries a JSON response format.
    json_output: Option<String>,
    /// That tool's block: its index, its start input, and whether any
    /// input fragment was sent as content.
    json_block: Option<(u32, Value, bool)>,
    /// Whether the JSON output tool was used in this message.
    json_used: bool,
}

impl AnthropicStreamDecoder {
    /// Creates a decoder whose errors name `provider`; `include_usage` adds
    /// the final usage chunk.
    pub fn new(provider: impl Into<String>, include_usage: bool) -> Self {
        AnthropicStreamDecoder {
            provider: provider.into(),
            include_usage,
            id: String::new(),
            model: String::new(),
            created: unix_now(),
            usage: AnthropicUsage::default(),
            tool_blocks: HashMap::new(),
            tool_count: 0,
            json_output: None,
            json_block: None,
            json_used: false,
        }
    }

    /// Streams the input of the tool named `tool`, which carries a JSON
    /// response format, as content deltas instead of tool-call deltas, and
    /// reports its `tool_use` stop as `stop`.
    pub fn with_json_output(mut self, tool: impl Into<String>) -> Self {
        self.json_output = Some(tool.into());
        self
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                logprobs: None,
                extra: ExtraFields::new(),
            }],
            usage: None,
            system_fingerprint: None,
            service_tier: None,
            extra: ExtraFields::new(),
        }
    }

    fn text_chunk(&self, text: String) -> ChatCompletionChunk {
        self.chunk(
            Delta {
                content: Some(text),
                ..Delta::default()
            },
            None,
        )
    }

    fn tool_chunk(&self, fragment: ToolCallDelta) -> ChatCompletionChunk {
        self.chunk(
            Delta {
                tool_calls: Some(vec![fragment]),
                ..Delta::default()
            },
            None,
        )
    }

    fn usage_chunk(&self) -> ChatCompletionChunk {
        let mut chunk = self.chunk(Delta::default(), None);
        chunk.choices.clear();
        chunk.usage = Some(self.usage.to_openai());
        chunk
    }

    fn start_block(&mut self, index: u32, block: BlockStart, out: &mut Vec<ChatCompletionChunk>) {
        match block {
            BlockStart::Text { text } if !text.is_empty() => out.push(self.text_chunk(text)),
            BlockStart::ToolUse { name, input, .. }
                if self.json_output.as_deref() == Some(name.as_str()) =>
            {
                self.json_used = true;
                self.json_block = Some((index, input, false));
            }
            BlockStart::ToolUse { id, name, input } => {
                let tool_index = self.tool_count;
                self.tool_count += 1;
                self.tool_blocks.insert(
                    index,
                    ToolBlock {
                        tool_index,
                        start_input: input,
                        sent_arguments: false,
                    },
                );
                out.push(self.tool_chunk(ToolCallDelta {
                    index: tool_index,
                    id: Some(id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionCallDelta {
                        name: Some(name),
                        arguments: Some(String::new()),
                        extra: ExtraFields::new(),
                    }),
                    extra: ExtraFields::new(),
                }));
            }
            BlockStart::Text { .. } | BlockStart::Other => {}
        }
    }

    fn arguments_chunk(&self, tool_index: u32, arguments: String) -> ChatCompletionChunk {
        self.tool_chunk(ToolCallDelta {
            index: tool_index,
            id: None,
            kind: None,
            function: Some(FunctionCallDelta {
                name: None,
                arguments: Some(arguments),
                extra: ExtraFields::new(),
            }),
            extra: ExtraFields::new(),
        })
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Vec<ChatCompletionChunk>) {
        match delta {
            BlockDelta::TextDelta { text } => out.push(self.text_chunk(text)),
            BlockDelta::InputJsonDelta { partial_json }
                if !partial_json.is_empty()
                    && self
                        .json_block
                        .as_ref()
                        .is_some_and(|block| block.0 == index) =>
            {
                if let Some(block) = &mut self.json_block {
                    block.2 = true;
                }
                out.push(self.text_chunk(partial_json));
            }
            BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                if let Some(block) = self.tool_blocks.get_mut(&index) {
                    block.sent_arguments = true;
                    let tool_index = block.tool_index;
                    out.push(self.arguments_chunk(tool_index, partial_json));
                }
            }
            BlockDelta::InputJsonDelta { .. } | BlockDelta::Other => {}
        }
    }

    /// Ends a block. A tool call that streamed no arguments gets the input of
    /// its start event (`{}` for a tool without parameters), so its assembled
    /// arguments are valid JSON.
    fn stop_block(&mut self, index: u32, out: &mut Vec<ChatCompletionChunk>) {
        if self
            .json_block
            .as_ref()
            .is_some_and(|block| block.0 == index)
        {
            if let Some((_, input, false)) = self.json_block.take() {
                let text = match input {
                    Value::Null => "{}".to_owned(),
                    input => input.to_string(),
                };
                out.push(self.text_chunk(text));
            }
            return;
        }
        let Some(block) = self.tool_blocks.remove(&index) else {
            return;
        };
        if !block.sent_arguments {
            let input = match block.start_input {
                Value::Null => "{}".to_owned(),
                input => input.to_string(),
            };
            out.push(self.arguments_chunk(block.tool_index, input));
        }
    }

    fn malformed(&self, error: &serde_json::Error) -> Error {
        Error::MalformedResponse {
            provider: self.provider.clone(),
            message: format!(
                "stream event is not a Messages API event: {}",
                describe_json_error(error)
            ),
        }
    }
}

impl StreamDecoder for AnthropicStreamDecoder {
    fn decode(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<ChatCompletionChunk>,
    ) -> Result<DecoderStatus> {
        let parsed: StreamEvent =
            serde_json::from_str(&event.data).map_err(|error| self.malformed(&error))?;
        match parsed {
            StreamEvent::MessageStart { message } => {
                self.id = message.id;
                self.model = message.model;
                self.usage.update(&message.usage);
                let role = Delta {
                    role: Some(Role::Assistant),
                    content: Some(String::new()),
                    ..Delta::default()
                };
                out.push(self.chunk(role, None));
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.start_block(index, content_block, out),
            StreamEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            StreamEvent::ContentBlockStop { index } => self.stop_block(index, out),
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(usage) = usage {
                    self.usage.update(&usage);
                }
                if let Some(reason) = delta.stop_reason {
                    let mut reason = finish_reason(&reason);
                    if self.json_used && self.tool_count == 0 && reason == FinishReason::ToolCalls {
                        reason = FinishReason::Stop;
                    }
                    out.push(self.chunk(Delta::default(), Some(reason)));
                }
            }
            StreamEvent::MessageStop => {
                if self.include_usage {
                    out.push(self.usage_chunk());
                }
                return Ok(DecoderStatus::Finished);
            }
            StreamEvent::Error { error } => return Err(error_from_event(&self.provider, &error)),
            StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(DecoderStatus::Open)
    }

    fn finish_early(&mut self) -> Result<()> {
        Err(Error::Network {
            provider: self.provider.clone(),
            message: "stream ended before message_stop".to_owned(),
        })
    }
}
