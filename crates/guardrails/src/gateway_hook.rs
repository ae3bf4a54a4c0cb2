//! The input guards as a gateway pre-call hook and the output guards as a
//! gateway output hook (feature `gateway`).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest, MessageContent};
use llmops_core::{ChatStream, Error};
use llmops_gateway::{CallContext, OutputHook, PreCallHook};

use crate::analyzer::Analyzer;
use crate::anonymize::Anonymizer;
use crate::chat_ner::{ChatEntityExtractor, FailurePolicy};
use crate::error::Result as GuardResult;
use crate::gateway_stream::{RedactingStream, StreamRedaction};
use crate::guard::{Action, Stage};
use crate::mention::EntityMention;
use crate::pipeline::{Outcome, Pipeline, PipelineConfig};
use crate::stream::DEFAULT_WINDOW_CHARS;

/// The provider name on errors these hooks return.
pub(crate) const PROVIDER: &str = "guardrails";

/// Receives each [`GuardEvent`] as a hook records it, such as a monitor
/// that counts findings by entity type. It runs on the request's task, so
/// it should return quickly.
pub type GuardListener = Arc<dyn Fn(&GuardEvent) + Send + Sync>;

/// A summary of one request the hook changed or flagged, without any found
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardEvent {
    /// The strongest action taken on the request (`Block` over `Review` over `Redact`).
    pub action: Action,
    /// The entity types found, such as `KR_RRN`, in order of first finding.
    pub entities: Vec<String>,
    /// The guards' reasons, which never contain a found value.
    pub reasons: Vec<String>,
    /// The names of the guards that flagged the text, such as `injection`,
    /// in order of first flag.
    pub guards: Vec<String>,
    /// Whether the entity model failed or timed out on the request.
    pub entity_model_failed: bool,
}

impl GuardEvent {
    /// Creates an event with no action and nothing found.
    pub(crate) fn empty() -> GuardEvent {
        GuardEvent {
            action: Action::Allow,
            entities: Vec::new(),
            reasons: Vec::new(),
            guards: Vec::new(),
            entity_model_failed: false,
        }
    }

    /// Returns true when no guard acted on the text, no entity was found
    /// and the entity model, if any, returned its mentions.
    pub fn is_empty(&self) -> bool {
        self.action == Action::Allow && self.entities.is_empty() && !self.entity_model_failed
    }

    /// Adds what one pipeline run found.
    pub(crate) fn add_outcome(&mut self, outcome: &Outcome) {
        self.action = self.action.max(outcome.action);
        for verdict in &outcome.verdicts {
            for finding in &verdict.findings {
                self.add_entity(finding.entity.to_string());
            }
            if verdict.action != Action::Allow && !self.guards.contains(&verdict.guard) {
                self.guards.push(verdict.guard.clone());
            }
            self.reasons.extend(verdict.reasons.iter().cloned());
        }
    }

    /// Adds an entity type, once.
    pub(crate) fn add_entity(&mut self, entity: String) {
        if !self.entities.contains(&entity) {
            self.entities.push(entity);
        }
    }
}

/// The destination of a hook's events: a listener, or a buffer read by
/// [`GuardHook::take_events`].
#[derive(Default)]
struct EventSink {
    listener: Option<GuardListener>,
    buffer: Mutex<Vec<GuardEvent>>,
}

impl EventSink {
    fn send(&self, event: GuardEvent) {
        match &self.listener {
            Some(listener) => listener(&event),
            None => self
                .buffer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(event),
        }
    }
}

/// Runs a [`Pipeline`]'s input guards on every text of a chat request
/// before the gateway routes it.
///
/// - `Redact` replaces the text in the request, so no model receives the
///   found values.
/// - `Block` rejects the request with [`Error::ContentPolicy`], and no
///   model is called.
/// - `Review` lets the request through; it shows in [`GuardHook::take_events`]
///   for the application to queue for human review.
///
/// With `tag_on_findings` set, a request with findings may only go to
/// deployments that carry that tag, such as `on_prem`.
///
/// With an entity model ([`GuardHookBuilder::entity_model`]), the hook first
/// asks the model once for the names and places in all texts of the request,
/// and the pipeline redacts them together with the pattern findings.
pub struct GuardHook {
    pipeline: Pipeline,
    tag_on_findings: Option<String>,
    entity_model: Option<(ChatEntityExtractor, FailurePolicy)>,
    events: EventSink,
}

