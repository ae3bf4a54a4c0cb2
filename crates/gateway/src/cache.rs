//! The response cache: the requests it stores, their keys, and the replay
//! of a cached completion as a stream.
//!
//! The key is the canonical JSON (object keys sorted, no whitespace) of the
//! request with these fields removed, because they do not change the
//! response:
//!
//! - `stream` and `stream_options`: a stream and a plain call of the same
//!   request share one entry;
//! - `user`: an end-user id for the provider's abuse monitoring;
//! - `metadata`: free-form; its routing hint (`task`) is covered because
//!   the key contains the model the route resolved to instead of the
//!   requested name.
//!
//! The tags the request requires are part of the key, so a request
//! restricted to `on_prem` deployments never reads an answer produced
//! elsewhere. Every other field, unknown ones included, stays in the key.
//! An identical request from another user or key gets the cached response.

use llmops_core::types::{ChatCompletion, ChatCompletionChunk, ChatRequest, ChunkChoice, Delta};
use serde_json::Value;

use crate::config::CacheConfig;

/// Fields removed from the request before it becomes a cache key.
const IGNORED_FIELDS: [&str; 4] = ["stream", "stream_options", "user", "metadata"];

/// Returns whether the response to `request` may be cached: a temperature of
/// exactly 0, or any request when `cache_nondeterministic` is set. An unset
/// temperature counts as nondeterministic, because OpenAI and Anthropic
/// default to sampling at 1.
pub(crate) fn is_cacheable(config: &CacheConfig, request: &ChatRequest) -> bool {
    config.cache_nondeterministic || request.temperature == Some(0.0)
}

/// Returns the cache key of `request` routed to `model` under
/// `required_tags`, or none when the request cannot be serialized.
pub(crate) fn cache_key(
    request: &ChatRequest,
    model: &str,
    required_tags: &[String],
) -> Option<String> {
    let mut value = serde_json::to_value(request).ok()?;
    let object = value.as_object_mut()?;
    for field in IGNORED_FIELDS {
        object.remove(field);
    }
    object.insert("model".to_owned(), Value::String(model.to_owned()));
    let mut tags: Vec<&str> = required_tags.iter().map(String::as_str).collect();
    tags.sort_unstable();
    tags.dedup();
    let mut key = String::from("cache:v1:");
    write_canonical(
        &serde_json::json!({ "request": value, "tags": tags }),
        &mut key,
    );
    Some(key)
}

/// Writes `value` as JSON with object keys in sorted order, whatever map
/// type serde_json was built with, so equal values give equal text.
pub fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|left, right| left.0.cmp(right.0));
            out.push('{');
            for (position, (name, item)) in entries.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Converts a cached completion into the chunks of a stream: per choice a
/// role chunk, a content chunk and a chunk with the finish reason, then a
/// usage chunk when `include_usage` is set and the completion has usage.
pub(crate) fn replay_chunks(
    completion: &ChatCompletion,
    include_usage: bool,
) -> Vec<ChatCompletionChunk> {
    let mut chunks = Vec::new();
    for mut chunk in completion.to_chunks(include_usage) {
        let finishes: Vec<ChunkChoice> = chunk
            .choices
            .iter_mut()
            .filter_map(|choice| {
                choice
                    .finish_reason
                    .take()
                    .map(|reason| ChunkChoice::new(choice.index, Delta::default(), Some(reason)))
            })
            .collect();
        let mut finish_chunk = chunk.clone();
        chunks.push(chunk);
        if !finishes.is_empty() {
            finish_chunk.choices = finishes;
            finish_chunk.usage = None;
            chunks.push(finish_chunk);
        }
    }
    chunks
}

impl crate::gateway::Gateway {
    /// Looks the request up in the exact response cache, then in the
    /// semantic cache when one is set.
    pub(crate) async fn cached(
        &self,
        pending: &mut crate::gateway::Pending,
    ) -> Option<ChatCompletion> {
        if let Some(completion) = self.exact_cached(pending).await {
            return Some(completion);
        }
        self.semantic_cached(pending).await
    }

