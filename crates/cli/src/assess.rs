//! `llmops compliance system|assess|incident|bundle`: the AI system
//! register, impact assessments, incident records and the bundle for a
//! regulator.

use std::path::{Path, PathBuf};

use anyhow::Context;
use llmops_compliance::{
    AiSystem, AuditLog, HighImpactDomain, ImpactAssessment, IncidentSeverity, IncidentStatus,
    NewIncident, verify_bundle,
};

use crate::failure::Failure;
use crate::input::read_text;
use crate::output::{out, outln};
use crate::prompt::utc_time;
use crate::records::{compliance_failure, read_signing_key, trusted_keys};

/// A template to fill and save with `llmops compliance assess save`.
const TEMPLATE: &str = r#"# Impact assessment. Scales run from 1 (lowest) to 5 (highest); a risk's
# level is likelihood x severity: 1-4 low, 5-9 medium, 10-16 high, 20-25 critical.
system = "support-chat"            # a name from `llmops compliance system list`
scope = "Answers customer questions about orders; staff can take over any chat."
affected_rights = ["privacy", "consumer protection"]
affected_groups = ["customers"]
oversight = "Guardrail findings go to the review queue; staff read a daily sample."

[[risks]]
description = "Wrong refund terms stated as fact"
likelihood = 3
severity = 3
mitigations = ["Answers cite the policy page", "Weekly evaluation on refund questions"]
residual_likelihood = 2
residual_severity = 3

