//! Prometheus metrics of the server, named after the OpenTelemetry GenAI
//! semantic conventions (`gen-ai-metrics.md`, v1.41.0) translated to
//! Prometheus: dots become underscores and the unit `s` becomes `_seconds`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Bucket boundaries in seconds of `gen_ai.client.operation.duration`, as
/// the conventions advise.
const DURATION_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/// Bucket boundaries in seconds of `gen_ai.server.time_to_first_token`, as
/// the conventions advise.
const FIRST_TOKEN_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Bucket boundaries in tokens of `gen_ai.client.token.usage`, as the
/// conventions advise.
const TOKEN_BUCKETS: &[f64] = &[
    1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
    16777216.0, 67108864.0,
];

/// The label value of requests for a model the server does not serve, so
/// arbitrary client input cannot grow the number of series.
pub(crate) const UNKNOWN_MODEL: &str = "unknown";

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        for (bound, count) in self.bounds.iter().zip(self.counts.iter_mut()) {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let separator = if labels.is_empty() { "" } else { "," };
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// The contribution of one finished request to the metrics.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observation<'a> {
    /// `chat` or `embeddings`.
    pub(crate) operation: &'a str,
    /// The model label: a served model name or [`UNKNOWN_MODEL`].
    pub(crate) model: &'a str,
    /// The HTTP status sent, or for a stream that failed after its head,
    /// the status its error maps to.
    pub(crate) status: u16,
    /// The error class, such as `rate_limited`, when the request failed.
    pub(crate) error_type: Option<&'a str>,
    /// Time from the request to its last byte.
    pub(crate) duration: Duration,
    /// Time from the request to its first streamed content.
    pub(crate) time_to_first_token: Option<Duration>,
    /// Prompt tokens, when the upstream reported usage.
    pub(crate) input_tokens: Option<u64>,
    /// Generated tokens, when the upstream reported usage.
    pub(crate) output_tokens: Option<u64>,
}

#[derive(Debug, Default)]
struct Series {
    requests: BTreeMap<(String, String, u16), u64>,
    duration: BTreeMap<(String, String, String), Histogram>,
    first_token: BTreeMap<(String, String), Histogram>,
    tokens: BTreeMap<(String, String, &'static str), Histogram>,
}

/// Counters and histograms of every request the server responded to.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    series: Mutex<Series>,
}

impl Metrics {
    /// Adds one finished request.
    pub(crate) fn observe(&self, observation: &Observation<'_>) {
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let operation = observation.operation.to_owned();
        let model = observation.model.to_owned();
        *series
            .requests
            .entry((operation.clone(), model.clone(), observation.status))
            .or_default() += 1;
        series
            .duration
            .entry((
                operation.clone(),
                model.clone(),
                observation.error_type.unwrap_or_default().to_owned(),
            ))
            .or_insert_with(|| Histogram::new(DURATION_BUCKETS))
            .observe(observation.duration.as_secs_f64());
        if let Some(first) = observation.time_to_first_token {
            series
                .first_token
                .entry((operation.clone(), model.clone()))
                .or_insert_with(|| Histogram::new(FIRST_TOKEN_BUCKETS))
                .observe(first.as_secs_f64());
        }
        for (kind, tokens) in [
            ("input", observation.input_tokens),
            ("output", observation.output_tokens),
        ] {
            if let Some(tokens) = tokens {
                series
                    .tokens
                    .entry((operation.clone(), model.clone(), kind))
                    .or_insert_with(|| Histogram::new(TOKEN_BUCKETS))
                    .observe(tokens as f64);
            }
        }
    }

    /// Renders every series in the Prometheus text exposition format 0.0.4.
    pub(crate) fn render(&self) -> String {
        let series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();

        out.push_str("# HELP llmops_server_requests_total Requests answered, by operation, model and HTTP status.\n");
        out.push_str("# TYPE llmops_server_requests_total counter\n");
        for ((operation, model, status), count) in &series.requests {
            let _ = writeln!(
                out,
                "llmops_server_requests_total{{gen_ai_operation_name=\"{}\",gen_ai_request_model=\"{}\",http_response_status_code=\"{status}\"}} {count}",
                escape(operation),
                escape(model)
            );
        }

        out.push_str("# HELP gen_ai_client_operation_duration_seconds GenAI operation duration.\n");
        out.push_str("# TYPE gen_ai_client_operation_duration_seconds histogram\n");
        for ((operation, model, error_type), histogram) in &series.duration {
            let mut labels = format!(
                "gen_ai_operation_name=\"{}\",gen_ai_request_model=\"{}\"",
                escape(operation),
                escape(model)
            );
            if !error_type.is_empty() {
                let _ = write!(labels, ",error_type=\"{}\"", escape(error_type));
            }
            histogram.write(
                &mut out,
                "gen_ai_client_operation_duration_seconds",
                &labels,
            );
        }

        out.push_str("# HELP gen_ai_server_time_to_first_token_seconds Time to the first streamed token of successful responses.\n");
        out.push_str("# TYPE gen_ai_server_time_to_first_token_seconds histogram\n");
        for ((operation, model), histogram) in &series.first_token {
            let labels = format!(
                "gen_ai_operation_name=\"{}\",gen_ai_request_model=\"{}\"",
                escape(operation),
                escape(model)
            );
            histogram.write(
                &mut out,
                "gen_ai_server_time_to_first_token_seconds",
                &labels,
            );
        }

        out.push_str(
            "# HELP gen_ai_client_token_usage Input and output tokens used per request.\n",
        );
        out.push_str("# TYPE gen_ai_client_token_usage histogram\n");
        for ((operation, model, kind), histogram) in &series.tokens {
            let labels = format!(
                "gen_ai_operation_name=\"{}\",gen_ai_request_model=\"{}\",gen_ai_token_type=\"{kind}\"",
                escape(operation),
                escape(model)
            );
            histogram.write(&mut out, "gen_ai_client_token_usage", &labels);
        }
        out
    }
}

/// Escapes a label value: backslash, double quote and line feed.
pub(crate) fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut histogram = Histogram::new(&[1.0, 2.0]);
        histogram.observe(0.5);
        histogram.observe(1.5);
        histogram.observe(9.0);
        let mut out = String::new();
        histogram.write(&mut out, "h", "a=\"b\"");
        assert!(out.contains("h_bucket{a=\"b\",le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("h_bucket{a=\"b\",le=\"2\"} 2\n"), "{out}");
        assert!(out.contains("h_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("h_sum{a=\"b\"} 11\n"), "{out}");
        assert!(out.contains("h_count{a=\"b\"} 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn observation_counts_requests_and_tokens() {
        let metrics = Metrics::default();
        let observation = Observation {
            operation: "chat",
            model: "chat-model",
            status: 200,
            duration: Duration::from_millis(30),
            time_to_first_token: Some(Duration::from_millis(5)),
            input_tokens: Some(12),
            output_tokens: Some(4),
            ..Observation::default()
        };
        metrics.observe(&observation);
        metrics.observe(&observation);
        let text = metrics.render();
        assert!(
            text.contains("llmops_server_requests_total{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat-model\",http_response_status_code=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("gen_ai_client_token_usage_sum{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat-model\",gen_ai_token_type=\"input\"} 24"),
            "{text}"
        );
        assert!(
            text.contains("gen_ai_server_time_to_first_token_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_request_model=\"chat-model\"} 2"),
            "{text}"
        );
    }
}
