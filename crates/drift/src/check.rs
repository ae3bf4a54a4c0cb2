//! Comparing a current window with a baseline.

use llmops_core::Embedder;
use serde::{Deserialize, Serialize};

use crate::assign::Assignment;
use crate::baseline::{Baseline, BaselineConfig, TopicCount};
use crate::embed::{embed_all, normalise};
use crate::error::{DriftError, Result};
use crate::null_quantile::{self, AppliedThresholds};
use crate::policy::{Policy, Rule, Severity};
use crate::report::{DriftReport, Measure, MeasureResult, NewTopic, TopicShare, VanishedTopic};
use crate::stats::{self, DomainClassifierConfig, Measurement, MmdConfig, check_embeddings};
use crate::window::Window;

/// Settings of the embedding tests and of new-topic reports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckConfig {
    /// MMD settings.
    pub mmd: MmdConfig,
    /// Domain-classifier settings.
    pub domain_classifier: DomainClassifierConfig,
    /// Example inputs reported per new topic. Default 3.
    #[serde(default = "default_examples")]
    pub examples_per_new_topic: usize,
}

fn default_examples() -> usize {
    3
}

impl CheckConfig {
    /// Creates the default settings.
    pub fn new() -> Self {
        Self {
            examples_per_new_topic: default_examples(),
            ..Self::default()
        }
    }

    /// Sets the MMD settings.
    pub fn mmd(mut self, mmd: MmdConfig) -> Self {
        self.mmd = mmd;
        self
    }

    /// Sets the domain-classifier settings.
    pub fn domain_classifier(mut self, config: DomainClassifierConfig) -> Self {
        self.domain_classifier = config;
        self
    }
}

/// An input of a drifted topic, handed to actions and never stored in the
/// report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftedInput {
    /// The input text.
    pub text: String,
    /// Baseline topic, or `None` for a new topic.
    pub topic: Option<usize>,
}

/// A report with the inputs that actions may need.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// The report, safe to store.
    pub report: DriftReport,
    /// Inputs of new topics and of topics whose share at least doubled.
    pub drifted_inputs: Vec<DriftedInput>,
}

/// Compares windows with one baseline under one policy.
///
/// ```
/// use llmops_drift::{Baseline, BaselineConfig, DriftCheck, Policy, TopicCount, Window};
///
/// let reference = Window::new(["pay my bill", "card declined", "book a flight"]);
/// let embeddings = vec![vec![1.0, 0.0], vec![0.9, 0.1], vec![0.0, 1.0]];
/// let config = BaselineConfig::default().topics(TopicCount::Fixed(2));
/// let baseline = Baseline::from_embeddings("toy", &reference, embeddings, &config).unwrap();
///
/// let check = DriftCheck::new(baseline, Policy::default());
/// let current = Window::new(["flight to rome"]);
/// let outcome = check.check_embeddings(&current, vec![vec![0.1, 1.0]]).unwrap();
/// // One input is below the policy's minimum window size.
/// assert!(!outcome.report.is_drift());
/// ```
#[derive(Debug, Clone)]
pub struct DriftCheck {
    baseline: Baseline,
    policy: Policy,
    config: CheckConfig,
}

impl DriftCheck {
    /// Creates a check with default [`CheckConfig`].
    pub fn new(baseline: Baseline, policy: Policy) -> Self {
        Self {
            baseline,
            policy,
            config: CheckConfig::new(),
        }
    }

    /// Replaces the check settings.
    pub fn with_config(mut self, config: CheckConfig) -> Self {
        self.config = config;
        self
    }

    /// Returns the baseline.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Embeds the window with `embedder` and compares it with the baseline.
    ///
    /// # Errors
    ///
    /// Returns an error when the embedder's model differs from the
    /// baseline's, embedding fails, or a statistic rejects its input.
    pub async fn check(&self, embedder: &dyn Embedder, window: &Window) -> Result<CheckOutcome> {
        if embedder.model() != self.baseline.embedding_model {
            return Err(DriftError::InvalidParameter {
                name: "embedder",
                value: embedder.model().to_string(),
                reason: "the window must be embedded with the baseline's model; rebuild the baseline or switch the embedder",
            });
        }
        let embeddings = embed_all(embedder, &window.texts).await?;
        self.check_embeddings(window, embeddings)
    }

