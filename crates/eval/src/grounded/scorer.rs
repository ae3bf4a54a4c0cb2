//! The groundedness scorer.

use serde::{Deserialize, Serialize};

use super::signals::mean_token_probability;
use crate::error::{EvalError, Result};
use crate::rag::{ClaimSupport, SupportScorer, extract_claims};
use crate::score::Score;

/// Score below which a response is flagged, by default. Equal to the
/// default claim threshold, so with contexts a response is flagged exactly
/// when one of its claims is unsupported.
pub const DEFAULT_GROUNDEDNESS_THRESHOLD: f64 = 0.5;

/// The evidence a groundedness score is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroundednessSignal {
    /// Claim support against the retrieved contexts.
    ClaimSupport,
    /// Claim support against other sampled responses to the same request.
    SelfConsistency,
    /// The mean token probability the backend returned.
    TokenProbability,
}

/// One response and the evidence available for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroundednessInput<'a> {
    /// The response text.
    pub answer: &'a str,
    /// The retrieved contexts the response should rest on.
    pub contexts: &'a [String],
    /// Other responses sampled for the same request, for self-consistency.
    pub samples: &'a [String],
    /// The response's token log-probabilities, when the backend returned
    /// them.
    pub token_logprobs: Option<&'a [f64]>,
}

impl<'a> GroundednessInput<'a> {
    /// Creates an input with no evidence besides the answer.
    pub fn new(answer: &'a str) -> Self {
        GroundednessInput {
            answer,
            ..GroundednessInput::default()
        }
    }

    /// Sets the retrieved contexts.
    pub fn with_contexts(mut self, contexts: &'a [String]) -> Self {
        self.contexts = contexts;
        self
    }

    /// Sets other sampled responses for self-consistency.
    pub fn with_samples(mut self, samples: &'a [String]) -> Self {
        self.samples = samples;
        self
    }

    /// Sets the token log-probabilities.
    pub fn with_token_logprobs(mut self, logprobs: &'a [f64]) -> Self {
        self.token_logprobs = Some(logprobs);
        self
    }
}

/// The groundedness verdict on one response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Groundedness {
    /// The score, 0 (ungrounded) to 1, or undetermined with the reason.
    pub score: Score,
    /// The signal the score came from; `None` when undetermined.
    pub signal: Option<GroundednessSignal>,
    /// Whether the score is below the scorer's threshold. Never set for an
    /// undetermined score.
    pub flagged: bool,
    /// The claims below the claim threshold, in response order; empty for
    /// the token-probability signal, which does not look at claims.
    pub unsupported_claims: Vec<String>,
    /// Every claim with its support, for the claim-based signals.
    pub claims: Vec<ClaimSupport>,
}

impl Groundedness {
    fn undetermined(reason: impl Into<String>) -> Self {
        Groundedness {
            score: Score::undetermined(reason),
            signal: None,
            flagged: false,
            unsupported_claims: Vec::new(),
            claims: Vec::new(),
        }
    }
}

/// Scores how well each response is grounded, cheaply enough for every
/// production response: no LLM call, and at most one embedding batch per
/// response when an embedder is configured.
///
/// The signals, in order of preference:
///
/// 1. Contexts present (any non-blank): the score is the minimum claim
///    support of the response's claims against the contexts.
/// 2. Samples present: the support of each claim is its mean support over
///    the samples, each sample taken as a context. A fact the model learned
///    tends to recur across samples and an invented one tends not to. The
///    score is the minimum over claims.
/// 3. Token log-probabilities present: the mean token probability.
///
/// Otherwise, or when the response has no claim, the score is undetermined.
#[derive(Debug, Clone)]
pub struct GroundednessScorer {
    support: SupportScorer,
    threshold: f64,
}

impl Default for GroundednessScorer {
    fn default() -> Self {
        GroundednessScorer::lexical()
    }
}

impl GroundednessScorer {
    /// Creates a scorer with lexical evidence only and the default
    /// threshold.
    pub fn lexical() -> Self {
        GroundednessScorer::new(SupportScorer::lexical())
    }

