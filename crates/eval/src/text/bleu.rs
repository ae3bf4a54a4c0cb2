//! BLEU as computed by sacreBLEU 2.x with its defaults: `13a` tokenization,
//! n-grams up to 4, `exp` smoothing (method 3 of Chen and Cherry, 2014),
//! closest reference length, and effective order for sentence scores.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use super::mteval::tokenize_13a_into;
use super::ngram::{NgramCounts, pack_ngram};
use super::tokens::{Interner, TokenBuffer};

const MAX_ORDER: usize = 4;

/// A BLEU score and the statistics it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BleuScore {
    /// BLEU on sacreBLEU's 0 to 100 scale.
    pub score: f64,
    /// Matched n-grams per order (1 to 4).
    pub correct: [u64; MAX_ORDER],
    /// Hypothesis n-grams per order.
    pub total: [u64; MAX_ORDER],
    /// Smoothed n-gram precisions per order, 0 to 100.
    pub precisions: [f64; MAX_ORDER],
    /// Brevity penalty.
    pub brevity_penalty: f64,
    /// Hypothesis length in tokens.
    pub hypothesis_len: u64,
    /// Reference length in tokens (closest reference per segment).
    pub reference_len: u64,
}

/// Sufficient statistics of one or more segments.
#[derive(Debug, Clone, Copy, Default)]
struct BleuStats {
    correct: [u64; MAX_ORDER],
    total: [u64; MAX_ORDER],
    hypothesis_len: u64,
    reference_len: u64,
}

impl BleuStats {
    fn add(&mut self, other: &BleuStats) {
        for order in 0..MAX_ORDER {
            self.correct[order] += other.correct[order];
            self.total[order] += other.total[order];
        }
        self.hypothesis_len += other.hypothesis_len;
        self.reference_len += other.reference_len;
    }
}

/// Computes sentence BLEU of one hypothesis against one or more
/// references, equal to sacreBLEU's `sentence_bleu` with default arguments.
/// With no references the reference length is 0.
///
/// ```
/// use llmops_eval::text::sentence_bleu;
///
/// let score = sentence_bleu("the cat sat on the mat", &["the cat sat on the mat"]);
/// assert!((score.score - 100.0).abs() < 1e-9);
/// ```
pub fn sentence_bleu<R: AsRef<str>>(hypothesis: &str, references: &[R]) -> BleuScore {
    let stats = segment_stats(hypothesis, references);
    compute(&stats, true)
}

/// Computes corpus BLEU, equal to sacreBLEU's `corpus_bleu` with default
/// arguments: statistics are summed over segments before the score, and the
/// effective order is off. `references[i]` holds the references of
/// `hypotheses[i]`; missing entries count as no references.
pub fn corpus_bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[Vec<R>],
) -> BleuScore {
    let mut stats = BleuStats::default();
    for (index, hypothesis) in hypotheses.iter().enumerate() {
        let refs: &[R] = references.get(index).map(Vec::as_slice).unwrap_or(&[]);
        stats.add(&segment_stats(hypothesis.as_ref(), refs));
    }
    compute(&stats, false)
}

fn segment_stats<R: AsRef<str>>(hypothesis: &str, references: &[R]) -> BleuStats {
    let with_scratch = |cell: &RefCell<Scratch>| match cell.try_borrow_mut() {
        Ok(mut scratch) => scratch.segment_stats(hypothesis, references),
        Err(_) => Scratch::default().segment_stats(hypothesis, references),
    };
    SCRATCH
        .try_with(with_scratch)
        .unwrap_or_else(|_| Scratch::default().segment_stats(hypothesis, references))
}

