//! Distance between the centroids of two embedding samples.

use super::{Measurement, check_embeddings};
use crate::error::Result;

/// Computes the cosine distance `1 - cos(a, b)` between the mean vectors of
/// the two samples, in `[0, 2]`.
///
/// Two zero centroids give 0, since they are the same point; one zero
/// centroid gives 1, the distance of orthogonal vectors. Returns
/// insufficient data when a sample is empty.
///
/// # Errors
///
/// Returns an error when vectors differ in dimension or contain NaN or
/// infinity.
///
/// ```
/// use llmops_drift::stats::centroid_cosine_distance;
///
/// let reference = vec![vec![1.0, 0.0], vec![1.0, 0.2]];
/// let current = vec![vec![0.0, 1.0]];
/// let distance = centroid_cosine_distance(&reference, &current).unwrap();
/// assert!((distance.statistic().unwrap() - 0.9005).abs() < 1e-4);
/// ```
pub fn centroid_cosine_distance(
    reference: &[Vec<f32>],
    current: &[Vec<f32>],
) -> Result<Measurement> {
    let dimensions = check_embeddings(reference, current)?;
    if reference.is_empty() || current.is_empty() {
        return Ok(Measurement::insufficient(1, reference.len(), current.len()));
    }

    let a = centroid(reference, dimensions);
    let b = centroid(current, dimensions);
    Ok(Measurement::distance(cosine_distance(&a, &b)))
}

/// Returns the mean of the vectors, accumulated in `f64`.
pub(crate) fn centroid(vectors: &[Vec<f32>], dimensions: usize) -> Vec<f64> {
    let mut sum = vec![0.0f64; dimensions];
    for vector in vectors {
        for (total, &value) in sum.iter_mut().zip(vector) {
            *total += f64::from(value);
        }
    }
    let count = vectors.len().max(1) as f64;
    sum.iter_mut().for_each(|total| *total /= count);
    sum
}

/// `1 - cos(a, b)` with the zero-vector conventions of
/// [`centroid_cosine_distance`].
pub(crate) fn cosine_distance(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm_a = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let norm_b = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    match (norm_a > 0.0, norm_b > 0.0) {
        (false, false) => 0.0,
        (true, true) => 1.0 - (dot / (norm_a * norm_b)).clamp(-1.0, 1.0),
        _ => 1.0,
    }
}
