//! Routing strategies: which eligible deployment of a model takes a request.

use rand::Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How a model's deployments share its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Strategy {
    /// At random, in proportion to each deployment's weight.
    #[serde(alias = "weighted")]
    WeightedRandom,
    /// The deployment with the lowest moving average of observed latency;
    /// deployments not yet observed are tried first.
    LeastLatency,
    /// The deployment with the fewest calls in flight.
    LeastBusy,
    /// The deployment whose price for the request's estimated tokens is
    /// lowest; deployments without a known price come last.
    LowestCost,
    /// The same deployment for the same sticky key (rendezvous hashing
    /// weighted by deployment weight, so removing one deployment moves only
    /// its own keys); weighted random for requests without a key.
    Sticky,
}

impl Strategy {
    /// The name used in configuration files and records.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::WeightedRandom => "weighted_random",
            Strategy::LeastLatency => "least_latency",
            Strategy::LeastBusy => "least_busy",
            Strategy::LowestCost => "lowest_cost",
            Strategy::Sticky => "sticky",
        }
    }
}

/// What a strategy knows about one eligible deployment.
#[derive(Debug, Clone)]
pub(crate) struct Candidate<'a> {
    pub(crate) id: &'a str,
    pub(crate) weight: u32,
    pub(crate) latency_ms: Option<f64>,
    pub(crate) in_flight: usize,
    pub(crate) estimated_cost: Option<Decimal>,
}

/// Returns the position in `candidates` of the deployment to call, or none
/// when `candidates` is empty.
pub(crate) fn pick<R: Rng + ?Sized>(
    strategy: Strategy,
    candidates: &[Candidate<'_>],
    sticky_key: Option<&str>,
    rng: &mut R,
) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    match strategy {
        Strategy::WeightedRandom => Some(weighted(candidates, rng)),
        Strategy::Sticky => Some(match sticky_key {
            Some(key) => rendezvous(candidates, key),
            None => weighted(candidates, rng),
        }),
        Strategy::LeastBusy => lowest_by(candidates, rng, |c| Some(c.in_flight as f64)),
        Strategy::LeastLatency => {
            let unobserved: Vec<usize> = (0..candidates.len())
                .filter(|&i| candidates[i].latency_ms.is_none())
                .collect();
            if unobserved.is_empty() {
                lowest_by(candidates, rng, |c| c.latency_ms)
            } else {
                Some(unobserved[rng.random_range(0..unobserved.len())])
            }
        }
        Strategy::LowestCost => lowest_by(candidates, rng, |c| {
            c.estimated_cost
                .map(|cost| cost.try_into().unwrap_or(f64::MAX))
        })
        .or_else(|| Some(weighted(candidates, rng))),
    }
}

/// Samples in proportion to weight; uniformly when every weight is 0.
fn weighted<R: Rng + ?Sized>(candidates: &[Candidate<'_>], rng: &mut R) -> usize {
    let total: u64 = candidates.iter().map(|c| u64::from(c.weight)).sum();
    if total == 0 {
        return rng.random_range(0..candidates.len());
    }
    let mut point = rng.random_range(0..total);
    for (index, candidate) in candidates.iter().enumerate() {
        let weight = u64::from(candidate.weight);
        if point < weight {
            return index;
        }
        point -= weight;
    }
    candidates.len() - 1
}

/// The candidate with the lowest score, ties broken at random; candidates
/// without a score only when none has one (then none is returned).
fn lowest_by<R: Rng + ?Sized>(
    candidates: &[Candidate<'_>],
    rng: &mut R,
    score: impl Fn(&Candidate<'_>) -> Option<f64>,
) -> Option<usize> {
    let scored: Vec<(usize, f64)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(index, candidate)| score(candidate).map(|value| (index, value)))
        .collect();
    let best = scored
        .iter()
        .map(|&(_, value)| value)
        .fold(f64::INFINITY, f64::min);
    let ties: Vec<usize> = scored
        .iter()
        .filter(|&&(_, value)| value <= best)
        .map(|&(index, _)| index)
        .collect();
    if ties.is_empty() {
        None
    } else {
        Some(ties[rng.random_range(0..ties.len())])
    }
}

/// Weighted rendezvous hashing: each candidate scores
/// `-weight / ln(u)` with `u` a uniform hash of (key, id) in (0, 1); the
/// highest score wins.
fn rendezvous(candidates: &[Candidate<'_>], key: &str) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (index, candidate) in candidates.iter().enumerate() {
        let weight = f64::from(candidate.weight.max(1));
        let hash = fnv1a(key.as_bytes(), candidate.id.as_bytes());
        // The top 53 bits as a fraction strictly between 0 and 1.
        let unit = ((hash >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let score = -weight / unit.ln();
        if score > best.1 {
            best = (index, score);
        }
    }
    best.0
}

/// 64-bit FNV-1a over `key`, a 0xff separator and `id`: stable across
/// processes, platforms and releases, unlike std's `DefaultHasher`.
fn fnv1a(key: &[u8], id: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for &byte in key.iter().chain(&[0xff]).chain(id) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    // FNV's low bits mix poorly for short inputs; a final avalanche step
    // (the finaliser of MurmurHash3) spreads them.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;
