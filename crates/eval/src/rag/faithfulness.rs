//! Faithfulness: the share of an answer's claims that the retrieved
//! contexts support.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::claims::extract_claims;
use super::support::{ClaimSupport, SupportScorer};
use crate::metric::{Metric, Sample};
use crate::score::{Score, ScoreRange};

/// The claim-level verdict on one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaithfulnessAssessment {
    /// Every claim with its support, in answer order.
    pub claims: Vec<ClaimSupport>,
    /// The share of supported claims, 0 to 1.
    pub faithfulness: f64,
    /// The claims below the claim threshold, in answer order.
    pub unsupported_claims: Vec<String>,
}

impl FaithfulnessAssessment {
    /// Whether the answer is flagged as a hallucination: it makes at least
    /// one claim the contexts do not support.
    pub fn is_hallucination(&self) -> bool {
        !self.unsupported_claims.is_empty()
    }
}

/// Faithfulness of the output to the case's retrieved contexts
/// ([`Case::contexts`](crate::Case::contexts)), 0 to 1.
///
/// `faithfulness = |claims supported by the contexts| / |claims in the
/// answer|`, the definition of Ragas
/// (<https://docs.ragas.io/en/v0.2.7/concepts/metrics/available_metrics/faithfulness/>).
/// Ragas extracts and verifies claims with an LLM; here claims come from
/// [`extract_claims`] and a claim is supported when its
/// [`SupportScorer`] support reaches the claim threshold. The score is
/// undetermined when the case has no context or the answer no claim.
#[derive(Debug, Clone, Default)]
pub struct Faithfulness {
    scorer: SupportScorer,
}

impl Faithfulness {
    /// Creates the metric on a support scorer.
    pub fn new(scorer: SupportScorer) -> Self {
        Faithfulness { scorer }
    }

    /// Assesses an answer against contexts.
    ///
    /// # Errors
    ///
    /// Returns the undetermined [`Score`] to report when there is no
    /// non-blank context, no claim, or the embedder fails.
    pub async fn assess(
        &self,
        answer: &str,
        contexts: &[String],
    ) -> Result<FaithfulnessAssessment, Score> {
        if contexts.iter().all(|context| context.trim().is_empty()) {
            return Err(Score::undetermined(
                "faithfulness needs retrieved contexts, and there are none",
            ));
        }
        let claims = extract_claims(answer);
        if claims.is_empty() {
            return Err(Score::undetermined(
                "faithfulness: the answer has no extractable claims",
            ));
        }
        let supports = self
            .scorer
            .support(&claims, contexts)
            .await
            .map_err(|error| Score::undetermined(error.to_string()))?;
        let threshold = self.scorer.claim_threshold();
        let unsupported_claims: Vec<String> = supports
            .iter()
            .filter(|claim| claim.support < threshold)
            .map(|claim| claim.claim.clone())
            .collect();
        let supported = supports.len() - unsupported_claims.len();
        Ok(FaithfulnessAssessment {
            faithfulness: supported as f64 / supports.len() as f64,
            claims: supports,
            unsupported_claims,
        })
    }
}

#[async_trait]
impl Metric for Faithfulness {
    fn name(&self) -> &str {
        "faithfulness"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        match self.assess(sample.output, &sample.case.contexts).await {
            Ok(assessment) => Score::value(assessment.faithfulness),
            Err(undetermined) => undetermined,
        }
    }
}
