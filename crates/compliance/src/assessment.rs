//! Impact assessments: a structured template per AI system, kept in
//! numbered versions, each signed off by a person other than its author.
//!
//! The template follows what Korea's AI Basic Act asks of impact
//! assessments for high-impact AI and what the EU AI Act's fundamental
//! rights impact assessment (Article 27) lists: the rights and groups
//! affected, the risks with their likelihood and severity, the measures
//! that mitigate them, the risk that remains, and who accepted it. Evidence
//! links the assessment to evaluation runs, drift reports and other
//! records. llmops keeps the record; it does not judge whether an
//! assessment meets a legal duty.

use std::fmt;

use llmops_store::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

/// The audit log kind of assessment saves and sign-offs.
pub const ASSESSMENT_KIND: &str = "impact_assessment";

/// A risk level from a likelihood × severity score on 1-to-5 scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Score 1 to 4.
    Low,
    /// Score 5 to 9.
    Medium,
    /// Score 10 to 16.
    High,
    /// Score 20 and 25.
    Critical,
}

impl RiskLevel {
    /// Returns the level of a likelihood × severity score, each 1 to 5.
    ///
    /// ```
    /// use llmops_compliance::RiskLevel;
    /// assert_eq!(RiskLevel::from_score(2, 2), RiskLevel::Low);
    /// assert_eq!(RiskLevel::from_score(3, 3), RiskLevel::Medium);
    /// assert_eq!(RiskLevel::from_score(4, 4), RiskLevel::High);
    /// assert_eq!(RiskLevel::from_score(4, 5), RiskLevel::Critical);
    /// ```
    pub fn from_score(likelihood: u8, severity: u8) -> RiskLevel {
        match u16::from(likelihood) * u16::from(severity) {
            0..=4 => RiskLevel::Low,
            5..=9 => RiskLevel::Medium,
            10..=16 => RiskLevel::High,
            _ => RiskLevel::Critical,
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        })
    }
}

/// One risk, before and after its mitigations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// What could go wrong and for whom.
    pub description: String,
    /// Likelihood before mitigation, 1 (rare) to 5 (almost certain).
    pub likelihood: u8,
    /// Severity before mitigation, 1 (negligible) to 5 (severe).
    pub severity: u8,
    /// The measures taken against it.
    #[serde(default)]
    pub mitigations: Vec<String>,
    /// Likelihood after the mitigations, 1 to 5.
    pub residual_likelihood: u8,
    /// Severity after the mitigations, 1 to 5.
    pub residual_severity: u8,
}

impl Risk {
    /// The level before mitigation.
    pub fn inherent_level(&self) -> RiskLevel {
        RiskLevel::from_score(self.likelihood, self.severity)
    }

    /// The level after mitigation.
    pub fn residual_level(&self) -> RiskLevel {
        RiskLevel::from_score(self.residual_likelihood, self.residual_severity)
    }
}

/// What kind of record a piece of evidence points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EvidenceKind {
    /// An evaluation run or regression gate.
    Evaluation,
    /// A drift report.
    Drift,
    /// A test, red-team exercise or audit.
    Test,
    /// A document such as a data protection impact assessment.
    Document,
    /// An entry of this audit log.
    AuditEntry,
}

/// A record the assessment relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The kind of record.
    pub kind: EvidenceKind,
    /// Where to find it, such as an evaluation run id or a report path.
    pub reference: String,
    /// What it shows.
    #[serde(default)]
    pub summary: String,
}

