//! The input guards as a gateway pre-call hook (feature `gateway`).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use llmops_core::Error;
use llmops_core::types::{ChatRequest, MessageContent};
use llmops_gateway::{CallContext, PreCallHook};

use crate::guard::{Action, Stage};
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
pub struct GuardHook {
    pipeline: Pipeline,
    tag_on_findings: Option<String>,
    events: Mutex<Vec<GuardEvent>>,
}

impl GuardHook {
    /// Creates a hook that runs `pipeline` on every request.
    pub fn new(pipeline: Pipeline) -> Arc<Self> {
        Arc::new(GuardHook {
            pipeline,
            tag_on_findings: None,
            events: Mutex::new(Vec::new()),
        })
    }

    /// Creates a hook that also restricts requests with findings to
    /// deployments tagged `tag`.
    pub fn with_tag_on_findings(pipeline: Pipeline, tag: impl Into<String>) -> Arc<Self> {
        Arc::new(GuardHook {
            pipeline,
            tag_on_findings: Some(tag.into()),
            events: Mutex::new(Vec::new()),
        })
    }

    /// Returns and clears the events of requests changed, flagged or
    /// blocked since the last call.
    pub fn take_events(&self) -> Vec<GuardEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Checks one text and records what was found; returns the text to use.
    fn check(&self, text: &str, event: &mut GuardEvent) -> Result<Option<String>, Error> {
        let outcome =
            self.pipeline
                .check(text, Stage::Input)
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
        };
        for message in &mut request.messages {
            match &mut message.content {
                Some(MessageContent::Text(text)) => {
                    if let Some(replaced) = self.check(text, &mut event)? {
                        *text = replaced;
                    }
                }
                Some(MessageContent::Parts(parts)) => {
                    for text in parts.iter_mut().filter_map(|part| part.text.as_mut()) {
                        if let Some(replaced) = self.check(text, &mut event)? {
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
        if event.action == Action::Allow && event.entities.is_empty() {
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
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
        if blocked {
            return Err(Error::ContentPolicy {
                provider: PROVIDER.to_owned(),
                message: format!("the request was blocked: {reasons}"),
            });
        }
        Ok(())
    }
}
