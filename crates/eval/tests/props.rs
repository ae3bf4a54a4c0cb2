//! Property tests: ranges, symmetry, identity and permutation invariance.

use llmops_eval::stats::{bootstrap_mean_ci, mcnemar_exact, wilcoxon_signed_rank};
use llmops_eval::text::{rouge_l, rouge_n, sentence_bleu, sentence_chrf, token_f1, tokenize_rouge};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-z]{1,6}",
            "[A-Z][a-z]{0,5}",
            "[0-9.,!?-]{1,3}",
            Just("東京".to_owned()),
            Just("café".to_owned()),
            Just("🎉".to_owned()),
        ],
        0..12,
    )
    .prop_map(|words| words.join(" "))
}

proptest! {
    #[test]
    fn scores_stay_in_range(a in text(), b in text()) {
        let bleu = sentence_bleu(&a, &[&b]).score;
        prop_assert!((0.0..=100.0 + 1e-9).contains(&bleu), "BLEU {bleu}");
        let chrf = sentence_chrf(&a, &[&b]);
        prop_assert!((0.0..=100.0 + 1e-9).contains(&chrf), "chrF {chrf}");
        for score in [rouge_n(&a, &b, 1), rouge_n(&a, &b, 2), rouge_l(&a, &b)] {
            prop_assert!((0.0..=1.0).contains(&score.precision));
            prop_assert!((0.0..=1.0).contains(&score.recall));
            prop_assert!((0.0..=1.0).contains(&score.fmeasure));
        }
        if let Some(f1) = token_f1(&a, &b) {
            prop_assert!((0.0..=1.0).contains(&f1));
        }
    }

    #[test]
    fn symmetric_metrics_are_symmetric(a in text(), b in text()) {
        for n in [1, 2] {
            let forward = rouge_n(&a, &b, n);
            let backward = rouge_n(&b, &a, n);
            prop_assert!((forward.fmeasure - backward.fmeasure).abs() < 1e-12);
            prop_assert!((forward.precision - backward.recall).abs() < 1e-12);
        }
        prop_assert!((rouge_l(&a, &b).fmeasure - rouge_l(&b, &a).fmeasure).abs() < 1e-12);
        prop_assert_eq!(token_f1(&a, &b), token_f1(&b, &a));
    }

    #[test]
    fn identical_texts_score_the_maximum(a in text()) {
        if !tokenize_rouge(&a).is_empty() {
            prop_assert!((rouge_l(&a, &a).fmeasure - 1.0).abs() < 1e-12);
            prop_assert!((rouge_n(&a, &a, 1).fmeasure - 1.0).abs() < 1e-12);
        }
        if !a.trim().is_empty() {
            prop_assert!((sentence_bleu(&a, &[&a]).score - 100.0).abs() < 1e-9);
            prop_assert!((sentence_chrf(&a, &[&a]) - 100.0).abs() < 1e-9);
        }
    }

    #[test]
    fn bleu_ignores_reference_order(a in text(), b in text(), c in text()) {
        let forward = sentence_bleu(&a, &[&b, &c]).score;
        let backward = sentence_bleu(&a, &[&c, &b]).score;
        prop_assert!((forward - backward).abs() < 1e-9);
    }

    #[test]
    fn bootstrap_interval_brackets_the_mean(values in prop::collection::vec(0.0f64..1.0, 1..40), seed in 0u64..1000) {
        let ci = bootstrap_mean_ci(&values, 200, 0.95, seed).unwrap();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(ci.low <= ci.high);
        prop_assert!(ci.low >= min - 1e-12 && ci.high <= max + 1e-12);
    }

    #[test]
    fn bootstrap_ignores_case_order(mut values in prop::collection::vec(0.0f64..1.0, 2..30)) {
        let before = bootstrap_mean_ci(&values, 100, 0.9, 3).unwrap();
        values.reverse();
        let after = bootstrap_mean_ci(&values, 100, 0.9, 3).unwrap();
        prop_assert!((before.estimate - after.estimate).abs() < 1e-12);
    }

    #[test]
    fn paired_tests_are_symmetric_in_direction(pairs in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 1..60)) {
        let (base, cand): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        match (wilcoxon_signed_rank(&base, &cand), wilcoxon_signed_rank(&cand, &base)) {
            (Some(forward), Some(backward)) => {
                prop_assert!((forward.p_value - backward.p_value).abs() < 1e-9);
                prop_assert!((0.0..=1.0).contains(&forward.p_value));
            }
            (None, None) => {}
            other => prop_assert!(false, "asymmetric outcome {other:?}"),
        }
        let base_pass: Vec<bool> = base.iter().map(|v| *v > 0.5).collect();
        let cand_pass: Vec<bool> = cand.iter().map(|v| *v > 0.5).collect();
        let forward = mcnemar_exact(&base_pass, &cand_pass);
        let backward = mcnemar_exact(&cand_pass, &base_pass);
        prop_assert!((forward.p_value - backward.p_value).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&forward.p_value));
    }
}
