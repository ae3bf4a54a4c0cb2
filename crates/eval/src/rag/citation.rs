//! Citation correctness: whether the passages an answer cites support the
//! sentences that cite them.

use std::sync::LazyLock;

use async_trait::async_trait;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::claims::split_sentences;
use super::support::SupportScorer;
use crate::metric::{Metric, Sample};
use crate::score::{Score, ScoreRange};

/// The passage header `pack_context` of llmops-rag writes:
/// `[n] (document_id bytes start-end)` on its own line.
static PACKED_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?m)^\[(\d+)\] \((.+?) bytes (\d+)-(\d+)\)[ \t]*$").ok());

/// A citation marker in an answer: `[1]`, `[1, 3]` or `[doc-id]`, not
/// followed by `(` (a Markdown link).
static CITATION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\[([^\[\]\n]{1,100})\](\()?").ok());

/// One citable passage of a context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    /// The number an answer cites it by, from 1.
    pub marker: usize,
    /// The source document id, when the context names it.
    pub document_id: Option<String>,
    /// The passage text without its header.
    pub text: String,
}

/// Splits a context packed by llmops-rag's `pack_context` into its
/// passages. Returns an empty list when the text has no passage header.
///
/// ```
/// use llmops_eval::rag::parse_packed_context;
///
/// let packed = "[1] (faq bytes 0-19)\nParis is in France.\n\n[2] (atlas bytes 5-30)\nRome is in Italy.\n\n";
/// let passages = parse_packed_context(packed);
/// assert_eq!(passages.len(), 2);
/// assert_eq!(passages[1].document_id.as_deref(), Some("atlas"));
/// assert_eq!(passages[1].text, "Rome is in Italy.");
/// ```
pub fn parse_packed_context(text: &str) -> Vec<Passage> {
    let Some(header) = PACKED_HEADER.as_ref() else {
        return Vec::new();
    };
    let headers: Vec<_> = header.captures_iter(text).collect();
    let mut passages = Vec::with_capacity(headers.len());
    for (index, captures) in headers.iter().enumerate() {
        let (Some(whole), Some(marker), Some(document)) =
            (captures.get(0), captures.get(1), captures.get(2))
        else {
            continue;
        };
        let end = headers
            .get(index + 1)
            .and_then(|next| next.get(0))
            .map_or(text.len(), |next| next.start());
        let Ok(marker) = marker.as_str().parse() else {
            continue;
        };
        passages.push(Passage {
            marker,
            document_id: Some(document.as_str().to_owned()),
            text: text[whole.end()..end].trim().to_owned(),
        });
    }
    passages
}

/// Turns contexts into citable passages: a packed context contributes its
/// passages with their markers and document ids, any other context is one
/// passage numbered by its position in the returned list, from 1.
pub fn citable_passages(contexts: &[String]) -> Vec<Passage> {
    let mut passages = Vec::new();
    for context in contexts {
        let packed = parse_packed_context(context);
        if packed.is_empty() {
            passages.push(Passage {
                marker: passages.len() + 1,
                document_id: None,
                text: context.clone(),
            });
        } else {
            passages.extend(packed);
        }
    }
    passages
}

/// A cited sentence: its text without markers and the citation targets.
#[derive(Debug, Clone, PartialEq)]
struct CitedSentence {
    text: String,
    targets: Vec<String>,
}

