//! A transparency report over a period: what the audit log recorded, how
//! human oversight decided, and which AI systems are registered.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use llmops_store::utc_time;
use serde::Serialize;
use sqlx::Row as _;

use crate::checkpoint::TreeHead;
use crate::error::{ComplianceError, Result};
use crate::incident::IncidentStatus;
use crate::log::AuditLog;
use crate::register::AiSystem;

/// The counts and register a transparency report shows, as JSON or Markdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TransparencyReport {
    /// The period's start, inclusive, in milliseconds since the Unix epoch.
    pub from_ms: i64,
    /// The period's end, exclusive.
    pub to_ms: i64,
    /// Entries in the period by event kind.
    pub events_by_kind: BTreeMap<String, u64>,
    /// Oversight decisions in the period by outcome (`approved`, `edited`, ...).
    pub oversight_decisions: BTreeMap<String, u64>,
    /// The registered AI systems.
    pub systems: Vec<AiSystem>,
    /// Incidents opened in the period, by severity.
    pub incidents_by_severity: BTreeMap<String, u64>,
    /// Incidents opened in the period and not closed when the report was built.
    pub incidents_not_closed: u64,
    /// The latest signed tree head, if any, so readers can check the log.
    pub latest_checkpoint: Option<TreeHead>,
}

impl AuditLog {
    /// Builds the transparency report for entries with `from_ms <= at_ms < to_ms`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidPeriod`] when `from_ms >= to_ms`, and
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn transparency_report(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<TransparencyReport> {
        if from_ms >= to_ms {
            return Err(ComplianceError::InvalidPeriod { from_ms, to_ms });
        }
        let store = self.store();
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) FROM compliance_audit_log
             WHERE at_ms >= $1 AND at_ms < $2 GROUP BY kind ORDER BY kind",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        let mut events_by_kind = BTreeMap::new();
        for row in rows {
            let kind: String = row.try_get(0).map_err(|source| store.error(source))?;
            let count: i64 = row.try_get(1).map_err(|source| store.error(source))?;
            events_by_kind.insert(kind, u64::try_from(count).unwrap_or(0));
        }

        // Decisions are counted from their payloads, so purged ones show as `purged`.
        let rows = sqlx::query(
            "SELECT payload FROM compliance_audit_log
             WHERE at_ms >= $1 AND at_ms < $2 AND kind = 'oversight_decision'",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        let mut oversight_decisions = BTreeMap::new();
        for row in rows {
            let payload: Option<String> = row.try_get(0).map_err(|source| store.error(source))?;
            let outcome = payload
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .and_then(|value| {
                    value
                        .get("to")
                        .and_then(|to| to.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "purged".to_owned());
            *oversight_decisions.entry(outcome).or_insert(0) += 1;
        }

        let mut incidents_by_severity = BTreeMap::new();
        let mut incidents_not_closed = 0;
        for incident in self.incidents(from_ms, to_ms).await? {
            let severity = serde_json::to_value(incident.record.severity)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            *incidents_by_severity.entry(severity).or_insert(0) += 1;
            if incident.status != IncidentStatus::Closed {
                incidents_not_closed += 1;
            }
        }

        let latest_checkpoint = self
            .checkpoints()
            .await?
            .into_iter()
            .max_by_key(|checkpoint| checkpoint.size)
            .map(|checkpoint| checkpoint.tree_head());
        Ok(TransparencyReport {
            from_ms,
            to_ms,
            events_by_kind,
            oversight_decisions,
            systems: self.systems().await?,
            incidents_by_severity,
            incidents_not_closed,
            latest_checkpoint,
        })
    }
}

impl TransparencyReport {
    /// Renders the report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Transparency report\n");
        let _ = writeln!(
            out,
            "Period: {} to {} (UTC, end exclusive).\n",
            utc_time(self.from_ms),
            utc_time(self.to_ms)
        );
        let _ = writeln!(
            out,
            "This report counts records kept by llmops. It is not legal advice and does not state whether any obligation is met.\n"
        );

        let _ = writeln!(
            out,
            "## Recorded events\n\n| kind | entries |\n| --- | ---: |"
        );
        for (kind, count) in &self.events_by_kind {
            let _ = writeln!(out, "| {kind} | {count} |");
        }
        let _ = writeln!(
            out,
            "\n## Human oversight decisions\n\n| outcome | decisions |\n| --- | ---: |"
        );
        for (outcome, count) in &self.oversight_decisions {
            let _ = writeln!(out, "| {outcome} | {count} |");
        }

        let _ = writeln!(
            out,
            "\n## AI systems\n\n| system | purpose | owner | models | high-impact domains |\n| --- | --- | --- | --- | --- |"
        );
        for system in &self.systems {
            let domains: Vec<String> = system
                .high_impact_domains
                .iter()
                .map(ToString::to_string)
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&system.name),
                cell(&system.purpose),
                cell(&system.owner),
                cell(&system.models.join(", ")),
                if domains.is_empty() {
                    "none".to_owned()
                } else {
                    domains.join(", ")
                }
            );
        }

        let _ = writeln!(
            out,
            "\n## Incidents\n\n| severity | opened |\n| --- | ---: |"
        );
        for (severity, count) in &self.incidents_by_severity {
            let _ = writeln!(out, "| {severity} | {count} |");
        }
        let _ = writeln!(
            out,
            "\n{} of them not closed when the report was built.",
            self.incidents_not_closed
        );

        let _ = writeln!(out, "\n## Log integrity\n");
        match &self.latest_checkpoint {
            Some(head) => {
                let _ = writeln!(
                    out,
                    "The latest signed checkpoint covers {} entries with Merkle root `{}`.",
                    head.size, head.root
                );
            }
            None => {
                let _ = writeln!(out, "No signed checkpoint exists yet.");
            }
        }
        out
    }
}

/// Escapes a Markdown table cell: pipes and line breaks would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cell_escapes_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
