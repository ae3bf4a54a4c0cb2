//! Pipelines of guards, built in code or from TOML.

use std::collections::HashMap;

use llmops_core::types::ChatRequest;
use serde::Deserialize;

use crate::analyzer::{Analyzer, DEFAULT_MIN_SCORE};
use crate::anonymize::{Anonymizer, Operator};
use crate::entity::EntityType;
use crate::error::{GuardError, Result};
use crate::guard::{Action, Guard, Stage, Verdict};
use crate::injection::InjectionGuard;
use crate::mention::EntityMention;
use crate::output::{BannedTermsGuard, CitationGuard, JsonGuard, LengthGuard, RefusalGuard};
use crate::pii_guard::PiiGuard;

/// Result of a pipeline run on one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Most severe action of all verdicts.
    pub action: Action,
    /// Text after every replacement (redaction, JSON repair).
    pub text: String,
    /// Verdicts of the guards that ran, in order.
    pub verdicts: Vec<Verdict>,
}

/// Guards run in order. Each guard checks the text left by the previous one,
/// and the run stops at the first `Block`.
#[derive(Default)]
pub struct Pipeline {
    guards: Vec<Box<dyn Guard>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.guards.iter().map(|g| g.name()).collect();
        f.debug_struct("Pipeline").field("guards", &names).finish()
    }
}

impl Pipeline {
    /// Creates an empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a guard.
    pub fn with_guard(mut self, guard: Box<dyn Guard>) -> Self {
        self.guards.push(guard);
        self
    }

    /// Parses a TOML config and builds the pipeline.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidConfig`] for TOML that does not match
    /// [`PipelineConfig`], and the errors of [`Pipeline::from_config`].
    pub fn from_toml(source: &str) -> Result<Self> {
        let config: PipelineConfig =
            toml::from_str(source).map_err(|e| GuardError::InvalidConfig {
                message: e.to_string(),
            })?;
        Self::from_config(&config)
    }

    /// Builds the pipeline: injection, then PII, then output checks.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidConfig`] for a threshold or minimum
    /// score outside 0 to 1, [`GuardError::InvalidSchema`] for a bad JSON
    /// schema and [`GuardError::InvalidPattern`] for banned terms that do
    /// not compile.
    pub fn from_config(config: &PipelineConfig) -> Result<Self> {
        let in_unit_range = |key: &str, value: f32| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(GuardError::InvalidConfig {
                    message: format!("{key} is {value}; use a score from 0 to 1, such as 0.5"),
                })
            }
        };
        if let Some(injection) = &config.injection {
            in_unit_range("injection.threshold", injection.threshold)?;
        }
        if let Some(pii) = &config.pii {
            in_unit_range("pii.min_score", pii.min_score)?;
            if let Some(operator) = &pii.operator {
                operator.validate().map_err(|error| match error {
                    GuardError::InvalidConfig { message } => GuardError::InvalidConfig {
                        message: format!("pii.operator: {message}"),
                    },
                    other => other,
                })?;
            }
        }
        let mut pipeline = Self::new();
        if let Some(injection) = &config.injection {
            let guard = InjectionGuard::default()
                .with_threshold(injection.threshold)
                .with_action(injection.action);
            pipeline = pipeline.with_guard(Box::new(guard));
        }
        if let Some(pii) = &config.pii {
            pipeline = pipeline.with_guard(Box::new(pii.build()));
        }
        if let Some(output) = &config.output {
            for guard in output.build()? {
                pipeline = pipeline.with_guard(guard);
            }
        }
        Ok(pipeline)
    }

    /// Runs the guards that apply to `stage` on `text`.
    ///
    /// # Errors
    ///
    /// Returns the first error of a guard.
    pub fn check(&self, text: &str, stage: Stage) -> Result<Outcome> {
        self.check_with_mentions(text, stage, &[])
    }

    /// Runs the guards that apply to `stage` on `text`, giving each the
    /// entity mentions a model found in the text, such as the names from a
    /// [`ChatEntityExtractor`](crate::ChatEntityExtractor). Mentions are
    /// located in the text each guard receives, so they still apply after
    /// an earlier guard replaced part of it.
    ///
    /// # Errors
    ///
    /// Returns the first error of a guard.
    pub fn check_with_mentions(
        &self,
        text: &str,
        stage: Stage,
        mentions: &[EntityMention],
    ) -> Result<Outcome> {
        let mut outcome = Outcome {
            action: Action::Allow,
            text: text.to_owned(),
            verdicts: Vec::new(),
        };
        for guard in self.guards.iter().filter(|g| g.applies_to(stage)) {
            let mut verdict = guard.check_with_mentions(&outcome.text, stage, mentions)?;
            outcome.action = outcome.action.max(verdict.action);
            if let Some(replacement) = verdict.replacement.take() {
                outcome.text = replacement.clone();
                verdict.replacement = Some(replacement);
            }
            let blocked = verdict.action == Action::Block;
            if verdict.action != Action::Allow {
                tracing::debug!(
                    guard = guard.name(),
                    action = ?verdict.action,
                    findings = verdict.findings.len(),
                    "guard flagged text"
                );
            }
            outcome.verdicts.push(verdict);
            if blocked {
                break;
            }
        }
        Ok(outcome)
    }

    /// Runs the input guards on every message text of a chat request, in order.
    ///
    /// # Errors
    ///
    /// Returns the first error of a guard.
    pub fn check_request(&self, request: &ChatRequest) -> Result<Vec<Outcome>> {
        request
            .messages
            .iter()
            .map(|message| self.check(&message.text(), Stage::Input))
            .collect()
    }
}

