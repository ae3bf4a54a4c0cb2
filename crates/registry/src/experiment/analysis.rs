//! Per-metric analysis of arm samples against the control.

use tracing::debug;

use super::config::AnalysisConfig;
use super::decision::recommend;
use super::design::Experiment;
use super::error::ExperimentError;
use super::report::{ArmSummary, Comparison, MetricReport, Report};
use super::samples::{ArmSamples, MetricSamples};
use super::stats::{
    Interval, Proportion, TestResult, bootstrap_mean_difference, mean_and_variance, msprt,
    probability_best_binary, probability_best_normal, ratio_estimate, ratio_z_test,
    sample_ratio_mismatch, two_proportion_z_test, welch_t_test, wilson_interval,
};

impl Experiment {
    /// Analyses the samples of every arm and recommends whether to stop.
    ///
    /// `samples` contains one entry per arm, in any order. Each metric is
    /// compared between every treatment arm and the control (the first
    /// arm) with a fixed-horizon test and the always-valid mSPRT, and gets
    /// a probability to be best per arm.
    ///
    /// # Errors
    ///
    /// [`ExperimentError::ArmMismatch`] when `samples` misses or repeats an
    /// arm or names an unknown one, [`ExperimentError::MissingMetric`] and
    /// [`ExperimentError::MetricKindMismatch`] when arms disagree on
    /// metrics, the sample errors of [`MetricSamples`], and
    /// [`ExperimentError::InvalidSetting`] for a bad `config`.
    pub fn analyze(
        &self,
        samples: &[ArmSamples],
        config: &AnalysisConfig,
    ) -> Result<Report, ExperimentError> {
        config.validate()?;
        let ordered = self.order_samples(samples)?;
        let metric_names: Vec<&String> = ordered
            .first()
            .map(|control| control.metrics.keys().collect())
            .unwrap_or_default();
        validate_metrics(&ordered, &metric_names)?;
        if let Some(primary) = &config.primary_metric
            && !metric_names.is_empty()
            && !metric_names.contains(&primary)
        {
            return Err(ExperimentError::UnknownPrimaryMetric {
                metric: primary.clone(),
                available: metric_names
                    .iter()
                    .map(|name| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }

        let counts: Vec<u64> = ordered.iter().map(|arm| arm.units).collect();
        let srm = sample_ratio_mismatch(&counts, &self.shares(), config.srm_threshold);
        let mut metrics = Vec::with_capacity(metric_names.len());
        for (index, name) in metric_names.iter().enumerate() {
            let seed = config.seed.wrapping_add(index as u64);
            metrics.push(analyze_metric(name, &ordered, config, seed));
        }

        let primary_name = config
            .primary_metric
            .clone()
            .or_else(|| metric_names.first().map(|name| (*name).clone()));
        let primary = metrics
            .iter()
            .find(|metric| Some(&metric.name) == primary_name.as_ref());
        let recommendation = recommend(&srm, &ordered, primary, config);
        debug!(experiment = %self.id(), ?recommendation, "analysed experiment");
        Ok(Report {
            experiment_id: self.id().to_owned(),
            srm,
            metrics,
            recommendation,
        })
    }

    /// Returns `samples` in arm order, one per arm.
    fn order_samples<'a>(
        &self,
        samples: &'a [ArmSamples],
    ) -> Result<Vec<&'a ArmSamples>, ExperimentError> {
        if let Some(unknown) = samples
            .iter()
            .find(|sample| !self.arms().iter().any(|arm| arm.name == sample.arm))
        {
            return Err(ExperimentError::ArmMismatch {
                arm: unknown.arm.clone(),
            });
        }
        self.arms()
            .iter()
            .map(|arm| {
                let mut matching = samples.iter().filter(|sample| sample.arm == arm.name);
                match (matching.next(), matching.next()) {
                    (Some(sample), None) => Ok(sample),
                    _ => Err(ExperimentError::ArmMismatch {
                        arm: arm.name.clone(),
                    }),
                }
            })
            .collect()
    }
}

/// Checks that every arm has the control's metrics, of the same kinds.
fn validate_metrics(arms: &[&ArmSamples], names: &[&String]) -> Result<(), ExperimentError> {
    let Some(control) = arms.first() else {
        return Ok(());
    };
    for arm in arms {
        if let Some(extra) = arm
            .metrics
            .keys()
            .find(|name| !control.metrics.contains_key(*name))
        {
            return Err(ExperimentError::MissingMetric {
                metric: extra.clone(),
                arm: control.arm.clone(),
            });
        }
        for name in names {
            let Some(samples) = arm.metrics.get(*name) else {
                return Err(ExperimentError::MissingMetric {
                    metric: (*name).clone(),
                    arm: arm.arm.clone(),
                });
            };
            let control_kind = control.metrics.get(*name).map(MetricSamples::kind);
            if control_kind != Some(samples.kind()) {
                return Err(ExperimentError::MetricKindMismatch {
                    metric: (*name).clone(),
                    arm: arm.arm.clone(),
                });
            }
            samples.validate(name, &arm.arm)?;
        }
    }
    Ok(())
}

fn analyze_metric(
    name: &str,
    arms: &[&ArmSamples],
    config: &AnalysisConfig,
    seed: u64,
) -> MetricReport {
    let higher_is_better = !config.lower_is_better.contains(name);
    let samples: Vec<&MetricSamples> = arms
        .iter()
        .filter_map(|arm| arm.metrics.get(name))
        .collect();
    let summaries: Vec<ArmSummary> = arms
        .iter()
        .zip(&samples)
        .map(|(arm, sample)| summarize(&arm.arm, sample, config.confidence))
        .collect();

    let mut comparisons = Vec::new();
    if let Some(control) = samples.first() {
        for (offset, (arm, treatment)) in arms.iter().zip(&samples).enumerate().skip(1) {
            let comparison_seed = seed.wrapping_mul(1_000_003).wrapping_add(offset as u64);
            comparisons.push(compare(
                &arm.arm,
                control,
                treatment,
                config,
                comparison_seed,
            ));
        }
    }
    MetricReport {
        name: name.to_owned(),
        kind: samples
            .first()
            .map_or("continuous", |sample| sample.kind())
            .to_owned(),
        higher_is_better,
        probability_best: probability_best(&samples, &summaries, higher_is_better, config, seed),
        arms: summaries,
        comparisons,
    }
}

fn summarize(arm: &str, samples: &MetricSamples, confidence: f64) -> ArmSummary {
    let z = super::stats::normal_interval_factor(confidence);
    let normal = |estimate: f64, standard_error: f64| {
        (standard_error.is_finite() && standard_error > 0.0).then_some(Interval {
            lower: estimate - z * standard_error,
            upper: estimate + z * standard_error,
            level: confidence,
        })
    };
    match samples {
        MetricSamples::Continuous { values } => {
            let (mean, variance) = mean_and_variance(values);
            let standard_error = (variance / values.len() as f64).sqrt();
            ArmSummary {
                arm: arm.to_owned(),
                count: values.len() as u64,
                estimate: mean,
                interval: normal(mean, standard_error),
            }
        }
        MetricSamples::Binary { successes, trials } => {
            let proportion = Proportion {
                successes: *successes,
                trials: *trials,
            };
            ArmSummary {
                arm: arm.to_owned(),
                count: *trials,
                estimate: proportion.rate(),
                interval: wilson_interval(proportion, confidence),
            }
        }
        MetricSamples::Ratio {
            numerators,
            denominators,
        } => {
            let estimate = ratio_estimate(numerators, denominators);
            ArmSummary {
                arm: arm.to_owned(),
                count: numerators.len() as u64,
                estimate: estimate.map_or(0.0, |estimate| estimate.ratio),
                interval: estimate
                    .and_then(|estimate| normal(estimate.ratio, estimate.variance.sqrt())),
            }
        }
    }
}

fn compare(
    arm: &str,
    control: &MetricSamples,
    treatment: &MetricSamples,
    config: &AnalysisConfig,
    seed: u64,
) -> Comparison {
    let (test, bootstrap_interval, sizes) = match (control, treatment) {
        (
            MetricSamples::Continuous { values: control },
            MetricSamples::Continuous { values: treatment },
        ) => (
            welch_t_test(control, treatment, config.confidence),
            bootstrap_mean_difference(
                control,
                treatment,
                config.confidence,
                config.bootstrap_resamples,
                seed,
            ),
            (control.len(), treatment.len()),
        ),
        (
            MetricSamples::Binary {
                successes: s1,
                trials: n1,
            },
            MetricSamples::Binary {
                successes: s2,
                trials: n2,
            },
        ) => (
            two_proportion_z_test(
                Proportion {
                    successes: *s1,
                    trials: *n1,
                },
                Proportion {
                    successes: *s2,
                    trials: *n2,
                },
                config.confidence,
            ),
            None,
            (*n1 as usize, *n2 as usize),
        ),
        (
            MetricSamples::Ratio {
                numerators: x1,
                denominators: y1,
            },
            MetricSamples::Ratio {
                numerators: x2,
                denominators: y2,
            },
        ) => (
            ratio_z_test((x1, y1), (x2, y2), config.confidence),
            None,
            (x1.len(), x2.len()),
        ),
        _ => (
            TestResult::degenerate(0.0, 0.0, "metric kinds differ between arms"),
            None,
            (0, 0),
        ),
    };

    let inverse_sizes_sum = if sizes.0 > 0 && sizes.1 > 0 {
        1.0 / sizes.0 as f64 + 1.0 / sizes.1 as f64
    } else {
        0.0
    };
    let variance = if test.degenerate.is_some() {
        0.0
    } else {
        test.standard_error * test.standard_error
    };
    let sequential = msprt(
        test.estimate,
        variance,
        inverse_sizes_sum,
        config.mixing_scale,
        config.alpha,
    );
    Comparison {
        arm: arm.to_owned(),
        test,
        bootstrap_interval,
        sequential,
    }
}

fn probability_best(
    samples: &[&MetricSamples],
    summaries: &[ArmSummary],
    higher_is_better: bool,
    config: &AnalysisConfig,
    seed: u64,
) -> Option<Vec<f64>> {
    let draws = config.monte_carlo_draws;
    if let Some(proportions) = samples
        .iter()
        .map(|sample| sample.proportion())
        .collect::<Option<Vec<_>>>()
    {
        return probability_best_binary(&proportions, higher_is_better, draws, seed);
    }

    let mut means = Vec::with_capacity(samples.len());
    let mut errors = Vec::with_capacity(samples.len());
    for (sample, summary) in samples.iter().zip(summaries) {
        let standard_error = match sample {
            MetricSamples::Continuous { values } if values.len() >= 2 => {
                let (_, variance) = mean_and_variance(values);
                (variance / values.len() as f64).sqrt()
            }
            MetricSamples::Ratio {
                numerators,
                denominators,
            } => ratio_estimate(numerators, denominators)?.variance.sqrt(),
            _ => return None,
        };
        means.push(summary.estimate);
        errors.push(standard_error);
    }
    probability_best_normal(&means, &errors, higher_is_better, draws, seed)
}
