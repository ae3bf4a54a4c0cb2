//! The faithfulness judge over the ARES few-shot rows with a scripted
//! judge whose reply is fixed per row: parsing of varied reply formats,
//! undetermined replies, and agreement with the human labels end to end.

use crate::ares_support;
use crate::judge_support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use ares_support::load_ares;
use judge_support::{FnBackend, prompt, section};
use llmops_eval::judge::{JudgeScale, RubricPreset};
use llmops_eval::labels::{LabelSet, judge_agreement};
use llmops_eval::{Metric, Sample, Score};

/// What the scripted judge does on a row.
#[derive(Clone, Copy, PartialEq)]
enum Script {
    Unparsable,
    Wrong,
    Right,
}

fn script(index: usize) -> Script {
    if index % 7 == 0 {
        Script::Unparsable
    } else if index % 5 == 0 {
        Script::Wrong
    } else {
        Script::Right
    }
}

/// Writes the verdict `pass` in one of several formats judges use.
fn reply(index: usize, pass: bool) -> String {
    match index % 3 {
        0 => format!(
            "```json\n{{\"reasoning\": \"checked\", \"score\": \"{}\"}}\n```",
            if pass { "pass" } else { "fail" }
        ),
        1 => format!("[[{}]]", if pass { "Yes" } else { "No" }),
        _ => format!("Verdict follows. {{\"score\": {pass}}} Done."),
    }
}

fn key(context: &str, question: &str, answer: &str) -> String {
    format!(
        "{}\u{1}{}\u{1}{}",
        context.trim(),
        question.trim(),
        answer.trim()
    )
}

#[tokio::test]
async fn faithfulness_judge_agreement_on_ares_rows() {
    let rows = load_ares(Path::new("tests/data/ares")).unwrap();
    assert_eq!(rows.len(), 42);

    let mut replies = HashMap::new();
    for (index, row) in rows.iter().enumerate() {
        let human = row.answer_faithfulness == 1.0;
        let text = match script(index) {
            Script::Unparsable => "I would need more information.".to_owned(),
            Script::Wrong => reply(index, !human),
            Script::Right => reply(index, human),
        };
        replies.insert(
            key(&row.case.contexts[0], &row.case.input, &row.answer),
            text,
        );
    }
    let backend = Arc::new(FnBackend::new(move |request| {
        let text = prompt(request);
        let context = section(&text, "[1] ", "\nQuestion:");
        let question = section(&text, "Question:\n", "\n\nAnswer to judge:");
        let answer = section(&text, "Answer to judge:\n", "\u{0}");
        Ok(replies
            .get(&key(context, question, answer))
            .cloned()
            .unwrap_or_else(|| panic!("no scripted reply for prompt {text}")))
    }));
    let judge = RubricPreset::Faithfulness
        .judge(backend.clone(), "judge")
        .unwrap();

    let mut scores = Vec::new();
    let mut human = LabelSet::default();
    for row in &rows {
        let score = judge.score(&Sample::new(&row.case, &row.answer)).await;
        scores.push((row.case.id.clone(), score));
        human
            .labels
            .insert(row.case.id.clone(), row.answer_faithfulness);
    }
    assert_eq!(backend.requests().len(), 42);

    // Unparsable replies are undetermined, never a fail.
    for (index, (_, score)) in scores.iter().enumerate() {
        let determined = score.as_value().is_some();
        assert_eq!(
            determined,
            script(index) != Script::Unparsable,
            "row {index}: {score:?}"
        );
    }

    let agreement = judge_agreement(
        scores.iter().map(|(id, score)| (id.as_str(), score)),
        &human,
        JudgeScale::PassFail,
    );

    // The expected figures, counted from the script and the labels with
    // the 2x2 kappa formula: p_o = matches / n, p_e = p_yes_judge *
    // p_yes_human + p_no_judge * p_no_human.
    let mut counts = [[0.0_f64; 2]; 2];
    for (index, row) in rows.iter().enumerate() {
        let human = usize::from(row.answer_faithfulness == 1.0);
        let judge = match script(index) {
            Script::Unparsable => continue,
            Script::Wrong => 1 - human,
            Script::Right => human,
        };
        counts[judge][human] += 1.0;
    }
    let n = counts.iter().flatten().sum::<f64>();
    let p_observed = (counts[0][0] + counts[1][1]) / n;
    let judge_yes = (counts[1][0] + counts[1][1]) / n;
    let human_yes = (counts[0][1] + counts[1][1]) / n;
    let p_chance = judge_yes * human_yes + (1.0 - judge_yes) * (1.0 - human_yes);
    let expected_kappa = (p_observed - p_chance) / (1.0 - p_chance);

    let undetermined = (0..42).filter(|i| script(*i) == Script::Unparsable).count();
    assert_eq!(agreement.judge_undetermined, undetermined);
    assert_eq!(agreement.pairs, 42 - undetermined);
    assert!((agreement.accuracy.unwrap() - p_observed).abs() < 1e-12);
    assert!((agreement.kappa.unwrap() - expected_kappa).abs() < 1e-12);
    assert!(agreement.kappa.unwrap() < 1.0);
    assert!(matches!(scores[0].1, Score::Undetermined { .. }));
}
