//! The output hooks run on each response before the caller receives it.

use llmops_core::types::{ChatCompletion, ChatRequest};
use llmops_core::{ChatStream, Error};

use crate::gateway::{Gateway, Pending};
use crate::hooks::CallContext;

/// The request and context the output hooks see: the request as the
/// pre-call hooks left it. None when the gateway has no output hooks, so
/// a gateway without them copies nothing.
pub(crate) type OutputView = Option<(ChatRequest, CallContext)>;

impl Gateway {
    /// Copies what the output hooks need from `pending`, before the record
    /// consumes it.
    pub(crate) fn output_view(&self, pending: &Pending) -> OutputView {
        if self.inner.output_hooks.is_empty() {
            return None;
        }
        Some((pending.request.clone(), pending.context.clone()))
    }

    /// Runs the output hooks on `completion`, in the order added.
    pub(crate) async fn check_output(
        &self,
        view: OutputView,
        mut completion: ChatCompletion,
    ) -> Result<ChatCompletion, Error> {
        let Some((request, context)) = view else {
            return Ok(completion);
        };
        for hook in &self.inner.output_hooks {
            if let Err(error) = hook
                .check_completion(&request, &context, &mut completion)
                .await
            {
                tracing::info!(
                    hook = hook.name(),
                    class = error.class(),
                    "an output hook rejected the response"
                );
                return Err(error);
            }
        }
        Ok(completion)
    }

    /// Wraps `stream` in the output hooks; the first hook added reads the
    /// upstream chunks first.
    pub(crate) fn wrap_output(&self, view: OutputView, stream: ChatStream) -> ChatStream {
        let Some((request, context)) = view else {
            return stream;
        };
        self.inner.output_hooks.iter().fold(stream, |stream, hook| {
            hook.wrap_stream(&request, &context, stream)
        })
    }
}
