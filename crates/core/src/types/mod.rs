//! Request, response and stream types in the OpenAI Chat Completions wire
//! format.

mod accumulate;
mod chunk;
mod extra;
mod message;
mod request;
mod response;
mod tools;
mod usage;

pub use accumulate::StreamAccumulator;
pub use chunk::{ChatCompletionChunk, ChunkChoice, Delta};
pub use extra::ExtraFields;
pub use message::{ChatMessage, ContentPart, MessageContent, Role};
pub use request::{ChatRequest, ResponseFormat, StopSequences, StreamOptions};
pub use response::{ChatCompletion, Choice, FinishReason, unix_now};
pub use tools::{
    FunctionCall, FunctionCallDelta, FunctionDefinition, Tool, ToolCall, ToolCallDelta, ToolChoice,
};
pub use usage::{CompletionTokensDetails, PromptTokensDetails, Usage};

#[cfg(test)]
mod tests;
