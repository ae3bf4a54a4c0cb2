//! Baseline topics, assignment, new and vanished topics on synthetic
//! embeddings with known clusters.

use llmops_drift::{Assignment, Baseline, BaselineConfig, DriftCheck, Policy, TopicCount, Window};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DIMENSIONS: usize = 8;

/// `count` points near the unit vector of `axis`, labelled with `word`.
fn cluster(
    axis: usize,
    count: usize,
    word: &str,
    rng: &mut ChaCha8Rng,
) -> (Vec<String>, Vec<Vec<f32>>) {
    let texts = (0..count).map(|i| format!("{word} question {i}")).collect();
    let vectors = (0..count)
        .map(|_| {
            let mut v: Vec<f32> = (0..DIMENSIONS)
                .map(|_| rng.random_range(-0.05..0.05))
                .collect();
            v[axis] += 1.0;
            v
        })
        .collect();
    (texts, vectors)
}

fn window(parts: Vec<(Vec<String>, Vec<Vec<f32>>)>) -> (Window, Vec<Vec<f32>>) {
    let mut texts = Vec::new();
    let mut vectors = Vec::new();
    for (t, v) in parts {
        texts.extend(t);
        vectors.extend(v);
    }
    (Window::new(texts), vectors)
}

fn baseline(rng: &mut ChaCha8Rng, topics: TopicCount) -> Baseline {
    let (reference, vectors) = window(vec![
        cluster(0, 60, "refund", rng),
        cluster(1, 60, "password", rng),
        cluster(2, 60, "delivery", rng),
    ]);
    let config = BaselineConfig::default().topics(topics);
    Baseline::from_embeddings("synthetic", &reference, vectors, &config).unwrap()
}

#[test]
fn silhouette_finds_three_topics() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let baseline = baseline(&mut rng, TopicCount::Silhouette { min: 2, max: 6 });
    assert_eq!(baseline.topics.len(), 3);
    let mut labels: Vec<String> = baseline
        .topics
        .iter()
        .map(|t| t.terms[0].term.clone())
        .collect();
    labels.sort();
    assert_eq!(labels, ["delivery", "password", "refund"]);
    assert!(baseline.silhouette.unwrap() > 0.8);
}

#[test]
fn minibatch_matches_full_clustering() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (reference, vectors) = window(vec![
        cluster(0, 300, "refund", &mut rng),
        cluster(1, 300, "password", &mut rng),
    ]);
    let config = BaselineConfig::default()
        .topics(TopicCount::Fixed(2))
        .minibatch_above(100);
    let baseline = Baseline::from_embeddings("synthetic", &reference, vectors, &config).unwrap();
    let mut sizes: Vec<usize> = baseline.topics.iter().map(|t| t.size).collect();
    sizes.sort();
    // 30% of the 600 inputs are held out for calibration.
    assert_eq!(sizes.iter().sum::<usize>(), 420);
    assert!(sizes[0] > 150, "{sizes:?}");
}

#[test]
fn orthogonal_inputs_are_new_topics() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let baseline = baseline(&mut rng, TopicCount::Fixed(3));
    let (_, known) = cluster(1, 1, "password", &mut rng);
    let (_, unknown) = cluster(5, 1, "crypto", &mut rng);
    let assignments = baseline
        .assign(&[known[0].clone(), unknown[0].clone()])
        .unwrap();
    assert!(matches!(assignments[0], Assignment::Topic { .. }));
    assert!(matches!(assignments[1], Assignment::NewTopic { .. }));
}

#[test]
fn check_reports_new_and_vanished_topics() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let baseline = baseline(&mut rng, TopicCount::Fixed(3));
    // "delivery" is gone and a new "crypto" topic appears.
    let (current, vectors) = window(vec![
        cluster(0, 40, "refund", &mut rng),
        cluster(1, 40, "password", &mut rng),
        cluster(5, 40, "crypto", &mut rng),
    ]);
    let outcome = DriftCheck::new(baseline, Policy::default())
        .check_embeddings(&current, vectors)
        .unwrap();
    let report = &outcome.report;

    assert!(report.is_drift());
    // About 1% of known inputs lie beyond the 99th-percentile distance too.
    let new_inputs: usize = report.new_topics.iter().map(|t| t.size).sum();
    assert!((40..=42).contains(&new_inputs), "{new_inputs}");
    let largest = &report.new_topics[0];
    assert_eq!(largest.terms[0].term, "crypto");
    assert!(largest.examples[0].starts_with("crypto"));
    assert_eq!(report.vanished_topics.len(), 1);
    assert!(report.vanished_topics[0].label.starts_with("delivery"));
    let exported = outcome
        .drifted_inputs
        .iter()
        .filter(|i| i.topic.is_none())
        .count();
    assert_eq!(exported, new_inputs);
}

#[test]
fn dimension_mismatch_is_rejected() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let baseline = baseline(&mut rng, TopicCount::Fixed(3));
    let error = baseline.assign(&[vec![1.0, 0.0]]).unwrap_err();
    assert!(error.to_string().contains("dimensions"), "{error}");
}

#[test]
fn empty_window_is_rejected() {
    let config = BaselineConfig::default();
    let error =
        Baseline::from_embeddings("m", &Window::default(), Vec::new(), &config).unwrap_err();
    assert!(error.to_string().contains("at least one input"), "{error}");
}
