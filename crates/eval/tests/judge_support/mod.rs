//! A judge backend whose reply is a function of the request.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason};
use llmops_core::{BackendInfo, ChatStream, Error, ModelBackend, Result};

type Reply = dyn Fn(&ChatRequest) -> Result<String> + Send + Sync;

/// Replies with `reply(request)` and keeps every request.
pub(crate) struct FnBackend {
    reply: Box<Reply>,
    pub(crate) requests: Mutex<Vec<ChatRequest>>,
}

impl FnBackend {
    pub(crate) fn new(
        reply: impl Fn(&ChatRequest) -> Result<String> + Send + Sync + 'static,
    ) -> Self {
        FnBackend {
            reply: Box::new(reply),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Always replies `text`.
    pub(crate) fn fixed(text: &str) -> Self {
        let text = text.to_owned();
        FnBackend::new(move |_| Ok(text.clone()))
    }

    pub(crate) fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// Returns the text of the request's last message: the rendered judge
/// prompt.
pub(crate) fn prompt(request: &ChatRequest) -> String {
    request
        .messages
        .last()
        .map(|m| m.text())
        .unwrap_or_default()
}

/// Returns the text between `start` and `end` markers in the prompt, such
/// as the response shown first in a pairwise prompt.
pub(crate) fn section<'a>(prompt: &'a str, start: &str, end: &str) -> &'a str {
    let after = prompt.split_once(start).map(|(_, rest)| rest).unwrap_or("");
    after
        .split_once(end)
        .map(|(inside, _)| inside)
        .unwrap_or(after)
        .trim()
}

#[async_trait]
impl ModelBackend for FnBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new("scripted-judge", vec!["judge".to_owned()])
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        self.requests.lock().unwrap().push(request.clone());
        let text = (self.reply)(&request)?;
        Ok(ChatCompletion::new(
            "judge-1",
            request.model.clone(),
            vec![Choice::new(
                0,
                ChatMessage::assistant(text),
                Some(FinishReason::Stop),
            )],
        ))
    }

    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream> {
        Err(Error::invalid_request(
            "stream",
            "the scripted judge does not stream",
        ))
    }
}