    /// Creates a scorer on a claim support scorer, with the default
    /// threshold.
    pub fn new(support: SupportScorer) -> Self {
        GroundednessScorer {
            support,
            threshold: DEFAULT_GROUNDEDNESS_THRESHOLD,
        }
    }

    /// Sets the score below which a response is flagged. Default:
    /// [`DEFAULT_GROUNDEDNESS_THRESHOLD`].
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] unless `threshold` lies in [0, 1].
    pub fn with_threshold(mut self, threshold: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(EvalError::InvalidParameter {
                name: "groundedness threshold",
                value: threshold.to_string(),
                reason: "pass a number from 0 to 1".to_owned(),
            });
        }
        self.threshold = threshold;
        Ok(self)
    }

    /// Returns the score below which a response is flagged.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Returns the claim support scorer.
    pub fn support_scorer(&self) -> &SupportScorer {
        &self.support
    }

    /// Scores one response.
    pub async fn score(&self, input: &GroundednessInput<'_>) -> Groundedness {
        let has_contexts = input.contexts.iter().any(|c| !c.trim().is_empty());
        let has_samples = input.samples.iter().any(|s| !s.trim().is_empty());
        if has_contexts || has_samples {
            return self.score_claims(input, has_contexts).await;
        }
        if let Some(probability) = input.token_logprobs.and_then(mean_token_probability) {
            return self.verdict(
                probability,
                GroundednessSignal::TokenProbability,
                Vec::new(),
            );
        }
        Groundedness::undetermined(
            "no retrieved context, sampled responses or token log-probabilities to score against",
        )
    }

    async fn score_claims(
        &self,
        input: &GroundednessInput<'_>,
        has_contexts: bool,
    ) -> Groundedness {
        let claims = extract_claims(input.answer);
        if claims.is_empty() {
            return Groundedness::undetermined("the response has no extractable claims");
        }
        let (signal, supports) = if has_contexts {
            let supports = self.support.support(&claims, input.contexts).await;
            (GroundednessSignal::ClaimSupport, supports)
        } else {
            let supports = self.self_consistency(&claims, input.samples).await;
            (GroundednessSignal::SelfConsistency, supports)
        };
        match supports {
            Ok(supports) => {
                let weakest = supports.iter().map(|c| c.support).fold(1.0, f64::min);
                self.verdict(weakest, signal, supports)
            }
            Err(error) => Groundedness::undetermined(error.to_string()),
        }
    }

    /// Averages each claim's support over the samples.
    async fn self_consistency(
        &self,
        claims: &[String],
        samples: &[String],
    ) -> Result<Vec<ClaimSupport>> {
        let samples: Vec<&String> = samples.iter().filter(|s| !s.trim().is_empty()).collect();
        let mut averaged: Vec<ClaimSupport> = Vec::new();
        for sample in &samples {
            let supports = self
                .support
                .support(claims, std::slice::from_ref(*sample))
                .await?;
            if averaged.is_empty() {
                averaged = supports;
                continue;
            }
            for (total, support) in averaged.iter_mut().zip(supports) {
                total.support += support.support;
                total.lexical += support.lexical;
                total.number_mismatch |= support.number_mismatch;
                total.embedding = total.embedding.zip(support.embedding).map(|(a, b)| a + b);
            }
        }
        let count = samples.len().max(1) as f64;
        for claim in &mut averaged {
            claim.support /= count;
            claim.lexical /= count;
            claim.embedding = claim.embedding.map(|e| e / count);
        }
        Ok(averaged)
    }

    fn verdict(
        &self,
        score: f64,
        signal: GroundednessSignal,
        claims: Vec<ClaimSupport>,
    ) -> Groundedness {
        let claim_threshold = self.support.claim_threshold();
        let unsupported_claims = claims
            .iter()
            .filter(|claim| claim.support < claim_threshold)
            .map(|claim| claim.claim.clone())
            .collect();
        let score = score.clamp(0.0, 1.0);
        Groundedness {
            score: Score::value(score),
            signal: Some(signal),
            flagged: score < self.threshold,
            unsupported_claims,
            claims,
        }
    }
}
