//! The rubric judge: a model scores one output against written criteria.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::ModelBackend;
use minijinja::Value;
use serde_json::json;

use crate::error::{EvalError, Result};
use crate::judge::aggregate::{Aggregation, combine};
use crate::judge::call::{JudgeOptions, RetryPolicy, call_judge};
use crate::judge::parse::parse_verdict;
use crate::judge::scale::JudgeScale;
use crate::judge::template::JudgeTemplate;
use crate::metric::{Metric, Sample};
use crate::score::{DetailedScore, Score, ScoreDetail, ScoreRange};

pub(crate) const SYSTEM: &str = "You are an impartial evaluator. Judge the response only against the \
criteria you are given. Answer with one JSON object and nothing else: \
{\"reasoning\": \"<one or two sentences>\", \"score\": <{{ scale }}>}.";

const USER: &str = "Criteria: {{ criteria }}

Question:
{{ input }}
{% if expected is defined %}
Reference answer:
{{ expected }}
{% endif %}{% if contexts is defined %}
Context:
{% for context in contexts %}[{{ loop.index }}] {{ context }}
{% endfor %}{% endif %}
Response to judge:
{{ output }}";

/// The judge's reading of one case.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Judgement {
    /// The combined score, or undetermined with the reason.
    pub score: Score,
    /// Share of scored samples that gave the most frequent value, from
    /// 1/samples to 1; `None` when no sample was scored.
    pub agreement: Option<f64>,
    /// Each sample's score and reasoning, in sample order.
    pub samples: Vec<JudgeSample>,
}

/// One judge sample.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JudgeSample {
    /// The parsed score, or undetermined with the parse or call failure.
    pub score: Score,
    /// The judge's reasoning, when it gave one.
    pub reasoning: Option<String>,
}

/// An LLM judge that scores an output against criteria on a [`JudgeScale`].
///
/// The judge asks for `{"reasoning": ..., "score": ...}`, sends that
/// schema as `response_format` (`json_schema`, strict) unless
/// [`RubricJudge::structured_output`] turns it off for backends that reject
/// it, and parses the reply tolerantly
/// ([`parse_verdict`](crate::judge::parse_verdict)). A reply without a
/// valid score is [`Score::Undetermined`], never a low score.
///
/// With several samples ([`RubricJudge::samples`]) each sample is a
/// separate call, the scores combine by [`Aggregation`], and
/// [`Judgement::agreement`] reports how many agreed.
pub struct RubricJudge {
    name: String,
    criteria: String,
    scale: JudgeScale,
    template: JudgeTemplate,
    backend: Arc<dyn ModelBackend>,
    model: String,
    options: JudgeOptions,
}

