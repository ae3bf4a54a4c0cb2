//! The OTLP exporter posts protobuf metrics that a collector decodes into
//! the GenAI instruments and llmops' counters with the recorded values.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{START_MS, monitor, request};
use llmops_monitor::otlp::{OtlpConfig, OtlpExporter};
use llmops_monitor::{MonitorError, Outcome, RequestObservation};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, Metric, NumberDataPoint, metric, number_data_point,
};
use prost::Message;

/// The bodies and content types a fake collector received.
#[derive(Clone, Default)]
struct Received {
    requests: Arc<Mutex<Vec<(String, ExportMetricsServiceRequest)>>>,
}

async fn collect(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let content_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let Ok(request) = ExportMetricsServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    received
        .requests
        .lock()
        .unwrap()
        .push((content_type, request));
    StatusCode::OK
}

/// Starts a collector on loopback that takes `POST /v1/metrics`.
async fn start_collector() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/v1/metrics", post(collect))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), received)
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        any_value::Value::StringValue(text) => Some(text.as_str()),
        _ => None,
    }
}

fn find_metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    request.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|metric| metric.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn histogram_points(metric: &Metric) -> &[HistogramDataPoint] {
    match metric.data.as_ref() {
        Some(metric::Data::Histogram(histogram)) => {
            assert_eq!(
                histogram.aggregation_temporality,
                AggregationTemporality::Cumulative as i32,
                "{}",
                metric.name
            );
            &histogram.data_points
        }
        other => panic!("{} is not a histogram: {other:?}", metric.name),
    }
}

fn sum_points(metric: &Metric) -> &[NumberDataPoint] {
    match metric.data.as_ref() {
        Some(metric::Data::Sum(sum)) => {
            assert!(sum.is_monotonic, "{}", metric.name);
            &sum.data_points
        }
        other => panic!("{} is not a sum: {other:?}", metric.name),
    }
}

fn value(point: &NumberDataPoint) -> f64 {
    match point.value {
        Some(number_data_point::Value::AsDouble(value)) => value,
        Some(number_data_point::Value::AsInt(value)) => value as f64,
        None => panic!("a data point without a value"),
    }
}

/// The point whose attributes include every `(key, value)` of `wanted`.
fn point_with<'a, P>(
    points: &'a [P],
    attributes: impl Fn(&P) -> &[KeyValue],
    wanted: &[(&str, &str)],
) -> &'a P {
    let matching: Vec<&P> = points
        .iter()
        .filter(|point| {
            wanted
                .iter()
                .all(|(key, value)| attribute(attributes(point), key) == Some(value))
        })
        .collect();
    assert_eq!(matching.len(), 1, "points matching {wanted:?}");
    matching[0]
}

/// Records two successes on one model (one streamed, one from the cache),
/// a fallback with an error on another, and forces one export.
async fn export_known_requests() -> ExportMetricsServiceRequest {
    let (monitor, clock) = monitor();
    monitor.record_request(&RequestObservation {
        time_to_first_token_ms: Some(150.0),
        ..request("gpt-4o-mini", 300.0)
    });
    monitor.record_request(&RequestObservation {
        input_tokens: 5_000,
        output_tokens: 0,
        cost_usd: 0.0,
        cache_lookup: true,
        cache_hit: true,
        ..request("gpt-4o-mini", 20.0)
    });
    monitor.record_request(&RequestObservation {
        provider: "anthropic",
        outcome: Outcome::Error("rate_limited"),
        fallback: true,
        input_tokens: 0,
        output_tokens: 0,
        cost_usd: 0.0,
        ..request("claude-haiku-4-5", 2_000.0)
    });
    clock.advance_ms(5_000);

    let (endpoint, received) = start_collector().await;
    let config = OtlpConfig::new(endpoint).service_name("gateway-eu");
    let exporter = OtlpExporter::new(monitor, config).unwrap();
    exporter.export().await.unwrap();

    let mut requests = received.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    let (content_type, request) = requests.remove(0);
    assert_eq!(content_type, "application/x-protobuf");
    request
}

