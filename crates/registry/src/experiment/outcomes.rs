//! Analysis input built from the calls and scores logged under an
//! experiment.
//!
//! The unit of analysis is the unit the experiment assigned (a user or
//! session), not the call: a unit with several calls contributes the mean
//! of its calls, so heavy users do not count as many independent samples.
//! Each arm gets these metrics:
//!
//! - `latency_ms`, `cost_usd` and `tokens` (prompt plus completion) from
//!   the call log, lower is better;
//! - every score metric attached to the experiment's calls (by `call_id`).
//!   A metric whose values are all 0 or 1, with one value per unit, is
//!   binary: successes out of units. Any other metric is continuous over
//!   the per-unit means.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::Row as _;

use super::config::AnalysisConfig;
use super::report::Report;
use super::samples::{ArmSamples, MetricSamples};
use super::stored::StoredExperiment;
use crate::error::Result;
use crate::registry::{Registry, text_column};

/// The call-log metrics, where a lower value is better.
pub const CALL_METRICS: [&str; 3] = ["cost_usd", "latency_ms", "tokens"];

/// Values of one metric per unit, per arm.
type UnitValues = BTreeMap<String, Vec<f64>>;

impl Registry {
    /// Collects the analysis input of an experiment from the calls and
    /// scores logged under it, one [`ArmSamples`] per arm in arm order.
    ///
    /// # Errors
    ///
    /// [`RegistryError::ExperimentNotFound`](crate::RegistryError::ExperimentNotFound)
    /// and [`RegistryError::Store`](crate::RegistryError::Store).
    pub async fn experiment_samples(&self, id: &str) -> Result<Vec<ArmSamples>> {
        let stored = self.experiment(id).await?;
        let calls = sqlx::query(
            "SELECT arm, COALESCE(unit, call_id, CAST(id AS TEXT)), latency_ms, cost_nano_usd, prompt_tokens + completion_tokens
             FROM registry_calls WHERE experiment = $1 AND arm IS NOT NULL",
        )
        .bind(id)
        .fetch_all(self.store().pool())
        .await
        .map_err(|e| self.db(e))?;
        let scores = sqlx::query(
            "SELECT c.arm, COALESCE(c.unit, c.call_id, CAST(c.id AS TEXT)), s.metric, s.value
             FROM registry_scores s JOIN registry_calls c
               ON s.call_id = c.call_id AND s.prompt = c.prompt AND s.version = c.version
             WHERE c.experiment = $1 AND c.arm IS NOT NULL",
        )
        .bind(id)
        .fetch_all(self.store().pool())
        .await
        .map_err(|e| self.db(e))?;

        // metric -> arm -> unit -> values
        let mut observed: BTreeMap<String, BTreeMap<String, UnitValues>> = BTreeMap::new();
        let mut units: HashMap<String, BTreeSet<String>> = HashMap::new();
        for row in &calls {
            let arm = text_column(row, 0)?;
            let unit = text_column(row, 1)?;
            let latency: i64 = row.try_get(2).map_err(|e| self.db(e))?;
            let cost_nano: i64 = row.try_get(3).map_err(|e| self.db(e))?;
            let tokens: i64 = row.try_get(4).map_err(|e| self.db(e))?;
            for (metric, value) in [
                ("latency_ms", latency as f64),
                ("cost_usd", cost_nano as f64 / 1e9),
                ("tokens", tokens as f64),
            ] {
                push(&mut observed, metric, &arm, &unit, value);
            }
            units.entry(arm).or_default().insert(unit);
        }
        for row in &scores {
            let arm = text_column(row, 0)?;
            let unit = text_column(row, 1)?;
            let metric = text_column(row, 2)?;
            let value: f64 = row.try_get(3).map_err(|e| self.db(e))?;
            if value.is_finite() {
                push(&mut observed, &metric, &arm, &unit, value);
            }
        }
        Ok(arm_samples(&stored, &observed, &units))
    }

    /// Analyses an experiment on its logged calls and scores.
    ///
    /// The call-log metrics are added to `config.lower_is_better`.
    ///
    /// # Errors
    ///
    /// As [`Registry::experiment_samples`], and
    /// [`RegistryError::Experiment`](crate::RegistryError::Experiment) for
    /// an invalid `config`.
    pub async fn experiment_report(&self, id: &str, config: &AnalysisConfig) -> Result<Report> {
        let stored = self.experiment(id).await?;
        let samples = self.experiment_samples(id).await?;
        let mut config = config.clone();
        config
            .lower_is_better
            .extend(CALL_METRICS.iter().map(|metric| (*metric).to_owned()));
        Ok(stored.experiment.analyze(&samples, &config)?)
    }
}

