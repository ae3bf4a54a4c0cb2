//! A BM25 keyword index with the Lucene scoring variant.
//!
//! Tokens are maximal runs of two or more Unicode word characters,
//! lowercased: the regular expression `\b\w\w+\b`, which is also the default
//! token pattern of the Python `bm25s` package (0.3.16) and of scikit-learn's
//! `CountVectorizer`. Scores use the Lucene variant:
//! `idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))` and
//! `tf / (tf + k1 * (1 - b + b * len / avg_len))` per term.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
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
    /// Per text, `k1 * (1 - b + b * len / avg_len)`: derived from the
    /// lengths on the first search, so it is not stored.
    #[serde(skip)]
    length_factors: OnceLock<Vec<f32>>,
}

thread_local! {
    /// Score per text and the texts scored, reused by every search on a
    /// thread; each search leaves every score at 0 again.
    static SCORES: RefCell<(Vec<f32>, Vec<u32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
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
            length_factors: OnceLock::new(),
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
        let run = |buffers: &mut (Vec<f32>, Vec<u32>)| {
            let (scores, touched) = buffers;
            scores.resize(self.lengths.len(), 0.0);
            let hits = self.score(query, k, keep, scores, touched);
            for &index in touched.iter() {
                scores[index as usize] = 0.0;
            }
            touched.clear();
            hits
        };
        SCORES
            .try_with(|cell| {
                cell.try_borrow_mut()
                    .ok()
                    .map(|mut buffers| run(&mut buffers))
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| run(&mut (Vec::new(), Vec::new())))
    }

    /// Adds the score of every text that contains a query term to `scores`,
    /// which must be all 0 on entry, lists those texts in `touched`, and
    /// returns the best `k` that `keep` accepts.
    ///
    /// Terms are taken by falling idf, which bounds what a term can add to
    /// a text, since `tf / (tf + k1 * norm)` stays below 1. Suppose the
    /// `k`th best score so far exceeds the sum of the bounds of the terms
    /// left. Then no text still at 0 can reach the best `k`, and neither
    /// can a scored text whose score plus those bounds stays below it. The
    /// remaining terms, the commonest ones, then only update the texts that
    /// still can, found in their postings by galloping search instead of a
    /// walk over every posting, as MaxScore pruning does.
    /// The result is the same as scoring every posting.
    fn score(
        &self,
        query: &str,
        k: usize,
        keep: &dyn Fn(usize) -> bool,
        scores: &mut [f32],
        touched: &mut Vec<u32>,
    ) -> Vec<(usize, f32)> {
        let factors = self.length_factors.get_or_init(|| {
            self.lengths
                .iter()
                .map(|&length| self.k1 * self.length_norm(length))
                .collect()
        });
        let count = self.lengths.len() as f32;
        let mut terms: Vec<(f32, &[(u32, u32)])> = tokenize(query)
            .iter()
            .filter_map(|token| self.terms.get(token))
            .map(|&id| {
                let postings = &self.postings[id as usize];
                let df = postings.len() as f32;
                let idf = (1.0 + (count - df + 0.5) / (df + 0.5)).ln();
                (idf, postings.as_slice())
            })
            .collect();
        terms.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut left: f32 = terms.iter().map(|(idf, _)| idf).sum();
        let mut postings_left: usize = terms.iter().map(|(_, postings)| postings.len()).sum();
        let mut taken_bound = 0.0;
        // The texts that can still reach the best `k`, ascending, once the
        // remaining terms stop adding new texts.
        let mut candidates: Option<Vec<u32>> = None;
        for &(idf, postings) in &terms {
            left -= idf;
            postings_left -= postings.len();
            taken_bound += idf;
            if let Some(candidates) = &candidates {
                add_to_scored(postings, candidates, idf, factors, scores);
                continue;
            }
            for &(index, tf) in postings {
                let slot = &mut scores[index as usize];
                if *slot == 0.0 {
                    touched.push(index);
                }
                let tf = tf as f32;
                *slot += idf * (tf / (tf + factors[index as usize]));
            }
            // Every score so far is below the bounds taken, so the `k`th
            // best can exceed `left` only when they do. Finding the `k`th
            // best costs about a pass over the scored texts, so it is tried
            // only when the postings left are several times longer.
            if postings_left > 0
                && touched.len() >= k
                && taken_bound > left
                && touched.len().saturating_mul(8) < postings_left
            {
                candidates = prune(touched, scores, keep, k, left);
            }
        }
        let scored = candidates.as_deref().unwrap_or(touched);
        best_k(kept_hits(scored, scores, keep), k)
    }

    /// `1 - b + b * len / avg_len`, or 1 for an index of empty texts.
    fn length_norm(&self, length: u32) -> f32 {
        if self.average_length > 0.0 {
            1.0 - self.b + self.b * length as f32 / self.average_length
        } else {
            1.0
        }
    }
}

/// Returns the texts of `touched` that `keep` accepts and that can
/// still reach the best `k` when the remaining terms add at most
/// `left`, ascending, or `None` when a text still at 0 could.
fn prune(
    touched: &[u32],
    scores: &[f32],
    keep: &dyn Fn(usize) -> bool,
    k: usize,
    left: f32,
) -> Option<Vec<u32>> {
    let best = best_k(kept_hits(touched, scores, keep), k);
    // A margin for rounding: bounds and scores sum in different orders.
    let margin = left.abs() * 1e-4 + f32::EPSILON;
    let kth = best.get(k.checked_sub(1)?)?.1;
    if kth <= left + margin {
        return None;
    }
    let floor = kth - left - margin;
    let mut candidates: Vec<u32> = touched
        .iter()
        .copied()
        .filter(|&index| scores[index as usize] >= floor && keep(index as usize))
        .collect();
    candidates.sort_unstable();
    #[cfg(test)]
    tests::PRUNED.with(|count| count.set(count.get() + 1));
    Some(candidates)
}

/// Returns the `(index, score)` of each text in `touched` that scored
/// above 0 and that `keep` accepts.
fn kept_hits<'a>(
    touched: &'a [u32],
    scores: &'a [f32],
    keep: &'a dyn Fn(usize) -> bool,
) -> impl Iterator<Item = (usize, f32)> + 'a {
    touched
        .iter()
        .map(|&index| (index as usize, scores[index as usize]))
        .filter(|&(index, score)| score > 0.0 && keep(index))
}