thread_local! {
    /// Buffers reused by every BLEU call on a thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Buffers for one segment: the tokens of the hypothesis and then of each
/// reference, their ids, per-id unigram counts, per-position flags and
/// n-gram counts of the references.
///
/// Unigrams are counted in arrays indexed by token id. For higher orders,
/// an n-gram can match only if both (n-1)-grams inside it match somewhere,
/// so the hypothesis looks up only those n-grams, and the references count
/// only n-grams whose tokens all occur in the hypothesis.
#[derive(Debug, Default)]
struct Scratch {
    tokens: TokenBuffer,
    /// End index of each reference's tokens, counted from the first
    /// reference token.
    reference_ends: Vec<usize>,
    interner: Interner,
    /// Per token id: the largest count in any one reference, less the
    /// hypothesis tokens matched to it so far.
    unigrams_left: Vec<u32>,
    /// Per token id: the count in the reference being read.
    unigrams_one: Vec<u32>,
    /// Per token id: whether a reference has it.
    in_reference: Vec<bool>,
    /// Per token id: whether the hypothesis has it.
    in_hypothesis: Vec<bool>,
    /// Per hypothesis position: whether the n-gram of the order last
    /// counted that starts there occurs in a reference.
    hypothesis_shared: Vec<bool>,
    /// Per reference position: whether every token of the n-gram of the
    /// order last counted that starts there occurs in the hypothesis.
    reference_shared: Vec<bool>,
    /// Largest count of each counted n-gram (orders 2 to 4) in any one
    /// reference.
    reference_counts: NgramCounts,
    /// Counts of one reference when there are several.
    one_reference: NgramCounts,
}

impl Scratch {
    fn segment_stats<R: AsRef<str>>(&mut self, hypothesis: &str, references: &[R]) -> BleuStats {
        self.tokens.clear();
        tokenize_13a_into(hypothesis, &mut self.tokens);
        let hypothesis_end = self.tokens.len();
        self.reference_ends.clear();
        for reference in references {
            tokenize_13a_into(reference.as_ref(), &mut self.tokens);
            self.reference_ends.push(self.tokens.len() - hypothesis_end);
        }
        self.interner.intern(&self.tokens);
        let distinct = self.interner.distinct();
        let ids = self.interner.ids();
        let (hypothesis_ids, reference_ids) = ids.split_at(hypothesis_end);

        let hypothesis_len = hypothesis_ids.len() as u64;
        let reference_lens =
            split_references(reference_ids, &self.reference_ends).map(|ids| ids.len() as u64);
        let mut stats = BleuStats {
            hypothesis_len,
            reference_len: closest_reference_len(hypothesis_len, reference_lens),
            ..BleuStats::default()
        };

        for table in [&mut self.unigrams_left, &mut self.unigrams_one] {
            table.clear();
            table.resize(distinct + 1, 0);
        }
        for table in [&mut self.in_reference, &mut self.in_hypothesis] {
            table.clear();
            table.resize(distinct + 1, false);
        }
        for &id in hypothesis_ids {
            self.in_hypothesis[id as usize] = true;
        }
        for reference in split_references(reference_ids, &self.reference_ends) {
            for &id in reference {
                self.unigrams_one[id as usize] += 1;
                self.in_reference[id as usize] = true;
            }
            for &id in reference {
                let one = std::mem::take(&mut self.unigrams_one[id as usize]);
                let left = &mut self.unigrams_left[id as usize];
                *left = (*left).max(one);
            }
        }
        self.hypothesis_shared.clear();
        for &id in hypothesis_ids {
            stats.total[0] += 1;
            let left = &mut self.unigrams_left[id as usize];
            if *left > 0 {
                *left -= 1;
                stats.correct[0] += 1;
            }
            self.hypothesis_shared.push(self.in_reference[id as usize]);
        }
        self.reference_shared.clear();
        self.reference_shared.extend(
            reference_ids
                .iter()
                .map(|&id| self.in_hypothesis[id as usize]),
        );

        for order in 2..=MAX_ORDER {
            count_references(
                reference_ids,
                &self.reference_ends,
                order,
                &mut self.reference_shared,
                &mut self.reference_counts,
                &mut self.one_reference,
            );
            for (start, window) in hypothesis_ids.windows(order).enumerate() {
                stats.total[order - 1] += 1;
                let shared = self.hypothesis_shared[start] && self.hypothesis_shared[start + 1];
                let found = shared
                    .then(|| self.reference_counts.take(pack_ngram(window)))
                    .flatten();
                if found == Some(true) {
                    stats.correct[order - 1] += 1;
                }
                self.hypothesis_shared[start] = found.is_some();
            }
        }
        stats
    }
}

/// Splits the ids of all references, back to back, at `ends`.
fn split_references<'a>(
    ids: &'a [u32],
    ends: &'a [usize],
) -> impl Iterator<Item = &'a [u32]> + Clone {
    let starts = std::iter::once(0).chain(ends.iter().copied());
    starts.zip(ends).map(|(start, &end)| &ids[start..end])
}

/// Fills `counts` with the largest count in any one reference of each
/// n-gram of `order` whose tokens all occur in the hypothesis, so that
/// hypothesis matches are clipped by it.
///
/// On entry `shared[i]` is true when every token of the (order - 1)-gram
/// at reference position `i` occurs in the hypothesis. On return it is
/// the same for the n-gram of `order`.
fn count_references(
    ids: &[u32],
    ends: &[usize],
    order: usize,
    shared: &mut [bool],
    counts: &mut NgramCounts,
    one: &mut NgramCounts,
) {
    let several = ends.len() > 1;
    counts.reset(ids.len());
    let mut start = 0;
    for &end in ends {
        let reference = &ids[start..end];
        if several {
            one.reset(reference.len());
        }
        for (offset, window) in reference.windows(order).enumerate() {
            let position = start + offset;
            let all_shared = shared[position] && shared[position + 1];
            shared[position] = all_shared;
            if !all_shared {
                continue;
            }
            if several {
                one.add(pack_ngram(window));
            } else {
                counts.add(pack_ngram(window));
            }
        }
        if several {
            for (key, count) in one.entries() {
                counts.raise_to(key, count);
            }
        }
        start = end;
    }
}

