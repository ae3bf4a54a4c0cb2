//! Regression gates: compare a candidate run with a baseline run on the
//! same dataset, metric by metric, with paired statistics.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::result::EvalRun;
use crate::stats::{ConfidenceInterval, mcnemar_exact, paired_bootstrap, wilcoxon_signed_rank};

/// Gate thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateConfig {
    /// Largest tolerated drop of a metric's mean, in the metric's units,
    /// for metrics without an override (default 0.02).
    pub max_drop: f64,
    /// Per-metric overrides of `max_drop`.
    pub max_drop_by_metric: BTreeMap<String, f64>,
    /// Significance level of the paired test (default 0.05).
    pub alpha: f64,
    /// Bootstrap resamples for the difference interval (default 2,000).
    pub resamples: usize,
    /// Generator seed for the bootstrap (default 0).
    pub seed: u64,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            max_drop: 0.02,
            max_drop_by_metric: BTreeMap::new(),
            alpha: 0.05,
            resamples: 2_000,
            seed: 0,
        }
    }
}

/// The paired test used for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PairedTest {
    /// McNemar's exact test, for metrics whose values are all 0 or 1.
    McNemar,
    /// The Wilcoxon signed-rank test, for other metrics.
    Wilcoxon,
    /// No test: every pair is equal.
    None,
}

/// The comparison of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// The metric name.
    pub metric: String,
    /// Cases with a value in both runs.
    pub pairs: usize,
    /// Baseline mean over the pairs.
    pub baseline_mean: f64,
    /// Candidate mean over the pairs.
    pub candidate_mean: f64,
    /// How much worse the candidate is, in metric units (negative when it
    /// is better), taking the metric's direction into account.
    pub drop: f64,
    /// Interval of `candidate - baseline` by paired bootstrap.
    pub difference: Option<ConfidenceInterval>,
    /// The test used.
    pub test: PairedTest,
    /// Its two-sided p-value; 1 when no test applies.
    pub p_value: f64,
    /// The tolerated drop.
    pub max_drop: f64,
    /// Whether the drop exceeds the tolerance with significance.
    pub failed: bool,
}

/// The outcome of a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    /// The baseline run id.
    pub baseline: String,
    /// The candidate run id.
    pub candidate: String,
    /// One comparison per metric both runs share.
    pub metrics: Vec<MetricComparison>,
}

impl GateReport {
    /// Returns whether every metric passed.
    pub fn passed(&self) -> bool {
        self.metrics.iter().all(|metric| !metric.failed)
    }

    /// Renders the comparison as a Markdown table.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "# Gate: `{}` against baseline `{}`: {}\n\n",
            self.candidate,
            self.baseline,
            if self.passed() { "passed" } else { "FAILED" }
        );
        out.push_str(
            "| metric | pairs | baseline | candidate | drop | max drop | test | p | result |\n",
        );
        out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |\n");
        for m in &self.metrics {
            let test = match m.test {
                PairedTest::McNemar => "McNemar",
                PairedTest::Wilcoxon => "Wilcoxon",
                PairedTest::None => "none",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {test} | {:.4} | {} |",
                m.metric,
                m.pairs,
                m.baseline_mean,
                m.candidate_mean,
                m.drop,
                m.max_drop,
                m.p_value,
                if m.failed { "fail" } else { "pass" }
            );
        }
        out
    }
}

