//! The mSPRT stays valid under repeated looks; a fixed-horizon test does not.

use llmops_registry::experiment::stats::{
    AlwaysValidPValue, Proportion, msprt, two_proportion_z_test,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Simulates A/A experiments (both arms convert at 10%) with a look every
/// 200 units per arm, up to 40 looks, and counts experiments that are ever
/// declared significant at alpha = 0.05.
///
/// The always-valid p-value must keep that rate at or below alpha, with a
/// margin for the simulation error of 400 experiments (standard error about
/// 0.011). Peeking at the fixed-horizon z-test inflates the rate well above
/// alpha (about 0.2 at 40 looks), which shows the simulation can detect an
/// invalid procedure.
#[test]
fn repeated_looks_keep_false_positives_below_alpha() {
    let alpha = 0.05;
    let experiments = 400;
    let looks = 40;
    let batch = 200;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut sequential_rejections = 0;
    let mut peeking_rejections = 0;

    for _ in 0..experiments {
        let mut control = Proportion {
            successes: 0,
            trials: 0,
        };
        let mut treatment = Proportion {
            successes: 0,
            trials: 0,
        };
        let mut running = AlwaysValidPValue::default();
        let mut peeking_rejected = false;

        for _ in 0..looks {
            for _ in 0..batch {
                control.trials += 1;
                control.successes += u64::from(rng.random_bool(0.1));
                treatment.trials += 1;
                treatment.successes += u64::from(rng.random_bool(0.1));
            }

            let test = two_proportion_z_test(control, treatment, 0.95);
            peeking_rejected |= test.p_value < alpha;
            let look = msprt(
                test.estimate,
                test.standard_error.powi(2),
                1.0 / control.trials as f64 + 1.0 / treatment.trials as f64,
                0.1,
                alpha,
            );
            running.observe(&look);
        }

        sequential_rejections += u32::from(running.p_value() < alpha);
        peeking_rejections += u32::from(peeking_rejected);
    }

    let sequential_rate = f64::from(sequential_rejections) / f64::from(experiments);
    let peeking_rate = f64::from(peeking_rejections) / f64::from(experiments);
    assert!(
        sequential_rate <= alpha + 0.02,
        "mSPRT false positive rate {sequential_rate}"
    );
    assert!(
        peeking_rate > 0.1,
        "peeking false positive rate {peeking_rate}"
    );
}

/// With a real difference (10% against 13%) the always-valid p-value
/// falls below alpha in most simulated experiments.
#[test]
fn real_effect_is_detected() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut detected = 0;
    for _ in 0..50 {
        let mut control = Proportion {
            successes: 0,
            trials: 0,
        };
        let mut treatment = Proportion {
            successes: 0,
            trials: 0,
        };
        let mut running = AlwaysValidPValue::default();
        for _ in 0..40 {
            for _ in 0..250 {
                control.trials += 1;
                control.successes += u64::from(rng.random_bool(0.10));
                treatment.trials += 1;
                treatment.successes += u64::from(rng.random_bool(0.13));
            }
            let test = two_proportion_z_test(control, treatment, 0.95);
            running.observe(&msprt(
                test.estimate,
                test.standard_error.powi(2),
                1.0 / control.trials as f64 + 1.0 / treatment.trials as f64,
                0.1,
                0.05,
            ));
        }
        detected += u32::from(running.p_value() < 0.05);
    }
    assert!(detected >= 40, "detected in {detected} of 50");
}

#[test]
fn running_p_value_never_increases() {
    let mut running = AlwaysValidPValue::default();
    let mut previous = running.p_value();
    for (estimate, variance) in [(0.1, 0.01), (0.0, 0.01), (0.3, 0.001), (0.0, 0.001)] {
        let p = running.observe(&msprt(estimate, variance, 0.01, 0.1, 0.05));
        assert!(p <= previous, "{p} > {previous}");
        previous = p;
    }
    assert!(running.ln_p_value() < 0.0);
}