#[tokio::test]
async fn export_carries_resource_and_times() {
    let request = export_known_requests().await;
    let resource = request.resource_metrics[0].resource.as_ref().unwrap();
    assert_eq!(
        attribute(&resource.attributes, "service.name"),
        Some("gateway-eu")
    );
    let scope = request.resource_metrics[0].scope_metrics[0]
        .scope
        .as_ref()
        .unwrap();
    assert_eq!(scope.name, "llmops-monitor");

    let duration = find_metric(&request, "gen_ai.client.operation.duration");
    assert_eq!(duration.unit, "s");
    for point in histogram_points(duration) {
        assert_eq!(point.start_time_unix_nano, START_MS * 1_000_000);
        assert_eq!(point.time_unix_nano, (START_MS + 5_000) * 1_000_000);
    }
}

#[tokio::test]
async fn export_sends_token_usage_by_type() {
    let request = export_known_requests().await;
    let usage = find_metric(&request, "gen_ai.client.token.usage");
    assert_eq!(usage.unit, "{token}");
    let points = histogram_points(usage);
    // The failed request used no tokens, so it has no token points.
    assert_eq!(points.len(), 2);

    let input = point_with(
        points,
        |point| &point.attributes,
        &[
            ("gen_ai.request.model", "gpt-4o-mini"),
            ("gen_ai.provider.name", "openai"),
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.token.type", "input"),
        ],
    );
    assert_eq!(input.count, 2);
    assert_eq!(input.sum, Some(5_100.0));
    assert_eq!(input.bucket_counts.len(), input.explicit_bounds.len() + 1);
    assert_eq!(input.bucket_counts.iter().sum::<u64>(), 2);
    // 100 tokens fall in (64, 256], 5,000 in (4096, 16384].
    let bucket_of = |bound: f64| {
        let index = input
            .explicit_bounds
            .iter()
            .position(|b| *b == bound)
            .unwrap();
        input.bucket_counts[index]
    };
    assert_eq!(bucket_of(256.0), 1);
    assert_eq!(bucket_of(16_384.0), 1);

    let output = point_with(
        points,
        |point| &point.attributes,
        &[("gen_ai.token.type", "output")],
    );
    assert_eq!(output.count, 2);
    assert_eq!(output.sum, Some(20.0));
}

#[tokio::test]
async fn export_sends_duration_with_error_type() {
    let request = export_known_requests().await;
    let points = histogram_points(find_metric(&request, "gen_ai.client.operation.duration"));
    assert_eq!(points.len(), 2);

    let success = point_with(
        points,
        |point| &point.attributes,
        &[("gen_ai.request.model", "gpt-4o-mini")],
    );
    assert_eq!(attribute(&success.attributes, "error.type"), None);
    assert_eq!(success.count, 2);
    assert!((success.sum.unwrap() - 0.32).abs() < 1e-9);

    let failure = point_with(
        points,
        |point| &point.attributes,
        &[
            ("gen_ai.request.model", "claude-haiku-4-5"),
            ("gen_ai.provider.name", "anthropic"),
            ("error.type", "rate_limited"),
        ],
    );
    assert_eq!(failure.count, 1);
    assert_eq!(failure.sum, Some(2.0));
}

#[tokio::test]
async fn export_sends_time_to_first_chunk() {
    let request = export_known_requests().await;
    let metric = find_metric(&request, "gen_ai.client.operation.time_to_first_chunk");
    let points = histogram_points(metric);
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].count, 1);
    assert_eq!(points[0].sum, Some(0.15));
    assert_eq!(
        attribute(&points[0].attributes, "gen_ai.request.model"),
        Some("gpt-4o-mini")
    );
}

