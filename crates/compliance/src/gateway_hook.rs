//! Every gateway request as an audit-log entry (feature `gateway`).

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest};
use llmops_gateway::{CallContext, PostCallHook, RequestRecord, RequestStatus};
use serde_json::{Value, json};

use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

/// Appends one `model_call` entry per gateway request, after it ended.
///
/// The entry's subject is `request:ID` with the gateway's record id, and
/// its payload contains the route and its reason, the deployment, the outcome
/// (an error's class, not its text), timing, tokens and cost. Prompts and
/// completions are not recorded. The end user's id, when the request names
/// one, is stored as personal data of that user, so erasing the user's
/// data keeps the chain valid.
///
/// The hook runs on a spawned task, so a slow or failed append never
/// delays a response. A failed append is logged with the request id.
pub struct AuditHook {
    log: AuditLog,
    actor: String,
}

impl AuditHook {
    /// Creates a hook that appends to `log`, with `actor` (such as
    /// `gateway`) on entries whose request names no caller.
    pub fn new(log: AuditLog, actor: impl Into<String>) -> Self {
        AuditHook {
            log,
            actor: actor.into(),
        }
    }
}

/// Builds the entry for one request record.
pub fn model_call_event(context: &CallContext, record: &RequestRecord, actor: &str) -> NewEvent {
    let (status, class) = match &record.status {
        RequestStatus::Success => ("success", None),
        RequestStatus::Error { class, .. } => ("error", Some(class.clone())),
        RequestStatus::Cancelled => ("cancelled", None),
    };
    let usage = record.usage.as_ref().map_or(Value::Null, |usage| {
        json!({
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
        })
    });
    let payload = json!({
        "requested_model": record.route.requested_model,
        "model": record.route.model,
        "task": record.route.task,
        "route_reason": record.route.reason,
        "deployment": record.deployment,
        "upstream_model": record.upstream_model,
        "status": status,
        "error_class": class,
        "stream": record.stream,
        "attempts": record.attempts.len(),
        "latency_ms": record.latency_ms,
        "usage": usage,
        "cost_usd": record.cost_usd.map(|cost| cost.to_string()),
        "cache_hit": record.cache_hit,
        "key": context.key,
        "team": context.team,
    });
    let actor = context.caller.as_deref().unwrap_or(actor);
    let mut event = NewEvent::new(
        EventKind::ModelCall,
        actor,
        format!("request:{}", record.id),
    )
    .payload(payload);
    if let Some(user) = &context.user {
        event = event.personal(user.clone(), json!({ "user": user }));
    }
    event
}

#[async_trait]
impl PostCallHook for AuditHook {
    fn name(&self) -> &str {
        "audit-log"
    }

    async fn after_call(
        &self,
        _request: &ChatRequest,
        context: &CallContext,
        _completion: Option<&ChatCompletion>,
        record: &RequestRecord,
    ) {
        let event = model_call_event(context, record, &self.actor);
        if let Err(error) = self.log.append(event).await {
            tracing::error!(request = %record.id, %error, "audit log append failed");
        }
    }
}
