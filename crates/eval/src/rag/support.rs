//! Claim support: how strongly the contexts back each claim, from lexical
//! and, optionally, embedding evidence.

use std::sync::Arc;

use llmops_core::Embedder;
use serde::{Deserialize, Serialize};

use super::claims::split_sentences;
use super::lexical::{LexicalContext, LexicalEvidence};
use crate::embedding::cosine_similarity;
use crate::error::{EvalError, Result};

/// Support at or above which a claim counts as supported, by default.
pub const DEFAULT_CLAIM_THRESHOLD: f64 = 0.5;

/// Weight of lexical evidence when embedding evidence is present, by
/// default; the embedding evidence gets the rest.
pub const DEFAULT_LEXICAL_WEIGHT: f64 = 0.5;

/// The cap on the support of a claim that states a number absent from the
/// contexts: a wrong number is strong evidence against the claim whatever
/// the other words share.
pub const NUMBER_MISMATCH_CAP: f64 = 0.1;

/// Cosine similarity mapped to embedding evidence 0. Unrelated English
/// sentences embedded with all-MiniLM-L6-v2 mostly score below it.
const EMBEDDING_FLOOR: f64 = 0.2;
/// Cosine similarity mapped to embedding evidence 1; paraphrases score
/// above it.
const EMBEDDING_CEILING: f64 = 0.8;

/// The support that the contexts give one claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimSupport {
    /// The claim text.
    pub claim: String,
    /// The combined support, 0 to 1.
    pub support: f64,
    /// The lexical evidence, 0 to 1: `coverage × (1 − 0.5 × missing)`.
    /// `coverage` is the share of the claim's content words found in the
    /// best matching context sentence, or 0.8 times the share found in the
    /// whole context when that is higher. `missing` is the share of the
    /// claim's capitalised words absent from the contexts.
    pub lexical: f64,
    /// The embedding evidence, 0 to 1, when an embedder is configured: the
    /// highest cosine similarity to a context sentence, mapped linearly from
    /// [0.2, 0.8] to [0, 1] and clamped.
    pub embedding: Option<f64>,
    /// Whether the claim states a number absent from the contexts.
    pub number_mismatch: bool,
}

/// Scores claim support against contexts, with no model call unless an
/// embedder is configured.
///
/// The support of a claim is the lexical evidence alone, or
/// `w × lexical + (1 − w) × embedding` with an embedder (`w` defaults to
/// [`DEFAULT_LEXICAL_WEIGHT`]), capped at [`NUMBER_MISMATCH_CAP`] when the
/// claim states a number absent from the contexts. These are heuristics of
/// this crate, not a published formula, and `docs/groundedness.md` reports
/// how well they separate grounded from hallucinated answers.
#[derive(Clone)]
pub struct SupportScorer {
    embedder: Option<Arc<dyn Embedder>>,
    lexical_weight: f64,
    claim_threshold: f64,
}

impl std::fmt::Debug for SupportScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportScorer")
            .field("embedder", &self.embedder.as_ref().map(|e| e.model()))
            .field("lexical_weight", &self.lexical_weight)
            .field("claim_threshold", &self.claim_threshold)
            .finish()
    }
}

impl Default for SupportScorer {
    fn default() -> Self {
        SupportScorer::lexical()
    }
}

impl SupportScorer {
    /// Creates a scorer that uses lexical evidence only.
    pub fn lexical() -> Self {
        SupportScorer {
            embedder: None,
            lexical_weight: DEFAULT_LEXICAL_WEIGHT,
            claim_threshold: DEFAULT_CLAIM_THRESHOLD,
        }
    }

