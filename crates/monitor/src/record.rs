//! Recording observations into the windows and totals, under the
//! monitor's one lock.

use std::collections::HashMap;

use crate::cost::{BudgetPeriod, BudgetTracker, PeriodSpend};
use crate::labels::{LabelId, Labels, NONE};
use crate::observation::{Outcome, RequestObservation, ScoreObservation};
use crate::snapshot::Window;
use crate::totals::Totals;
use crate::window::{Bucket, Grounding, Mean, Ring, Usage, slot};

/// The maximum number of score keys (prompt version, model, metric) and of
/// groundedness keys (model, prompt version) per bucket and in the totals.
/// Later keys count under `other`, because the product of three capped
/// dimensions could otherwise reach millions of keys.
pub(crate) const MAX_SCORE_KEYS: usize = 2_000;

/// How far past the clock a record's timestamp may lie before it is
/// dropped; a later one would clear buckets still inside the window.
pub(crate) const MAX_CLOCK_SKEW_MS: u64 = 1_000;

/// Everything the monitor keeps.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) labels: Labels,
    pub(crate) rings: [Ring; 3],
    pub(crate) totals: Totals,
    pub(crate) budgets: Vec<BudgetTracker>,
    /// Global spend in the current calendar month.
    pub(crate) month: PeriodSpend,
    /// Unix milliseconds when the monitor was built.
    pub(crate) started_at_ms: u64,
    /// Scores below this count as ungrounded.
    pub(crate) groundedness_threshold: f64,
    /// The id of the groundedness metric.
    pub(crate) groundedness_metric: LabelId,
}

/// The label ids of one request.
#[derive(Debug, Clone, Copy)]
struct RequestIds {
    model: LabelId,
    team: LabelId,
    key: LabelId,
    route: LabelId,
    prompt_version: LabelId,
    error_class: LabelId,
}

impl State {
    pub(crate) fn new(
        max_label_values: usize,
        started_at_ms: u64,
        groundedness_metric: &str,
        groundedness_threshold: f64,
    ) -> Self {
        let mut labels = Labels::new(max_label_values);
        let groundedness_metric = labels.metric.reserve(groundedness_metric);
        State {
            labels,
            rings: Window::ALL.map(Ring::new),
            totals: Totals::default(),
            budgets: Vec::new(),
            month: PeriodSpend::default(),
            started_at_ms,
            groundedness_threshold,
            groundedness_metric,
        }
    }

    pub(crate) fn ring(&self, window: Window) -> &Ring {
        match window {
            Window::Minute => &self.rings[0],
            Window::Hour => &self.rings[1],
            Window::Day => &self.rings[2],
        }
    }

    /// Records one request that ended at `at_ms`, at `now_ms` of the
    /// clock.
    pub(crate) fn record_request(
        &mut self,
        observation: &RequestObservation<'_>,
        at_ms: u64,
        now_ms: u64,
    ) {
        let labels = &mut self.labels;
        let operation = if observation.operation.is_empty() {
            "chat"
        } else {
            observation.operation
        };
        let (error_class, service_error) = match observation.outcome {
            Outcome::Error(class) => (
                labels.error_class.intern(class),
                crate::observation::is_service_error(class),
            ),
            _ => (NONE, false),
        };
        let ids = RequestIds {
            model: labels.model.intern(observation.model),
            team: labels.team.intern_option(observation.team),
            key: labels.key.intern_option(observation.key),
            route: labels.route.intern_option(observation.route),
            prompt_version: labels.intern_prompt(observation.prompt),
            error_class,
        };
        let operation = labels.operation.intern(operation);
        let provider = labels.provider.intern(observation.provider);
        let failed: [LabelId; 8] =
            intern_list(&mut labels.error_class, observation.failed_attempts);
        let findings: [LabelId; 8] =
            intern_list(&mut labels.guard_finding, observation.guard_findings);
        let usage = Usage {
            requests: 1,
            errors: u64::from(service_error),
            rejected: u64::from(error_class != NONE && !service_error),
            input_tokens: observation.input_tokens,
            output_tokens: observation.output_tokens,
            cost_usd: observation.cost_usd,
        };

        let mut recorded = false;
        for ring in &mut self.rings {
            if let Some(bucket) = ring.bucket_mut(at_ms, now_ms) {
                add_to_bucket(bucket, observation, &ids, &usage, &failed, &findings);
                recorded = true;
            }
        }
        if !recorded {
            self.totals.dropped_records += 1;
            return;
        }

        self.add_to_totals(
            observation,
            &ids,
            (operation, provider),
            &usage,
            &failed,
            &findings,
        );
        self.add_spend(&ids, at_ms, observation.cost_usd);
    }

