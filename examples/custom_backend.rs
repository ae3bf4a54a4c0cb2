//! An application's own model backend: a canned-answer FAQ bot that any
//! llmops router, cache or evaluator can call like a provider.
//!
//! Run with `cargo run --example custom_backend`.

use async_trait::async_trait;
use futures::StreamExt;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason, Usage};
use llmops_core::{BackendInfo, ChatStream, Error, ModelBackend, Result};

struct FaqBackend;

#[async_trait]
impl ModelBackend for FaqBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new("faq", vec!["faq-v1".to_owned()]).with_local(true)
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        let question = request.messages.last().map(ChatMessage::text);
        let question = question
            .filter(|text| !text.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid_request("messages", "the last message has no text; add a question")
            })?;

        let answer = if question.contains("refund") {
            "Refunds are issued within 14 days."
        } else {
            "Please contact support@example.com."
        };
        let message = ChatMessage::assistant(answer);
        let choice = Choice::new(0, message, Some(FinishReason::Stop));
        let mut completion = ChatCompletion::new("faq-1", "faq-v1", vec![choice]);
        let words = |text: &str| text.split_whitespace().count() as u64;
        completion.usage = Some(Usage::new(words(&question), words(answer)));
        Ok(completion)
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
        let include_usage = request.wants_stream_usage();
        let chunks = self.complete(request).await?.to_chunks(include_usage);
        Ok(futures::stream::iter(chunks.into_iter().map(Ok)).boxed())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let request = ChatRequest::new("faq-v1", vec![ChatMessage::user("How do refunds work?")]);
    let mut stream = FaqBackend.stream(request).await?;
    while let Some(chunk) = stream.next().await {
        print!("{}", chunk?.delta_text().unwrap_or_default());
    }
    println!();
    Ok(())
}
