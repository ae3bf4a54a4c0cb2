//! Empty, constant, identical and invalid inputs give defined results.

use llmops_drift::stats::{
    DomainClassifierConfig, MmdConfig, centroid_cosine_distance, chi_square, domain_classifier_auc,
    jensen_shannon, ks_two_sample, mmd_rbf, psi, roc_auc, wasserstein, wasserstein_normalised,
};
use llmops_drift::{DriftError, Measurement};

fn is_insufficient(measurement: Measurement) -> bool {
    matches!(measurement, Measurement::InsufficientData { .. })
}

#[test]
fn empty_counts_are_insufficient() {
    assert!(is_insufficient(
        jensen_shannon(&[0.0, 0.0], &[1.0, 2.0]).unwrap()
    ));
    assert!(is_insufficient(psi(&[1.0, 2.0], &[0.0, 0.0]).unwrap()));
    assert!(is_insufficient(chi_square(&[], &[]).unwrap()));
}

#[test]
fn empty_samples_are_insufficient() {
    assert!(is_insufficient(ks_two_sample(&[], &[1.0]).unwrap()));
    assert!(is_insufficient(wasserstein(&[1.0], &[]).unwrap()));
    assert!(is_insufficient(wasserstein_normalised(&[], &[]).unwrap()));
    assert!(is_insufficient(
        centroid_cosine_distance(&[], &[vec![1.0]]).unwrap()
    ));
    assert!(is_insufficient(
        roc_auc(&[0.2, 0.3], &[true, true]).unwrap()
    ));
}

#[test]
fn insufficient_data_reports_sizes() {
    let one = vec![vec![1.0f32, 0.0]];
    let three = vec![vec![1.0f32, 0.0]; 3];
    let result = mmd_rbf(&one, &three, &MmdConfig::default()).unwrap();
    assert_eq!(
        result,
        Measurement::InsufficientData {
            required: 2,
            reference: 1,
            current: 3
        }
    );
}

#[test]
fn identical_embeddings_give_zero_mmd() {
    let same = vec![vec![0.5f32, -1.0, 2.0]; 10];
    let result = mmd_rbf(&same, &same, &MmdConfig::default()).unwrap();
    assert_eq!(result.statistic(), Some(0.0));
    assert_eq!(result.p_value(), Some(1.0));
}

#[test]
fn zero_centroids_follow_convention() {
    let zero = vec![vec![0.0f32, 0.0]; 2];
    let opposite = vec![vec![1.0f32, 0.0], vec![-1.0, 0.0]];
    let unit = vec![vec![0.0f32, 1.0]];
    let both_zero = centroid_cosine_distance(&zero, &opposite).unwrap();
    assert_eq!(both_zero.statistic(), Some(0.0));
    let one_zero = centroid_cosine_distance(&zero, &unit).unwrap();
    assert_eq!(one_zero.statistic(), Some(1.0));
}

#[test]
fn constant_reference_wasserstein_is_finite() {
    let value = wasserstein_normalised(&[2.0; 5], &[2.0, 2.0, 3.0]).unwrap();
    let statistic = value.statistic().unwrap();
    assert!(statistic.is_finite());
    assert!(statistic > 0.0);
}

#[test]
fn extreme_values_stay_finite() {
    let reference = [-f64::MAX, f64::MAX];
    let current = [f64::MAX, f64::MAX];
    let distance = wasserstein(&reference, &current)
        .unwrap()
        .statistic()
        .unwrap();
    assert!(distance.is_finite());
    let normed = wasserstein_normalised(&reference, &current)
        .unwrap()
        .statistic()
        .unwrap();
    assert!(normed.is_finite());
}

#[test]
fn single_category_chi_square_is_no_drift() {
    let result = chi_square(&[0.0, 7.0, 0.0], &[0.0, 3.0, 0.0]).unwrap();
    assert_eq!(result.statistic(), Some(0.0));
    assert_eq!(result.p_value(), Some(1.0));
}

#[test]
fn invalid_inputs_are_errors() {
    let mismatch = jensen_shannon(&[1.0, 2.0], &[1.0]).unwrap_err();
    assert!(matches!(
        mismatch,
        DriftError::LengthMismatch {
            reference: 2,
            current: 1,
            ..
        }
    ));

    let negative = psi(&[1.0, -2.0], &[1.0, 1.0]).unwrap_err();
    assert!(matches!(
        negative,
        DriftError::InvalidValue { index: 1, .. }
    ));
    assert!(negative.to_string().contains("-2"));

    let nan = ks_two_sample(&[1.0, f64::NAN], &[1.0]).unwrap_err();
    assert!(matches!(nan, DriftError::InvalidValue { index: 1, .. }));

    let ragged = vec![vec![1.0f32, 2.0], vec![1.0]];
    let error = centroid_cosine_distance(&ragged, &ragged).unwrap_err();
    assert!(matches!(
        error,
        DriftError::DimensionMismatch {
            index: 1,
            expected: 2,
            found: 1
        }
    ));

    let config = DomainClassifierConfig::default().folds(1);
    let error = domain_classifier_auc(&ragged[..1], &ragged[..1], &config).unwrap_err();
    assert!(matches!(
        error,
        DriftError::InvalidParameter { name: "folds", .. }
    ));
}

#[test]
fn domain_classifier_separates_shifted_windows() {
    let reference: Vec<Vec<f32>> = (0..40)
        .map(|i| vec![(i % 9) as f32 / 9.0, (i % 4) as f32 / 4.0])
        .collect();
    let shifted: Vec<Vec<f32>> = (0..40)
        .map(|i| vec![(i % 9) as f32 / 9.0 + 1.5, (i % 4) as f32 / 4.0])
        .collect();
    let config = DomainClassifierConfig::default();
    let auc = domain_classifier_auc(&reference, &shifted, &config).unwrap();
    assert!(auc.statistic().unwrap() > 0.95, "{auc:?}");
}

#[test]
fn domain_classifier_near_half_without_shift() {
    let window: Vec<Vec<f32>> = (0..80)
        .map(|i| vec![(i * 37 % 101) as f32 / 101.0, (i * 53 % 97) as f32 / 97.0])
        .collect();
    let (reference, current) = window.split_at(40);
    let config = DomainClassifierConfig::default().seed(3);
    let auc = domain_classifier_auc(reference, current, &config)
        .unwrap()
        .statistic()
        .unwrap();
    assert!(
        (0.2..=0.8).contains(&auc),
        "AUC {auc} far from 0.5 for one population"
    );
}

#[test]
fn mmd_is_repeatable_with_seed() {
    let reference: Vec<Vec<f32>> = (0..30)
        .map(|i| vec![i as f32, (i * 7 % 5) as f32])
        .collect();
    let current: Vec<Vec<f32>> = (0..30)
        .map(|i| vec![i as f32 + 0.5, (i * 3 % 5) as f32])
        .collect();
    let config = MmdConfig::default().max_samples(20).seed(9);
    let first = mmd_rbf(&reference, &current, &config).unwrap();
    let second = mmd_rbf(&reference, &current, &config).unwrap();
    assert_eq!(first, second);
}
