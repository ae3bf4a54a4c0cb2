//! The stopping rule applied to an analysis.

use super::config::AnalysisConfig;
use super::report::{MetricReport, Recommendation};
use super::samples::ArmSamples;
use super::stats::SrmCheck;

/// Decides whether to stop, from the SRM check and the primary metric's
/// sequential tests.
///
/// In order: a broken split stops the experiment; an arm below
/// `min_units_per_arm` continues it; a treatment significantly better than
/// the control (always-valid p < alpha) wins, the best estimate first; the
/// control wins when every treatment is significantly worse; equivalence
/// within the margin stops with no difference; otherwise continue.
///
/// NOTE: this uses the current look's always-valid p-value, which is never
/// below the running minimum over earlier looks, so it is valid but can
/// stop later than [`AlwaysValidPValue`] kept across looks by the caller.
///
/// [`AlwaysValidPValue`]: super::stats::AlwaysValidPValue
pub(crate) fn recommend(
    srm: &SrmCheck,
    arms: &[&ArmSamples],
    primary: Option<&MetricReport>,
    config: &AnalysisConfig,
) -> Recommendation {
    if srm.mismatch {
        let detail = srm.note.clone().unwrap_or_else(|| {
            format!(
                "chi-square {:.2} with {} degrees of freedom, p = {:.3e}",
                srm.chi_square, srm.degrees_of_freedom, srm.p_value
            )
        });
        return Recommendation::StopSampleRatioMismatch {
            reason: format!(
                "observed arm sizes do not fit the weights ({detail}, threshold {}); fix assignment or logging before reading results",
                srm.threshold
            ),
        };
    }
    if let Some(arm) = arms.iter().find(|arm| arm.units < config.min_units_per_arm) {
        return Recommendation::Continue {
            reason: format!(
                "arm `{}` has {} units, fewer than the minimum of {}",
                arm.arm, arm.units, config.min_units_per_arm
            ),
        };
    }
    let Some(metric) = primary else {
        return Recommendation::Continue {
            reason: "no metric to decide on".to_owned(),
        };
    };
    let Some(control) = metric.arms.first() else {
        return Recommendation::Continue {
            reason: "no arms to compare".to_owned(),
        };
    };

    let direction = if metric.higher_is_better { 1.0 } else { -1.0 };
    let significant = |comparison: &&super::report::Comparison| {
        comparison.sequential.degenerate.is_none() && comparison.sequential.p_value < config.alpha
    };
    let better = metric
        .comparisons
        .iter()
        .filter(significant)
        .filter(|comparison| direction * comparison.test.estimate > 0.0)
        .max_by(|a, b| (direction * a.test.estimate).total_cmp(&(direction * b.test.estimate)));
    if let Some(winner) = better {
        return Recommendation::StopWinner {
            arm: winner.arm.clone(),
            reason: format!(
                "`{}` differs from control `{}` by {:+.4} on `{}` (always-valid p = {:.3e} < {})",
                winner.arm,
                control.arm,
                winner.test.estimate,
                metric.name,
                winner.sequential.p_value,
                config.alpha
            ),
        };
    }
    let all_worse = !metric.comparisons.is_empty()
        && metric.comparisons.iter().all(|comparison| {
            significant(&comparison) && direction * comparison.test.estimate < 0.0
        });
    if all_worse {
        return Recommendation::StopWinner {
            arm: control.arm.clone(),
            reason: format!(
                "every treatment is significantly worse than control `{}` on `{}` (always-valid p < {})",
                control.arm, metric.name, config.alpha
            ),
        };
    }

    if let Some(margin) = config.equivalence_margin {
        let equivalent = !metric.comparisons.is_empty()
            && metric.comparisons.iter().all(|comparison| {
                comparison
                    .sequential
                    .confidence_sequence
                    .is_some_and(|interval| interval.lower >= -margin && interval.upper <= margin)
            });
        if equivalent {
            return Recommendation::StopNoDifference {
                reason: format!(
                    "every {:.0}% confidence sequence on `{}` lies within ±{margin}",
                    (1.0 - config.alpha) * 100.0,
                    metric.name
                ),
            };
        }
    }
    let degenerate = metric
        .comparisons
        .iter()
        .find_map(|comparison| comparison.sequential.degenerate.clone());
    Recommendation::Continue {
        reason: match degenerate {
            Some(reason) => format!("no decision on `{}`: {reason}", metric.name),
            None => format!(
                "no arm differs from control on `{}` at always-valid p < {} yet",
                metric.name, config.alpha
            ),
        },
    }
}
