use std::collections::BTreeMap;

use super::ExtraFields;
use super::chunk::ChatCompletionChunk;
use super::message::{ChatMessage, MessageContent, Role};
use super::response::{ChatCompletion, Choice, FinishReason};
use super::tools::{FunctionCall, ToolCall};
use super::usage::Usage;

/// Folds the chunks of a stream into the completion they describe.
///
/// Content pieces are concatenated per choice, tool-call fragments are joined
/// by their `index`, and the usage of the final chunk is kept.
///
/// ```
/// use llmops_core::types::{ChatCompletionChunk, StreamAccumulator};
///
/// let mut accumulator = StreamAccumulator::default();
/// for data in [
///     r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
///     r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
/// ] {
///     let chunk: ChatCompletionChunk = serde_json::from_str(data).unwrap();
///     accumulator.push(&chunk);
/// }
/// assert_eq!(accumulator.finish().text(), "Hello");
/// ```
#[derive(Debug, Default)]
pub struct StreamAccumulator {
    id: String,
    model: String,
    created: u64,
    system_fingerprint: Option<String>,
    choices: BTreeMap<u32, ChoiceState>,
    usage: Option<Usage>,
    chunk_count: usize,
}

#[derive(Debug, Default)]
struct ChoiceState {
    role: Option<Role>,
    content: String,
    saw_content: bool,
    refusal: Option<String>,
    tool_calls: BTreeMap<u32, ToolCallState>,
    finish_reason: Option<FinishReason>,
}

#[derive(Debug, Default)]
struct ToolCallState {
    id: String,
    kind: String,
    name: String,
    arguments: String,
}

impl StreamAccumulator {
    /// Adds one chunk.
    pub fn push(&mut self, chunk: &ChatCompletionChunk) {
        self.chunk_count += 1;
        if self.id.is_empty() {
            self.id.clone_from(&chunk.id);
        }
        if self.model.is_empty() {
            self.model.clone_from(&chunk.model);
        }
        if self.created == 0 {
            self.created = chunk.created;
        }
        if chunk.system_fingerprint.is_some() {
            self.system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        if chunk.usage.is_some() {
            self.usage.clone_from(&chunk.usage);
        }
        for choice in &chunk.choices {
            let state = self.choices.entry(choice.index).or_default();
            state.apply(choice);
        }
    }

    /// Returns how many chunks were added.
    pub fn chunk_count(&self) -> usize {
        self.chunk_count
    }

    /// Returns the usage of the final chunk, if one carried usage.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// Returns the content text gathered so far for the first choice.
    pub fn text(&self) -> &str {
        self.choices
            .values()
            .next()
            .map(|state| state.content.as_str())
            .unwrap_or("")
    }

    /// Builds the completion from all chunks added.
    pub fn finish(self) -> ChatCompletion {
        let choices = self
            .choices
            .into_iter()
            .map(|(index, state)| state.into_choice(index))
            .collect();
        ChatCompletion {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            system_fingerprint: self.system_fingerprint,
            service_tier: None,
            extra: ExtraFields::new(),
        }
    }
}

impl ChoiceState {
    fn apply(&mut self, choice: &super::chunk::ChunkChoice) {
        let delta = &choice.delta;
        if delta.role.is_some() {
            self.role.clone_from(&delta.role);
        }
        if let Some(content) = &delta.content {
            self.content.push_str(content);
            self.saw_content = true;
        }
        if let Some(refusal) = &delta.refusal {
            self.refusal
                .get_or_insert_with(String::new)
                .push_str(refusal);
        }
        for fragment in delta.tool_calls.iter().flatten() {
            let call = self.tool_calls.entry(fragment.index).or_default();
            if let Some(id) = &fragment.id {
                call.id.clone_from(id);
            }
            if let Some(kind) = &fragment.kind {
                call.kind.clone_from(kind);
            }
            if let Some(function) = &fragment.function {
                if let Some(name) = &function.name {
                    call.name.push_str(name);
                }
                if let Some(arguments) = &function.arguments {
                    call.arguments.push_str(arguments);
                }
            }
        }
        if choice.finish_reason.is_some() {
            self.finish_reason.clone_from(&choice.finish_reason);
        }
    }

    fn into_choice(self, index: u32) -> Choice {
        let tool_calls: Vec<ToolCall> = self
            .tool_calls
            .into_values()
            .map(|call| ToolCall {
                id: call.id,
                kind: if call.kind.is_empty() {
                    "function".to_owned()
                } else {
                    call.kind
                },
                function: FunctionCall {
                    name: call.name,
                    arguments: call.arguments,
                    extra: ExtraFields::new(),
                },
                extra: ExtraFields::new(),
            })
            .collect();
        let content = (self.saw_content || tool_calls.is_empty())
            .then_some(MessageContent::Text(self.content));
        let message = ChatMessage {
            role: self.role.unwrap_or(Role::Assistant),
            content,
            name: None,
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            tool_call_id: None,
            refusal: self.refusal,
            extra: ExtraFields::new(),
        };
        Choice {
            index,
            message,
            finish_reason: self.finish_reason,
            logprobs: None,
            extra: ExtraFields::new(),
        }
    }
}
