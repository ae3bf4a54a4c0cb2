//! The Prometheus text exposition (format 0.0.4) of the monitor's totals.
//!
//! OpenTelemetry GenAI metrics keep their semantic-convention names
//! (v1.41.0) translated the way the OpenTelemetry Prometheus exporter
//! does: dots become underscores and the unit `s` becomes the suffix
//! `_seconds`. llmops' own metrics start with `llmops_`. The gateway's
//! server exposes some of the GenAI histograms too; scrape one of the two
//! for those.

mod exposition;

use crate::alerting::drift_severity;
use crate::labels::{Labels, NONE};
use crate::monitor::{Monitor, lock};
use crate::record::State;
use crate::totals::{Histogram, SeriesKey, SeriesTotals};
use crate::window::Usage;
use exposition::Exposition;

const OPERATION: &str = "gen_ai_operation_name";
const PROVIDER: &str = "gen_ai_provider_name";
const MODEL: &str = "gen_ai_request_model";

/// The series in a stable order: by operation, provider and model name.
fn sorted_series(state: &State) -> Vec<([&str; 3], &SeriesTotals)> {
    let labels = &state.labels;
    let mut series: Vec<([&str; 3], &SeriesTotals)> = state
        .totals
        .series
        .iter()
        .map(|((operation, provider, model), totals): (&SeriesKey, _)| {
            (
                [
                    labels.operation.name(*operation),
                    labels.provider.name(*provider),
                    labels.model.name(*model),
                ],
                totals,
            )
        })
        .collect();
    series.sort_by(|left, right| left.0.cmp(&right.0));
    series
}

fn render_genai(exposition: &mut Exposition, state: &State) {
    let series = sorted_series(state);
    let labels = &state.labels;

    exposition.family(
        "gen_ai_client_operation_duration_seconds",
        "histogram",
        "GenAI operation duration.",
    );
    for ([operation, provider, model], totals) in &series {
        let mut durations: Vec<(&str, &Histogram)> = totals
            .duration
            .iter()
            .map(|(class, histogram)| (labels.error_class.name(*class), histogram))
            .collect();
        durations.sort_by(|left, right| left.0.cmp(right.0));
        for (error_type, histogram) in durations {
            let mut names = vec![
                (OPERATION, *operation),
                (PROVIDER, *provider),
                (MODEL, *model),
            ];
            if !error_type.is_empty() {
                names.push(("error_type", error_type));
            }
            exposition.histogram(
                "gen_ai_client_operation_duration_seconds",
                &names,
                histogram,
            );
        }
    }

    exposition.family(
        "gen_ai_client_token_usage",
        "histogram",
        "Number of input and output tokens used.",
    );
    for ([operation, provider, model], totals) in &series {
        for (kind, histogram) in [
            ("input", &totals.input_tokens),
            ("output", &totals.output_tokens),
        ] {
            if histogram.count == 0 {
                continue;
            }
            let names = [
                (OPERATION, *operation),
                (PROVIDER, *provider),
                (MODEL, *model),
                ("gen_ai_token_type", kind),
            ];
            exposition.histogram("gen_ai_client_token_usage", &names, histogram);
        }
    }

    exposition.family(
        "gen_ai_client_operation_time_to_first_chunk_seconds",
        "histogram",
        "Time to receive the first chunk of a streamed response.",
    );
    for ([operation, provider, model], totals) in &series {
        if totals.first_chunk.count == 0 {
            continue;
        }
        let names = [
            (OPERATION, *operation),
            (PROVIDER, *provider),
            (MODEL, *model),
        ];
        exposition.histogram(
            "gen_ai_client_operation_time_to_first_chunk_seconds",
            &names,
            &totals.first_chunk,
        );
    }
}

/// A counter family read from each series: name, help and value.
type SeriesCounter = (&'static str, &'static str, fn(&SeriesTotals) -> f64);

fn render_requests(exposition: &mut Exposition, state: &State) {
    let series = sorted_series(state);
    exposition.family(
        "llmops_requests_total",
        "counter",
        "Requests by operation, provider, model and outcome (success, error, rejected for the client's own mistakes, cancelled).",
    );
    for ([operation, provider, model], totals) in &series {
        let usage = &totals.usage;
        let success = usage
            .requests
            .saturating_sub(usage.errors)
            .saturating_sub(usage.rejected)
            .saturating_sub(totals.cancelled);
        for (outcome, count) in [
            ("success", success),
            ("error", usage.errors),
            ("rejected", usage.rejected),
            ("cancelled", totals.cancelled),
        ] {
            let names = [
                (OPERATION, *operation),
                (PROVIDER, *provider),
                (MODEL, *model),
                ("llmops_outcome", outcome),
            ];
            exposition.sample("llmops_requests_total", &names, count as f64);
        }
    }

    let per_series: [SeriesCounter; 4] = [
        ("llmops_cost_usd_total", "Spend in US dollars.", |totals| {
            totals.usage.cost_usd
        }),
        (
            "llmops_cache_hits_total",
            "Requests answered from the response cache.",
            |totals| totals.cache_hits as f64,
        ),
        (
            "llmops_cache_lookups_total",
            "Requests that looked in the response cache.",
            |totals| totals.cache_lookups as f64,
        ),
        (
            "llmops_fallbacks_total",
            "Requests served by a deployment other than the first one tried.",
            |totals| totals.fallbacks as f64,
        ),
    ];
    for (name, help, value) in per_series {
        exposition.family(name, "counter", help);
        for ([operation, provider, model], totals) in &series {
            let names = [
                (OPERATION, *operation),
                (PROVIDER, *provider),
                (MODEL, *model),
            ];
            exposition.sample(name, &names, value(totals));
        }
    }
}

