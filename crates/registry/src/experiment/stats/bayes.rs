//! Bayesian probability that each arm is best, by seeded Monte Carlo.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Normal};

use super::proportion::Proportion;

/// Returns, per arm, the posterior probability that its rate is the best,
/// with a uniform Beta(1, 1) prior on each rate.
///
/// Draws `draws` samples from each posterior Beta(1 + successes, 1 +
/// failures) with ChaCha8 seeded by `seed`, so a seed always gives the
/// same answer. Ties share the win equally. Returns `None` with no arms or
/// no draws.
pub fn probability_best_binary(
    arms: &[Proportion],
    higher_is_better: bool,
    draws: usize,
    seed: u64,
) -> Option<Vec<f64>> {
    let posteriors: Vec<Beta<f64>> = arms
        .iter()
        .map(|arm| {
            let failures = arm.trials.saturating_sub(arm.successes);
            Beta::new(1.0 + arm.successes as f64, 1.0 + failures as f64).ok()
        })
        .collect::<Option<_>>()?;
    count_wins(&posteriors, higher_is_better, draws, seed)
}

/// Returns, per arm, the probability that its mean is best when each mean
/// is approximately normal with the given standard error (a flat prior on
/// the mean with a normal likelihood).
///
/// Returns `None` with no arms, no draws, or a standard error that is
/// negative or not finite.
pub fn probability_best_normal(
    means: &[f64],
    standard_errors: &[f64],
    higher_is_better: bool,
    draws: usize,
    seed: u64,
) -> Option<Vec<f64>> {
    if means.len() != standard_errors.len() {
        return None;
    }
    let posteriors: Vec<Normal<f64>> = means
        .iter()
        .zip(standard_errors)
        .map(|(mean, error)| Normal::new(*mean, *error).ok())
        .collect::<Option<_>>()?;
    count_wins(&posteriors, higher_is_better, draws, seed)
}

fn count_wins<D: Distribution<f64>>(
    posteriors: &[D],
    higher_is_better: bool,
    draws: usize,
    seed: u64,
) -> Option<Vec<f64>> {
    if posteriors.is_empty() || draws == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut wins = vec![0.0; posteriors.len()];
    let mut sample = vec![0.0; posteriors.len()];
    for _ in 0..draws {
        for (value, posterior) in sample.iter_mut().zip(posteriors) {
            let draw = posterior.sample(&mut rng);
            *value = if higher_is_better { draw } else { -draw };
        }
        let best = sample.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let tied = sample.iter().filter(|value| **value == best).count() as f64;
        for (win, value) in wins.iter_mut().zip(&sample) {
            if *value == best {
                *win += 1.0 / tied;
            }
        }
    }
    Some(wins.into_iter().map(|win| win / draws as f64).collect())
}