/// Adds one term's score to each text of `scored`, ascending, that its
/// `postings` (ascending by text) contain. When `scored` is much shorter,
/// each text is found by galloping from the previous one, which takes
/// about `scored.len() * log(postings.len() / scored.len())` steps.
/// Otherwise both lists are walked side by side.
fn add_to_scored(
    postings: &[(u32, u32)],
    scored: &[u32],
    idf: f32,
    factors: &[f32],
    scores: &mut [f32],
) {
    let mut add = |index: u32, tf: u32| {
        let tf = tf as f32;
        scores[index as usize] += idf * (tf / (tf + factors[index as usize]));
    };
    if scored.len().saturating_mul(16) >= postings.len() {
        let mut scored = scored.iter().copied().peekable();
        for &(text, tf) in postings {
            while scored.next_if(|&index| index < text).is_some() {}
            if scored.next_if_eq(&text).is_some() {
                add(text, tf);
            }
        }
        return;
    }
    let mut rest = postings;
    for &index in scored {
        let mut bound = 1;
        while bound < rest.len() && rest[bound].0 < index {
            bound *= 2;
        }
        let end = (bound + 1).min(rest.len());
        let at = rest[..end].partition_point(|&(text, _)| text < index);
        rest = &rest[at..];
        let Some(&(text, tf)) = rest.first() else {
            break;
        };
        if text == index {
            add(text, tf);
            rest = &rest[1..];
        }
    }
}

/// A hit ordered so that the worse of two hits is the greater: lower
/// score, then higher index. A max-heap of these keeps its worst on top.
#[derive(Clone, Copy)]
struct Worse((usize, f32));

