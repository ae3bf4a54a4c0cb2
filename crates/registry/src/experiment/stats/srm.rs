//! Sample ratio mismatch: do the observed arm sizes fit the weights?

use serde::{Deserialize, Serialize};

use super::tails::ln_chi_square_sf;

/// The result of the sample ratio mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrmCheck {
    /// Pearson's chi-square statistic of observed against expected counts.
    pub chi_square: f64,
    /// Degrees of freedom: the number of arms with positive weight, minus 1.
    pub degrees_of_freedom: usize,
    /// The goodness-of-fit p-value; 0 when it underflows `f64`.
    pub p_value: f64,
    /// Natural logarithm of the p-value; `f64::MIN` when an arm with weight
    /// 0 received units, where no test is needed.
    pub ln_p_value: f64,
    /// The p-value below which the split counts as broken.
    pub threshold: f64,
    /// Whether the split is broken.
    pub mismatch: bool,
    /// Why the check flagged or could not test the split, if it did.
    pub note: Option<String>,
}

/// Checks observed unit counts per arm against the configured shares with
/// Pearson's chi-square goodness-of-fit test.
///
/// An arm with share 0 that received units is a mismatch on its own. With
/// no units, or one arm with a positive share, nothing can be tested and
/// the check passes with a note.
pub fn sample_ratio_mismatch(counts: &[u64], shares: &[f64], threshold: f64) -> SrmCheck {
    let total: u64 = counts.iter().sum();
    let passing = |note: &str| SrmCheck {
        chi_square: 0.0,
        degrees_of_freedom: 0,
        p_value: 1.0,
        ln_p_value: 0.0,
        threshold,
        mismatch: false,
        note: Some(note.to_owned()),
    };
    if let Some(index) = counts
        .iter()
        .zip(shares)
        .position(|(count, share)| *count > 0 && *share <= 0.0)
    {
        return SrmCheck {
            note: Some(format!("arm {index} has weight 0 but received units")),
            mismatch: true,
            p_value: 0.0,
            ln_p_value: f64::MIN,
            ..passing("")
        };
    }
    if total == 0 {
        return passing("no units observed yet");
    }
    let positive = shares.iter().filter(|share| **share > 0.0).count();
    if positive < 2 {
        return passing("only one arm receives traffic, so there is nothing to compare");
    }

    let chi_square: f64 = counts
        .iter()
        .zip(shares)
        .filter(|(_, share)| **share > 0.0)
        .map(|(count, share)| {
            let expected = total as f64 * share;
            (*count as f64 - expected).powi(2) / expected
        })
        .sum();
    let degrees_of_freedom = positive - 1;
    let ln_p_value = ln_chi_square_sf(chi_square, degrees_of_freedom as f64);
    let p_value = ln_p_value.exp();
    SrmCheck {
        chi_square,
        degrees_of_freedom,
        p_value,
        ln_p_value,
        threshold,
        mismatch: p_value < threshold,
        note: None,
    }
}
