//! k-means topic clustering with linfa, with k chosen by silhouette.

use linfa::traits::{Fit, FitWith};
use linfa::{DatasetBase, ParamGuard};
use linfa_clustering::{IncrKMeansError, KMeans};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng as _;

use crate::baseline::{BaselineConfig, TopicCount};
use crate::error::{DriftError, Result};
use crate::silhouette::{mean_silhouette, pairwise_distances};

/// Centroids and the topic of each input.
pub(crate) struct Clustering {
    pub(crate) centroids: Array2<f32>,
    pub(crate) assignments: Vec<usize>,
    pub(crate) silhouette: Option<f64>,
}

/// Clusters unit-length `points` (one row per input) into topics.
pub(crate) fn cluster(points: &Array2<f32>, config: &BaselineConfig) -> Result<Clustering> {
    let (k, silhouette) = match config.topics {
        TopicCount::Fixed(k) => (k.min(points.nrows()), None),
        TopicCount::Silhouette { min, max } => {
            let (k, score) = choose_k(points, min, max, config)?;
            (k, Some(score))
        }
    };
    let centroids = fit_centroids(points, k, config.runs, config)?;
    let assignments = nearest(points, &centroids);
    Ok(Clustering {
        centroids,
        assignments,
        silhouette,
    })
}

/// Fits each k in `min..=max` on a sample and returns the k with the
/// highest mean silhouette and that score.
///
/// Each candidate gets one k-means run, not [`BaselineConfig::runs`]: the
/// score only ranks topic counts, and the restarts pay off in the final fit,
/// which keeps them. This divides the cost of the search by the run count.
fn choose_k(
    points: &Array2<f32>,
    min: usize,
    max: usize,
    config: &BaselineConfig,
) -> Result<(usize, f64)> {
    let sample = sample_rows(points, config.silhouette_sample, config.seed);
    let max = max.min(sample.nrows().saturating_sub(1));
    let min = min.max(2);
    if min > max {
        return Ok((sample.nrows().min(min).max(1), 0.0));
    }

    let distances = pairwise_distances(&sample);
    let mut best = (min, f64::NEG_INFINITY);
    for k in min..=max {
        let centroids = fit_centroids(&sample, k, 1, config)?;
        let labels = nearest(&sample, &centroids);
        let score = mean_silhouette(&distances, &labels, centroids.nrows());
        tracing::debug!(k, silhouette = score, "scored topic count");
        if score.is_finite() && score > best.1 {
            best = (k, score);
        }
    }
    Ok((best.0, best.1.max(-1.0)))
}

/// Runs full k-means with `runs` restarts, or mini-batch k-means above
/// `minibatch_above` rows.
fn fit_centroids(
    points: &Array2<f32>,
    k: usize,
    runs: usize,
    config: &BaselineConfig,
) -> Result<Array2<f32>> {
    let k = k.clamp(1, points.nrows().max(1));
    let params = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(config.seed))
        .n_runs(runs)
        .max_n_iterations(config.max_iterations)
        .tolerance(1e-4);
    let model_error = |message: String| DriftError::Model {
        stage: "k-means",
        message,
    };

    if points.nrows() <= config.minibatch_above {
        let dataset = DatasetBase::from(points.clone());
        let model = params
            .fit(&dataset)
            .map_err(|error| model_error(error.to_string()))?;
        return Ok(model.centroids().clone());
    }

    let params = params
        .check()
        .map_err(|error| model_error(error.to_string()))?;
    let mut order: Vec<usize> = (0..points.nrows()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut model = None;
    'passes: for _ in 0..config.minibatch_passes {
        order.shuffle(&mut rng);
        for batch in order.chunks(config.minibatch_size) {
            let batch = DatasetBase::from(points.select(Axis(0), batch));
            match params.fit_with(model.take(), &batch) {
                Ok(converged) => {
                    model = Some(converged);
                    break 'passes;
                }
                Err(IncrKMeansError::NotConverged(running)) => model = Some(running),
                Err(error) => return Err(model_error(error.to_string())),
            }
        }
    }
    model
        .map(|model| model.centroids().clone())
        .ok_or_else(|| model_error("mini-batch k-means saw no batch".to_string()))
}

/// Index of the nearest centroid of each row, by Euclidean distance.
pub(crate) fn nearest(points: &Array2<f32>, centroids: &Array2<f32>) -> Vec<usize> {
    if centroids.nrows() == 0 {
        return vec![0; points.nrows()];
    }
    points
        .outer_iter()
        .map(|row| {
            centroids
                .outer_iter()
                .map(|centroid| {
                    row.iter()
                        .zip(centroid.iter())
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f32>()
                })
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(index, _)| index)
        })
        .collect()
}

/// Returns at most `max` rows drawn without replacement.
fn sample_rows(points: &Array2<f32>, max: usize, seed: u64) -> Array2<f32> {
    if points.nrows() <= max {
        return points.clone();
    }
    let mut order: Vec<usize> = (0..points.nrows()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order.truncate(max);
    points.select(Axis(0), &order)
}
