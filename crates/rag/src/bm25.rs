//! A BM25 keyword index with the Lucene scoring variant.
//!
//! Tokens are maximal runs of two or more Unicode word characters,
//! lowercased: the regular expression `\b\w\w+\b`, which is also the default
//! token pattern of the Python `bm25s` package (0.3.16) and of scikit-learn's
//! `CountVectorizer`. Scores use the Lucene variant:
//! `idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))` and
//! `tf / (tf + k1 * (1 - b + b * len / avg_len))` per term.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Default BM25 `k1`, as in `bm25s` 0.3.16.
pub const DEFAULT_K1: f32 = 1.5;
/// Default BM25 `b`.
pub const DEFAULT_B: f32 = 0.75;

fn token_pattern() -> Option<&'static Regex> {
    static PATTERN: OnceLock<Option<Regex>> = OnceLock::new();
    PATTERN
        .get_or_init(|| Regex::new(r"\b\w\w+\b").ok())
        .as_ref()
}

/// Splits text into lowercased BM25 tokens.
///
/// ```
/// assert_eq!(llmops_rag::tokenize("A T-cell's IL-2 Größe"), ["cell", "il", "größe"]);
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let Some(pattern) = token_pattern() else {
        return Vec::new();
    };
    pattern
        .find_iter(text)
        .map(|found| found.as_str().to_lowercase())
        .collect()
}

/// An inverted index over a fixed set of texts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bm25Index {
    k1: f32,
    b: f32,
    terms: HashMap<String, u32>,
    /// Per term, `(text index, term frequency)` in text order.
    postings: Vec<Vec<(u32, u32)>>,
    lengths: Vec<u32>,
    average_length: f32,
}

impl Bm25Index {
    /// Indexes `texts` with the given `k1` and `b`.
    pub fn build<S: AsRef<str>>(texts: &[S], k1: f32, b: f32) -> Self {
        let mut terms: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut lengths = Vec::with_capacity(texts.len());
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for (index, text) in texts.iter().enumerate() {
            counts.clear();
            let tokens = tokenize(text.as_ref());
            lengths.push(u32::try_from(tokens.len()).unwrap_or(u32::MAX));
            for token in tokens {
                let next_id = u32::try_from(terms.len()).unwrap_or(u32::MAX);
                let id = *terms.entry(token).or_insert(next_id);
                if id as usize == postings.len() {
                    postings.push(Vec::new());
                }
                *counts.entry(id).or_insert(0) += 1;
            }
            let mut sorted: Vec<(u32, u32)> = counts.iter().map(|(&id, &tf)| (id, tf)).collect();
            sorted.sort_unstable();
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for (id, tf) in sorted {
                postings[id as usize].push((index, tf));
            }
        }
        let total: u64 = lengths.iter().map(|&length| u64::from(length)).sum();
        let average_length = if lengths.is_empty() {
            0.0
        } else {
            total as f32 / lengths.len() as f32
        };
        Bm25Index {
            k1,
            b,
            terms,
            postings,
            lengths,
            average_length,
        }
    }

    /// Returns the number of indexed texts.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Returns true when no text is indexed.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Returns up to `k` `(text index, score)` pairs with a score above 0,
    /// best first, among the texts that `keep` accepts. Ties go to the lower
    /// index.
    pub fn search(&self, query: &str, k: usize, keep: &dyn Fn(usize) -> bool) -> Vec<(usize, f32)> {
        let mut scores = vec![0.0_f32; self.lengths.len()];
        let mut touched = Vec::new();
        let count = self.lengths.len() as f32;
        for token in tokenize(query) {
            let Some(&id) = self.terms.get(&token) else {
                continue;
            };
            let postings = &self.postings[id as usize];
            let df = postings.len() as f32;
            let idf = (1.0 + (count - df + 0.5) / (df + 0.5)).ln();
            for &(index, tf) in postings {
                let slot = &mut scores[index as usize];
                if *slot == 0.0 {
                    touched.push(index as usize);
                }
                *slot += idf * self.term_weight(tf, index);
            }
        }
        let mut hits: Vec<(usize, f32)> = touched
            .into_iter()
            .filter(|&index| scores[index] > 0.0 && keep(index))
            .map(|index| (index, scores[index]))
            .collect();
        top_k(&mut hits, k);
        hits
    }

    fn term_weight(&self, tf: u32, index: u32) -> f32 {
        let tf = tf as f32;
        let length = self.lengths[index as usize] as f32;
        let norm = if self.average_length > 0.0 {
            1.0 - self.b + self.b * length / self.average_length
        } else {
            1.0
        };
        tf / (tf + self.k1 * norm)
    }
}

/// Keeps the `k` best `(index, score)` pairs, sorted by score descending
/// then index ascending.
pub(crate) fn top_k(hits: &mut Vec<(usize, f32)>, k: usize) {
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if hits.len() > k && k > 0 {
        hits.select_nth_unstable_by(k - 1, order);
    }
    hits.truncate(k);
    hits.sort_unstable_by(order);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_drops_single_characters() {
        assert_eq!(tokenize("a bc d ef1"), ["bc", "ef1"]);
        assert!(tokenize("").is_empty());
        assert!(tokenize("a ! ?").is_empty());
    }

    #[test]
    fn score_matches_hand_computation() {
        // Two texts of 2 and 4 tokens; "cat" appears once in the first only.
        let index = Bm25Index::build(&["cat dog", "dog dog bird fish"], 1.5, 0.75);
        let hits = index.search("cat", 10, &|_| true);
        let idf = (1.0_f32 + (2.0 - 1.0 + 0.5) / (1.0 + 0.5)).ln();
        let norm = 1.0 - 0.75 + 0.75 * 2.0 / 3.0;
        let expected = idf * 1.0 / (1.0 + 1.5 * norm);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, 0);
        assert!((hits[0].1 - expected).abs() < 1e-6);
    }

    #[test]
    fn search_respects_filter_and_k() {
        let index = Bm25Index::build(&["dog", "dog dog", "dog cat"], 1.5, 0.75);
        let all = index.search("dog", 2, &|_| true);
        assert_eq!(all.len(), 2);
        let odd = index.search("dog", 10, &|index| index != 1);
        assert!(odd.iter().all(|&(index, _)| index != 1));
        assert_eq!(odd.len(), 2);
    }
}