#[tokio::test]
async fn export_sends_llmops_counters() {
    let request = export_known_requests().await;
    let mini = [("gen_ai.request.model", "gpt-4o-mini")];
    let haiku = [("gen_ai.request.model", "claude-haiku-4-5")];
    let counter = |name: &str, wanted: &[(&str, &str)]| {
        let points = sum_points(find_metric(&request, name));
        value(point_with(points, |point| &point.attributes, wanted))
    };

    assert!((counter("llmops.cost_usd", &mini) - 0.01).abs() < 1e-12);
    assert_eq!(counter("llmops.cost_usd", &haiku), 0.0);
    assert_eq!(counter("llmops.cache_hits", &mini), 1.0);
    assert_eq!(counter("llmops.cache_lookups", &mini), 1.0);
    assert_eq!(counter("llmops.fallbacks", &mini), 0.0);
    assert_eq!(counter("llmops.fallbacks", &haiku), 1.0);

    let success = [
        ("gen_ai.request.model", "gpt-4o-mini"),
        ("llmops.outcome", "success"),
    ];
    let error = [
        ("gen_ai.request.model", "claude-haiku-4-5"),
        ("llmops.outcome", "error"),
    ];
    assert_eq!(counter("llmops.requests", &success), 2.0);
    assert_eq!(counter("llmops.requests", &error), 1.0);
}

#[tokio::test]
async fn export_keeps_unicode_model_names() {
    let (monitor, _clock) = monitor();
    monitor.record_request(&request("модель-日本", 100.0));
    let (endpoint, received) = start_collector().await;
    let exporter = OtlpExporter::new(monitor, OtlpConfig::new(endpoint)).unwrap();
    exporter.export().await.unwrap();

    let requests = received.requests.lock().unwrap();
    let points = histogram_points(find_metric(
        &requests[0].1,
        "gen_ai.client.operation.duration",
    ));
    assert_eq!(
        attribute(&points[0].attributes, "gen_ai.request.model"),
        Some("модель-日本")
    );
}

#[tokio::test]
async fn export_of_empty_monitor_has_no_points() {
    let (monitor, _clock) = monitor();
    let (endpoint, received) = start_collector().await;
    let exporter = OtlpExporter::new(monitor, OtlpConfig::new(endpoint)).unwrap();
    exporter.export().await.unwrap();

    let requests = received.requests.lock().unwrap();
    let usage = find_metric(&requests[0].1, "gen_ai.client.token.usage");
    assert!(histogram_points(usage).is_empty());
}

#[tokio::test]
async fn periodic_export_sends_cumulative_totals() {
    let (monitor, _clock) = monitor();
    let (endpoint, received) = start_collector().await;
    let config = OtlpConfig::new(endpoint).interval(Duration::from_millis(50));
    let task = OtlpExporter::new(monitor.clone(), config).unwrap().spawn();
    monitor.record_request(&request("gpt-4o-mini", 100.0));

    // Wait (bounded) until two exports have arrived.
    for _ in 0..200 {
        if received.requests.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    monitor.record_request(&request("gpt-4o-mini", 100.0));
    let before = received.requests.lock().unwrap().len();
    for _ in 0..200 {
        if received.requests.lock().unwrap().len() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();

    let requests = received.requests.lock().unwrap();
    assert!(
        requests.len() > before,
        "no export after the second request"
    );
    let counts: Vec<u64> = requests
        .iter()
        .map(|(_, request)| {
            let usage = find_metric(request, "gen_ai.client.operation.duration");
            histogram_points(usage)
                .iter()
                .map(|point| point.count)
                .sum()
        })
        .collect();
    assert_eq!(counts.first(), Some(&1));
    assert_eq!(counts.last(), Some(&2));
    assert!(
        counts.windows(2).all(|pair| pair[0] <= pair[1]),
        "{counts:?}"
    );
}

#[tokio::test]
async fn export_to_closed_port_names_endpoint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let (monitor, _clock) = monitor();
    let exporter =
        OtlpExporter::new(monitor, OtlpConfig::new(format!("http://{address}"))).unwrap();

    let error = exporter.export().await.unwrap_err();
    assert!(matches!(error, MonitorError::Export { .. }), "{error:?}");
    assert!(error.to_string().contains(&address.to_string()));
}

#[tokio::test]
async fn export_rejected_by_collector_is_error() {
    let app = Router::new().route(
        "/v1/metrics",
        post(|| async { StatusCode::SERVICE_UNAVAILABLE }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (monitor, _clock) = monitor();
    let exporter =
        OtlpExporter::new(monitor, OtlpConfig::new(format!("http://{address}"))).unwrap();

    let error = exporter.export().await.unwrap_err();
    assert!(error.to_string().contains("503"), "{error}");
}