/// Builds a [`GuardHook`].
pub struct GuardHookBuilder {
    pipeline: Pipeline,
    tag_on_findings: Option<String>,
    entity_model: Option<(ChatEntityExtractor, FailurePolicy)>,
    listener: Option<GuardListener>,
}

impl GuardHookBuilder {
    /// Restricts requests with findings to deployments tagged `tag`.
    pub fn tag_on_findings(mut self, tag: impl Into<String>) -> Self {
        self.tag_on_findings = Some(tag.into());
        self
    }

    /// Adds a model-based entity recognizer; `on_failure` decides what
    /// happens to a request when the model fails or times out.
    pub fn entity_model(
        mut self,
        extractor: ChatEntityExtractor,
        on_failure: FailurePolicy,
    ) -> Self {
        self.entity_model = Some((extractor, on_failure));
        self
    }

    /// Passes each event to `listener` as it happens instead of keeping it
    /// for [`GuardHook::take_events`].
    pub fn listener(mut self, listener: GuardListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Builds the hook.
    pub fn build(self) -> Arc<GuardHook> {
        Arc::new(GuardHook {
            pipeline: self.pipeline,
            tag_on_findings: self.tag_on_findings,
            entity_model: self.entity_model,
            events: EventSink {
                listener: self.listener,
                buffer: Mutex::default(),
            },
        })
    }
}

impl GuardHook {
    /// Starts a hook that runs `pipeline` on every request.
    pub fn builder(pipeline: Pipeline) -> GuardHookBuilder {
        GuardHookBuilder {
            pipeline,
            tag_on_findings: None,
            entity_model: None,
            listener: None,
        }
    }

    /// Creates a hook that runs `pipeline` on every request.
    pub fn new(pipeline: Pipeline) -> Arc<Self> {
        Self::builder(pipeline).build()
    }

    /// Creates a hook that also restricts requests with findings to
    /// deployments tagged `tag`.
    pub fn with_tag_on_findings(pipeline: Pipeline, tag: impl Into<String>) -> Arc<Self> {
        Self::builder(pipeline).tag_on_findings(tag).build()
    }

    /// Creates a hook that passes each event to `listener` as it happens,
    /// so [`GuardHook::take_events`] stays empty and a long-running server
    /// keeps no events in memory. `tag_on_findings` works as in
    /// [`GuardHook::with_tag_on_findings`].
    pub fn with_listener(
        pipeline: Pipeline,
        tag_on_findings: Option<String>,
        listener: GuardListener,
    ) -> Arc<Self> {
        let mut builder = Self::builder(pipeline).listener(listener);
        builder.tag_on_findings = tag_on_findings;
        builder.build()
    }

