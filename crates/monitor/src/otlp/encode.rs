//! The monitor's totals as one OTLP `ExportMetricsServiceRequest`.
//!
//! Every metric is cumulative from the moment the monitor was built, like
//! the Prometheus text: histograms keep the monitor's own bucket counts
//! and bounds (the GenAI semantic conventions' advice, v1.41.0), and
//! counters are monotonic sums.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram as OtlpHistogram, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::record::State;
use crate::totals::{Histogram, SeriesTotals};

/// The attribute names of the GenAI semantic conventions (v1.41.0).
const OPERATION: &str = "gen_ai.operation.name";
const PROVIDER: &str = "gen_ai.provider.name";
const MODEL: &str = "gen_ai.request.model";
const TOKEN_TYPE: &str = "gen_ai.token.type";
const ERROR_TYPE: &str = "error.type";

/// The instrumentation scope every metric is reported under.
const SCOPE_NAME: &str = "llmops-monitor";

/// Times of one export, in Unix nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Times {
    start_unix_nano: u64,
    now_unix_nano: u64,
}

/// One (operation, provider, model) series with its attributes.
struct Series<'a> {
    attributes: Vec<KeyValue>,
    totals: &'a SeriesTotals,
}

/// A counter read from each series: name, unit, description and value.
type SeriesCounter = (
    &'static str,
    &'static str,
    &'static str,
    fn(&SeriesTotals) -> f64,
);

/// Builds the request that carries every metric of `state` at `now_ms`,
/// with `service_name` as the resource's `service.name`.
pub(crate) fn export_request(
    state: &State,
    now_ms: u64,
    service_name: &str,
) -> ExportMetricsServiceRequest {
    let times = Times {
        start_unix_nano: state.started_at_ms.saturating_mul(1_000_000),
        now_unix_nano: now_ms.saturating_mul(1_000_000),
    };
    let series = series_of(state);

    let mut metrics = genai_histograms(state, &series, times);
    metrics.extend(request_counters(&series, times));
    metrics.push(sum_metric(
        "llmops.monitor.dropped_records",
        "{record}",
        "Records dropped for a timestamp outside every window.",
        vec![number_point(
            Vec::new(),
            state.totals.dropped_records as f64,
            times,
        )],
    ));

    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![string_attribute("service.name", service_name)],
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: SCOPE_NAME.to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The series in a stable order, by operation, provider and model name.
fn series_of(state: &State) -> Vec<Series<'_>> {
    let labels = &state.labels;
    let mut named: Vec<([&str; 3], &SeriesTotals)> = state
        .totals
        .series
        .iter()
        .map(|((operation, provider, model), totals)| {
            let names = [
                labels.operation.name(*operation),
                labels.provider.name(*provider),
                labels.model.name(*model),
            ];
            (names, totals)
        })
        .collect();
    named.sort_by(|left, right| left.0.cmp(&right.0));
    named
        .into_iter()
        .map(|([operation, provider, model], totals)| Series {
            attributes: vec![
                string_attribute(OPERATION, operation),
                string_attribute(PROVIDER, provider),
                string_attribute(MODEL, model),
            ],
            totals,
        })
        .collect()
}