/// An impact assessment of one registered AI system.
///
/// ```
/// use llmops_compliance::{ImpactAssessment, Risk, RiskLevel};
///
/// let assessment = ImpactAssessment {
///     system: "loan-assist".into(),
///     scope: "Drafts loan decisions that an officer approves.".into(),
///     affected_rights: vec!["non-discrimination".into()],
///     affected_groups: vec!["loan applicants".into()],
///     risks: vec![Risk {
///         description: "Lower approval rates for older applicants".into(),
///         likelihood: 3,
///         severity: 4,
///         mitigations: vec!["Monthly bias evaluation by age band".into()],
///         residual_likelihood: 2,
///         residual_severity: 4,
///     }],
///     evidence: vec![],
///     oversight: "Every draft is reviewed by a loan officer.".into(),
/// };
/// assert!(assessment.validate().is_ok());
/// assert_eq!(assessment.residual_level(), RiskLevel::Medium);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactAssessment {
    /// The registered system's name.
    pub system: String,
    /// What the system does, where, and for whom.
    pub scope: String,
    /// Fundamental rights the system may affect.
    #[serde(default)]
    pub affected_rights: Vec<String>,
    /// Groups of people the system may affect.
    #[serde(default)]
    pub affected_groups: Vec<String>,
    /// The risks found.
    #[serde(default)]
    pub risks: Vec<Risk>,
    /// Records the assessment relies on.
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// How people oversee the system.
    #[serde(default)]
    pub oversight: String,
}

impl ImpactAssessment {
    /// The highest residual level over the risks; low without risks.
    pub fn residual_level(&self) -> RiskLevel {
        self.risks
            .iter()
            .map(Risk::residual_level)
            .max()
            .unwrap_or(RiskLevel::Low)
    }

    /// Checks the template's fields.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidAssessment`] naming the field: an empty
    /// system, scope, risk description or evidence reference; no risks; a
    /// likelihood or severity outside 1 to 5; a residual value above its
    /// value before mitigation; a residual value below it with no
    /// mitigation listed.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: String, reason: &str| ComplianceError::InvalidAssessment {
            field,
            reason: reason.to_owned(),
        };
        if self.system.trim().is_empty() {
            return Err(invalid(
                "system".into(),
                "name the registered AI system, such as `support-chat`",
            ));
        }
        if self.scope.trim().is_empty() {
            return Err(invalid(
                "scope".into(),
                "describe what the system does, where and for whom",
            ));
        }
        if self.risks.is_empty() {
            return Err(invalid(
                "risks".into(),
                "list at least one risk; an assessment that found none says why in a risk with likelihood 1",
            ));
        }
        for (index, risk) in self.risks.iter().enumerate() {
            let field = |name: &str| format!("risks[{index}].{name}");
            if risk.description.trim().is_empty() {
                return Err(invalid(field("description"), "describe the risk"));
            }
            for (name, value) in [
                ("likelihood", risk.likelihood),
                ("severity", risk.severity),
                ("residual_likelihood", risk.residual_likelihood),
                ("residual_severity", risk.residual_severity),
            ] {
                if !(1..=5).contains(&value) {
                    return Err(ComplianceError::InvalidAssessment {
                        field: field(name),
                        reason: format!("is {value}; use 1 (lowest) to 5 (highest)"),
                    });
                }
            }
            if risk.residual_likelihood > risk.likelihood || risk.residual_severity > risk.severity
            {
                return Err(invalid(
                    field("residual_likelihood"),
                    "the residual likelihood and severity cannot exceed the values before mitigation",
                ));
            }
            let reduced = risk.residual_likelihood < risk.likelihood
                || risk.residual_severity < risk.severity;
            let mitigated = risk.mitigations.iter().any(|m| !m.trim().is_empty());
            if reduced && !mitigated {
                return Err(invalid(
                    field("mitigations"),
                    "a lower residual risk needs the mitigation that lowers it",
                ));
            }
        }
        for (index, evidence) in self.evidence.iter().enumerate() {
            if evidence.reference.trim().is_empty() {
                return Err(invalid(
                    format!("evidence[{index}].reference"),
                    "say where the record is, such as an evaluation run id",
                ));
            }
        }
        Ok(())
    }

    /// SHA-256 of the assessment's JSON, in hex.
    fn content_hash(&self, json: &str) -> String {
        hex::encode(Sha256::digest(json.as_bytes()))
    }
}

/// A stored version of an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredAssessment {
    /// The version number, from 1 per system.
    pub version: u32,
    /// The assessment.
    pub assessment: ImpactAssessment,
    /// SHA-256 of the stored JSON.
    pub content_hash: String,
    /// Who saved this version.
    pub created_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Who signed it off, once signed.
    pub signed_off_by: Option<String>,
    /// When it was signed off.
    pub signed_off_at_ms: Option<i64>,
}