    /// Adds embedding evidence from `embedder`. Context sentences longer
    /// than the model's input limit fail the embedding unless the embedder
    /// truncates them.
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// Sets the weight of lexical evidence when embedding evidence is
    /// present. Default: [`DEFAULT_LEXICAL_WEIGHT`].
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] unless `weight` lies in [0, 1].
    pub fn with_lexical_weight(mut self, weight: f64) -> Result<Self> {
        check_unit("lexical_weight", weight)?;
        self.lexical_weight = weight;
        Ok(self)
    }

    /// Sets the support at or above which a claim counts as supported.
    /// Default: [`DEFAULT_CLAIM_THRESHOLD`].
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] unless `threshold` lies in [0, 1].
    pub fn with_claim_threshold(mut self, threshold: f64) -> Result<Self> {
        check_unit("claim_threshold", threshold)?;
        self.claim_threshold = threshold;
        Ok(self)
    }

    /// Returns the support at or above which a claim counts as supported.
    pub fn claim_threshold(&self) -> f64 {
        self.claim_threshold
    }

    /// Returns whether embedding evidence is used.
    pub fn uses_embeddings(&self) -> bool {
        self.embedder.is_some()
    }

    /// Scores every claim against the contexts, in claim order. A claim
    /// without content words gets support 0.
    ///
    /// # Errors
    ///
    /// [`EvalError::EmbeddingFailed`] when the embedder fails or returns the
    /// wrong number of vectors.
    pub async fn support(
        &self,
        claims: &[String],
        contexts: &[String],
    ) -> Result<Vec<ClaimSupport>> {
        let sentences: Vec<String> = contexts
            .iter()
            .flat_map(|context| split_sentences(context))
            .collect();
        let lexical_context = LexicalContext::new(&sentences);
        let embedding = match &self.embedder {
            Some(embedder) if !claims.is_empty() && !sentences.is_empty() => {
                Some(max_similarities(embedder.as_ref(), claims, &sentences).await?)
            }
            _ => None,
        };

        let supports = claims
            .iter()
            .enumerate()
            .map(|(index, claim)| {
                let evidence = lexical_context.evidence(claim);
                let embedding = embedding.as_ref().and_then(|similarities| {
                    similarities.get(index).copied().map(embedding_evidence)
                });
                self.combine(claim, evidence, embedding)
            })
            .collect();
        Ok(supports)
    }

    fn combine(
        &self,
        claim: &str,
        evidence: Option<LexicalEvidence>,
        embedding: Option<f64>,
    ) -> ClaimSupport {
        let (lexical, number_mismatch) = match evidence {
            Some(evidence) => (
                evidence.coverage * (1.0 - 0.5 * evidence.missing_entities),
                evidence.number_mismatch,
            ),
            None => (0.0, false),
        };
        let mut support = match embedding {
            Some(embedding) => {
                self.lexical_weight * lexical + (1.0 - self.lexical_weight) * embedding
            }
            None => lexical,
        };
        if number_mismatch {
            support = support.min(NUMBER_MISMATCH_CAP);
        }
        ClaimSupport {
            claim: claim.to_owned(),
            support: support.clamp(0.0, 1.0),
            lexical,
            embedding,
            number_mismatch,
        }
    }
}

fn check_unit(name: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        return Ok(());
    }
    Err(EvalError::InvalidParameter {
        name,
        value: value.to_string(),
        reason: "pass a number from 0 to 1".to_owned(),
    })
}

/// Maps a cosine similarity to embedding evidence in [0, 1].
fn embedding_evidence(similarity: f64) -> f64 {
    ((similarity - EMBEDDING_FLOOR) / (EMBEDDING_CEILING - EMBEDDING_FLOOR)).clamp(0.0, 1.0)
}

/// Returns, per claim, the highest cosine similarity to any sentence, with
/// all texts embedded in one batch.
async fn max_similarities(
    embedder: &dyn Embedder,
    claims: &[String],
    sentences: &[String],
) -> Result<Vec<f64>> {
    let texts: Vec<String> = claims.iter().chain(sentences).cloned().collect();
    let vectors = embedder
        .embed(&texts)
        .await
        .map_err(|error| EvalError::EmbeddingFailed {
            model: embedder.model().to_owned(),
            message: error.to_string(),
        })?;
    if vectors.len() != texts.len() {
        return Err(EvalError::EmbeddingFailed {
            model: embedder.model().to_owned(),
            message: format!(
                "returned {} vectors for {} texts",
                vectors.len(),
                texts.len()
            ),
        });
    }
    let (claim_vectors, sentence_vectors) = vectors.split_at(claims.len());
    Ok(claim_vectors
        .iter()
        .map(|claim| {
            sentence_vectors
                .iter()
                .filter_map(|sentence| cosine_similarity(claim, sentence))
                .fold(0.0, f64::max)
        })
        .collect())
}