/// `gen_ai.client.operation.duration`, `gen_ai.client.token.usage` and
/// `gen_ai.client.operation.time_to_first_chunk`.
fn genai_histograms(state: &State, series: &[Series<'_>], times: Times) -> Vec<Metric> {
    let labels = &state.labels;

    let mut durations = Vec::new();
    for one in series {
        let mut by_class: Vec<(&str, &Histogram)> = one
            .totals
            .duration
            .iter()
            .map(|(class, histogram)| (labels.error_class.name(*class), histogram))
            .collect();
        by_class.sort_by(|left, right| left.0.cmp(right.0));
        for (error_type, histogram) in by_class {
            let mut attributes = one.attributes.clone();
            if !error_type.is_empty() {
                attributes.push(string_attribute(ERROR_TYPE, error_type));
            }
            durations.push(histogram_point(attributes, histogram, times));
        }
    }

    let mut tokens = Vec::new();
    for one in series {
        for (kind, histogram) in [
            ("input", &one.totals.input_tokens),
            ("output", &one.totals.output_tokens),
        ] {
            if histogram.count == 0 {
                continue;
            }
            let mut attributes = one.attributes.clone();
            attributes.push(string_attribute(TOKEN_TYPE, kind));
            tokens.push(histogram_point(attributes, histogram, times));
        }
    }

    let first_chunks = series
        .iter()
        .filter(|one| one.totals.first_chunk.count > 0)
        .map(|one| histogram_point(one.attributes.clone(), &one.totals.first_chunk, times))
        .collect();

    vec![
        histogram_metric(
            "gen_ai.client.operation.duration",
            "s",
            "GenAI operation duration.",
            durations,
        ),
        histogram_metric(
            "gen_ai.client.token.usage",
            "{token}",
            "Number of input and output tokens used.",
            tokens,
        ),
        histogram_metric(
            "gen_ai.client.operation.time_to_first_chunk",
            "s",
            "Time to receive the first chunk of a streamed response.",
            first_chunks,
        ),
    ]
}

/// Requests by outcome, spend, cache and fallback counters per series.
/// The names turn into the Prometheus output's names (`llmops_cost_usd_total`
/// and so on) under the OpenTelemetry Prometheus translation, which drops
/// units in braces and adds `_total` to monotonic sums.
fn request_counters(series: &[Series<'_>], times: Times) -> Vec<Metric> {
    let mut requests = Vec::new();
    for one in series {
        let usage = &one.totals.usage;
        let success = usage
            .requests
            .saturating_sub(usage.errors)
            .saturating_sub(usage.rejected)
            .saturating_sub(one.totals.cancelled);
        for (outcome, count) in [
            ("success", success),
            ("error", usage.errors),
            ("rejected", usage.rejected),
            ("cancelled", one.totals.cancelled),
        ] {
            let mut attributes = one.attributes.clone();
            attributes.push(string_attribute("llmops.outcome", outcome));
            requests.push(number_point(attributes, count as f64, times));
        }
    }
    let mut metrics = vec![sum_metric(
        "llmops.requests",
        "{request}",
        "Requests by operation, provider, model and outcome (success, error, cancelled).",
        requests,
    )];

    let per_series: [SeriesCounter; 4] = [
        (
            "llmops.cost_usd",
            "{USD}",
            "Spend in US dollars.",
            |totals| totals.usage.cost_usd,
        ),
        (
            "llmops.cache_hits",
            "{request}",
            "Requests answered from the response cache.",
            |totals| totals.cache_hits as f64,
        ),
        (
            "llmops.cache_lookups",
            "{request}",
            "Requests that looked in the response cache.",
            |totals| totals.cache_lookups as f64,
        ),
        (
            "llmops.fallbacks",
            "{request}",
            "Requests served by a deployment other than the first one tried.",
            |totals| totals.fallbacks as f64,
        ),
    ];
    for (name, unit, description, value) in per_series {
        let points = series
            .iter()
            .map(|one| number_point(one.attributes.clone(), value(one.totals), times))
            .collect();
        metrics.push(sum_metric(name, unit, description, points));
    }
    metrics
}

fn string_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
    }
}

fn histogram_point(
    attributes: Vec<KeyValue>,
    histogram: &Histogram,
    times: Times,
) -> HistogramDataPoint {
    HistogramDataPoint {
        attributes,
        start_time_unix_nano: times.start_unix_nano,
        time_unix_nano: times.now_unix_nano,
        count: histogram.count,
        sum: Some(histogram.sum),
        // OTLP bucket counts are per bucket, not cumulative, with one more
        // count than bounds: the same layout as `Histogram::counts`.
        bucket_counts: histogram.counts.clone(),
        explicit_bounds: histogram.bounds.to_vec(),
        ..HistogramDataPoint::default()
    }
}

fn number_point(attributes: Vec<KeyValue>, value: f64, times: Times) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: times.start_unix_nano,
        time_unix_nano: times.now_unix_nano,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..NumberDataPoint::default()
    }
}

fn histogram_metric(
    name: &str,
    unit: &str,
    description: &str,
    data_points: Vec<HistogramDataPoint>,
) -> Metric {
    Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: Some(metric::Data::Histogram(OtlpHistogram {
            data_points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Metric::default()
    }
}

fn sum_metric(
    name: &str,
    unit: &str,
    description: &str,
    data_points: Vec<NumberDataPoint>,
) -> Metric {
    Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: Some(metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Metric::default()
    }
}
