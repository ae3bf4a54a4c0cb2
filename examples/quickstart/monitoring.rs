//! The quickstart's operations view: every gateway request recorded by a
//! `Monitor`, each answer's groundedness against its passage, and at the
//! end the live dashboard on a loopback port with the registry's scores
//! and the review queue beside the traffic.

use std::sync::Arc;

use anyhow::Context;
use llmops_compliance::ReviewQueue;
use llmops_core::pricing::PriceTable;
use llmops_drift::{DriftPanel, DriftStore};
use llmops_eval::grounded::{GroundednessInput, GroundednessScorer};
use llmops_gateway::{GatewayBuilder, GatewayConfig};
use llmops_monitor::dashboard::{self, DashboardState};
use llmops_monitor::{FeedbackStore, Monitor, MonitorHook, PromptRef, SnapshotSource, Window};
use llmops_registry::Registry;

/// The monitor of one run and the groundedness scorer of its replies.
pub(crate) struct Monitoring {
    monitor: Monitor,
    feedback: FeedbackStore,
    scorer: GroundednessScorer,
}

impl Monitoring {
    /// Builds the monitor. The registry's database also keeps the drift
    /// reports and the dashboard's feedback.
    pub(crate) async fn new(registry: Registry, queue: ReviewQueue) -> anyhow::Result<Monitoring> {
        let store = registry.store().clone();
        let drift = DriftPanel::new(DriftStore::open(store.clone()).await?);
        let feedback = FeedbackStore::open(store).await?;
        let monitor = Monitor::builder()
            .prices(PriceTable::defaults()?)
            .quality_source(Arc::new(registry))
            .oversight_source(Arc::new(queue))
            .drift_source(Arc::new(drift))
            .feedback_store(feedback.clone())
            .build()?;
        Ok(Monitoring {
            monitor,
            feedback,
            scorer: GroundednessScorer::lexical(),
        })
    }

    /// Counts guard findings by entity type for the dashboard.
    pub(crate) fn record_guard_findings(&self, entities: &[String]) {
        for entity in entities {
            self.monitor.record_guard_finding(entity, 1);
        }
    }

    /// Adds the hook that records every request of the gateway.
    pub(crate) fn attach(&self, builder: GatewayBuilder, config: &GatewayConfig) -> GatewayBuilder {
        // The hook keeps each request's prompt version, so feedback sent
        // from the dashboard by request id lands on that version.
        let hook = MonitorHook::new(self.monitor.clone(), config)
            .with_feedback_store(self.feedback.clone());
        builder.post_call_hook(Arc::new(hook))
    }

    /// Scores how well `answer` is grounded in `passage`, records the score
    /// for the model and prompt version, and returns it with the claims
    /// the passage does not support.
    pub(crate) async fn groundedness(
        &self,
        model: &str,
        prompt: PromptRef<'_>,
        answer: &str,
        passage: &str,
    ) -> (Option<f64>, Vec<String>) {
        let contexts = [passage.to_owned()];
        let verdict = self
            .scorer
            .score(&GroundednessInput::new(answer).with_contexts(&contexts))
            .await;
        let score = verdict.score.as_value();
        if let Some(value) = score {
            self.monitor
                .record_score(model, Some(prompt), "groundedness", value);
        }
        (score, verdict.unsupported_claims)
    }

    /// Prints the last hour's aggregates, then serves the dashboard on a
    /// loopback port until Ctrl-C, unless `serve` is false.
    pub(crate) async fn finish(&self, serve: bool) -> anyhow::Result<()> {
        let snapshot = self.monitor.snapshot(Window::Hour).await;

        let traffic = &snapshot.traffic;
        let milliseconds =
            |value: Option<f64>| value.map_or("-".to_owned(), |ms| format!("{ms:.0} ms"));
        println!(
            "Requests: {} ({} failed) | latency p50 {} p99 {} | tokens {} in, {} out",
            traffic.requests,
            traffic.errors,
            milliseconds(snapshot.latency.p50_ms),
            milliseconds(snapshot.latency.p99_ms),
            traffic.input_tokens,
            traffic.output_tokens,
        );
        if let llmops_monitor::Panel::Ok { data } = &snapshot.quality {
            for row in &data.hallucination {
                println!(
                    "Hallucination rate of {} ({}): {:.0}% of {} scored answers below the groundedness threshold (claims the retrieved passages do not support; a wrong answer drawn from them still counts as grounded)",
                    row.prompt_version.as_deref().unwrap_or("no prompt"),
                    row.model,
                    row.rate * 100.0,
                    row.scored,
                );
            }
        }
        if let Some(cheapest) = snapshot.cost.alternatives.first() {
            println!(
                "The same tokens on {} would cost ${:.6}.",
                cheapest.model, cheapest.cost_usd
            );
        }
        if !serve {
            return Ok(());
        }

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot open a loopback port for the dashboard")?;
        let address = listener.local_addr()?;
        let state = DashboardState::new(Arc::new(self.monitor.clone()))
            .with_feedback(Arc::new(self.feedback.clone()));
        println!(
            "\nDashboard: http://{address}/dashboard  (Ctrl-C stops; --no-dashboard skips it)"
        );
        let shutdown_state = state.clone();
        axum::serve(listener, dashboard::router(state))
            .with_graceful_shutdown(async move {
                let _ = tokio::signal::ctrl_c().await;
                shutdown_state.close_streams();
            })
            .await
            .context("the dashboard server failed")?;
        Ok(())
    }
}