/// Splits an answer into sentences with their citation targets. Markers at
/// the start of a sentence (`Paris is in France. [1] Rome ...`) belong to
/// the sentence before.
fn cited_sentences(answer: &str) -> Vec<CitedSentence> {
    let Some(citation) = CITATION.as_ref() else {
        return Vec::new();
    };
    let mut sentences: Vec<CitedSentence> = Vec::new();
    for sentence in split_sentences(answer) {
        let mut text = String::new();
        let mut targets = Vec::new();
        let mut leading = Vec::new();
        let mut last = 0;
        for captures in citation.captures_iter(&sentence) {
            let (Some(whole), Some(inner)) = (captures.get(0), captures.get(1)) else {
                continue;
            };
            if captures.get(2).is_some() {
                continue;
            }
            let before = &sentence[last..whole.start()];
            let ids = inner.as_str().split(',').map(|id| id.trim().to_owned());
            if text.trim().is_empty() && before.trim().is_empty() {
                leading.extend(ids.filter(|id| !id.is_empty()));
            } else {
                targets.extend(ids.filter(|id| !id.is_empty()));
            }
            text.push_str(before);
            last = whole.end();
        }
        text.push_str(&sentence[last..]);
        match sentences.last_mut() {
            Some(previous) if !leading.is_empty() => previous.targets.append(&mut leading),
            _ => {
                leading.append(&mut targets);
                targets = leading;
            }
        }
        sentences.push(CitedSentence {
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            targets,
        });
    }
    sentences
}

/// The share of citations in the output that point to a passage supporting
/// the citing sentence, 0 to 1.
///
/// Passages come from the case contexts through [`citable_passages`]: a
/// number cites the passage with that marker, any other text cites the
/// passages of the document with that id. A citation is correct when the
/// sentence, with its markers removed, reaches the claim threshold of the
/// [`SupportScorer`] against the cited passages. A citation to no passage is
/// wrong. The definition is this crate's: the share of correct citations
/// among all citations, judged by claim support. Undetermined
/// when the output cites nothing.
#[derive(Debug, Clone, Default)]
pub struct CitationCorrectness {
    scorer: SupportScorer,
}

impl CitationCorrectness {
    /// Creates the metric on a support scorer.
    pub fn new(scorer: SupportScorer) -> Self {
        CitationCorrectness { scorer }
    }
}

#[async_trait]
impl Metric for CitationCorrectness {
    fn name(&self) -> &str {
        "citation_correctness"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let passages = citable_passages(&sample.case.contexts);
        let threshold = self.scorer.claim_threshold();
        let mut total = 0usize;
        let mut correct = 0usize;
        for sentence in cited_sentences(sample.output) {
            for target in &sentence.targets {
                total += 1;
                let cited: Vec<String> = passages
                    .iter()
                    .filter(|passage| cites(passage, target))
                    .map(|passage| passage.text.clone())
                    .collect();
                if cited.is_empty() || sentence.text.is_empty() {
                    continue;
                }
                let claim = std::slice::from_ref(&sentence.text);
                match self.scorer.support(claim, &cited).await {
                    Ok(supports) if supports.iter().all(|s| s.support >= threshold) => {
                        correct += 1;
                    }
                    Ok(_) => {}
                    Err(error) => return Score::undetermined(error.to_string()),
                }
            }
        }
        if total == 0 {
            return Score::undetermined("citation correctness: the output cites nothing");
        }
        Score::value(correct as f64 / total as f64)
    }
}

fn cites(passage: &Passage, target: &str) -> bool {
    match target.parse::<usize>() {
        Ok(marker) => passage.marker == marker,
        Err(_) => passage.document_id.as_deref() == Some(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_attach_to_sentences() {
        let sentences =
            cited_sentences("Paris is in France [1]. Rome is in Italy.[2, 3] Done [faq].");
        assert_eq!(sentences.len(), 3);
        assert_eq!(sentences[0].text, "Paris is in France .");
        assert_eq!(sentences[0].targets, ["1"]);
        assert_eq!(sentences[1].targets, ["2", "3"]);
        assert_eq!(sentences[2].targets, ["faq"]);
    }

    #[test]
    fn leading_marker_belongs_before() {
        let sentences = cited_sentences("Paris is in France. [1] Rome is in Italy.");
        assert_eq!(sentences[0].targets, ["1"]);
        assert!(sentences[1].targets.is_empty());
        assert_eq!(sentences[1].text, "Rome is in Italy.");
    }

    #[test]
    fn markdown_link_is_not_citation() {
        let sentences = cited_sentences("See [the docs](https://example.com) now.");
        assert!(sentences[0].targets.is_empty());
    }
}
