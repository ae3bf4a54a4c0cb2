//! The pairwise judge: a model picks the better of two outputs, asked in
//! both orders to cancel position bias.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::ModelBackend;
use minijinja::Value;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{EvalError, Result};
use crate::judge::aggregate::{Aggregation, combine};
use crate::judge::call::{JudgeOptions, RetryPolicy, call_judge};
use crate::judge::parse::{Preference, parse_preference};
use crate::judge::template::JudgeTemplate;
use crate::metric::{Metric, Sample, reference};
use crate::score::{DetailedScore, Score, ScoreDetail, ScoreRange};

const SYSTEM: &str = "You are an impartial evaluator comparing two responses to the same \
question. Judge only against the criteria; ignore the order and length of the responses. \
Answer with one JSON object and nothing else: \
{\"reasoning\": \"<one or two sentences>\", \"winner\": \"A\" | \"B\" | \"tie\"}.";

const USER: &str = "Criteria: {{ criteria }}

Question:
{{ input }}

Response A:
{{ output_a }}

Response B:
{{ output_b }}";

/// The outcome of comparing output A with output B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PairwiseOutcome {
    /// Output A is better.
    AWins,
    /// Output B is better.
    BWins,
    /// Neither is better.
    Tie,
}

impl PairwiseOutcome {
    /// Returns A's score: 1 for a win, 0.5 for a tie, 0 for a loss.
    pub fn value(self) -> f64 {
        match self {
            PairwiseOutcome::AWins => 1.0,
            PairwiseOutcome::Tie => 0.5,
            PairwiseOutcome::BWins => 0.0,
        }
    }

    fn from_value(value: f64) -> Option<Self> {
        [
            PairwiseOutcome::AWins,
            PairwiseOutcome::Tie,
            PairwiseOutcome::BWins,
        ]
        .into_iter()
        .find(|outcome| outcome.value() == value)
    }
}

/// What a pairwise judge does when the two orders disagree, such as A
/// winning when shown first and B winning when shown first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InconsistentOrder {
    /// Count the sample as a tie: the judge could not separate the outputs
    /// beyond their position. The default.
    #[default]
    Tie,
    /// Count the sample as undetermined.
    Undetermined,
}

/// One pairwise sample: the verdicts of both orders and their outcome.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PairwiseSample {
    /// The outcome for A with A shown first, or the parse or call failure.
    pub a_first: std::result::Result<PairwiseOutcome, String>,
    /// The outcome for A with B shown first, or the parse or call failure.
    pub b_first: std::result::Result<PairwiseOutcome, String>,
    /// Whether both orders gave the same outcome.
    pub consistent: bool,
    /// The sample's outcome after [`InconsistentOrder`], or why there is
    /// none.
    pub outcome: std::result::Result<PairwiseOutcome, String>,
}

/// The judge's comparison of two outputs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PairwiseJudgement {
    /// The combined outcome, when determined.
    pub outcome: Option<PairwiseOutcome>,
    /// A's score (1 win, 0.5 tie, 0 loss; a mean over samples with
    /// [`Aggregation::Mean`]), or undetermined with the reason.
    pub score: Score,
    /// Share of scored samples that gave the most frequent outcome.
    pub agreement: Option<f64>,
    /// Share of samples whose two orders agreed.
    pub position_consistency: f64,
    /// Each sample, in order.
    pub samples: Vec<PairwiseSample>,
}

/// An LLM judge that compares two outputs for the same input.
///
/// Every sample asks twice, once with A shown first and once with B shown
/// first, and maps the second verdict back to A and B. When the two orders
/// agree the sample has that outcome; when they disagree the judge only
/// followed position, and [`InconsistentOrder`] decides (a tie by
/// default). So a judge that always prefers the first position yields
/// ties, not wins.
///
/// As a [`Metric`] it compares the sample's output (A) with the case's
/// `expected` output (B), such as a baseline model's answer, and scores
/// A: 1 for a win, 0.5 for a tie, 0 for a loss.
pub struct PairwiseJudge {
    name: String,
    criteria: String,
    template: JudgeTemplate,
    backend: Arc<dyn ModelBackend>,
    model: String,
    options: JudgeOptions,
    inconsistent: InconsistentOrder,
}

