//! Review export, label import with validation, and Cohen's kappa against
//! scikit-learn.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use llmops_eval::judge::JudgeScale;
use llmops_eval::labels::{
    KappaWeights, LabelSet, cohen_kappa, judge_agreement, read_labels, review_items,
    write_review_csv, write_review_jsonl,
};
use llmops_eval::{Case, CaseResult, Dataset, EvalError, EvalRun, RunInfo, Score, ScoreRange};

fn dataset() -> Dataset {
    Dataset::new(
        "review",
        vec![
            Case::new("c1", "Capital of France?").expected("Paris"),
            Case::new("c2", "Wer schrieb „Faust“?").context("Goethe schrieb Faust."),
            Case::new("c3", "2+2, with a comma, and \"quotes\"?"),
        ],
    )
    .unwrap()
}

fn run() -> EvalRun {
    let scores = [
        Score::value(5.0),
        Score::value(2.0),
        Score::undetermined("no score in reply"),
    ];
    let results = ["c1", "c2", "c3"]
        .iter()
        .zip(scores)
        .map(|(id, score)| CaseResult {
            case_id: (*id).to_owned(),
            tags: Vec::new(),
            output: format!("output of {id}\nsecond line"),
            latency_ms: None,
            cost_usd: None,
            scores: BTreeMap::from([("correctness".to_owned(), score)]),
            details: BTreeMap::new(),
            error: None,
        })
        .collect();
    EvalRun {
        info: RunInfo {
            run_id: "r1".to_owned(),
            dataset: "review".to_owned(),
            dataset_version: "v".to_owned(),
            model: "m".to_owned(),
            prompt_version: None,
            metrics: BTreeMap::from([(
                "correctness".to_owned(),
                ScoreRange {
                    min: 1.0,
                    max: 5.0,
                    higher_is_better: true,
                },
            )]),
        },
        results,
    }
}

fn known_ids() -> HashSet<String> {
    ["c1", "c2", "c3"]
        .iter()
        .map(|id| (*id).to_owned())
        .collect()
}

#[test]
fn review_items_carry_outputs_and_scores() {
    let items = review_items(&run(), &dataset(), "correctness").unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].judge_score, Some(5.0));
    assert_eq!(items[0].expected.as_deref(), Some("Paris"));
    assert_eq!(items[1].contexts, vec!["Goethe schrieb Faust."]);
    assert_eq!(items[2].judge_score, None);
    assert_eq!(
        items[2].judge_undetermined.as_deref(),
        Some("no score in reply")
    );
    let error = review_items(&run(), &dataset(), "bleu").unwrap_err();
    assert!(error.to_string().contains("bleu"), "{error}");
}

/// Fills the `label` of an exported JSON Lines file line by line.
fn fill_jsonl(path: &Path, labels: &[serde_json::Value]) {
    let text = std::fs::read_to_string(path).unwrap();
    let filled: Vec<String> = text
        .lines()
        .zip(labels)
        .map(|(line, label)| {
            let mut object: serde_json::Value = serde_json::from_str(line).unwrap();
            object["label"] = label.clone();
            object.to_string()
        })
        .collect();
    std::fs::write(path, filled.join("\n")).unwrap();
}

#[test]
fn jsonl_round_trip_with_word_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.jsonl");
    write_review_jsonl(
        &review_items(&run(), &dataset(), "correctness").unwrap(),
        &path,
    )
    .unwrap();
    fill_jsonl(
        &path,
        &[
            serde_json::json!(5),
            serde_json::json!("four"),
            serde_json::json!(""),
        ],
    );

    let labels = read_labels(&path, &known_ids(), JudgeScale::ONE_TO_FIVE).unwrap();
    assert_eq!(labels.labels.get("c1"), Some(&5.0));
    assert_eq!(labels.labels.get("c2"), Some(&4.0));
    assert_eq!(labels.labels.get("c3"), None);
    assert_eq!(labels.unlabelled, 1);
}

#[test]
fn csv_round_trip_keeps_quotes_and_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.csv");
    write_review_csv(
        &review_items(&run(), &dataset(), "correctness").unwrap(),
        &path,
    )
    .unwrap();

    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let label_column = headers.iter().position(|h| h == "label").unwrap();
    let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[2][1], "2+2, with a comma, and \"quotes\"?");
    assert_eq!(&rows[0][4], "output of c1\nsecond line");
    for (row, label) in rows.iter_mut().zip(["5", "3", "1"]) {
        let mut fields: Vec<String> = row.iter().map(str::to_owned).collect();
        fields[label_column] = label.to_owned();
        *row = csv::StringRecord::from(fields);
    }
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&headers).unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();

    let labels = read_labels(&path, &known_ids(), JudgeScale::ONE_TO_FIVE).unwrap();
    let values: Vec<f64> = labels.labels.values().copied().collect();
    assert_eq!(values, vec![5.0, 3.0, 1.0]);
}

fn import_error(file_name: &str, contents: &str, scale: JudgeScale) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, contents).unwrap();
    match read_labels(&path, &known_ids(), scale) {
        Err(error @ EvalError::InvalidLabel { .. }) => error.to_string(),
        other => panic!("expected an invalid label error, got {other:?}"),
    }
}

