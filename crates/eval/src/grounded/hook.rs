//! The gateway post-call hook that scores every response off the request
//! path.
//!
//! Where the hook finds the evidence:
//!
//! - Retrieved contexts: the passages that llmops-rag's `pack_context`
//!   writes, `[n] (document_id bytes start-end)` followed by the passage
//!   text, in any system, developer or user message of the request. Other
//!   message text is not taken as context.
//! - Prompt and version: `metadata.llmops_prompt` (a string) and
//!   `metadata.llmops_prompt_version` (a number or a string) of the
//!   request, the keys llmops-monitor reads too.
//! - Log-probabilities: the first choice's `logprobs`, when the request
//!   asked for them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest, Role};
use llmops_gateway::{CallContext, PostCallHook, RequestRecord};
use tokio::sync::mpsc;

use super::record::{GroundednessRecord, GroundednessSink, ReviewSink};
use super::scorer::{GroundednessInput, GroundednessScorer};
use super::signals::token_logprobs;
use crate::error::{EvalError, Result};
use crate::rag::parse_packed_context;

/// Responses waiting to be scored, by default.
const DEFAULT_QUEUE_CAPACITY: usize = 1024;

/// A dropped response is logged once every this many drops, with the total.
const DROP_LOG_INTERVAL: u64 = 1000;

/// Returns the retrieved contexts of a request: the text of every packed
/// passage in its system, developer and user messages, in message order.
pub fn contexts_from_request(request: &ChatRequest) -> Vec<String> {
    request
        .messages
        .iter()
        .filter(|message| matches!(message.role, Role::System | Role::Developer | Role::User))
        .flat_map(|message| parse_packed_context(&message.text()))
        .map(|passage| passage.text)
        .collect()
}

/// One response waiting to be scored.
struct Job {
    request_id: String,
    model: String,
    prompt: Option<String>,
    prompt_version: Option<String>,
    answer: String,
    contexts: Vec<String>,
    logprobs: Option<Vec<f64>>,
}

/// Counters of a [`GroundednessHook`].
#[derive(Debug, Default)]
struct Counters {
    enqueued: AtomicU64,
    scored: AtomicU64,
    dropped: AtomicU64,
    skipped: AtomicU64,
}

/// A snapshot of a hook's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroundednessHookStats {
    /// Responses queued for scoring.
    pub enqueued: u64,
    /// Responses scored; each is handed to the sink right after it is
    /// counted.
    pub scored: u64,
    /// Responses dropped because the queue was full or the worker stopped.
    pub dropped: u64,
    /// Requests skipped because they ended without a completion.
    pub skipped: u64,
}

/// Builds a [`GroundednessHook`].
pub struct GroundednessHookBuilder {
    scorer: GroundednessScorer,
    sink: Arc<dyn GroundednessSink>,
    review: Option<Arc<dyn ReviewSink>>,
    queue_capacity: usize,
}

impl GroundednessHookBuilder {
    /// Sets how many responses may wait for the worker; when the queue is
    /// full further responses are dropped and counted. Default: 1024.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] for 0.
    pub fn queue_capacity(mut self, responses: usize) -> Result<Self> {
        if responses == 0 {
            return Err(EvalError::InvalidParameter {
                name: "queue_capacity",
                value: responses.to_string(),
                reason: "pass at least 1".to_owned(),
            });
        }
        self.queue_capacity = responses;
        Ok(self)
    }

    /// Sends every flagged response to `review` as well, such as a
    /// compliance review queue.
    pub fn review(mut self, review: Arc<dyn ReviewSink>) -> Self {
        self.review = Some(review);
        self
    }

    /// Starts the scoring worker on the current Tokio runtime and returns
    /// the hook. The worker stops when the hook is dropped, after scoring
    /// what is queued.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when called outside a Tokio runtime.
    pub fn start(self) -> Result<GroundednessHook> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|error| EvalError::InvalidParameter {
                name: "runtime",
                value: error.to_string(),
                reason: "start the groundedness hook inside a Tokio runtime".to_owned(),
            })?;
        let (sender, receiver) = mpsc::channel(self.queue_capacity);
        let counters = Arc::new(Counters::default());
        runtime.spawn(run_worker(
            receiver,
            self.scorer,
            self.sink,
            self.review,
            Arc::clone(&counters),
        ));
        Ok(GroundednessHook { sender, counters })
    }
}

