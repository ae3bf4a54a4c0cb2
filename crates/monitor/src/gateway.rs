//! Feeding the monitor from an llmops-gateway (feature `gateway`).
//!
//! Two ways, use one of them per gateway so requests are not counted
//! twice:
//!
//! - `Monitor` is a [`RecordSink`]: it receives the gateway's record only,
//!   so observations carry no team, key or prompt.
//! - [`MonitorHook`] is a [`PostCallHook`]: it also reads the caller's
//!   [`CallContext`] (key, team, task) and the request's metadata, where
//!   the registry prompt is named under [`PROMPT_METADATA_KEY`] and
//!   [`PROMPT_VERSION_METADATA_KEY`].

use std::collections::HashMap;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest};
use llmops_gateway::{
    CallContext, GatewayConfig, PostCallHook, RecordSink, RequestRecord, RequestStatus,
};
use rust_decimal::prelude::ToPrimitive;

use crate::feedback_store::FeedbackStore;
use crate::monitor::Monitor;
use crate::observation::{Outcome, PromptRef, RequestObservation};

/// The request metadata key naming the registry prompt, such as
/// `{"llmops_prompt": "support-answer"}`.
pub const PROMPT_METADATA_KEY: &str = "llmops_prompt";

/// The request metadata key of the prompt's version, a number or a string
/// of digits.
pub const PROMPT_VERSION_METADATA_KEY: &str = "llmops_prompt_version";

/// The most failed attempts listed per observation; the monitor counts up
/// to eight by class.
const MAX_FAILED_ATTEMPTS: usize = 8;

/// The model label of requests for a model the gateway does not serve.
pub const UNKNOWN_MODEL: &str = "(unknown)";

/// Facts about a request that the gateway's record lacks.
#[derive(Debug, Default, Clone, Copy)]
struct Extra<'a> {
    key: Option<&'a str>,
    team: Option<&'a str>,
    route: Option<&'a str>,
    prompt: Option<PromptRef<'a>>,
    cache_lookup: bool,
}

/// Records one gateway record with the extra facts.
fn record(
    monitor: &Monitor,
    record: &RequestRecord,
    providers: &HashMap<String, String>,
    extra: Extra<'_>,
) {
    let model = record
        .attempts
        .last()
        .map_or(record.route.model.as_str(), |attempt| {
            attempt.model.as_str()
        });
    // A model name that nothing serves came from the client; as a label it
    // would add a row per typo to every by-model view.
    let model = match &record.status {
        RequestStatus::Error { class, .. } if *class == "unknown_model" => UNKNOWN_MODEL,
        _ => model,
    };
    let provider = record
        .deployment
        .as_ref()
        .or_else(|| record.attempts.last().map(|attempt| &attempt.deployment))
        .and_then(|deployment| providers.get(deployment))
        .map_or("", String::as_str);
    let outcome = match &record.status {
        RequestStatus::Success => Outcome::Success,
        RequestStatus::Error { class, .. } => Outcome::Error(class),
        RequestStatus::Cancelled => Outcome::Cancelled,
    };
    let mut failed: [&str; MAX_FAILED_ATTEMPTS] = [""; MAX_FAILED_ATTEMPTS];
    let mut failed_count = 0;
    for attempt in record
        .attempts
        .iter()
        .filter(|attempt| attempt.error.is_some())
    {
        if let Some(slot) = failed.get_mut(failed_count) {
            *slot = attempt.error_class.unwrap_or("error");
            failed_count += 1;
        }
    }
    let usage = record.usage.as_ref();
    let observation = RequestObservation {
        model,
        provider,
        deployment: record.deployment.as_deref(),
        operation: "chat",
        outcome,
        duration_ms: record.latency_ms,
        time_to_first_token_ms: record.time_to_first_token_ms,
        input_tokens: usage.map_or(0, |usage| usage.prompt_tokens),
        output_tokens: usage.map_or(0, |usage| usage.completion_tokens),
        cost_usd: record
            .cost_usd
            .and_then(|cost| cost.to_f64())
            .unwrap_or(0.0),
        cache_lookup: extra.cache_lookup || record.cache_hit,
        cache_hit: record.cache_hit,
        fallback: record.succeeded() && record.attempts.len() > 1,
        failed_attempts: &failed[..failed_count],
        guard_findings: &[],
        key: extra.key,
        team: extra.team,
        route: extra.route.or(record.route.task.as_deref()),
        prompt: extra.prompt,
        request_id: Some(&record.id),
        timestamp_ms: Some(record.started_at_ms + record.latency_ms.max(0.0) as u64),
    };
    monitor.record_request(&observation);
}