    fn add_to_totals(
        &mut self,
        observation: &RequestObservation<'_>,
        ids: &RequestIds,
        (operation, provider): (LabelId, LabelId),
        usage: &Usage,
        failed: &[LabelId; 8],
        findings: &[LabelId; 8],
    ) {
        let totals = &mut self.totals;
        let series = totals.series_mut((operation, provider, ids.model));
        series.usage.add(usage);
        series.cancelled += u64::from(observation.outcome == Outcome::Cancelled);
        series.cache_hits += u64::from(observation.cache_hit);
        series.cache_lookups += u64::from(observation.cache_lookup || observation.cache_hit);
        series.fallbacks += u64::from(observation.fallback);
        series
            .duration_mut(ids.error_class)
            .observe(observation.duration_ms / 1_000.0);
        if let Some(first) = observation.time_to_first_token_ms {
            series.first_chunk.observe(first / 1_000.0);
        }
        if observation.input_tokens > 0 || observation.output_tokens > 0 {
            series.input_tokens.observe(observation.input_tokens as f64);
            series
                .output_tokens
                .observe(observation.output_tokens as f64);
        }
        Totals::add_usage(&mut totals.by_team, ids.team, usage);
        Totals::add_usage(&mut totals.by_key, ids.key, usage);
        Totals::add_usage(&mut totals.by_route, ids.route, usage);
        Totals::add_usage(&mut totals.by_prompt_version, ids.prompt_version, usage);
        count_list(
            &mut totals.failed_attempts,
            failed,
            observation.failed_attempts.len(),
        );
        count_list(
            &mut totals.guard_findings,
            findings,
            observation.guard_findings.len(),
        );
    }

    fn add_spend(&mut self, ids: &RequestIds, at_ms: u64, cost_usd: f64) {
        self.month.add(BudgetPeriod::Month, at_ms, cost_usd);
        for budget in &mut self.budgets {
            if budget.matches(ids.team, ids.key, ids.model, ids.route) {
                let period = budget.budget.period;
                budget.spend.add(period, at_ms, cost_usd);
            }
        }
    }

    /// Records guardrail findings outside a request observation.
    pub(crate) fn record_guard_finding(&mut self, name: &str, count: u64, at_ms: u64) {
        let id = self.labels.guard_finding.intern(name);
        for ring in &mut self.rings {
            if let Some(bucket) = ring.bucket_mut(at_ms, at_ms) {
                *slot(&mut bucket.guard_findings, id) += count;
            }
        }
        *slot(&mut self.totals.guard_findings, id) += count;
    }

    /// Records one score given at `at_ms`, at `now_ms` of the clock.
    pub(crate) fn record_score(&mut self, score: &ScoreObservation<'_>, at_ms: u64, now_ms: u64) {
        let model = self.labels.model.intern(score.model);
        let prompt_version = self.labels.intern_prompt(score.prompt);
        let metric = self.labels.metric.intern(score.metric);
        let mean = Mean {
            sum: score.value,
            count: 1,
        };
        let grounding = (metric == self.groundedness_metric).then(|| Grounding {
            scored: 1,
            ungrounded: u64::from(score.value < self.groundedness_threshold),
        });
        for ring in &mut self.rings {
            if let Some(bucket) = ring.bucket_mut(at_ms, now_ms) {
                add_score(bucket, (prompt_version, model, metric), mean, grounding);
            }
        }
        let totals = &mut self.totals;
        add_capped(
            &mut totals.scores,
            (prompt_version, model, metric),
            (0, 0, 0),
        )
        .add(&mean);
        if let Some(grounding) = grounding {
            let entry = add_capped(&mut totals.grounding, (model, prompt_version), (0, 0));
            entry.scored += grounding.scored;
            entry.ungrounded += grounding.ungrounded;
        }
    }

    /// Heap bytes of every structure, estimated from capacities.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.labels.heap_bytes()
            + self.rings.iter().map(Ring::heap_bytes).sum::<usize>()
            + self.totals.heap_bytes()
            + self.budgets.capacity() * std::mem::size_of::<BudgetTracker>()
    }
}

