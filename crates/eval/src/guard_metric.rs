//! Guardrails as metrics: run any `llmops_guardrails::Guard` on each
//! sample (feature `guardrails`).

use std::sync::Arc;

use async_trait::async_trait;
use llmops_guardrails::{Action, Guard, Stage};

use crate::metric::{Metric, Sample};
use crate::score::{DetailedScore, Score, ScoreDetail, ScoreRange};

/// Scores a sample 1.0 when a guard lets it pass and 0.0 when the guard
/// redacts, flags or blocks it (by default; see [`fail_at`](Self::fail_at)).
///
/// The guard checks the model output at [`Stage::Output`], or the case
/// input at [`Stage::Input`] after [`on_input`](Self::on_input). The
/// score's detail lists the entity types of the guard's findings, such as
/// `EMAIL_ADDRESS` or `INSULT`, and never the matched text, which may be
/// PII. A guard error or a guard that does not run at the stage gives an
/// undetermined score.
///
/// ```
/// use llmops_eval::{Case, GuardMetric, Metric, Sample, Score};
/// use llmops_guardrails::{ToxicityGuard, ToxicityLexicon};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let lexicon = ToxicityLexicon::parse("[insult]\nnitwit\n").unwrap();
/// let metric = GuardMetric::new(ToxicityGuard::new(lexicon));
/// let case = Case::new("c1", "Describe the weather.");
/// let scored = metric.score_detailed(&Sample::new(&case, "Sunny, you nitwit.")).await;
/// assert_eq!(scored.score, Score::value(0.0));
/// assert_eq!(scored.detail.unwrap().findings, ["INSULT"]);
/// # });
/// ```
#[derive(Clone)]
pub struct GuardMetric {
    name: String,
    guard: Arc<dyn Guard>,
    stage: Stage,
    fail_at: Action,
}

impl std::fmt::Debug for GuardMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardMetric")
            .field("name", &self.name)
            .field("guard", &self.guard.name())
            .field("stage", &self.stage)
            .field("fail_at", &self.fail_at)
            .finish()
    }
}

impl GuardMetric {
    /// Creates a metric named `guard_<guard name>` that checks the model
    /// output.
    pub fn new(guard: impl Guard + 'static) -> Self {
        Self::from_arc(Arc::new(guard))
    }

    /// Creates the metric from a shared guard.
    pub fn from_arc(guard: Arc<dyn Guard>) -> Self {
        GuardMetric {
            name: format!("guard_{}", guard.name()),
            guard,
            stage: Stage::Output,
            fail_at: Action::Redact,
        }
    }

    /// Sets the metric name (default `guard_<guard name>`).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Checks the case input at [`Stage::Input`] instead of the output.
    pub fn on_input(mut self) -> Self {
        self.stage = Stage::Input;
        self
    }

    /// Sets the least severe action that fails the sample (default
    /// `Redact`, so any finding fails). With `Block`, redacted or flagged
    /// samples pass and only blocked ones score 0.
    pub fn fail_at(mut self, action: Action) -> Self {
        self.fail_at = action;
        self
    }

    fn check(&self, sample: &Sample<'_>) -> DetailedScore {
        if !self.guard.applies_to(self.stage) {
            let stage = match self.stage {
                Stage::Input => "input",
                Stage::Output => "output",
            };
            return Score::undetermined(format!(
                "guard `{}` does not run at the {stage} stage; configure it for that stage or check the other text",
                self.guard.name()
            ))
            .into();
        }
        let text = match self.stage {
            Stage::Input => sample.case.input.as_str(),
            Stage::Output => sample.output,
        };
        let verdict = match self.guard.check(text, self.stage) {
            Ok(verdict) => verdict,
            Err(error) => {
                tracing::warn!(guard = self.guard.name(), case_id = %sample.case.id, %error, "guard failed");
                return Score::undetermined(format!(
                    "guard `{}` failed: {error}",
                    self.guard.name()
                ))
                .into();
            }
        };

        let mut findings: Vec<String> = verdict
            .findings
            .iter()
            .map(|finding| finding.entity.as_str().to_owned())
            .collect();
        findings.sort();
        findings.dedup();
        DetailedScore {
            score: Score::pass(verdict.action < self.fail_at),
            detail: Some(ScoreDetail::findings(findings)),
        }
    }
}

#[async_trait]
impl Metric for GuardMetric {
    fn name(&self) -> &str {
        &self.name
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        self.check(sample).score
    }

    async fn score_detailed(&self, sample: &Sample<'_>) -> DetailedScore {
        self.check(sample)
    }
}