    /// Looks the request up in the response cache when the cache is on,
    /// the caller did not opt out and the request is cacheable. On a miss
    /// the key stays in `pending` so the response is stored when the call succeeds.
    /// A hit settles the token reservations to 0.
    async fn exact_cached(&self, pending: &mut crate::gateway::Pending) -> Option<ChatCompletion> {
        let config = &self.inner.config.cache;
        if !config.enabled || pending.context.no_cache || !is_cacheable(config, &pending.request) {
            return None;
        }
        let key = cache_key(
            &pending.request,
            &pending.decision.model,
            &pending.context.required_tags,
        )?;
        let now_ms = self.inner.clock.now_ms();
        let bytes = match self.inner.state.cache_get(now_ms, &key).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, "response cache lookup failed; calling the model");
                None
            }
        };
        let completion =
            bytes.and_then(|bytes| serde_json::from_slice::<ChatCompletion>(&bytes).ok());
        self.inner.counters.cache_lookup(completion.is_some());
        if completion.is_none() {
            pending.cache_key = Some(key);
            return None;
        }
        pending.cache_hit = true;
        pending.cache_kind = Some(crate::record::CacheKind::Exact);
        completion
    }

    /// Stores a successful response under `key` for the configured TTL.
    pub(crate) async fn store_cached(&self, key: &str, bytes: Vec<u8>) {
        let ttl_ms = self.inner.config.cache.ttl_secs.saturating_mul(1_000);
        let now_ms = self.inner.clock.now_ms();
        if let Err(error) = self.inner.state.cache_put(now_ms, key, bytes, ttl_ms).await {
            tracing::warn!(%error, "response not cached");
        }
    }
}

#[cfg(test)]
mod tests {
    use llmops_core::types::{ChatMessage, Choice, FinishReason, StreamAccumulator, Usage};

    use super::*;

    fn request() -> ChatRequest {
        let mut request = ChatRequest::new("chat", vec![ChatMessage::user("Bonjour, ça va ?")]);
        request.temperature = Some(0.0);
        request
    }

    #[test]
    fn stream_fields_do_not_change_key() {
        let plain = request();
        let mut streamed = request();
        streamed.stream = Some(true);
        streamed.stream_options = Some(serde_json::from_str(r#"{"include_usage":true}"#).unwrap());
        streamed.user = Some("alice".to_owned());
        assert_eq!(
            cache_key(&plain, "chat", &[]),
            cache_key(&streamed, "chat", &[])
        );
    }

    #[test]
    fn answer_fields_change_key() {
        let base = cache_key(&request(), "chat", &[]);
        let mut other = request();
        other.max_tokens = Some(5);
        assert_ne!(cache_key(&other, "chat", &[]), base);
        let mut other = request();
        other.extra.insert("logprobs".to_owned(), Value::Bool(true));
        assert_ne!(cache_key(&other, "chat", &[]), base, "unknown fields count");
        assert_ne!(cache_key(&request(), "other-model", &[]), base);
        assert_ne!(cache_key(&request(), "chat", &["on_prem".to_owned()]), base);
    }

    #[test]
    fn key_ignores_object_key_order() {
        let mut first = request();
        let mut second = request();
        first
            .extra
            .insert("a".to_owned(), serde_json::json!({"x": 1, "y": 2}));
        second
            .extra
            .insert("a".to_owned(), serde_json::json!({"y": 2, "x": 1}));
        assert_eq!(
            cache_key(&first, "chat", &[]),
            cache_key(&second, "chat", &[])
        );
    }

    #[test]
    fn unset_temperature_is_not_cacheable() {
        let config = CacheConfig::default();
        let mut unset = request();
        unset.temperature = None;
        assert!(!is_cacheable(&config, &unset));
        let mut warm = request();
        warm.temperature = Some(0.7);
        assert!(!is_cacheable(&config, &warm));
        assert!(is_cacheable(&config, &request()));
        let opted_in = CacheConfig {
            cache_nondeterministic: true,
            ..CacheConfig::default()
        };
        assert!(is_cacheable(&opted_in, &warm));
    }

    #[test]
    fn replayed_chunks_rebuild_the_completion() {
        let mut completion = ChatCompletion::new(
            "c1",
            "m",
            vec![Choice::new(
                0,
                ChatMessage::assistant("Paris."),
                Some(FinishReason::Stop),
            )],
        );
        completion.usage = Some(Usage::new(12, 2));
        let chunks = replay_chunks(&completion, true);
        assert_eq!(chunks.len(), 4, "role, content, finish, usage");
        assert_eq!(chunks[2].choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(chunks[3].usage, Some(Usage::new(12, 2)));
        let mut accumulator = StreamAccumulator::default();
        for chunk in &chunks {
            accumulator.push(chunk);
        }
        let rebuilt = accumulator.finish();
        assert_eq!(rebuilt.text(), "Paris.");
        assert_eq!(rebuilt.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(replay_chunks(&completion, false).len(), 3, "no usage chunk");
    }
}
