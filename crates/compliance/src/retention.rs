//! Retention: purging old payloads, and legal holds that stop purges.
//!
//! A purge sets the payload and sealed data of entries older than a cut-off
//! to NULL. Entry hashes cover the content digest, not the content, so the
//! chain and all proofs still verify. Each purge appends a
//! `retention_purge` entry with its cut-off, and verify rejects a removed
//! payload that no recorded purge covers. While any legal hold is in place,
//! every purge is rejected.

use llmops_store::now_ms;
use serde_json::json;
use sqlx::Row as _;

use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

/// The event kind of the entry each purge appends.
pub const PURGE_KIND: &str = "retention_purge";

/// The event kind of the entry that records a placed legal hold.
pub const HOLD_PLACED_KIND: &str = "legal_hold_placed";

/// The event kind of the entry that records a released legal hold.
pub const HOLD_RELEASED_KIND: &str = "legal_hold_released";

/// A legal hold: while it is in place, nothing is purged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegalHold {
    /// The hold's unique name, such as a case number.
    pub name: String,
    /// The reason the records must be kept.
    pub reason: String,
    /// The person or service that placed the hold.
    pub placed_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub placed_at_ms: i64,
}

/// The outcome of a purge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Entries before this time, in milliseconds since the Unix epoch, were purged.
    pub cutoff_ms: i64,
    /// How many entries lost their payload in this purge.
    pub purged: u64,
    /// The sequence number of the `retention_purge` entry.
    pub audit_seq: u64,
}

impl AuditLog {
    /// Places a legal hold named `name`; purges fail until it is released.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] with a unique violation when a hold of
    /// that name exists, and [`ComplianceError::InvalidEvent`] for an empty name.
    pub async fn place_legal_hold(
        &self,
        name: &str,
        reason: &str,
        actor: &str,
    ) -> Result<LegalHold> {
        if name.is_empty() {
            return Err(ComplianceError::InvalidEvent {
                field: "name",
                reason: "a legal hold needs a name, such as the case number".to_owned(),
            });
        }
        let store = self.store();
        let hold = LegalHold {
            name: name.to_owned(),
            reason: reason.to_owned(),
            placed_by: actor.to_owned(),
            placed_at_ms: now_ms(),
        };

        let mut transaction = store.begin().await?;
        sqlx::query(
            "INSERT INTO compliance_legal_holds (name, reason, placed_by, placed_at_ms)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&hold.name)
        .bind(&hold.reason)
        .bind(&hold.placed_by)
        .bind(hold.placed_at_ms)
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;

        let event = NewEvent::new(
            EventKind::Custom(HOLD_PLACED_KIND.to_owned()),
            actor,
            format!("legal_hold:{name}"),
        )
        .payload(json!({"reason": reason}));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(hold = name, "legal hold placed");
        Ok(hold)
    }

    /// Releases the legal hold `name`; returns false when no such hold was in place.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn release_legal_hold(&self, name: &str, actor: &str) -> Result<bool> {
        let store = self.store();
        let mut transaction = store.begin().await?;
        let deleted = sqlx::query("DELETE FROM compliance_legal_holds WHERE name = $1")
            .bind(name)
            .execute(&mut *transaction)
            .await
            .map_err(|source| store.error(source))?
            .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        let event = NewEvent::new(
            EventKind::Custom(HOLD_RELEASED_KIND.to_owned()),
            actor,
            format!("legal_hold:{name}"),
        );
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(hold = name, "legal hold released");
        Ok(true)
    }

    /// Returns the legal holds in place, by name.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn legal_holds(&self) -> Result<Vec<LegalHold>> {
        let store = self.store();
        let rows = sqlx::query(
            "SELECT name, reason, placed_by, placed_at_ms FROM compliance_legal_holds ORDER BY name",
        )
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        rows.iter()
            .map(|row| {
                let error = |source| store.error(source);
                Ok(LegalHold {
                    name: row.try_get(0).map_err(error)?,
                    reason: row.try_get(1).map_err(error)?,
                    placed_by: row.try_get(2).map_err(error)?,
                    placed_at_ms: row.try_get(3).map_err(error)?,
                })
            })
            .collect()
    }

    /// Purges the payload and sealed data of every entry older than
    /// `cutoff_ms`, except earlier purge records, and appends a
    /// `retention_purge` entry.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::LegalHoldActive`] while any legal hold is in place
    /// (nothing is purged), and [`ComplianceError::Store`] when the database fails.
    pub async fn purge_payloads(&self, cutoff_ms: i64, actor: &str) -> Result<PurgeReport> {
        let store = self.store();
        let mut transaction = store.begin().await?;
        let holds = sqlx::query("SELECT name FROM compliance_legal_holds ORDER BY name")
            .fetch_all(&mut *transaction)
            .await
            .map_err(|source| store.error(source))?;
        if !holds.is_empty() {
            let names: Vec<String> = holds
                .iter()
                .map(|row| row.try_get::<String, _>(0).unwrap_or_default())
                .collect();
            return Err(ComplianceError::LegalHoldActive {
                holds: names.join(", "),
            });
        }

        let purged = sqlx::query(
            "UPDATE compliance_audit_log SET payload = NULL, sealed = NULL
             WHERE at_ms < $1 AND payload IS NOT NULL AND kind <> $2",
        )
        .bind(cutoff_ms)
        .bind(PURGE_KIND)
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?
        .rows_affected();

        let event = NewEvent::new(EventKind::Custom(PURGE_KIND.to_owned()), actor, "audit_log")
            .payload(json!({"cutoff_ms": cutoff_ms, "purged": purged}));
        let entries = self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(cutoff_ms, purged, "audit payloads purged");
        Ok(PurgeReport {
            cutoff_ms,
            purged,
            audit_seq: entries.first().map_or(0, |entry| entry.seq),
        })
    }
}