impl std::fmt::Debug for PairwiseJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairwiseJudge")
            .field("name", &self.name)
            .field("model", &self.model)
            .field("options", &self.options)
            .field("inconsistent", &self.inconsistent)
            .finish_non_exhaustive()
    }
}

impl PairwiseJudge {
    /// Creates a judge named `name` that compares outputs against
    /// `criteria`, calling `model` on `backend`.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] for an empty name or criteria.
    pub fn new(
        name: impl Into<String>,
        criteria: impl Into<String>,
        backend: Arc<dyn ModelBackend>,
        model: impl Into<String>,
    ) -> Result<Self> {
        let name = name.into();
        let criteria = criteria.into();
        if name.trim().is_empty() || criteria.trim().is_empty() {
            return Err(EvalError::InvalidParameter {
                name: "judge",
                value: name,
                reason: "a judge needs a non-empty name and criteria".to_owned(),
            });
        }
        let options = JudgeOptions {
            aggregation: Aggregation::Majority,
            ..JudgeOptions::default()
        };
        Ok(PairwiseJudge {
            template: JudgeTemplate::new("pairwise", SYSTEM, USER)?,
            name,
            criteria,
            backend,
            model: model.into(),
            options,
            inconsistent: InconsistentOrder::default(),
        })
    }

    /// Replaces the prompt template; it receives `input`, `criteria`,
    /// `output_a` and `output_b`.
    pub fn template(mut self, template: JudgeTemplate) -> Self {
        self.template = template;
        self
    }

    /// Takes `samples` samples per comparison at `temperature` (default: 1
    /// at temperature 0). Each sample makes two calls.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `samples` is 0 or above
    /// [`MAX_SAMPLES`](crate::judge::MAX_SAMPLES), or `temperature` is
    /// outside 0 to 2.
    pub fn samples(mut self, samples: u32, temperature: f64) -> Result<Self> {
        self.options.set_samples(samples, temperature)?;
        Ok(self)
    }

    /// Sets how samples combine (default: the majority outcome).
    pub fn aggregation(mut self, aggregation: Aggregation) -> Self {
        self.options.aggregation = aggregation;
        self
    }

    /// Sets what an order-inconsistent sample counts as (default: a tie).
    pub fn on_inconsistent_order(mut self, policy: InconsistentOrder) -> Self {
        self.inconsistent = policy;
        self
    }

    /// Sets the attempts per judge call, the first included (at least 1;
    /// default 3), and the wait before the first retry (default 500 ms,
    /// doubled per retry). Only retryable failures are retried: rate
    /// limits, overload, timeouts, 5xx, network errors and malformed
    /// responses. A provider's `Retry-After` replaces the computed wait;
    /// every wait is capped at 20 s.
    pub fn retries(mut self, max_attempts: u32, initial_backoff: std::time::Duration) -> Self {
        let cap = RetryPolicy::default().max_backoff;
        self.options.retry = RetryPolicy::new(max_attempts, initial_backoff, cap);
        self
    }

    /// Sets whether to send the output schema as `response_format`
    /// (default: on).
    pub fn structured_output(mut self, enabled: bool) -> Self {
        self.options.structured_output = enabled;
        self
    }

    /// Compares `output_a` with `output_b` as answers to `input`.
    pub async fn compare(&self, input: &str, output_a: &str, output_b: &str) -> PairwiseJudgement {
        let a_first = self.render(input, output_a, output_b);
        let b_first = self.render(input, output_b, output_a);
        let (a_first, b_first) = match (a_first, b_first) {
            (Ok(a_first), Ok(b_first)) => (a_first, b_first),
            (Err(reason), _) | (_, Err(reason)) => return undetermined(reason),
        };
        let schema = json!({
            "type": "object",
            "properties": {
                "reasoning": { "type": "string" },
                "winner": { "type": "string", "enum": ["A", "B", "tie"] },
            },
            "required": ["reasoning", "winner"],
            "additionalProperties": false,
        });
        let calls = (0..self.options.samples).map(|index| {
            let schema = schema.clone();
            let a_first = a_first.clone();
            let b_first = b_first.clone();
            async move {
                let backend = self.backend.as_ref();
                let options = &self.options;
                let first = call_judge(
                    backend,
                    &self.model,
                    a_first,
                    options,
                    Some(schema.clone()),
                    index,
                );
                let second =
                    call_judge(backend, &self.model, b_first, options, Some(schema), index);
                futures::future::join(first, second).await
            }
        });
        let replies = futures::future::join_all(calls).await;

        let samples: Vec<PairwiseSample> = replies
            .into_iter()
            .map(|(first, second)| self.read_sample(first, second))
            .collect();
        self.combine(samples)
    }

