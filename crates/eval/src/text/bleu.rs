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
/// reference, their ids, and n-gram counts of the references.
#[derive(Debug, Default)]
struct Scratch {
    tokens: TokenBuffer,
    /// End index of each reference's tokens, counted from the first
    /// reference token.
    reference_ends: Vec<usize>,
    interner: Interner,
    /// Largest count of each n-gram in any one reference.
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
        let ids = self.interner.intern(&self.tokens);
        let (hypothesis_ids, reference_ids) = ids.split_at(hypothesis_end);
        let split = || split_references(reference_ids, &self.reference_ends);
        count_references(split(), &mut self.reference_counts, &mut self.one_reference);

        let hypothesis_len = hypothesis_ids.len() as u64;
        let reference_lens = split().map(|ids| ids.len() as u64);
        let mut stats = BleuStats {
            hypothesis_len,
            reference_len: closest_reference_len(hypothesis_len, reference_lens),
            ..BleuStats::default()
        };
        for order in 1..=MAX_ORDER {
            for window in hypothesis_ids.windows(order) {
                stats.total[order - 1] += 1;
                if self.reference_counts.take(pack_ngram(window)) {
                    stats.correct[order - 1] += 1;
                }
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

/// Fills `counts` with the largest count of each n-gram (orders 1 to 4) in
/// any one reference, so hypothesis matches are clipped by it.
fn count_references<'a>(
    references: impl Iterator<Item = &'a [u32]> + Clone,
    counts: &mut NgramCounts,
    one: &mut NgramCounts,
) {
    let ngram_count = |ids: &[u32]| ids.len() * MAX_ORDER;
    let mut rest = references.clone();
    if let (Some(only), None) = (rest.next(), rest.next()) {
        counts.reset(ngram_count(only));
        add_ngrams(only, counts);
        return;
    }
    counts.reset(references.clone().map(ngram_count).sum());
    for reference in references {
        one.reset(ngram_count(reference));
        add_ngrams(reference, one);
        for (key, count) in one.entries() {
            counts.raise_to(key, count);
        }
    }
}

fn add_ngrams(ids: &[u32], counts: &mut NgramCounts) {
    for order in 1..=MAX_ORDER {
        for window in ids.windows(order) {
            counts.add(pack_ngram(window));
        }
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
