//! Property tests of the statistics: ranges, intervals and symmetry.

use llmops_registry::experiment::stats::{
    Proportion, msprt, ratio_z_test, two_proportion_z_test, welch_t_test, wilson_interval,
};
use llmops_registry::experiment::{Arm, ArmTarget, Experiment};
use proptest::prelude::*;

fn samples() -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(-1e6f64..1e6, 0..60)
}

fn proportion() -> impl Strategy<Value = Proportion> {
    (0u64..5_000).prop_flat_map(|trials| {
        (0..=trials).prop_map(move |successes| Proportion { successes, trials })
    })
}

proptest! {
    #[test]
    fn welch_p_in_unit_interval(control in samples(), treatment in samples()) {
        let result = welch_t_test(&control, &treatment, 0.95);
        prop_assert!((0.0..=1.0).contains(&result.p_value), "{}", result.p_value);
        prop_assert!(result.ln_p_value <= 0.0);
        if let Some(interval) = result.confidence_interval {
            prop_assert!(interval.contains(result.estimate));
        }
    }

    #[test]
    fn welch_symmetric_under_swap(control in samples(), treatment in samples()) {
        let forward = welch_t_test(&control, &treatment, 0.95);
        let backward = welch_t_test(&treatment, &control, 0.95);
        prop_assert!((forward.estimate + backward.estimate).abs() <= 1e-9 * forward.estimate.abs().max(1.0));
        prop_assert!((forward.ln_p_value - backward.ln_p_value).abs() <= 1e-9 * forward.ln_p_value.abs().max(1.0));
        prop_assert_eq!(forward.degenerate.is_some(), backward.degenerate.is_some());
    }

    #[test]
    fn proportion_test_ranges_and_symmetry(control in proportion(), treatment in proportion()) {
        let forward = two_proportion_z_test(control, treatment, 0.95);
        let backward = two_proportion_z_test(treatment, control, 0.95);
        prop_assert!((0.0..=1.0).contains(&forward.p_value));
        prop_assert!((forward.ln_p_value - backward.ln_p_value).abs() < 1e-9 * forward.ln_p_value.abs().max(1.0));
        prop_assert!((forward.estimate + backward.estimate).abs() < 1e-12);
        if let Some(interval) = forward.confidence_interval {
            prop_assert!(interval.contains(forward.estimate), "{interval:?} {}", forward.estimate);
            prop_assert!(interval.lower >= -1.0 - 1e-12 && interval.upper <= 1.0 + 1e-12);
        }
    }

    #[test]
    fn wilson_contains_rate(proportion in proportion(), confidence in 0.5f64..0.999) {
        if let Some(interval) = wilson_interval(proportion, confidence) {
            prop_assert!(interval.lower >= 0.0 && interval.upper <= 1.0);
            prop_assert!(interval.lower <= proportion.rate() + 1e-12);
            prop_assert!(interval.upper >= proportion.rate() - 1e-12);
        } else {
            prop_assert_eq!(proportion.trials, 0);
        }
    }

    #[test]
    fn ratio_test_ranges(
        pairs in proptest::collection::vec((0.0f64..100.0, 0.1f64..50.0), 0..50),
        other in proptest::collection::vec((0.0f64..100.0, 0.1f64..50.0), 0..50),
    ) {
        let (x1, y1): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let (x2, y2): (Vec<f64>, Vec<f64>) = other.into_iter().unzip();
        let forward = ratio_z_test((&x1, &y1), (&x2, &y2), 0.95);
        let backward = ratio_z_test((&x2, &y2), (&x1, &y1), 0.95);
        prop_assert!((0.0..=1.0).contains(&forward.p_value));
        prop_assert!((forward.estimate + backward.estimate).abs() < 1e-9 * forward.estimate.abs().max(1.0));
        if let Some(interval) = forward.confidence_interval {
            prop_assert!(interval.contains(forward.estimate));
        }
    }

    #[test]
    fn msprt_sequence_contains_estimate(
        estimate in -10.0f64..10.0,
        variance in 1e-8f64..10.0,
        n1 in 1u32..100_000,
        n2 in 1u32..100_000,
        scale in 0.01f64..5.0,
        alpha in 0.001f64..0.5,
    ) {
        let result = msprt(estimate, variance, 1.0 / f64::from(n1) + 1.0 / f64::from(n2), scale, alpha);
        prop_assert!((0.0..=1.0).contains(&result.p_value));
        let sequence = result.confidence_sequence.unwrap();
        prop_assert!(sequence.contains(estimate));
        // The sequence excludes 0 exactly when the always-valid p is below alpha.
        let excludes_zero = !sequence.contains(0.0);
        let significant = result.p_value < alpha;
        let boundary = (result.ln_p_value - alpha.ln()).abs() < 1e-9;
        prop_assert!(boundary || excludes_zero == significant, "{result:?}");
    }

    #[test]
    fn assignment_respects_arm_set(
        weights in proptest::collection::vec(0.0f64..10.0, 1..6),
        unit in any::<String>(),
    ) {
        prop_assume!(weights.iter().sum::<f64>() > 0.0);
        let arms = weights
            .iter()
            .enumerate()
            .map(|(index, weight)| Arm::new(format!("arm-{index}"), ArmTarget::Version(index as u32), *weight))
            .collect();
        let experiment = Experiment::new("prop", arms).unwrap();
        let chosen = experiment.assign(&unit);
        prop_assert!(chosen.weight > 0.0);
        prop_assert_eq!(&experiment.assign(&unit).name, &chosen.name);
    }
}
