//! The baseline: topics of a reference window with their centroids, sizes
//! and top terms.

use std::collections::BTreeMap;

use llmops_core::Embedder;
use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::assign::{Assignment, cosine_to_unit};
use crate::cluster::cluster;
use crate::ctfidf::{TopicTerm, top_terms};
use crate::embed::{embed_all, normalise};
use crate::error::{DriftError, Result};
use crate::stats::check_embeddings;
use crate::window::Window;

/// How many topics the baseline has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TopicCount {
    /// Exactly this many (fewer when the window has fewer inputs).
    Fixed(usize),
    /// The k in `min..=max` with the highest mean silhouette, scored on a
    /// sample of [`BaselineConfig::silhouette_sample`] inputs.
    Silhouette {
        /// Smallest k tried, at least 2.
        min: usize,
        /// Largest k tried.
        max: usize,
    },
}

/// Settings of [`Baseline::build`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BaselineConfig {
    /// Topic count. Default: silhouette over 2 to 20.
    pub topics: TopicCount,
    /// k-means iteration limit. Default 100.
    pub max_iterations: u64,
    /// k-means restarts of the final fit from new k-means++ seeds; the fit
    /// with the lowest inertia is kept. While choosing k by silhouette, each
    /// candidate k is fitted once. Default 3.
    pub runs: usize,
    /// Seed of k-means initialisation and all sampling. Default 0.
    pub seed: u64,
    /// Windows with more inputs than this use mini-batch k-means. Default
    /// 20,000.
    pub minibatch_above: usize,
    /// Inputs per mini-batch. Default 4,096.
    pub minibatch_size: usize,
    /// Maximum passes over the window in mini-batch mode. Default 3.
    pub minibatch_passes: usize,
    /// Inputs scored per candidate k; silhouette costs grow with its
    /// square. Default 1,000.
    pub silhouette_sample: usize,
    /// Terms kept per topic label. Default 8.
    pub top_terms: usize,
    /// Example inputs stored per topic, those nearest its centroid. They are
    /// raw inputs, so set 0 where inputs may hold personal data. Default 3.
    pub examples_per_topic: usize,
    /// Quantile of the held-out baseline inputs' distances to their nearest
    /// centroid above which a current input counts as a new topic. Default
    /// 0.99, so about 1% of an unchanged window lands beyond it.
    pub new_topic_quantile: f64,
    /// Share of the baseline window held out of clustering. The held-out
    /// inputs set the new-topic distance and the reference topic counts, so
    /// both are measured on inputs the centroids were not fitted to, like a
    /// current window's. Default 0.3; windows of fewer than 20 inputs use
    /// every input for both.
    pub calibration_share: f64,
    /// Reference embeddings kept for MMD and the domain classifier.
    /// Default 1,000.
    pub embedding_sample: usize,
    /// Reference values kept per numeric signal. Default 5,000.
    pub feature_sample: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            topics: TopicCount::Silhouette { min: 2, max: 20 },
            max_iterations: 100,
            runs: 3,
            seed: 0,
            minibatch_above: 20_000,
            minibatch_size: 4_096,
            minibatch_passes: 3,
            silhouette_sample: 1_000,
            top_terms: 8,
            examples_per_topic: 3,
            new_topic_quantile: 0.99,
            calibration_share: 0.3,
            embedding_sample: 1_000,
            feature_sample: 5_000,
        }
    }
}

