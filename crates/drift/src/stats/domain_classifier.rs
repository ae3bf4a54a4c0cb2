//! Domain classifier: the ROC AUC of a model that separates the current
//! window from the reference.

use linfa::Dataset;
use linfa::traits::Fit;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{Measurement, check_embeddings, roc_auc};
use crate::error::{DriftError, Result};

/// Settings of [`domain_classifier_auc`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DomainClassifierConfig {
    /// Number of cross-validation folds, at least 2. Default 2.
    pub folds: usize,
    /// Largest number of vectors taken from each sample, drawn at random
    /// without replacement. Default 1000.
    pub max_samples: usize,
    /// L2 penalty of the logistic regression. Default 1.0.
    pub l2_penalty: f64,
    /// Iteration limit of the L-BFGS solver. Default 100.
    pub max_iterations: u64,
    /// Seed of the subsampling and fold assignment. Default 0.
    pub seed: u64,
}

impl Default for DomainClassifierConfig {
    fn default() -> Self {
        Self {
            folds: 2,
            max_samples: 1000,
            l2_penalty: 1.0,
            max_iterations: 100,
            seed: 0,
        }
    }
}

impl DomainClassifierConfig {
    /// Sets the number of folds.
    pub fn folds(mut self, folds: usize) -> Self {
        self.folds = folds;
        self
    }

    /// Sets the largest number of vectors taken from each sample.
    pub fn max_samples(mut self, max_samples: usize) -> Self {
        self.max_samples = max_samples;
        self
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// Trains a logistic regression to tell current vectors (positive) from
/// reference vectors and returns its cross-validated ROC AUC.
///
/// Each vector is scored by a model that did not see it: the samples are
/// split into `folds` stratified folds, and the AUC is computed over all
/// out-of-fold scores. About 0.5 means the windows are indistinguishable;
/// values towards 1 mean drift. Returns insufficient data when a sample has
/// fewer vectors than folds.
///
/// # Errors
///
/// Returns an error when vectors differ in dimension or contain NaN or
/// infinity, when `folds` is below 2, or when linfa fails to fit.
///
/// ```
/// use llmops_drift::stats::{DomainClassifierConfig, domain_classifier_auc};
///
/// let reference: Vec<Vec<f32>> = (0..30).map(|i| vec![(i % 7) as f32, 0.0]).collect();
/// let current: Vec<Vec<f32>> = (0..30).map(|i| vec![(i % 7) as f32, 2.0]).collect();
/// let auc = domain_classifier_auc(&reference, &current, &DomainClassifierConfig::default()).unwrap();
/// assert!(auc.statistic().unwrap() > 0.9);
/// ```
pub fn domain_classifier_auc(
    reference: &[Vec<f32>],
    current: &[Vec<f32>],
    config: &DomainClassifierConfig,
) -> Result<Measurement> {
    let dimensions = check_embeddings(reference, current)?;
    if config.folds < 2 || config.max_samples < config.folds {
        return Err(DriftError::InvalidParameter {
            name: "folds",
            value: config.folds.to_string(),
            reason: "cross-validation needs at least 2 folds and max_samples of at least folds",
        });
    }
    if reference.len() < config.folds || current.len() < config.folds {
        return Ok(Measurement::insufficient(
            config.folds,
            reference.len(),
            current.len(),
        ));
    }

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut rows: Vec<(&[f32], bool, usize)> = Vec::new();
    for (sample, label) in [(reference, false), (current, true)] {
        let mut chosen: Vec<&[f32]> = sample.iter().map(Vec::as_slice).collect();
        chosen.shuffle(&mut rng);
        chosen.truncate(config.max_samples);
        // Round-robin fold numbers over a shuffled sample stratify the folds.
        rows.extend(
            chosen
                .into_iter()
                .enumerate()
                .map(|(i, v)| (v, label, i % config.folds)),
        );
    }

    let mut scores = Vec::with_capacity(rows.len());
    let mut labels = Vec::with_capacity(rows.len());
    for fold in 0..config.folds {
        let (test, train): (Vec<_>, Vec<_>) = rows.iter().partition(|row| row.2 == fold);
        let fold_scores = fit_and_score(&train, &test, dimensions, config)?;
        scores.extend(fold_scores);
        labels.extend(test.iter().map(|row| row.1));
    }
    roc_auc(&scores, &labels)
}

/// Fits on `train` and returns the probability of "current" for each row
/// of `test`.
fn fit_and_score(
    train: &[&(&[f32], bool, usize)],
    test: &[&(&[f32], bool, usize)],
    dimensions: usize,
    config: &DomainClassifierConfig,
) -> Result<Vec<f64>> {
    let features = |rows: &[&(&[f32], bool, usize)]| {
        Array2::from_shape_fn((rows.len(), dimensions), |(i, j)| f64::from(rows[i].0[j]))
    };
    let targets: Array1<bool> = train.iter().map(|row| row.1).collect();
    let dataset = Dataset::new(features(train), targets);

    let model = LogisticRegression::default()
        .alpha(config.l2_penalty)
        .max_iterations(config.max_iterations)
        .fit(&dataset)
        .map_err(|error| DriftError::Model {
            stage: "logistic regression",
            message: error.to_string(),
        })?;

    let probabilities = model.predict_probabilities(&features(test));
    let positive_is_current = model.labels().pos.class;
    Ok(probabilities
        .iter()
        .map(|&p| if positive_is_current { p } else { 1.0 - p })
        .collect())
}
