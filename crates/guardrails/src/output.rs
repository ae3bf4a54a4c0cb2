//! Output guards: JSON validity and schema, banned terms, length, refusals
//! and citations.

use regex::Regex;
use serde_json::Value;

use crate::error::{GuardError, Result};
use crate::guard::{Action, Guard, Stage, Verdict};

/// Checks that output is JSON and, optionally, that it matches a JSON Schema.
///
/// With repair on, a failed parse is retried after removing a Markdown code
/// fence and any text before the first `{` or `[` and after the first complete
/// JSON value. The repaired text becomes the verdict's replacement.
pub struct JsonGuard {
    schema: Option<jsonschema::Validator>,
    repair: bool,
}

impl std::fmt::Debug for JsonGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonGuard")
            .field("schema", &self.schema.is_some())
            .field("repair", &self.repair)
            .finish()
    }
}

impl JsonGuard {
    /// Creates a guard that requires valid JSON, with repair on.
    pub fn new() -> Self {
        Self {
            schema: None,
            repair: true,
        }
    }

    /// Requires the JSON to match `schema`.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidSchema`] when `schema` is not a valid JSON Schema.
    pub fn with_schema(mut self, schema: &Value) -> Result<Self> {
        let validator =
            jsonschema::validator_for(schema).map_err(|e| GuardError::InvalidSchema {
                message: e.to_string(),
            })?;
        self.schema = Some(validator);
        Ok(self)
    }

    /// Turns repair on or off (default on).
    pub fn with_repair(mut self, repair: bool) -> Self {
        self.repair = repair;
        self
    }

    /// Returns the reason the value does not match the schema. Reasons name
    /// the instance path and schema path only, never the value.
    fn schema_errors(&self, value: &Value) -> Vec<String> {
        let Some(schema) = &self.schema else {
            return Vec::new();
        };
        schema
            .iter_errors(value)
            .map(|error| {
                format!(
                    "value at `{}` violates schema rule `{}`",
                    error.instance_path(),
                    error.schema_path()
                )
            })
            .collect()
    }
}

impl Default for JsonGuard {
    fn default() -> Self {
        Self::new()
    }
}

/// Returns the repaired JSON text, or `None` when no JSON value is found.
pub fn repair_json(text: &str) -> Option<String> {
    let trimmed = strip_code_fence(text.trim());
    let start = trimmed.find(['{', '['])?;
    let mut values = serde_json::Deserializer::from_str(&trimmed[start..]).into_iter::<Value>();
    values.next()?.ok()?;
    let end = start + values.byte_offset();
    Some(trimmed[start..end].to_owned())
}

fn strip_code_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let body = rest.split_once('\n').map_or("", |(_, body)| body);
    body.rsplit_once("```")
        .map_or(body, |(inner, _)| inner)
        .trim()
}

impl Guard for JsonGuard {
    fn name(&self) -> &str {
        "json"
    }

    fn applies_to(&self, stage: Stage) -> bool {
        stage == Stage::Output
    }

    fn check(&self, text: &str, _stage: Stage) -> Result<Verdict> {
        let (value, replacement) = match serde_json::from_str::<Value>(text) {
            Ok(value) => (value, None),
            Err(error) => {
                let repaired = if self.repair { repair_json(text) } else { None };
                let parsed =
                    repaired.and_then(|r| serde_json::from_str::<Value>(&r).ok().map(|v| (v, r)));
                match parsed {
                    Some((value, repaired)) => (value, Some(repaired)),
                    None => {
                        let reason = format!(
                            "output is not valid JSON: line {} column {}",
                            error.line(),
                            error.column()
                        );
                        return Ok(Verdict::with_reason(self.name(), Action::Block, reason));
                    }
                }
            }
        };
        let errors = self.schema_errors(&value);
        if !errors.is_empty() {
            return Ok(Verdict {
                action: Action::Block,
                reasons: errors,
                ..Verdict::allow(self.name())
            });
        }
        let mut verdict = Verdict::allow(self.name());
        if replacement.is_some() {
            verdict
                .reasons
                .push("repaired JSON by removing text around the value".to_owned());
        }
        verdict.replacement = replacement;
        Ok(verdict)
    }
}

