//! ROUGE-1, ROUGE-2 and ROUGE-L as computed by Google's `rouge-score`
//! package (version 0.1.2) with its default tokenizer and no stemming.

use std::cell::RefCell;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::lcs::LcsScratch;
use super::ngram::{count_ngrams, overlap, sorted_ngram_keys, sorted_overlap};
use super::tokenize::tokenize_rouge_into;
use super::tokens::{Interner, TokenBuffer};

/// Precision, recall and F1 of one ROUGE variant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RougeScore {
    /// Matched units over prediction units.
    pub precision: f64,
    /// Matched units over target units.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fmeasure: f64,
}

impl RougeScore {
    fn new(precision: f64, recall: f64) -> Self {
        let fmeasure = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        RougeScore {
            precision,
            recall,
            fmeasure,
        }
    }
}

/// Computes ROUGE-N for `n >= 1` between a target (reference) and a
/// prediction. Texts without n-grams score 0, as in `rouge-score`.
///
/// ```
/// use llmops_eval::text::rouge_n;
///
/// let score = rouge_n("the cat sat", "the cat ran", 1);
/// assert!((score.fmeasure - 2.0 / 3.0).abs() < 1e-12);
/// ```
pub fn rouge_n(target: &str, prediction: &str, n: usize) -> RougeScore {
    let mut tokens = TokenBuffer::default();
    tokenize_rouge_into(target, &mut tokens);
    let target_end = tokens.len();
    tokenize_rouge_into(prediction, &mut tokens);
    let mut interner = Interner::default();
    let (target_ids, prediction_ids) = interner.intern(&tokens).split_at(target_end);
    if (1..=4).contains(&n) {
        let matched = sorted_overlap(
            &sorted_ngram_keys(target_ids, n),
            &sorted_ngram_keys(prediction_ids, n),
        );
        return ngram_score(matched as f64, target_ids.len(), prediction_ids.len(), n);
    }
    rouge_n_tokens(target_ids, prediction_ids, n)
}

/// ROUGE-N over already tokenized text.
pub fn rouge_n_tokens<T: Eq + Hash>(target: &[T], prediction: &[T], n: usize) -> RougeScore {
    let target_ngrams = count_ngrams(target, n);
    let prediction_ngrams = count_ngrams(prediction, n);
    let matched = f64::from(overlap(&target_ngrams, &prediction_ngrams));
    ngram_score(matched, target.len(), prediction.len(), n)
}

/// Precision and recall from matched n-grams and token counts; a text
/// without n-grams counts as 1 n-gram so the ratio is 0, as in
/// `rouge-score`.
fn ngram_score(matched: f64, target_len: usize, prediction_len: usize, n: usize) -> RougeScore {
    let ngrams = |len: usize| (len + 1).saturating_sub(n.max(1)).max(1) as f64;
    RougeScore::new(
        matched / ngrams(prediction_len),
        matched / ngrams(target_len),
    )
}

/// Computes ROUGE-L (longest common subsequence of tokens). An empty target
/// or prediction scores 0, as in `rouge-score`.
///
/// ```
/// use llmops_eval::text::rouge_l;
///
/// let score = rouge_l("a b c d", "a c d e");
/// assert!((score.fmeasure - 0.75).abs() < 1e-12);
/// ```
pub fn rouge_l(target: &str, prediction: &str) -> RougeScore {
    let with_scratch = |cell: &RefCell<Scratch>| match cell.try_borrow_mut() {
        Ok(mut scratch) => scratch.rouge_l(target, prediction),
        Err(_) => Scratch::default().rouge_l(target, prediction),
    };
    SCRATCH
        .try_with(with_scratch)
        .unwrap_or_else(|_| Scratch::default().rouge_l(target, prediction))
}

thread_local! {
    /// Buffers reused by every ROUGE-L call on a thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Buffers for one text pair: the target's tokens then the prediction's,
/// their ids and the LCS bit vectors.
#[derive(Debug, Default)]
struct Scratch {
    tokens: TokenBuffer,
    interner: Interner,
    lcs: LcsScratch,
}

impl Scratch {
    fn rouge_l(&mut self, target: &str, prediction: &str) -> RougeScore {
        self.tokens.clear();
        tokenize_rouge_into(target, &mut self.tokens);
        let target_end = self.tokens.len();
        tokenize_rouge_into(prediction, &mut self.tokens);
        self.interner.intern(&self.tokens);
        let id_bound = self.interner.distinct() + 1;
        let (target_ids, prediction_ids) = self.interner.ids().split_at(target_end);
        if target_ids.is_empty() || prediction_ids.is_empty() {
            return RougeScore::new(0.0, 0.0);
        }

        let lcs = self.lcs.lcs_len(target_ids, prediction_ids, id_bound) as f64;
        RougeScore::new(
            lcs / prediction_ids.len() as f64,
            lcs / target_ids.len() as f64,
        )
    }
}

/// ROUGE-L over already tokenized text.
pub fn rouge_l_tokens<T: PartialEq>(target: &[T], prediction: &[T]) -> RougeScore {
    if target.is_empty() || prediction.is_empty() {
        return RougeScore::new(0.0, 0.0);
    }
    let lcs = lcs_len(target, prediction) as f64;
    RougeScore::new(lcs / prediction.len() as f64, lcs / target.len() as f64)
}

/// Length of the longest common subsequence, in O(|a|·|b|) time and
/// O(|b|) memory.
fn lcs_len<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for item in a {
        let mut diagonal = 0;
        for (index, other) in b.iter().enumerate() {
            let above = row[index + 1];
            row[index + 1] = if item == other {
                diagonal + 1
            } else {
                above.max(row[index])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}
