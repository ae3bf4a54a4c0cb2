//! `impl SnapshotSource for Monitor`: the window's aggregates plus the
//! panels read from the configured sources.

use async_trait::async_trait;

use crate::aggregate::{WindowView, breakdown, named_counts, prompt_version_label};
use crate::cost::{BudgetPeriod, alternatives};
use crate::monitor::{Monitor, lock};
use crate::record::State;
use crate::snapshot::{
    CostPanel, DriftSummary, FeedbackSummary, OversightSummary, Panel, QualitySummary, ScoreRow,
    Snapshot, SnapshotSource, VersionFeedback, Window,
};

const DAY_MS: u64 = 86_400_000;

/// How to make the drift panel show data.
const DRIFT_HINT: &str = "no drift report yet: run `llmops drift baseline`, then `llmops drift check` to produce a report";

/// How to make the oversight panel show data.
const OVERSIGHT_HINT: &str = "no review queue connected: build the monitor with an OversightSource over the compliance review queue";

/// How to make the feedback panel show data.
const FEEDBACK_HINT: &str =
    "no feedback store connected: build the monitor with MonitorBuilder::feedback_store";

/// How to make the quality panel show data.
const QUALITY_HINT: &str = "no evaluation scores yet: log scores per prompt version in the registry (Registry::record_score), connect a QualitySource, or record scores with Monitor::record_score";

/// The parts of a snapshot computed under the state lock.
struct LocalPanels {
    snapshot: Snapshot,
    scores: Vec<ScoreRow>,
    hallucination: Vec<crate::snapshot::HallucinationRow>,
}

impl Monitor {
    /// Takes a snapshot over `window` at `now_ms` of the monitor's clock.
    pub async fn snapshot_at(&self, window: Window, now_ms: u64) -> Snapshot {
        let local = self.local_panels(window, now_ms);
        let mut snapshot = local.snapshot;
        let since_ms = now_ms.saturating_sub(window.millis());

        snapshot.feedback = self.feedback_panel(since_ms).await;
        snapshot.quality = self
            .quality_panel(since_ms, window, local.scores, local.hallucination)
            .await;
        snapshot.drift = self.drift_panel().await;
        snapshot.oversight = self.oversight_panel().await;
        snapshot.alerts = self.alert_states();
        snapshot
    }

    fn local_panels(&self, window: Window, now_ms: u64) -> LocalPanels {
        let state = self.state();
        let view = WindowView::build(&state, window, now_ms);
        let labels = &state.labels;
        let cost = self.cost_panel(&state, &view, now_ms);
        let snapshot = Snapshot {
            generated_at_ms: now_ms,
            window,
            traffic: view.traffic(labels, window),
            latency: view.latency(),
            cost,
            cache: view.cache(),
            fallbacks: view.fallbacks(labels),
            guard_findings: named_counts(&view.guard_findings, &labels.guard_finding),
            quality: absent(QUALITY_HINT),
            drift: absent(DRIFT_HINT),
            oversight: absent(OVERSIGHT_HINT),
            feedback: absent(FEEDBACK_HINT),
            alerts: Vec::new(),
        };
        LocalPanels {
            snapshot,
            scores: view.score_rows(labels),
            hallucination: view.hallucination_rows(labels),
        }
    }

    fn cost_panel(&self, state: &State, view: &WindowView, now_ms: u64) -> CostPanel {
        let labels = &state.labels;
        let total_usd = view.total.cost_usd;
        let alternatives = self.inner.prices.as_ref().map_or_else(Vec::new, |prices| {
            alternatives(
                prices,
                view.total.input_tokens,
                view.total.output_tokens,
                total_usd,
                self.inner.alternatives,
            )
        });
        CostPanel {
            total_usd,
            by_model: breakdown(&view.by_model, |id| labels.model.name(id).to_owned()),
            by_team: breakdown(&view.by_team, |id| labels.team.name(id).to_owned()),
            by_prompt_version: breakdown(&view.by_prompt_version, |id| {
                prompt_version_label(labels, id).unwrap_or_default()
            }),
            budgets: state
                .budgets
                .iter()
                .map(|budget| budget.status(now_ms))
                .collect(),
            projected_month_end_usd: projected_month_end(state, now_ms),
            alternatives,
        }
    }

    async fn feedback_panel(&self, since_ms: u64) -> Panel<FeedbackSummary> {
        let Some(store) = &self.inner.feedback else {
            return absent(FEEDBACK_HINT);
        };
        match store.summary(since_ms).await {
            Ok(data) => Panel::Ok { data },
            Err(error) => source_error("feedback", &error),
        }
    }

