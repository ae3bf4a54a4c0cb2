//! The embedder of `llmops rag`: chosen by flag for a build, and by the
//! index's own record for queries, so a query embeds as its index did.

use std::sync::Arc;

use llmops_core::Embedder;
use llmops_core::providers::openai::{EmbeddingOptions, OpenAiConfig, OpenAiEmbedder};
use llmops_local::{EMBEDDING_MODEL_NAME, EmbedderConfig, MiniLmEmbedder};
use llmops_rag::{HashEmbedder, IndexManifest};

use crate::failure::Failure;

/// The environment variable with the API key of a remote embedder.
const API_KEY_VARIABLE: &str = "OPENAI_API_KEY";

/// Dimensions of the hash embedder when a build names no other.
const HASH_DIMENSIONS: usize = 384;

/// Name prefix of the hash embedder's model; the dimensions follow it.
const HASH_MODEL_PREFIX: &str = "hash-bow-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EmbedderChoice {
    /// all-MiniLM-L6-v2 on this machine's CPU, fetched into the model cache
    /// on first use.
    Minilm,
    /// An OpenAI-compatible `/v1/embeddings` API.
    Openai,
    /// A model-free bag-of-words embedder, for tests.
    Hash,
}

/// The embedder flags, shared by every `rag` subcommand.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct EmbedderArgs {
    /// Embedder. `build` uses minilm by default, and `query` and `eval` use
    /// the one the index version was built with.
    #[arg(long, value_enum, global = true)]
    embedder: Option<EmbedderChoice>,
    /// Model of the openai embedder, for example text-embedding-3-small.
    #[arg(long, global = true)]
    embedding_model: Option<String>,
    /// Length of the openai embedder's vectors; known for OpenAI's own
    /// models.
    #[arg(long, global = true)]
    embedding_dimensions: Option<usize>,
    /// Base URL of the openai embedder's API; the key is read from
    /// OPENAI_API_KEY.
    #[arg(long, env = "OPENAI_BASE_URL", global = true)]
    embedding_base_url: Option<String>,
}

/// The embedder to load.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    Minilm,
    Hash {
        dimensions: usize,
    },
    Openai {
        model: String,
        dimensions: usize,
        base_url: Option<String>,
    },
}

/// Returns the longest query, in chunking-tokenizer tokens, to send to the
/// embedder that `manifest` records.
///
/// all-MiniLM-L6-v2 was trained on 256 tokens. A remote server enforces
/// its own limit and names it in its error, and the hash embedder has
/// none.
pub(crate) fn query_token_limit(manifest: &IndexManifest) -> u64 {
    match recorded_choice(&manifest.embedder) {
        EmbedderChoice::Minilm => 256,
        EmbedderChoice::Openai | EmbedderChoice::Hash => u64::MAX,
    }
}

impl EmbedderArgs {
    /// Loads the embedder for a new index version.
    pub(crate) async fn for_build(&self) -> Result<Arc<dyn Embedder>, Failure> {
        load(self.build_plan()?).await
    }

    /// Loads the embedder for querying an index built as `manifest` records.
    pub(crate) async fn for_index(
        &self,
        manifest: &IndexManifest,
    ) -> Result<Arc<dyn Embedder>, Failure> {
        load(self.query_plan(manifest)?).await
    }

    /// Returns the server that `build` embeds at, to record with the
    /// version: the base URL of the openai embedder, when one is given.
    pub(crate) fn endpoint(&self) -> Option<String> {
        match self.embedder {
            Some(EmbedderChoice::Openai) => self.embedding_base_url.clone(),
            _ => None,
        }
    }

    fn build_plan(&self) -> Result<Plan, Failure> {
        let choice = self.embedder.unwrap_or(EmbedderChoice::Minilm);
        if choice != EmbedderChoice::Openai && self.embedding_model.is_some() {
            return Err(Failure::Usage(format!(
                "--embedding-model applies only to --embedder openai, not {}",
                choice_name(choice)
            )));
        }
        match choice {
            EmbedderChoice::Minilm => Ok(Plan::Minilm),
            EmbedderChoice::Hash => Ok(Plan::Hash {
                dimensions: self.embedding_dimensions.unwrap_or(HASH_DIMENSIONS),
            }),
            EmbedderChoice::Openai => {
                let model = self.embedding_model.clone().ok_or_else(|| {
                    Failure::Usage(
                        "--embedder openai needs --embedding-model, for example text-embedding-3-small"
                            .to_owned(),
                    )
                })?;
                let dimensions = match self.embedding_dimensions {
                    Some(dimensions) => dimensions,
                    None => known_dimensions(&model).ok_or_else(|| {
                        Failure::Usage(format!(
                            "the length of `{model}` vectors is not known here; give it with --embedding-dimensions"
                        ))
                    })?,
                };
                Ok(Plan::Openai {
                    model,
                    dimensions,
                    base_url: self.embedding_base_url.clone(),
                })
            }
        }
    }