impl RecordSink for Monitor {
    fn record(&self, request: RequestRecord) {
        record(self, &request, &HashMap::new(), Extra::default());
    }
}

/// A [`PostCallHook`] that records every request into a [`Monitor`] with
/// its key, team, task and prompt version, and optionally remembers the
/// request's prompt version in a [`FeedbackStore`] so later feedback on
/// the request id is attached to it.
///
/// Observations take their timestamps from the gateway's record (arrival
/// plus latency, wall clock), so the monitor should run on the
/// [`SystemClock`](crate::SystemClock) too; a request more than a second
/// ahead of the monitor's clock is dropped.
#[derive(Debug, Clone)]
pub struct MonitorHook {
    monitor: Monitor,
    providers: HashMap<String, String>,
    cache_enabled: bool,
    feedback: Option<FeedbackStore>,
}

impl MonitorHook {
    /// Creates a hook; provider names and whether the cache is on come
    /// from the gateway's configuration.
    pub fn new(monitor: Monitor, config: &GatewayConfig) -> Self {
        let providers = config
            .models
            .iter()
            .flat_map(|model| &model.deployments)
            .map(|deployment| (deployment.id.clone(), deployment.provider.clone()))
            .collect();
        MonitorHook {
            monitor,
            providers,
            cache_enabled: config.cache.enabled,
            feedback: None,
        }
    }

    /// Remembers each request's model and prompt version in `store`.
    pub fn with_feedback_store(mut self, store: FeedbackStore) -> Self {
        self.feedback = Some(store);
        self
    }
}

/// The registry prompt named in the request's metadata.
pub fn prompt_from_metadata(request: &ChatRequest) -> Option<PromptRef<'_>> {
    let metadata = request.metadata.as_ref()?;
    let name = metadata.get(PROMPT_METADATA_KEY)?.as_str()?;
    let version = metadata.get(PROMPT_VERSION_METADATA_KEY)?;
    let version = match version {
        serde_json::Value::Number(number) => u32::try_from(number.as_u64()?).ok()?,
        serde_json::Value::String(text) => text.parse().ok()?,
        _ => return None,
    };
    Some(PromptRef { name, version })
}

#[async_trait]
impl PostCallHook for MonitorHook {
    fn name(&self) -> &str {
        "monitor"
    }

    async fn after_call(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        _completion: Option<&ChatCompletion>,
        request_record: &RequestRecord,
    ) {
        let prompt = prompt_from_metadata(request);
        let extra = Extra {
            key: context.key.as_deref(),
            team: context.team.as_deref(),
            route: context.task.as_deref(),
            prompt,
            cache_lookup: self.cache_enabled && !context.no_cache,
        };
        record(&self.monitor, request_record, &self.providers, extra);

        let Some(store) = &self.feedback else {
            return;
        };
        let model = request_record.route.model.as_str();
        if let Err(error) = store
            .remember_request(&request_record.id, model, prompt)
            .await
        {
            tracing::warn!(request_id = %request_record.id, %error, "request not remembered for feedback");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_reads_number_or_string_version() {
        let mut request = ChatRequest::new("m", Vec::new());
        let mut metadata = serde_json::Map::new();
        metadata.insert(PROMPT_METADATA_KEY.into(), "answer".into());
        metadata.insert(PROMPT_VERSION_METADATA_KEY.into(), 3.into());
        request.metadata = Some(metadata.clone());
        assert_eq!(
            prompt_from_metadata(&request),
            Some(PromptRef {
                name: "answer",
                version: 3
            })
        );
        metadata.insert(PROMPT_VERSION_METADATA_KEY.into(), "7".into());
        request.metadata = Some(metadata.clone());
        assert_eq!(
            prompt_from_metadata(&request).map(|prompt| prompt.version),
            Some(7)
        );
        metadata.insert(PROMPT_VERSION_METADATA_KEY.into(), "v7".into());
        request.metadata = Some(metadata);
        assert_eq!(prompt_from_metadata(&request), None);
    }
}