fn push(
    observed: &mut BTreeMap<String, BTreeMap<String, UnitValues>>,
    metric: &str,
    arm: &str,
    unit: &str,
    value: f64,
) {
    observed
        .entry(metric.to_owned())
        .or_default()
        .entry(arm.to_owned())
        .or_default()
        .entry(unit.to_owned())
        .or_default()
        .push(value);
}

/// Builds one [`ArmSamples`] per arm, every arm with every metric (an arm
/// without data gets an empty sample), so the analysis compares like with
/// like.
fn arm_samples(
    stored: &StoredExperiment,
    observed: &BTreeMap<String, BTreeMap<String, UnitValues>>,
    units: &HashMap<String, BTreeSet<String>>,
) -> Vec<ArmSamples> {
    let empty = UnitValues::new();
    let mut arms: Vec<ArmSamples> = stored
        .experiment
        .arms()
        .iter()
        .map(|arm| ArmSamples {
            arm: arm.name.clone(),
            units: units.get(&arm.name).map_or(0, |set| set.len() as u64),
            metrics: BTreeMap::new(),
        })
        .collect();
    for (metric, by_arm) in observed {
        let binary = by_arm
            .values()
            .flat_map(|by_unit| by_unit.values())
            .all(|values| matches!(values.as_slice(), [value] if *value == 0.0 || *value == 1.0));
        for samples in &mut arms {
            let by_unit = by_arm.get(&samples.arm).unwrap_or(&empty);
            let metric_samples = if binary {
                let successes = by_unit.values().filter(|values| values[0] == 1.0).count();
                MetricSamples::Binary {
                    successes: successes as u64,
                    trials: by_unit.len() as u64,
                }
            } else {
                MetricSamples::Continuous {
                    values: by_unit
                        .values()
                        .map(|values| values.iter().sum::<f64>() / values.len() as f64)
                        .collect(),
                }
            };
            samples.metrics.insert(metric.clone(), metric_samples);
        }
    }
    arms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::stored::ExperimentStatus;
    use crate::experiment::{Arm, ArmTarget, Experiment};

    fn stored() -> StoredExperiment {
        StoredExperiment {
            experiment: Experiment::new(
                "e",
                vec![
                    Arm::new("a", ArmTarget::Version(1), 1.0),
                    Arm::new("b", ArmTarget::Version(2), 1.0),
                ],
            )
            .unwrap(),
            prompt: "p".into(),
            label: "production".into(),
            status: ExperimentStatus::Running,
            created_by: "t".into(),
            created_at_ms: 0,
            ended_by: None,
            ended_at_ms: None,
            winner: None,
        }
    }

    #[test]
    fn unit_values_are_call_means() {
        let mut observed = BTreeMap::new();
        push(&mut observed, "latency_ms", "a", "u1", 100.0);
        push(&mut observed, "latency_ms", "a", "u1", 300.0);
        push(&mut observed, "latency_ms", "a", "u2", 50.0);
        let units = HashMap::from([(
            "a".to_owned(),
            BTreeSet::from(["u1".to_owned(), "u2".to_owned()]),
        )]);
        let arms = arm_samples(&stored(), &observed, &units);
        assert_eq!(arms[0].units, 2);
        assert_eq!(
            arms[0].metrics["latency_ms"],
            MetricSamples::Continuous {
                values: vec![200.0, 50.0]
            }
        );
        assert_eq!(arms[1].units, 0);
        assert_eq!(
            arms[1].metrics["latency_ms"],
            MetricSamples::Continuous { values: vec![] }
        );
    }

    #[test]
    fn zero_one_scores_once_per_unit_are_binary() {
        let mut observed = BTreeMap::new();
        push(&mut observed, "thumbs_up", "a", "u1", 1.0);
        push(&mut observed, "thumbs_up", "a", "u2", 0.0);
        push(&mut observed, "thumbs_up", "b", "u3", 1.0);
        let arms = arm_samples(&stored(), &observed, &HashMap::new());
        assert_eq!(
            arms[0].metrics["thumbs_up"],
            MetricSamples::Binary {
                successes: 1,
                trials: 2
            }
        );
        assert_eq!(
            arms[1].metrics["thumbs_up"],
            MetricSamples::Binary {
                successes: 1,
                trials: 1
            }
        );

        // A second score for one unit makes the metric a per-unit mean.
        push(&mut observed, "thumbs_up", "b", "u3", 0.0);
        let arms = arm_samples(&stored(), &observed, &HashMap::new());
        assert_eq!(
            arms[1].metrics["thumbs_up"],
            MetricSamples::Continuous { values: vec![0.5] }
        );
    }
}
