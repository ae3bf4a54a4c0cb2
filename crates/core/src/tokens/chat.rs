//! Token overhead of the OpenAI chat format: per message, per name, for the
//! reply primer and for function tool definitions.
//!
//! The numbers and the tool-definition method are those of OpenAI's cookbook
//! notebook "How to count tokens with tiktoken"
//! (`examples/How_to_count_tokens_with_tiktoken.ipynb` in
//! openai/openai-cookbook), which checks them against `usage.prompt_tokens`
//! returned by the API for gpt-3.5-turbo, gpt-4, gpt-4o and gpt-4o-mini.

use serde_json::Value;

use super::{Encoding, TokenCount, Tokenizer};
use crate::types::{ChatMessage, MessageContent, Tool};

/// Fixed token costs of a model's chat format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChatFormat {
    /// Added for every message (its start, role separator and end markers).
    tokens_per_message: i64,
    /// Added for every message with a `name`; negative where the name
    /// replaces the role.
    tokens_per_name: i64,
    /// Added once for the primer of the assistant reply.
    reply_primer: i64,
    /// Added once per function tool definition.
    tokens_per_function: i64,
    /// Whether the cookbook published API counts for this model family.
    verified: bool,
}

/// The format of gpt-3.5-turbo-0613 and later, gpt-4 and gpt-4o.
const CURRENT: ChatFormat = ChatFormat {
    tokens_per_message: 3,
    tokens_per_name: 1,
    reply_primer: 3,
    tokens_per_function: 10,
    verified: true,
};

/// Model families whose chat-format counts the cookbook checked against the
/// API. Other OpenAI models are assumed to share the gpt-4o format.
const VERIFIED_PREFIXES: &[&str] = &["gpt-4o", "gpt-4", "gpt-3.5-turbo", "gpt-35-turbo"];

/// Tool-definition costs from the cookbook: once before the property list,
/// per property, once per enum list, per enum item and once after all tools.
const TOOL_PROPERTIES_START: i64 = 3;
const TOOL_PER_PROPERTY: i64 = 3;
const TOOL_ENUM_START: i64 = -3;
const TOOL_PER_ENUM_ITEM: i64 = 3;
const TOOLS_END: i64 = 12;

impl ChatFormat {
    /// Returns the format of an OpenAI model using `encoding`.
    pub(crate) fn for_openai_model(model: &str, encoding: Encoding) -> ChatFormat {
        let bare = model.rsplit_once('/').map_or(model, |(_, bare)| bare);
        if bare == "gpt-3.5-turbo-0301" {
            // Each message is `<|start|>{role or name}\n{content}<|end|>\n`.
            return ChatFormat {
                tokens_per_message: 4,
                tokens_per_name: -1,
                ..CURRENT
            };
        }
        let verified = VERIFIED_PREFIXES
            .iter()
            .any(|prefix| bare.starts_with(prefix))
            && !bare.starts_with("gpt-4.");
        let tokens_per_function = match encoding {
            Encoding::O200kBase => 7,
            Encoding::Cl100kBase => 10,
        };
        ChatFormat {
            tokens_per_function,
            verified,
            ..CURRENT
        }
    }

    /// Returns the assumed format for a tokenizer without a chat template,
    /// used only for estimates.
    pub(crate) fn assumed() -> ChatFormat {
        ChatFormat {
            verified: false,
            ..CURRENT
        }
    }

    /// Returns whether the cookbook verified this format against the API.
    pub(crate) fn is_verified(self) -> bool {
        self.verified
    }
}

/// A chat token count before it is labelled.
#[derive(Debug, Default)]
pub(crate) struct ChatTally {
    pub(crate) tokens: i64,
    /// The reason the count is not exact, when some part was approximated.
    pub(crate) approximation: Option<&'static str>,
}

impl ChatTally {
    fn approximate(&mut self, reason: &'static str) {
        self.approximation.get_or_insert(reason);
    }

    /// Labels the tally: exact with `tokenizer` unless a part was
    /// approximated, in which case the first reason becomes the basis.
    pub(crate) fn into_count(self, tokenizer: &str) -> TokenCount {
        let tokens = u64::try_from(self.tokens).unwrap_or(0);
        match self.approximation {
            None => TokenCount::exact(tokens, tokenizer),
            Some(reason) => TokenCount::estimate(tokens, format!("{tokenizer} {reason}")),
        }
    }
}

