//! A model reply resolved from a scenario and a request, ready to render in
//! either protocol.

use crate::request::{RequestSummary, split_json_fragments, split_words};
use crate::scenario::{Reply, Scenario};

/// Token counts reported in a reply's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenCounts {
    /// All input tokens, cached ones included (OpenAI semantics).
    pub(crate) prompt: u64,
    pub(crate) completion: u64,
    /// Input tokens read from the prompt cache.
    pub(crate) cached: u64,
    /// Input tokens written to the prompt cache.
    pub(crate) cache_creation: u64,
}

impl TokenCounts {
    /// Returns the Anthropic `input_tokens`: input tokens that were neither
    /// read from nor written to the cache.
    pub(crate) fn uncached_input(&self) -> u64 {
        self.prompt
            .saturating_sub(self.cached)
            .saturating_sub(self.cache_creation)
    }
}

/// One tool call with its argument fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ToolCallReply {
    pub(crate) name: String,
    pub(crate) arguments: String,
    pub(crate) fragments: Vec<String>,
}

/// The generated content of a reply: text, tool calls, or text followed by
/// tool calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Content {
    /// Text as its stream pieces.
    pub(crate) text: Vec<String>,
    pub(crate) tool_calls: Vec<ToolCallReply>,
}

impl Content {
    /// Returns whether the reply carries a text part. A reply without tool
    /// calls always does, even when the text is empty.
    pub(crate) fn has_text(&self) -> bool {
        self.tool_calls.is_empty() || !self.text.is_empty()
    }
}

/// A successful model reply before it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModelReply {
    pub(crate) content: Content,
    pub(crate) counts: TokenCounts,
    pub(crate) model: String,
    /// Unique number of this reply on its server, used in ids.
    pub(crate) serial: u64,
    /// Unix time in seconds.
    pub(crate) created: u64,
    /// Whether the reply stopped at the output token limit.
    pub(crate) truncated: bool,
}

impl ModelReply {
    /// Resolves a text or tool-call scenario against a request. Returns
    /// `None` for errors, hangs and replays, which have no model reply.
    pub(crate) fn new(
        scenario: &Scenario,
        request: &RequestSummary,
        serial: u64,
        created: u64,
    ) -> Option<ModelReply> {
        let content = match &scenario.reply {
            Reply::Echo => Content {
                text: split_words(&request.echo_text()),
                tool_calls: Vec::new(),
            },
            Reply::Text(pieces) => Content {
                text: pieces.clone(),
                tool_calls: Vec::new(),
            },
            Reply::ToolCalls { text, calls } => Content {
                text: text.clone(),
                tool_calls: calls
                    .iter()
                    .map(|call| ToolCallReply {
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                        fragments: split_json_fragments(&call.arguments),
                    })
                    .collect(),
            },
            Reply::Error(_) | Reply::Hang | Reply::Replay { .. } => return None,
        };

        let fragments: usize = content
            .tool_calls
            .iter()
            .map(|call| call.fragments.len())
            .sum();
        let generated_pieces = (content.text.len() + fragments) as u64;
        let (prompt, completion) = scenario
            .usage
            .unwrap_or((request.input_words, generated_pieces));
        let counts = TokenCounts {
            prompt,
            completion,
            cached: scenario.cached_tokens,
            cache_creation: scenario.cache_creation_tokens,
        };

        let model = scenario
            .model
            .clone()
            .unwrap_or_else(|| request.model.clone());
        Some(ModelReply {
            content,
            counts,
            model,
            serial,
            created,
            truncated: scenario.truncated,
        })
    }

    /// Returns the OpenAI `finish_reason`.
    pub(crate) fn finish_reason(&self) -> &'static str {
        if self.truncated {
            "length"
        } else if self.content.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
    }

    /// Returns the Anthropic `stop_reason`.
    pub(crate) fn stop_reason(&self) -> &'static str {
        if self.truncated {
            "max_tokens"
        } else if self.content.tool_calls.is_empty() {
            "end_turn"
        } else {
            "tool_use"
        }
    }

    /// Returns the full text, empty for a reply of tool calls only.
    pub(crate) fn text(&self) -> String {
        self.content.text.concat()
    }
}
