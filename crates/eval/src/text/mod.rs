//! Reference metrics: BLEU and chrF as in sacreBLEU, ROUGE as in
//! `rouge-score`, and SQuAD token F1, as functions and as [`Metric`]s.
//!
//! The functions return the packages' numbers, 0 included, for any input.
//! The [`Metric`] wrappers return [`Score::Undetermined`] when the case has
//! no reference or the reference has no tokens, because then there is
//! nothing to compare against.

mod bleu;
mod chrf;
mod lcs;
mod mteval;
mod ngram;
mod porter;
mod rouge;
mod token_f1;
mod tokenize;
mod tokens;

use async_trait::async_trait;

pub use bleu::{BleuScore, corpus_bleu, sentence_bleu};
pub use chrf::sentence_chrf;
pub use porter::porter_stem;
pub use rouge::{
    RougeOptions, RougeScore, rouge_l, rouge_l_tokens, rouge_l_with, rouge_n, rouge_n_tokens,
    rouge_n_with,
};
pub use token_f1::{squad_normalize, token_f1};
pub use tokenize::{tokenize_13a, tokenize_rouge, tokenize_rouge_with};

use crate::metric::{Metric, Sample, reference};
use crate::score::{Score, ScoreRange};

fn empty_reference(metric: &str, case_id: &str) -> Score {
    Score::undetermined(format!(
        "{metric}: the reference of case `{case_id}` has no tokens"
    ))
}

/// Sentence BLEU (0 to 100) against the case reference.
#[derive(Debug, Clone, Default)]
pub struct Bleu;

#[async_trait]
impl Metric for Bleu {
    fn name(&self) -> &str {
        "bleu"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::PERCENT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let expected = match reference(sample, self.name()) {
            Ok(expected) => expected,
            Err(undetermined) => return undetermined,
        };
        if tokenize_13a(expected).is_empty() {
            return empty_reference(self.name(), &sample.case.id);
        }
        Score::value(sentence_bleu(sample.output, &[expected]).score)
    }
}

/// Sentence chrF (0 to 100) against the case reference.
#[derive(Debug, Clone, Default)]
pub struct Chrf;

#[async_trait]
impl Metric for Chrf {
    fn name(&self) -> &str {
        "chrf"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::PERCENT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let expected = match reference(sample, self.name()) {
            Ok(expected) => expected,
            Err(undetermined) => return undetermined,
        };
        if tokenize::python_split(expected).next().is_none() {
            return empty_reference(self.name(), &sample.case.id);
        }
        Score::value(sentence_chrf(sample.output, &[expected]))
    }
}

/// Which ROUGE variant a [`Rouge`] metric reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RougeKind {
    /// Unigram overlap.
    Rouge1,
    /// Bigram overlap.
    Rouge2,
    /// Longest common subsequence.
    RougeL,
}

/// The ROUGE F1 (0 to 1) of the output against the case reference.
#[derive(Debug, Clone)]
pub struct Rouge {
    kind: RougeKind,
    options: RougeOptions,
}

impl Rouge {
    /// Creates the metric for one variant, without stemming.
    pub fn new(kind: RougeKind) -> Self {
        Rouge {
            kind,
            options: RougeOptions::default(),
        }
    }

    /// Sets how texts are tokenized, for example with the Porter stemmer.
    /// The metric name stays the same.
    pub fn with_options(mut self, options: RougeOptions) -> Self {
        self.options = options;
        self
    }
}

#[async_trait]
impl Metric for Rouge {
    fn name(&self) -> &str {
        match self.kind {
            RougeKind::Rouge1 => "rouge1",
            RougeKind::Rouge2 => "rouge2",
            RougeKind::RougeL => "rougeL",
        }
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let expected = match reference(sample, self.name()) {
            Ok(expected) => expected,
            Err(undetermined) => return undetermined,
        };
        if tokenize_rouge(expected).is_empty() {
            return empty_reference(self.name(), &sample.case.id);
        }
        let options = self.options;
        let score = match self.kind {
            RougeKind::Rouge1 => rouge_n_with(expected, sample.output, 1, options),
            RougeKind::Rouge2 => rouge_n_with(expected, sample.output, 2, options),
            RougeKind::RougeL => rouge_l_with(expected, sample.output, options),
        };
        Score::value(score.fmeasure)
    }
}

/// SQuAD token F1 (0 to 1) against the case reference.
#[derive(Debug, Clone, Default)]
pub struct TokenF1;

#[async_trait]
impl Metric for TokenF1 {
    fn name(&self) -> &str {
        "token_f1"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let expected = match reference(sample, self.name()) {
            Ok(expected) => expected,
            Err(undetermined) => return undetermined,
        };
        if squad_normalize(expected).is_empty() {
            return empty_reference(self.name(), &sample.case.id);
        }
        match token_f1(sample.output, expected) {
            Some(f1) => Score::value(f1),
            None => empty_reference(self.name(), &sample.case.id),
        }
    }
}
