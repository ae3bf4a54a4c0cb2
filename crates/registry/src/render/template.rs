//! Prompt template sources: a single text or chat messages with roles.

use llmops_core::types::Role;
use serde::{Deserialize, Serialize};

/// The template of one chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// The role of the rendered message.
    pub role: Role,
    /// The MiniJinja source of the message content.
    pub content: String,
}

impl MessageTemplate {
    /// Creates a message template.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        MessageTemplate {
            role,
            content: content.into(),
        }
    }
}

/// The templates of a prompt: chat messages or a single text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PromptTemplate {
    /// A single text, rendered to a `String`.
    Text(String),
    /// Chat messages, rendered to `ChatMessage`s in the same order.
    Chat(Vec<MessageTemplate>),
}

impl PromptTemplate {
    /// Returns each template source with a label for error messages.
    pub(crate) fn parts(&self) -> Vec<(String, &str)> {
        match self {
            PromptTemplate::Text(source) => vec![("text".to_owned(), source.as_str())],
            PromptTemplate::Chat(messages) => messages
                .iter()
                .enumerate()
                .map(|(index, message)| {
                    let label = format!("message {} ({})", index + 1, message.role.as_str());
                    (label, message.content.as_str())
                })
                .collect(),
        }
    }
}
