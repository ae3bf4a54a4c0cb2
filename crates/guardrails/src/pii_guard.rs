//! The guard that finds PII and secrets and redacts or blocks them.

use std::collections::HashMap;

use crate::analyzer::Analyzer;
use crate::anonymize::{Anonymizer, PlaceholderScope};
use crate::entity::EntityType;
use crate::error::Result;
use crate::guard::{Action, Guard, Stage, Verdict};
use crate::mention::EntityMention;

/// Finds PII and secrets with an [`Analyzer`]. The verdict's action is the
/// most severe action among the findings' entity types; on `Redact` the
/// replacement text has every finding anonymised.
#[derive(Debug)]
pub struct PiiGuard {
    analyzer: Analyzer,
    anonymizer: Anonymizer,
    default_action: Action,
    actions: HashMap<EntityType, Action>,
}

impl Default for PiiGuard {
    fn default() -> Self {
        Self::new(Analyzer::new())
    }
}

impl PiiGuard {
    /// Creates a guard that redacts PII with placeholders and blocks secrets.
    pub fn new(analyzer: Analyzer) -> Self {
        let actions = EntityType::ALL
            .iter()
            .filter(|e| e.is_secret())
            .map(|&e| (e, Action::Block))
            .collect();
        Self {
            analyzer,
            anonymizer: Anonymizer::default(),
            default_action: Action::Redact,
            actions,
        }
    }

    /// Sets the action for entity types without their own (default `Redact`).
    pub fn with_default_action(mut self, action: Action) -> Self {
        self.default_action = action;
        self
    }

    /// Sets the action for one entity type.
    pub fn with_action(mut self, entity: EntityType, action: Action) -> Self {
        self.actions.insert(entity, action);
        self
    }

    /// Sets the anonymizer used on `Redact` (default: typed placeholders).
    pub fn with_anonymizer(mut self, anonymizer: Anonymizer) -> Self {
        self.anonymizer = anonymizer;
        self
    }

    /// Returns the analyzer.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }
}

impl Guard for PiiGuard {
    fn name(&self) -> &str {
        "pii"
    }

    fn check(&self, text: &str, stage: Stage) -> Result<Verdict> {
        self.check_with_mentions(text, stage, &[])
    }

    fn check_with_mentions(
        &self,
        text: &str,
        _stage: Stage,
        mentions: &[EntityMention],
    ) -> Result<Verdict> {
        let findings = self.analyzer.analyze_with_mentions(text, mentions)?;
        let mut verdict = Verdict::allow(self.name());
        if findings.is_empty() {
            return Ok(verdict);
        }
        let mut counts: HashMap<EntityType, usize> = HashMap::new();
        for finding in &findings {
            *counts.entry(finding.entity).or_insert(0) += 1;
            let action = self
                .actions
                .get(&finding.entity)
                .copied()
                .unwrap_or(self.default_action);
            verdict.action = verdict.action.max(action);
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort();
        verdict.reasons = counts
            .iter()
            .map(|(entity, n)| format!("found {n} {entity}"))
            .collect();
        if verdict.action == Action::Redact {
            let mut scope = PlaceholderScope::new();
            verdict.replacement = Some(self.anonymizer.anonymize(text, &findings, &mut scope));
        }
        verdict.findings = findings;
        Ok(verdict)
    }
}
