//! A gateway [`SemanticCache`] that serves a stored completion to a
//! request whose conversation embeds close to a stored one.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use llmops_core::Embedder;
use llmops_core::types::{ChatCompletion, ChatRequest, MessageContent, Role};
use llmops_gateway::{CallContext, Clock, SemanticCache, SystemClock};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::vector::dot;

/// Default cosine similarity at or above which a stored response is served.
/// 0.95 is a conservative choice, because two questions on one topic that
/// ask different things can still embed close together; lower values risk
/// serving the response to another question. Tune it on labelled pairs from
/// your own traffic and embedder.
pub const DEFAULT_SIMILARITY_THRESHOLD: f32 = 0.95;

/// Default time a response is served after it was stored: 1 hour.
pub const DEFAULT_SEMANTIC_TTL: Duration = Duration::from_secs(3_600);

/// Default number of responses kept, over all scopes.
pub const DEFAULT_SEMANTIC_CAPACITY: usize = 10_000;

/// The request metadata key naming the registry prompt.
pub const PROMPT_METADATA_KEY: &str = "llmops_prompt";

/// The request metadata key of the prompt's version.
pub const PROMPT_VERSION_METADATA_KEY: &str = "llmops_prompt_version";

/// Fields that do not shape the response, or that the scope covers on its
/// own terms, left out of the settings hash.
const UNSCOPED_FIELDS: [&str; 6] = [
    "messages",
    "model",
    "stream",
    "stream_options",
    "user",
    "metadata",
];

/// A caller field that partitions a [`SemanticResponseCache`]: a stored
/// response is served only to requests with the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallerScope {
    /// The virtual API key id (`CallContext::key`).
    Key,
    /// The key's team (`CallContext::team`).
    Team,
    /// The end user: `CallContext::user`, else the request's `user` field.
    User,
}

impl CallerScope {
    /// Returns this field's value for a request, or an empty string when it
    /// has none, so requests without the field share one partition.
    fn value<'a>(self, request: &'a ChatRequest, context: &'a CallContext) -> &'a str {
        let value = match self {
            CallerScope::Key => context.key.as_deref(),
            CallerScope::Team => context.team.as_deref(),
            CallerScope::User => context.user.as_deref().or(request.user.as_deref()),
        };
        value.unwrap_or_default()
    }
}

/// Threshold, lifetime, size and caller scope of a
/// [`SemanticResponseCache`].
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticCacheConfig {
    /// Lowest cosine similarity served. Default
    /// [`DEFAULT_SIMILARITY_THRESHOLD`].
    pub threshold: f32,
    /// How long a response is served after it was stored. Default
    /// [`DEFAULT_SEMANTIC_TTL`].
    pub ttl: Duration,
    /// Most responses kept; the oldest is evicted first. Default
    /// [`DEFAULT_SEMANTIC_CAPACITY`].
    pub capacity: usize,
    /// Caller fields that also partition the cache. Default none, so every
    /// caller may be served a response stored for another.
    pub caller_scope: Vec<CallerScope>,
}

impl Default for SemanticCacheConfig {
    fn default() -> Self {
        SemanticCacheConfig {
            threshold: DEFAULT_SIMILARITY_THRESHOLD,
            ttl: DEFAULT_SEMANTIC_TTL,
            capacity: DEFAULT_SEMANTIC_CAPACITY,
            caller_scope: Vec::new(),
        }
    }
}

/// A stored response.
struct Entry {
    id: u64,
    /// The conversation's embedding, scaled to unit length.
    vector: Vec<f32>,
    completion: ChatCompletion,
    stored_at_ms: u64,
}

#[derive(Default)]
struct Entries {
    by_scope: HashMap<[u8; 32], Vec<Entry>>,
    /// Scope of every live entry by id; ids increase, so the first is the
    /// oldest.
    order: BTreeMap<u64, [u8; 32]>,
    next_id: u64,
}

impl Entries {
    fn remove(&mut self, id: u64) {
        let Some(scope) = self.order.remove(&id) else {
            return;
        };
        if let Some(entries) = self.by_scope.get_mut(&scope) {
            entries.retain(|entry| entry.id != id);
            if entries.is_empty() {
                self.by_scope.remove(&scope);
            }
        }
    }
}

