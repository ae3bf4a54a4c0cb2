//! The latest drift report as the drift panel of the llmops-monitor
//! dashboard.

use async_trait::async_trait;
use llmops_monitor::source::DriftSource;
use llmops_monitor::{DriftMeasure, DriftSummary, MonitorError};

use crate::policy::{Policy, Rule};
use crate::report::{Measure, MeasureResult};
use crate::store::DriftStore;

/// Reads the newest report in a [`DriftStore`] for the dashboard, showing
/// each measure beside the alert threshold of `policy`.
#[derive(Debug, Clone)]
pub struct DriftPanel {
    store: DriftStore,
    policy: Policy,
}

impl DriftPanel {
    /// Shows the store's reports against the default policy's thresholds.
    pub fn new(store: DriftStore) -> Self {
        DriftPanel {
            store,
            policy: Policy::default(),
        }
    }

    /// Shows thresholds of `policy`, the one the checks run with.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    fn rule(&self, measure: &Measure) -> Rule {
        match measure {
            Measure::TopicJensenShannon => self.policy.jensen_shannon,
            Measure::TopicPsi => self.policy.psi,
            Measure::TopicChiSquare => self.policy.chi_square,
            Measure::CentroidCosine => self.policy.centroid_cosine,
            Measure::Mmd => self.policy.mmd,
            Measure::DomainClassifierAuc => self.policy.domain_classifier,
            Measure::Ks { .. } => self.policy.ks,
            Measure::Wasserstein { .. } => self.policy.wasserstein,
        }
    }

    /// The measure as shown: a statistic against its alert threshold, or
    /// a p-value against its alert level; none without enough data.
    fn shown(&self, result: &MeasureResult) -> Option<DriftMeasure> {
        let name = result.measure.name();
        match self.rule(&result.measure) {
            Rule::PValueBelow { alert, .. } => Some(DriftMeasure {
                name: format!("{name} (p-value)"),
                value: result.measurement.p_value()?,
                threshold: Some(alert),
            }),
            Rule::Above { alert, .. } => Some(DriftMeasure {
                name,
                value: result.measurement.statistic()?,
                threshold: Some(alert),
            }),
            _ => Some(DriftMeasure {
                name,
                value: result.measurement.statistic()?,
                threshold: None,
            }),
        }
    }
}

#[async_trait]
impl DriftSource for DriftPanel {
    async fn latest(&self) -> Result<Option<DriftSummary>, MonitorError> {
        let latest = self
            .store
            .latest_report()
            .await
            .map_err(|error| MonitorError::Source {
                panel: "drift",
                message: error.to_string(),
            })?;
        Ok(latest.map(|(baseline, stored)| DriftSummary {
            baseline,
            created_at_ms: u64::try_from(stored.created_at_ms).unwrap_or(0),
            severity: stored.report.severity.as_str().to_owned(),
            measures: stored
                .report
                .measures
                .iter()
                .filter_map(|result| self.shown(result))
                .collect(),
            topics: stored
                .report
                .topic_shares
                .iter()
                .map(|share| llmops_monitor::TopicShare {
                    label: share.label.clone(),
                    baseline: share.reference_share,
                    current: share.current_share,
                })
                .collect(),
        }))
    }
}