    async fn quality_panel(
        &self,
        since_ms: u64,
        window: Window,
        mut scores: Vec<ScoreRow>,
        hallucination: Vec<crate::snapshot::HallucinationRow>,
    ) -> Panel<QualitySummary> {
        if let Some(source) = &self.inner.quality {
            match source.scores(window.millis()).await {
                Ok(rows) => scores.extend(rows),
                Err(error) => return source_error("quality", &error),
            }
        }
        let feedback = self.feedback_by_version(since_ms).await;
        let nothing = scores.is_empty() && hallucination.is_empty() && feedback.is_empty();
        if self.inner.quality.is_none() && nothing {
            return absent(QUALITY_HINT);
        }
        for row in &mut scores {
            row.feedback_mean = feedback
                .iter()
                .find(|rating| rating.prompt == row.prompt && rating.version == row.version)
                .map(|rating| rating.mean_rating);
        }
        Panel::Ok {
            data: QualitySummary {
                scores,
                hallucination,
                feedback,
            },
        }
    }

    /// User ratings per prompt version, for the score table; empty without
    /// a feedback store or when the store fails (logged), so the scores
    /// still show.
    async fn feedback_by_version(&self, since_ms: u64) -> Vec<VersionFeedback> {
        let Some(store) = &self.inner.feedback else {
            return Vec::new();
        };
        match store.ratings_by_version(since_ms).await {
            Ok(ratings) => ratings
                .into_iter()
                .map(|rating| VersionFeedback {
                    positive_ratio: rating.positive as f64 / rating.count.max(1) as f64,
                    prompt: rating.prompt,
                    version: rating.version,
                    count: rating.count,
                    mean_rating: rating.mean,
                    latest_comments: rating.comments,
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "feedback ratings per prompt version unavailable");
                Vec::new()
            }
        }
    }

    /// The latest drift report from the source, or the one set with
    /// [`Monitor::set_drift`].
    pub(crate) async fn drift_panel(&self) -> Panel<DriftSummary> {
        let Some(source) = &self.inner.drift else {
            return match lock(&self.inner.sources).drift.clone() {
                Some(data) => Panel::Ok { data },
                None => absent(DRIFT_HINT),
            };
        };
        match source.latest().await {
            Ok(Some(data)) => {
                lock(&self.inner.sources).drift = Some(data.clone());
                Panel::Ok { data }
            }
            Ok(None) => absent(DRIFT_HINT),
            Err(error) => source_error("drift", &error),
        }
    }

    async fn oversight_panel(&self) -> Panel<OversightSummary> {
        let Some(source) = &self.inner.oversight else {
            return match lock(&self.inner.sources).oversight.clone() {
                Some(data) => Panel::Ok { data },
                None => absent(OVERSIGHT_HINT),
            };
        };
        match source.queue().await {
            Ok(data) => {
                lock(&self.inner.sources).oversight = Some(data.clone());
                Panel::Ok { data }
            }
            Err(error) => source_error("oversight", &error),
        }
    }
}

/// Spend since the start of the UTC month plus the last day's rate times
/// the time left. While the monitor has run for less than a day, the rate
/// is the spend since start over the time since start.
fn projected_month_end(state: &State, now_ms: u64) -> f64 {
    let spent = state.month.spent_at(BudgetPeriod::Month, now_ms);
    let (_, month_end) = BudgetPeriod::Month.bounds_ms(now_ms);
    let day = WindowView::build(state, Window::Day, now_ms);
    let observed_ms = now_ms.saturating_sub(state.started_at_ms).clamp(1, DAY_MS);
    let rate_per_ms = day.total.cost_usd / observed_ms as f64;
    spent + rate_per_ms * month_end.saturating_sub(now_ms) as f64
}

fn absent<T>(hint: &str) -> Panel<T> {
    Panel::Absent {
        hint: hint.to_owned(),
    }
}

fn source_error<T>(panel: &'static str, error: &crate::MonitorError) -> Panel<T> {
    tracing::warn!(panel, %error, "dashboard panel source failed");
    Panel::Error {
        message: error.to_string(),
    }
}

#[async_trait]
impl SnapshotSource for Monitor {
    async fn snapshot(&self, window: Window) -> Snapshot {
        let now = self.now_ms();
        self.snapshot_at(window, now).await
    }
}