impl std::fmt::Debug for RubricJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RubricJudge")
            .field("name", &self.name)
            .field("scale", &self.scale)
            .field("model", &self.model)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RubricJudge {
    /// Creates a judge named `name` (the metric name) that scores on
    /// `scale` against `criteria`, calling `model` on `backend`, with the
    /// default template.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] for an empty name or criteria or a
    /// malformed scale.
    pub fn new(
        name: impl Into<String>,
        criteria: impl Into<String>,
        scale: JudgeScale,
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
        scale
            .check()
            .map_err(|reason| EvalError::InvalidParameter {
                name: "scale",
                value: scale.to_string(),
                reason,
            })?;
        Ok(RubricJudge {
            template: JudgeTemplate::new("rubric", SYSTEM, USER)?,
            name,
            criteria,
            scale,
            backend,
            model: model.into(),
            options: JudgeOptions::default(),
        })
    }

    /// Replaces the prompt template; see [`JudgeTemplate`] for the
    /// variables it receives.
    pub fn template(mut self, template: JudgeTemplate) -> Self {
        self.template = template;
        self
    }

    /// Takes `samples` samples per case at `temperature` (default: 1 sample
    /// at temperature 0).
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

    /// Sets how samples combine (default: the mean).
    pub fn aggregation(mut self, aggregation: Aggregation) -> Self {
        self.options.aggregation = aggregation;
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
    /// (default: on). Turn it off for backends that reject JSON formats,
    /// such as the local model.
    pub fn structured_output(mut self, enabled: bool) -> Self {
        self.options.structured_output = enabled;
        self
    }

    /// Sets the cap on generated tokens per sample (default: 512).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.options.max_tokens = max_tokens;
        self
    }

    /// Returns the scale the judge scores on.
    pub fn scale(&self) -> JudgeScale {
        self.scale
    }

    /// Judges one sample, with each judge sample and their agreement.
    pub async fn judge(&self, sample: &Sample<'_>) -> Judgement {
        let messages = match self.template.render(&self.variables(sample)) {
            Ok(messages) => messages,
            Err(reason) => return undetermined_judgement(reason),
        };
        let schema = json!({
            "type": "object",
            "properties": {
                "reasoning": { "type": "string" },
                "score": self.scale.score_schema(),
            },
            "required": ["reasoning", "score"],
            "additionalProperties": false,
        });
        let calls = (0..self.options.samples).map(|index| {
            call_judge(
                self.backend.as_ref(),
                &self.model,
                messages.clone(),
                &self.options,
                Some(schema.clone()),
                index,
            )
        });
        let replies = futures::future::join_all(calls).await;

        let samples: Vec<JudgeSample> = replies
            .into_iter()
            .map(|reply| self.read_reply(reply))
            .collect();
        let outcomes: Vec<std::result::Result<f64, String>> =
            samples.iter().map(|s| score_outcome(&s.score)).collect();
        let combined = combine(&outcomes, self.options.aggregation);
        tracing::debug!(
            judge = %self.name,
            case_id = %sample.case.id,
            agreement = combined.agreement,
            "judged case"
        );
        Judgement {
            score: combined.score,
            agreement: combined.agreement,
            samples,
        }
    }

    fn read_reply(&self, reply: std::result::Result<String, String>) -> JudgeSample {
        let parsed = reply.and_then(|text| parse_verdict(&text, self.scale));
        match parsed {
            Ok(verdict) => JudgeSample {
                score: Score::value(verdict.score),
                reasoning: verdict.reasoning,
            },
            Err(reason) => JudgeSample {
                score: Score::undetermined(reason),
                reasoning: None,
            },
        }
    }

    fn variables(&self, sample: &Sample<'_>) -> BTreeMap<&'static str, Value> {
        let case = sample.case;
        let mut variables = BTreeMap::from([
            ("input", Value::from(case.input.as_str())),
            ("output", Value::from(sample.output)),
            ("criteria", Value::from(self.criteria.as_str())),
            ("scale", Value::from(self.scale.describe())),
        ]);
        if let Some(expected) = &case.expected {
            variables.insert("expected", Value::from(expected.as_str()));
        }
        if !case.contexts.is_empty() {
            variables.insert("contexts", Value::from_serialize(&case.contexts));
        }
        variables
    }
}

pub(crate) fn score_outcome(score: &Score) -> std::result::Result<f64, String> {
    match score {
        Score::Value { value } => Ok(*value),
        Score::Undetermined { reason } => Err(reason.clone()),
    }
}

fn undetermined_judgement(reason: String) -> Judgement {
    Judgement {
        score: Score::undetermined(reason),
        agreement: None,
        samples: Vec::new(),
    }
}

#[async_trait]
impl Metric for RubricJudge {
    fn name(&self) -> &str {
        &self.name
    }

    fn range(&self) -> ScoreRange {
        self.scale.range()
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        self.judge(sample).await.score
    }

    /// Scores like [`score`](Metric::score); with more than one sample the
    /// detail holds the sample count and their agreement.
    async fn score_detailed(&self, sample: &Sample<'_>) -> DetailedScore {
        let judgement = self.judge(sample).await;
        let samples = self.options.samples;
        DetailedScore {
            score: judgement.score,
            detail: (samples > 1).then(|| ScoreDetail::judge(samples, judgement.agreement)),
        }
    }
}
