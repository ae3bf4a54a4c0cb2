//! Compliance records with llmops-compliance: a tamper-evident audit log on
//! SQLite, a human-oversight review queue, a transparency report and an
//! impact assessment, and what `verify` reports after someone edits a row
//! of the log with plain SQL.
//!
//! Run with `cargo run --example compliance`.

use anyhow::Context;
use llmops_compliance::{
    AiSystem, AuditLog, BreakReason, Decision, EventKind, Evidence, EvidenceKind, HighImpactDomain,
    ImpactAssessment, NewEvent, NewReview, ReviewQueue, ReviewState, Risk, VerifyOptions,
};
use llmops_store::Store;
use serde_json::json;

/// The system under record: an assistant that drafts decisions on
/// insurance claims, which a claims handler approves.
const SYSTEM: &str = "claims-triage";

fn assessment() -> ImpactAssessment {
    ImpactAssessment {
        system: SYSTEM.into(),
        scope: "Drafts accept or reject decisions on home insurance claims.".into(),
        affected_rights: vec!["non-discrimination".into(), "privacy".into()],
        affected_groups: vec!["policy holders".into()],
        risks: vec![Risk {
            description: "Valid claims rejected for unusual wording".into(),
            likelihood: 3,
            severity: 4,
            mitigations: vec!["A handler reviews every rejection".into()],
            residual_likelihood: 1,
            residual_severity: 4,
        }],
        evidence: vec![Evidence {
            kind: EvidenceKind::Evaluation,
            reference: "eval-run:claims-v7".into(),
            summary: "rejection accuracy 0.96 on 400 labelled claims".into(),
        }],
        oversight: "Rejections wait in the review queue until a handler decides.".into(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let url = format!("sqlite://{}", folder.path().join("audit.db").display());
    let log = AuditLog::open(Store::connect(&url).await?).await?;

    // Register the system. Deciding claims significantly affects people's
    // rights, so the questionnaire puts it in that high-impact domain.
    let system = AiSystem::new(
        SYSTEM,
        "drafts decisions on insurance claims",
        "claims team",
    )
    .answer_questionnaire(|domain| domain == HighImpactDomain::HiringOrLoanScreening);
    log.register_system(&system, "cto").await?;

    // Record three model calls and a guardrail finding.
    let mut calls = Vec::new();
    for (claim, tokens) in [
        ("claim:8841", 412),
        ("claim:8842", 388),
        ("claim:8843", 502),
    ] {
        let event = NewEvent::new(EventKind::ModelCall, "gateway", claim).payload(
            json!({"model": "gpt-4o-mini", "prompt_tokens": tokens, "decision": "reject"}),
        );
        calls.push(log.append(event).await?);
    }
    let finding = NewEvent::new(EventKind::GuardFinding, "guardrails", "claim:8843")
        .payload(json!({"guard": "pii", "entity": "iban", "action": "redacted"}));
    log.append(finding).await?;
    let report = log.verify(&VerifyOptions::default()).await?;
    println!(
        "Audit log: {} entries verify, Merkle root {}",
        report.entries, report.root
    );

    // A person decides every rejection. The system queues the draft, and a
    // handler claims it, reviews it and overrides it. The log records each step.
    let queue = ReviewQueue::new(log.clone());
    let item = queue
        .enqueue(
            &NewReview::new("claim:8842", "draft rejects a claim"),
            SYSTEM,
        )
        .await?;
    queue.assign(item.id, "handler-ana", "handler-ana").await?;
    queue.start(item.id, "handler-ana").await?;
    let note = json!({"decision": "accept", "why": "storm damage is covered"});
    let decided = queue
        .decide(item.id, "handler-ana", Decision::Override, note)
        .await?;
    let closed = queue.close(item.id, "handler-ana").await?;
    println!(
        "Review {}: queued -> assigned -> in review -> {} -> {}",
        item.id, decided.state, closed.state
    );

    // The impact assessment, signed off by someone other than its author.
    let saved = log.save_assessment(&assessment(), "analyst-ben").await?;
    let signed = log
        .sign_off_assessment(SYSTEM, saved.version, "dpo-chloe", "accepted")
        .await?;
    println!(
        "\nImpact assessment of {SYSTEM}, version {}:",
        signed.version
    );
    for risk in &signed.assessment.risks {
        println!(
            "  risk: {} ({} -> {} after mitigation)",
            risk.description,
            risk.inherent_level(),
            risk.residual_level()
        );
    }
    let signer = signed.signed_off_by.as_deref().unwrap_or("nobody");
    println!(
        "  residual level {}, signed off by {signer}",
        signed.assessment.residual_level()
    );

    // The transparency report of the last day, up to its register table.
    let now_ms = llmops_store::now_ms();
    let transparency = log
        .transparency_report(now_ms - 86_400_000, now_ms + 60_000)
        .await?;
    let markdown = transparency.to_markdown();
    let report_head: Vec<&str> = markdown
        .lines()
        .take_while(|line| !line.starts_with("## AI systems"))
        .collect();
    println!("\n{}", report_head.join("\n").trim_end());

    // Someone edits the second model call with SQL to hide its decision.
    let target = calls.get(1).context("no second model call")?.seq;
    let sql =
        "UPDATE compliance_audit_log SET payload = '{\"decision\":\"accept\"}' WHERE seq = $1";
    let target_seq = i64::try_from(target)?;
    llmops_store::sqlx::query(sql)
        .bind(target_seq)
        .execute(log.store().pool())
        .await?;
    let after = log.verify(&VerifyOptions::default()).await?;
    let problem = after
        .problem
        .as_ref()
        .context("verify missed the edited row")?;
    println!("\nAfter editing entry {target} with SQL, verify reports: {problem}");

    // Check the results, so a misbehaving library makes the example fail.
    anyhow::ensure!(
        report.is_valid(),
        "the untouched log does not verify: {:?}",
        report.problem
    );
    anyhow::ensure!(
        closed.state == ReviewState::Closed,
        "the review ended in state {}",
        closed.state
    );
    anyhow::ensure!(
        transparency.oversight_decisions.values().sum::<u64>() == 1,
        "expected one oversight decision, found {:?}",
        transparency.oversight_decisions
    );
    anyhow::ensure!(
        signed.signed_off_by.as_deref() == Some("dpo-chloe"),
        "the assessment is not signed off by dpo-chloe"
    );
    anyhow::ensure!(
        problem.seq == target && problem.reason == BreakReason::Edited,
        "expected entry {target} to be reported as edited, got {problem}"
    );
    Ok(())
}
