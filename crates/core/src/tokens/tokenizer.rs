//! The [`Tokenizer`] trait that backends implement to count tokens exactly.

use super::TokenCount;
use crate::types::ChatRequest;

/// A model's own tokenizer.
///
/// Register one with [`TokenCounter::register`](super::TokenCounter::register)
/// so that counts for that model are exact instead of estimated. The built-in
/// OpenAI encodings implement it as [`Encoding`](super::Encoding).
pub trait Tokenizer: Send + Sync {
    /// Returns the tokenizer name reported in exact counts, such as
    /// `o200k_base` or a Hugging Face repository id.
    fn name(&self) -> &str;

    /// Counts the tokens of plain text, treating special-token markers in it
    /// as ordinary text.
    fn count_text(&self, text: &str) -> u64;

    /// Counts the prompt tokens of a whole chat request, with the model's
    /// chat template applied.
    ///
    /// The default returns `None`. The counter then adds the content tokens
    /// of each message to an assumed per-message overhead and labels the
    /// result as an estimate.
    fn count_chat(&self, request: &ChatRequest) -> Option<TokenCount> {
        let _ = request;
        None
    }
}