/// Flags output that contains any of a list of terms, matched
/// case-insensitively as whole words where the term starts and ends with a
/// word character.
#[derive(Debug)]
pub struct BannedTermsGuard {
    regex: Option<Regex>,
    action: Action,
    stage: Option<Stage>,
}

impl BannedTermsGuard {
    /// Creates a guard for `terms` that blocks on a match.
    ///
    /// # Errors
    ///
    /// Returns [`GuardError::InvalidPattern`] when the combined pattern is too big to compile.
    pub fn new(terms: Vec<String>) -> Result<Self> {
        let terms: Vec<String> = terms.into_iter().filter(|t| !t.trim().is_empty()).collect();
        let alternatives: Vec<String> = terms
            .iter()
            .map(|term| {
                let escaped = regex::escape(term);
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                let start = if word(term.chars().next()) { r"\b" } else { "" };
                let end = if word(term.chars().next_back()) {
                    r"\b"
                } else {
                    ""
                };
                format!("{start}{escaped}{end}")
            })
            .collect();
        let regex = if alternatives.is_empty() {
            None
        } else {
            let pattern = format!("(?i){}", alternatives.join("|"));
            Some(
                Regex::new(&pattern).map_err(|e| GuardError::InvalidPattern {
                    pattern,
                    message: e.to_string(),
                })?,
            )
        };
        Ok(Self {
            regex,
            action: Action::Block,
            stage: None,
        })
    }

    /// Sets the action on a match (default `Block`).
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Runs the guard at `stage` only (default: both stages).
    pub fn only_at(mut self, stage: Stage) -> Self {
        self.stage = Some(stage);
        self
    }
}

impl Guard for BannedTermsGuard {
    fn name(&self) -> &str {
        "banned_terms"
    }

    fn applies_to(&self, stage: Stage) -> bool {
        self.stage.is_none_or(|only| only == stage)
    }

    fn check(&self, text: &str, _stage: Stage) -> Result<Verdict> {
        let Some(regex) = &self.regex else {
            return Ok(Verdict::allow(self.name()));
        };
        let mut hits: Vec<String> = regex
            .find_iter(text)
            .map(|m| m.as_str().to_lowercase())
            .collect();
        hits.sort();
        hits.dedup();
        if hits.is_empty() {
            return Ok(Verdict::allow(self.name()));
        }
        Ok(Verdict::with_reason(
            self.name(),
            self.action,
            format!("contains banned terms: {}", hits.join(", ")),
        ))
    }
}

/// Limits output length in chars.
#[derive(Debug, Clone)]
pub struct LengthGuard {
    max_chars: usize,
    action: Action,
    stage: Option<Stage>,
}

impl LengthGuard {
    /// Creates a guard that blocks text longer than `max_chars` chars.
    pub fn new(max_chars: usize) -> Self {
        Self {
            max_chars,
            action: Action::Block,
            stage: None,
        }
    }

    /// Sets the action when the limit is exceeded (default `Block`).
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Runs the guard at `stage` only (default: both stages).
    pub fn only_at(mut self, stage: Stage) -> Self {
        self.stage = Some(stage);
        self
    }
}

impl Guard for LengthGuard {
    fn name(&self) -> &str {
        "length"
    }

    fn applies_to(&self, stage: Stage) -> bool {
        self.stage.is_none_or(|only| only == stage)
    }

    fn check(&self, text: &str, _stage: Stage) -> Result<Verdict> {
        let chars = text.chars().count();
        if chars <= self.max_chars {
            return Ok(Verdict::allow(self.name()));
        }
        let reason = format!(
            "text has {chars} chars, above the limit of {}",
            self.max_chars
        );
        Ok(Verdict::with_reason(self.name(), self.action, reason))
    }
}