    /// Compares a window with precomputed embeddings, one per text.
    ///
    /// # Errors
    ///
    /// Returns an error when the window is empty, counts or dimensions do
    /// not match, a value is not finite, the policy is invalid, or a
    /// statistic fails.
    pub fn check_embeddings(
        &self,
        window: &Window,
        mut embeddings: Vec<Vec<f32>>,
    ) -> Result<CheckOutcome> {
        self.policy.validate()?;
        if window.texts.is_empty() {
            return Err(DriftError::InvalidParameter {
                name: "window",
                value: "0 inputs".into(),
                reason: "a window without inputs would report every topic as vanished; check a window with at least one input",
            });
        }
        if embeddings.len() != window.texts.len() {
            return Err(DriftError::LengthMismatch {
                what: "texts and embeddings",
                reference: window.texts.len(),
                current: embeddings.len(),
            });
        }
        let assignments = self.baseline.assign(&embeddings)?;
        normalise(&mut embeddings);

        let current_counts = self.baseline.topic_counts(&assignments);
        let mut measures = self.topic_measures(&current_counts)?;
        measures.extend(self.embedding_measures(&embeddings)?);
        measures.extend(self.feature_measures(window)?);
        let severity = measures
            .iter()
            .map(|m| m.severity)
            .max()
            .unwrap_or(Severity::None);

        let topic_shares = self.topic_shares(&current_counts);
        let new_topics = self.new_topics(window, &embeddings, &assignments)?;
        let vanished_topics = self.vanished_topics(&topic_shares);
        let drifted_inputs = drifted_inputs(window, &assignments, &topic_shares);
        tracing::info!(
            inputs = window.len(),
            severity = severity.as_str(),
            new_topics = new_topics.len(),
            vanished_topics = vanished_topics.len(),
            "checked window for drift"
        );

        let report = DriftReport {
            embedding_model: self.baseline.embedding_model.clone(),
            reference_inputs: self.baseline.inputs,
            current_inputs: window.len(),
            severity,
            measures,
            topic_shares,
            new_topics,
            vanished_topics,
        };
        Ok(CheckOutcome {
            report,
            drifted_inputs,
        })
    }

    fn judge(&self, measure: Measure, measurement: Measurement, rule: &Rule) -> MeasureResult {
        self.judge_against(measure, measurement, rule, None)
    }

    /// Judges with `thresholds` in place of `rule` when they are given.
    fn judge_against(
        &self,
        measure: Measure,
        measurement: Measurement,
        rule: &Rule,
        thresholds: Option<AppliedThresholds>,
    ) -> MeasureResult {
        let severity = match &thresholds {
            Some(applied) => applied.rule().judge(&measurement),
            None => rule.judge(&measurement),
        };
        MeasureResult {
            measure,
            measurement,
            severity,
            thresholds,
        }
    }

    /// Replaces a measurement by insufficient data when either side is
    /// below the policy's minimum.
    fn enough(
        &self,
        reference: usize,
        current: usize,
        measure: impl FnOnce() -> Result<Measurement>,
    ) -> Result<Measurement> {
        let required = self.policy.min_samples;
        if reference < required || current < required {
            return Ok(Measurement::insufficient(required, reference, current));
        }
        measure()
    }

