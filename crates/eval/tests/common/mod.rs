//! A scripted model backend for evaluator tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest, Choice, FinishReason, Usage};
use llmops_core::{BackendInfo, ChatStream, Error, ModelBackend, Result};

/// Replies with a fixed answer per user input, counting calls per input.
/// Inputs listed in `failures` fail with a retryable error that many times
/// first; inputs in `broken` always fail with a non-retryable error.
#[derive(Default)]
pub(crate) struct ScriptedBackend {
    pub(crate) answers: HashMap<String, String>,
    pub(crate) failures: Mutex<HashMap<String, usize>>,
    pub(crate) broken: Vec<String>,
    pub(crate) calls: Mutex<HashMap<String, usize>>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    pub(crate) delay: Option<Duration>,
}

impl ScriptedBackend {
    pub(crate) fn new(answers: &[(&str, &str)]) -> Self {
        ScriptedBackend {
            answers: answers
                .iter()
                .map(|(input, answer)| ((*input).to_owned(), (*answer).to_owned()))
                .collect(),
            ..ScriptedBackend::default()
        }
    }

    pub(crate) fn calls_for(&self, input: &str) -> usize {
        self.calls.lock().unwrap().get(input).copied().unwrap_or(0)
    }

    pub(crate) fn total_calls(&self) -> usize {
        self.calls.lock().unwrap().values().sum()
    }
}

#[async_trait]
impl ModelBackend for ScriptedBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new("scripted", vec!["scripted-model".to_owned()])
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion> {
        let input = request
            .messages
            .last()
            .map(|m| m.text())
            .unwrap_or_default();
        *self.calls.lock().unwrap().entry(input.clone()).or_insert(0) += 1;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);

        if self.broken.contains(&input) {
            return Err(Error::invalid_request(
                "messages",
                "scripted permanent failure",
            ));
        }
        {
            let mut failures = self.failures.lock().unwrap();
            if let Some(left) = failures.get_mut(&input) {
                if *left > 0 {
                    *left -= 1;
                    return Err(Error::Overloaded {
                        provider: "scripted".to_owned(),
                        retry_after: Some(Duration::from_millis(1)),
                        message: "scripted overload".to_owned(),
                    });
                }
            }
        }
        let answer = self.answers.get(&input).cloned().unwrap_or_default();
        let mut completion = ChatCompletion::new(
            "scripted-1",
            request.model.clone(),
            vec![Choice::new(
                0,
                ChatMessage::assistant(answer),
                Some(FinishReason::Stop),
            )],
        );
        completion.usage = Some(Usage::new(10, 5));
        Ok(completion)
    }

    async fn stream(&self, _request: ChatRequest) -> Result<ChatStream> {
        Err(Error::invalid_request(
            "stream",
            "the scripted backend does not stream",
        ))
    }
}