const SELECT_ASSESSMENT: &str = "SELECT version, content, content_hash, created_by, created_at_ms, signed_off_by, signed_off_at_ms FROM compliance_assessments";

impl AuditLog {
    /// Saves `assessment` as the next version for its system and records
    /// the save in the log. Saving content equal to the latest version
    /// returns that version unchanged.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidAssessment`] from
    /// [`ImpactAssessment::validate`] or for a system that is not in the
    /// register, [`ComplianceError::ConcurrentChange`] when another
    /// writer saved a version at the same moment, and
    /// [`ComplianceError::Store`]. Nothing is written on error.
    pub async fn save_assessment(
        &self,
        assessment: &ImpactAssessment,
        actor: &str,
    ) -> Result<StoredAssessment> {
        assessment.validate()?;
        if !self.is_registered(&assessment.system).await? {
            return Err(ComplianceError::InvalidAssessment {
                field: "system".into(),
                reason: format!(
                    "`{}` is not in the AI system register; register it first",
                    assessment.system
                ),
            });
        }
        let content =
            serde_json::to_string(assessment).map_err(|error| ComplianceError::Canonical {
                reason: error.to_string(),
            })?;
        let content_hash = assessment.content_hash(&content);
        let latest = self.assessment(&assessment.system, None).await?;
        if let Some(latest) = &latest
            && latest.content_hash == content_hash
        {
            return Ok(latest.clone());
        }
        // The latest assessment has the highest version, so it gives the next.
        let version = latest
            .map_or(0, |latest| latest.version)
            .checked_add(1)
            .ok_or_else(|| ComplianceError::InvalidAssessment {
                field: "version".into(),
                reason: "the system has the largest number of versions a u32 holds".into(),
            })?;

        let store = self.store();
        let created_at_ms = now_ms();
        let mut transaction = store.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO compliance_assessments (system, version, content, content_hash, created_by, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&assessment.system)
        .bind(i64::from(version))
        .bind(&content)
        .bind(&content_hash)
        .bind(actor)
        .bind(created_at_ms)
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source));
        match inserted {
            Ok(_) => {}
            Err(error) if error.is_unique_violation() => {
                return Err(ComplianceError::ConcurrentChange {
                    what: format!("impact assessment of `{}`", assessment.system),
                });
            }
            Err(error) => return Err(error.into()),
        }
        let event = NewEvent::new(
            EventKind::Custom(ASSESSMENT_KIND.to_owned()),
            actor,
            format!("ai_system:{}", assessment.system),
        )
        .payload(json!({
            "action": "saved",
            "version": version,
            "content_hash": content_hash,
            "residual_risk": assessment.residual_level(),
        }));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(system = %assessment.system, version, "impact assessment saved");
        Ok(StoredAssessment {
            version,
            assessment: assessment.clone(),
            content_hash,
            created_by: actor.to_owned(),
            created_at_ms,
            signed_off_by: None,
            signed_off_at_ms: None,
        })
    }

    /// Records that `signer` accepts version `version` of `system`'s
    /// assessment and its residual risk.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::AssessmentNotFound`],
    /// [`ComplianceError::InvalidAssessment`] when the signer wrote the
    /// version, it is signed already, or a later version supersedes it,
    /// and [`ComplianceError::Store`].
    pub async fn sign_off_assessment(
        &self,
        system: &str,
        version: u32,
        signer: &str,
        note: &str,
    ) -> Result<StoredAssessment> {
        let not_found = || ComplianceError::AssessmentNotFound {
            system: system.to_owned(),
            version: Some(version),
        };
        let mut stored = self
            .assessment(system, Some(version))
            .await?
            .ok_or_else(not_found)?;
        let refuse = |reason: String| ComplianceError::InvalidAssessment {
            field: "sign-off".into(),
            reason,
        };
        if signer.trim().is_empty() {
            return Err(refuse("name the person who signs off".into()));
        }
        // Names differing only in case or surrounding spaces are one person.
        if same_person(&stored.created_by, signer) {
            return Err(refuse(format!(
                "{signer} saved version {version}; another person must sign it off"
            )));
        }
        if let Some(by) = &stored.signed_off_by {
            return Err(refuse(format!("version {version} was signed off by {by}")));
        }
        let latest = self.assessment_versions(system).await?;
        if latest > version {
            return Err(refuse(format!(
                "version {version} is superseded by version {latest}; sign off the latest version"
            )));
        }

        let store = self.store();
        let at_ms = now_ms();
        let mut transaction = store.begin().await?;
        let updated = sqlx::query(
            "UPDATE compliance_assessments SET signed_off_by = $1, signed_off_at_ms = $2
             WHERE system = $3 AND version = $4 AND signed_off_by IS NULL",
        )
        .bind(signer)
        .bind(at_ms)
        .bind(system)
        .bind(i64::from(version))
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;
        if updated.rows_affected() != 1 {
            return Err(ComplianceError::ConcurrentChange {
                what: format!("sign-off of the impact assessment of `{system}`"),
            });
        }
        let event = NewEvent::new(
            EventKind::Custom(ASSESSMENT_KIND.to_owned()),
            signer,
            format!("ai_system:{system}"),
        )
        .payload(json!({
            "action": "signed_off",
            "version": version,
            "content_hash": stored.content_hash,
            "residual_risk": stored.assessment.residual_level(),
            "note": note,
        }));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        tracing::info!(system, version, "impact assessment signed off");
        stored.signed_off_by = Some(signer.to_owned());
        stored.signed_off_at_ms = Some(at_ms);
        Ok(stored)
    }

    /// Returns version `version` of `system`'s assessment, or the latest
    /// when `version` is `None`; `None` when there is no such version.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::CorruptRow`] for an unreadable record and
    /// [`ComplianceError::Store`].
    pub async fn assessment(
        &self,
        system: &str,
        version: Option<u32>,
    ) -> Result<Option<StoredAssessment>> {
        let store = self.store();
        let row = match version {
            Some(version) => {
                sqlx::query(&format!(
                    "{SELECT_ASSESSMENT} WHERE system = $1 AND version = $2"
                ))
                .bind(system)
                .bind(i64::from(version))
                .fetch_optional(store.pool())
                .await
            }
            None => {
                sqlx::query(&format!(
                    "{SELECT_ASSESSMENT} WHERE system = $1 ORDER BY version DESC LIMIT 1"
                ))
                .bind(system)
                .fetch_optional(store.pool())
                .await
            }
        }
        .map_err(|source| store.error(source))?;
        row.map(|row| self.assessment_from_row(&row)).transpose()
    }

    /// Returns every version of `system`'s assessment, oldest first.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::CorruptRow`] and [`ComplianceError::Store`].
    pub async fn assessment_history(&self, system: &str) -> Result<Vec<StoredAssessment>> {
        let store = self.store();
        let rows = sqlx::query(&format!(
            "{SELECT_ASSESSMENT} WHERE system = $1 ORDER BY version"
        ))
        .bind(system)
        .fetch_all(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        rows.iter()
            .map(|row| self.assessment_from_row(row))
            .collect()
    }

    async fn assessment_versions(&self, system: &str) -> Result<u32> {
        let store = self.store();
        let row = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) FROM compliance_assessments WHERE system = $1",
        )
        .bind(system)
        .fetch_one(store.pool())
        .await
        .map_err(|source| store.error(source))?;
        let latest: i64 = row.try_get(0).map_err(|source| store.error(source))?;
        Ok(u32::try_from(latest).unwrap_or(u32::MAX))
    }

    fn assessment_from_row(&self, row: &sqlx::any::AnyRow) -> Result<StoredAssessment> {
        let store = self.store();
        let corrupt = |reason: String| ComplianceError::CorruptRow {
            seq: 0,
            column: "compliance_assessments.content",
            reason,
        };
        let version: i64 = row.try_get(0).map_err(|source| store.error(source))?;
        let content: String = row.try_get(1).map_err(|source| store.error(source))?;
        let assessment: ImpactAssessment =
            serde_json::from_str(&content).map_err(|error| corrupt(error.to_string()))?;
        Ok(StoredAssessment {
            version: u32::try_from(version)
                .map_err(|_| corrupt(format!("version {version} is out of range")))?,
            assessment,
            content_hash: row.try_get(2).map_err(|source| store.error(source))?,
            created_by: row.try_get(3).map_err(|source| store.error(source))?,
            created_at_ms: row.try_get(4).map_err(|source| store.error(source))?,
            signed_off_by: row.try_get(5).map_err(|source| store.error(source))?,
            signed_off_at_ms: row.try_get(6).map_err(|source| store.error(source))?,
        })
    }
}

