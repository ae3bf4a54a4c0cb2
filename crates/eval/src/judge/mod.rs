//! LLM-as-judge metrics: rubric and pairwise judges, presets, and tolerant
//! parsing of judge output.
//!
//! - [`RubricJudge`] scores one output against criteria on a
//!   [`JudgeScale`] (points such as 1 to 5, or pass/fail).
//! - [`PairwiseJudge`] compares two outputs in both orders, so a judge
//!   that favours a position produces ties, not wins.
//! - [`RubricPreset`]: correctness, helpfulness, non-toxicity, lack of
//!   bias, faithfulness to contexts, and answer relevance.
//! - [`parse_verdict`] and [`parse_preference`] read JSON in code fences,
//!   JSON with text around it, and scores written as words.
//!
//! Both judges implement [`Metric`](crate::Metric), so the
//! [`Evaluator`](crate::Evaluator), reports and gates use them unchanged.
//! A judge reply without a valid score is undetermined, never a 0.
//!
//! Several samples per case (`samples(n, temperature)`) are separate
//! calls; they combine by [`Aggregation`], and the judgement reports
//! agreement as the share of scored samples that gave the most frequent
//! value. As metrics, judges with several samples return the sample count
//! and agreement as a [`ScoreDetail`](crate::ScoreDetail), which the
//! evaluator stores and reports summarize; call [`RubricJudge::judge`] or
//! [`PairwiseJudge::compare`] for the samples themselves.
//!
//! A judge call that fails with a retryable error (rate limit, overload,
//! timeout, 5xx, network error, malformed response) is retried with
//! doubling backoff, 3 attempts by default, each wait capped at 20 s;
//! `retries(max_attempts, initial_backoff)` changes the attempts and first
//! wait.

mod aggregate;
pub(crate) mod call;
mod pairwise;
pub(crate) mod parse;
mod presets;
mod rubric;
mod scale;
mod template;

pub use aggregate::Aggregation;
pub use call::MAX_SAMPLES;
pub use pairwise::{
    InconsistentOrder, PairwiseJudge, PairwiseJudgement, PairwiseOutcome, PairwiseSample,
};
pub use parse::{
    Preference, Verdict, parse_preference, parse_verdict, score_from_value, score_from_word,
};
pub use presets::RubricPreset;
pub use rubric::{JudgeSample, Judgement, RubricJudge};
pub use scale::JudgeScale;
pub use template::JudgeTemplate;
