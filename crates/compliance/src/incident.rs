//! Incident records: what went wrong with an AI system, how bad it was,
//! and each step until it was closed, every change written to the log.

use std::fmt;

use llmops_store::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row as _;

use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

/// The audit log kind of incident records.
pub const INCIDENT_KIND: &str = "incident";

/// How serious an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSeverity {
    /// No harm to people; a defect caught in time.
    Low,
    /// Limited harm, quickly reversed.
    Medium,
    /// Harm to people's rights, health or property.
    High,
    /// Serious harm; regulators may need to be told.
    Critical,
}

/// Where an incident is in its life cycle: open, then mitigated, then
/// closed; an open incident may also be closed directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Being handled.
    Open,
    /// The harm is contained; follow-up continues.
    Mitigated,
    /// Finished.
    Closed,
}

impl IncidentStatus {
    fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Mitigated => "mitigated",
            IncidentStatus::Closed => "closed",
        }
    }

    fn parse(text: &str) -> Option<IncidentStatus> {
        match text {
            "open" => Some(IncidentStatus::Open),
            "mitigated" => Some(IncidentStatus::Mitigated),
            "closed" => Some(IncidentStatus::Closed),
            _ => None,
        }
    }

    /// The statuses an incident may move to from this one.
    pub fn next(self) -> &'static [IncidentStatus] {
        match self {
            IncidentStatus::Open => &[IncidentStatus::Mitigated, IncidentStatus::Closed],
            IncidentStatus::Mitigated => &[IncidentStatus::Closed],
            IncidentStatus::Closed => &[],
        }
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    /// The registered system involved.
    pub system: String,
    /// A one-line title.
    pub title: String,
    /// How serious it is.
    pub severity: IncidentSeverity,
    /// What happened, without personal data: the log keeps it for good.
    #[serde(default)]
    pub description: String,
    /// When it happened, if known, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub occurred_at_ms: Option<i64>,
}

/// One status change with its note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentUpdate {
    /// The status after the change.
    pub status: IncidentStatus,
    /// Who made it.
    pub actor: String,
    /// What was done.
    pub note: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Incident {
    /// The incident id.
    pub id: i64,
    /// The incident as opened.
    pub record: NewIncident,
    /// The current status.
    pub status: IncidentStatus,
    /// Every change, the opening first.
    pub updates: Vec<IncidentUpdate>,
}

impl Incident {
    /// When it was opened.
    pub fn opened_at_ms(&self) -> i64 {
        self.updates.first().map_or(0, |update| update.at_ms)
    }
}

impl AuditLog {
    /// Opens an incident and records it in the log.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidIncident`] for an empty title or a system
    /// that is not registered, and [`ComplianceError::Store`].
    pub async fn open_incident(&self, incident: &NewIncident, actor: &str) -> Result<Incident> {
        let invalid = |reason: String| ComplianceError::InvalidIncident { id: None, reason };
        if incident.title.trim().is_empty() {
            return Err(invalid("give the incident a title".into()));
        }
        if !self.is_registered(&incident.system).await? {
            return Err(invalid(format!(
                "system `{}` is not in the AI system register; register it first",
                incident.system
            )));
        }
        let at_ms = now_ms();
        let opened = IncidentUpdate {
            status: IncidentStatus::Open,
            actor: actor.to_owned(),
            note: "opened".to_owned(),
            at_ms,
        };
        let record = encode(incident)?;
        let updates = encode(&[&opened])?;
        let store = self.store();
        let mut transaction = store.begin().await?;
        let row = sqlx::query(
            "INSERT INTO compliance_incidents (system, severity, status, record, updates, opened_at_ms, updated_at_ms)
             VALUES ($1, $2, 'open', $3, $4, $5, $5) RETURNING id",
        )
        .bind(&incident.system)
        .bind(severity_name(incident.severity))
        .bind(&record)
        .bind(&updates)
        .bind(at_ms)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;
        let id: i64 = row.try_get(0).map_err(|source| store.error(source))?;
        let event = NewEvent::new(
            EventKind::Custom(INCIDENT_KIND.to_owned()),
            actor,
            format!("incident:{id}"),
        )
        .payload(json!({
            "action": "opened",
            "system": incident.system,
            "severity": incident.severity,
            "title": incident.title,
        }));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(id, system = %incident.system, "incident opened");
        Ok(Incident {
            id,
            record: incident.clone(),
            status: IncidentStatus::Open,
            updates: vec![opened],
        })
    }

