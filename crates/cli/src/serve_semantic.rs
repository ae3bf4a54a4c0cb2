//! The `[semantic_cache]` section: the embedder and the cache, kept across
//! reloads while the section does not change.

use std::sync::{Arc, Mutex, PoisonError};

use llmops_core::Embedder;
use llmops_core::providers::openai::{EmbeddingOptions, OpenAiConfig, OpenAiEmbedder};
use llmops_gateway::{GatewayError, SemanticCache};
use llmops_local::{EmbedderConfig, MiniLmEmbedder};
use llmops_rag::SemanticResponseCache;
use tokio::sync::OnceCell;

use crate::serve_config::{EmbedderProvider, EmbedderSection, SemanticCacheSection};

/// The semantic cache of the running gateway and the section it was built
/// from.
type Current = Option<(SemanticCacheSection, Arc<dyn SemanticCache>)>;

/// The server's semantic cache. A reload with the same section keeps the
/// stored responses; a changed section starts an empty cache. The local
/// embedder is loaded once, at the first section that uses it.
#[derive(Default)]
pub(crate) struct SemanticCacheSlot {
    current: Mutex<Current>,
    local: OnceCell<Arc<MiniLmEmbedder>>,
}

/// A cache ready for a gateway that may still fail to build; it replaces
/// the current one only on [`SemanticCacheSlot::commit`].
pub(crate) struct PreparedCache(Current);

impl PreparedCache {
    /// Returns the cache to give the gateway, if the section turns one on.
    pub(crate) fn cache(&self) -> Option<Arc<dyn SemanticCache>> {
        self.0.as_ref().map(|(_, cache)| Arc::clone(cache))
    }
}

impl SemanticCacheSlot {
    /// Returns the cache for `section`: the current one when the section
    /// is unchanged, else a new empty one.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Config`] when the embedder cannot be loaded
    /// or built.
    pub(crate) async fn prepare(
        &self,
        section: Option<&SemanticCacheSection>,
    ) -> Result<PreparedCache, GatewayError> {
        let Some(section) = section else {
            return Ok(PreparedCache(None));
        };
        let current = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some((built_from, cache)) = current {
            if &built_from == section {
                return Ok(PreparedCache(Some((built_from, cache))));
            }
        }
        let embedder = self.embedder(&section.embedder).await?;
        let cache: Arc<dyn SemanticCache> =
            Arc::new(SemanticResponseCache::new(embedder, section.cache_config()));
        Ok(PreparedCache(Some((section.clone(), cache))))
    }

    /// Makes `prepared` the current cache, after its gateway was built.
    pub(crate) fn commit(&self, prepared: PreparedCache) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = prepared.0;
    }

    async fn embedder(&self, section: &EmbedderSection) -> Result<Arc<dyn Embedder>, GatewayError> {
        match section.provider {
            EmbedderProvider::Local => {
                let embedder = self
                    .local
                    .get_or_try_init(|| async {
                        MiniLmEmbedder::load(EmbedderConfig::default())
                            .await
                            .map(Arc::new)
                    })
                    .await
                    .map_err(|error| {
                        GatewayError::config(
                            "semantic_cache.embedder.provider",
                            format!("cannot load the local all-MiniLM-L6-v2 embedder: {error}; run `llmops model fetch`, or use provider = \"openai\""),
                        )
                    })?;
                Ok(Arc::clone(embedder) as Arc<dyn Embedder>)
            }
            EmbedderProvider::Openai => Ok(Arc::new(remote_embedder(section)?)),
        }
    }
}

/// Builds the OpenAI-compatible embedder of `section`, whose keys were
/// validated with the configuration.
fn remote_embedder(section: &EmbedderSection) -> Result<OpenAiEmbedder, GatewayError> {
    let mut config = OpenAiConfig::new();
    if let Some(base_url) = &section.base_url {
        config = config.base_url(base_url);
    }
    if let Ok(key) = std::env::var(section.api_key_variable()) {
        config = config.api_key(key);
    }
    let model = section.model.clone().unwrap_or_default();
    let options = EmbeddingOptions::new(model, section.dimensions.unwrap_or_default());
    OpenAiEmbedder::new(config, options).map_err(|error| {
        GatewayError::config(
            "semantic_cache.embedder",
            format!("cannot build the OpenAI-compatible embedder: {error}"),
        )
    })
}
