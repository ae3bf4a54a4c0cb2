//! Maximum mean discrepancy with an RBF kernel and a permutation test.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{Measurement, check_embeddings};
use crate::error::{DriftError, Result};

/// Settings of [`mmd_rbf`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct MmdConfig {
    /// Number of label permutations for the p-value. Default 200, which
    /// resolves p-values down to about 0.005.
    pub permutations: usize,
    /// Largest number of vectors taken from each sample, drawn at random
    /// without replacement; the kernel matrix grows with the square of the
    /// pooled size. Default 500.
    pub max_samples: usize,
    /// Seed of the subsampling and permutations, so a check is repeatable.
    /// Default 0.
    pub seed: u64,
}

impl Default for MmdConfig {
    fn default() -> Self {
        Self {
            permutations: 200,
            max_samples: 500,
            seed: 0,
        }
    }
}

impl MmdConfig {
    /// Sets the number of permutations.
    pub fn permutations(mut self, permutations: usize) -> Self {
        self.permutations = permutations;
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

/// Computes the maximum mean discrepancy (MMD) between two embedding samples
/// with the Gaussian kernel `exp(-|x - y|² / (2 σ²))`, and its permutation
/// p-value.
///
/// `σ` is the median Euclidean distance between distinct pairs of the pooled
/// sample (the median heuristic). When that median is 0, the mean of the
/// non-zero distances is used. When every distance is 0, the samples are
/// identical and the result is 0 with p-value 1. The statistic is the square
/// root of the unbiased estimate of MMD², which can fall slightly below
/// zero; such values give 0. The p-value is `(1 + k) / (1 + B)`, where `k`
/// of `B` random relabellings of the pooled sample reach the observed MMD².
/// Returns insufficient data when a sample has fewer than 2 vectors.
///
/// # Errors
///
/// Returns an error when vectors differ in dimension or contain NaN or
/// infinity, or when `max_samples` is below 2.
///
/// ```
/// use llmops_drift::stats::{MmdConfig, mmd_rbf};
///
/// let reference: Vec<Vec<f32>> = (0..20).map(|i| vec![i as f32 / 20.0, 0.0]).collect();
/// let current: Vec<Vec<f32>> = (0..20).map(|i| vec![i as f32 / 20.0, 3.0]).collect();
/// let result = mmd_rbf(&reference, &current, &MmdConfig::default()).unwrap();
/// assert!(result.p_value().unwrap() < 0.01);
/// ```
pub fn mmd_rbf(
    reference: &[Vec<f32>],
    current: &[Vec<f32>],
    config: &MmdConfig,
) -> Result<Measurement> {
    check_embeddings(reference, current)?;
    if config.max_samples < 2 {
        return Err(DriftError::InvalidParameter {
            name: "max_samples",
            value: config.max_samples.to_string(),
            reason: "MMD needs at least 2 vectors per sample; use 2 or more",
        });
    }
    if reference.len() < 2 || current.len() < 2 {
        return Ok(Measurement::insufficient(2, reference.len(), current.len()));
    }

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut pooled = subsample(reference, config.max_samples, &mut rng);
    let m = pooled.len();
    pooled.extend(subsample(current, config.max_samples, &mut rng));

    let distances = squared_distances(&pooled);
    let Some(bandwidth) = median_bandwidth(&distances, pooled.len()) else {
        return Ok(Measurement::test(0.0, 1.0));
    };
    let gamma = 1.0 / (2.0 * bandwidth * bandwidth);
    let kernel: Vec<f64> = distances.iter().map(|d| (-gamma * d).exp()).collect();

    let labels: Vec<bool> = (0..pooled.len()).map(|i| i < m).collect();
    let observed = mmd_squared(&kernel, &labels);
    let mut shuffled = labels;
    let mut at_least = 0usize;
    for _ in 0..config.permutations {
        shuffled.shuffle(&mut rng);
        // A relative tolerance keeps exact ties counted despite summation order.
        if mmd_squared(&kernel, &shuffled) >= observed - 1e-12 * observed.abs().max(1e-12) {
            at_least += 1;
        }
    }
    let p_value = (1 + at_least) as f64 / (1 + config.permutations) as f64;
    Ok(Measurement::test(observed.max(0.0).sqrt(), p_value))
}

fn subsample<'a>(vectors: &'a [Vec<f32>], max: usize, rng: &mut ChaCha8Rng) -> Vec<&'a [f32]> {
    let mut chosen: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
    if chosen.len() > max {
        chosen.shuffle(rng);
        chosen.truncate(max);
    }
    chosen
}

/// Row-major `n × n` matrix of squared Euclidean distances.
fn squared_distances(points: &[&[f32]]) -> Vec<f64> {
    let n = points.len();
    let mut out = vec![0.0f64; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let d: f64 = points[i]
                .iter()
                .zip(points[j])
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum();
            out[i * n + j] = d;
            out[j * n + i] = d;
        }
    }
    out
}

/// Returns the median heuristic bandwidth, or `None` when all points
/// coincide.
fn median_bandwidth(squared: &[f64], n: usize) -> Option<f64> {
    let mut pairs: Vec<f64> = (0..n)
        .flat_map(|i| ((i + 1)..n).map(move |j| (i, j)))
        .map(|(i, j)| squared[i * n + j].sqrt())
        .collect();
    pairs.sort_by(f64::total_cmp);
    let middle = pairs.len() / 2;
    let median = if pairs.len() % 2 == 0 {
        0.5 * (pairs[middle - 1] + pairs[middle])
    } else {
        pairs[middle]
    };
    if median > 0.0 {
        return Some(median);
    }
    let nonzero: Vec<f64> = pairs.into_iter().filter(|&d| d > 0.0).collect();
    if nonzero.is_empty() {
        return None;
    }
    Some(nonzero.iter().sum::<f64>() / nonzero.len() as f64)
}

/// Unbiased MMD² estimate for the split given by `labels` (`true` for the
/// reference side) over a precomputed kernel matrix.
fn mmd_squared(kernel: &[f64], labels: &[bool]) -> f64 {
    let n = labels.len();
    let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let row = &kernel[i * n..(i + 1) * n];
        for j in (i + 1)..n {
            match (labels[i], labels[j]) {
                (true, true) => xx += row[j],
                (false, false) => yy += row[j],
                _ => xy += row[j],
            }
        }
    }
    let m = labels.iter().filter(|&&label| label).count() as f64;
    let k = n as f64 - m;
    2.0 * xx / (m * (m - 1.0)) + 2.0 * yy / (k * (k - 1.0)) - 2.0 * xy / (m * k)
}