    /// Returns and clears the events of requests changed, flagged or
    /// blocked since the last call.
    pub fn take_events(&self) -> Vec<GuardEvent> {
        std::mem::take(
            &mut *self
                .events
                .buffer
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn record(&self, event: GuardEvent) {
        self.events.send(event);
    }

    /// Asks the entity model, when there is one, for the mentions in all
    /// texts of `request` with a single call.
    async fn find_mentions(
        &self,
        request: &ChatRequest,
        event: &mut GuardEvent,
    ) -> Result<Vec<EntityMention>, Error> {
        let Some((extractor, on_failure)) = &self.entity_model else {
            return Ok(Vec::new());
        };
        let texts: Vec<String> = request
            .messages
            .iter()
            .map(|message| message.text())
            .collect();
        let error = match extractor.extract(&texts.join("\n\n")).await {
            Ok(mentions) => return Ok(mentions),
            Err(error) => error,
        };
        event.entity_model_failed = true;
        if *on_failure == FailurePolicy::FailOpen {
            tracing::warn!(
                recognizer = extractor.name(),
                %error,
                "the entity model failed; checking the request with patterns only"
            );
            return Ok(Vec::new());
        }
        tracing::warn!(
            recognizer = extractor.name(),
            %error,
            "the entity model failed; rejecting the request"
        );
        event.action = Action::Block;
        self.record(event.clone());
        Err(Error::Backend {
            provider: PROVIDER.to_owned(),
            message: format!(
                "the request was not sent because the entity model check failed: {error}. \
                 Retry, or set the entity model's failure policy to fail_open to check with patterns only"
            ),
        })
    }

    /// Checks one text and records what was found; returns the text to use.
    fn check(
        &self,
        text: &str,
        mentions: &[EntityMention],
        event: &mut GuardEvent,
    ) -> Result<Option<String>, Error> {
        let outcome = self
            .pipeline
            .check_with_mentions(text, Stage::Input, mentions)
            .map_err(|error| Error::InvalidRequest {
                provider: PROVIDER.to_owned(),
                param: Some("messages".to_owned()),
                message: error.to_string(),
            })?;
        event.add_outcome(&outcome);
        Ok((outcome.text != text).then_some(outcome.text))
    }
}

#[async_trait]
impl PreCallHook for GuardHook {
    fn name(&self) -> &str {
        "guardrails"
    }

    async fn before_call(
        &self,
        request: &mut ChatRequest,
        context: &mut CallContext,
    ) -> Result<(), Error> {
        let mut event = GuardEvent::empty();
        let mentions = self.find_mentions(request, &mut event).await?;
        for message in &mut request.messages {
            rewrite_texts(&mut message.content, |text| {
                self.check(text, &mentions, &mut event)
            })?;
            if event.action == Action::Block {
                break;
            }
        }
        if event.is_empty() {
            return Ok(());
        }
        tracing::info!(
            action = ?event.action,
            entities = ?event.entities,
            "guardrails changed or flagged a request"
        );
        if let Some(tag) = &self.tag_on_findings {
            if !event.entities.is_empty() {
                *context = std::mem::take(context).require_tag(tag.clone());
            }
        }
        let blocked = event.action == Action::Block;
        let reasons = event.reasons.join("; ");
        self.events.send(event);
        if blocked {
            return Err(Error::ContentPolicy {
                provider: PROVIDER.to_owned(),
                message: format!("the request was blocked: {reasons}"),
            });
        }
        Ok(())
    }
}

/// Passes each text of `content` to `check`, and replaces it with the
/// text `check` returns, if any.
fn rewrite_texts(
    content: &mut Option<MessageContent>,
    mut check: impl FnMut(&str) -> Result<Option<String>, Error>,
) -> Result<(), Error> {
    let texts: Vec<&mut String> = match content {
        Some(MessageContent::Text(text)) => vec![text],
        Some(MessageContent::Parts(parts)) => parts
            .iter_mut()
            .filter_map(|part| part.text.as_mut())
            .collect(),
        None => Vec::new(),
    };
    for text in texts {
        if let Some(replaced) = check(text)? {
            *text = replaced;
        }
    }
    Ok(())
}

/// Runs a [`Pipeline`]'s output guards on every response before the
/// caller receives it, whether a model or a cache served it.
///
/// - On a whole completion, `Redact` replaces the text of each choice and
///   `Block` replaces the response with [`Error::ContentPolicy`].
/// - On a stream, the PII guard's entities are redacted with a
///   [`StreamScanner`](crate::StreamScanner), which holds back the last
///   `window_chars` characters of each choice until they can be checked.
///   Findings whose action is `Block` are redacted too, because the text
///   before them has already been sent.
///
/// NOTE: the other output checks (length, banned terms, JSON, citations,
/// refusals) need the whole text, so they run on whole completions only.
/// Streams pass them unchecked.
pub struct OutputGuardHook {
    pipeline: Pipeline,
    stream: Option<Arc<StreamRedaction>>,
    window_chars: usize,
    events: Arc<EventSink>,
}

impl OutputGuardHook {
    /// Builds the output guards of `config`; a `pii` section also redacts
    /// streams.
    ///
    /// # Errors
    ///
    /// The errors of [`Pipeline::from_config`].
    pub fn from_config(config: &PipelineConfig) -> GuardResult<Self> {
        let pipeline = Pipeline::from_config(config)?;
        let stream = config.pii.as_ref().map(|pii| {
            let mut analyzer = Analyzer::new().with_min_score(pii.min_score);
            if let Some(entities) = &pii.entities {
                analyzer = analyzer.with_entities(entities.clone());
            }
            let anonymizer = match &pii.operator {
                Some(operator) => Anonymizer::new(operator.clone()),
                None => Anonymizer::default(),
            };
            Arc::new(StreamRedaction {
                analyzer: Arc::new(analyzer),
                anonymizer,
            })
        });
        Ok(OutputGuardHook {
            pipeline,
            stream,
            window_chars: DEFAULT_WINDOW_CHARS,
            events: Arc::new(EventSink::default()),
        })
    }

    /// Sets the characters of each streamed choice held back for checking
    /// (default [`DEFAULT_WINDOW_CHARS`]); it should exceed the longest
    /// value to catch.
    pub fn with_window_chars(mut self, window_chars: usize) -> Self {
        self.window_chars = window_chars;
        self
    }

    /// Passes each event to `listener` instead of keeping it for
    /// [`OutputGuardHook::take_events`].
    pub fn with_listener(mut self, listener: GuardListener) -> Self {
        self.events = Arc::new(EventSink {
            listener: Some(listener),
            buffer: Mutex::default(),
        });
        self
    }

    /// Returns and clears the events of responses changed, flagged or
    /// blocked since the last call.
    pub fn take_events(&self) -> Vec<GuardEvent> {
        std::mem::take(
            &mut *self
                .events
                .buffer
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Checks one text and records what was found; returns the text to use.
    fn check(&self, text: &str, event: &mut GuardEvent) -> Result<Option<String>, Error> {
        let outcome = self
            .pipeline
            .check(text, Stage::Output)
            .map_err(|error| Error::Backend {
                provider: PROVIDER.to_owned(),
                message: format!("the output guards failed: {error}"),
            })?;
        event.add_outcome(&outcome);
        Ok((outcome.text != text).then_some(outcome.text))
    }
}

#[async_trait]
impl OutputHook for OutputGuardHook {
    fn name(&self) -> &str {
        "output-guardrails"
    }

    async fn check_completion(
        &self,
        _request: &ChatRequest,
        _context: &CallContext,
        completion: &mut ChatCompletion,
    ) -> Result<(), Error> {
        let mut event = GuardEvent::empty();
        for choice in &mut completion.choices {
            rewrite_texts(&mut choice.message.content, |text| {
                self.check(text, &mut event)
            })?;
            if event.action == Action::Block {
                break;
            }
        }
        if event.is_empty() {
            return Ok(());
        }
        tracing::info!(
            action = ?event.action,
            entities = ?event.entities,
            "guardrails changed or flagged a response"
        );
        let blocked = event.action == Action::Block;
        let reasons = event.reasons.join("; ");
        self.events.send(event);
        if blocked {
            return Err(Error::ContentPolicy {
                provider: PROVIDER.to_owned(),
                message: format!("the response was blocked: {reasons}"),
            });
        }
        Ok(())
    }

    fn wrap_stream(
        &self,
        _request: &ChatRequest,
        _context: &CallContext,
        stream: ChatStream,
    ) -> ChatStream {
        let Some(redaction) = &self.stream else {
            return stream;
        };
        let events = Arc::clone(&self.events);
        let report: Box<dyn FnOnce(GuardEvent) + Send> = Box::new(move |event| {
            tracing::info!(
                entities = ?event.entities,
                "guardrails redacted a streamed response"
            );
            events.send(event);
        });
        RedactingStream::wrap(stream, Arc::clone(redaction), self.window_chars, report)
    }
}