#[test]
fn invalid_labels_name_line_and_value() {
    let cases = [
        (
            "l.jsonl",
            "{\"case_id\": \"c1\", \"label\": 1}\n{\"case_id\": \"zz\", \"label\": 1}\n",
            "line 2",
            "`zz`",
        ),
        (
            "l.jsonl",
            "{\"case_id\": \"c1\", \"label\": \"maybe\"}\n",
            "line 1",
            "maybe",
        ),
        (
            "l.jsonl",
            "{\"case_id\": \"c1\", \"label\": 7}\n",
            "line 1",
            "7",
        ),
        (
            "l.jsonl",
            "\n{\"case_id\": \"c1\", \"label\": 1}\n{\"case_id\": \"c1\", \"label\": 2}\n",
            "line 3",
            "twice",
        ),
        ("l.jsonl", "not json\n", "line 1", "JSON object"),
        ("l.jsonl", "{\"label\": 1}\n", "line 1", "missing `case_id`"),
        ("l.csv", "case_id,label\nc1,3\nc2,six\n", "row 3", "six"),
        ("l.csv", "case_id,score\nc1,3\n", "header", "`label`"),
        ("l.csv", "case_id,label\n,3\n", "row 2", "empty `case_id`"),
    ];
    for (file_name, contents, location, value) in cases {
        let error = import_error(file_name, contents, JudgeScale::ONE_TO_FIVE);
        assert!(error.contains(location), "{contents:?}: {error}");
        assert!(error.contains(value), "{contents:?}: {error}");
    }
}

#[test]
fn pass_fail_labels_accept_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.csv");
    std::fs::write(&path, "case_id,label\nc1,Yes\nc2,fail\nc3,1\n").unwrap();
    let labels = read_labels(&path, &known_ids(), JudgeScale::PassFail).unwrap();
    let values: Vec<f64> = labels.labels.values().copied().collect();
    assert_eq!(values, vec![1.0, 0.0, 1.0]);
}

#[test]
fn missing_file_is_an_io_error() {
    let error = read_labels(
        Path::new("/nonexistent/labels.jsonl"),
        &known_ids(),
        JudgeScale::PassFail,
    )
    .unwrap_err();
    assert!(matches!(error, EvalError::LabelIo { .. }), "{error}");
}

#[test]
fn agreement_on_points_reports_weighted_kappa() {
    let scores = [
        ("a", Score::value(5.0)),
        ("b", Score::value(4.0)),
        ("c", Score::value(1.0)),
        ("d", Score::value(2.0)),
    ];
    let mut human = LabelSet::default();
    for (id, label) in [("a", 5.0), ("b", 5.0), ("c", 1.0), ("d", 1.0)] {
        human.labels.insert(id.to_owned(), label);
    }
    let agreement = judge_agreement(
        scores.iter().map(|(id, s)| (*id, s)),
        &human,
        JudgeScale::ONE_TO_FIVE,
    );
    assert_eq!(agreement.pairs, 4);
    assert_eq!(agreement.accuracy, Some(0.5));
    let quadratic = agreement.quadratic_kappa.unwrap();
    let unweighted = agreement.kappa.unwrap();
    assert!(
        quadratic > unweighted,
        "near misses count less: {quadratic} vs {unweighted}"
    );
}

#[derive(serde::Deserialize)]
struct Vectors {
    cases: Vec<VectorCase>,
}

#[derive(serde::Deserialize)]
struct VectorCase {
    labels: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    unweighted: f64,
    linear: f64,
    quadratic: f64,
    unweighted_full_scale: f64,
    linear_full_scale: f64,
    quadratic_full_scale: f64,
}

#[test]
fn kappa_matches_scikit_learn() {
    let text = std::fs::read_to_string("tests/data/kappa/sklearn_vectors.json").unwrap();
    let vectors: Vectors = serde_json::from_str(&text).unwrap();
    assert_eq!(vectors.cases.len(), 27);
    for (index, case) in vectors.cases.iter().enumerate() {
        let checks = [
            (KappaWeights::Unweighted, None, case.unweighted),
            (KappaWeights::Linear, None, case.linear),
            (KappaWeights::Quadratic, None, case.quadratic),
            (
                KappaWeights::Unweighted,
                Some(case.labels.as_slice()),
                case.unweighted_full_scale,
            ),
            (
                KappaWeights::Linear,
                Some(case.labels.as_slice()),
                case.linear_full_scale,
            ),
            (
                KappaWeights::Quadratic,
                Some(case.labels.as_slice()),
                case.quadratic_full_scale,
            ),
        ];
        for (weights, labels, expected) in checks {
            let kappa = cohen_kappa(&case.a, &case.b, labels, weights).unwrap();
            assert!(
                (kappa - expected).abs() < 1e-9,
                "case {index} {weights:?} labels {}: {kappa} vs scikit-learn {expected}",
                labels.is_some()
            );
        }
    }
}
