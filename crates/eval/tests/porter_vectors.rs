//! The Porter stemmer and stemmed ROUGE against NLTK 3.10.4's
//! `PorterStemmer()` and rouge-score 0.1.2 with `use_stemmer=True`, as
//! computed by `benches/python/make_stem_vectors.py` and stored in
//! `tests/data/porter_vectors.json`. The words and pairs come from the
//! HaluEval and ARES rows under `tests/data`.

use llmops_eval::text::{RougeOptions, porter_stem, rouge_l_with, rouge_n_with};
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/porter_vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn stems_match_nltk() {
    let vectors = vectors();
    let stems = vectors["stems"].as_object().unwrap();
    assert!(stems.len() > 10_000, "only {} words", stems.len());
    let mismatches: Vec<String> = stems
        .iter()
        .filter_map(|(word, expected)| {
            let expected = expected.as_str().unwrap();
            let actual = porter_stem(word);
            (actual != expected).then(|| format!("{word:?}: got {actual:?}, NLTK {expected:?}"))
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn stemmed_rouge_matches_rouge_score() {
    let vectors = vectors();
    let pairs = vectors["pairs"].as_array().unwrap();
    assert!(pairs.len() > 500, "only {} pairs", pairs.len());
    let stemmed = RougeOptions::default().with_stemmer(true);
    for pair in pairs {
        let target = pair["target"].as_str().unwrap();
        let prediction = pair["prediction"].as_str().unwrap();
        let scores = [
            ("rouge1", rouge_n_with(target, prediction, 1, stemmed)),
            ("rouge2", rouge_n_with(target, prediction, 2, stemmed)),
            ("rougeL", rouge_l_with(target, prediction, stemmed)),
        ];
        for (name, score) in scores {
            let expected: Vec<f64> = pair[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let actual = [score.precision, score.recall, score.fmeasure];
            for (got, want) in actual.iter().zip(&expected) {
                assert!(
                    (got - want).abs() <= TOLERANCE,
                    "{name} of {prediction:?} against {target:?}: got {actual:?}, rouge-score {expected:?}"
                );
            }
        }
    }
}

#[test]
fn stemming_changes_some_scores() {
    let vectors = vectors();
    let stemmed = RougeOptions::default().with_stemmer(true);
    let changed = vectors["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| {
            let target = pair["target"].as_str().unwrap();
            let prediction = pair["prediction"].as_str().unwrap();
            let plain = rouge_l_with(target, prediction, RougeOptions::default());
            plain != rouge_l_with(target, prediction, stemmed)
        })
        .count();
    assert!(changed > 0, "stemming changed no ROUGE-L score");
}
