//! One window's buckets merged into the panels of a snapshot.

use std::collections::HashMap;

use crate::labels::{Interner, LabelId, Labels, NONE};
use crate::record::State;
use crate::sketch::Sketch;
use crate::snapshot::{
    Breakdown, CachePanel, FallbackPanel, HallucinationRow, LatencyPanel, NamedCount, Point,
    ScoreRow, TrafficPanel, Window,
};
use crate::window::{Grounding, Mean, Usage};

/// A window's buckets merged.
#[derive(Debug, Default)]
pub(crate) struct WindowView {
    pub(crate) total: Usage,
    pub(crate) cache_hits: u64,
    pub(crate) cache_lookups: u64,
    pub(crate) fallbacks: u64,
    pub(crate) latency: Sketch,
    pub(crate) first_token: Sketch,
    pub(crate) by_model: Vec<Usage>,
    pub(crate) by_team: Vec<Usage>,
    pub(crate) by_key: Vec<Usage>,
    pub(crate) by_route: Vec<Usage>,
    pub(crate) by_prompt_version: Vec<Usage>,
    pub(crate) errors_by_class: Vec<u64>,
    pub(crate) failed_attempts: Vec<u64>,
    pub(crate) guard_findings: Vec<u64>,
    pub(crate) scores: HashMap<(LabelId, LabelId, LabelId), Mean>,
    pub(crate) grounding: HashMap<(LabelId, LabelId), Grounding>,
    pub(crate) series: Vec<Point>,
}

fn merge_usage(into: &mut Vec<Usage>, from: &[Usage]) {
    if into.len() < from.len() {
        into.resize(from.len(), Usage::default());
    }
    for (target, source) in into.iter_mut().zip(from) {
        target.add(source);
    }
}

fn merge_counts(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (target, source) in into.iter_mut().zip(from) {
        *target += source;
    }
}

impl WindowView {
    /// Merges the buckets of `window` that are live at `now_ms`.
    pub(crate) fn build(state: &State, window: Window, now_ms: u64) -> Self {
        let mut view = WindowView::default();
        for (start_ms, bucket) in state.ring(window).live(now_ms) {
            let Some(bucket) = bucket else {
                view.series.push(empty_point(start_ms));
                continue;
            };
            view.series.push(Point {
                t_ms: start_ms,
                requests: bucket.total.requests,
                errors: bucket.total.errors,
                p50_ms: bucket.latency.quantile(0.5),
                p95_ms: bucket.latency.quantile(0.95),
                p99_ms: bucket.latency.quantile(0.99),
                input_tokens: bucket.total.input_tokens,
                output_tokens: bucket.total.output_tokens,
                cost_usd: bucket.total.cost_usd,
            });
            view.total.add(&bucket.total);
            view.cache_hits += bucket.cache_hits;
            view.cache_lookups += bucket.cache_lookups;
            view.fallbacks += bucket.fallbacks;
            view.latency.merge(&bucket.latency);
            view.first_token.merge(&bucket.first_token);
            merge_usage(&mut view.by_model, &bucket.by_model);
            merge_usage(&mut view.by_team, &bucket.by_team);
            merge_usage(&mut view.by_key, &bucket.by_key);
            merge_usage(&mut view.by_route, &bucket.by_route);
            merge_usage(&mut view.by_prompt_version, &bucket.by_prompt_version);
            merge_counts(&mut view.errors_by_class, &bucket.errors_by_class);
            merge_counts(&mut view.failed_attempts, &bucket.failed_attempts);
            merge_counts(&mut view.guard_findings, &bucket.guard_findings);
            for (key, mean) in &bucket.scores {
                view.scores.entry(*key).or_default().add(mean);
            }
            for (key, grounding) in &bucket.grounding {
                let entry = view.grounding.entry(*key).or_default();
                entry.scored += grounding.scored;
                entry.ungrounded += grounding.ungrounded;
            }
        }
        view
    }

    pub(crate) fn error_ratio(&self) -> Option<f64> {
        (self.total.requests > 0).then(|| self.total.errors as f64 / self.total.requests as f64)
    }

    pub(crate) fn traffic(&self, labels: &Labels, window: Window) -> TrafficPanel {
        TrafficPanel {
            requests: self.total.requests,
            errors: self.total.errors,
            rejected: self.total.rejected,
            error_ratio: self.error_ratio(),
            requests_per_second: self.total.requests as f64 * 1_000.0 / window.millis() as f64,
            input_tokens: self.total.input_tokens,
            output_tokens: self.total.output_tokens,
            errors_by_class: named_counts(&self.errors_by_class, &labels.error_class),
            series: self.series.clone(),
        }
    }

    pub(crate) fn latency(&self) -> LatencyPanel {
        LatencyPanel {
            p50_ms: self.latency.quantile(0.5),
            p90_ms: self.latency.quantile(0.9),
            p95_ms: self.latency.quantile(0.95),
            p99_ms: self.latency.quantile(0.99),
            ttft_p50_ms: self.first_token.quantile(0.5),
            ttft_p99_ms: self.first_token.quantile(0.99),
        }
    }

