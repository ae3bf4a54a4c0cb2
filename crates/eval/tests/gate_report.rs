//! Reports and regression gates over hand-built runs.

use std::collections::BTreeMap;

use llmops_eval::{
    CaseResult, EvalError, EvalRun, GateConfig, PairedTest, Report, ReportOptions, RunInfo, Score,
    ScoreRange, compare_runs,
};

fn run(id: &str, metric: &str, range: ScoreRange, values: &[Option<f64>]) -> EvalRun {
    let results = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let score = match value {
                Some(v) => Score::value(*v),
                None => Score::undetermined("no claims"),
            };
            CaseResult {
                case_id: format!("c{i:03}"),
                tags: vec![if i % 2 == 0 { "even" } else { "odd" }.to_owned()],
                output: format!("<b>output {i}</b>"),
                latency_ms: Some(10),
                cost_usd: None,
                scores: BTreeMap::from([(metric.to_owned(), score)]),
                details: BTreeMap::new(),
                error: None,
            }
        })
        .collect();
    EvalRun {
        info: RunInfo {
            run_id: id.to_owned(),
            dataset: "d".to_owned(),
            dataset_version: "v1".to_owned(),
            model: "m".to_owned(),
            prompt_version: Some("answer@1".to_owned()),
            metrics: BTreeMap::from([(metric.to_owned(), range)]),
        },
        results,
    }
}

#[test]
fn report_mean_tags_and_worst() {
    let values = [Some(1.0), Some(0.5), None, Some(0.0), Some(0.75)];
    let report = Report::new(
        &run("r", "f1", ScoreRange::UNIT, &values),
        &ReportOptions::default(),
    );
    let summary = &report.metrics[0];
    assert_eq!(summary.determined, 4);
    assert_eq!(summary.undetermined, 1);
    let mean = summary.mean.unwrap();
    assert!((mean.estimate - 0.5625).abs() < 1e-12);
    assert!(mean.low <= mean.estimate);
    assert!(mean.estimate <= mean.high);
    assert!(mean.low >= 0.0);
    assert!(mean.high <= 1.0);
    assert_eq!(summary.worst[0].case_id, "c003");
    assert_eq!(summary.worst[1].case_id, "c001");
    // c000 scored the best possible 1.0, so it is not among the worst.
    let listed: Vec<&str> = summary.worst.iter().map(|w| w.case_id.as_str()).collect();
    assert_eq!(listed, ["c003", "c001", "c004"]);
    // even: c000 = 1.0 and c004 = 0.75 (c002 is undetermined); odd: 0.5 and 0.0
    assert!((summary.per_tag["even"].mean - 0.875).abs() < 1e-12);
    assert_eq!(summary.per_tag["even"].cases, 2);
    assert!((summary.per_tag["odd"].mean - 0.25).abs() < 1e-12);
}

#[test]
fn perfect_run_lists_no_worst_cases() {
    let perfect = run("r", "f1", ScoreRange::UNIT, &[Some(1.0), Some(1.0)]);
    let report = Report::new(&perfect, &ReportOptions::default());
    assert!(report.metrics[0].worst.is_empty());
    assert!(!report.to_markdown().contains("worst cases"));

    // Lower is better for latency: 0 is its best value.
    let latency = ScoreRange {
        min: 0.0,
        max: f64::INFINITY,
        higher_is_better: false,
    };
    let report = Report::new(
        &run(
            "r",
            "latency",
            latency,
            &[Some(0.0), Some(12.0), Some(30.0)],
        ),
        &ReportOptions::default(),
    );
    let listed: Vec<&str> = report.metrics[0]
        .worst
        .iter()
        .map(|w| w.case_id.as_str())
        .collect();
    assert_eq!(listed, ["c002", "c001"]);
}

#[test]
fn all_undetermined_has_no_mean() {
    let report = Report::new(
        &run("r", "f1", ScoreRange::UNIT, &[None, None]),
        &ReportOptions::default(),
    );
    assert_eq!(report.metrics[0].mean, None);
    assert!(report.to_markdown().contains("n/a"));
}

