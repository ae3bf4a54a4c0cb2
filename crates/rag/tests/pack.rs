//! Context packing: budget, de-duplication, order and citations.

use llmops_core::tokens::TokenCounter;
use llmops_rag::{Hit, PackOrder, pack_context};

fn hit(document: &str, start: usize, text: &str) -> Hit {
    Hit {
        chunk: 0,
        document_id: document.to_owned(),
        start,
        end: start + text.len(),
        text: text.to_owned(),
        score: 1.0,
    }
}

#[test]
fn citations_match_passages() {
    let hits = [
        hit("a", 10, "First passage."),
        hit("b", 0, "Second passage."),
    ];
    let packed = pack_context(
        &hits,
        1_000,
        "gpt-4o",
        PackOrder::Relevance,
        &TokenCounter::new(),
    );
    assert_eq!(packed.citations.len(), 2);
    assert_eq!(packed.citations[0].document_id, "a");
    assert_eq!(
        (packed.citations[0].start, packed.citations[0].end),
        (10, 24)
    );
    assert_eq!(packed.citations[1].marker, 2);
    assert_eq!(
        packed.text,
        "[1] (a bytes 10-24)\nFirst passage.\n\n[2] (b bytes 0-15)\nSecond passage.\n\n"
    );
}

#[test]
fn budget_is_never_exceeded() {
    let counter = TokenCounter::new();
    let long = "word ".repeat(200);
    let hits = [
        hit("a", 0, &long),
        hit("b", 0, "short one"),
        hit("c", 0, "short two"),
    ];
    for budget in [0_u64, 5, 20, 40, 500] {
        let packed = pack_context(&hits, budget, "gpt-4o", PackOrder::Relevance, &counter);
        assert!(packed.tokens <= budget, "{} > {budget}", packed.tokens);
        assert_eq!(
            packed.tokens,
            counter.count_text("gpt-4o", &packed.text).tokens
        );
        assert_eq!(packed.citations.len() + packed.over_budget, 3);
    }
    // The long passage does not fit 40 tokens; the two short ones do.
    let packed = pack_context(&hits, 40, "gpt-4o", PackOrder::Relevance, &counter);
    assert_eq!(packed.over_budget, 1);
    assert_eq!(packed.citations[0].document_id, "b");
}

#[test]
fn duplicates_and_overlaps_are_dropped() {
    let hits = [
        hit("a", 0, "The same   text."),
        hit("b", 0, "The same text."),
        hit("a", 5, "same text. And more"),
        hit("a", 200, "Far away text."),
    ];
    let packed = pack_context(
        &hits,
        1_000,
        "gpt-4o",
        PackOrder::Relevance,
        &TokenCounter::new(),
    );
    assert_eq!(packed.duplicates, 2);
    let sources: Vec<(&str, usize)> = packed
        .citations
        .iter()
        .map(|citation| (citation.document_id.as_str(), citation.start))
        .collect();
    assert_eq!(sources, [("a", 0), ("a", 200)]);
}

#[test]
fn document_order_groups_by_source() {
    let hits = [
        hit("b", 50, "beta later"),
        hit("a", 0, "alpha"),
        hit("b", 0, "beta first"),
    ];
    let packed = pack_context(
        &hits,
        1_000,
        "gpt-4o",
        PackOrder::Document,
        &TokenCounter::new(),
    );
    let sources: Vec<(&str, usize)> = packed
        .citations
        .iter()
        .map(|citation| (citation.document_id.as_str(), citation.start))
        .collect();
    assert_eq!(sources, [("a", 0), ("b", 0), ("b", 50)]);
}

#[test]
fn no_hits_pack_to_nothing() {
    let packed = pack_context(
        &[],
        100,
        "gpt-4o",
        PackOrder::Relevance,
        &TokenCounter::new(),
    );
    assert!(packed.text.is_empty());
    assert_eq!(packed.tokens, 0);
}
