//! The Wilcoxon signed-rank test on paired differences, with SciPy's
//! choice of method.

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;

/// How the p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WilcoxonMethod {
    /// The exact null distribution (no ties, no zeros, at most 50 pairs).
    Exact,
    /// All sign flips enumerated (ties or zeros, at most 13 pairs).
    Permutation,
    /// The normal approximation with tie correction.
    Asymptotic,
}

/// The outcome of a two-sided Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WilcoxonResult {
    /// min(R+, R-), SciPy's reported statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The method used.
    pub method: WilcoxonMethod,
    /// Pairs with a non-zero difference.
    pub nonzero_pairs: usize,
}

/// Tests whether `candidate - baseline` is symmetric around 0, dropping
/// zero differences (SciPy's `zero_method="wilcox"`, no continuity
/// correction, `method="auto"`).
///
/// Returns `None` when the slices differ in length or every difference is
/// 0, where SciPy returns NaN.
pub fn wilcoxon_signed_rank(baseline: &[f64], candidate: &[f64]) -> Option<WilcoxonResult> {
    if baseline.len() != candidate.len() {
        return None;
    }
    let all_pairs = baseline.len();
    let differences: Vec<f64> = candidate
        .iter()
        .zip(baseline)
        .map(|(c, b)| c - b)
        .filter(|d| *d != 0.0)
        .collect();
    if differences.is_empty() {
        return None;
    }
    let zeros = all_pairs - differences.len();
    let (ranks, tie_groups) = average_ranks(&differences);
    let has_ties = tie_groups.iter().any(|&size| size > 1);

    let r_plus: f64 = differences
        .iter()
        .zip(&ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let n = differences.len() as f64;
    let r_minus = n * (n + 1.0) / 2.0 - r_plus;
    let statistic = r_plus.min(r_minus);

    let (p_value, method) = if all_pairs <= 50 && !has_ties && zeros == 0 {
        (exact_p(r_plus, differences.len()), WilcoxonMethod::Exact)
    } else if all_pairs <= 13 {
        (
            permutation_p(r_plus, &differences, &ranks),
            WilcoxonMethod::Permutation,
        )
    } else {
        (
            asymptotic_p(r_plus, n, &tie_groups),
            WilcoxonMethod::Asymptotic,
        )
    };
    Some(WilcoxonResult {
        statistic,
        p_value,
        method,
        nonzero_pairs: differences.len(),
    })
}

/// Ranks |d| from 1, giving tied values their average rank; also returns
/// the size of every tie group.
fn average_ranks(differences: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..differences.len()).collect();
    order.sort_by(|&a, &b| differences[a].abs().total_cmp(&differences[b].abs()));
    let mut ranks = vec![0.0; differences.len()];
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let value = differences[order[start]].abs();
        let mut end = start + 1;
        while end < order.len() && differences[order[end]].abs() == value {
            end += 1;
        }
        let average = (start + 1 + end) as f64 / 2.0;
        for &index in &order[start..end] {
            ranks[index] = average;
        }
        groups.push(end - start);
        start = end;
    }
    (ranks, groups)
}

/// Two-sided p from the exact distribution of R+ over n untied ranks.
fn exact_p(r_plus: f64, n: usize) -> f64 {
    // counts[k] = number of subsets of {1..n} whose sum is k.
    let max_sum = n * (n + 1) / 2;
    let mut counts = vec![0.0f64; max_sum + 1];
    counts[0] = 1.0;
    for rank in 1..=n {
        for sum in (rank..=max_sum).rev() {
            counts[sum] += counts[sum - rank];
        }
    }
    let total: f64 = counts.iter().sum();
    let k = r_plus.round() as usize;
    let lower: f64 = counts[..=k.min(max_sum)].iter().sum::<f64>() / total;
    let upper: f64 = counts[k.min(max_sum)..].iter().sum::<f64>() / total;
    (2.0 * lower.min(upper)).clamp(0.0, 1.0)
}

/// Two-sided p from all 2^n sign assignments of the non-zero differences,
/// with SciPy's relative tolerance for equal statistics.
fn permutation_p(r_plus: f64, differences: &[f64], ranks: &[f64]) -> f64 {
    let n = differences.len();
    let gamma = (f64::EPSILON * 100.0 * r_plus).abs();
    let assignments = 1u64 << n;
    let mut at_most = 0u64;
    let mut at_least = 0u64;
    for mask in 0..assignments {
        let statistic: f64 = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| ranks[i])
            .sum();
        if statistic <= r_plus + gamma {
            at_most += 1;
        }
        if statistic >= r_plus - gamma {
            at_least += 1;
        }
    }
    let total = assignments as f64;
    (2.0 * (at_most as f64 / total).min(at_least as f64 / total)).clamp(0.0, 1.0)
}

/// Two-sided p from the normal approximation with tie correction.
fn asymptotic_p(r_plus: f64, n: f64, tie_groups: &[usize]) -> f64 {
    let mean = n * (n + 1.0) / 4.0;
    let tie_term: f64 = tie_groups
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let variance = (n * (n + 1.0) * (2.0 * n + 1.0) - tie_term / 2.0) / 24.0;
    if variance <= 0.0 {
        return 1.0;
    }
    let z = (r_plus - mean) / variance.sqrt();
    // 2 * P(Z > |z|) = erfc(|z| / sqrt 2)
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}