#[test]
fn report_renders_markdown_json_html() {
    let mut evaluated = run("r<1>", "f1", ScoreRange::UNIT, &[Some(1.0), Some(0.0)]);
    evaluated.info.model = "gpt-<script>".to_owned();
    let report = Report::new(&evaluated, &ReportOptions::default());
    let markdown = report.to_markdown();
    assert!(markdown.contains("| f1 | 0.5000 |"), "{markdown}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["metrics"][0]["determined"], 2);
    let html = report.to_html();
    assert!(html.contains("<svg"));
    assert!(html.contains("gpt-&lt;script&gt;"));
    assert!(!html.contains("gpt-<script>"));
}

#[test]
fn gate_fails_on_significant_pass_rate_drop() {
    let baseline: Vec<Option<f64>> = (0..60)
        .map(|i| Some(if i < 54 { 1.0 } else { 0.0 }))
        .collect();
    let candidate: Vec<Option<f64>> = (0..60)
        .map(|i| Some(if i < 36 { 1.0 } else { 0.0 }))
        .collect();
    let report = compare_runs(
        &run("base", "exact", ScoreRange::UNIT, &baseline),
        &run("cand", "exact", ScoreRange::UNIT, &candidate),
        &GateConfig::default(),
    )
    .unwrap();
    let metric = &report.metrics[0];
    assert_eq!(metric.test, PairedTest::McNemar);
    assert_eq!(metric.pairs, 60);
    assert!((metric.drop - 0.3).abs() < 1e-12);
    assert!(metric.p_value < 0.001, "p = {}", metric.p_value);
    assert!(metric.failed);
    assert!(!report.passed());
    assert!(report.to_markdown().contains("FAILED"));
}

#[test]
fn gate_passes_small_or_insignificant_drop() {
    let baseline: Vec<Option<f64>> = (0..10).map(|i| Some(0.1 * i as f64)).collect();
    let mut candidate = baseline.clone();
    candidate[3] = Some(0.1);
    candidate[6] = Some(0.7);
    let report = compare_runs(
        &run("base", "rouge", ScoreRange::UNIT, &baseline),
        &run("cand", "rouge", ScoreRange::UNIT, &candidate),
        &GateConfig::default(),
    )
    .unwrap();
    let metric = &report.metrics[0];
    assert_eq!(metric.test, PairedTest::Wilcoxon);
    assert!(metric.p_value > 0.05);
    assert!(report.passed());
}

#[test]
fn gate_respects_lower_is_better() {
    let range = ScoreRange {
        min: 0.0,
        max: 1.0,
        higher_is_better: false,
    };
    let baseline: Vec<Option<f64>> = (0..40).map(|i| Some(0.1 + 0.001 * i as f64)).collect();
    let candidate: Vec<Option<f64>> = (0..40).map(|i| Some(0.5 + 0.002 * i as f64)).collect();
    let report = compare_runs(
        &run("base", "hallucination", range, &baseline),
        &run("cand", "hallucination", range, &candidate),
        &GateConfig::default(),
    )
    .unwrap();
    assert!(report.metrics[0].drop > 0.3);
    assert!(!report.passed());

    // The same values with the runs swapped are an improvement.
    let improved = compare_runs(
        &run("base", "hallucination", range, &candidate),
        &run("cand", "hallucination", range, &baseline),
        &GateConfig::default(),
    )
    .unwrap();
    assert!(improved.passed());
}

#[test]
fn gate_skips_undetermined_pairs() {
    let baseline = [Some(1.0), None, Some(1.0)];
    let candidate = [Some(1.0), Some(0.0), None];
    let report = compare_runs(
        &run("base", "exact", ScoreRange::UNIT, &baseline),
        &run("cand", "exact", ScoreRange::UNIT, &candidate),
        &GateConfig::default(),
    )
    .unwrap();
    assert_eq!(report.metrics[0].pairs, 1);
    assert_eq!(report.metrics[0].test, PairedTest::None);
    assert!(report.passed());
}

#[test]
fn gate_rejects_different_datasets_and_bad_alpha() {
    let baseline = run("base", "exact", ScoreRange::UNIT, &[Some(1.0)]);
    let mut candidate = baseline.clone();
    candidate.info.dataset_version = "v2".to_owned();
    let error = compare_runs(&baseline, &candidate, &GateConfig::default()).unwrap_err();
    assert!(matches!(error, EvalError::IncomparableRuns { .. }));

    let config = GateConfig {
        alpha: 1.5,
        ..GateConfig::default()
    };
    let error = compare_runs(&baseline, &baseline, &config).unwrap_err();
    assert!(matches!(
        error,
        EvalError::InvalidParameter { name: "alpha", .. }
    ));
}
