//! Context packing: retrieved chunks into a token budget, with citations.

use std::collections::HashSet;

use llmops_core::tokens::TokenCounter;
use serde::{Deserialize, Serialize};

use crate::retrieve::Hit;

/// Where a packed passage came from, so an answer can cite it and an
/// evaluator can check the citation against the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    /// The number shown before the passage, from 1.
    pub marker: usize,
    /// The source document id.
    pub document_id: String,
    /// Byte offset of the passage in the document's extracted text.
    pub start: usize,
    /// Byte offset one past the passage's end.
    pub end: usize,
}

/// Retrieved passages that fit the budget, formatted for a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedContext {
    /// Passages as `[n] (document_id bytes start-end)` lines, each followed
    /// by its text and a blank line.
    pub text: String,
    /// One citation per packed passage, in the order of `text`.
    pub citations: Vec<Citation>,
    /// Tokens of `text`.
    pub tokens: u64,
    /// Hits left out because they repeat a packed passage.
    pub duplicates: usize,
    /// Hits left out because they did not fit the budget.
    pub over_budget: usize,
}

/// Order of the packed passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PackOrder {
    /// Most relevant first, as retrieved.
    #[default]
    Relevance,
    /// Grouped by document, then by position in the document.
    Document,
}

/// Packs `hits`, best first, into at most `budget_tokens` tokens of `model`.
///
/// A hit is skipped as a duplicate when its text equals a packed one after
/// whitespace is collapsed, or when more than half of it overlaps a packed
/// passage of the same document. A hit that does not fit is skipped and
/// smaller later hits may still fit.
///
/// ```
/// use llmops_core::tokens::TokenCounter;
/// use llmops_rag::{Hit, PackOrder, pack_context};
///
/// let hit = |id: &str, text: &str| Hit {
///     chunk: 0, document_id: id.into(), start: 0, end: text.len(), text: text.into(), score: 1.0,
/// };
/// let hits = [hit("a", "Paris is in France."), hit("b", "Paris is in France.")];
/// let packed = pack_context(&hits, 100, "gpt-4o", PackOrder::Relevance, &TokenCounter::new());
/// assert_eq!(packed.citations.len(), 1);
/// assert_eq!(packed.duplicates, 1);
/// assert!(packed.text.starts_with("[1] (a bytes 0-19)"));
/// ```
pub fn pack_context(
    hits: &[Hit],
    budget_tokens: u64,
    model: &str,
    order: PackOrder,
    counter: &TokenCounter,
) -> PackedContext {
    let mut seen_texts: HashSet<String> = HashSet::new();
    let mut chosen: Vec<&Hit> = Vec::new();
    let mut duplicates = 0;
    let mut over_budget = 0;
    let mut used = 0_u64;
    for hit in hits {
        let normalized = hit.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if seen_texts.contains(&normalized) || overlaps_packed(hit, &chosen) {
            duplicates += 1;
            continue;
        }
        let cost = counter.count_text(model, &passage(0, hit)).tokens;
        if used + cost > budget_tokens {
            over_budget += 1;
            continue;
        }
        used += cost;
        seen_texts.insert(normalized);
        chosen.push(hit);
    }
    if order == PackOrder::Document {
        chosen.sort_by(|a, b| (&a.document_id, a.start).cmp(&(&b.document_id, b.start)));
    }

    let mut text = String::new();
    let mut citations = Vec::with_capacity(chosen.len());
    for (index, hit) in chosen.iter().enumerate() {
        text.push_str(&passage(index + 1, hit));
        citations.push(Citation {
            marker: index + 1,
            document_id: hit.document_id.clone(),
            start: hit.start,
            end: hit.end,
        });
    }
    let tokens = counter.count_text(model, &text).tokens;
    PackedContext {
        text,
        citations,
        tokens,
        duplicates,
        over_budget,
    }
}

fn passage(marker: usize, hit: &Hit) -> String {
    format!(
        "[{marker}] ({} bytes {}-{})\n{}\n\n",
        hit.document_id, hit.start, hit.end, hit.text
    )
}

fn overlaps_packed(hit: &Hit, chosen: &[&Hit]) -> bool {
    let length = hit.end.saturating_sub(hit.start);
    chosen.iter().any(|packed| {
        if packed.document_id != hit.document_id {
            return false;
        }
        let shared = hit
            .end
            .min(packed.end)
            .saturating_sub(hit.start.max(packed.start));
        let smaller = length.min(packed.end.saturating_sub(packed.start)).max(1);
        shared * 2 > smaller
    })
}