/// Refusal phrases in English and Korean, matched case-insensitively.
const REFUSALS: &str = r"(?i)\b(?:i\s*(?:'m|am)\s+(?:sorry|afraid),?\s+(?:but\s+)?i\s+(?:can(?:'|no)t|won't|am\s+unable)|i\s+(?:can(?:'|no)t|won't|am\s+(?:not\s+able|unable))\s+(?:help|assist|comply|provide|do\s+that)|as\s+an\s+ai(?:\s+language)?\s+model)|(?:도와\s*드릴\s*수\s*없|답변(?:해\s*)?드릴\s*수\s*없|제공(?:해\s*)?드릴\s*수\s*없|응답할\s*수\s*없)";

/// Flags responses in which the model refuses the request.
#[derive(Debug)]
pub struct RefusalGuard {
    regex: Option<Regex>,
    action: Action,
}

impl Default for RefusalGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl RefusalGuard {
    /// Creates a guard that sends refusals to review.
    pub fn new() -> Self {
        Self {
            regex: Regex::new(REFUSALS).ok(),
            action: Action::Review,
        }
    }

    /// Sets the action on a refusal (default `Review`).
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }
}

impl Guard for RefusalGuard {
    fn name(&self) -> &str {
        "refusal"
    }

    fn applies_to(&self, stage: Stage) -> bool {
        stage == Stage::Output
    }

    fn check(&self, text: &str, _stage: Stage) -> Result<Verdict> {
        match &self.regex {
            Some(regex) if regex.is_match(text) => Ok(Verdict::with_reason(
                self.name(),
                self.action,
                "the model refused the request",
            )),
            _ => Ok(Verdict::allow(self.name())),
        }
    }
}

/// Requires citation markers such as `[1]` or `[doc-id]` in a response.
#[derive(Debug)]
pub struct CitationGuard {
    regex: Option<Regex>,
    min_citations: usize,
    action: Action,
}

impl Default for CitationGuard {
    fn default() -> Self {
        Self::new(1)
    }
}

impl CitationGuard {
    /// Creates a guard that sends responses with fewer than `min_citations`
    /// distinct markers to review.
    pub fn new(min_citations: usize) -> Self {
        let regex = Regex::new(r"\[([0-9]{1,3}|[A-Za-z][A-Za-z0-9_.:#/-]{0,63})\]").ok();
        Self {
            regex,
            min_citations,
            action: Action::Review,
        }
    }

    /// Sets the action when citations are missing (default `Review`).
    pub fn with_action(mut self, action: Action) -> Self {
        self.action = action;
        self
    }

    /// Returns the distinct citation markers in `text`. Markdown links
    /// (`[text](url)`) are not citations.
    pub fn citations(&self, text: &str) -> Vec<String> {
        let Some(regex) = &self.regex else {
            return Vec::new();
        };
        let mut found: Vec<String> = regex
            .captures_iter(text)
            .filter_map(|captures| {
                let whole = captures.get(0)?;
                let link = text[whole.end()..].starts_with('(');
                (!link)
                    .then(|| captures.get(1).map(|m| m.as_str().to_owned()))
                    .flatten()
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

impl Guard for CitationGuard {
    fn name(&self) -> &str {
        "citations"
    }

    fn applies_to(&self, stage: Stage) -> bool {
        stage == Stage::Output
    }

    fn check(&self, text: &str, _stage: Stage) -> Result<Verdict> {
        let count = self.citations(text).len();
        if count >= self.min_citations {
            return Ok(Verdict::allow(self.name()));
        }
        let reason = format!(
            "response has {count} citations, fewer than the required {}",
            self.min_citations
        );
        Ok(Verdict::with_reason(self.name(), self.action, reason))
    }
}
