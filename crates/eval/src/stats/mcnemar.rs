//! McNemar's exact test on paired pass/fail outcomes.

use serde::{Deserialize, Serialize};

/// Discordant pair counts and the exact two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McNemarResult {
    /// Cases the baseline passed and the candidate failed.
    pub baseline_only: u64,
    /// Cases the candidate passed and the baseline failed.
    pub candidate_only: u64,
    /// Two-sided p-value of the binomial test on the discordant pairs; 1
    /// when there are none.
    pub p_value: f64,
}

/// Runs McNemar's exact test. `true` means a pass; the slices pair by index
/// and must have equal length (extra entries are ignored).
pub fn mcnemar_exact(baseline: &[bool], candidate: &[bool]) -> McNemarResult {
    let mut baseline_only = 0u64;
    let mut candidate_only = 0u64;
    for (&b, &c) in baseline.iter().zip(candidate) {
        match (b, c) {
            (true, false) => baseline_only += 1,
            (false, true) => candidate_only += 1,
            _ => {}
        }
    }
    let discordant = baseline_only + candidate_only;
    let p_value = if discordant == 0 {
        1.0
    } else {
        let smaller = baseline_only.min(candidate_only);
        (2.0 * binomial_half_cdf(smaller, discordant)).min(1.0)
    };
    McNemarResult {
        baseline_only,
        candidate_only,
        p_value,
    }
}

/// P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large `n`
/// does not overflow.
fn binomial_half_cdf(k: u64, n: u64) -> f64 {
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64;
    let mut total = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (ln_choose + ln_half_n).exp();
    }
    total
}