/// Compares a candidate run with a baseline on every metric both record.
///
/// A metric fails when the candidate's mean is worse by more than its
/// tolerated drop and the paired test rejects equality at `alpha`. Cases
/// are paired by id; a case undetermined in either run is left out.
///
/// # Errors
///
/// [`EvalError::IncomparableRuns`] when the runs evaluated different
/// dataset versions, and [`EvalError::InvalidParameter`] for an `alpha`
/// outside (0, 1) or a negative tolerance.
pub fn compare_runs(
    baseline: &EvalRun,
    candidate: &EvalRun,
    config: &GateConfig,
) -> Result<GateReport> {
    if baseline.info.dataset_version != candidate.info.dataset_version {
        return Err(EvalError::IncomparableRuns {
            reason: format!(
                "baseline `{}` used dataset version {} and candidate `{}` used {}; evaluate both on the same dataset",
                baseline.info.run_id,
                baseline.info.dataset_version,
                candidate.info.run_id,
                candidate.info.dataset_version
            ),
        });
    }
    if !(config.alpha > 0.0 && config.alpha < 1.0) {
        return Err(EvalError::InvalidParameter {
            name: "alpha",
            value: config.alpha.to_string(),
            reason: "must lie strictly between 0 and 1, for example 0.05".to_owned(),
        });
    }
    let unknown = config
        .max_drop_by_metric
        .keys()
        .find(|name| !baseline.info.metrics.contains_key(*name));
    if let Some(name) = unknown {
        let known: Vec<&str> = baseline.info.metrics.keys().map(String::as_str).collect();
        return Err(EvalError::InvalidParameter {
            name: "max_drop_by_metric",
            value: name.clone(),
            reason: format!(
                "run `{}` has no metric `{name}`; name one of: {}",
                baseline.info.run_id,
                known.join(", ")
            ),
        });
    }
    let mut metrics = Vec::new();
    for (name, range) in &baseline.info.metrics {
        if !candidate.info.metrics.contains_key(name) {
            continue;
        }
        let max_drop = config
            .max_drop_by_metric
            .get(name)
            .copied()
            .unwrap_or(config.max_drop);
        if max_drop.is_nan() || max_drop < 0.0 {
            return Err(EvalError::InvalidParameter {
                name: "max_drop",
                value: max_drop.to_string(),
                reason: format!("the tolerated drop of `{name}` must be zero or more"),
            });
        }
        metrics.push(compare_metric(
            baseline,
            candidate,
            name,
            range.higher_is_better,
            max_drop,
            config,
        ));
    }
    Ok(GateReport {
        baseline: baseline.info.run_id.clone(),
        candidate: candidate.info.run_id.clone(),
        metrics,
    })
}

fn compare_metric(
    baseline: &EvalRun,
    candidate: &EvalRun,
    name: &str,
    higher_is_better: bool,
    max_drop: f64,
    config: &GateConfig,
) -> MetricComparison {
    let candidate_values: HashMap<&str, f64> = candidate.values(name).into_iter().collect();
    let (base, cand): (Vec<f64>, Vec<f64>) = baseline
        .values(name)
        .into_iter()
        .filter_map(|(case_id, value)| Some((value, *candidate_values.get(case_id)?)))
        .unzip();

    let pairs = base.len();
    let baseline_mean = crate::stats::mean(&base).unwrap_or(0.0);
    let candidate_mean = crate::stats::mean(&cand).unwrap_or(0.0);
    let drop = if higher_is_better {
        baseline_mean - candidate_mean
    } else {
        candidate_mean - baseline_mean
    };

    let binary = base.iter().chain(&cand).all(|&v| v == 0.0 || v == 1.0);
    let (test, p_value) = if pairs == 0 || base == cand {
        (PairedTest::None, 1.0)
    } else if binary {
        let to_bool = |values: &[f64]| values.iter().map(|&v| v == 1.0).collect::<Vec<_>>();
        let result = mcnemar_exact(&to_bool(&base), &to_bool(&cand));
        (PairedTest::McNemar, result.p_value)
    } else {
        match wilcoxon_signed_rank(&base, &cand) {
            Some(result) => (PairedTest::Wilcoxon, result.p_value),
            None => (PairedTest::None, 1.0),
        }
    };
    let difference = paired_bootstrap(&base, &cand, config.resamples, 0.95, config.seed)
        .map(|(interval, _)| interval);

    MetricComparison {
        metric: name.to_owned(),
        pairs,
        baseline_mean,
        candidate_mean,
        drop,
        difference,
        test,
        p_value,
        max_drop,
        failed: pairs > 0 && drop > max_drop && p_value < config.alpha,
    }
}
