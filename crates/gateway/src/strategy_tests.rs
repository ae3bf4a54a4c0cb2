use std::collections::HashMap;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;

use super::*;

fn candidate(id: &str, weight: u32) -> Candidate<'_> {
    Candidate {
        id,
        weight,
        latency_ms: None,
        in_flight: 0,
        estimated_cost: None,
    }
}

/// Pearson's chi-square statistic of `observed` counts against `expected`
/// shares.
fn chi_square(observed: &[u64], shares: &[f64]) -> f64 {
    let total: u64 = observed.iter().sum();
    observed
        .iter()
        .zip(shares)
        .map(|(&count, &share)| {
            let expected = total as f64 * share;
            (count as f64 - expected).powi(2) / expected
        })
        .sum()
}

fn counts(strategy: Strategy, candidates: &[Candidate<'_>], draws: usize) -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut counts = vec![0u64; candidates.len()];
    for _ in 0..draws {
        counts[pick(strategy, candidates, None, &mut rng).unwrap()] += 1;
    }
    counts
}

// 13.82 is the 0.999 quantile of chi-square with 2 degrees of freedom.
const CHI2_2DF_P999: f64 = 13.82;

#[test]
fn weighted_random_follows_weights() {
    let candidates = [candidate("a", 5), candidate("b", 3), candidate("c", 2)];
    let observed = counts(Strategy::WeightedRandom, &candidates, 30_000);
    let statistic = chi_square(&observed, &[0.5, 0.3, 0.2]);
    assert!(statistic < CHI2_2DF_P999, "{observed:?} chi2 {statistic}");
}

#[test]
fn weighted_random_never_picks_zero_weight_beside_positive() {
    let candidates = [candidate("a", 0), candidate("b", 1)];
    let observed = counts(Strategy::WeightedRandom, &candidates, 2_000);
    assert_eq!(observed, vec![0, 2_000]);
}

#[test]
fn all_zero_weights_share_uniformly() {
    let candidates = [candidate("a", 0), candidate("b", 0), candidate("c", 0)];
    let observed = counts(Strategy::WeightedRandom, &candidates, 30_000);
    let statistic = chi_square(&observed, &[1.0 / 3.0; 3]);
    assert!(statistic < CHI2_2DF_P999, "{observed:?} chi2 {statistic}");
}

#[test]
fn empty_candidates_pick_nothing() {
    let mut rng = StdRng::seed_from_u64(1);
    for strategy in [
        Strategy::WeightedRandom,
        Strategy::LeastLatency,
        Strategy::LeastBusy,
        Strategy::LowestCost,
        Strategy::Sticky,
    ] {
        assert_eq!(pick(strategy, &[], Some("k"), &mut rng), None);
    }
}

#[test]
fn least_busy_picks_fewest_in_flight_and_splits_ties() {
    let mut candidates = [candidate("a", 1), candidate("b", 1), candidate("c", 1)];
    candidates[0].in_flight = 4;
    candidates[1].in_flight = 1;
    candidates[2].in_flight = 1;
    let observed = counts(Strategy::LeastBusy, &candidates, 10_000);
    assert_eq!(observed[0], 0);
    let statistic = chi_square(&observed[1..], &[0.5, 0.5]);
    // 10.83 is the 0.999 quantile with 1 degree of freedom.
    assert!(statistic < 10.83, "{observed:?}");
}

#[test]
fn least_latency_explores_unobserved_then_picks_fastest() {
    let mut candidates = [candidate("a", 1), candidate("b", 1), candidate("c", 1)];
    candidates[0].latency_ms = Some(120.0);
    candidates[1].latency_ms = Some(40.0);
    let observed = counts(Strategy::LeastLatency, &candidates, 100);
    assert_eq!(observed, vec![0, 0, 100]);
    candidates[2].latency_ms = Some(90.0);
    let observed = counts(Strategy::LeastLatency, &candidates, 100);
    assert_eq!(observed, vec![0, 100, 0]);
}

#[test]
fn lowest_cost_prefers_priced_cheapest() {
    let mut candidates = [candidate("a", 1), candidate("b", 1), candidate("c", 1)];
    candidates[0].estimated_cost = Some(Decimal::new(30, 6));
    candidates[1].estimated_cost = Some(Decimal::new(2, 6));
    let observed = counts(Strategy::LowestCost, &candidates, 100);
    assert_eq!(observed, vec![0, 100, 0]);
}

#[test]
fn lowest_cost_without_prices_falls_back_to_weights() {
    let candidates = [candidate("a", 1), candidate("b", 0)];
    let observed = counts(Strategy::LowestCost, &candidates, 100);
    assert_eq!(observed, vec![100, 0]);
}

#[test]
fn sticky_keys_stay_and_follow_weights() {
    let candidates = [candidate("a", 1), candidate("b", 2), candidate("c", 1)];
    let mut rng = StdRng::seed_from_u64(3);
    let mut counts = [0u64; 3];
    for user in 0..20_000 {
        let key = format!("user-{user}");
        let first = pick(Strategy::Sticky, &candidates, Some(&key), &mut rng).unwrap();
        let again = pick(Strategy::Sticky, &candidates, Some(&key), &mut rng).unwrap();
        assert_eq!(first, again, "{key}");
        counts[first] += 1;
    }
    let statistic = chi_square(&counts, &[0.25, 0.5, 0.25]);
    assert!(statistic < CHI2_2DF_P999, "{counts:?} chi2 {statistic}");
}

#[test]
fn removing_a_deployment_moves_only_its_keys() {
    let all = [candidate("a", 1), candidate("b", 1), candidate("c", 1)];
    let without_b = [candidate("a", 1), candidate("c", 1)];
    let mut rng = StdRng::seed_from_u64(5);
    let mut moved = HashMap::new();
    for user in 0..5_000 {
        let key = format!("u{user}");
        let before = all[pick(Strategy::Sticky, &all, Some(&key), &mut rng).unwrap()].id;
        let after = without_b[pick(Strategy::Sticky, &without_b, Some(&key), &mut rng).unwrap()].id;
        if before != "b" {
            assert_eq!(before, after, "{key} moved although its deployment stayed");
        } else {
            *moved.entry(after).or_insert(0u32) += 1;
        }
    }
    // The keys of `b` spread over both survivors.
    assert!(moved.get("a").copied().unwrap_or(0) > 300, "{moved:?}");
    assert!(moved.get("c").copied().unwrap_or(0) > 300, "{moved:?}");
}

#[test]
fn sticky_hash_is_stable_across_releases() {
    // Computed once with an independent Python implementation of the same
    // definition; a change here reshuffles every sticky session.
    assert_eq!(fnv1a(b"", b""), 0x1bbd_5c81_3c69_a8d7);
    assert_eq!(fnv1a(b"user-1", b"a"), 0xddb6_cdf4_a4fb_d35e);
    assert_ne!(fnv1a(b"user-1", b"a"), fnv1a(b"user-1a", b""));
}