    fn topic_measures(&self, current: &[f64]) -> Result<Vec<MeasureResult>> {
        let reference = &self.baseline.reference_counts;
        let sizes = (total(reference), total(current));
        let policy = &self.policy;
        let jensen_shannon = self.enough(sizes.0, sizes.1, || {
            stats::jensen_shannon(reference, current)
        })?;
        let psi = self.enough(sizes.0, sizes.1, || stats::psi(reference, current))?;
        let (js_thresholds, psi_thresholds) = match (&policy.null_quantiles, psi.statistic()) {
            (Some(settings), Some(_)) => {
                let (js_draws, psi_draws) =
                    null_quantile::topic_share_draws(reference, sizes.1, settings)?;
                (
                    AppliedThresholds::combine(&policy.jensen_shannon, &js_draws, settings),
                    AppliedThresholds::combine(&policy.psi, &psi_draws, settings),
                )
            }
            _ => (None, None),
        };
        Ok(vec![
            self.judge_against(
                Measure::TopicJensenShannon,
                jensen_shannon,
                &policy.jensen_shannon,
                js_thresholds,
            ),
            self.judge_against(Measure::TopicPsi, psi, &policy.psi, psi_thresholds),
            self.judge(
                Measure::TopicChiSquare,
                self.enough(sizes.0, sizes.1, || stats::chi_square(reference, current))?,
                &policy.chi_square,
            ),
        ])
    }

    fn embedding_measures(&self, current: &[Vec<f32>]) -> Result<Vec<MeasureResult>> {
        let reference = &self.baseline.embeddings;
        check_embeddings(reference, current)?;
        let sizes = (reference.len(), current.len());
        let policy = &self.policy;
        Ok(vec![
            self.judge(
                Measure::CentroidCosine,
                self.enough(sizes.0, sizes.1, || {
                    stats::centroid_cosine_distance(reference, current)
                })?,
                &policy.centroid_cosine,
            ),
            self.judge(
                Measure::Mmd,
                self.enough(sizes.0, sizes.1, || {
                    stats::mmd_rbf(reference, current, &self.config.mmd)
                })?,
                &policy.mmd,
            ),
            self.judge(
                Measure::DomainClassifierAuc,
                self.enough(sizes.0, sizes.1, || {
                    stats::domain_classifier_auc(reference, current, &self.config.domain_classifier)
                })?,
                &policy.domain_classifier,
            ),
        ])
    }

    /// KS and Wasserstein for every signal present in both windows.
    fn feature_measures(&self, window: &Window) -> Result<Vec<MeasureResult>> {
        let mut results = Vec::new();
        for (name, reference) in &self.baseline.features {
            let Some(current) = window.features.get(name) else {
                continue;
            };
            let sizes = (reference.len(), current.len());
            let ks = self.enough(sizes.0, sizes.1, || {
                stats::ks_two_sample(reference, current)
            })?;
            let feature = name.clone();
            results.push(self.judge(Measure::Ks { feature }, ks, &self.policy.ks));
            let distance = self.enough(sizes.0, sizes.1, || {
                stats::wasserstein_normalised(reference, current)
            })?;
            let thresholds = match (&self.policy.null_quantiles, distance.statistic()) {
                (Some(settings), Some(_)) => {
                    let draws =
                        null_quantile::wasserstein_draws(reference, current.len(), settings);
                    AppliedThresholds::combine(&self.policy.wasserstein, &draws, settings)
                }
                _ => None,
            };
            let feature = name.clone();
            results.push(self.judge_against(
                Measure::Wasserstein { feature },
                distance,
                &self.policy.wasserstein,
                thresholds,
            ));
        }
        Ok(results)
    }

    fn topic_shares(&self, current: &[f64]) -> Vec<TopicShare> {
        let reference = &self.baseline.reference_counts;
        let share = |count: f64, counts: &[f64]| {
            let sum: f64 = counts.iter().sum();
            if sum > 0.0 { count / sum } else { 0.0 }
        };
        reference
            .iter()
            .zip(current)
            .enumerate()
            .map(|(index, (&reference_count, &current_count))| {
                let topic = self.baseline.topics.get(index);
                TopicShare {
                    topic: topic.map(|t| t.id),
                    label: topic.map_or_else(|| "new topic".to_string(), |t| t.label()),
                    reference_count,
                    current_count,
                    reference_share: share(reference_count, reference),
                    current_share: share(current_count, current),
                }
            })
            .collect()
    }