/// Pipeline settings, usually read from TOML.
///
/// ```toml
/// [injection]
/// threshold = 0.5
/// action = "block"
///
/// [pii]
/// min_score = 0.5
/// default_action = "redact"
/// entities = ["KR_RRN", "EMAIL_ADDRESS"]   # optional; all types when absent
/// operator = { kind = "mask", keep_last = 4, mask_char = "*" }
/// actions = { KR_RRN = "block" }
///
/// [output]
/// max_chars = 4000
/// banned_terms = ["internal only"]
/// json = true
/// json_schema = '{"type": "object"}'
/// min_citations = 1
/// refusal_action = "review"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Prompt-injection check of input; off when absent.
    pub injection: Option<InjectionConfig>,
    /// PII and secret check of input and output; off when absent.
    pub pii: Option<PiiConfig>,
    /// Output checks; off when absent.
    pub output: Option<OutputConfig>,
}

/// Settings of the injection guard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InjectionConfig {
    /// Score at or above which the action applies (default 0.5).
    #[serde(default = "default_threshold")]
    pub threshold: f32,
    /// Action at or above the threshold (default `block`).
    #[serde(default = "default_block")]
    pub action: Action,
}

/// Settings of the PII guard.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiiConfig {
    /// Minimum finding score (default 0.5).
    #[serde(default = "default_threshold")]
    pub min_score: f32,
    /// Entity types to report; all when absent.
    pub entities: Option<Vec<EntityType>>,
    /// Action for entity types without their own (default `redact`).
    #[serde(default = "default_redact")]
    pub default_action: Action,
    /// Actions per entity type; secrets default to `block`.
    #[serde(default)]
    pub actions: HashMap<EntityType, Action>,
    /// Replacement used on `redact` (default typed placeholders).
    pub operator: Option<Operator>,
}

impl PiiConfig {
    fn build(&self) -> PiiGuard {
        let mut analyzer = Analyzer::new().with_min_score(self.min_score);
        if let Some(entities) = &self.entities {
            analyzer = analyzer.with_entities(entities.clone());
        }
        let mut guard = PiiGuard::new(analyzer).with_default_action(self.default_action);
        for (&entity, &action) in &self.actions {
            guard = guard.with_action(entity, action);
        }
        if let Some(operator) = &self.operator {
            guard = guard.with_anonymizer(Anonymizer::new(operator.clone()));
        }
        guard
    }
}

/// Settings of the output guards.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Maximum response length in chars; no limit when absent.
    pub max_chars: Option<usize>,
    /// Terms that block a response.
    #[serde(default)]
    pub banned_terms: Vec<String>,
    /// Requires the response to be JSON (default false).
    #[serde(default)]
    pub json: bool,
    /// JSON Schema, as a JSON string, that the response must match. It implies `json`.
    pub json_schema: Option<String>,
    /// Repairs JSON wrapped in code fences or text (default true).
    #[serde(default = "default_true")]
    pub repair_json: bool,
    /// Minimum number of citation markers; not checked when absent.
    pub min_citations: Option<usize>,
    /// Action on a refusal; refusals are not checked when absent.
    pub refusal_action: Option<Action>,
}

impl OutputConfig {
    fn build(&self) -> Result<Vec<Box<dyn Guard>>> {
        let mut guards: Vec<Box<dyn Guard>> = Vec::new();
        if let Some(max_chars) = self.max_chars {
            guards.push(Box::new(LengthGuard::new(max_chars).only_at(Stage::Output)));
        }
        if !self.banned_terms.is_empty() {
            guards.push(Box::new(
                BannedTermsGuard::new(self.banned_terms.clone())?.only_at(Stage::Output),
            ));
        }
        if self.json || self.json_schema.is_some() {
            let mut guard = JsonGuard::new().with_repair(self.repair_json);
            if let Some(schema) = &self.json_schema {
                let schema: serde_json::Value =
                    serde_json::from_str(schema).map_err(|e| GuardError::InvalidSchema {
                        message: format!("json_schema is not JSON: {e}"),
                    })?;
                guard = guard.with_schema(&schema)?;
            }
            guards.push(Box::new(guard));
        }
        if let Some(min_citations) = self.min_citations {
            guards.push(Box::new(CitationGuard::new(min_citations)));
        }
        if let Some(action) = self.refusal_action {
            guards.push(Box::new(RefusalGuard::new().with_action(action)));
        }
        Ok(guards)
    }
}

fn default_threshold() -> f32 {
    DEFAULT_MIN_SCORE
}

fn default_block() -> Action {
    Action::Block
}

fn default_redact() -> Action {
    Action::Redact
}

fn default_true() -> bool {
    true
}
