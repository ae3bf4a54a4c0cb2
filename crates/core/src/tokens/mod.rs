//! Token counting for texts and chat requests.
//!
//! - [`TokenCounter`] picks the tokenizer for a model name and returns a
//!   [`TokenCount`] labelled as exact or as an estimate.
//! - [`Encoding`] is one of the OpenAI tiktoken encodings (`o200k_base`,
//!   `cl100k_base`) with the map from model names to encodings.
//! - [`Tokenizer`] is the trait a backend implements to make counts for its
//!   own models exact.
//!
//! Chat requests add a fixed framing per message and for the reply, plus a
//! cost per tool definition. Those numbers follow OpenAI's published method,
//! which OpenAI checked against the API for gpt-3.5-turbo, gpt-4 and
//! gpt-4o; counts for other models are labelled as estimates.

mod chat;
mod count;
mod counter;
mod encoding;
mod tokenizer;

pub use count::{CountMethod, TokenCount};
pub use counter::TokenCounter;
pub use encoding::Encoding;
pub use tokenizer::Tokenizer;

#[cfg(test)]
mod tests;