    fn vanished_topics(&self, shares: &[TopicShare]) -> Vec<VanishedTopic> {
        shares
            .iter()
            .filter(|share| share.current_count == 0.0)
            .filter(|share| share.reference_share >= self.policy.vanished_min_share)
            .filter_map(|share| {
                let topic = self.baseline.topics.get(share.topic?)?;
                Some(VanishedTopic {
                    topic: topic.id,
                    label: topic.label(),
                    reference_share: share.reference_share,
                    examples: topic.examples.clone(),
                })
            })
            .collect()
    }

    /// Groups the inputs beyond every topic by k-means and labels each group
    /// by c-TF-IDF against the rest of the window.
    fn new_topics(
        &self,
        window: &Window,
        unit: &[Vec<f32>],
        assignments: &[Assignment],
    ) -> Result<Vec<NewTopic>> {
        let new: Vec<usize> = assignments
            .iter()
            .enumerate()
            .filter(|(_, a)| matches!(a, Assignment::NewTopic { .. }))
            .map(|(index, _)| index)
            .collect();
        if new.is_empty() {
            return Ok(Vec::new());
        }

        let texts: Vec<String> = new.iter().map(|&i| window.texts[i].clone()).collect();
        let vectors: Vec<Vec<f32>> = new.iter().map(|&i| unit[i].clone()).collect();
        let topics = if new.len() >= 20 {
            TopicCount::Silhouette { min: 2, max: 5 }
        } else {
            TopicCount::Fixed(1)
        };
        let config = BaselineConfig::default()
            .topics(topics)
            .calibration_share(0.0)
            .examples_per_topic(self.config.examples_per_new_topic);
        let groups = Baseline::from_embeddings(
            &self.baseline.embedding_model,
            &Window::new(texts),
            vectors,
            &config,
        )?;

        // Terms are weighted against the known-topic inputs of the window.
        let known: Vec<(String, usize)> = assignments
            .iter()
            .zip(&window.texts)
            .filter_map(|(assignment, text)| match assignment {
                Assignment::Topic { .. } => Some((text.clone(), groups.topics.len())),
                Assignment::NewTopic { .. } => None,
            })
            .collect();
        let mut all_texts: Vec<String> = Vec::new();
        let mut labels: Vec<usize> = Vec::new();
        for (index, &position) in new.iter().enumerate() {
            all_texts.push(window.texts[position].clone());
            let group = groups.assign_unit(&unit[position..=position]);
            let id = match group.first() {
                Some(Assignment::Topic { id, .. }) => *id,
                Some(Assignment::NewTopic { nearest, .. }) => *nearest,
                None => index % groups.topics.len().max(1),
            };
            labels.push(id);
        }
        for (text, label) in known {
            all_texts.push(text);
            labels.push(label);
        }
        let terms = crate::ctfidf::top_terms(&all_texts, &labels, groups.topics.len() + 1, 8);

        let mut result: Vec<NewTopic> = groups
            .topics
            .into_iter()
            .zip(terms)
            .filter(|(topic, _)| topic.size > 0)
            .map(|(topic, terms)| NewTopic {
                size: topic.size,
                terms,
                examples: topic.examples,
            })
            .collect();
        result.sort_by_key(|topic| std::cmp::Reverse(topic.size));
        Ok(result)
    }
}

/// Inputs of new topics and of topics whose current share is at least
/// twice the reference share.
fn drifted_inputs(
    window: &Window,
    assignments: &[Assignment],
    shares: &[TopicShare],
) -> Vec<DriftedInput> {
    let grown = |index: usize| {
        shares.get(index).is_some_and(|share| {
            share.current_share >= 2.0 * share.reference_share && share.current_count > 0.0
        })
    };
    assignments
        .iter()
        .zip(&window.texts)
        .filter_map(|(assignment, text)| match assignment {
            Assignment::NewTopic { .. } => Some(DriftedInput {
                text: text.clone(),
                topic: None,
            }),
            Assignment::Topic { id, .. } if grown(*id) => Some(DriftedInput {
                text: text.clone(),
                topic: Some(*id),
            }),
            _ => None,
        })
        .collect()
}

fn total(counts: &[f64]) -> usize {
    counts.iter().sum::<f64>().round() as usize
}
