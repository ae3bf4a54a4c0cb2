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

/// The generated content of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Content {
    /// Text as its stream pieces.
    Text(Vec<String>),
    ToolCalls(Vec<ToolCallReply>),
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
            Reply::Echo => Content::Text(split_words(&request.echo_text())),
            Reply::Text(pieces) => Content::Text(pieces.clone()),
            Reply::ToolCalls(calls) => Content::ToolCalls(
                calls
                    .iter()
                    .map(|call| ToolCallReply {
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                        fragments: split_json_fragments(&call.arguments),
                    })
                    .collect(),
            ),
            Reply::Error(_) | Reply::Hang | Reply::Replay { .. } => return None,
        };

        let generated_pieces = match &content {
            Content::Text(pieces) => pieces.len(),
            Content::ToolCalls(calls) => calls.iter().map(|call| call.fragments.len()).sum(),
        } as u64;
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
        match (&self.content, self.truncated) {
            (_, true) => "length",
            (Content::Text(_), false) => "stop",
            (Content::ToolCalls(_), false) => "tool_calls",
        }
    }

    /// Returns the Anthropic `stop_reason`.
    pub(crate) fn stop_reason(&self) -> &'static str {
        match (&self.content, self.truncated) {
            (_, true) => "max_tokens",
            (Content::Text(_), false) => "end_turn",
            (Content::ToolCalls(_), false) => "tool_use",
        }
    }

    /// Returns the full text of a text reply, empty for tool calls.
    pub(crate) fn text(&self) -> String {
        match &self.content {
            Content::Text(pieces) => pieces.concat(),
            Content::ToolCalls(_) => String::new(),
        }
    }
}
