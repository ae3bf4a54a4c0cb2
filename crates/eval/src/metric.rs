//! The metric trait and the sample it scores.

use async_trait::async_trait;
use rust_decimal::Decimal;

use crate::dataset::Case;
use crate::score::{DetailedScore, Score, ScoreRange};

/// A model output for one case, with what the call cost.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// The case the output answers.
    pub case: &'a Case,
    /// The model's output text.
    pub output: &'a str,
    /// Wall-clock time of the model call, when measured.
    pub latency_ms: Option<u64>,
    /// Cost of the model call in US dollars, when priced.
    pub cost_usd: Option<Decimal>,
}

impl<'a> Sample<'a> {
    /// Creates a sample without latency or cost.
    pub fn new(case: &'a Case, output: &'a str) -> Self {
        Sample {
            case,
            output,
            latency_ms: None,
            cost_usd: None,
        }
    }
}

/// One evaluation dimension.
///
/// A metric returns a [`Score`] inside [`Metric::range`], or
/// [`Score::Undetermined`] when it cannot judge the sample; it never stands
/// in a 0 for "could not judge".
#[async_trait]
pub trait Metric: Send + Sync {
    /// Returns the metric's name, unique within an evaluation.
    fn name(&self) -> &str;

    /// Returns the interval scores lie in.
    fn range(&self) -> ScoreRange;

    /// Scores one sample.
    async fn score(&self, sample: &Sample<'_>) -> Score;

    /// Scores one sample and returns what the metric reports beside the
    /// score, such as judge agreement. The evaluator calls this method; the
    /// default calls [`score`](Metric::score) and adds no detail.
    async fn score_detailed(&self, sample: &Sample<'_>) -> DetailedScore {
        self.score(sample).await.into()
    }
}

/// Returns the case's reference, or the undetermined score to return when
/// it has none.
pub(crate) fn reference<'a>(sample: &Sample<'a>, metric: &str) -> Result<&'a str, Score> {
    sample.case.expected.as_deref().ok_or_else(|| {
        Score::undetermined(format!(
            "{metric} needs a reference, and case `{}` has no `expected`",
            sample.case.id
        ))
    })
}
