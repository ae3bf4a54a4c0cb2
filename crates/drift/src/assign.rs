//! Assignment of current inputs to baseline topics.

use serde::{Deserialize, Serialize};

use crate::baseline::Baseline;
use crate::embed::normalise;
use crate::error::{DriftError, Result};
use crate::stats::check_embeddings;

/// Where a current input falls relative to the baseline topics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Assignment {
    /// Within [`Baseline::new_topic_distance`] of the nearest topic.
    Topic {
        /// Index of the topic.
        id: usize,
        /// Cosine distance to its centroid.
        distance: f64,
    },
    /// Farther than [`Baseline::new_topic_distance`] from every topic.
    NewTopic {
        /// Index of the nearest topic all the same.
        nearest: usize,
        /// Cosine distance to its centroid.
        distance: f64,
    },
}

impl Baseline {
    /// Assigns each embedding to its nearest topic by cosine distance, or to
    /// "new topic" beyond [`Baseline::new_topic_distance`].
    ///
    /// # Errors
    ///
    /// Returns an error when a vector's dimension differs from the
    /// baseline's or a value is not finite.
    pub fn assign(&self, embeddings: &[Vec<f32>]) -> Result<Vec<Assignment>> {
        let dimensions = check_embeddings(embeddings, &[])?;
        if !embeddings.is_empty() && dimensions != self.dimensions {
            return Err(DriftError::DimensionMismatch {
                index: 0,
                expected: self.dimensions,
                found: dimensions,
            });
        }
        let mut unit = embeddings.to_vec();
        normalise(&mut unit);
        Ok(self.assign_unit(&unit))
    }

    pub(crate) fn assign_unit(&self, unit: &[Vec<f32>]) -> Vec<Assignment> {
        unit.iter().map(|vector| self.assign_one(vector)).collect()
    }

    fn assign_one(&self, vector: &[f32]) -> Assignment {
        let (nearest, distance) = self
            .topics
            .iter()
            .map(|topic| cosine_to_unit(vector, &topic.centroid))
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 2.0));
        if distance > self.new_topic_distance {
            Assignment::NewTopic { nearest, distance }
        } else {
            Assignment::Topic {
                id: nearest,
                distance,
            }
        }
    }
}

/// Cosine distance between two unit-length (or zero) vectors, in `[0, 2]`.
pub(crate) fn cosine_to_unit(a: &[f32], b: &[f32]) -> f64 {
    (1.0 - dot_f64(a, b)).clamp(0.0, 2.0)
}

/// Dot product accumulated in `f64`, in four independent running sums so
/// the compiler can use SIMD lanes; a single running sum must add the
/// products in order and cannot. The extra vector lengths are ignored.
fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    const LANES: usize = 4;
    let length = a.len().min(b.len());
    let (a, b) = (&a[..length], &b[..length]);
    let mut sums = [0.0f64; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += f64::from(x[lane]) * f64::from(y[lane]);
        }
    }
    sums.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::{cosine_to_unit, dot_f64};

    #[test]
    fn dot_matches_sequential_sum() {
        for length in [0, 1, 3, 4, 5, 8, 383, 384] {
            let a: Vec<f32> = (0..length).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..length).map(|i| (i as f32 * 0.11).cos()).collect();
            let expected: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            let actual = dot_f64(&a, &b);
            assert!(
                (actual - expected).abs() < 1e-12,
                "{length}: {actual} vs {expected}"
            );
        }
    }

    #[test]
    fn cosine_distance_of_unit_vectors() {
        assert_eq!(cosine_to_unit(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine_to_unit(&[1.0, 0.0], &[0.0, 1.0]), 1.0);
        assert_eq!(cosine_to_unit(&[1.0, 0.0], &[-1.0, 0.0]), 2.0);
        // Unequal lengths use the common prefix.
        assert_eq!(cosine_to_unit(&[1.0, 0.0, 5.0], &[1.0, 0.0]), 0.0);
    }
}
