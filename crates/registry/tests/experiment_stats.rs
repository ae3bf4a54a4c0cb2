//! Statistics checked against SciPy, statsmodels and mpmath values.
//!
//! `data/stats_vectors.json` is written by `data/stats_vectors.py`; the
//! library versions are recorded in the file.

use llmops_registry::experiment::stats::{
    Proportion, bootstrap_mean_difference, msprt, probability_best_binary, probability_best_normal,
    ratio_z_test, sample_ratio_mismatch, two_proportion_z_test, welch_t_test, wilson_interval,
};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/stats_vectors.json")).unwrap()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.as_f64().unwrap())
        .collect()
}

/// Asserts `actual` is within `relative` of `expected`, or within
/// `relative` absolutely when `expected` is near 0.
fn assert_close(actual: f64, expected: f64, relative: f64, label: &str) {
    let tolerance = relative * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{label}: llmops {actual}, reference {expected}"
    );
}

#[test]
fn vectors_record_versions() {
    let vectors = vectors();
    for key in [
        "scipy_version",
        "statsmodels_version",
        "mpmath_version",
        "numpy_version",
    ] {
        assert!(vectors[key].is_string(), "{key} missing");
    }
}

#[test]
fn welch_matches_scipy() {
    for case in vectors()["welch"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let result = welch_t_test(&floats(&case["control"]), &floats(&case["treatment"]), 0.95);
        assert!(result.degenerate.is_none(), "{name}");
        assert_close(
            result.statistic.unwrap(),
            case["statistic"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            result.degrees_of_freedom.unwrap(),
            case["degrees_of_freedom"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            result.ln_p_value,
            case["ln_p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );
        assert_close(
            result.p_value,
            case["p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );
        let interval = result.confidence_interval.unwrap();
        assert_close(
            interval.lower,
            case["ci_lower"].as_f64().unwrap(),
            1e-7,
            name,
        );
        assert_close(
            interval.upper,
            case["ci_upper"].as_f64().unwrap(),
            1e-7,
            name,
        );
    }
}

#[test]
fn welch_tiny_p_stays_finite_in_log() {
    let case = vectors()["welch"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["name"] == "tiny_p_value")
        .unwrap()
        .clone();
    let result = welch_t_test(&floats(&case["control"]), &floats(&case["treatment"]), 0.95);
    assert_eq!(result.p_value, 0.0);
    assert!(result.ln_p_value < -700.0, "{}", result.ln_p_value);
    assert!(result.ln_p_value.is_finite());
}

fn pair(value: &Value) -> Proportion {
    Proportion {
        successes: value[0].as_u64().unwrap(),
        trials: value[1].as_u64().unwrap(),
    }
}

#[test]
fn proportions_match_statsmodels() {
    for case in vectors()["proportions"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let control = pair(&case["control"]);
        let treatment = pair(&case["treatment"]);
        let result = two_proportion_z_test(control, treatment, 0.95);
        assert_close(
            result.statistic.unwrap(),
            case["statistic"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            result.ln_p_value,
            case["ln_p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );
        assert_close(
            result.p_value,
            case["p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );

        let newcombe = result.confidence_interval.unwrap();
        let expected = floats(&case["newcombe"]);
        assert_close(newcombe.lower, expected[0], 1e-9, name);
        assert_close(newcombe.upper, expected[1], 1e-9, name);

        for (proportion, key) in [(control, "wilson_control"), (treatment, "wilson_treatment")] {
            let interval = wilson_interval(proportion, 0.95).unwrap();
            let expected = floats(&case[key]);
            assert_close(interval.lower, expected[0], 1e-9, name);
            assert_close(interval.upper, expected[1], 1e-9, name);
        }
    }
}

#[test]
fn ratio_matches_delta_method() {
    for case in vectors()["ratio"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let control = (
            floats(&case["control_numerators"]),
            floats(&case["control_denominators"]),
        );
        let treatment = (
            floats(&case["treatment_numerators"]),
            floats(&case["treatment_denominators"]),
        );
        let result = ratio_z_test((&control.0, &control.1), (&treatment.0, &treatment.1), 0.95);
        assert_close(
            result.estimate,
            case["estimate"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            result.standard_error,
            case["standard_error"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            result.ln_p_value,
            case["ln_p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );
        assert_close(
            result.p_value,
            case["p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );
    }
}

#[test]
fn srm_matches_scipy() {
    for case in vectors()["srm"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let counts: Vec<u64> = case["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|count| count.as_u64().unwrap())
            .collect();
        let weights = floats(&case["weights"]);
        let total: f64 = weights.iter().sum();
        let shares: Vec<f64> = weights.iter().map(|weight| weight / total).collect();
        let check = sample_ratio_mismatch(&counts, &shares, 0.001);
        assert_close(
            check.chi_square,
            case["chi_square"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            check.ln_p_value,
            case["ln_p_value"].as_f64().unwrap(),
            1e-7,
            name,
        );
        assert_close(check.p_value, case["p_value"].as_f64().unwrap(), 1e-7, name);
        assert_eq!(
            check.mismatch,
            case["p_value"].as_f64().unwrap() < 0.001,
            "{name}"
        );
    }
}

#[test]
fn msprt_matches_formula() {
    for case in vectors()["msprt"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let sizes = floats(&case["sizes"]);
        let result = msprt(
            case["estimate"].as_f64().unwrap(),
            case["variance"].as_f64().unwrap(),
            1.0 / sizes[0] + 1.0 / sizes[1],
            case["mixing_scale"].as_f64().unwrap(),
            case["alpha"].as_f64().unwrap(),
        );
        assert_close(
            result.ln_likelihood_ratio,
            case["ln_likelihood_ratio"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            result.ln_p_value,
            case["ln_p_value"].as_f64().unwrap(),
            1e-9,
            name,
        );
        let sequence = result.confidence_sequence.unwrap();
        assert_close(
            sequence.lower,
            case["cs_lower"].as_f64().unwrap(),
            1e-9,
            name,
        );
        assert_close(
            sequence.upper,
            case["cs_upper"].as_f64().unwrap(),
            1e-9,
            name,
        );
    }
}

/// Monte Carlo with 200,000 draws has a standard error below 0.0012 per
/// probability, so 0.006 is five standard errors.
#[test]
fn probability_best_matches_integration() {
    for case in vectors()["bayes"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let expected = floats(&case["probability_best"]);
        let actual = if case["kind"] == "binary" {
            let arms: Vec<Proportion> = case["arms"].as_array().unwrap().iter().map(pair).collect();
            probability_best_binary(&arms, true, 200_000, 7).unwrap()
        } else {
            probability_best_normal(
                &floats(&case["means"]),
                &floats(&case["standard_errors"]),
                true,
                200_000,
                7,
            )
            .unwrap()
        };
        assert_eq!(actual.len(), expected.len(), "{name}");
        for (ours, reference) in actual.iter().zip(&expected) {
            assert!(
                (ours - reference).abs() < 0.006,
                "{name}: {actual:?} vs {expected:?}"
            );
        }
        assert!((actual.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{name}");
    }
}

/// The bootstrap uses a different generator than SciPy, so the bounds
/// agree only up to Monte Carlo error: within 5% of the interval width.
#[test]
fn bootstrap_close_to_scipy() {
    for case in vectors()["bootstrap"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let interval = bootstrap_mean_difference(
            &floats(&case["control"]),
            &floats(&case["treatment"]),
            0.95,
            20_000,
            11,
        )
        .unwrap();
        let lower = case["ci_lower"].as_f64().unwrap();
        let upper = case["ci_upper"].as_f64().unwrap();
        let slack = 0.05 * (upper - lower);
        assert!(
            (interval.lower - lower).abs() < slack,
            "{name}: {interval:?}"
        );
        assert!(
            (interval.upper - upper).abs() < slack,
            "{name}: {interval:?}"
        );
    }
}

#[test]
fn bootstrap_is_reproducible_by_seed() {
    let control = [1.0, 2.0, 3.0, 4.0, 10.0];
    let treatment = [2.0, 2.5, 3.5, 8.0];
    let first = bootstrap_mean_difference(&control, &treatment, 0.9, 500, 3);
    let again = bootstrap_mean_difference(&control, &treatment, 0.9, 500, 3);
    let other = bootstrap_mean_difference(&control, &treatment, 0.9, 500, 4);
    assert_eq!(first, again);
    assert_ne!(first, other);
}