/// Picks the reference length nearest the hypothesis length, the shorter one
/// on a tie.
fn closest_reference_len(hypothesis_len: u64, reference_lens: impl Iterator<Item = u64>) -> u64 {
    let mut best: Option<(u64, u64)> = None;
    for len in reference_lens {
        let diff = len.abs_diff(hypothesis_len);
        best = match best {
            Some((best_diff, best_len))
                if diff > best_diff || (diff == best_diff && len >= best_len) =>
            {
                Some((best_diff, best_len))
            }
            _ => Some((diff, len)),
        };
    }
    best.map_or(0, |(_, len)| len)
}

/// sacreBLEU's logarithm, which maps 0 to a large negative number instead of
/// negative infinity.
fn log_or_floor(value: f64) -> f64 {
    if value == 0.0 {
        -9_999_999_999.0
    } else {
        value.ln()
    }
}

fn compute(stats: &BleuStats, effective_order: bool) -> BleuScore {
    let brevity_penalty = if stats.hypothesis_len >= stats.reference_len {
        1.0
    } else if stats.hypothesis_len == 0 {
        0.0
    } else {
        (1.0 - stats.reference_len as f64 / stats.hypothesis_len as f64).exp()
    };
    let mut score = BleuScore {
        score: 0.0,
        correct: stats.correct,
        total: stats.total,
        precisions: [0.0; MAX_ORDER],
        brevity_penalty,
        hypothesis_len: stats.hypothesis_len,
        reference_len: stats.reference_len,
    };
    if stats.correct.iter().all(|&correct| correct == 0) {
        return score;
    }

    let mut smoothing = 1.0;
    let mut used_orders = MAX_ORDER;
    for order in 0..MAX_ORDER {
        let total = stats.total[order];
        if total == 0 {
            break;
        }
        if effective_order {
            used_orders = order + 1;
        }
        score.precisions[order] = if stats.correct[order] == 0 {
            smoothing *= 2.0;
            100.0 / (smoothing * total as f64)
        } else {
            100.0 * stats.correct[order] as f64 / total as f64
        };
    }
    let log_sum: f64 = score.precisions[..used_orders]
        .iter()
        .map(|&p| log_or_floor(p))
        .sum();
    score.score = brevity_penalty * (log_sum / used_orders as f64).exp();
    score
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::text::ngram::count_ngrams;
    use crate::text::tokenize_13a;

    /// Counts clipped n-gram matches with hash maps of token strings.
    fn plain_stats(hypothesis: &str, references: &[String]) -> BleuStats {
        let hypothesis = tokenize_13a(hypothesis);
        let references: Vec<Vec<String>> = references.iter().map(|r| tokenize_13a(r)).collect();
        let hypothesis_len = hypothesis.len() as u64;
        let mut stats = BleuStats {
            hypothesis_len,
            reference_len: closest_reference_len(
                hypothesis_len,
                references.iter().map(|r| r.len() as u64),
            ),
            ..BleuStats::default()
        };
        for order in 1..=MAX_ORDER {
            let mut largest: HashMap<&[String], u32> = HashMap::new();
            for reference in &references {
                for (ngram, count) in count_ngrams(reference, order) {
                    let entry = largest.entry(ngram).or_insert(0);
                    *entry = (*entry).max(count);
                }
            }
            stats.total[order - 1] = hypothesis.len().saturating_sub(order - 1) as u64;
            stats.correct[order - 1] = count_ngrams(&hypothesis, order)
                .iter()
                .map(|(ngram, &count)| {
                    u64::from(count.min(largest.get(ngram).copied().unwrap_or(0)))
                })
                .sum();
        }
        stats
    }

    /// Few distinct words, so texts share many n-grams of every order.
    fn text() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "a", "b", "the", "cat", ".", ",", "1", "-", "東京", "é",
        ]);
        prop::collection::vec(words, 0..30).prop_map(|words| words.join(" "))
    }

    proptest! {
        #[test]
        fn pruned_counts_equal_plain_counts(
            hypothesis in text(),
            references in prop::collection::vec(text(), 0..4),
        ) {
            let fast = Scratch::default().segment_stats(&hypothesis, &references);
            let plain = plain_stats(&hypothesis, &references);
            prop_assert_eq!(fast.correct, plain.correct);
            prop_assert_eq!(fast.total, plain.total);
            prop_assert_eq!(fast.hypothesis_len, plain.hypothesis_len);
            prop_assert_eq!(fast.reference_len, plain.reference_len);
        }
    }

    #[test]
    fn one_scratch_serves_segments_of_any_size() {
        let mut scratch = Scratch::default();
        let long: String = ["the cat"; 200].join(" . ");
        for (hypothesis, reference) in [
            (long.as_str(), "the cat"),
            ("the cat", long.as_str()),
            ("", ""),
            ("a b a b", "a b a b"),
        ] {
            let references = [reference.to_owned()];
            let stats = scratch.segment_stats(hypothesis, &references);
            let plain = plain_stats(hypothesis, &references);
            assert_eq!(
                stats.correct, plain.correct,
                "{hypothesis:?} / {reference:?}"
            );
            assert_eq!(stats.total, plain.total);
        }
    }
}
