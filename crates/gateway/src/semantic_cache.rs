//! The semantic cache hook: a second cache, consulted after the exact
//! response cache misses, that may serve a stored response to a request
//! that is similar rather than identical.

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest};

use crate::cache::is_cacheable;
use crate::gateway::{Gateway, Pending};
use crate::hooks::CallContext;
use crate::record::CacheKind;

/// A cache keyed by meaning, such as embedding similarity, plugged into
/// the gateway with [`GatewayBuilder::semantic_cache`](crate::GatewayBuilder::semantic_cache).
///
/// The gateway calls [`lookup`](SemanticCache::lookup) after the exact
/// response cache misses (or when it is off), and
/// [`store`](SemanticCache::store) after a successful call that no cache
/// served. Both follow the rules of the exact cache: a request with
/// `context.no_cache` skips them, and only requests with a temperature of
/// 0 use them unless `cache.cache_nondeterministic` is set. A hit is
/// recorded with `cache_hit` and [`CacheKind::Semantic`], with no
/// deployment, no usage and a cost of 0. Neither method can fail the
/// request: an implementation logs its own errors and returns `None`.
#[async_trait]
pub trait SemanticCache: Send + Sync {
    /// Returns a short name for logs, such as `embedding-similarity`.
    fn name(&self) -> &str;

    /// Returns a stored completion for a request similar enough to
    /// `request`, which the route sent to `model`, or `None`.
    async fn lookup(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        model: &str,
    ) -> Option<ChatCompletion>;

    /// Stores the completion `model` returned for `request`.
    async fn store(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        model: &str,
        completion: &ChatCompletion,
    );
}

/// A successful response waiting to be stored in the semantic cache.
pub(crate) struct SemanticEntry {
    cache: Arc<dyn SemanticCache>,
    request: ChatRequest,
    context: CallContext,
    model: String,
    completion: ChatCompletion,
}

impl SemanticEntry {
    /// Returns the entry to store for `pending`, when its lookup missed.
    pub(crate) fn for_pending(
        gateway: &Gateway,
        pending: &Pending,
        completion: &ChatCompletion,
    ) -> Option<SemanticEntry> {
        if !pending.semantic_store || pending.cache_hit {
            return None;
        }
        let cache = gateway.inner.semantic_cache.clone()?;
        Some(SemanticEntry {
            cache,
            request: pending.request.clone(),
            context: pending.context.clone(),
            model: pending.decision.model.clone(),
            completion: completion.clone(),
        })
    }

    pub(crate) async fn store(self) {
        self.cache
            .store(&self.request, &self.context, &self.model, &self.completion)
            .await;
    }
}

impl Gateway {
    /// Looks the request up in the semantic cache, when one is set and the
    /// request may be cached. A miss marks the response for storing.
    pub(crate) async fn semantic_cached(&self, pending: &mut Pending) -> Option<ChatCompletion> {
        let cache = self.inner.semantic_cache.as_ref()?;
        let config = &self.inner.config.cache;
        if pending.context.no_cache || !is_cacheable(config, &pending.request) {
            return None;
        }
        let found = cache
            .lookup(&pending.request, &pending.context, &pending.decision.model)
            .await;
        self.inner.counters.semantic_cache_lookup(found.is_some());
        match found {
            Some(completion) => {
                tracing::debug!(cache = cache.name(), "served from the semantic cache");
                pending.cache_hit = true;
                pending.cache_kind = Some(CacheKind::Semantic);
                Some(completion)
            }
            None => {
                pending.semantic_store = true;
                None
            }
        }
    }
}
