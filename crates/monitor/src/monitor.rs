//! [`Monitor`]: records requests and scores, and keeps every aggregate.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use llmops_core::pricing::PriceTable;

use crate::aggregate::{WindowView, breakdown, prompt_version_label};
use crate::alert::{AlertRule, Notifier, RuleState};
use crate::budgets::validate_budget;
use crate::clock::{Clock, SystemClock};
use crate::cost::{Budget, BudgetPeriod, BudgetScope, BudgetTracker};
use crate::error::MonitorError;
use crate::feedback_store::FeedbackStore;
use crate::labels::DEFAULT_MAX_LABEL_VALUES;
use crate::observation::{PromptRef, RequestObservation, ScoreObservation};
use crate::record::{MAX_CLOCK_SKEW_MS, State};
use crate::snapshot::{AlertState, Breakdown, DriftSummary, OversightSummary, Window};
use crate::source::{DriftSource, OversightSource, QualitySource};

/// The default groundedness below which a response counts as a
/// hallucination.
pub const DEFAULT_GROUNDEDNESS_THRESHOLD: f64 = 0.5;

/// The default name of the groundedness metric.
pub const DEFAULT_GROUNDEDNESS_METRIC: &str = "groundedness";

/// The default number of cheaper or dearer models a snapshot lists.
const DEFAULT_ALTERNATIVES: usize = 5;

/// A label dimension of spend breakdowns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dimension {
    /// `gen_ai.request.model`.
    Model,
    /// The team of the virtual key.
    Team,
    /// The virtual key id.
    Key,
    /// The route or task tag.
    Route,
    /// `prompt@version`.
    PromptVersion,
}

/// Values read from the panel sources, kept for the Prometheus output.
#[derive(Debug, Default)]
pub(crate) struct SourceValues {
    pub(crate) drift: Option<DriftSummary>,
    pub(crate) oversight: Option<OversightSummary>,
}

pub(crate) struct Inner {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) prices: Option<PriceTable>,
    pub(crate) alternatives: usize,
    pub(crate) quality: Option<Arc<dyn QualitySource>>,
    pub(crate) drift: Option<Arc<dyn DriftSource>>,
    pub(crate) oversight: Option<Arc<dyn OversightSource>>,
    pub(crate) feedback: Option<FeedbackStore>,
    pub(crate) rules: Mutex<Vec<RuleState>>,
    pub(crate) notifiers: Vec<Arc<dyn Notifier>>,
    pub(crate) sources: Mutex<SourceValues>,
}

/// Records finished requests and scores, and serves their sliding-window
/// aggregates, alerts, snapshots and Prometheus metrics.
///
/// Cloning is cheap: clones share the same state. Recording takes one
/// short lock and allocates only for a label value seen for the first
/// time.
#[derive(Clone)]
pub struct Monitor {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("clock", &self.inner.clock)
            .field("notifiers", &self.inner.notifiers.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor::new()
    }
}

impl Monitor {
    /// Creates a monitor on the system clock with default settings and no
    /// budgets, rules or sources.
    pub fn new() -> Self {
        MonitorBuilder::new().build_unchecked()
    }

