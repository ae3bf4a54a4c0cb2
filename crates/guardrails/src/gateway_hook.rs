//! The input guards as a gateway pre-call hook (feature `gateway`).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use llmops_core::Error;
use llmops_core::types::{ChatRequest, MessageContent};
use llmops_gateway::{CallContext, PreCallHook};

use crate::chat_ner::{ChatEntityExtractor, FailurePolicy};
use crate::guard::{Action, Stage};
use crate::mention::EntityMention;
use crate::pipeline::Pipeline;

/// The provider name on errors this hook returns.
const PROVIDER: &str = "guardrails";

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
    /// Whether the entity model failed or timed out on the request.
    pub entity_model_failed: bool,
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
    events: Mutex<Vec<GuardEvent>>,
}

/// Builds a [`GuardHook`].
pub struct GuardHookBuilder {
    pipeline: Pipeline,
    tag_on_findings: Option<String>,
    entity_model: Option<(ChatEntityExtractor, FailurePolicy)>,
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

    /// Builds the hook.
    pub fn build(self) -> Arc<GuardHook> {
        Arc::new(GuardHook {
            pipeline: self.pipeline,
            tag_on_findings: self.tag_on_findings,
            entity_model: self.entity_model,
            events: Mutex::new(Vec::new()),
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

    /// Returns and clears the events of requests changed, flagged or
    /// blocked since the last call.
    pub fn take_events(&self) -> Vec<GuardEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn record(&self, event: GuardEvent) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
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
        event.action = event.action.max(outcome.action);
        for verdict in &outcome.verdicts {
            for finding in &verdict.findings {
                let entity = finding.entity.to_string();
                if !event.entities.contains(&entity) {
                    event.entities.push(entity);
                }
            }
            event.reasons.extend(verdict.reasons.iter().cloned());
        }
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
        let mut event = GuardEvent {
            action: Action::Allow,
            entities: Vec::new(),
            reasons: Vec::new(),
            entity_model_failed: false,
        };
        let mentions = self.find_mentions(request, &mut event).await?;
        for message in &mut request.messages {
            match &mut message.content {
                Some(MessageContent::Text(text)) => {
                    if let Some(replaced) = self.check(text, &mentions, &mut event)? {
                        *text = replaced;
                    }
                }
                Some(MessageContent::Parts(parts)) => {
                    for text in parts.iter_mut().filter_map(|part| part.text.as_mut()) {
                        if let Some(replaced) = self.check(text, &mentions, &mut event)? {
                            *text = replaced;
                        }
                    }
                }
                None => {}
            }
            if event.action == Action::Block {
                break;
            }
        }
        if event.action == Action::Allow && event.entities.is_empty() && !event.entity_model_failed
        {
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
        self.record(event);
        if blocked {
            return Err(Error::ContentPolicy {
                provider: PROVIDER.to_owned(),
                message: format!("the request was blocked: {reasons}"),
            });
        }
        Ok(())
    }
}