[[evidence]]
kind = "evaluation"                # evaluation | drift | test | document | audit_entry
reference = "eval-run:refunds-2026-11"
summary = "faithfulness 0.94 on 200 refund questions"
"#;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum SystemCommand {
    /// Add or replace an AI system in the register.
    Add {
        /// A unique name, such as support-chat.
        #[arg(long)]
        name: String,
        /// What the system is for.
        #[arg(long)]
        purpose: String,
        /// The team or person accountable for it.
        #[arg(long)]
        owner: String,
        /// A model it uses; repeatable.
        #[arg(long = "model")]
        models: Vec<String>,
        /// A high-impact domain it is used in; repeatable. See `system questions`.
        #[arg(long = "domain", value_parser = parse_domain)]
        domains: Vec<HighImpactDomain>,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// List the registered systems.
    List,
    /// Print the high-impact questionnaire with each domain's name.
    Questions,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum AssessCommand {
    /// Print a TOML template to fill in.
    Template,
    /// Save an assessment from a TOML or JSON file as the system's next version.
    Save {
        /// The file, or - for standard input (TOML).
        file: PathBuf,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Print the latest or one version of a system's assessment as JSON.
    Show {
        /// The system name.
        system: String,
        /// The version; the latest when absent.
        // Positional, because `--version` is the propagated version flag.
        #[arg(id = "version_number", value_name = "VERSION")]
        version: Option<u32>,
    },
    /// List the versions of a system's assessment.
    History {
        /// The system name.
        system: String,
    },
    /// Accept a version and its residual risk; the signer must not be its author.
    SignOff {
        /// The system name.
        system: String,
        /// The version to sign.
        #[arg(id = "version_number", value_name = "VERSION")]
        version: u32,
        /// A note recorded with the sign-off.
        #[arg(long, default_value = "")]
        note: String,
        /// The person who signs off.
        #[arg(long, env = "USER", default_value = "unknown")]
        signer: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum IncidentCommand {
    /// Open an incident.
    Open {
        /// The registered system involved.
        #[arg(long)]
        system: String,
        /// A one-line title.
        #[arg(long)]
        title: String,
        /// How serious it is.
        #[arg(long, value_enum)]
        severity: SeverityName,
        /// What happened, without personal data: the log keeps it for good.
        #[arg(long, default_value = "")]
        description: String,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Move an incident to mitigated or closed, saying what was done.
    Update {
        /// Incident id.
        id: i64,
        /// The new status.
        #[arg(long, value_enum)]
        status: StatusName,
        /// What was done.
        #[arg(long)]
        note: String,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Print one incident with its history as JSON.
    Show {
        /// Incident id.
        id: i64,
    },
    /// List incidents opened in a period.
    List {
        /// First day (YYYY-MM-DD, UTC) or RFC 3339 time; default: the beginning.
        #[arg(long, value_parser = crate::compliance::parse_start)]
        from: Option<i64>,
        /// Last day, inclusive, or RFC 3339 time, exclusive; default: now.
        #[arg(long, value_parser = crate::compliance::parse_end)]
        to: Option<i64>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum SeverityName {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum StatusName {
    Mitigated,
    Closed,
}

fn parse_domain(text: &str) -> Result<HighImpactDomain, String> {
    HighImpactDomain::ALL
        .into_iter()
        .find(|domain| domain.to_string() == text)
        .ok_or_else(|| {
            let names: Vec<String> = HighImpactDomain::ALL
                .iter()
                .map(|d| d.to_string())
                .collect();
            format!("{text:?} is not a domain; use one of {}", names.join(", "))
        })
}

pub(crate) async fn system(log: &AuditLog, command: SystemCommand) -> Result<(), Failure> {
    match command {
        SystemCommand::Add {
            name,
            purpose,
            owner,
            models,
            domains,
            actor,
        } => {
            let mut system =
                AiSystem::new(name, purpose, owner).answer_questionnaire(|d| domains.contains(&d));
            system.models = models;
            log.register_system(&system, &actor)
                .await
                .map_err(compliance_failure)?;
            outln!(
                "registered {}{}",
                system.name,
                if system.is_high_impact() {
                    " (high-impact: an impact assessment and human oversight are expected)"
                } else {
                    ""
                }
            );
        }
        SystemCommand::List => {
            for system in log.systems().await.map_err(compliance_failure)? {
                let domains: Vec<String> = system
                    .high_impact_domains
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                outln!(
                    "{}\t{}\t{}\t{}",
                    system.name,
                    system.owner,
                    if domains.is_empty() {
                        "-".to_owned()
                    } else {
                        domains.join(",")
                    },
                    system.purpose
                );
            }
        }
        SystemCommand::Questions => {
            for domain in HighImpactDomain::ALL {
                outln!("--domain {domain}\t{}", domain.question());
            }
        }
    }
    Ok(())
}

pub(crate) async fn assess(log: &AuditLog, command: AssessCommand) -> Result<(), Failure> {
    match command {
        AssessCommand::Template => out!("{TEMPLATE}"),
        AssessCommand::Save { file, actor } => {
            let assessment = read_assessment(&file)?;
            let stored = log
                .save_assessment(&assessment, &actor)
                .await
                .map_err(compliance_failure)?;
            outln!(
                "{} version {}: residual risk {}{}",
                stored.assessment.system,
                stored.version,
                stored.assessment.residual_level(),
                if stored.signed_off_by.is_some() {
                    " (unchanged, already signed off)"
                } else {
                    "; sign it off with `llmops compliance assess sign-off`"
                }
            );
        }
        AssessCommand::Show { system, version } => {
            let stored = log
                .assessment(&system, version)
                .await
                .map_err(compliance_failure)?
                .ok_or_else(|| {
                    compliance_failure(llmops_compliance::ComplianceError::AssessmentNotFound {
                        system: system.clone(),
                        version,
                    })
                })?;
            outln!(
                "{}",
                serde_json::to_string_pretty(&stored).context("failed to print JSON")?
            );
        }
        AssessCommand::History { system } => {
            for stored in log
                .assessment_history(&system)
                .await
                .map_err(compliance_failure)?
            {
                outln!(
                    "{}\t{}\t{} by {}\t{}",
                    stored.version,
                    stored.assessment.residual_level(),
                    utc_time(stored.created_at_ms),
                    stored.created_by,
                    stored.signed_off_by.map_or_else(
                        || "not signed off".to_owned(),
                        |by| format!("signed off by {by}")
                    )
                );
            }
        }
        AssessCommand::SignOff {
            system,
            version,
            note,
            signer,
        } => {
            let stored = log
                .sign_off_assessment(&system, version, &signer, &note)
                .await
                .map_err(compliance_failure)?;
            outln!(
                "{system} version {} signed off by {signer}; residual risk {}",
                stored.version,
                stored.assessment.residual_level()
            );
        }
    }
    Ok(())
}

fn read_assessment(file: &Path) -> Result<ImpactAssessment, Failure> {
    let text = read_text(file)?;
    let json = file.extension().is_some_and(|ext| ext == "json");
    let parsed = if json {
        serde_json::from_str(&text).map_err(|error| error.to_string())
    } else {
        toml::from_str(&text).map_err(|error| error.to_string())
    };
    parsed.map_err(|error| {
        Failure::Usage(format!(
            "{} is not an impact assessment: {error}; start from `llmops compliance assess template`",
            file.display()
        ))
    })
}

pub(crate) async fn incident(log: &AuditLog, command: IncidentCommand) -> Result<(), Failure> {
    match command {
        IncidentCommand::Open {
            system,
            title,
            severity,
            description,
            actor,
        } => {
            let severity = match severity {
                SeverityName::Low => IncidentSeverity::Low,
                SeverityName::Medium => IncidentSeverity::Medium,
                SeverityName::High => IncidentSeverity::High,
                SeverityName::Critical => IncidentSeverity::Critical,
            };
            let incident = log
                .open_incident(
                    &NewIncident {
                        system,
                        title,
                        severity,
                        description,
                        occurred_at_ms: None,
                    },
                    &actor,
                )
                .await
                .map_err(compliance_failure)?;
            outln!("opened incident {}", incident.id);
        }
        IncidentCommand::Update {
            id,
            status,
            note,
            actor,
        } => {
            let status = match status {
                StatusName::Mitigated => IncidentStatus::Mitigated,
                StatusName::Closed => IncidentStatus::Closed,
            };
            let incident = log
                .update_incident(id, status, &note, &actor)
                .await
                .map_err(compliance_failure)?;
            outln!("incident {} is {}", incident.id, incident.status);
        }
        IncidentCommand::Show { id } => {
            let incident = log.incident(id).await.map_err(compliance_failure)?;
            outln!(
                "{}",
                serde_json::to_string_pretty(&incident).context("failed to print JSON")?
            );
        }
        IncidentCommand::List { from, to } => {
            let incidents = log
                .incidents(from.unwrap_or(0), to.unwrap_or(i64::MAX))
                .await
                .map_err(compliance_failure)?;
            for incident in incidents {
                outln!(
                    "{}\t{}\t{:?}\t{}\t{}\t{}",
                    incident.id,
                    incident.status,
                    incident.record.severity,
                    incident.record.system,
                    utc_time(incident.opened_at_ms()),
                    incident.record.title
                );
            }
        }
    }
    Ok(())
}

/// Writes a bundle for the period to `out`, with a new checkpoint signed by
/// `signing_key`.
pub(crate) async fn bundle(
    log: &AuditLog,
    out: &Path,
    from: i64,
    to: i64,
    signing_key: &Path,
    actor: &str,
) -> Result<(), Failure> {
    let key = read_signing_key(signing_key)?;
    if from >= to {
        return Err(Failure::Usage(format!(
            "--from {} is not before --to {}; give a start before the end",
            utc_time(from),
            utc_time(to)
        )));
    }
    if out.exists() {
        return Err(Failure::Usage(format!(
            "{} exists; choose a new folder so no earlier bundle is overwritten",
            out.display()
        )));
    }
    let checkpoint = log
        .sign_checkpoint(&key)
        .await
        .map_err(compliance_failure)?;
    let manifest = log
        .write_bundle(out, from, to, &checkpoint, &key, actor)
        .await
        .map_err(compliance_failure)?;
    outln!(
        "wrote {} with {} files and {} audit entries, proofs against checkpoint size {} (key {})",
        out.display(),
        manifest.files.len() + 1,
        manifest.extract_entries,
        checkpoint.size,
        checkpoint.key_id
    );
    Ok(())
}

/// Checks a bundle folder's digests and proofs.
pub(crate) fn verify_bundle_dir(
    dir: &Path,
    keys: &[String],
    files: &[PathBuf],
) -> Result<(), Failure> {
    let keys = trusted_keys(keys, files)?;
    if keys.is_empty() {
        return Err(Failure::Usage(
            "no trusted public key given; pass --public-key or --public-key-file, because without one a bundle signed by anyone would pass".to_owned(),
        ));
    }
    let check = verify_bundle(dir, &keys).map_err(compliance_failure)?;
    outln!(
        "OK: {} files match the manifest; {} audit entries verified against checkpoint size {}",
        check.manifest.files.len(),
        check.verified_entries,
        check.manifest.checkpoint.size
    );
    Ok(())
}
