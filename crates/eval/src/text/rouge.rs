//! ROUGE-1, ROUGE-2 and ROUGE-L as computed by Google's `rouge-score`
//! package (version 0.1.2) with its default tokenizer, with or without its
//! Porter stemming.

use std::cell::RefCell;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::lcs::LcsScratch;
use super::ngram::{count_ngrams, overlap, sorted_ngram_keys, sorted_overlap};
use super::tokenize::{stem_rouge_tokens, tokenize_rouge_into};
use super::tokens::{Interner, TokenBuffer};

/// Tokenization settings for ROUGE.
///
/// The default matches rouge-score's `RougeScorer(..., use_stemmer=False)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RougeOptions {
    use_stemmer: bool,
}

impl RougeOptions {
    /// Sets whether tokens longer than 3 characters are reduced with the
    /// Porter stemmer (see [`porter_stem`](super::porter_stem)), like
    /// rouge-score's `use_stemmer=True`. Default false.
    pub fn with_stemmer(mut self, use_stemmer: bool) -> Self {
        self.use_stemmer = use_stemmer;
        self
    }

    /// Returns whether tokens are stemmed.
    pub fn use_stemmer(&self) -> bool {
        self.use_stemmer
    }
}

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
    rouge_n_with(target, prediction, n, RougeOptions::default())
}

/// Computes ROUGE-N like [`rouge_n`], tokenizing as `options` set.
pub fn rouge_n_with(target: &str, prediction: &str, n: usize, options: RougeOptions) -> RougeScore {
    let mut tokens = TokenBuffer::default();
    let mut stem_scratch = StemScratch::default();
    let target_end = tokenize_pair(target, prediction, options, &mut stem_scratch, &mut tokens);
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
    rouge_l_with(target, prediction, RougeOptions::default())
}

/// Computes ROUGE-L like [`rouge_l`], tokenizing as `options` set.
///
/// ```
/// use llmops_eval::text::{RougeOptions, rouge_l_with};
///
/// let stemmed = RougeOptions::default().with_stemmer(true);
/// let score = rouge_l_with("the cats were running", "the cat runs", stemmed);
/// assert!((score.precision - 1.0).abs() < 1e-12);
/// ```
pub fn rouge_l_with(target: &str, prediction: &str, options: RougeOptions) -> RougeScore {
    let with_scratch = |cell: &RefCell<Scratch>| match cell.try_borrow_mut() {
        Ok(mut scratch) => scratch.rouge_l(target, prediction, options),
        Err(_) => Scratch::default().rouge_l(target, prediction, options),
    };
    SCRATCH
        .try_with(with_scratch)
        .unwrap_or_else(|_| Scratch::default().rouge_l(target, prediction, options))
}

/// Buffers for stemming: the tokens before stemming and the word being
/// stemmed.
#[derive(Debug, Default)]
struct StemScratch {
    raw: TokenBuffer,
    word: Vec<u8>,
}

/// Tokenizes `target` and then `prediction` into `tokens`, which must be
/// empty, and returns the number of target tokens.
fn tokenize_pair(
    target: &str,
    prediction: &str,
    options: RougeOptions,
    scratch: &mut StemScratch,
    tokens: &mut TokenBuffer,
) -> usize {
    if !options.use_stemmer {
        tokenize_rouge_into(target, tokens);
        let target_end = tokens.len();
        tokenize_rouge_into(prediction, tokens);
        return target_end;
    }
    let raw = &mut scratch.raw;
    raw.clear();
    tokenize_rouge_into(target, raw);
    stem_rouge_tokens(raw, 0, tokens, &mut scratch.word);
    let target_end = tokens.len();
    let raw_target_end = raw.len();
    tokenize_rouge_into(prediction, raw);
    stem_rouge_tokens(raw, raw_target_end, tokens, &mut scratch.word);
    target_end
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
    stem: StemScratch,
    interner: Interner,
    lcs: LcsScratch,
}

impl Scratch {
    fn rouge_l(&mut self, target: &str, prediction: &str, options: RougeOptions) -> RougeScore {
        self.tokens.clear();
        let target_end = tokenize_pair(
            target,
            prediction,
            options,
            &mut self.stem,
            &mut self.tokens,
        );
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