fn render_breakdowns(exposition: &mut Exposition, state: &State) {
    let labels = &state.labels;
    let totals = &state.totals;
    let dimensions: [(&str, &str, &[Usage], &crate::labels::Interner); 3] = [
        ("llmops_team", "team", &totals.by_team, &labels.team),
        ("llmops_key", "virtual key", &totals.by_key, &labels.key),
        (
            "llmops_route",
            "route or task",
            &totals.by_route,
            &labels.route,
        ),
    ];
    for (label, what, values, interner) in dimensions {
        let name = format!("{label}_cost_usd_total");
        exposition.family(&name, "counter", &format!("Spend in US dollars by {what}."));
        let mut rows: Vec<(&str, f64)> = values
            .iter()
            .enumerate()
            .filter(|(_, usage)| usage.requests > 0)
            .map(|(id, usage)| (interner.name(id as u16), usage.cost_usd))
            .collect();
        rows.sort_by(|left, right| left.0.cmp(right.0));
        for (value, cost) in rows {
            exposition.sample(&name, &[(label, value)], cost);
        }
    }

    exposition.family(
        "llmops_prompt_cost_usd_total",
        "counter",
        "Spend in US dollars by registry prompt version.",
    );
    let mut prompts: Vec<(String, String, f64)> = totals
        .by_prompt_version
        .iter()
        .enumerate()
        .filter(|(_, usage)| usage.requests > 0)
        .map(|(id, usage)| {
            let (prompt, version) = prompt_labels(labels, id as u16);
            (prompt, version, usage.cost_usd)
        })
        .collect();
    prompts.sort_by(|left, right| (&left.0, &left.1).cmp(&(&right.0, &right.1)));
    for (prompt, version, cost) in prompts {
        let names = [
            ("llmops_prompt", prompt.as_str()),
            ("llmops_prompt_version", version.as_str()),
        ];
        exposition.sample("llmops_prompt_cost_usd_total", &names, cost);
    }

    for (name, help, label, counts, interner) in [
        (
            "llmops_failed_attempts_total",
            "Failed calls to a deployment, by error class.",
            "error_type",
            &totals.failed_attempts,
            &labels.error_class,
        ),
        (
            "llmops_guard_findings_total",
            "Guardrail findings by entity type or check.",
            "llmops_finding",
            &totals.guard_findings,
            &labels.guard_finding,
        ),
    ] {
        exposition.family(name, "counter", help);
        let mut rows: Vec<(&str, u64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(id, count)| (interner.name(id as u16), *count))
            .collect();
        rows.sort_by(|left, right| left.0.cmp(right.0));
        for (value, count) in rows {
            exposition.sample(name, &[(label, value)], count as f64);
        }
    }
}

/// Prompt name and version as label values; empty for requests without a
/// prompt.
fn prompt_labels(labels: &Labels, id: u16) -> (String, String) {
    if id == NONE {
        return (String::new(), String::new());
    }
    match labels.prompt_version_name(id) {
        Some((prompt, version)) => (prompt, version.to_string()),
        None => (crate::labels::OTHER.to_owned(), String::new()),
    }
}

