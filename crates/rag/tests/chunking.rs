//! Chunking invariants: offsets, UTF-8 boundaries, sizes, structure.

use llmops_core::tokens::TokenCounter;
use llmops_rag::{ChunkingConfig, Format, RagError, chunk_text};
use proptest::prelude::*;

fn config(max_tokens: usize, overlap_tokens: usize) -> ChunkingConfig {
    ChunkingConfig {
        tokenizer_model: "gpt-4o".to_owned(),
        max_tokens,
        overlap_tokens,
    }
}

#[test]
fn markdown_splits_at_headings() {
    let text = "# Alpha\n\nAlpha body has several words in it.\n\n# Beta\n\nBeta body also has several words.";
    let chunks = chunk_text(
        "d",
        text,
        Format::Markdown,
        &config(14, 0),
        &TokenCounter::new(),
    )
    .unwrap();
    assert_eq!(chunks.len(), 2, "{chunks:#?}");
    assert!(chunks[0].text.starts_with("# Alpha"));
    assert!(chunks[1].text.starts_with("# Beta"));
}

#[test]
fn sequence_numbers_count_from_zero() {
    let text = "One sentence here. Another sentence there. A third one follows. And a fourth.";
    let chunks = chunk_text("d", text, Format::Text, &config(6, 0), &TokenCounter::new()).unwrap();
    let sequences: Vec<u32> = chunks.iter().map(|chunk| chunk.sequence).collect();
    let expected: Vec<u32> = (0..chunks.len() as u32).collect();
    assert_eq!(sequences, expected);
    assert!(chunks.len() >= 3);
}

#[test]
fn overlap_repeats_text() {
    let text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";
    let chunks = chunk_text("d", text, Format::Text, &config(6, 3), &TokenCounter::new()).unwrap();
    assert!(chunks.len() >= 2);
    assert!(chunks[1].start < chunks[0].end, "{chunks:#?}");
}

#[test]
fn bad_settings_are_rejected() {
    let counter = TokenCounter::new();
    let error = chunk_text("d", "x", Format::Text, &config(0, 0), &counter).unwrap_err();
    assert!(matches!(
        error,
        RagError::InvalidConfig {
            setting: "max_tokens",
            ..
        }
    ));
    let error = chunk_text("d", "x", Format::Text, &config(8, 8), &counter).unwrap_err();
    assert!(matches!(
        error,
        RagError::InvalidConfig {
            setting: "overlap_tokens",
            ..
        }
    ));
}

#[test]
fn empty_text_has_no_chunks() {
    let chunks = chunk_text(
        "d",
        "   ",
        Format::Text,
        &config(8, 0),
        &TokenCounter::new(),
    )
    .unwrap();
    assert!(chunks.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn offsets_slice_the_source(text in "\\PC{0,300}", max in 4_usize..40, markdown: bool) {
        let format = if markdown { Format::Markdown } else { Format::Text };
        let chunks = chunk_text("d", &text, format, &config(max, 0), &TokenCounter::new()).unwrap();
        for chunk in &chunks {
            prop_assert!(text.is_char_boundary(chunk.start));
            prop_assert!(text.is_char_boundary(chunk.end));
            prop_assert_eq!(&text[chunk.start..chunk.end], chunk.text.as_str());
            prop_assert!(!chunk.text.trim().is_empty());
        }
        for pair in chunks.windows(2) {
            prop_assert!(pair[0].start < pair[1].start);
        }
    }

    #[test]
    fn chunks_fit_the_token_limit(
        words in proptest::collection::vec("[a-z]{1,8}|[.,;!?]|\n\n", 0..200),
        max in 4_usize..40,
        overlap in 0_usize..4,
    ) {
        let text = words.join(" ");
        let counter = TokenCounter::new();
        let chunks = chunk_text("d", &text, Format::Text, &config(max, overlap), &counter).unwrap();
        for chunk in &chunks {
            let tokens = counter.count_text("gpt-4o", &chunk.text).tokens as usize;
            prop_assert!(tokens <= max, "{} tokens in {:?}", tokens, chunk.text);
        }
        // Every word of the source appears in some chunk.
        let covered: usize = chunks.iter().map(|chunk| chunk.end).max().unwrap_or(0);
        prop_assert!(covered >= text.trim_end().len());
    }
}
