//! Invariants of the drift statistics over random inputs.

use llmops_drift::stats::{
    chi_square, jensen_shannon, ks_two_sample, psi, roc_auc, wasserstein, wasserstein_normalised,
};
use proptest::prelude::*;

fn counts() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (1usize..12).prop_flat_map(|k| {
        let side = prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..1000.0], k);
        (side.clone(), side)
    })
}

fn sample() -> impl Strategy<Value = Vec<f64>> {
    // Small integers produce many ties; the wide range exercises rounding.
    let value = prop_oneof![(-5i32..5).prop_map(f64::from), -1e6f64..1e6];
    prop::collection::vec(value, 0..40)
}

proptest! {
    #[test]
    fn categorical_values_are_bounded((reference, current) in counts()) {
        if let Some(js) = jensen_shannon(&reference, &current).unwrap().statistic() {
            prop_assert!((0.0..=1.0).contains(&js));
            let swapped = jensen_shannon(&current, &reference).unwrap().statistic().unwrap();
            prop_assert!((js - swapped).abs() < 1e-12);
        }
        if let Some(index) = psi(&reference, &current).unwrap().statistic() {
            prop_assert!(index.is_finite() && index >= 0.0);
        }
        let test = chi_square(&reference, &current).unwrap();
        if let (Some(statistic), Some(p)) = (test.statistic(), test.p_value()) {
            prop_assert!(statistic.is_finite() && statistic >= 0.0);
            prop_assert!((0.0..=1.0).contains(&p));
        }
    }

    #[test]
    fn identical_counts_have_no_drift((reference, _) in counts()) {
        if let Some(js) = jensen_shannon(&reference, &reference).unwrap().statistic() {
            prop_assert!(js.abs() < 1e-7);
            prop_assert!(psi(&reference, &reference).unwrap().statistic().unwrap().abs() < 1e-12);
            prop_assert!(chi_square(&reference, &reference).unwrap().p_value().unwrap() > 0.999);
        }
    }

    #[test]
    fn numeric_values_are_bounded(reference in sample(), current in sample()) {
        let ks = ks_two_sample(&reference, &current).unwrap();
        if let (Some(d), Some(p)) = (ks.statistic(), ks.p_value()) {
            prop_assert!((0.0..=1.0).contains(&d));
            prop_assert!((0.0..=1.0).contains(&p));
        }
        if let Some(w) = wasserstein(&reference, &current).unwrap().statistic() {
            prop_assert!(w.is_finite() && w >= 0.0);
            let swapped = wasserstein(&current, &reference).unwrap().statistic().unwrap();
            prop_assert!((w - swapped).abs() <= 1e-9 * w.max(1.0));
        }
        if let Some(w) = wasserstein_normalised(&reference, &current).unwrap().statistic() {
            prop_assert!(w.is_finite() && w >= 0.0);
        }
    }

    #[test]
    fn identical_samples_have_no_drift(reference in sample()) {
        let ks = ks_two_sample(&reference, &reference).unwrap();
        if let Some(d) = ks.statistic() {
            prop_assert_eq!(d, 0.0);
            prop_assert_eq!(ks.p_value(), Some(1.0));
            prop_assert_eq!(wasserstein(&reference, &reference).unwrap().statistic(), Some(0.0));
        }
    }

    #[test]
    fn auc_is_bounded_and_flips(scores in prop::collection::vec(-3i32..3, 2..30), seed in any::<u64>()) {
        let scores: Vec<f64> = scores.into_iter().map(f64::from).collect();
        let labels: Vec<bool> = (0..scores.len()).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
        if let Some(auc) = roc_auc(&scores, &labels).unwrap().statistic() {
            prop_assert!((0.0..=1.0).contains(&auc));
            let negated: Vec<f64> = scores.iter().map(|s| -s).collect();
            let flipped = roc_auc(&negated, &labels).unwrap().statistic().unwrap();
            prop_assert!((auc + flipped - 1.0).abs() < 1e-12);
        }
    }
}
