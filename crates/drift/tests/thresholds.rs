//! Distance thresholds grow to the sampling noise of small windows, and
//! reports record which threshold applied.

use llmops_drift::{
    Baseline, BaselineConfig, DriftCheck, DriftReport, Measure, MeasureResult, NullQuantiles,
    Policy, Severity, ThresholdBasis, TopicCount, Window,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOPICS: usize = 20;
const DIMENSIONS: usize = 24;

/// Inputs of `TOPICS` well-separated topics with equal shares, each with
/// the numeric signal `length`.
fn sample(rng: &mut ChaCha8Rng, inputs: usize) -> (Window, Vec<Vec<f32>>) {
    let mut texts = Vec::new();
    let mut embeddings = Vec::new();
    let mut lengths = Vec::new();
    for _ in 0..inputs {
        let topic = rng.random_range(0..TOPICS);
        let mut vector: Vec<f32> = (0..DIMENSIONS)
            .map(|_| rng.random_range(-0.05..0.05))
            .collect();
        vector[topic] += 1.0;
        embeddings.push(vector);
        texts.push(format!("question {topic} number {}", texts.len()));
        lengths.push(f64::from(rng.random_range(3u32..12)));
    }
    (
        Window::new(texts).with_feature("length", lengths),
        embeddings,
    )
}

fn check(policy: Policy) -> (DriftCheck, ChaCha8Rng) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (reference, embeddings) = sample(&mut rng, 1_000);
    let config = BaselineConfig::default().topics(TopicCount::Fixed(TOPICS));
    let baseline = Baseline::from_embeddings("toy", &reference, embeddings, &config).unwrap();
    (DriftCheck::new(baseline, policy), rng)
}

fn result<'a>(report: &'a DriftReport, measure: &Measure) -> &'a MeasureResult {
    report.measure(measure).unwrap()
}

#[test]
fn small_windows_get_null_quantile_thresholds() {
    let (check, mut rng) = check(Policy::default());
    let (window, embeddings) = sample(&mut rng, 60);
    let report = check.check_embeddings(&window, embeddings).unwrap().report;

    for measure in [Measure::TopicJensenShannon, Measure::TopicPsi] {
        let result = result(&report, &measure);
        let applied = result.thresholds.unwrap();
        assert_eq!(
            applied.warning_basis,
            ThresholdBasis::NullQuantile,
            "{result:?}"
        );
        assert!(applied.warning > applied.fixed_warning, "{result:?}");
        assert_eq!(applied.warning, applied.null_warning);
        assert!(applied.alert >= applied.warning);
        assert_eq!(applied.resamples, NullQuantiles::default().resamples);
        // Sampling noise in 60 inputs over 20 topics exceeds the fixed
        // warning threshold but not the no-drift quantile.
        let value = result.measurement.statistic().unwrap();
        assert!(value > applied.fixed_warning, "{result:?}");
        assert_eq!(result.severity, Severity::None, "{result:?}");
    }
    let wasserstein = Measure::Wasserstein {
        feature: "length".into(),
    };
    assert!(result(&report, &wasserstein).thresholds.is_some());
    assert!(
        result(&report, &Measure::TopicChiSquare)
            .thresholds
            .is_none()
    );
    assert!(result(&report, &Measure::Mmd).thresholds.is_none());
}

#[test]
fn fixed_thresholds_apply_without_null_quantiles() {
    let mut policy = Policy::default();
    policy.null_quantiles = None;
    let (check, mut rng) = check(policy);
    let (window, embeddings) = sample(&mut rng, 60);
    let report = check.check_embeddings(&window, embeddings).unwrap().report;

    let js = result(&report, &Measure::TopicJensenShannon);
    assert!(js.thresholds.is_none());
    assert!(js.measurement.statistic().unwrap() >= 0.12, "{js:?}");
    assert!(js.severity >= Severity::Warning, "{js:?}");
}

#[test]
fn large_windows_keep_fixed_thresholds() {
    let (check, mut rng) = check(Policy::default());
    let (window, embeddings) = sample(&mut rng, 20_000);
    let report = check.check_embeddings(&window, embeddings).unwrap().report;

    // The reference counts are the 300 held-out inputs, so the reference
    // side still adds noise; the fixed alert threshold stays on top.
    let psi = result(&report, &Measure::TopicPsi).thresholds.unwrap();
    assert_eq!(psi.alert_basis, ThresholdBasis::Fixed, "{psi:?}");
    let wasserstein = Measure::Wasserstein {
        feature: "length".into(),
    };
    let applied = result(&report, &wasserstein).thresholds.unwrap();
    assert_eq!(applied.warning_basis, ThresholdBasis::Fixed, "{applied:?}");
    assert_eq!(applied.warning, 0.1);
    assert!(applied.null_warning < 0.1);
}

#[test]
fn planted_shift_still_alerts() {
    let (check, mut rng) = check(Policy::default());
    let (window, mut embeddings) = sample(&mut rng, 100);
    // Move every input to topic 0 or 1.
    for (index, vector) in embeddings.iter_mut().enumerate() {
        vector.iter_mut().for_each(|x| *x *= 0.1);
        vector[index % 2] = 1.0;
    }
    let report = check.check_embeddings(&window, embeddings).unwrap().report;
    for measure in [Measure::TopicJensenShannon, Measure::TopicPsi] {
        let result = result(&report, &measure);
        assert_eq!(result.severity, Severity::Alert, "{result:?}");
    }
}

#[test]
fn same_window_gives_same_thresholds() {
    let (check, mut rng) = check(Policy::default());
    let (window, embeddings) = sample(&mut rng, 80);
    let first = check
        .check_embeddings(&window, embeddings.clone())
        .unwrap()
        .report;
    let second = check.check_embeddings(&window, embeddings).unwrap().report;
    assert_eq!(first.measures, second.measures);
}

#[test]
fn older_policies_and_reports_still_load() {
    let mut policy = serde_json::to_value(Policy::default()).unwrap();
    policy.as_object_mut().unwrap().remove("null_quantiles");
    let policy: Policy = serde_json::from_value(policy).unwrap();
    assert_eq!(policy.null_quantiles, Some(NullQuantiles::default()));

    let stored = r#"{"measure":"topic_psi","measurement":{"state":"value","statistic":0.3,"p_value":null},"severity":"alert"}"#;
    let result: MeasureResult = serde_json::from_str(stored).unwrap();
    assert!(result.thresholds.is_none());
    assert_eq!(result.severity, Severity::Alert);
}

#[test]
fn invalid_null_quantiles_are_rejected() {
    let mut policy = Policy::default();
    policy.null_quantiles = Some(NullQuantiles::default().warning(1.5));
    let (check, mut rng) = check(policy);
    let (window, embeddings) = sample(&mut rng, 60);
    let error = check.check_embeddings(&window, embeddings).unwrap_err();
    assert!(error.to_string().contains("null_quantiles"), "{error}");
}