    /// Chooses the embedder the index was built with. A different
    /// `--embedder` is rejected because its vectors would not be comparable
    /// with the index's.
    fn query_plan(&self, manifest: &IndexManifest) -> Result<Plan, Failure> {
        let recorded = recorded_choice(&manifest.embedder);
        if let Some(choice) = self.embedder
            && choice != recorded
        {
            return Err(Failure::Usage(format!(
                "this index version was built with the `{}` embedder, so --embedder {} cannot query it; leave --embedder out",
                manifest.embedder,
                choice_name(choice)
            )));
        }
        if let Some(model) = &self.embedding_model
            && model != &manifest.embedder
        {
            return Err(Failure::Usage(format!(
                "this index version was built with the `{}` embedder, not `{model}`; leave --embedding-model out",
                manifest.embedder
            )));
        }
        if let Some(dimensions) = self.embedding_dimensions
            && dimensions != manifest.dimensions
        {
            return Err(Failure::Usage(format!(
                "this index version has vectors of {} values, not {dimensions}; leave --embedding-dimensions out",
                manifest.dimensions
            )));
        }
        Ok(match recorded {
            EmbedderChoice::Minilm => Plan::Minilm,
            EmbedderChoice::Hash => Plan::Hash {
                dimensions: manifest.dimensions,
            },
            // The server recorded at build time, unless the flag (or
            // OPENAI_BASE_URL) names another.
            EmbedderChoice::Openai => Plan::Openai {
                model: manifest.embedder.clone(),
                dimensions: manifest.dimensions,
                base_url: self
                    .embedding_base_url
                    .clone()
                    .or_else(|| manifest.settings.embedder_endpoint.clone()),
            },
        })
    }
}

fn choice_name(choice: EmbedderChoice) -> &'static str {
    match choice {
        EmbedderChoice::Minilm => "minilm",
        EmbedderChoice::Openai => "openai",
        EmbedderChoice::Hash => "hash",
    }
}

/// Returns the kind of embedder whose vectors are recorded under `model`.
fn recorded_choice(model: &str) -> EmbedderChoice {
    if model == EMBEDDING_MODEL_NAME {
        EmbedderChoice::Minilm
    } else if model.starts_with(HASH_MODEL_PREFIX) {
        EmbedderChoice::Hash
    } else {
        EmbedderChoice::Openai
    }
}

/// Returns the vector length of an OpenAI embedding model at full size.
fn known_dimensions(model: &str) -> Option<usize> {
    match model {
        "text-embedding-3-small" | "text-embedding-ada-002" => Some(1536),
        "text-embedding-3-large" => Some(3072),
        _ => None,
    }
}

async fn load(plan: Plan) -> Result<Arc<dyn Embedder>, Failure> {
    match plan {
        Plan::Hash { dimensions } => Ok(Arc::new(HashEmbedder::new(dimensions))),
        // The chunking tokenizer can count fewer tokens than the embedder's
        // 256 word pieces. The rest of such a chunk is left out of its
        // vector, but BM25 still indexes it.
        Plan::Minilm => MiniLmEmbedder::load(EmbedderConfig::default().with_truncation(true))
            .await
            .map(|embedder| Arc::new(embedder) as Arc<dyn Embedder>)
            .map_err(|error| {
                Failure::Other(anyhow::anyhow!(
                    "cannot load the local {EMBEDDING_MODEL_NAME} embedder: {error}; fetch it with `llmops model fetch`, or choose --embedder openai"
                ))
            }),
        Plan::Openai {
            model,
            dimensions,
            base_url,
        } => {
            let mut config = OpenAiConfig::new();
            if let Some(base_url) = base_url {
                config = config.base_url(base_url);
            }
            if let Ok(key) = std::env::var(API_KEY_VARIABLE) {
                config = config.api_key(key);
            }
            // OpenAI's own models return shorter vectors when asked; other
            // servers may reject the field, so it is sent only for those.
            let shorter = known_dimensions(&model).is_some_and(|full| full != dimensions);
            let options = EmbeddingOptions::new(model, dimensions).request_dimensions(shorter);
            OpenAiEmbedder::new(config, options)
                .map(|embedder| Arc::new(embedder) as Arc<dyn Embedder>)
                .map_err(|error| {
                    Failure::Usage(format!(
                        "cannot build the openai embedder: {error}; check --embedding-model, --embedding-dimensions and --embedding-base-url"
                    ))
                })
        }
    }
}