    /// Starts a [`MonitorBuilder`].
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::new()
    }

    /// The current time of the monitor's clock, in Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// Records one finished request. A request older than the day window
    /// or more than a second ahead of the clock is dropped and counted in
    /// `llmops_monitor_dropped_records_total`.
    pub fn record_request(&self, observation: &RequestObservation<'_>) {
        let now = self.inner.clock.now_ms();
        let at = observation.timestamp_ms.unwrap_or(now);
        let mut state = self.state();
        if at > now.saturating_add(MAX_CLOCK_SKEW_MS) {
            state.totals.dropped_records += 1;
            return;
        }
        state.record_request(observation, at, now);
    }

    /// Records one score of one response, such as the groundedness an
    /// evaluator gave it. Scores of the groundedness metric below the
    /// threshold count as hallucinations of the model and prompt version.
    pub fn record_score(
        &self,
        model: &str,
        prompt: Option<PromptRef<'_>>,
        metric: &str,
        value: f64,
    ) {
        self.record_score_observation(&ScoreObservation {
            model,
            prompt,
            metric,
            value,
            timestamp_ms: None,
        });
    }

    /// Like [`Monitor::record_score`], with a timestamp. Non-finite values
    /// are dropped.
    pub fn record_score_observation(&self, score: &ScoreObservation<'_>) {
        let now = self.inner.clock.now_ms();
        let at = score.timestamp_ms.unwrap_or(now);
        let mut state = self.state();
        if !score.value.is_finite() || at > now.saturating_add(MAX_CLOCK_SKEW_MS) {
            state.totals.dropped_records += 1;
            return;
        }
        state.record_score(score, at, now);
    }

    /// Records `count` guardrail findings of type `name`, such as `email`
    /// or `prompt_injection`, outside a request observation.
    pub fn record_guard_finding(&self, name: &str, count: u64) {
        let now = self.inner.clock.now_ms();
        self.state().record_guard_finding(name, count, now);
    }

    /// Sets the drift report the Prometheus output and the drift alerts
    /// use when no [`DriftSource`] is configured.
    pub fn set_drift(&self, drift: DriftSummary) {
        lock(&self.inner.sources).drift = Some(drift);
    }

    /// Sets the review queue state the Prometheus output uses when no
    /// [`OversightSource`] is configured.
    pub fn set_review_queue(&self, queue: OversightSummary) {
        lock(&self.inner.sources).oversight = Some(queue);
    }

    /// Spend and tokens by one dimension over `window`, highest spend
    /// first; requests without the label (no team, say) are left out.
    pub fn spend_by(&self, window: Window, dimension: Dimension) -> Vec<Breakdown> {
        let now = self.inner.clock.now_ms();
        let state = self.state();
        let view = WindowView::build(&state, window, now);
        let labels = &state.labels;
        match dimension {
            Dimension::Model => breakdown(&view.by_model, |id| labels.model.name(id).to_owned()),
            Dimension::Team => breakdown(&view.by_team, |id| labels.team.name(id).to_owned()),
            Dimension::Key => breakdown(&view.by_key, |id| labels.key.name(id).to_owned()),
            Dimension::Route => breakdown(&view.by_route, |id| labels.route.name(id).to_owned()),
            Dimension::PromptVersion => breakdown(&view.by_prompt_version, |id| {
                prompt_version_label(labels, id).unwrap_or_default()
            }),
        }
    }

    /// The state of every alert rule after the last evaluation.
    pub fn alert_states(&self) -> Vec<AlertState> {
        lock(&self.inner.rules)
            .iter()
            .map(RuleState::state)
            .collect()
    }

    /// Bytes of heap the aggregates hold, estimated from the capacities
    /// of their vectors, maps and sketches. Grows with distinct label
    /// values up to the caps, then stays flat.
    pub fn heap_bytes(&self) -> usize {
        self.state().heap_bytes()
    }

    /// Label lookups folded into `other` because a dimension reached its
    /// cap.
    pub fn folded_label_values(&self) -> u64 {
        self.state().labels.folded()
    }
}

/// Builds a [`Monitor`].
pub struct MonitorBuilder {
    clock: Arc<dyn Clock>,
    max_label_values: usize,
    budgets: Vec<Budget>,
    prices: Option<PriceTable>,
    alternatives: usize,
    groundedness_threshold: f64,
    groundedness_metric: String,
    quality: Option<Arc<dyn QualitySource>>,
    drift: Option<Arc<dyn DriftSource>>,
    oversight: Option<Arc<dyn OversightSource>>,
    feedback: Option<FeedbackStore>,
    rules: Vec<AlertRule>,
    notifiers: Vec<Arc<dyn Notifier>>,
}

impl std::fmt::Debug for MonitorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorBuilder")
            .field("max_label_values", &self.max_label_values)
            .field("budgets", &self.budgets)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Default for MonitorBuilder {
    fn default() -> Self {
        MonitorBuilder::new()
    }
}

impl MonitorBuilder {
    /// Starts with the defaults.
    pub fn new() -> Self {
        MonitorBuilder {
            clock: Arc::new(SystemClock),
            max_label_values: DEFAULT_MAX_LABEL_VALUES,
            budgets: Vec::new(),
            prices: None,
            alternatives: DEFAULT_ALTERNATIVES,
            groundedness_threshold: DEFAULT_GROUNDEDNESS_THRESHOLD,
            groundedness_metric: DEFAULT_GROUNDEDNESS_METRIC.to_owned(),
            quality: None,
            drift: None,
            oversight: None,
            feedback: None,
            rules: Vec::new(),
            notifiers: Vec::new(),
        }
    }

