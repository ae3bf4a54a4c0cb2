//! Checks every statistic against values computed by scipy, scikit-learn
//! and Evidently on the inputs in `data/reference_values.json`.

use llmops_drift::stats::{
    MmdConfig, centroid_cosine_distance, chi_square, jensen_shannon, ks_two_sample, mmd_rbf, psi,
    roc_auc, wasserstein, wasserstein_normalised,
};
use serde_json::Value;

fn data() -> Value {
    let text = include_str!("data/reference_values.json");
    serde_json::from_str(text).unwrap()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn vectors(value: &Value) -> Vec<Vec<f32>> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|row| floats(row).into_iter().map(|x| x as f32).collect())
        .collect()
}

/// Asserts `actual` is within `tolerance`, relative to the expected value's
/// magnitude when that is above 1.
fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "{what}: got {actual}, expected {expected}"
    );
}

#[test]
fn categorical_statistics_match_references() {
    let data = data();
    for case in data["categorical"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reference = floats(&case["reference"]);
        let current = floats(&case["current"]);

        let js = jensen_shannon(&reference, &current)
            .unwrap()
            .statistic()
            .unwrap();
        assert_close(
            js,
            case["jensen_shannon"].as_f64().unwrap(),
            1e-9,
            &format!("{name} JS"),
        );

        let index = psi(&reference, &current).unwrap().statistic().unwrap();
        assert_close(
            index,
            case["psi_evidently"].as_f64().unwrap(),
            1e-9,
            &format!("{name} PSI"),
        );

        let expected = floats(&case["chi_square"]);
        let test = chi_square(&reference, &current).unwrap();
        assert_close(
            test.statistic().unwrap(),
            expected[0],
            1e-9,
            &format!("{name} chi2"),
        );
        assert_close(
            test.p_value().unwrap(),
            expected[1],
            1e-9,
            &format!("{name} chi2 p"),
        );
    }
}

#[test]
fn numeric_statistics_match_references() {
    let data = data();
    for case in data["numeric"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reference = floats(&case["reference"]);
        let current = floats(&case["current"]);

        let expected = floats(&case["ks"]);
        let ks = ks_two_sample(&reference, &current).unwrap();
        assert_close(
            ks.statistic().unwrap(),
            expected[0],
            1e-12,
            &format!("{name} KS"),
        );
        assert_close(
            ks.p_value().unwrap(),
            expected[1],
            1e-7,
            &format!("{name} KS p"),
        );

        let distance = wasserstein(&reference, &current)
            .unwrap()
            .statistic()
            .unwrap();
        let expected = case["wasserstein"].as_f64().unwrap();
        assert_close(distance, expected, 1e-9, &format!("{name} W1"));

        let normed = wasserstein_normalised(&reference, &current)
            .unwrap()
            .statistic()
            .unwrap();
        let expected = case["wasserstein_normed_evidently"].as_f64().unwrap();
        assert_close(normed, expected, 1e-9, &format!("{name} W1 normed"));
    }
}

#[test]
fn roc_auc_matches_scikit_learn() {
    let data = data();
    for case in data["auc"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let scores = floats(&case["scores"]);
        let labels: Vec<bool> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_bool().unwrap())
            .collect();
        let auc = roc_auc(&scores, &labels).unwrap().statistic().unwrap();
        assert_close(auc, case["auc"].as_f64().unwrap(), 1e-12, name);
    }
}

#[test]
fn embedding_statistics_match_references() {
    let data = data();
    for case in data["embeddings"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reference = vectors(&case["reference"]);
        let current = vectors(&case["current"]);

        let cosine = centroid_cosine_distance(&reference, &current).unwrap();
        let expected = case["centroid_cosine"].as_f64().unwrap();
        assert_close(
            cosine.statistic().unwrap(),
            expected,
            1e-6,
            &format!("{name} cosine"),
        );

        // Without subsampling the statistic is deterministic; its square is
        // the unbiased MMD², clamped at zero.
        let config = MmdConfig::default().permutations(50);
        let mmd = mmd_rbf(&reference, &current, &config)
            .unwrap()
            .statistic()
            .unwrap();
        let expected = case["mmd_squared"].as_f64().unwrap().max(0.0);
        assert_close(mmd * mmd, expected, 1e-6, &format!("{name} MMD²"));
    }
}