/// A semantic cache over any [`Embedder`], kept in memory.
///
/// A stored response is only served within its scope. The scope is made
/// of the model the gateway routed the request to, the prompt name and
/// version from its metadata (`llmops_prompt`, `llmops_prompt_version`),
/// its system and developer messages, and the tags the caller requires.
/// Every other request field that shapes the response is part of the
/// scope too (`temperature`, `max_tokens`, `tools`, `response_format` and
/// the rest), except `stream`, `user` and `metadata`. The caller fields in
/// [`SemanticCacheConfig::caller_scope`] (key, team, user) join the scope
/// when set.
///
/// Within a scope, the other messages are embedded as `role: text` lines
/// and compared by cosine similarity with an exact scan. The most similar
/// stored response at or above the threshold is served. The scan costs one
/// dot product per entry in the scope, which suits thousands of entries,
/// not millions. Requests with images or other non-text parts, or with
/// tool calls in their history, are neither looked up nor stored.
///
/// Failures of the embedder are logged and count as misses. No prompt
/// text is logged or kept: only vectors and completions are stored.
///
/// ```
/// use std::sync::Arc;
/// use llmops_rag::{HashEmbedder, SemanticCacheConfig, SemanticResponseCache};
///
/// let cache = SemanticResponseCache::new(HashEmbedder::new(256), SemanticCacheConfig::default());
/// // Gateway::builder(config).semantic_cache(Arc::new(cache))
/// assert_eq!(cache.len(), 0);
/// ```
pub struct SemanticResponseCache<E> {
    embedder: E,
    config: SemanticCacheConfig,
    clock: Arc<dyn Clock>,
    entries: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<E: Embedder> SemanticResponseCache<E> {
    /// Creates an empty cache that embeds with `embedder`.
    pub fn new(embedder: E, config: SemanticCacheConfig) -> Self {
        SemanticResponseCache {
            embedder,
            config,
            clock: Arc::new(SystemClock),
            entries: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Reads time from `clock` instead of the system clock, such as the
    /// gateway's [`ManualClock`](llmops_gateway::ManualClock) in tests.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Returns how many lookups served a stored response.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Returns how many lookups found no response.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Returns how many responses are stored, expired ones not yet removed
    /// included.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Returns whether no response is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Embeds the conversation of `request`, scaled to unit length; `None`
    /// when there is nothing to embed or the embedder fails.
    async fn embed_conversation(&self, request: &ChatRequest) -> Option<Vec<f32>> {
        let text = conversation_text(request)?;
        let vectors = match self.embedder.embed(&[text]).await {
            Ok(vectors) => vectors,
            Err(error) => {
                tracing::warn!(%error, embedder = self.embedder.model(), "semantic cache embedding failed; treated as a miss");
                return None;
            }
        };
        unit_vector(vectors.into_iter().next()?)
    }

    /// Returns the scope hash of a request routed to `model`, with the
    /// configured caller fields.
    fn scope_key(&self, request: &ChatRequest, context: &CallContext, model: &str) -> [u8; 32] {
        let callers: Vec<&str> = self
            .config
            .caller_scope
            .iter()
            .map(|field| field.value(request, context))
            .collect();
        scope_key(request, context, model, &callers)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.config.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Returns the best live match in `scope`, removing expired entries.
    fn best_match(&self, scope: &[u8; 32], vector: &[f32]) -> Option<(f32, ChatCompletion)> {
        let now_ms = self.clock.now_ms();
        let ttl_ms = self.ttl_ms();
        let mut entries = self.lock();
        let expired: Vec<u64> = entries
            .by_scope
            .get(scope)?
            .iter()
            .filter(|entry| now_ms.saturating_sub(entry.stored_at_ms) >= ttl_ms)
            .map(|entry| entry.id)
            .collect();
        for id in expired {
            entries.remove(id);
        }

        let mut best: Option<(f32, &Entry)> = None;
        for entry in entries.by_scope.get(scope)? {
            if entry.vector.len() != vector.len() {
                continue;
            }
            let similarity = dot(&entry.vector, vector);
            if similarity >= self.config.threshold && best.is_none_or(|(top, _)| similarity > top) {
                best = Some((similarity, entry));
            }
        }
        best.map(|(similarity, entry)| (similarity, entry.completion.clone()))
    }
}

#[async_trait]
impl<E: Embedder> SemanticCache for SemanticResponseCache<E> {
    fn name(&self) -> &str {
        "embedding-similarity"
    }

    async fn lookup(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        model: &str,
    ) -> Option<ChatCompletion> {
        let found = match self.embed_conversation(request).await {
            Some(vector) => self.best_match(&self.scope_key(request, context, model), &vector),
            None => None,
        };
        match found {
            Some((similarity, completion)) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(model, similarity, "semantic cache hit");
                Some(completion)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    async fn store(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        model: &str,
        completion: &ChatCompletion,
    ) {
        if self.config.capacity == 0 {
            return;
        }
        let Some(vector) = self.embed_conversation(request).await else {
            return;
        };
        let scope = self.scope_key(request, context, model);
        let stored_at_ms = self.clock.now_ms();

        let mut entries = self.lock();
        let id = entries.next_id;
        entries.next_id += 1;
        entries.order.insert(id, scope);
        entries.by_scope.entry(scope).or_default().push(Entry {
            id,
            vector,
            completion: completion.clone(),
            stored_at_ms,
        });
        while entries.order.len() > self.config.capacity {
            let Some((&oldest, _)) = entries.order.first_key_value() else {
                break;
            };
            entries.remove(oldest);
        }
    }
}

/// Returns the scope hash of a request routed to `model` from `callers`,
/// with the values of the configured caller fields.
fn scope_key(
    request: &ChatRequest,
    context: &CallContext,
    model: &str,
    callers: &[&str],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut field = |value: &str| {
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    };
    field(model);
    field(&metadata_text(request, PROMPT_METADATA_KEY));
    field(&metadata_text(request, PROMPT_VERSION_METADATA_KEY));
    for message in &request.messages {
        if matches!(message.role, Role::System | Role::Developer) {
            field(message.role.as_str());
            field(&message.text());
        }
    }
    let mut tags: Vec<&str> = context.required_tags.iter().map(String::as_str).collect();
    tags.sort_unstable();
    tags.dedup();
    field(&tags.join("\u{1f}"));
    field(&settings_text(request));
    for caller in callers {
        field(caller);
    }
    hasher.finalize().into()
}

/// Returns a metadata value as text: strings as they are, numbers and
/// other values as JSON, missing as empty.
fn metadata_text(request: &ChatRequest, key: &str) -> String {
    match request
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.get(key))
    {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Returns the canonical JSON of the request fields that shape the response
/// besides the messages.
fn settings_text(request: &ChatRequest) -> String {
    let Ok(mut value) = serde_json::to_value(request) else {
        return String::new();
    };
    if let Some(object) = value.as_object_mut() {
        for field in UNSCOPED_FIELDS {
            object.remove(field);
        }
    }
    let mut text = String::new();
    llmops_gateway::write_canonical(&value, &mut text);
    text
}

/// Returns the messages outside the scope as `role: text` lines. Returns
/// `None` when they contain no text, or content that text does not
/// capture (non-text parts such as images, or tool calls), because two
/// such requests with the same text may need different responses.
fn conversation_text(request: &ChatRequest) -> Option<String> {
    let mut text = String::new();
    for message in &request.messages {
        if message
            .tool_calls
            .as_ref()
            .is_some_and(|calls| !calls.is_empty())
        {
            return None;
        }
        if let Some(MessageContent::Parts(parts)) = &message.content {
            if parts.iter().any(|part| part.text.is_none()) {
                return None;
            }
        }
        if matches!(message.role, Role::System | Role::Developer) {
            continue;
        }
        let content = message.text();
        if content.trim().is_empty() {
            continue;
        }
        text.push_str(message.role.as_str());
        text.push_str(": ");
        text.push_str(&content);
        text.push('\n');
    }
    (!text.is_empty()).then_some(text)
}

fn unit_vector(mut vector: Vec<f32>) -> Option<Vec<f32>> {
    let norm = dot(&vector, &vector).sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    vector.iter_mut().for_each(|value| *value /= norm);
    Some(vector)
}

#[cfg(test)]
mod tests {
    use llmops_core::types::{ChatMessage, ContentPart};
    use serde_json::json;

    use super::*;

    fn request(system: &str, user: &str) -> ChatRequest {
        ChatRequest::new(
            "chat",
            vec![ChatMessage::system(system), ChatMessage::user(user)],
        )
    }

    #[test]
    fn scope_covers_model_prompt_and_settings() {
        let context = CallContext::new();
        let base = request("Be brief.", "Hi");
        let key = scope_key(&base, &context, "m", &[]);
        assert_eq!(
            key,
            scope_key(&request("Be brief.", "Hello"), &context, "m", &[])
        );
        assert_ne!(key, scope_key(&base, &context, "other", &[]));
        assert_ne!(
            key,
            scope_key(&request("Be long.", "Hi"), &context, "m", &[])
        );

        let mut versioned = base.clone();
        let mut metadata = serde_json::Map::new();
        metadata.insert(PROMPT_VERSION_METADATA_KEY.to_owned(), json!("2"));
        versioned.metadata = Some(metadata);
        assert_ne!(key, scope_key(&versioned, &context, "m", &[]));

        let mut limited = base.clone();
        limited.max_tokens = Some(5);
        assert_ne!(key, scope_key(&limited, &context, "m", &[]));

        let mut streamed = base.clone();
        streamed.stream = Some(true);
        assert_eq!(key, scope_key(&streamed, &context, "m", &[]));

        let tagged = CallContext::new().require_tag("on_prem");
        assert_ne!(key, scope_key(&base, &tagged, "m", &[]));
    }

    #[test]
    fn caller_scope_separates_callers() {
        let base = request("Be brief.", "Hi");
        let alice = CallContext::new().with_key("k-alice").with_team("red");
        let bob = CallContext::new().with_key("k-bob").with_team("red");
        let key_of = |context: &CallContext, fields: &[CallerScope]| {
            let values: Vec<&str> = fields
                .iter()
                .map(|field| field.value(&base, context))
                .collect();
            scope_key(&base, context, "m", &values)
        };
        assert_eq!(key_of(&alice, &[]), key_of(&bob, &[]));
        assert_ne!(
            key_of(&alice, &[CallerScope::Key]),
            key_of(&bob, &[CallerScope::Key])
        );
        assert_eq!(
            key_of(&alice, &[CallerScope::Team]),
            key_of(&bob, &[CallerScope::Team])
        );

        let mut from_user = base.clone();
        from_user.user = Some("u-1".to_owned());
        assert_eq!(CallerScope::User.value(&from_user, &alice), "u-1");
        let overridden = CallContext::new().with_user("u-2");
        assert_eq!(CallerScope::User.value(&from_user, &overridden), "u-2");
        assert_eq!(CallerScope::Key.value(&base, &CallContext::new()), "");
    }

    #[test]
    fn conversation_skips_system_and_empty() {
        let text = conversation_text(&request("secret rules", "Grüße 👋")).unwrap();
        assert_eq!(text, "user: Grüße 👋\n");
        assert_eq!(conversation_text(&request("only system", "  ")), None);
    }

    #[test]
    fn image_parts_are_not_cached() {
        let mut with_image = request("s", "What is in this picture?");
        let image: ContentPart = serde_json::from_value(
            json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}),
        )
        .unwrap();
        with_image.messages[1].content = Some(MessageContent::Parts(vec![
            ContentPart::text("What is in this picture?"),
            image,
        ]));
        assert_eq!(conversation_text(&with_image), None);
    }

    #[test]
    fn zero_vector_has_no_direction() {
        assert_eq!(unit_vector(vec![0.0, 0.0]), None);
        assert_eq!(unit_vector(vec![3.0, 4.0]), Some(vec![0.6, 0.8]));
    }
}