/// Compares two names ignoring case and surrounding white space.
fn same_person(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_differing_in_case_or_spaces_are_one_person() {
        assert!(same_person("alice", " ALICE "));
        assert!(same_person("Çağla", "çağla"));
        assert!(!same_person("alice", "alicia"));
    }

    fn risk(likelihood: u8, severity: u8, residual: (u8, u8), mitigations: &[&str]) -> Risk {
        Risk {
            description: "wrong answers about refunds".into(),
            likelihood,
            severity,
            mitigations: mitigations.iter().map(|m| (*m).to_owned()).collect(),
            residual_likelihood: residual.0,
            residual_severity: residual.1,
        }
    }

    fn assessment(risks: Vec<Risk>) -> ImpactAssessment {
        ImpactAssessment {
            system: "faq".into(),
            scope: "answers product questions".into(),
            affected_rights: vec![],
            affected_groups: vec![],
            risks,
            evidence: vec![],
            oversight: String::new(),
        }
    }

    #[test]
    fn levels_follow_the_five_by_five_bands() {
        let mut seen = Vec::new();
        for likelihood in 1..=5 {
            for severity in 1..=5 {
                let level = RiskLevel::from_score(likelihood, severity);
                let score = u16::from(likelihood) * u16::from(severity);
                let expected = if score <= 4 {
                    RiskLevel::Low
                } else if score <= 9 {
                    RiskLevel::Medium
                } else if score <= 16 {
                    RiskLevel::High
                } else {
                    RiskLevel::Critical
                };
                assert_eq!(level, expected, "{likelihood}x{severity}");
                assert_eq!(
                    level,
                    RiskLevel::from_score(severity, likelihood),
                    "symmetric"
                );
                seen.push(level);
            }
        }
        assert!(seen.contains(&RiskLevel::Critical) && seen.contains(&RiskLevel::Low));
    }

    #[test]
    fn validation_names_the_field() {
        let cases = [
            (assessment(vec![]), "risks"),
            (
                assessment(vec![risk(0, 3, (1, 1), &["x"])]),
                "risks[0].likelihood",
            ),
            (
                assessment(vec![risk(3, 6, (1, 1), &["x"])]),
                "risks[0].severity",
            ),
            (
                assessment(vec![risk(2, 2, (3, 2), &["x"])]),
                "risks[0].residual_likelihood",
            ),
            (
                assessment(vec![risk(4, 4, (2, 4), &[" "])]),
                "risks[0].mitigations",
            ),
        ];
        for (assessment, field) in cases {
            let error = assessment.validate().unwrap_err();
            assert!(
                matches!(&error, ComplianceError::InvalidAssessment { field: f, .. } if f == field),
                "{field}: {error}"
            );
        }
        let mut blank = assessment(vec![risk(2, 2, (2, 2), &[])]);
        assert!(
            blank.validate().is_ok(),
            "an unmitigated risk keeps its level"
        );
        blank.scope = "  ".into();
        assert!(blank.validate().unwrap_err().to_string().contains("scope"));
    }

    #[test]
    fn residual_level_is_the_worst_risk() {
        let two = assessment(vec![
            risk(5, 5, (1, 2), &["human review"]),
            risk(3, 4, (3, 4), &[]),
        ]);
        assert_eq!(two.residual_level(), RiskLevel::High);
        assert_eq!(two.risks[0].inherent_level(), RiskLevel::Critical);
    }
}