    fn read_sample(
        &self,
        a_first: std::result::Result<String, String>,
        b_first: std::result::Result<String, String>,
    ) -> PairwiseSample {
        let a_first = a_first
            .and_then(|text| parse_preference(&text))
            .map(|preference| outcome_for_a(preference, true));
        let b_first = b_first
            .and_then(|text| parse_preference(&text))
            .map(|preference| outcome_for_a(preference, false));
        let (outcome, consistent) = match (&a_first, &b_first) {
            (Ok(first), Ok(second)) if first == second => (Ok(*first), true),
            (Ok(first), Ok(second)) => {
                let outcome = match self.inconsistent {
                    InconsistentOrder::Tie => Ok(PairwiseOutcome::Tie),
                    InconsistentOrder::Undetermined => Err(format!(
                        "the judge changed its verdict with the order: {first:?} with A first, \
                         {second:?} with B first"
                    )),
                };
                (outcome, false)
            }
            (Err(reason), _) | (_, Err(reason)) => (Err(reason.clone()), false),
        };
        PairwiseSample {
            a_first,
            b_first,
            consistent,
            outcome,
        }
    }

    fn combine(&self, samples: Vec<PairwiseSample>) -> PairwiseJudgement {
        let outcomes: Vec<std::result::Result<f64, String>> = samples
            .iter()
            .map(|sample| sample.outcome.clone().map(PairwiseOutcome::value))
            .collect();
        let combined = combine(&outcomes, self.options.aggregation);
        let consistent = samples.iter().filter(|sample| sample.consistent).count();
        #[allow(clippy::cast_precision_loss)]
        let position_consistency = consistent as f64 / samples.len().max(1) as f64;
        PairwiseJudgement {
            outcome: combined
                .score
                .as_value()
                .and_then(PairwiseOutcome::from_value),
            score: combined.score,
            agreement: combined.agreement,
            position_consistency,
            samples,
        }
    }

    fn render(
        &self,
        input: &str,
        first: &str,
        second: &str,
    ) -> std::result::Result<Vec<llmops_core::types::ChatMessage>, String> {
        let variables = BTreeMap::from([
            ("input", Value::from(input)),
            ("criteria", Value::from(self.criteria.as_str())),
            ("output_a", Value::from(first)),
            ("output_b", Value::from(second)),
        ]);
        self.template.render(&variables)
    }
}

/// Maps a positional preference to the outcome for A; `a_shown_first`
/// says which order the prompt used.
fn outcome_for_a(preference: Preference, a_shown_first: bool) -> PairwiseOutcome {
    match (preference, a_shown_first) {
        (Preference::Tie, _) => PairwiseOutcome::Tie,
        (Preference::First, true) | (Preference::Second, false) => PairwiseOutcome::AWins,
        (Preference::Second, true) | (Preference::First, false) => PairwiseOutcome::BWins,
    }
}

fn undetermined(reason: String) -> PairwiseJudgement {
    PairwiseJudgement {
        outcome: None,
        score: Score::undetermined(reason),
        agreement: None,
        position_consistency: 0.0,
        samples: Vec::new(),
    }
}

#[async_trait]
impl Metric for PairwiseJudge {
    fn name(&self) -> &str {
        &self.name
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let baseline = match reference(sample, &self.name) {
            Ok(baseline) => baseline,
            Err(undetermined) => return undetermined,
        };
        self.compare(&sample.case.input, sample.output, baseline)
            .await
            .score
    }

    /// Scores like [`score`](Metric::score); with more than one sample the
    /// detail holds the sample count and their agreement.
    async fn score_detailed(&self, sample: &Sample<'_>) -> DetailedScore {
        let baseline = match reference(sample, &self.name) {
            Ok(baseline) => baseline,
            Err(undetermined) => return undetermined.into(),
        };
        let judgement = self
            .compare(&sample.case.input, sample.output, baseline)
            .await;
        let samples = self.options.samples;
        DetailedScore {
            score: judgement.score,
            detail: (samples > 1).then(|| ScoreDetail::judge(samples, judgement.agreement)),
        }
    }
}
