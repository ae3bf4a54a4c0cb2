//! Deterministic metrics: string matches, patterns, JSON checks, length and
//! budgets. Each returns 1.0 for a pass and 0.0 for a fail.

use async_trait::async_trait;
use regex::Regex;
use rust_decimal::Decimal;

use crate::error::{EvalError, Result};
use crate::metric::{Metric, Sample, reference};
use crate::score::{Score, ScoreRange};

/// Passes when the output equals the reference byte for byte.
#[derive(Debug, Clone, Default)]
pub struct ExactMatch;

#[async_trait]
impl Metric for ExactMatch {
    fn name(&self) -> &str {
        "exact_match"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        match reference(sample, self.name()) {
            Ok(expected) => Score::pass(sample.output == expected),
            Err(undetermined) => undetermined,
        }
    }
}

/// Passes when output and reference are equal after [`normalize_text`].
#[derive(Debug, Clone, Default)]
pub struct NormalizedMatch;

/// Lowercases text, removes characters that are neither alphanumeric nor
/// whitespace, and collapses whitespace runs to one space.
pub fn normalize_text(text: &str) -> String {
    let lowered = text.to_lowercase();
    let kept: String = lowered
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl Metric for NormalizedMatch {
    fn name(&self) -> &str {
        "normalized_match"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        match reference(sample, self.name()) {
            Ok(expected) => Score::pass(normalize_text(sample.output) == normalize_text(expected)),
            Err(undetermined) => undetermined,
        }
    }
}

/// Passes when the output contains a fixed substring, or the case reference
/// when no substring is set.
#[derive(Debug, Clone, Default)]
pub struct Contains {
    needle: Option<String>,
    ignore_case: bool,
}

impl Contains {
    /// Checks for the case's reference inside the output.
    pub fn reference() -> Self {
        Contains::default()
    }

    /// Checks for a fixed substring.
    pub fn text(needle: impl Into<String>) -> Self {
        Contains {
            needle: Some(needle.into()),
            ignore_case: false,
        }
    }

    /// Compares lowercased text; off by default.
    pub fn ignore_case(mut self, ignore_case: bool) -> Self {
        self.ignore_case = ignore_case;
        self
    }
}

#[async_trait]
impl Metric for Contains {
    fn name(&self) -> &str {
        "contains"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let needle = match &self.needle {
            Some(needle) => needle.as_str(),
            None => match reference(sample, self.name()) {
                Ok(expected) => expected,
                Err(undetermined) => return undetermined,
            },
        };
        if self.ignore_case {
            Score::pass(
                sample
                    .output
                    .to_lowercase()
                    .contains(&needle.to_lowercase()),
            )
        } else {
            Score::pass(sample.output.contains(needle))
        }
    }
}

/// Passes when a regular expression matches somewhere in the output.
#[derive(Debug, Clone)]
pub struct RegexMatch {
    name: String,
    pattern: Regex,
}

impl RegexMatch {
    /// Compiles the pattern (Rust `regex` syntax).
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidPattern`] when the pattern does not compile.
    pub fn new(name: impl Into<String>, pattern: &str) -> Result<Self> {
        let compiled = Regex::new(pattern).map_err(|error| EvalError::InvalidPattern {
            pattern: pattern.to_owned(),
            message: error.to_string(),
        })?;
        Ok(RegexMatch {
            name: name.into(),
            pattern: compiled,
        })
    }
}

#[async_trait]
impl Metric for RegexMatch {
    fn name(&self) -> &str {
        &self.name
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        Score::pass(self.pattern.is_match(sample.output))
    }
}

/// Passes when the output parses as JSON.
#[derive(Debug, Clone, Default)]
pub struct JsonValid;

#[async_trait]
impl Metric for JsonValid {
    fn name(&self) -> &str {
        "json_valid"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        Score::pass(serde_json::from_str::<serde_json::Value>(sample.output).is_ok())
    }
}

/// Passes when the output is JSON that conforms to a JSON Schema.
#[derive(Debug)]
pub struct JsonSchemaMatch {
    validator: jsonschema::Validator,
}

impl JsonSchemaMatch {
    /// Compiles the schema (drafts 4 to 2020-12, detected from `$schema`).
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidSchema`] when the schema does not compile.
    pub fn new(schema: &serde_json::Value) -> Result<Self> {
        let validator =
            jsonschema::validator_for(schema).map_err(|error| EvalError::InvalidSchema {
                message: error.to_string(),
            })?;
        Ok(JsonSchemaMatch { validator })
    }
}

#[async_trait]
impl Metric for JsonSchemaMatch {
    fn name(&self) -> &str {
        "json_schema"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        match serde_json::from_str::<serde_json::Value>(sample.output) {
            Ok(value) => Score::pass(self.validator.is_valid(&value)),
            Err(_) => Score::pass(false),
        }
    }
}

/// Passes when the output's length in Unicode scalar values (`char`s) lies
/// within bounds, both inclusive.
#[derive(Debug, Clone)]
pub struct LengthRange {
    min_chars: usize,
    max_chars: usize,
}

impl LengthRange {
    /// Creates the check.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `min_chars > max_chars`.
    pub fn new(min_chars: usize, max_chars: usize) -> Result<Self> {
        if min_chars > max_chars {
            return Err(EvalError::InvalidParameter {
                name: "min_chars",
                value: min_chars.to_string(),
                reason: format!("must not exceed max_chars ({max_chars})"),
            });
        }
        Ok(LengthRange {
            min_chars,
            max_chars,
        })
    }
}

#[async_trait]
impl Metric for LengthRange {
    fn name(&self) -> &str {
        "length"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        let length = sample.output.chars().count();
        Score::pass(length >= self.min_chars && length <= self.max_chars)
    }
}

/// Passes when the model call took at most a budget; undetermined when the
/// sample has no latency.
#[derive(Debug, Clone)]
pub struct LatencyBudget {
    max_ms: u64,
}

impl LatencyBudget {
    /// Creates the check with a budget in milliseconds.
    pub fn new(max_ms: u64) -> Self {
        LatencyBudget { max_ms }
    }
}

#[async_trait]
impl Metric for LatencyBudget {
    fn name(&self) -> &str {
        "latency_budget"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        match sample.latency_ms {
            Some(latency_ms) => Score::pass(latency_ms <= self.max_ms),
            None => Score::undetermined("the sample has no measured latency"),
        }
    }
}

/// Passes when the model call cost at most a budget in US dollars;
/// undetermined when the sample has no cost.
#[derive(Debug, Clone)]
pub struct CostBudget {
    max_usd: Decimal,
}

impl CostBudget {
    /// Creates the check with a budget in US dollars.
    pub fn new(max_usd: Decimal) -> Self {
        CostBudget { max_usd }
    }
}

#[async_trait]
impl Metric for CostBudget {
    fn name(&self) -> &str {
        "cost_budget"
    }

    fn range(&self) -> ScoreRange {
        ScoreRange::UNIT
    }

    async fn score(&self, sample: &Sample<'_>) -> Score {
        match sample.cost_usd {
            Some(cost) => Score::pass(cost <= self.max_usd),
            None => {
                Score::undetermined("the sample has no cost (model missing from the price table?)")
            }
        }
    }
}
