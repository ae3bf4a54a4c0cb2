//! `llmops compliance`: the transparency report, the human-oversight
//! review queue, and the commands of [`crate::assess`].

use std::path::PathBuf;

use anyhow::Context;
use llmops_compliance::{AuditLog, Decision, NewReview, ReviewItem, ReviewQueue};

use crate::assess::{self, AssessCommand, IncidentCommand, SystemCommand};
use crate::failure::Failure;
use crate::output::{out, outln};
use crate::records::{block_on, compliance_failure, open_log};

/// Milliseconds in one day.
const DAY_MS: i64 = 86_400_000;

/// Print the transparency report and work the human-oversight review queue.
///
/// Every review change is recorded in the audit log. A review item moves
/// queued -> assigned -> in_review -> approved, edited, overridden or
/// escalated -> closed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops compliance system add --name loan-assist --purpose 'drafts loan decisions' --owner credit --domain hiring_or_loan_screening\n  llmops compliance assess template > assessment.toml\n  llmops compliance assess save assessment.toml\n  llmops compliance incident open --system loan-assist --title 'wrong rate quoted' --severity medium\n  llmops compliance bundle --out bundle-2026-11 --from 2026-11-01 --to 2026-11-30 --signing-key audit.key\n  llmops compliance report --from 2026-11-01 --to 2026-11-30 --format markdown\n  llmops compliance review add --subject request:42 --reason 'guardrail: KR_RRN'\n  llmops compliance review assign 1 --to kim\n  llmops compliance review start 1 --reviewer kim\n  llmops compliance review decide 1 --decision approve --reviewer kim --note 'checked'"
)]
pub(crate) struct Args {
    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "LLMOPS_DB",
        default_value = "sqlite://llmops.db",
        global = true
    )]
    db: String,

    #[command(subcommand)]
    command: ComplianceCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ComplianceCommand {
    /// Print what the audit log recorded in a period, the oversight
    /// decisions and the registered AI systems.
    Report {
        /// First day (YYYY-MM-DD, UTC) or RFC 3339 time, inclusive.
        #[arg(long, value_parser = parse_start)]
        from: i64,
        /// Last day (YYYY-MM-DD, UTC), inclusive, or RFC 3339 time, exclusive.
        #[arg(long, value_parser = parse_end)]
        to: i64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
    },
    /// Work the review queue.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Keep the register of AI systems and their high-impact answers.
    System {
        #[command(subcommand)]
        command: SystemCommand,
    },
    /// Write, version and sign off impact assessments.
    Assess {
        #[command(subcommand)]
        command: AssessCommand,
    },
    /// Record incidents and what was done about them.
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// Write a folder for a regulator or auditor: register, assessments,
    /// incidents, the transparency report and an audit log extract with
    /// proofs against a new signed checkpoint.
    Bundle {
        /// A folder that does not exist yet.
        #[arg(long)]
        out: PathBuf,
        /// First day (YYYY-MM-DD, UTC) or RFC 3339 time, inclusive.
        #[arg(long, value_parser = parse_start)]
        from: i64,
        /// Last day (YYYY-MM-DD, UTC), inclusive, or RFC 3339 time, exclusive.
        #[arg(long, value_parser = parse_end)]
        to: i64,
        /// The Ed25519 key file that signs the checkpoint (`llmops audit keygen`).
        #[arg(long, value_name = "PATH")]
        signing_key: PathBuf,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Check a bundle: the manifest against the signed record of its
    /// export, file digests against the manifest, and the extract's proofs
    /// against its signed checkpoint.
    VerifyBundle {
        /// The bundle folder.
        dir: PathBuf,
        /// A trusted Ed25519 public key, 64 hex digits; repeatable.
        #[arg(long = "public-key", value_name = "HEX")]
        keys: Vec<String>,
        /// A file of trusted public keys, one per line; repeatable.
        #[arg(long = "public-key-file", value_name = "PATH")]
        key_files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Markdown,
    Json,
}

#[derive(Debug, clap::Subcommand)]
enum ReviewCommand {
    /// List review items, oldest first.
    List,
    /// Print one review item and the states it may move to.
    Show {
        /// Review item id.
        id: i64,
    },
    /// Put an item in the queue.
    Add {
        /// The reviewed object, such as request:42.
        #[arg(long)]
        subject: String,
        /// The reason for review, such as the guardrail that flagged it.
        #[arg(long)]
        reason: String,
        /// 1, or 2 when a second, different reviewer must also decide.
        #[arg(long, default_value_t = 1)]
        reviews: u32,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Give a queued, escalated or decided item to a reviewer.
    Assign {
        /// Review item id.
        id: i64,
        /// The reviewer.
        #[arg(long = "to", value_name = "NAME")]
        reviewer: String,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Put an assigned item back in the queue.
    Release {
        /// Review item id.
        id: i64,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Mark that the assigned reviewer started the review.
    Start {
        /// Review item id.
        id: i64,
        /// The assigned reviewer.
        #[arg(long, env = "USER", default_value = "unknown")]
        reviewer: String,
    },
    /// Record the assigned reviewer's decision on an item in review.
    Decide {
        /// Review item id.
        id: i64,
        /// The decision.
        #[arg(long, value_enum)]
        decision: DecisionName,
        /// A note recorded with the decision.
        #[arg(long, default_value = "")]
        note: String,
        /// The assigned reviewer.
        #[arg(long, env = "USER", default_value = "unknown")]
        reviewer: String,
    },
    /// Close a decided or expired item.
    Close {
        /// Review item id.
        id: i64,
        /// Who, recorded in the audit log.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DecisionName {
    Approve,
    Edit,
    Override,
    Escalate,
}

impl From<DecisionName> for Decision {
    fn from(name: DecisionName) -> Decision {
        match name {
            DecisionName::Approve => Decision::Approve,
            DecisionName::Edit => Decision::Edit,
            DecisionName::Override => Decision::Override,
            DecisionName::Escalate => Decision::Escalate,
        }
    }
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    if let ComplianceCommand::VerifyBundle {
        dir,
        keys,
        key_files,
    } = &args.command
    {
        return assess::verify_bundle_dir(dir, keys, key_files);
    }
    block_on(run_async(args))?
}

async fn run_async(args: Args) -> Result<(), Failure> {
    let log = open_log(&args.db).await?;
    match args.command {
        ComplianceCommand::System { command } => assess::system(&log, command).await,
        ComplianceCommand::Assess { command } => assess::assess(&log, command).await,
        ComplianceCommand::Incident { command } => assess::incident(&log, command).await,
        ComplianceCommand::Bundle {
            out,
            from,
            to,
            signing_key,
            actor,
        } => assess::bundle(&log, &out, from, to, &signing_key, &actor).await,
        ComplianceCommand::VerifyBundle { .. } => Ok(()),
        ComplianceCommand::Report { from, to, format } => {
            let report = log
                .transparency_report(from, to)
                .await
                .map_err(compliance_failure)?;
            match format {
                ReportFormat::Markdown => out!("{}", report.to_markdown()),
                ReportFormat::Json => outln!(
                    "{}",
                    serde_json::to_string_pretty(&report).context("failed to print JSON")?
                ),
            }
            Ok(())
        }
        ComplianceCommand::Review { command } => review(log, command).await,
    }
}

async fn review(log: AuditLog, command: ReviewCommand) -> Result<(), Failure> {
    let queue = ReviewQueue::new(log.clone());
    let item = match command {
        ReviewCommand::List => {
            for item in queue.list(None).await.map_err(compliance_failure)? {
                outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    item.id,
                    item.state,
                    item.assignee.as_deref().unwrap_or("-"),
                    item.subject,
                    item.reason
                );
            }
            return Ok(());
        }
        ReviewCommand::Show { id } => queue.get(id).await,
        ReviewCommand::Add {
            subject,
            reason,
            reviews,
            actor,
        } => {
            let review = NewReview {
                reviews_required: reviews,
                ..NewReview::new(subject, reason)
            };
            queue.enqueue(&review, &actor).await
        }
        ReviewCommand::Assign {
            id,
            reviewer,
            actor,
        } => queue.assign(id, &reviewer, &actor).await,
        ReviewCommand::Release { id, actor } => queue.release(id, &actor).await,
        ReviewCommand::Start { id, reviewer } => queue.start(id, &reviewer).await,
        ReviewCommand::Decide {
            id,
            decision,
            note,
            reviewer,
        } => {
            queue
                .decide(
                    id,
                    &reviewer,
                    decision.into(),
                    serde_json::Value::String(note),
                )
                .await
        }
        ReviewCommand::Close { id, actor } => queue.close(id, &actor).await,
    }
    .map_err(compliance_failure)?;
    print_item(&item);
    Ok(())
}

fn print_item(item: &ReviewItem) {
    outln!("review {}: {}", item.id, item.state);
    outln!("subject: {}", item.subject);
    outln!("reason: {}", item.reason);
    outln!("assignee: {}", item.assignee.as_deref().unwrap_or("(none)"));
    outln!("decisions: {} of {}", item.decisions, item.reviews_required);
    let next: Vec<&str> = item
        .allowed_next()
        .into_iter()
        .map(|state| state.as_str())
        .collect();
    outln!(
        "next states: {}",
        if next.is_empty() {
            "none".to_owned()
        } else {
            next.join(", ")
        }
    );
}

/// Parses `--from`: a day's start in UTC, or an RFC 3339 time.
pub(crate) fn parse_start(text: &str) -> Result<i64, String> {
    parse_time(text).map(|(at_ms, _)| at_ms)
}

/// Parses `--to`: the end of a day in UTC (the next day's start), or an
/// RFC 3339 time.
pub(crate) fn parse_end(text: &str) -> Result<i64, String> {
    parse_time(text).map(|(at_ms, whole_day)| if whole_day { at_ms + DAY_MS } else { at_ms })
}

/// Returns milliseconds since the Unix epoch and whether `text` is a date alone.
fn parse_time(text: &str) -> Result<(i64, bool), String> {
    let text = text.trim();
    let whole_day = text.len() == 10;
    let (rfc3339, offset_ms) = if whole_day {
        (format!("{text}T00:00:00Z"), 0)
    } else {
        split_offset(text)
    };
    let time = humantime::parse_rfc3339(&rfc3339).map_err(|error| {
        format!("{text:?} is not a date ({error}); write YYYY-MM-DD, such as 2026-11-30, or an RFC 3339 time such as 2026-11-30T12:00:00Z or 2026-11-30T21:00:00+09:00")
    })?;
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("{text:?} is before 1970; give a later date"))?;
    let local_ms = i64::try_from(since_epoch.as_millis())
        .map_err(|_| format!("{text:?} is too far in the future; give an earlier date"))?;
    let at_ms = local_ms - offset_ms;
    if at_ms < 0 {
        return Err(format!("{text:?} is before 1970; give a later date"));
    }
    Ok((at_ms, whole_day))
}

/// Splits a numeric UTC offset such as `+09:00` off an RFC 3339 time,
/// returning the time with `Z` in its place and the offset in
/// milliseconds; text without one is returned unchanged with offset 0.
fn split_offset(text: &str) -> (String, i64) {
    let Some(split) = text.len().checked_sub(6) else {
        return (text.to_owned(), 0);
    };
    let (Some(time), Some(offset)) = (text.get(..split), text.get(split..)) else {
        return (text.to_owned(), 0);
    };
    let bytes = offset.as_bytes();
    let sign = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return (text.to_owned(), 0),
    };
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = offset.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    match (digits(1..3), bytes[3], digits(4..6)) {
        (Some(hours), b':', Some(minutes)) if hours < 24 && minutes < 60 && time.contains('T') => {
            (format!("{time}Z"), sign * (hours * 60 + minutes) * 60_000)
        }
        _ => (text.to_owned(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_whole_days() {
        let start = parse_start("2026-12-01").unwrap();
        assert_eq!(start, 1_796_083_200_000);
        assert_eq!(parse_end("2026-12-01").unwrap(), start + DAY_MS);
        assert_eq!(parse_end("2026-12-01T00:00:00Z").unwrap(), start);
    }

    #[test]
    fn utc_offsets_are_applied() {
        let utc = parse_start("2026-12-01T00:00:00Z").unwrap();
        assert_eq!(parse_start("2026-12-01T09:00:00+09:00").unwrap(), utc);
        assert_eq!(parse_start("2026-11-30T19:30:00-04:30").unwrap(), utc);
        assert_eq!(parse_start("2026-12-01T00:00:00+00:00").unwrap(), utc);
        assert_eq!(
            parse_start("2026-12-01T09:00:00.250+09:00").unwrap(),
            utc + 250
        );
        for text in [
            "2026-12-01T00:00:00+24:00",
            "2026-12-01T00:00:00+0900",
            "1970-01-01T00:00:00+01:00",
        ] {
            assert!(parse_start(text).is_err(), "{text}");
        }
    }

    #[test]
    fn bad_dates_name_the_format() {
        for text in ["", "yesterday", "2026-13-01", "01/12/2026"] {
            let error = parse_start(text).unwrap_err();
            assert!(error.contains("YYYY-MM-DD"), "{text:?}: {error}");
        }
    }
}