/// Counts the tokens of messages and tool definitions in `format`.
pub(crate) fn tally_chat(
    tokenizer: &dyn Tokenizer,
    format: ChatFormat,
    messages: &[ChatMessage],
    tools: &[Tool],
) -> ChatTally {
    let mut tally = ChatTally::default();
    for message in messages {
        tally_message(tokenizer, format, message, &mut tally);
    }
    tally.tokens += format.reply_primer;
    if !tools.is_empty() {
        tally_tools(tokenizer, format, tools, &mut tally);
    }
    tally
}

fn count(tokenizer: &dyn Tokenizer, text: &str) -> i64 {
    i64::try_from(tokenizer.count_text(text)).unwrap_or(i64::MAX)
}

fn tally_message(
    tokenizer: &dyn Tokenizer,
    format: ChatFormat,
    message: &ChatMessage,
    tally: &mut ChatTally,
) {
    tally.tokens += format.tokens_per_message + count(tokenizer, message.role.as_str());

    match &message.content {
        None => {}
        Some(MessageContent::Text(text)) => tally.tokens += count(tokenizer, text),
        Some(MessageContent::Parts(parts)) => {
            for part in parts {
                tally.tokens += part
                    .text
                    .as_deref()
                    .map_or(0, |text| count(tokenizer, text));
            }
            if parts.iter().any(|part| part.kind != "text") {
                tally
                    .approximate("counts text parts only; images, audio and files are not counted");
            } else if parts.len() > 1 {
                tally.approximate(
                    "counts multi-part text as separate strings; the joined form may differ",
                );
            }
        }
    }

    if let Some(name) = &message.name {
        tally.tokens += count(tokenizer, name) + format.tokens_per_name;
    }
    if let Some(refusal) = &message.refusal {
        tally.tokens += count(tokenizer, refusal);
        tally.approximate("counts refusal text without its unpublished framing");
    }
    if let Some(calls) = &message.tool_calls {
        for call in calls {
            tally.tokens +=
                count(tokenizer, &call.function.name) + count(tokenizer, &call.function.arguments);
        }
        tally.approximate("counts tool-call names and arguments without their unpublished framing");
    }
    if let Some(id) = &message.tool_call_id {
        tally.tokens += count(tokenizer, id);
        tally.approximate("counts tool results without their unpublished framing");
    }
}

/// Adds the cost of function tool definitions by the cookbook's method: a
/// fixed cost per function, the tokens of `name:description`, and for each
/// top-level property the tokens of `name:type:description` plus its enum
/// items. A trailing period of a description is not counted.
fn tally_tools(
    tokenizer: &dyn Tokenizer,
    format: ChatFormat,
    tools: &[Tool],
    tally: &mut ChatTally,
) {
    for tool in tools {
        let Some(function) = tool.function.as_ref().filter(|_| tool.kind == "function") else {
            tally.approximate("cannot count non-function tools");
            continue;
        };
        tally.tokens += format.tokens_per_function;
        let description = function.description.as_deref().unwrap_or("");
        let line = format!("{}:{}", function.name, strip_period(description));
        tally.tokens += count(tokenizer, &line);

        let properties = function
            .parameters
            .as_ref()
            .and_then(|schema| schema.get("properties"))
            .and_then(Value::as_object);
        let Some(properties) = properties.filter(|properties| !properties.is_empty()) else {
            continue;
        };
        tally.tokens += TOOL_PROPERTIES_START;
        for (name, property) in properties {
            tally.tokens += TOOL_PER_PROPERTY + tally_property(tokenizer, name, property, tally);
        }
    }
    tally.tokens += TOOLS_END;
}

fn tally_property(
    tokenizer: &dyn Tokenizer,
    name: &str,
    property: &Value,
    tally: &mut ChatTally,
) -> i64 {
    let kind = property.get("type").and_then(Value::as_str);
    let description = property.get("description").and_then(Value::as_str);
    if kind.is_none()
        || description.is_none()
        || property.get("properties").is_some()
        || property.get("items").is_some()
    {
        tally.approximate("counts tool schemas beyond flat typed properties with descriptions by an unverified extension of the published method");
    }

    let mut tokens = 0;
    if let Some(items) = property.get("enum").and_then(Value::as_array) {
        tokens += TOOL_ENUM_START;
        for item in items {
            tokens += TOOL_PER_ENUM_ITEM;
            match item.as_str() {
                Some(text) => tokens += count(tokenizer, text),
                None => {
                    tokens += count(tokenizer, &item.to_string());
                    tally.approximate("counts non-string enum items by their JSON text");
                }
            }
        }
    }
    let line = format!(
        "{name}:{}:{}",
        kind.unwrap_or(""),
        strip_period(description.unwrap_or(""))
    );
    tokens + count(tokenizer, &line)
}

fn strip_period(text: &str) -> &str {
    text.strip_suffix('.').unwrap_or(text)
}
