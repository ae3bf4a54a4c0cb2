use proptest::prelude::*;

use super::*;

const FIVE: JudgeScale = JudgeScale::ONE_TO_FIVE;

fn score(text: &str, scale: JudgeScale) -> Result<f64, String> {
    parse_verdict(text, scale).map(|verdict| verdict.score)
}

#[test]
fn messy_outputs_with_a_clear_score_parse() {
    let corpus: &[(&str, JudgeScale, f64)] = &[
        (r#"{"reasoning": "fine", "score": 4}"#, FIVE, 4.0),
        (
            "```json\n{\"score\": 3, \"reasoning\": \"ok\"}\n```",
            FIVE,
            3.0,
        ),
        ("```\n{\"score\": 5}\n```\nHope this helps!", FIVE, 5.0),
        (
            "Sure! Here is my verdict: {\"score\": \"2\"} Let me know.",
            FIVE,
            2.0,
        ),
        (r#"{"Score": "four", "reasoning": "x"}"#, FIVE, 4.0),
        (r#"{"score": "4/5"}"#, FIVE, 4.0),
        (r#"{"score": 4.0}"#, FIVE, 4.0),
        (r#"{"note": "first"} {"score": 1}"#, FIVE, 1.0),
        (
            r#"{"reasoning": "uses { and } in text", "score": 2}"#,
            FIVE,
            2.0,
        ),
        ("Score: 3\nThe answer is partly right.", FIVE, 3.0),
        ("The score I give is high. **Score**: 5", FIVE, 5.0),
        ("4", FIVE, 4.0),
        (r#"{"score": 4"#, FIVE, 4.0),
        ("4.", FIVE, 4.0),
        (r#"{"score": "pass"}"#, JudgeScale::PassFail, 1.0),
        (
            r#"{"score": "FAIL", "reasoning": "wrong"}"#,
            JudgeScale::PassFail,
            0.0,
        ),
        (r#"{"score": true}"#, JudgeScale::PassFail, 1.0),
        (r#"{"score": 0}"#, JudgeScale::PassFail, 0.0),
        ("[[Yes]]", JudgeScale::PassFail, 1.0),
        (
            "No. The answer contradicts the document.",
            JudgeScale::PassFail,
            0.0,
        ),
        (
            "«réponse» {\"score\": \"yes\"} ✓",
            JudgeScale::PassFail,
            1.0,
        ),
    ];
    for (text, scale, expected) in corpus {
        assert_eq!(score(text, *scale), Ok(*expected), "reply: {text}");
    }
}

#[test]
fn reasoning_is_kept() {
    let verdict = parse_verdict(r#"{"reasoning": "cites the source", "score": 5}"#, FIVE).unwrap();
    assert_eq!(verdict.reasoning.as_deref(), Some("cites the source"));
}

#[test]
fn ambiguous_or_missing_scores_fail_with_a_reason() {
    let corpus: &[(&str, JudgeScale, &str)] = &[
        ("", FIVE, "empty reply"),
        ("   \n", FIVE, "empty reply"),
        ("I think it is quite good.", FIVE, "no `score`"),
        (r#"{"score": "excellent"}"#, FIVE, "not a number"),
        (r#"{"score": 6}"#, FIVE, "not a value of the 1-5 scale"),
        (r#"{"score": 0}"#, FIVE, "not a value of the 1-5 scale"),
        (r#"{"score": 3.5}"#, FIVE, "not a value of the 1-5 scale"),
        (r#"{"score": -1}"#, FIVE, "not a value"),
        (r#"{"score": "8/10"}"#, FIVE, "out of 10"),
        (r#"{"score": "yes"}"#, FIVE, "pass/fail word"),
        (r#"{"score": true}"#, FIVE, "boolean"),
        (r#"{"score": null}"#, FIVE, "null"),
        (r#"{"score": [4]}"#, FIVE, "list or object"),
        (
            r#"{"score": 2}"#,
            JudgeScale::PassFail,
            "not a value of the pass-fail scale",
        ),
        (
            r#"{"score": "maybe"}"#,
            JudgeScale::PassFail,
            "not a number",
        ),
        ("No idea, sorry", JudgeScale::PassFail, "no `score`"),
        ("Score: excellent", FIVE, "not a number"),
    ];
    for (text, scale, reason) in corpus {
        let error = score(text, *scale).unwrap_err();
        assert!(
            error.contains(reason),
            "reply {text:?}: reason {error:?} lacks {reason:?}"
        );
    }
}

#[test]
fn first_object_with_a_score_wins() {
    let text = r#"{"score": 2} and later {"score": 5}"#;
    assert_eq!(score(text, FIVE), Ok(2.0));
}

#[test]
fn long_reasons_are_truncated() {
    let reply = "x".repeat(10_000);
    let error = score(&reply, FIVE).unwrap_err();
    assert!(error.chars().count() < 200, "{error}");
}

#[test]
fn preferences_parse_from_messy_outputs() {
    let corpus: &[(&str, Preference)] = &[
        (
            r#"{"reasoning": "more complete", "winner": "A"}"#,
            Preference::First,
        ),
        ("```json\n{\"winner\": \"b\"}\n```", Preference::Second),
        (r#"{"winner": "Response B"}"#, Preference::Second),
        (r#"{"winner": "tie"}"#, Preference::Tie),
        ("Winner: A\nBecause it is shorter.", Preference::First),
        ("B", Preference::Second),
        ("Tie.", Preference::Tie),
    ];
    for (text, expected) in corpus {
        assert_eq!(parse_preference(text), Ok(*expected), "reply: {text}");
    }
}

#[test]
fn unknown_winners_fail() {
    for text in [
        r#"{"winner": "C"}"#,
        r#"{"winner": 1}"#,
        "I prefer neither much",
        "",
    ] {
        assert!(parse_preference(text).is_err(), "reply: {text}");
    }
}

fn scale_strategy() -> impl Strategy<Value = JudgeScale> {
    prop_oneof![
        Just(JudgeScale::PassFail),
        (0u32..5, 1u32..10).prop_map(|(min, span)| JudgeScale::Points {
            min,
            max: min + span
        }),
    ]
}

proptest! {
    #[test]
    fn parser_never_returns_off_scale_scores(text in ".{0,200}", scale in scale_strategy()) {
        if let Ok(verdict) = parse_verdict(&text, scale) {
            prop_assert!(scale.contains(verdict.score), "{} from {text:?}", verdict.score);
        }
        let _ = parse_preference(&text);
    }

    #[test]
    fn json_scores_round_trip_or_fail(value in -20i64..20, noise in "[a-z {}`\n]{0,30}", scale in scale_strategy()) {
        let text = format!("{noise}{{\"score\": {value}}}{noise}");
        match parse_verdict(&text, scale) {
            Ok(verdict) => prop_assert!(scale.contains(verdict.score)),
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
        #[allow(clippy::cast_precision_loss)]
        let as_float = value as f64;
        if scale.contains(as_float) && !noise.contains('{') {
            prop_assert_eq!(parse_verdict(&text, scale).map(|v| v.score), Ok(as_float));
        }
    }
}