    /// Moves incident `id` to `status` with a note, and records the change.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::IncidentNotFound`],
    /// [`ComplianceError::InvalidIncident`] for a move the life cycle does
    /// not allow (naming the allowed ones) or an empty note,
    /// [`ComplianceError::ConcurrentChange`], and
    /// [`ComplianceError::Store`].
    pub async fn update_incident(
        &self,
        id: i64,
        status: IncidentStatus,
        note: &str,
        actor: &str,
    ) -> Result<Incident> {
        let mut incident = self.incident(id).await?;
        let allowed = incident.status.next();
        if !allowed.contains(&status) {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            return Err(ComplianceError::InvalidIncident {
                id: Some(id),
                reason: format!(
                    "cannot move from {} to {status}; allowed: {}",
                    incident.status,
                    if names.is_empty() {
                        "none, it is closed".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            });
        }
        if note.trim().is_empty() {
            return Err(ComplianceError::InvalidIncident {
                id: Some(id),
                reason: "say what was done in the note".into(),
            });
        }
        let at_ms = now_ms();
        let previous = incident.status;
        incident.updates.push(IncidentUpdate {
            status,
            actor: actor.to_owned(),
            note: note.to_owned(),
            at_ms,
        });
        incident.status = status;
        let updates = encode(&incident.updates)?;
        let store = self.store();
        let mut transaction = store.begin().await?;
        let changed = sqlx::query(
            "UPDATE compliance_incidents SET status = $1, updates = $2, updated_at_ms = $3
             WHERE id = $4 AND status = $5",
        )
        .bind(status.as_str())
        .bind(&updates)
        .bind(at_ms)
        .bind(id)
        .bind(previous.as_str())
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;
        if changed.rows_affected() != 1 {
            return Err(ComplianceError::ConcurrentChange {
                what: format!("incident {id}"),
            });
        }
        let event = NewEvent::new(
            EventKind::Custom(INCIDENT_KIND.to_owned()),
            actor,
            format!("incident:{id}"),
        )
        .payload(json!({"action": status.as_str(), "from": previous.as_str(), "note": note}));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(id, %status, "incident updated");
        Ok(incident)
    }

    /// Returns incident `id`.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::IncidentNotFound`], [`ComplianceError::CorruptRow`]
    /// and [`ComplianceError::Store`].
    pub async fn incident(&self, id: i64) -> Result<Incident> {
        let store = self.store();
        let row = sqlx::query(
            "SELECT id, status, record, updates FROM compliance_incidents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .map_err(|source| store.error(source))?
        .ok_or(ComplianceError::IncidentNotFound { id })?;
        self.incident_from_row(&row)
    }

    /// Returns the incidents opened in `from_ms <= opened < to_ms`, oldest first.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::CorruptRow`] and [`ComplianceError::Store`].
    pub async fn incidents(&self, from_ms: i64, to_ms: i64) -> Result<Vec<Incident>> {
        let store = self.store();
        let rows = sqlx::query(
            "SELECT id, status, record, updates FROM compliance_incidents
             WHERE opened_at_ms >= $1 AND opened_at_ms < $2 ORDER BY id",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        rows.iter().map(|row| self.incident_from_row(row)).collect()
    }

    fn incident_from_row(&self, row: &sqlx::any::AnyRow) -> Result<Incident> {
        let store = self.store();
        let id: i64 = row.try_get(0).map_err(|source| store.error(source))?;
        let corrupt = |reason: String| ComplianceError::CorruptRow {
            seq: 0,
            column: "compliance_incidents",
            reason: format!("incident {id}: {reason}"),
        };
        let status: String = row.try_get(1).map_err(|source| store.error(source))?;
        let record: String = row.try_get(2).map_err(|source| store.error(source))?;
        let updates: String = row.try_get(3).map_err(|source| store.error(source))?;
        Ok(Incident {
            id,
            status: IncidentStatus::parse(&status)
                .ok_or_else(|| corrupt(format!("unknown status `{status}`")))?,
            record: serde_json::from_str(&record).map_err(|e| corrupt(e.to_string()))?,
            updates: serde_json::from_str(&updates).map_err(|e| corrupt(e.to_string()))?,
        })
    }
}

fn severity_name(severity: IncidentSeverity) -> &'static str {
    match severity {
        IncidentSeverity::Low => "low",
        IncidentSeverity::Medium => "medium",
        IncidentSeverity::High => "high",
        IncidentSeverity::Critical => "critical",
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|error| ComplianceError::Canonical {
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn life_cycle_only_moves_forward() {
        assert_eq!(
            IncidentStatus::Open.next(),
            &[IncidentStatus::Mitigated, IncidentStatus::Closed]
        );
        assert_eq!(IncidentStatus::Mitigated.next(), &[IncidentStatus::Closed]);
        assert!(IncidentStatus::Closed.next().is_empty());
        for status in [
            IncidentStatus::Open,
            IncidentStatus::Mitigated,
            IncidentStatus::Closed,
        ] {
            assert_eq!(IncidentStatus::parse(status.as_str()), Some(status));
            assert!(!status.next().contains(&status), "no move to itself");
        }
        assert_eq!(IncidentStatus::parse("Open"), None);
    }
}
