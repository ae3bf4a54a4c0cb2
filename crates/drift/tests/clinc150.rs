//! Topic drift on CLINC150 queries: a planted shift is detected and
//! unshifted resamples do not alarm.

use crate::common;

use common::{Query, clinc150};
use llmops_drift::stats::{DomainClassifierConfig, MmdConfig};
use llmops_drift::{
    Baseline, BaselineConfig, CheckConfig, DriftCheck, HashingEmbedder, Measure, Policy, Severity,
    TopicCount, Window,
};
use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;

const DIMENSIONS: usize = 128;

struct Setup {
    check: DriftCheck,
    held_out: Vec<Query>,
    out_of_scope: Vec<Query>,
    embedder: HashingEmbedder,
}

/// Builds a baseline from half of the in-scope queries and keeps the other
/// half for current windows.
async fn setup() -> Setup {
    let (mut in_scope, out_of_scope): (Vec<Query>, Vec<Query>) =
        clinc150().into_iter().partition(|q| q.domain != "oos");
    in_scope.shuffle(&mut ChaCha8Rng::seed_from_u64(7));
    let held_out = in_scope.split_off(in_scope.len() / 2);

    let embedder = HashingEmbedder::new(DIMENSIONS);
    let reference = Window::new(in_scope.iter().take(1200).map(|q| q.text.clone()));
    let config = BaselineConfig::default().topics(TopicCount::Fixed(10));
    let baseline = Baseline::build(&embedder, &reference, &config)
        .await
        .unwrap();

    // Smaller samples keep the debug-build test fast.
    let check_config = CheckConfig::new()
        .mmd(MmdConfig::default().permutations(100).max_samples(200))
        .domain_classifier(DomainClassifierConfig::default().max_samples(300));
    let check = DriftCheck::new(baseline, Policy::default()).with_config(check_config);
    Setup {
        check,
        held_out,
        out_of_scope,
        embedder,
    }
}

fn texts<'a>(queries: impl IntoIterator<Item = &'a Query>) -> Window {
    Window::new(queries.into_iter().map(|q| q.text.clone()))
}

#[tokio::test]
async fn clinc150_drift_detection() {
    let setup = setup().await;
    resamples_rarely_alarm(&setup).await;
    planted_shift_is_detected(&setup).await;
}

async fn resamples_rarely_alarm(setup: &Setup) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let resamples = 20;
    let mut alarms = Vec::new();
    let mut distance_warnings = 0;
    for _ in 0..resamples {
        let window = texts(setup.held_out.choose_multiple(&mut rng, 300));
        let outcome = setup.check.check(&setup.embedder, &window).await.unwrap();
        distance_warnings += outcome
            .report
            .measures
            .iter()
            .filter(|m| matches!(m.measure, Measure::TopicJensenShannon | Measure::TopicPsi))
            .any(|m| m.severity >= Severity::Warning) as usize;
        if outcome.report.is_drift() {
            let flagged: Vec<String> = outcome
                .report
                .measures
                .iter()
                .filter(|m| m.severity == Severity::Alert)
                .map(|m| format!("{} = {:?}", m.measure.name(), m.measurement))
                .collect();
            alarms.push(flagged);
        }
    }
    // At most 5% of unshifted windows may alarm.
    assert!(
        alarms.len() <= 1,
        "{} of {resamples} resamples alarmed: {alarms:?}",
        alarms.len()
    );
    // The Jensen-Shannon and PSI warnings scale with the window size, so
    // sampling noise rarely reaches them either.
    assert!(
        distance_warnings <= 1,
        "{distance_warnings} of {resamples} resamples warned on topic-share distances"
    );
}

async fn planted_shift_is_detected(setup: &Setup) {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    // Two thirds of the window from two of the ten domains, a third out of scope.
    let travel: Vec<&Query> = setup
        .held_out
        .iter()
        .filter(|q| q.domain == "travel" || q.domain == "small_talk")
        .collect();
    let mut window: Vec<&Query> = travel.choose_multiple(&mut rng, 200).copied().collect();
    window.extend(setup.out_of_scope.choose_multiple(&mut rng, 100));

    let outcome = setup
        .check
        .check(&setup.embedder, &texts(window))
        .await
        .unwrap();
    let report = &outcome.report;
    assert!(report.is_drift(), "{:#?}", report.measures);
    // With 10 topics, 360 reference and 300 current inputs, sampling noise
    // alone reaches a PSI of about 0.16 in 1% of unshifted windows. This
    // shift's PSI stays below that, so the chi-square test warns instead.
    let psi = report.measure(&Measure::TopicPsi).unwrap();
    let applied = psi.thresholds.unwrap();
    assert!(
        psi.measurement.statistic().unwrap() > applied.fixed_warning,
        "{psi:?}"
    );
    assert!(applied.warning >= applied.fixed_warning, "{psi:?}");
    let chi_square = report.measure(&Measure::TopicChiSquare).unwrap();
    assert!(chi_square.severity >= Severity::Warning, "{chi_square:?}");
    assert!(!outcome.drifted_inputs.is_empty());
}