/// A [`PostCallHook`] that scores the groundedness of every successful
/// response on a bounded background worker.
///
/// `after_call` only queues the response and returns: it never waits for
/// scoring or for queue space. When the queue is full the response is
/// dropped, counted in [`GroundednessHookStats::dropped`] and logged (once
/// per 1000 drops). See the module docs of `grounded` for where the
/// evidence comes from.
pub struct GroundednessHook {
    sender: mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for GroundednessHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroundednessHook")
            .field("stats", &self.stats())
            .finish()
    }
}

impl GroundednessHook {
    /// Starts building a hook that scores with `scorer` and records to
    /// `sink`.
    pub fn builder(
        scorer: GroundednessScorer,
        sink: Arc<dyn GroundednessSink>,
    ) -> GroundednessHookBuilder {
        GroundednessHookBuilder {
            scorer,
            sink,
            review: None,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> GroundednessHookStats {
        GroundednessHookStats {
            enqueued: self.counters.enqueued.load(Ordering::Relaxed),
            scored: self.counters.scored.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            skipped: self.counters.skipped.load(Ordering::Relaxed),
        }
    }

    fn drop_job(&self, request_id: &str, reason: &'static str) {
        let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if dropped == 1 || dropped % DROP_LOG_INTERVAL == 0 {
            tracing::warn!(
                request_id,
                dropped,
                reason,
                "groundedness scoring dropped a response"
            );
        }
    }
}

#[async_trait]
impl PostCallHook for GroundednessHook {
    fn name(&self) -> &str {
        "groundedness"
    }

    async fn after_call(
        &self,
        request: &ChatRequest,
        _context: &CallContext,
        completion: Option<&ChatCompletion>,
        record: &RequestRecord,
    ) {
        let Some(completion) = completion else {
            self.counters.skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let job = job(request, completion, record);
        match self.sender.try_send(job) {
            Ok(()) => {
                self.counters.enqueued.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(job)) => {
                self.drop_job(&job.request_id, "queue full");
            }
            Err(mpsc::error::TrySendError::Closed(job)) => {
                self.drop_job(&job.request_id, "worker stopped");
            }
        }
    }
}

fn job(request: &ChatRequest, completion: &ChatCompletion, record: &RequestRecord) -> Job {
    let metadata_text = |key: &str| {
        let value = request.metadata.as_ref()?.get(key)?;
        match value {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    };
    let logprobs = completion
        .choices
        .first()
        .and_then(|choice| choice.logprobs.as_ref())
        .and_then(token_logprobs);
    Job {
        request_id: record.id.clone(),
        model: record
            .upstream_model
            .clone()
            .unwrap_or_else(|| record.route.model.clone()),
        prompt: metadata_text("llmops_prompt"),
        prompt_version: metadata_text("llmops_prompt_version"),
        answer: completion.text(),
        contexts: contexts_from_request(request),
        logprobs,
    }
}

async fn run_worker(
    mut receiver: mpsc::Receiver<Job>,
    scorer: GroundednessScorer,
    sink: Arc<dyn GroundednessSink>,
    review: Option<Arc<dyn ReviewSink>>,
    counters: Arc<Counters>,
) {
    tracing::info!("groundedness worker started");
    while let Some(job) = receiver.recv().await {
        let mut input = GroundednessInput::new(&job.answer).with_contexts(&job.contexts);
        if let Some(logprobs) = &job.logprobs {
            input = input.with_token_logprobs(logprobs);
        }
        let verdict = scorer.score(&input).await;
        let record = GroundednessRecord {
            request_id: job.request_id,
            model: job.model,
            prompt: job.prompt,
            prompt_version: job.prompt_version,
            score: verdict.score,
            signal: verdict.signal,
            flagged: verdict.flagged,
            unsupported_claims: verdict.unsupported_claims,
        };
        tracing::debug!(
            request_id = record.request_id.as_str(),
            model = record.model.as_str(),
            prompt_version = record.prompt_version.as_deref(),
            flagged = record.flagged,
            "groundedness scored"
        );
        if record.flagged {
            if let Some(review) = &review {
                review.submit(&record);
            }
        }
        counters.scored.fetch_add(1, Ordering::Relaxed);
        sink.record(record);
    }
    tracing::info!("groundedness worker stopped");
}
