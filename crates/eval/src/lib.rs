//! Evaluation of LLM outputs for llmops: datasets, metrics, an evaluator
//! with resumption, reports and regression gates.
//!
//! - [`Dataset`]: [`Case`]s loaded from JSON Lines or CSV, versioned by a
//!   content hash.
//! - [`Metric`]: one evaluation dimension. A metric returns a [`Score`]
//!   inside its [`ScoreRange`], or [`Score::Undetermined`] with a reason
//!   when it cannot judge a case, never a stand-in 0.
//! - Deterministic metrics: [`ExactMatch`], [`NormalizedMatch`],
//!   [`Contains`], [`RegexMatch`], [`JsonValid`], [`JsonSchemaMatch`],
//!   [`LengthRange`], [`LatencyBudget`], [`CostBudget`].
//! - [`text`]: BLEU and chrF equal to sacreBLEU 2.6, ROUGE-1/2/L equal to
//!   `rouge-score` 0.1.2 (no stemming), and SQuAD token F1;
//!   [`EmbeddingSimilarity`] through an [`llmops_core::Embedder`].
//! - [`Evaluator`]: runs an [`llmops_core::ModelBackend`] over a dataset
//!   concurrently with retries and a progress bar, saving results to a
//!   [`ResultStore`] so an interrupted run resumes where it stopped.
//! - [`Report`]: mean with bootstrap interval, per-tag means and worst
//!   cases per metric, as JSON, Markdown or HTML.
//! - [`rag`]: faithfulness, answer relevance, context precision and
//!   recall, and citation correctness, scored without an LLM call; answer
//!   relevance can also follow Ragas and ask a model for questions the
//!   answer would answer.
//! - [`grounded`]: [`GroundednessScorer`], a cheap groundedness score for
//!   every production response; with the `gateway` feature, a gateway hook
//!   that scores responses on a background worker.
//! - [`compare_runs`]: a regression gate with McNemar's test for pass/fail
//!   metrics and the Wilcoxon signed-rank test otherwise, plus a paired
//!   bootstrap interval ([`stats`]).
//! - [`judge`]: LLM-as-judge metrics: rubric and pairwise judges with
//!   presets (correctness, helpfulness, toxicity, bias, faithfulness,
//!   answer relevance), tolerant parsing of judge replies, and retries of
//!   rate-limited or failed judge calls with capped backoff.
//! - [`labels`]: review files for people, label import, and judge-human
//!   agreement as accuracy and Cohen's kappa.
//! - `online` (feature `gateway`): a gateway post-call hook that scores a
//!   sample of live traffic with judges in the background; with feature
//!   `registry` the scores attach to prompt versions in llmops-registry.
//! - `GuardMetric` (feature `guardrails`): any `llmops_guardrails::Guard`
//!   (toxicity, PII, secrets, injection) as a pass/fail metric whose
//!   [`ScoreDetail`] lists the finding types, never the matched text.
//!
//! A metric may report a [`ScoreDetail`] beside its score through
//! [`Metric::score_detailed`]: judges with several samples report their
//! agreement, which [`Report`] summarizes per metric.
//!
//! # Example
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use llmops_eval::text::{Rouge, RougeKind};
//! use llmops_eval::{Case, Metric, NormalizedMatch, Sample, Score};
//!
//! let case = Case::new("capital", "Capital of France?").expected("Paris");
//! let sample = Sample::new(&case, "paris.");
//! assert_eq!(NormalizedMatch.score(&sample).await, Score::value(1.0));
//!
//! let no_reference = Case::new("open", "Write a haiku");
//! let sample = Sample::new(&no_reference, "Autumn moonlight");
//! let score = Rouge::new(RougeKind::RougeL).score(&sample).await;
//! assert!(score.as_value().is_none());
//! # });
//! ```

mod dataset;
mod deterministic;
mod embedding;
mod error;
mod evaluator;
mod gate;
pub mod grounded;
#[cfg(feature = "guardrails")]
mod guard_metric;
pub mod judge;
pub mod labels;
mod metric;
#[cfg(feature = "gateway")]
pub mod online;
pub mod rag;
mod report;
mod result;
mod score;
pub mod stats;
mod store;
pub mod text;

pub use dataset::{Case, Dataset};
pub use deterministic::{
    Contains, CostBudget, ExactMatch, JsonSchemaMatch, JsonValid, LatencyBudget, LengthRange,
    NormalizedMatch, RegexMatch, normalize_text,
};
pub use embedding::{EmbeddingSimilarity, cosine_similarity};
pub use error::{EvalError, Result};
pub use evaluator::{Evaluator, RequestBuilder};
pub use gate::{GateConfig, GateReport, MetricComparison, PairedTest, compare_runs};
pub use grounded::{GroundednessInput, GroundednessRecord, GroundednessScorer, GroundednessSink};
#[cfg(feature = "guardrails")]
pub use guard_metric::GuardMetric;
pub use metric::{Metric, Sample};
pub use report::{
    AgreementSummary, CaseAgreement, MetricSummary, Report, ReportOptions, TagSummary, WorstCase,
};
pub use result::{CaseResult, EvalRun, RunInfo};
pub use score::{DetailedScore, Score, ScoreDetail, ScoreRange};
pub use store::{MIGRATIONS, ResultStore};