/// Interns up to eight values into a fixed array, so the hot path does not
/// allocate; values past the eighth count under `other`.
fn intern_list(interner: &mut crate::labels::Interner, values: &[&str]) -> [LabelId; 8] {
    let mut ids = [0; 8];
    for (id, value) in ids.iter_mut().zip(values) {
        *id = interner.intern(value);
    }
    ids
}

/// Counts each of the first `len` ids of `ids` once; values past the
/// eighth count under `other` (id 0).
fn count_list(counts: &mut Vec<u64>, ids: &[LabelId; 8], len: usize) {
    for id in ids.iter().take(len) {
        *slot(counts, *id) += 1;
    }
    if len > ids.len() {
        *slot(counts, 0) += (len - ids.len()) as u64;
    }
}

fn add_to_bucket(
    bucket: &mut Bucket,
    observation: &RequestObservation<'_>,
    ids: &RequestIds,
    usage: &Usage,
    failed: &[LabelId; 8],
    findings: &[LabelId; 8],
) {
    bucket.total.add(usage);
    bucket.cancelled += u64::from(observation.outcome == Outcome::Cancelled);
    bucket.cache_hits += u64::from(observation.cache_hit);
    bucket.cache_lookups += u64::from(observation.cache_lookup || observation.cache_hit);
    bucket.fallbacks += u64::from(observation.fallback);
    bucket.latency.add(observation.duration_ms);
    if let Some(first) = observation.time_to_first_token_ms {
        bucket.first_token.add(first);
    }
    Totals::add_usage(&mut bucket.by_model, ids.model, usage);
    Totals::add_usage(&mut bucket.by_team, ids.team, usage);
    Totals::add_usage(&mut bucket.by_key, ids.key, usage);
    Totals::add_usage(&mut bucket.by_route, ids.route, usage);
    Totals::add_usage(&mut bucket.by_prompt_version, ids.prompt_version, usage);
    if ids.error_class != NONE {
        *slot(&mut bucket.errors_by_class, ids.error_class) += 1;
    }
    count_list(
        &mut bucket.failed_attempts,
        failed,
        observation.failed_attempts.len(),
    );
    count_list(
        &mut bucket.guard_findings,
        findings,
        observation.guard_findings.len(),
    );
}

/// The entry of `key`, or of `other` once the map has
/// [`MAX_SCORE_KEYS`] keys.
fn add_capped<K, V>(map: &mut HashMap<K, V>, key: K, other: K) -> &mut V
where
    K: std::hash::Hash + Eq,
    V: Default,
{
    let key = if map.len() >= MAX_SCORE_KEYS && !map.contains_key(&key) {
        other
    } else {
        key
    };
    map.entry(key).or_default()
}

fn add_score(
    bucket: &mut Bucket,
    key: (LabelId, LabelId, LabelId),
    mean: Mean,
    grounding: Option<Grounding>,
) {
    add_capped(&mut bucket.scores, key, (0, 0, 0)).add(&mean);
    if let Some(grounding) = grounding {
        let entry = add_capped(&mut bucket.grounding, (key.1, key.0), (0, 0));
        entry.scored += grounding.scored;
        entry.ungrounded += grounding.ungrounded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_keys_past_cap_fold_into_other() {
        let mut map: HashMap<(LabelId, LabelId), u64> = HashMap::new();
        for id in 1..=(MAX_SCORE_KEYS as LabelId + 10) {
            *add_capped(&mut map, (id, id), (0, 0)) += 1;
        }
        assert_eq!(map.len(), MAX_SCORE_KEYS + 1);
        assert_eq!(map[&(0, 0)], 10);
        // A key already present keeps its own entry.
        *add_capped(&mut map, (1, 1), (0, 0)) += 1;
        assert_eq!(map[&(1, 1)], 2);
    }

    #[test]
    fn state_drops_records_older_than_day() {
        let mut state = State::new(10, 0, "groundedness", 0.5);
        let now = 10 * 86_400_000;
        let observation = RequestObservation {
            model: "m",
            ..RequestObservation::default()
        };
        state.record_request(&observation, now - 2 * 86_400_000, now);
        state.record_request(&observation, now - 1_000, now);
        assert_eq!(state.totals.dropped_records, 1);
        let recorded: u64 = state
            .totals
            .series
            .values()
            .map(|series| series.usage.requests)
            .sum();
        assert_eq!(recorded, 1);
    }
}
