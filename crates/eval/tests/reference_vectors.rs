//! Metric values against sacreBLEU 2.6.0, rouge-score 0.1.2 and SciPy
//! 1.17.1, computed by `benches/python/make_vectors.py` and stored in
//! `tests/data/reference_vectors.json`.

use llmops_eval::stats::{mcnemar_exact, wilcoxon_signed_rank};
use llmops_eval::text::{
    corpus_bleu, rouge_l, rouge_n, sentence_bleu, sentence_chrf, token_f1, tokenize_13a,
};
use serde_json::Value;

const TOLERANCE: f64 = 1e-6;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/reference_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn assert_close(actual: f64, expected: f64, what: &str, hypothesis: &str) {
    assert!(
        (actual - expected).abs() <= TOLERANCE,
        "{what} for {hypothesis:?}: got {actual}, Python gave {expected}"
    );
}

#[test]
fn tokenizer_13a_matches_sacrebleu() {
    for pair in vectors()["pairs"].as_array().unwrap() {
        let hypothesis = pair["hypothesis"].as_str().unwrap();
        assert_eq!(
            tokenize_13a(hypothesis),
            strings(&pair["tokens_13a"]),
            "{hypothesis:?}"
        );
    }
}

#[test]
fn sentence_bleu_matches_sacrebleu() {
    for pair in vectors()["pairs"].as_array().unwrap() {
        let hypothesis = pair["hypothesis"].as_str().unwrap();
        let references = strings(&pair["references"]);
        let score = sentence_bleu(hypothesis, &references);
        assert_close(
            score.score,
            pair["bleu"].as_f64().unwrap(),
            "BLEU",
            hypothesis,
        );
        assert_close(
            score.brevity_penalty,
            pair["bleu_bp"].as_f64().unwrap(),
            "BP",
            hypothesis,
        );
        for (order, expected) in floats(&pair["bleu_precisions"]).into_iter().enumerate() {
            assert_close(score.precisions[order], expected, "precision", hypothesis);
        }
    }
}

#[test]
fn corpus_bleu_matches_sacrebleu() {
    let corpus = &vectors()["corpus"];
    let hypotheses = strings(&corpus["hypotheses"]);
    let references: Vec<Vec<String>> = corpus["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(strings)
        .collect();
    let score = corpus_bleu(&hypotheses, &references);
    assert_close(
        score.score,
        corpus["bleu"].as_f64().unwrap(),
        "corpus BLEU",
        "corpus",
    );
}

#[test]
fn chrf_matches_sacrebleu() {
    for pair in vectors()["pairs"].as_array().unwrap() {
        let hypothesis = pair["hypothesis"].as_str().unwrap();
        let references = strings(&pair["references"]);
        let score = sentence_chrf(hypothesis, &references);
        assert_close(score, pair["chrf"].as_f64().unwrap(), "chrF", hypothesis);
    }
}

#[test]
fn rouge_matches_rouge_score() {
    for pair in vectors()["pairs"].as_array().unwrap() {
        let hypothesis = pair["hypothesis"].as_str().unwrap();
        let target = pair["references"][0].as_str().unwrap();
        let checks = [
            ("rouge1", rouge_n(target, hypothesis, 1)),
            ("rouge2", rouge_n(target, hypothesis, 2)),
            ("rougeL", rouge_l(target, hypothesis)),
        ];
        for (name, score) in checks {
            let expected = floats(&pair[name]);
            assert_close(score.precision, expected[0], name, hypothesis);
            assert_close(score.recall, expected[1], name, hypothesis);
            assert_close(score.fmeasure, expected[2], name, hypothesis);
        }
    }
}

#[test]
fn token_f1_matches_squad_script() {
    for pair in vectors()["pairs"].as_array().unwrap() {
        let hypothesis = pair["hypothesis"].as_str().unwrap();
        let reference = pair["references"][0].as_str().unwrap();
        let actual = token_f1(hypothesis, reference);
        match pair["token_f1"].as_f64() {
            Some(expected) => assert_close(actual.unwrap(), expected, "token F1", hypothesis),
            None => assert_eq!(actual, None, "{hypothesis:?}"),
        }
    }
}

#[test]
fn wilcoxon_matches_scipy() {
    for case in vectors()["stats"]["wilcoxon"].as_array().unwrap() {
        let baseline = floats(&case["baseline"]);
        let candidate = floats(&case["candidate"]);
        let result = wilcoxon_signed_rank(&baseline, &candidate).unwrap();
        let label = format!("{} pairs", baseline.len());
        assert_close(
            result.statistic,
            case["statistic"].as_f64().unwrap(),
            "statistic",
            &label,
        );
        assert_close(
            result.p_value,
            case["p_value"].as_f64().unwrap(),
            "p-value",
            &label,
        );
    }
}

#[test]
fn mcnemar_matches_scipy_binomtest() {
    for case in vectors()["stats"]["mcnemar"].as_array().unwrap() {
        let b = case["baseline_only"].as_u64().unwrap() as usize;
        let c = case["candidate_only"].as_u64().unwrap() as usize;
        let baseline: Vec<bool> = (0..b + c).map(|i| i < b).collect();
        let candidate: Vec<bool> = (0..b + c).map(|i| i >= b).collect();
        let result = mcnemar_exact(&baseline, &candidate);
        assert_eq!(result.baseline_only, b as u64);
        assert_eq!(result.candidate_only, c as u64);
        assert_close(
            result.p_value,
            case["p_value"].as_f64().unwrap(),
            "McNemar p",
            &format!("{b}/{c}"),
        );
    }
}
