//! The drift report of one current window against a baseline.

use serde::{Deserialize, Serialize};

use crate::ctfidf::TopicTerm;
use crate::null_quantile::AppliedThresholds;
use crate::policy::Severity;
use crate::stats::Measurement;

/// What a [`MeasureResult`] measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "measure", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Measure {
    /// Jensen-Shannon distance (base 2) of topic shares.
    TopicJensenShannon,
    /// Population stability index of topic shares.
    TopicPsi,
    /// Chi-square test of topic counts.
    TopicChiSquare,
    /// Cosine distance between embedding centroids.
    CentroidCosine,
    /// MMD permutation test of embeddings.
    Mmd,
    /// Cross-validated domain-classifier ROC AUC.
    DomainClassifierAuc,
    /// Kolmogorov-Smirnov test of a numeric signal.
    Ks {
        /// Name of the signal.
        feature: String,
    },
    /// Normalised Wasserstein distance of a numeric signal.
    Wasserstein {
        /// Name of the signal.
        feature: String,
    },
}

impl Measure {
    /// Returns a short human-readable name.
    pub fn name(&self) -> String {
        match self {
            Self::TopicJensenShannon => "topic shares: Jensen-Shannon".into(),
            Self::TopicPsi => "topic shares: PSI".into(),
            Self::TopicChiSquare => "topic shares: chi-square".into(),
            Self::CentroidCosine => "embeddings: centroid cosine distance".into(),
            Self::Mmd => "embeddings: MMD".into(),
            Self::DomainClassifierAuc => "embeddings: domain-classifier AUC".into(),
            Self::Ks { feature } => format!("{feature}: Kolmogorov-Smirnov"),
            Self::Wasserstein { feature } => format!("{feature}: Wasserstein (normalised)"),
        }
    }
}

/// One measure's value and the severity the policy gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureResult {
    /// What was measured.
    #[serde(flatten)]
    pub measure: Measure,
    /// The value, or insufficient data.
    pub measurement: Measurement,
    /// Severity under the policy.
    pub severity: Severity,
    /// Thresholds applied when they depended on the window sizes (see
    /// [`Policy::null_quantiles`](crate::Policy)); `None` when the policy's
    /// rule was applied as configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<AppliedThresholds>,
}

/// Share of one topic in both windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicShare {
    /// Baseline topic index, or `None` for inputs beyond every topic.
    pub topic: Option<usize>,
    /// Top terms of the topic, or "new topic".
    pub label: String,
    /// Reference inputs in the topic.
    pub reference_count: f64,
    /// Current inputs in the topic.
    pub current_count: f64,
    /// Reference share in `[0, 1]`.
    pub reference_share: f64,
    /// Current share in `[0, 1]`.
    pub current_share: f64,
}

/// A group of current inputs beyond every baseline topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTopic {
    /// Inputs in the group.
    pub size: usize,
    /// Terms that set the group apart from the rest of the window.
    pub terms: Vec<TopicTerm>,
    /// Inputs nearest the group's centroid.
    pub examples: Vec<String>,
}

/// A baseline topic that no current input fell into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VanishedTopic {
    /// Baseline topic index.
    pub topic: usize,
    /// Label of the topic.
    pub label: String,
    /// Its share of the reference window.
    pub reference_share: f64,
    /// Baseline examples of the topic.
    pub examples: Vec<String>,
}

/// Result of comparing one window with a baseline.
///
/// The report holds example inputs of new and vanished topics but not the
/// window's other inputs; [`CheckOutcome::drifted_inputs`](crate::CheckOutcome)
/// carries those to actions without storing them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Embedding model of the baseline and window.
    pub embedding_model: String,
    /// Inputs in the reference window.
    pub reference_inputs: usize,
    /// Inputs in the current window.
    pub current_inputs: usize,
    /// Highest severity over all measures.
    pub severity: Severity,
    /// Every measure with its value and severity.
    pub measures: Vec<MeasureResult>,
    /// Topic shares, baseline topics first and "new topic" last.
    pub topic_shares: Vec<TopicShare>,
    /// Groups of inputs beyond every baseline topic.
    pub new_topics: Vec<NewTopic>,
    /// Baseline topics absent from the current window.
    pub vanished_topics: Vec<VanishedTopic>,
}

impl DriftReport {
    /// Returns whether any measure reached [`Severity::Alert`].
    pub fn is_drift(&self) -> bool {
        self.severity == Severity::Alert
    }

    /// Returns the result of `measure`, if it was computed.
    pub fn measure(&self, measure: &Measure) -> Option<&MeasureResult> {
        self.measures
            .iter()
            .find(|result| &result.measure == measure)
    }
}
