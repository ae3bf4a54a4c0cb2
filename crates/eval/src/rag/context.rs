//! Retrieval metrics against a reference answer: rank-aware context
//! precision and context recall.

use async_trait::async_trait;

use super::claims::extract_claims;
use super::support::SupportScorer;
use crate::metric::{Metric, Sample, reference};
use crate::score::{Score, ScoreRange};

/// Computes rank-aware context precision from relevance verdicts in rank
/// order: `Σ_k precision@k × v_k / Σ_k v_k`, where `v_k` is 1 when the
/// context at rank `k` is relevant and `precision@k` is the share of
/// relevant contexts among the first `k`. Returns 0 when no context is
/// relevant and `None` for an empty list.
///
/// ```
/// use llmops_eval::rag::context_precision;
///
/// // Relevant at ranks 1 and 3: (1/1 + 2/3) / 2.
/// let value = context_precision(&[true, false, true]).unwrap();
/// assert!((value - 5.0 / 6.0).abs() < 1e-12);
/// assert_eq!(context_precision(&[]), None);
/// ```
pub fn context_precision(relevant: &[bool]) -> Option<f64> {
    if relevant.is_empty() {
        return None;
    }
    let mut hits = 0usize;
    let mut sum = 0.0;
    for (index, &is_relevant) in relevant.iter().enumerate() {
        if is_relevant {
            hits += 1;
            sum += hits as f64 / (index + 1) as f64;
        }
    }
    if hits == 0 {
        return Some(0.0);
    }
    Some(sum / hits as f64)
}

/// Rank-aware precision of the case's retrieved contexts
/// ([`Case::contexts`](crate::Case::contexts), best first), 0 to 1.
///
/// The definition of Ragas context precision
/// (<https://docs.ragas.io/en/v0.1.21/concepts/metrics/context_precision.html>),
/// computed by [`context_precision`]. Ragas asks an LLM whether each context
/// was useful for the reference answer; here a context is relevant when it
/// supports at least one claim of the reference answer
/// ([`Case::expected`](crate::Case::expected)). Undetermined without
/// contexts, without a reference or when the reference has no claim.
#[derive(Debug, Clone, Default)]
pub struct ContextPrecision {
    scorer: SupportScorer,
}

impl ContextPrecision {
    /// Creates the metric on a support scorer.
    pub fn new(scorer: SupportScorer) -> Self {
        ContextPrecision { scorer }
    }
}

#[async_trait]
impl Metric for ContextPrecision {
    fn name(&self) -> &str {
        "context_precision"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let claims = match reference_claims(sample, self.name()) {
            Ok(claims) => claims,
            Err(undetermined) => return undetermined,
        };
        let threshold = self.scorer.claim_threshold();
        let mut relevant = Vec::with_capacity(sample.case.contexts.len());
        for context in &sample.case.contexts {
            let supports = match self
                .scorer
                .support(&claims, std::slice::from_ref(context))
                .await
            {
                Ok(supports) => supports,
                Err(error) => return Score::undetermined(error.to_string()),
            };
            relevant.push(supports.iter().any(|claim| claim.support >= threshold));
        }
        match context_precision(&relevant) {
            Some(value) => Score::value(value),
            None => Score::undetermined("context precision needs retrieved contexts"),
        }
    }
}

/// Recall of the reference answer by the retrieved contexts, 0 to 1:
/// `|reference claims supported by the contexts| / |reference claims|`.
///
/// The definition of Ragas context recall
/// (<https://docs.ragas.io/en/v0.1.21/concepts/metrics/context_recall.html>),
/// with claims from [`extract_claims`] and support from [`SupportScorer`]
/// in place of an LLM. Undetermined without contexts, without a reference or
/// when the reference has no claim.
#[derive(Debug, Clone, Default)]
pub struct ContextRecall {
    scorer: SupportScorer,
}

impl ContextRecall {
    /// Creates the metric on a support scorer.
    pub fn new(scorer: SupportScorer) -> Self {
        ContextRecall { scorer }
    }
}

#[async_trait]
impl Metric for ContextRecall {
    fn name(&self) -> &str {
        "context_recall"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let claims = match reference_claims(sample, self.name()) {
            Ok(claims) => claims,
            Err(undetermined) => return undetermined,
        };
        let supports = match self.scorer.support(&claims, &sample.case.contexts).await {
            Ok(supports) => supports,
            Err(error) => return Score::undetermined(error.to_string()),
        };
        let threshold = self.scorer.claim_threshold();
        let supported = supports.iter().filter(|c| c.support >= threshold).count();
        Score::value(supported as f64 / supports.len() as f64)
    }
}

/// Returns the claims of the case reference, or the undetermined score when
/// contexts, reference or claims are missing.
fn reference_claims(sample: &Sample<'_>, metric: &str) -> Result<Vec<String>, Score> {
    if sample.case.contexts.iter().all(|c| c.trim().is_empty()) {
        return Err(Score::undetermined(format!(
            "{metric} needs retrieved contexts, and case `{}` has none",
            sample.case.id
        )));
    }
    let expected = reference(sample, metric)?;
    let claims = extract_claims(expected);
    if claims.is_empty() {
        return Err(Score::undetermined(format!(
            "{metric}: the reference of case `{}` has no extractable claims",
            sample.case.id
        )));
    }
    Ok(claims)
}