fn render_quality(exposition: &mut Exposition, state: &State) {
    let labels = &state.labels;
    exposition.family(
        "llmops_eval_score",
        "summary",
        "Evaluation scores of responses, by model, prompt version and metric.",
    );
    let mut scores: Vec<_> = state
        .totals
        .scores
        .iter()
        .map(|((prompt_version, model, metric), mean)| {
            let (prompt, version) = prompt_labels(labels, *prompt_version);
            (
                labels.model.name(*model),
                prompt,
                version,
                labels.metric.name(*metric),
                mean,
            )
        })
        .collect();
    scores.sort_by(|left, right| {
        (left.0, &left.1, &left.2, left.3).cmp(&(right.0, &right.1, &right.2, right.3))
    });
    for (model, prompt, version, metric, mean) in &scores {
        let names = [
            (MODEL, *model),
            ("llmops_prompt", prompt.as_str()),
            ("llmops_prompt_version", version.as_str()),
            ("llmops_metric", *metric),
        ];
        exposition.sample("llmops_eval_score_sum", &names, mean.sum);
        exposition.sample("llmops_eval_score_count", &names, mean.count as f64);
    }

    let mut grounding: Vec<_> = state
        .totals
        .grounding
        .iter()
        .map(|((model, prompt_version), grounding)| {
            let (prompt, version) = prompt_labels(labels, *prompt_version);
            (labels.model.name(*model), prompt, version, grounding)
        })
        .collect();
    grounding.sort_by(|left, right| (left.0, &left.1, &left.2).cmp(&(right.0, &right.1, &right.2)));
    for (name, help, ungrounded) in [
        (
            "llmops_groundedness_scored_total",
            "Responses with a groundedness score.",
            false,
        ),
        (
            "llmops_ungrounded_responses_total",
            "Responses scored below the groundedness threshold.",
            true,
        ),
    ] {
        exposition.family(name, "counter", help);
        for (model, prompt, version, counts) in &grounding {
            let names = [
                (MODEL, *model),
                ("llmops_prompt", prompt.as_str()),
                ("llmops_prompt_version", version.as_str()),
            ];
            let value = if ungrounded {
                counts.ungrounded
            } else {
                counts.scored
            };
            exposition.sample(name, &names, value as f64);
        }
    }
}

fn render_budgets(exposition: &mut Exposition, state: &State, now_ms: u64) {
    let statuses: Vec<_> = state
        .budgets
        .iter()
        .map(|budget| budget.status(now_ms))
        .collect();
    for (name, help, value) in [
        (
            "llmops_budget_spent_usd",
            "Spend in the budget's current period, US dollars.",
            0,
        ),
        (
            "llmops_budget_limit_usd",
            "The budget's limit, US dollars.",
            1,
        ),
        (
            "llmops_budget_projected_usd",
            "Spend at the end of the period at the current rate, US dollars.",
            2,
        ),
    ] {
        exposition.family(name, "gauge", help);
        for status in &statuses {
            let names = [
                ("llmops_budget_scope", status.scope.as_str()),
                ("llmops_budget_period", status.period.as_str()),
            ];
            let sample = match value {
                0 => status.spent_usd,
                1 => status.limit_usd,
                _ => status.projected_usd,
            };
            exposition.sample(name, &names, sample);
        }
    }
}

impl Monitor {
    /// Renders the monitor's totals since start in the Prometheus text
    /// exposition format 0.0.4: the GenAI histograms, request, spend,
    /// cache, fallback, guard finding, evaluation score and budget
    /// metrics, and the last drift report and review queue state read
    /// from the sources.
    pub fn render_prometheus(&self) -> String {
        let now = self.now_ms();
        let mut exposition = Exposition { out: String::new() };
        {
            let state = self.state();
            render_genai(&mut exposition, &state);
            render_requests(&mut exposition, &state);
            render_breakdowns(&mut exposition, &state);
            render_quality(&mut exposition, &state);
            render_budgets(&mut exposition, &state, now);
            exposition.family(
                "llmops_monitor_dropped_records_total",
                "counter",
                "Records dropped for a timestamp outside every window.",
            );
            exposition.sample(
                "llmops_monitor_dropped_records_total",
                &[],
                state.totals.dropped_records as f64,
            );
            exposition.family(
                "llmops_monitor_folded_label_values_total",
                "counter",
                "Label values counted under `other` because their dimension reached its cap.",
            );
            exposition.sample(
                "llmops_monitor_folded_label_values_total",
                &[],
                state.labels.folded() as f64,
            );
        }
        self.render_sources(&mut exposition);
        exposition.out
    }

    fn render_sources(&self, exposition: &mut Exposition) {
        let sources = lock(&self.inner.sources);
        if let Some(drift) = &sources.drift {
            exposition.family(
                "llmops_drift_severity",
                "gauge",
                "Severity of the latest drift report: 0 none, 1 warning, 2 alert.",
            );
            if let Some(severity) = drift_severity(drift) {
                exposition.sample(
                    "llmops_drift_severity",
                    &[("llmops_baseline", &drift.baseline)],
                    severity,
                );
            }
            exposition.family(
                "llmops_drift_measure",
                "gauge",
                "Measures of the latest drift report.",
            );
            for measure in &drift.measures {
                let names = [
                    ("llmops_baseline", drift.baseline.as_str()),
                    ("llmops_measure", measure.name.as_str()),
                ];
                exposition.sample("llmops_drift_measure", &names, measure.value);
            }
        }
        if let Some(queue) = &sources.oversight {
            exposition.family(
                "llmops_review_queue_depth",
                "gauge",
                "Items waiting for a human reviewer.",
            );
            exposition.sample("llmops_review_queue_depth", &[], queue.pending as f64);
            if let Some(age) = queue.oldest_pending_age_s {
                exposition.family(
                    "llmops_review_queue_oldest_age_seconds",
                    "gauge",
                    "Age of the oldest waiting review item.",
                );
                exposition.sample("llmops_review_queue_oldest_age_seconds", &[], age as f64);
            }
        }
    }
}
