//! Streaming redaction equals whole-text redaction for random texts and cuts.

use std::sync::Arc;

use llmops_guardrails::normalize::NormalizedText;
use llmops_guardrails::{Analyzer, Anonymizer, PlaceholderScope, StreamScanner};
use proptest::prelude::*;

fn pii_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("900101-1234568".to_owned()),
        Just("010-1234-5678".to_owned()),
        Just("kim@example.com".to_owned()),
        Just("4111 1111 1111 1111".to_owned()),
        Just("AKIAIOSFODNN7EXAMPLE".to_owned()),
        Just("전화".to_owned()),
        "[a-z가-힣 ,.]{0,12}",
        " [0-9]{1,14} ",
    ];
    prop::collection::vec(pieces, 0..10).prop_map(|p| p.join(" "))
}

fn char_cuts(text: &str, raw: &[usize]) -> Vec<usize> {
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let mut cuts: Vec<usize> = raw
        .iter()
        .map(|r| boundaries[r % boundaries.len()])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

proptest! {
    #[test]
    fn stream_matches_whole_text(text in pii_text(), raw in prop::collection::vec(any::<usize>(), 0..6)) {
        let analyzer = Arc::new(Analyzer::new());
        let findings = analyzer.analyze(&text).unwrap();
        let expected = Anonymizer::default().anonymize(&text, &findings, &mut PlaceholderScope::new());

        let mut scanner = StreamScanner::new(Arc::clone(&analyzer), Anonymizer::default()).with_window_chars(64);
        let mut out = String::new();
        let mut start = 0;
        for cut in char_cuts(&text, &raw).into_iter().chain([text.len()]) {
            out.push_str(&scanner.push(&text[start..cut]).unwrap().text);
            start = cut;
        }
        out.push_str(&scanner.finish().unwrap().text);
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn normalized_ranges_map_to_boundaries(text in any::<String>()) {
        let normalized = NormalizedText::new(&text);
        let haystack = normalized.as_str();
        let mut previous_end = 0;
        for (start, c) in haystack.char_indices() {
            let range = normalized.to_original(start..start + c.len_utf8()).unwrap();
            prop_assert!(text.is_char_boundary(range.start));
            prop_assert!(text.is_char_boundary(range.end));
            prop_assert!(range.start < range.end);
            prop_assert!(range.end <= text.len());
            prop_assert!(range.start >= previous_end || range.end == previous_end);
            previous_end = range.end;
        }
    }
}