impl PartialEq for Worse {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Worse {}

impl PartialOrd for Worse {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Worse {
    fn cmp(&self, other: &Self) -> Ordering {
        let ((index, score), (other_index, other_score)) = (self.0, other.0);
        other_score.total_cmp(&score).then(index.cmp(&other_index))
    }
}

/// Returns the `k` best `(index, score)` pairs of `hits`, in the order of
/// [`top_k`], holding at most `k` of them at a time.
pub(crate) fn best_k(hits: impl Iterator<Item = (usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Worse> = BinaryHeap::with_capacity(k + 1);
    for hit in hits {
        if heap.len() < k {
            heap.push(Worse(hit));
        } else if let Some(mut worst) = heap.peek_mut() {
            if Worse(hit) < *worst {
                *worst = Worse(hit);
            }
        }
    }
    let mut best: Vec<(usize, f32)> = heap.into_iter().map(|Worse(hit)| hit).collect();
    top_k(&mut best, k);
    best
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
    use std::cell::Cell;

    use proptest::prelude::*;

    use super::*;

    thread_local! {
        /// Searches on this thread that pruned the texts to update.
        pub(super) static PRUNED: Cell<usize> = const { Cell::new(0) };
    }

    fn pruned_count() -> usize {
        PRUNED.with(Cell::get)
    }

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

    /// Scores every text from scratch with the formula in the module docs.
    fn naive_scores(texts: &[String], query: &str) -> Vec<f32> {
        let tokenized: Vec<Vec<String>> = texts.iter().map(|text| tokenize(text)).collect();
        let count = texts.len() as f32;
        let average = tokenized.iter().map(Vec::len).sum::<usize>() as f32 / count.max(1.0);
        let mut scores = vec![0.0_f32; texts.len()];
        for term in tokenize(query) {
            let df = tokenized
                .iter()
                .filter(|tokens| tokens.contains(&term))
                .count() as f32;
            if df == 0.0 {
                continue;
            }
            let idf = (1.0 + (count - df + 0.5) / (df + 0.5)).ln();
            for (score, tokens) in scores.iter_mut().zip(&tokenized) {
                let tf = tokens.iter().filter(|token| **token == term).count() as f32;
                if tf > 0.0 {
                    let norm = if average > 0.0 {
                        1.0 - DEFAULT_B + DEFAULT_B * tokens.len() as f32 / average
                    } else {
                        1.0
                    };
                    *score += idf * (tf / (tf + DEFAULT_K1 * norm));
                }
            }
        }
        scores
    }

    fn words() -> impl Strategy<Value = String> {
        let word = prop::sample::select(vec!["ab", "cd", "ef", "gh", "ij", "kl"]);
        prop::collection::vec(word, 0..12).prop_map(|words| words.join(" "))
    }

    proptest! {
        #[test]
        fn search_matches_naive_scoring(
            texts in prop::collection::vec(words(), 1..30),
            other in prop::collection::vec(words(), 1..5),
            query in words(),
            k in 1_usize..40,
        ) {
            let index = Bm25Index::build(&texts, DEFAULT_K1, DEFAULT_B);
            let small = Bm25Index::build(&other, DEFAULT_K1, DEFAULT_B);
            let scores = naive_scores(&texts, &query);
            let mut expected: Vec<(usize, f32)> = scores
                .iter()
                .enumerate()
                .filter(|&(_, &score)| score > 0.0)
                .map(|(index, &score)| (index, score))
                .collect();
            top_k(&mut expected, k);
            // Searching twice, and another index of a different size in
            // between, reuses the per-thread buffers.
            for _ in 0..2 {
                let hits = index.search(&query, k, &|_| true);
                prop_assert_eq!(hits.len(), expected.len());
                for (hit, want) in hits.iter().zip(&expected) {
                    prop_assert!((hit.1 - want.1).abs() <= 1e-5 * want.1.max(1.0));
                    let own = scores[hit.0];
                    prop_assert!((hit.1 - own).abs() <= 1e-5 * own.max(1.0));
                }
                let _ = small.search(&query, k, &|_| true);
            }
        }
    }

    proptest! {
        #[test]
        fn best_k_equals_top_k(
            scores in prop::collection::vec(0_u8..6, 0..60),
            k in 0_usize..70,
        ) {
            // Few distinct scores, so ties decide many places.
            let hits: Vec<(usize, f32)> = scores
                .iter()
                .enumerate()
                .map(|(index, &score)| (index * 7 % 61, f32::from(score) / 2.0))
                .collect();
            let mut expected = hits.clone();
            top_k(&mut expected, k);
            let mut reversed = hits.clone();
            reversed.reverse();
            prop_assert_eq!(best_k(hits.into_iter(), k), expected.clone());
            prop_assert_eq!(best_k(reversed.into_iter(), k), expected);
        }
    }

    /// Texts of Zipf-like words: `w1` in most texts, higher numbers ever
    /// rarer, so common query words take the pruned path.
    fn zipf_texts() -> impl Strategy<Value = Vec<String>> {
        // `w{n}` with probability about 1 / (n * (n + 1)).
        let word = (1_u32..=1_000).prop_map(|draw| format!("w{}", 1_000 / draw));
        let text = prop::collection::vec(word, 1..20).prop_map(|words| words.join(" "));
        prop::collection::vec(text, 1..300)
    }

    proptest! {
        #[test]
        fn pruned_search_matches_naive_scoring(
            texts in zipf_texts(),
            query in prop::collection::vec(0_u32..40, 1..6),
            k in 1_usize..12,
            skip in 0_usize..4,
        ) {
            // The commonest words make every query long in postings.
            let query: Vec<String> = query.iter().map(|n| format!("w{n}")).collect();
            let query = format!("{} w1 w2 w3", query.join(" "));
            let index = Bm25Index::build(&texts, DEFAULT_K1, DEFAULT_B);
            let scores = naive_scores(&texts, &query);
            let keep = |index: usize| skip == 0 || index % 4 != skip;
            let mut expected: Vec<(usize, f32)> = scores
                .iter()
                .enumerate()
                .filter(|&(index, &score)| score > 0.0 && keep(index))
                .map(|(index, &score)| (index, score))
                .collect();
            top_k(&mut expected, k);
            let hits = index.search(&query, k, &keep);
            prop_assert_eq!(hits.len(), expected.len());
            for (hit, want) in hits.iter().zip(&expected) {
                // Equal scores may be listed in either order after rounding,
                // so each hit's own score is compared too.
                prop_assert!((hit.1 - want.1).abs() <= 1e-5 * want.1.max(1.0));
                let own = scores[hit.0];
                prop_assert!((hit.1 - own).abs() <= 1e-5 * own.max(1.0));
            }
        }
    }

    #[test]
    fn common_words_skip_unscored_texts() {
        let mut texts: Vec<String> = (0..2_000)
            .map(|n| format!("the of and text{n} the"))
            .collect();
        texts[17] = "the rare of word".to_owned();
        texts[1_234] = "rare rare and".to_owned();
        let index = Bm25Index::build(&texts, DEFAULT_K1, DEFAULT_B);
        let before = pruned_count();
        let hits = index.search("rare the of and", 2, &|_| true);
        assert_eq!(pruned_count(), before + 1);
        let scores = naive_scores(&texts, "rare the of and");
        assert_eq!(
            hits.iter().map(|hit| hit.0).collect::<Vec<_>>(),
            [1_234, 17]
        );
        for (index, score) in hits {
            assert!((score - scores[index]).abs() <= 1e-5 * scores[index]);
        }
        // Asking for more texts than the rare word has keeps every posting.
        let hits = index.search("rare the", 5, &|_| true);
        assert_eq!(pruned_count(), before + 1);
        assert_eq!(hits.len(), 5);
    }

    #[test]
    fn galloping_and_merging_find_every_scored_text() {
        let postings: Vec<(u32, u32)> = (0..1_000).map(|n| (n * 3, 1 + n % 4)).collect();
        let few: Vec<u32> = vec![0, 2, 3, 299, 300, 301, 2_997, 2_998, 5_000];
        // A list this long is merged rather than searched.
        let many: Vec<u32> = (0..3_500).filter(|n| n % 7 != 0).collect();
        for scored in [few, many] {
            let factors = vec![1.0_f32; 6_000];
            let mut scores = vec![0.0_f32; 6_000];
            add_to_scored(&postings, &scored, 2.0, &factors, &mut scores);
            for (index, score) in scores.iter().enumerate() {
                let tf = postings
                    .iter()
                    .find(|(text, _)| *text as usize == index)
                    .map(|&(_, tf)| tf as f32);
                let expected = match tf {
                    Some(tf) if scored.contains(&(index as u32)) => 2.0 * tf / (tf + 1.0),
                    _ => 0.0,
                };
                assert_eq!(*score, expected, "text {index}");
            }
        }
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