    /// Sets the clock; the system clock by default.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the cap on distinct values per label dimension; 200 by
    /// default. Values past it count under `other`.
    pub fn max_label_values(mut self, max: usize) -> Self {
        self.max_label_values = max;
        self
    }

    /// Adds a budget of `limit_usd` US dollars per `period` on `scope`.
    pub fn budget(mut self, scope: BudgetScope, period: BudgetPeriod, limit_usd: f64) -> Self {
        self.budgets.push(Budget {
            scope,
            period,
            limit_usd,
        });
        self
    }

    /// Sets the price table that alternatives are priced with; without
    /// one, snapshots list no alternatives.
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Sets how many alternative models a snapshot lists; 5 by default.
    pub fn alternatives(mut self, top: usize) -> Self {
        self.alternatives = top;
        self
    }

    /// Sets the groundedness below which a response counts as a
    /// hallucination; 0.5 by default.
    pub fn groundedness_threshold(mut self, threshold: f64) -> Self {
        self.groundedness_threshold = threshold;
        self
    }

    /// Sets the name of the groundedness metric; `groundedness` by
    /// default.
    pub fn groundedness_metric(mut self, metric: impl Into<String>) -> Self {
        self.groundedness_metric = metric.into();
        self
    }

    /// Sets where evaluation scores per prompt version come from.
    pub fn quality_source(mut self, source: Arc<dyn QualitySource>) -> Self {
        self.quality = Some(source);
        self
    }

    /// Sets where the latest drift report comes from.
    pub fn drift_source(mut self, source: Arc<dyn DriftSource>) -> Self {
        self.drift = Some(source);
        self
    }

    /// Sets where the review queue's state comes from.
    pub fn oversight_source(mut self, source: Arc<dyn OversightSource>) -> Self {
        self.oversight = Some(source);
        self
    }

    /// Sets the feedback store the feedback panel reads.
    pub fn feedback_store(mut self, store: FeedbackStore) -> Self {
        self.feedback = Some(store);
        self
    }

    /// Adds an alert rule.
    pub fn alert_rule(mut self, rule: AlertRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds a notifier of alert transitions.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifiers.push(notifier);
        self
    }

    /// Builds the monitor.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Invalid`] for a budget limit that is not a positive
    /// number, a groundedness threshold outside 0 to 1, an invalid alert
    /// rule or two rules with the same name.
    pub fn build(self) -> Result<Monitor, MonitorError> {
        for budget in &self.budgets {
            validate_budget(budget)?;
        }
        if !(0.0..=1.0).contains(&self.groundedness_threshold) {
            return Err(MonitorError::Invalid {
                field: "groundedness_threshold",
                value: self.groundedness_threshold.to_string(),
                fix: "use a number from 0 to 1".into(),
            });
        }
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate()?;
            if self.rules[..index]
                .iter()
                .any(|other| other.name == rule.name)
            {
                return Err(MonitorError::Invalid {
                    field: "alert rule name",
                    value: rule.name.clone(),
                    fix: "give each rule a different name".into(),
                });
            }
        }
        Ok(self.build_unchecked())
    }

    fn build_unchecked(self) -> Monitor {
        let now = self.clock.now_ms();
        let mut state = State::new(
            self.max_label_values,
            now,
            &self.groundedness_metric,
            self.groundedness_threshold,
        );
        let budgets: Vec<BudgetTracker> = self
            .budgets
            .into_iter()
            .map(|budget| BudgetTracker::new(budget, &mut state.labels))
            .collect();
        state.budgets = budgets;
        let rules = self
            .rules
            .into_iter()
            .map(|rule| RuleState::new(rule, now))
            .collect();
        Monitor {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                clock: self.clock,
                prices: self.prices,
                alternatives: self.alternatives,
                quality: self.quality,
                drift: self.drift,
                oversight: self.oversight,
                feedback: self.feedback,
                rules: Mutex::new(rules),
                notifiers: self.notifiers,
                sources: Mutex::new(SourceValues::default()),
            }),
        }
    }
}
