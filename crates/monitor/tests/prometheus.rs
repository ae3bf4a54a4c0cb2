//! The Prometheus exposition parses under a strict reading of the text
//! format 0.0.4, and label values round-trip through escaping.

use crate::common;

use std::collections::{BTreeMap, HashMap};

use common::{monitor, request};
use llmops_monitor::{
    BudgetPeriod, BudgetScope, DriftMeasure, DriftSummary, Outcome, PromptRef, RequestObservation,
};

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_name(name: &str, allow_colon: bool) -> bool {
    let mut chars = name.chars();
    let valid_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (allow_colon && c == ':');
    chars.next().is_some_and(valid_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':'))
}

/// Parses `name{labels} value`, rejecting anything the format forbids.
fn parse_sample(line: &str) -> Sample {
    let name_end = line
        .find(['{', ' '])
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..name_end];
    assert!(is_name(name, true), "bad metric name in {line}");
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices().peekable();
        loop {
            let start = chars.peek().map(|(index, _)| *index).unwrap();
            let mut label = String::new();
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                label.push(c);
            }
            assert!(is_name(&label, false), "bad label name {label:?} in {line}");
            assert_eq!(
                chars.next().map(|(_, c)| c),
                Some('"'),
                "unquoted value in {line}"
            );
            let mut value = String::new();
            loop {
                let (_, c) = chars
                    .next()
                    .unwrap_or_else(|| panic!("unterminated value: {line}"));
                match c {
                    '"' => break,
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => panic!("bad escape {other:?} in {line}"),
                    },
                    '\n' => panic!("raw newline in {line}"),
                    c => value.push(c),
                }
            }
            assert!(
                labels.insert(label, value).is_none(),
                "duplicate label in {line} at {start}"
            );
            match chars.next() {
                Some((_, ',')) => continue,
                Some((index, '}')) => {
                    rest = &body[index + 1..];
                    break;
                }
                other => panic!("expected , or }} got {other:?} in {line}"),
            }
        }
    }
    let value_text = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before value: {line}"));
    let value = match value_text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        text => text
            .parse()
            .unwrap_or_else(|_| panic!("bad value {text:?} in {line}")),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// Parses the whole text, checking that each family is typed before its
/// samples and that histogram buckets are cumulative.
fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'));
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(is_name(name, true) && !help.is_empty(), "{line}");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "TYPE twice: {line}"
            );
        } else {
            assert!(!line.starts_with('#'), "stray comment {line}");
            let sample = parse_sample(line);
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| sample.name.strip_suffix(suffix))
                .filter(|base| types.contains_key(*base))
                .unwrap_or(&sample.name);
            let kind = types
                .get(family)
                .unwrap_or_else(|| panic!("untyped sample {line}"));
            if kind == "counter" {
                assert!(
                    sample.name.ends_with("_total"),
                    "counter without _total: {line}"
                );
            }
            samples.push(sample);
        }
    }
    check_histograms(&samples);
    samples
}

fn check_histograms(samples: &[Sample]) {
    let mut last: HashMap<(String, BTreeMap<String, String>), f64> = HashMap::new();
    for sample in samples
        .iter()
        .filter(|sample| sample.name.ends_with("_bucket"))
    {
        let mut key_labels = sample.labels.clone();
        let le = key_labels.remove("le").unwrap();
        let key = (sample.name.clone(), key_labels.clone());
        let previous = last.insert(key, sample.value).unwrap_or(0.0);
        assert!(
            sample.value >= previous,
            "buckets not cumulative at {sample:?}"
        );
        if le == "+Inf" {
            let count_name = sample.name.replace("_bucket", "_count");
            let count = samples
                .iter()
                .find(|other| other.name == count_name && other.labels == key_labels)
                .unwrap();
            assert_eq!(count.value, sample.value);
        }
    }
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|sample| {
        sample.name == name
            && labels
                .iter()
                .all(|(label, value)| sample.labels.get(*label).map(String::as_str) == Some(*value))
    })
}