impl BaselineConfig {
    /// Sets the topic count.
    pub fn topics(mut self, topics: TopicCount) -> Self {
        self.topics = topics;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the number of example inputs stored per topic.
    pub fn examples_per_topic(mut self, examples: usize) -> Self {
        self.examples_per_topic = examples;
        self
    }

    /// Sets the share of the window held out for calibration.
    pub fn calibration_share(mut self, share: f64) -> Self {
        self.calibration_share = share;
        self
    }

    /// Sets the window size above which mini-batch k-means is used.
    pub fn minibatch_above(mut self, inputs: usize) -> Self {
        self.minibatch_above = inputs;
        self
    }

    fn validate(&self) -> Result<()> {
        let invalid = |name, value: String, reason| DriftError::InvalidParameter {
            name,
            value,
            reason,
        };
        match self.topics {
            TopicCount::Fixed(0) => {
                return Err(invalid("topics", "0".into(), "use at least 1 topic"));
            }
            TopicCount::Silhouette { min, max } if max < min.max(2) => {
                return Err(invalid(
                    "topics",
                    format!("{min}..={max}"),
                    "the silhouette range needs max >= max(min, 2)",
                ));
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.new_topic_quantile) {
            let value = self.new_topic_quantile.to_string();
            return Err(invalid(
                "new_topic_quantile",
                value,
                "use a quantile in [0, 1]",
            ));
        }
        if !(0.0..1.0).contains(&self.calibration_share) {
            let value = self.calibration_share.to_string();
            return Err(invalid("calibration_share", value, "use a share in [0, 1)"));
        }
        if self.runs == 0 {
            return Err(invalid("runs", "0".into(), "use at least 1 k-means run"));
        }
        if self.minibatch_size == 0 || self.minibatch_passes == 0 {
            let value = format!("{} x {}", self.minibatch_size, self.minibatch_passes);
            return Err(invalid(
                "minibatch_size",
                value,
                "use a batch size and pass count of at least 1",
            ));
        }
        Ok(())
    }
}

/// One topic of a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    /// Index of the topic in [`Baseline::topics`].
    pub id: usize,
    /// Baseline inputs assigned to the topic.
    pub size: usize,
    /// Unit-length centroid.
    pub centroid: Vec<f32>,
    /// Highest-weighted c-TF-IDF terms.
    pub terms: Vec<TopicTerm>,
    /// Inputs nearest the centroid.
    pub examples: Vec<String>,
}

impl Topic {
    /// Returns the top terms joined by commas, as a short label.
    pub fn label(&self) -> String {
        let terms: Vec<&str> = self.terms.iter().take(4).map(|t| t.term.as_str()).collect();
        if terms.is_empty() {
            format!("topic {}", self.id)
        } else {
            terms.join(", ")
        }
    }
}

/// Topics of a reference window and the samples that later windows are
/// compared with. Serialisable, so it can be stored and reloaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Name of the embedding model; current windows must use the same.
    pub embedding_model: String,
    /// Embedding dimension.
    pub dimensions: usize,
    /// Number of inputs in the reference window.
    pub inputs: usize,
    /// The topics.
    pub topics: Vec<Topic>,
    /// Mean silhouette of the chosen k, when k was chosen by silhouette.
    pub silhouette: Option<f64>,
    /// Cosine distance to the nearest centroid above which an input is a
    /// new topic.
    pub new_topic_distance: f64,
    /// Held-out reference inputs per topic, assigned by the same rule as
    /// current windows; the last entry counts inputs beyond
    /// `new_topic_distance`.
    pub reference_counts: Vec<f64>,
    /// Unit-length sample of reference embeddings.
    pub embeddings: Vec<Vec<f32>>,
    /// Sample of reference values per numeric signal.
    pub features: BTreeMap<String, Vec<f64>>,
}

impl Baseline {
    /// Embeds the window's texts with `embedder` and builds the baseline.
    ///
    /// # Errors
    ///
    /// Returns an error when embedding fails, the window is empty, or the
    /// configuration is invalid.
    pub async fn build(
        embedder: &dyn Embedder,
        window: &Window,
        config: &BaselineConfig,
    ) -> Result<Self> {
        let embeddings = embed_all(embedder, &window.texts).await?;
        Self::from_embeddings(embedder.model(), window, embeddings, config)
    }

