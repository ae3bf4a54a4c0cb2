//! Exact token counts for llmops-core's `TokenCounter`, from the model's own
//! tokenizer.

use llmops_core::tokens::{TokenCount, Tokenizer};
use llmops_core::types::ChatRequest;

use crate::request::MODEL_NAME;
use crate::tokenizer::LocalTokenizer;

impl Tokenizer for LocalTokenizer {
    fn name(&self) -> &str {
        MODEL_NAME
    }

    /// Counts plain-text tokens. If the BPE model ever fails, the count
    /// falls back to the byte length, an upper bound because every token
    /// covers at least one byte.
    fn count_text(&self, text: &str) -> u64 {
        match self.count_tokens(text) {
            Ok(tokens) => tokens as u64,
            Err(error) => {
                tracing::warn!(%error, "token counting failed; using the byte length");
                text.len() as u64
            }
        }
    }

    /// Counts the prompt tokens the model receives, with the ChatML template
    /// and its default system message. Returns `None` for conversations the
    /// template cannot express, so the counter estimates those.
    fn count_chat(&self, request: &ChatRequest) -> Option<TokenCount> {
        let tokens = self.count_chat_tokens(&request.messages).ok()?;
        Some(TokenCount::exact(tokens as u64, MODEL_NAME))
    }
}

#[cfg(test)]
mod tests {
    use llmops_core::tokens::{TokenCounter, Tokenizer};
    use llmops_core::types::{ChatMessage, ChatRequest};
    use std::sync::Arc;

    use crate::test_support;
    use crate::tokenizer::LocalTokenizer;

    #[tokio::test]
    async fn counter_uses_model_tokenizer() {
        let path = test_support::model_path().await;
        let tokenizer = LocalTokenizer::from_gguf_file(&path).unwrap();
        let text = "주민등록번호 900101-1234567 and 🦀 code";
        let expected = tokenizer.encode(text).unwrap().len() as u64;

        let mut counter = TokenCounter::new();
        counter.register("local", Arc::new(tokenizer.clone()));
        let count = counter.count_text("local", text);
        assert!(count.is_exact(), "{count}");
        assert_eq!(count.tokens, expected);
        assert_eq!(tokenizer.count_text(""), 0);
    }

    #[tokio::test]
    async fn chat_count_matches_prompt_ids() {
        let path = test_support::model_path().await;
        let tokenizer = LocalTokenizer::from_gguf_file(&path).unwrap();
        let messages = vec![ChatMessage::user("Name three colours.")];
        let expected = tokenizer.chat_prompt(&messages).unwrap().len() as u64;

        let count = tokenizer
            .count_chat(&ChatRequest::new("local", messages))
            .unwrap();
        assert!(count.is_exact());
        assert_eq!(count.tokens, expected);

        let empty = ChatRequest::new("local", Vec::new());
        assert!(tokenizer.count_chat(&empty).is_none());
    }
}
