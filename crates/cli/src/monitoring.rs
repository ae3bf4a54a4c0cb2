//! The monitor behind `llmops serve`: every request recorded into sliding
//! windows, alert rules evaluated on a timer, and the dashboard with its
//! feedback endpoint and Prometheus text mounted on the server.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use llmops_compliance::{AuditLog, ReviewQueue};
use llmops_core::pricing::PriceTable;
use llmops_drift::{DriftPanel, DriftStore};
use llmops_gateway::server::ServerBuilder;
use llmops_gateway::{BudgetConfig, GatewayBuilder, GatewayConfig, ScopeKind};
use llmops_monitor::dashboard::{self, DashboardState};
use llmops_monitor::otlp::{OtlpConfig, OtlpExporter};
use llmops_monitor::{
    AlertMetric, AlertRule, Budget, BudgetPeriod, BudgetScope, FeedbackStore, LogNotifier, Monitor,
    MonitorHook, Window,
};
use llmops_registry::Registry;
use llmops_store::Store;
use rust_decimal::prelude::ToPrimitive;

use crate::failure::Failure;

/// How often alert rules are evaluated.
const ALERT_INTERVAL: Duration = Duration::from_secs(15);

/// The path of the monitor's Prometheus text, beside the server's own
/// `/metrics`.
pub(crate) const MONITOR_METRICS_PATH: &str = "/metrics/monitor";

/// The monitor, the store its feedback goes to, and the dashboard's state.
#[derive(Clone)]
pub(crate) struct Monitoring {
    monitor: Monitor,
    feedback: FeedbackStore,
    dashboard: DashboardState,
}

/// How long feedback can still find the prompt version of a request when
/// the server keeps its tables in memory: the table grows with every
/// request, so it is kept short.
const REQUEST_RETENTION_IN_MEMORY: Duration = Duration::from_secs(60 * 60);

/// The same with `--database`.
const REQUEST_RETENTION_STORED: Duration = Duration::from_secs(30 * 24 * 60 * 60);

impl Monitoring {
    /// Builds the monitor. With `database`, the dashboard also shows the
    /// evaluation scores, drift reports and review queue stored there, and
    /// feedback is kept there; without it, feedback lives in memory and
    /// those panels say how to provide them.
    pub(crate) async fn open(
        database: Option<&Store>,
        config: &GatewayConfig,
    ) -> Result<Monitoring, Failure> {
        let store = match database {
            Some(store) => store.clone(),
            None => Store::connect("sqlite::memory:")
                .await
                .context("cannot open the in-memory feedback database")?,
        };
        let retention = if database.is_some() {
            REQUEST_RETENTION_STORED
        } else {
            REQUEST_RETENTION_IN_MEMORY
        };
        let feedback = FeedbackStore::open(store.clone())
            .await
            .context("cannot prepare the feedback table")?
            .with_request_retention(retention);
        let prices = PriceTable::defaults().context("cannot read the built-in price table")?;
        let mut builder = Monitor::builder()
            .prices(prices)
            .feedback_store(feedback.clone())
            .notifier(Arc::new(LogNotifier));
        for rule in default_rules() {
            builder = builder.alert_rule(rule);
        }
        for budget in monitor_budgets(config) {
            builder = builder.budget(budget.scope, budget.period, budget.limit_usd);
        }
        if let Some(store) = database {
            let registry = Registry::open(store.clone())
                .await
                .context("cannot open the prompt registry for the dashboard")?;
            let drift = DriftStore::open(store.clone())
                .await
                .context("cannot open the drift reports for the dashboard")?;
            let log = AuditLog::open(store.clone())
                .await
                .context("cannot open the audit log for the dashboard")?;
            builder = builder
                .quality_source(Arc::new(registry))
                .drift_source(Arc::new(DriftPanel::new(drift)))
                .oversight_source(Arc::new(ReviewQueue::new(log)));
        }
        let monitor = builder.build().context("cannot build the monitor")?;
        let dashboard = DashboardState::new(Arc::new(monitor.clone()))
            .with_feedback(Arc::new(feedback.clone()));
        Ok(Monitoring {
            monitor,
            feedback,
            dashboard,
        })
    }

    /// Writes the remembered requests that wait, so feedback after a
    /// restart still finds them.
    pub(crate) async fn flush(&self) {
        if let Err(error) = self.feedback.flush().await {
            tracing::warn!(
                %error,
                lost = self.feedback.unwritten_requests(),
                "remembered requests not written at shutdown; feedback on them gets no prompt version"
            );
        }
    }

    /// Returns the monitor that records requests and guard findings.
    pub(crate) fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// Adds the hook that records every request of a gateway built from
    /// `config`.
    pub(crate) fn attach(&self, builder: GatewayBuilder, config: &GatewayConfig) -> GatewayBuilder {
        let hook = MonitorHook::new(self.monitor.clone(), config)
            .with_feedback_store(self.feedback.clone());
        builder.post_call_hook(Arc::new(hook))
    }