    /// Builds the baseline from precomputed embeddings, one per text.
    ///
    /// # Errors
    ///
    /// Returns an error when the counts or dimensions do not match, the
    /// window is empty, a value is not finite, or the configuration is
    /// invalid.
    pub fn from_embeddings(
        embedding_model: &str,
        window: &Window,
        mut embeddings: Vec<Vec<f32>>,
        config: &BaselineConfig,
    ) -> Result<Self> {
        config.validate()?;
        if embeddings.len() != window.texts.len() {
            return Err(DriftError::LengthMismatch {
                what: "texts and embeddings",
                reference: window.texts.len(),
                current: embeddings.len(),
            });
        }
        if embeddings.is_empty() {
            return Err(DriftError::InvalidParameter {
                name: "window",
                value: "0 inputs".into(),
                reason: "a baseline needs at least one input",
            });
        }
        let dimensions = check_embeddings(&embeddings, &[])?;
        normalise(&mut embeddings);

        let (fit, calibration) = split_for_calibration(embeddings.len(), config);
        let fit_vectors: Vec<Vec<f32>> = fit.iter().map(|&i| embeddings[i].clone()).collect();
        let fit_texts: Vec<String> = fit.iter().map(|&i| window.texts[i].clone()).collect();
        let points = to_matrix(&fit_vectors, dimensions)?;
        let clustering = cluster(&points, config)?;
        let centroids = unit_rows(&clustering.centroids);
        let topic_count = centroids.len();
        tracing::info!(
            inputs = embeddings.len(),
            topics = topic_count,
            "clustered baseline"
        );

        let distances: Vec<f64> = fit_vectors
            .iter()
            .zip(&clustering.assignments)
            .map(|(vector, &topic)| cosine_to_unit(vector, &centroids[topic]))
            .collect();

        let terms = top_terms(
            &fit_texts,
            &clustering.assignments,
            topic_count,
            config.top_terms,
        );
        let mut topics: Vec<Topic> = centroids
            .into_iter()
            .zip(terms)
            .enumerate()
            .map(|(id, (centroid, terms))| Topic {
                id,
                size: 0,
                centroid,
                terms,
                examples: Vec::new(),
            })
            .collect();
        for &topic in &clustering.assignments {
            topics[topic].size += 1;
        }
        let fit_window = Window::new(fit_texts);
        add_examples(
            &mut topics,
            &fit_window,
            &clustering.assignments,
            &distances,
            config,
        );

        let mut baseline = Self {
            embedding_model: embedding_model.to_string(),
            dimensions,
            inputs: embeddings.len(),
            topics,
            silhouette: clustering.silhouette,
            new_topic_distance: f64::INFINITY,
            reference_counts: Vec::new(),
            embeddings: Vec::new(),
            features: BTreeMap::new(),
        };
        let held_out: Vec<Vec<f32>> = calibration.iter().map(|&i| embeddings[i].clone()).collect();
        let held_out_distances: Vec<f64> = baseline
            .assign_unit(&held_out)
            .iter()
            .map(|assignment| match assignment {
                Assignment::Topic { distance, .. } | Assignment::NewTopic { distance, .. } => {
                    *distance
                }
            })
            .collect();
        baseline.new_topic_distance = quantile(&held_out_distances, config.new_topic_quantile);
        baseline.reference_counts = baseline.topic_counts(&baseline.assign_unit(&held_out));
        baseline.embeddings = sample(embeddings, config.embedding_sample, config.seed);
        baseline.features = window
            .features
            .iter()
            .map(|(name, values)| {
                (
                    name.clone(),
                    sample(values.clone(), config.feature_sample, config.seed),
                )
            })
            .collect();
        Ok(baseline)
    }

    /// Returns counts per topic for `assignments`, with new-topic inputs in
    /// the last entry.
    pub fn topic_counts(&self, assignments: &[Assignment]) -> Vec<f64> {
        let mut counts = vec![0.0; self.topics.len() + 1];
        for assignment in assignments {
            let index = match assignment {
                Assignment::Topic { id, .. } => *id,
                Assignment::NewTopic { .. } => self.topics.len(),
            };
            if let Some(count) = counts.get_mut(index) {
                *count += 1.0;
            }
        }
        counts
    }
}

/// Splits input indices into those clustered and those held out for
/// calibration; both are every input for small windows.
fn split_for_calibration(inputs: usize, config: &BaselineConfig) -> (Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..inputs).collect();
    let held_out = (inputs as f64 * config.calibration_share).round() as usize;
    if inputs < 20 || held_out == 0 {
        return (all.clone(), all);
    }
    let mut order = all;
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed));
    let calibration = order.split_off(inputs - held_out);
    (order, calibration)
}

/// Adds to each topic the inputs nearest its centroid.
fn add_examples(
    topics: &mut [Topic],
    window: &Window,
    assignments: &[usize],
    distances: &[f64],
    config: &BaselineConfig,
) {
    let mut order: Vec<usize> = (0..assignments.len()).collect();
    order.sort_by(|&a, &b| distances[a].total_cmp(&distances[b]));
    for index in order {
        let topic = &mut topics[assignments[index]];
        if topic.examples.len() < config.examples_per_topic {
            topic.examples.push(window.texts[index].clone());
        }
    }
}

fn to_matrix(vectors: &[Vec<f32>], dimensions: usize) -> Result<Array2<f32>> {
    let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
    Array2::from_shape_vec((vectors.len(), dimensions), flat).map_err(|error| DriftError::Model {
        stage: "embedding matrix",
        message: error.to_string(),
    })
}

fn unit_rows(matrix: &Array2<f32>) -> Vec<Vec<f32>> {
    let mut rows: Vec<Vec<f32>> = matrix.outer_iter().map(|row| row.to_vec()).collect();
    normalise(&mut rows);
    rows
}

/// Linear-interpolated quantile, as numpy's default; 0 for no values.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let fraction = position - low as f64;
    sorted[low] + (sorted[high] - sorted[low]) * fraction
}

/// Returns at most `max` items drawn without replacement, in random order.
pub(crate) fn sample<T>(mut items: Vec<T>, max: usize, seed: u64) -> Vec<T> {
    if items.len() > max {
        items.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        items.truncate(max);
    }
    items
}