#[test]
fn exposition_parses_and_counts() {
    let (monitor, _clock) = monitor();
    for index in 0..10 {
        let outcome = if index < 2 {
            Outcome::Error("timeout")
        } else {
            Outcome::Success
        };
        monitor.record_request(&RequestObservation {
            outcome,
            team: Some("search"),
            key: Some("key-1"),
            route: Some("summarize"),
            cache_lookup: true,
            cache_hit: index == 9,
            fallback: index == 8,
            failed_attempts: &["rate_limited"],
            guard_findings: &["email"],
            time_to_first_token_ms: Some(50.0),
            prompt: Some(PromptRef {
                name: "answer",
                version: 3,
            }),
            ..request("gpt-4o", 250.0)
        });
    }
    monitor.record_score(
        "gpt-4o",
        Some(PromptRef {
            name: "answer",
            version: 3,
        }),
        "groundedness",
        0.2,
    );
    monitor.record_guard_finding("prompt_injection", 4);
    monitor.set_drift(DriftSummary {
        baseline: "support".into(),
        created_at_ms: 0,
        severity: "warning".into(),
        measures: vec![DriftMeasure {
            name: "psi".into(),
            value: 0.3,
            threshold: Some(0.2),
        }],
        topics: Vec::new(),
    });

    let samples = parse(&monitor.render_prometheus());
    let model = [
        ("gen_ai_request_model", "gpt-4o"),
        ("gen_ai_provider_name", "openai"),
    ];
    let ok_count = find(
        &samples,
        "gen_ai_client_operation_duration_seconds_count",
        &model,
    )
    .filter(|sample| !sample.labels.contains_key("error_type"))
    .unwrap();
    assert_eq!(ok_count.value, 8.0);
    let error_count = find(
        &samples,
        "gen_ai_client_operation_duration_seconds_count",
        &[("error_type", "timeout")],
    )
    .unwrap();
    assert_eq!(error_count.value, 2.0);
    let input_sum = find(
        &samples,
        "gen_ai_client_token_usage_sum",
        &[("gen_ai_token_type", "input")],
    )
    .unwrap();
    assert_eq!(input_sum.value, 1_000.0);
    let first_chunk = find(
        &samples,
        "gen_ai_client_operation_time_to_first_chunk_seconds_sum",
        &model,
    )
    .unwrap();
    assert!((first_chunk.value - 0.5).abs() < 1e-9);
    let errors = find(
        &samples,
        "llmops_requests_total",
        &[("llmops_outcome", "error")],
    )
    .unwrap();
    assert_eq!(errors.value, 2.0);
    let cost = find(&samples, "llmops_cost_usd_total", &model).unwrap();
    assert!((cost.value - 0.1).abs() < 1e-9);
    assert_eq!(
        find(&samples, "llmops_cache_hits_total", &model)
            .unwrap()
            .value,
        1.0
    );
    assert_eq!(
        find(&samples, "llmops_cache_lookups_total", &model)
            .unwrap()
            .value,
        10.0
    );
    assert_eq!(
        find(&samples, "llmops_fallbacks_total", &model)
            .unwrap()
            .value,
        1.0
    );
    assert_eq!(
        find(
            &samples,
            "llmops_failed_attempts_total",
            &[("error_type", "rate_limited")]
        )
        .unwrap()
        .value,
        10.0
    );
    assert_eq!(
        find(
            &samples,
            "llmops_guard_findings_total",
            &[("llmops_finding", "prompt_injection")]
        )
        .unwrap()
        .value,
        4.0
    );
    assert!(
        find(
            &samples,
            "llmops_team_cost_usd_total",
            &[("llmops_team", "search")]
        )
        .is_some()
    );
    assert!(
        find(
            &samples,
            "llmops_key_cost_usd_total",
            &[("llmops_key", "key-1")]
        )
        .is_some()
    );
    assert!(
        find(
            &samples,
            "llmops_prompt_cost_usd_total",
            &[("llmops_prompt", "answer"), ("llmops_prompt_version", "3")]
        )
        .is_some()
    );
    assert_eq!(
        find(
            &samples,
            "llmops_ungrounded_responses_total",
            &[("llmops_prompt_version", "3")]
        )
        .unwrap()
        .value,
        1.0
    );
    assert_eq!(
        find(
            &samples,
            "llmops_eval_score_count",
            &[("llmops_metric", "groundedness")]
        )
        .unwrap()
        .value,
        1.0
    );
    assert_eq!(
        find(&samples, "llmops_drift_severity", &[]).unwrap().value,
        1.0
    );
    assert_eq!(
        find(
            &samples,
            "llmops_drift_measure",
            &[("llmops_measure", "psi")]
        )
        .unwrap()
        .value,
        0.3
    );
}

#[test]
fn label_values_escape_and_round_trip() {
    let tricky = [
        "quote \" inside",
        "back\\slash",
        "new\nline",
        "comma, and } brace = sign",
        "模型-ü-🚀",
        "",
        "trailing backslash \\",
    ];
    let (builder, _clock) = common::builder();
    let monitor = builder
        .budget(BudgetScope::Team("a\"b".into()), BudgetPeriod::Day, 5.0)
        .build()
        .unwrap();
    for value in tricky {
        monitor.record_request(&RequestObservation {
            team: Some(value),
            ..request(value, 10.0)
        });
    }
    let text = monitor.render_prometheus();
    let samples = parse(&text);
    for value in tricky {
        assert!(
            find(
                &samples,
                "llmops_cost_usd_total",
                &[("gen_ai_request_model", value)]
            )
            .is_some(),
            "model {value:?} missing from\n{text}"
        );
        assert!(
            find(
                &samples,
                "llmops_team_cost_usd_total",
                &[("llmops_team", value)]
            )
            .is_some(),
            "team {value:?} missing"
        );
    }
    assert!(
        find(
            &samples,
            "llmops_budget_limit_usd",
            &[("llmops_budget_scope", "team:a\"b")]
        )
        .is_some()
    );
}

#[test]
fn empty_monitor_renders_valid_text() {
    let (monitor, _clock) = monitor();
    let samples = parse(&monitor.render_prometheus());
    assert_eq!(
        find(&samples, "llmops_monitor_dropped_records_total", &[])
            .unwrap()
            .value,
        0.0
    );
}
