//! Statistics for reports and gates: bootstrap confidence intervals and
//! paired tests (paired bootstrap, Wilcoxon signed-rank, McNemar), and
//! detector quality (AUROC, precision and recall).
//!
//! The Wilcoxon and McNemar p-values equal SciPy's
//! `scipy.stats.wilcoxon(x, y)` with default arguments and the two-sided
//! `scipy.stats.binomtest(b, b + c)` (SciPy 1.17).

mod auroc;
mod bootstrap;
mod mcnemar;
mod wilcoxon;

pub use auroc::{BinaryCounts, auroc};
pub use bootstrap::{ConfidenceInterval, bootstrap_mean_ci, paired_bootstrap};
pub use mcnemar::{McNemarResult, mcnemar_exact};
pub use wilcoxon::{WilcoxonMethod, WilcoxonResult, wilcoxon_signed_rank};

/// Returns the arithmetic mean, or `None` for an empty slice.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}
