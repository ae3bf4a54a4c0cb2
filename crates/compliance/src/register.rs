//! A register of AI systems, with a questionnaire that flags high-impact use.
//!
//! The questionnaire has one question per domain that Korea's Framework
//! Act on the Development of Artificial Intelligence and Establishment of
//! Trust (the "AI Basic Act", in force since 22 January 2026) lists for
//! high-impact AI in Article 2(4). A system used in any of them is flagged
//! high-impact. The flag is a prompt for review by the operator's counsel,
//! not a legal classification: llmops does not give legal advice, and the
//! Act's enforcement decree and guidance refine these domains.

use std::fmt;

use llmops_store::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row as _;

use crate::error::{ComplianceError, Result};
use crate::event::{EventKind, NewEvent};
use crate::log::AuditLog;

/// A domain in which the AI Basic Act treats AI use as high-impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HighImpactDomain {
    /// Supply of energy.
    Energy,
    /// Production of drinking water.
    DrinkingWater,
    /// Provision and use of health care.
    HealthCare,
    /// Development and use of medical devices.
    MedicalDevices,
    /// Safe management and operation of nuclear materials and facilities.
    Nuclear,
    /// Analysis and use of biometric information for criminal investigation or arrest.
    BiometricInvestigation,
    /// Judgments with a significant effect on people's rights and
    /// obligations, such as hiring or loan screening.
    HiringOrLoanScreening,
    /// Major operation of transport means, facilities or systems.
    Transport,
    /// Decisions of public bodies that affect citizens, such as eligibility for public services.
    PublicServices,
    /// Evaluation of students in early childhood, primary and secondary education.
    Education,
}

impl HighImpactDomain {
    /// Every domain, in the order of the questionnaire.
    pub const ALL: [HighImpactDomain; 10] = [
        HighImpactDomain::Energy,
        HighImpactDomain::DrinkingWater,
        HighImpactDomain::HealthCare,
        HighImpactDomain::MedicalDevices,
        HighImpactDomain::Nuclear,
        HighImpactDomain::BiometricInvestigation,
        HighImpactDomain::HiringOrLoanScreening,
        HighImpactDomain::Transport,
        HighImpactDomain::PublicServices,
        HighImpactDomain::Education,
    ];

    /// Returns the questionnaire's question for this domain.
    pub fn question(self) -> &'static str {
        match self {
            HighImpactDomain::Energy => "Is the system used in supplying energy?",
            HighImpactDomain::DrinkingWater => "Is the system used in producing drinking water?",
            HighImpactDomain::HealthCare => "Is the system used in providing health care?",
            HighImpactDomain::MedicalDevices => {
                "Is the system part of developing or using a medical device?"
            }
            HighImpactDomain::Nuclear => {
                "Is the system used in managing or operating nuclear materials or facilities?"
            }
            HighImpactDomain::BiometricInvestigation => {
                "Does the system analyse biometric data for a criminal investigation or arrest?"
            }
            HighImpactDomain::HiringOrLoanScreening => {
                "Does the system judge or evaluate people in ways that significantly affect their rights, such as hiring or loan screening?"
            }
            HighImpactDomain::Transport => {
                "Is the system used in operating transport means, facilities or systems?"
            }
            HighImpactDomain::PublicServices => {
                "Does a public body use the system for decisions that affect citizens, such as eligibility for public services?"
            }
            HighImpactDomain::Education => {
                "Is the system used to evaluate students in early childhood, primary or secondary education?"
            }
        }
    }
}

impl fmt::Display for HighImpactDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_value(self)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&text)
    }
}

/// An AI system as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiSystem {
    /// A unique name, such as `support-chat`.
    pub name: String,
    /// The system's purpose.
    pub purpose: String,
    /// The team or person accountable for it.
    pub owner: String,
    /// The models it uses, such as `gpt-4o-mini`.
    pub models: Vec<String>,
    /// The domains the questionnaire answered "yes" for.
    pub high_impact_domains: Vec<HighImpactDomain>,
}

impl AiSystem {
    /// Creates an entry that answered "no" to every question.
    pub fn new(
        name: impl Into<String>,
        purpose: impl Into<String>,
        owner: impl Into<String>,
    ) -> Self {
        AiSystem {
            name: name.into(),
            purpose: purpose.into(),
            owner: owner.into(),
            models: Vec::new(),
            high_impact_domains: Vec::new(),
        }
    }