    pub(crate) fn cache(&self) -> CachePanel {
        CachePanel {
            hits: self.cache_hits,
            lookups: self.cache_lookups,
            hit_ratio: (self.cache_lookups > 0)
                .then(|| self.cache_hits as f64 / self.cache_lookups as f64),
        }
    }

    pub(crate) fn fallbacks(&self, labels: &Labels) -> FallbackPanel {
        FallbackPanel {
            requests_with_fallback: self.fallbacks,
            by_reason: named_counts(&self.failed_attempts, &labels.error_class),
        }
    }

    /// Mean scores of prompt versions, per metric; scores of requests
    /// without a registry prompt have no row.
    pub(crate) fn score_rows(&self, labels: &Labels) -> Vec<ScoreRow> {
        let mut by_version: HashMap<(LabelId, LabelId), Mean> = HashMap::new();
        for ((prompt_version, _model, metric), mean) in &self.scores {
            if *prompt_version != NONE {
                by_version
                    .entry((*prompt_version, *metric))
                    .or_default()
                    .add(mean);
            }
        }
        let mut rows: Vec<ScoreRow> = by_version
            .into_iter()
            .filter_map(|((prompt_version, metric), mean)| {
                let (prompt, version) = labels
                    .prompt_version_name(prompt_version)
                    .unwrap_or_else(|| (crate::labels::OTHER.to_owned(), 0));
                Some(ScoreRow {
                    prompt,
                    version,
                    metric: labels.metric.name(metric).to_owned(),
                    mean: mean.mean()?,
                    count: mean.count,
                    feedback_mean: None,
                })
            })
            .collect();
        rows.sort_by(|left, right| {
            (&left.prompt, left.version, &left.metric).cmp(&(
                &right.prompt,
                right.version,
                &right.metric,
            ))
        });
        rows
    }

    /// The mean of `metric` over every scored response in the window.
    pub(crate) fn metric_mean(&self, metric: LabelId) -> Option<f64> {
        let mut total = Mean::default();
        for ((_, _, scored_metric), mean) in &self.scores {
            if *scored_metric == metric {
                total.add(mean);
            }
        }
        total.mean()
    }

    pub(crate) fn hallucination_rows(&self, labels: &Labels) -> Vec<HallucinationRow> {
        let mut rows: Vec<HallucinationRow> = self
            .grounding
            .iter()
            .filter(|(_, grounding)| grounding.scored > 0)
            .map(|((model, prompt_version), grounding)| HallucinationRow {
                model: labels.model.name(*model).to_owned(),
                prompt_version: prompt_version_label(labels, *prompt_version),
                scored: grounding.scored,
                rate: grounding.ungrounded as f64 / grounding.scored as f64,
            })
            .collect();
        rows.sort_by(|left, right| {
            (&left.model, &left.prompt_version).cmp(&(&right.model, &right.prompt_version))
        });
        rows
    }

    /// The share of ungrounded responses over the whole window.
    pub(crate) fn hallucination_rate(&self) -> Option<f64> {
        let (scored, ungrounded) =
            self.grounding
                .values()
                .fold((0, 0), |(scored, ungrounded), grounding| {
                    (scored + grounding.scored, ungrounded + grounding.ungrounded)
                });
        (scored > 0).then(|| ungrounded as f64 / scored as f64)
    }
}

fn empty_point(t_ms: u64) -> Point {
    Point {
        t_ms,
        requests: 0,
        errors: 0,
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        input_tokens: 0,
        output_tokens: 0,
        cost_usd: 0.0,
    }
}

/// `prompt@version`, `other` for prompt versions past the cap, none for
/// requests without a prompt.
pub(crate) fn prompt_version_label(labels: &Labels, id: LabelId) -> Option<String> {
    if id == NONE {
        return None;
    }
    Some(match labels.prompt_version_name(id) {
        Some((prompt, version)) => format!("{prompt}@{version}"),
        None => crate::labels::OTHER.to_owned(),
    })
}

/// Non-zero counts with their names, highest first.
pub(crate) fn named_counts(counts: &[u64], interner: &Interner) -> Vec<NamedCount> {
    let mut rows: Vec<NamedCount> = counts
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(id, count)| NamedCount {
            name: interner.name(id as LabelId).to_owned(),
            count: *count,
        })
        .collect();
    rows.sort_by(|left, right| {
        right
            .count
            .cmp(&left.count)
            .then(left.name.cmp(&right.name))
    });
    rows
}

/// Non-empty breakdown rows, highest spend first, then most requests.
pub(crate) fn breakdown(values: &[Usage], name: impl Fn(LabelId) -> String) -> Vec<Breakdown> {
    let mut rows: Vec<Breakdown> = values
        .iter()
        .enumerate()
        .filter(|(_, usage)| usage.requests > 0)
        .map(|(id, usage)| Breakdown {
            key: name(id as LabelId),
            requests: usage.requests,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cost_usd: usage.cost_usd,
        })
        .collect();
    rows.sort_by(|left, right| {
        right
            .cost_usd
            .total_cmp(&left.cost_usd)
            .then(right.requests.cmp(&left.requests))
            .then_with(|| left.key.cmp(&right.key))
    });
    rows
}
