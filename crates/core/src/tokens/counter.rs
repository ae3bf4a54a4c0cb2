//! [`TokenCounter`]: picks the tokenizer for a model and labels the count.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::chat::{ChatFormat, tally_chat};
use super::{Encoding, TokenCount, Tokenizer};
use crate::types::{ChatMessage, ChatRequest, Tool};

/// The encoding used as a stand-in for models without a known tokenizer.
const PROXY_ENCODING: Encoding = Encoding::O200kBase;

/// Counts tokens for any model name.
///
/// OpenAI models are counted with their tiktoken encoding. Models with a
/// tokenizer registered through [`TokenCounter::register`] are counted with
/// it. Every other model gets an estimate from the `o200k_base` encoding,
/// labelled as such in the returned [`TokenCount`].
///
/// ```
/// use llmops_core::tokens::TokenCounter;
///
/// let counter = TokenCounter::new();
/// let count = counter.count_text("gpt-4o", "tiktoken is great!");
/// assert_eq!(count.tokens, 6);
/// assert!(count.is_exact());
/// assert!(!counter.count_text("claude-3-7-sonnet-20250219", "Hi").is_exact());
/// ```
#[derive(Clone, Default)]
pub struct TokenCounter {
    registered: HashMap<String, Arc<dyn Tokenizer>>,
}

/// The tokenizer chosen for a model.
enum Resolved<'a> {
    OpenAi(Encoding),
    Registered(&'a dyn Tokenizer),
    Unknown,
}

impl TokenCounter {
    /// Creates a counter with the OpenAI encodings and no registered
    /// tokenizer.
    pub fn new() -> Self {
        TokenCounter::default()
    }

    /// Registers the exact tokenizer of `model`, replacing any earlier one
    /// and taking precedence over the built-in OpenAI map.
    ///
    /// The name is matched exactly, or after removing a `provider/` prefix
    /// from the name being counted.
    pub fn register(
        &mut self,
        model: impl Into<String>,
        tokenizer: Arc<dyn Tokenizer>,
    ) -> &mut Self {
        self.registered.insert(model.into(), tokenizer);
        self
    }

    fn resolve(&self, model: &str) -> Resolved<'_> {
        let bare = model.split_once('/').map(|(_, bare)| bare);
        let registered = self
            .registered
            .get(model)
            .or_else(|| bare.and_then(|bare| self.registered.get(bare)));
        if let Some(tokenizer) = registered {
            return Resolved::Registered(tokenizer.as_ref());
        }
        match Encoding::for_model(model) {
            Some(encoding) => Resolved::OpenAi(encoding),
            None => Resolved::Unknown,
        }
    }

    /// Counts the tokens of plain text as `model` would.
    ///
    /// Exact for OpenAI models and registered tokenizers; an `o200k_base`
    /// estimate for any other model.
    pub fn count_text(&self, model: &str, text: &str) -> TokenCount {
        match self.resolve(model) {
            Resolved::OpenAi(encoding) => TokenCount::exact(encoding.count(text), encoding.name()),
            Resolved::Registered(tokenizer) => {
                TokenCount::exact(tokenizer.count_text(text), tokenizer.name())
            }
            Resolved::Unknown => {
                TokenCount::estimate(PROXY_ENCODING.count(text), proxy_basis(model))
            }
        }
    }

    /// Counts the prompt tokens of a chat request: its messages, the chat
    /// format's framing and its tool definitions.
    ///
    /// Exact only where the model's chat format is published or the
    /// registered tokenizer applies its own chat template, and the returned
    /// [`TokenCount`] is labelled accordingly.
    pub fn count_request(&self, request: &ChatRequest) -> TokenCount {
        if let Resolved::Registered(tokenizer) = self.resolve(&request.model) {
            if let Some(count) = tokenizer.count_chat(request) {
                return count;
            }
        }
        self.count_messages(
            &request.model,
            &request.messages,
            request.tools.as_deref().unwrap_or_default(),
        )
    }

    /// Counts the prompt tokens of `messages` and `tools` sent to `model`.
    ///
    /// Unlike [`TokenCounter::count_request`], this never calls a registered
    /// tokenizer's chat template.
    pub fn count_messages(
        &self,
        model: &str,
        messages: &[ChatMessage],
        tools: &[Tool],
    ) -> TokenCount {
        match self.resolve(model) {
            Resolved::OpenAi(encoding) => {
                let format = ChatFormat::for_openai_model(model, encoding);
                let count =
                    tally_chat(&encoding, format, messages, tools).into_count(encoding.name());
                if format.is_verified() {
                    count
                } else {
                    count.into_estimate(format!(
                        "{encoding} content tokens plus the gpt-4o chat framing, which OpenAI has not published for {model}"
                    ))
                }
            }
            Resolved::Registered(tokenizer) => {
                let count = tally_chat(tokenizer, ChatFormat::assumed(), messages, tools)
                    .into_count(tokenizer.name());
                count.into_estimate(format!(
                    "{} content tokens plus an assumed 3 tokens of framing per message",
                    tokenizer.name()
                ))
            }
            Resolved::Unknown => {
                let count = tally_chat(&PROXY_ENCODING, ChatFormat::assumed(), messages, tools);
                TokenCount::estimate(
                    count.into_count(PROXY_ENCODING.name()).tokens,
                    proxy_basis(model),
                )
            }
        }
    }
}

fn proxy_basis(model: &str) -> String {
    format!("no tokenizer known for {model}; counted with {PROXY_ENCODING} instead")
}

impl fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut models: Vec<&str> = self.registered.keys().map(String::as_str).collect();
        models.sort_unstable();
        f.debug_struct("TokenCounter")
            .field("registered", &models)
            .finish()
    }
}