    /// Records the questionnaire's answers: `answer(domain)` is true for
    /// each domain the system is used in.
    pub fn answer_questionnaire(mut self, answer: impl Fn(HighImpactDomain) -> bool) -> Self {
        self.high_impact_domains = HighImpactDomain::ALL
            .into_iter()
            .filter(|d| answer(*d))
            .collect();
        self
    }

    /// Returns true when the questionnaire put the system in a high-impact domain.
    pub fn is_high_impact(&self) -> bool {
        !self.high_impact_domains.is_empty()
    }
}

impl AuditLog {
    /// Adds or replaces the register entry `system.name` and appends a
    /// `config_change` entry with the new record.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::InvalidEvent`] for an empty name, and
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn register_system(&self, system: &AiSystem, actor: &str) -> Result<()> {
        if system.name.is_empty() {
            return Err(ComplianceError::InvalidEvent {
                field: "name",
                reason: "an AI system needs a name, such as `support-chat`".to_owned(),
            });
        }

        let record = serde_json::to_string(system).map_err(|error| ComplianceError::Canonical {
            reason: error.to_string(),
        })?;
        let store = self.store();
        let upsert = store
            .dialect()
            .upsert_clause(&["name"], &["record", "high_impact", "updated_at_ms"]);
        let mut transaction = store.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO compliance_ai_systems (name, record, high_impact, updated_at_ms)
             VALUES ($1, $2, $3, $4) {upsert}"
        ))
        .bind(&system.name)
        .bind(&record)
        .bind(i64::from(system.is_high_impact()))
        .bind(now_ms())
        .execute(&mut *transaction)
        .await
        .map_err(|source| store.error(source))?;

        let event = NewEvent::new(
            EventKind::ConfigChange,
            actor,
            format!("ai_system:{}", system.name),
        )
        .payload(json!({"ai_system": system, "high_impact": system.is_high_impact()}));
        self.append_trusted_in(&mut transaction, &[event]).await?;
        transaction
            .commit()
            .await
            .map_err(|source| store.error(source))?;
        Ok(())
    }

    /// Returns true when the register contains a system named `name`.
    pub(crate) async fn is_registered(&self, name: &str) -> Result<bool> {
        let store = self.store();
        let row = sqlx::query("SELECT 1 FROM compliance_ai_systems WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await
            .map_err(|source| store.error(source))?;
        Ok(row.is_some())
    }

    /// Returns the registered AI systems, by name.
    ///
    /// # Errors
    ///
    /// [`ComplianceError::CorruptRow`] for an unreadable record and
    /// [`ComplianceError::Store`] when the database fails.
    pub async fn systems(&self) -> Result<Vec<AiSystem>> {
        let store = self.store();
        let rows = sqlx::query("SELECT name, record FROM compliance_ai_systems ORDER BY name")
            .fetch_all(store.pool())
            .await
            .map_err(|source| store.error(source))?;
        rows.iter()
            .map(|row| {
                let record: String = row.try_get(1).map_err(|source| store.error(source))?;
                serde_json::from_str(&record).map_err(|error| ComplianceError::CorruptRow {
                    seq: 0,
                    column: "compliance_ai_systems.record",
                    reason: error.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questionnaire_flags_answered_domains() {
        let system = AiSystem::new("loan-assist", "drafts loan decisions", "credit team")
            .answer_questionnaire(|domain| domain == HighImpactDomain::HiringOrLoanScreening);
        assert!(system.is_high_impact());
        assert_eq!(
            system.high_impact_domains,
            vec![HighImpactDomain::HiringOrLoanScreening]
        );

        let chat = AiSystem::new("faq", "answers product questions", "support")
            .answer_questionnaire(|_| false);
        assert!(!chat.is_high_impact());
    }

    #[test]
    fn every_domain_has_a_question_and_name() {
        for domain in HighImpactDomain::ALL {
            assert!(domain.question().ends_with('?'));
            assert!(!domain.to_string().is_empty());
        }
        assert_eq!(
            HighImpactDomain::DrinkingWater.to_string(),
            "drinking_water"
        );
    }
}
