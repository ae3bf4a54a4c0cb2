//! Hook traits through which guardrails, output checks, prompt logging,
//! evaluation and audit plug into the gateway without it depending on those crates.

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest};
use llmops_core::{ChatStream, Error};

use crate::record::RequestRecord;

/// Per-request facts that the caller, the server and hooks share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallContext {
    /// The task tag, such as from an `x-llmops-task` header; takes
    /// precedence over `metadata.task` in the request.
    pub task: Option<String>,
    /// The key of sticky routing, such as a user or session id; the
    /// request's `user` field when unset.
    pub sticky_key: Option<String>,
    /// Tags every deployment that serves this request must carry, such as
    /// `on_prem` for a request that holds personal data. The gateway fails
    /// the request rather than send it anywhere else.
    pub required_tags: Vec<String>,
    /// Who is calling (a virtual key id or team), for records.
    pub caller: Option<String>,
    /// The id of the virtual API key the request came with; rate limits
    /// and budgets scoped to keys apply to it. Never the secret itself.
    pub key: Option<String>,
    /// The end user, for per-user limits; the request's `user` field when
    /// unset.
    pub user: Option<String>,
    /// The team the key belongs to, for per-team limits and budgets.
    pub team: Option<String>,
    /// Skips the response cache for this request, both lookup and store.
    pub no_cache: bool,
    /// The id to record the request under, such as one the server already
    /// returned to the client; the gateway generates one when unset.
    pub request_id: Option<String>,
}

impl CallContext {
    /// Creates an empty context.
    pub fn new() -> Self {
        CallContext::default()
    }

    /// Sets the task tag.
    pub fn with_task(mut self, task: impl Into<String>) -> Self {
        self.task = Some(task.into());
        self
    }

    /// Sets the sticky-routing key.
    pub fn with_sticky_key(mut self, key: impl Into<String>) -> Self {
        self.sticky_key = Some(key.into());
        self
    }

    /// Sets the virtual key id.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the end user.
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets the team.
    pub fn with_team(mut self, team: impl Into<String>) -> Self {
        self.team = Some(team.into());
        self
    }

    /// Sets the id the gateway records the request under. The caller keeps
    /// it unique, because the gateway does not check.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Skips the response cache for this request.
    pub fn without_cache(mut self) -> Self {
        self.no_cache = true;
        self
    }

    /// Adds a tag every serving deployment must carry.
    pub fn require_tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        if !self.required_tags.contains(&tag) {
            self.required_tags.push(tag);
        }
        self
    }
}

/// Runs before routing: may inspect and rewrite the request, restrict
/// where it may go (`context.required_tags`), or reject it.
#[async_trait]
pub trait PreCallHook: Send + Sync {
    /// A short name for logs and records, such as `pii-guard`.
    fn name(&self) -> &str;

    /// Inspects the request before any model is called.
    ///
    /// # Errors
    ///
    /// An error rejects the request; it reaches the client unchanged and no
    /// model is called.
    async fn before_call(
        &self,
        request: &mut ChatRequest,
        context: &mut CallContext,
    ) -> Result<(), Error>;
}

/// Runs after a request ended, with its record and, on success, the whole
/// completion (a stream is accumulated for it).
#[async_trait]
pub trait PostCallHook: Send + Sync {
    /// A short name for logs, such as `prompt-log`.
    fn name(&self) -> &str;

    /// Observes a finished request. Runs on a spawned task, so it cannot
    /// delay or change the response.
    async fn after_call(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        completion: Option<&ChatCompletion>,
        record: &RequestRecord,
    );
}

/// Runs on the output the caller is about to receive: may rewrite a
/// completion or a stream, or reject a completion.
///
/// Output hooks run after the request is recorded, on every response the
/// caller receives, whether a model or a cache served it. The response
/// cache, the semantic cache and the [`PostCallHook`]s see the model's
/// output as it came, so a cached response is checked again each time it
/// is served, by the hooks of the gateway that serves it.
#[async_trait]
pub trait OutputHook: Send + Sync {
    /// Returns a short name for logs, such as `output-guard`.
    fn name(&self) -> &str;

    /// Checks a whole completion and may rewrite it in place.
    ///
    /// # Errors
    ///
    /// An error replaces the response: the caller receives it instead of
    /// the completion. The request's record still shows the call as it
    /// ended upstream.
    async fn check_completion(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        completion: &mut ChatCompletion,
    ) -> Result<(), Error>;

    /// Wraps a stream of chunks; the caller reads the returned stream.
    /// Chunks already sent cannot be taken back, so an implementation
    /// holds back text it may still need to rewrite, or ends the stream
    /// with an error item.
    fn wrap_stream(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        stream: ChatStream,
    ) -> ChatStream;
}