    /// Replaces the monitor's budgets with those of a reloaded `config`,
    /// keeping the spend of budgets whose scope and period did not change.
    /// The alert rules are built in (see [`default_rules`]), so a reload
    /// leaves them as they are.
    pub(crate) fn reload(&self, config: &GatewayConfig) {
        if let Err(error) = self.monitor.replace_budgets(monitor_budgets(config)) {
            // The gateway validates limits before this point, so this only
            // happens for a limit too large for an f64.
            tracing::warn!(%error, "monitor budgets not replaced on reload");
        }
    }

    /// Builds an exporter of the monitor's metrics to the OTLP/HTTP
    /// collector at `endpoint`, every `interval_secs` seconds.
    pub(crate) fn otlp_exporter(
        &self,
        endpoint: &str,
        interval_secs: u64,
    ) -> Result<OtlpExporter, Failure> {
        if interval_secs == 0 {
            return Err(Failure::Usage(
                "invalid --otlp-interval-secs 0: use a positive number of seconds".into(),
            ));
        }
        let config = OtlpConfig::new(endpoint).interval(Duration::from_secs(interval_secs));
        OtlpExporter::new(self.monitor.clone(), config)
            .map_err(|error| Failure::Usage(format!("invalid --otlp-endpoint: {error}")))
    }

    /// Mounts the dashboard, its feedback endpoint and the monitor's
    /// Prometheus text on the server.
    pub(crate) fn mount(&self, builder: ServerBuilder) -> ServerBuilder {
        let monitor = self.monitor.clone();
        let metrics = Router::new().route(
            MONITOR_METRICS_PATH,
            get(move || {
                let monitor = monitor.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        monitor.render_prometheus(),
                    )
                }
            }),
        );
        builder
            .routes(dashboard::pages_router(self.dashboard.clone()).merge(metrics))
            .authenticated_routes(dashboard::feedback_router(self.dashboard.clone()))
    }

    /// Evaluates the alert rules every [`ALERT_INTERVAL`] until the runtime
    /// stops; changes of state go to the log.
    pub(crate) fn evaluate_alerts_periodically(&self) {
        let monitor = self.monitor.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(ALERT_INTERVAL);
            loop {
                ticks.tick().await;
                monitor.evaluate_alerts(monitor.now_ms()).await;
            }
        });
    }

    /// Ends the dashboard's open event streams, so shutdown does not wait
    /// for them.
    pub(crate) fn close_streams(&self) {
        self.dashboard.close_streams();
    }
}

/// Alert rules every server starts with: errors, latency, hallucinations
/// and drift. Each clears below a lower value than it fires at, and needs
/// two evaluations in a row, so a value near a threshold does not flap.
fn default_rules() -> Vec<AlertRule> {
    vec![
        AlertRule::new(
            "error ratio above 20% in the last minute",
            AlertMetric::ErrorRatio,
            Window::Minute,
            0.2,
        )
        .clear_below(0.1)
        .for_evaluations(2),
        AlertRule::new(
            "p99 latency above 30 s in the last minute",
            AlertMetric::P99LatencyMs,
            Window::Minute,
            30_000.0,
        )
        .clear_below(20_000.0)
        .for_evaluations(2),
        AlertRule::new(
            "hallucination rate above 30% in the last hour",
            AlertMetric::HallucinationRate,
            Window::Hour,
            0.3,
        )
        .clear_below(0.2)
        .for_evaluations(2),
        AlertRule::new(
            "latest drift report at alert severity",
            AlertMetric::DriftSeverity,
            Window::Day,
            1.5,
        )
        .clear_below(0.5)
        .for_evaluations(1),
    ]
}

/// Converts the gateway budgets of `config` into monitor budgets.
fn monitor_budgets(config: &GatewayConfig) -> Vec<Budget> {
    config
        .budgets
        .iter()
        .filter_map(monitor_budget)
        .map(|(scope, period, limit_usd)| Budget {
            scope,
            period,
            limit_usd,
        })
        .collect()
}

/// The monitor's view of a gateway budget. Budgets per user, budgets over
/// all time and default budgets of a whole scope kind have no monitor
/// counterpart, so they return none.
fn monitor_budget(budget: &BudgetConfig) -> Option<(BudgetScope, BudgetPeriod, f64)> {
    let id = budget.id.clone()?;
    let scope = match budget.scope {
        ScopeKind::Key => BudgetScope::Key(id),
        ScopeKind::Team => BudgetScope::Team(id),
        ScopeKind::Model => BudgetScope::Model(id),
        _ => return None,
    };
    let period = match budget.period {
        llmops_gateway::BudgetPeriod::Day => BudgetPeriod::Day,
        llmops_gateway::BudgetPeriod::Month => BudgetPeriod::Month,
        _ => return None,
    };
    Some((scope, period, budget.limit_usd.to_f64()?))
}
