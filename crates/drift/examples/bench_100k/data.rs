//! Synthetic sentence-embedding-like data: unit vectors drawn from a mixture
//! of Gaussian topics, each topic a few intents around a topic centre.
//!
//! All centres share one direction, so that vectors of unrelated topics
//! still have a positive cosine similarity, as sentence embeddings tend to.
//! With the constants below, the mean cosine similarity between two vectors
//! is 0.56 within an intent, 0.41 between intents of one topic and 0.13
//! between topics (measured on 3,000 reference vectors).

use std::path::Path;

use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::BenchError;
use super::npy::{self, Dtype};

/// Embedding dimension, as all-MiniLM-L6-v2.
pub(crate) const DIMENSIONS: usize = 384;
/// Topics of the reference mixture.
pub(crate) const TOPICS: usize = 20;
/// Intents per topic, equally likely within a topic.
pub(crate) const INTENTS: usize = 3;
/// Weight of the direction that every topic centre shares.
const SHARED_WEIGHT: f32 = 0.55;
/// Weight of a topic's own direction in its centre.
const TOPIC_WEIGHT: f32 = 0.85;
/// Weight of an intent's own direction around its topic centre.
const INTENT_WEIGHT: f32 = 0.6;
/// Standard deviation per dimension of the noise around an intent centre.
const NOISE: f32 = 0.045;
/// Share of the drifted window taken by a topic absent from the reference.
pub(crate) const NEW_TOPIC_SHARE: f64 = 0.10;

/// Current-window scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    /// The reference mixture, sampled again.
    None,
    /// Topics 0 and 1 at half their share, topics 15 to 19 at three times
    /// theirs, and a new topic with [`NEW_TOPIC_SHARE`] of the window.
    Drift,
}

impl Scenario {
    /// Parses `none` or `drift`.
    pub(crate) fn parse(name: &str) -> Result<Self, BenchError> {
        match name {
            "none" => Ok(Self::None),
            "drift" => Ok(Self::Drift),
            other => Err(BenchError::Usage(format!(
                "unknown scenario {other:?}; use none or drift"
            ))),
        }
    }

    /// Returns the name used in file names and results.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Drift => "drift",
        }
    }
}

/// Topic shares of the reference: Zipf-like, topic `t` weighing
/// `1 / (t + 1)^0.7`, so the largest topic is about 8 times the smallest.
fn reference_weights() -> Vec<f64> {
    (0..TOPICS)
        .map(|topic| 1.0 / ((topic + 1) as f64).powf(0.7))
        .collect()
}

/// Topic weights of a current window; the last entry is the new topic.
fn current_weights(scenario: Scenario) -> Vec<f64> {
    let mut weights = reference_weights();
    if scenario == Scenario::Drift {
        weights[0] *= 0.5;
        weights[1] *= 0.5;
        weights[15..].iter_mut().for_each(|w| *w *= 3.0);
    }
    let total: f64 = weights.iter().sum();
    let new_topic = match scenario {
        Scenario::None => 0.0,
        Scenario::Drift => total * NEW_TOPIC_SHARE / (1.0 - NEW_TOPIC_SHARE),
    };
    weights.push(new_topic);
    weights
}

/// Intent centres, `(TOPICS + 1) × INTENTS` unit vectors; the last topic
/// appears only in the drifted window.
fn intent_centres(seed: u64) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let shared = random_unit(&mut rng);
    let mut centres = Vec::new();
    for _ in 0..=TOPICS {
        let own = random_unit(&mut rng);
        let topic = unit(combine(&shared, SHARED_WEIGHT, &own, TOPIC_WEIGHT));
        for _ in 0..INTENTS {
            let own = random_unit(&mut rng);
            centres.push(unit(combine(&topic, 1.0, &own, INTENT_WEIGHT)));
        }
    }
    centres
}

/// Writes `reference`, `current_none` and `current_drift`, each `rows`
/// embeddings (`NAME.npy`, `<f4`) with the intent of each row
/// (`NAME.intents.npy`, `<i4`, topic × INTENTS + intent).
pub(crate) fn generate(directory: &Path, rows: usize, seed: u64) -> Result<(), BenchError> {
    std::fs::create_dir_all(directory).map_err(|e| BenchError::io(directory, e))?;
    let centres = intent_centres(seed);
    let windows = [
        ("reference", reference_weights(), 1),
        ("current_none", current_weights(Scenario::None), 2),
        ("current_drift", current_weights(Scenario::Drift), 3),
    ];
    for (name, weights, stream) in windows {
        let (vectors, intents) = sample(&centres, &weights, rows, seed ^ (stream << 32))?;
        let path = directory.join(format!("{name}.npy"));
        npy::write(&path, Dtype::F32, rows, DIMENSIONS, &vectors)?;
        let path = directory.join(format!("{name}.intents.npy"));
        npy::write(&path, Dtype::I32, rows, 1, &intents)?;
    }
    Ok(())
}

/// Draws `rows` unit vectors from the mixture and returns them and their
/// intents as little-endian bytes.
fn sample(
    centres: &[Vec<f32>],
    topic_weights: &[f64],
    rows: usize,
    seed: u64,
) -> Result<(Vec<u8>, Vec<u8>), BenchError> {
    let topics = WeightedIndex::new(topic_weights)
        .map_err(|error| BenchError::Usage(format!("invalid topic weights: {error}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut vectors = Vec::with_capacity(rows * DIMENSIONS * 4);
    let mut intents = Vec::with_capacity(rows * 4);
    for _ in 0..rows {
        let topic = topics.sample(&mut rng);
        let intent = topic * INTENTS + rng.random_range(0..INTENTS);
        let point: Vec<f32> = centres[intent]
            .iter()
            .map(|&c| c + NOISE * rng_normal(&mut rng))
            .collect();
        for value in unit(point) {
            vectors.extend_from_slice(&value.to_le_bytes());
        }
        let intent = i32::try_from(intent).unwrap_or(i32::MAX);
        intents.extend_from_slice(&intent.to_le_bytes());
    }
    Ok((vectors, intents))
}

fn rng_normal(rng: &mut ChaCha8Rng) -> f32 {
    StandardNormal.sample(rng)
}

fn random_unit(rng: &mut ChaCha8Rng) -> Vec<f32> {
    unit((0..DIMENSIONS).map(|_| rng_normal(rng)).collect())
}

fn combine(a: &[f32], a_weight: f32, b: &[f32], b_weight: f32) -> Vec<f32> {
    a.iter()
        .zip(b)
        .map(|(x, y)| a_weight * x + b_weight * y)
        .collect()
}

fn unit(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// Builds a short query-like text for an intent, so that c-TF-IDF labels
/// have words to weigh: six words of the topic's vocabulary, two of the
/// intent's and two shared by all topics, picked by the row index.
pub(crate) fn text_for(intent: i32, row: usize) -> String {
    let intent = usize::try_from(intent).unwrap_or(0);
    let topic = intent / INTENTS;
    let mut words = Vec::with_capacity(10);
    for k in 0..6 {
        words.push(format!("t{topic}w{}", (row * 7 + k * 5) % 12));
    }
    for k in 0..2 {
        words.push(format!("i{intent}w{}", (row + k) % 4));
    }
    for k in 0..2 {
        words.push(format!("common{}", (row * 3 + k) % 25));
    }
    words.join(" ")
}
