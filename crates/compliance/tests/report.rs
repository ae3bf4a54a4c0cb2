//! The AI system register and the transparency report built from the log.

use crate::common;

use common::{event, postgres_log, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AiSystem, AuditLog, ComplianceError, Decision, EventKind, HighImpactDomain, NewEvent,
    NewReview, ReviewQueue,
};
use serde_json::json;

fn loan_system() -> AiSystem {
    let mut system = AiSystem::new(
        "loan-assist",
        "drafts loan | credit decisions",
        "credit team",
    )
    .answer_questionnaire(|domain| domain == HighImpactDomain::HiringOrLoanScreening);
    system.models = vec!["gpt-4o-mini".into()];
    system
}

async fn report_flow(log: AuditLog) {
    log.register_system(&loan_system(), "cto").await.unwrap();
    log.register_system(&AiSystem::new("faq-bot", "answers FAQ", "support"), "cto")
        .await
        .unwrap();
    let updated = AiSystem {
        purpose: "drafts loan decisions".into(),
        ..loan_system()
    };
    log.register_system(&updated, "cto").await.unwrap();
    let systems = log.systems().await.unwrap();
    assert_eq!(systems.len(), 2);
    assert_eq!(systems[1], updated);

    let queue = ReviewQueue::new(log.clone());
    for decision in [Decision::Approve, Decision::Override, Decision::Approve] {
        let item = queue
            .enqueue(&NewReview::new("loan:1", "high impact"), "screening")
            .await
            .unwrap();
        queue.assign(item.id, "rita", "lead").await.unwrap();
        queue.start(item.id, "rita").await.unwrap();
        queue
            .decide(item.id, "rita", decision, json!(null))
            .await
            .unwrap();
    }
    log.append(event(0)).await.unwrap();
    let size = log.head().await.unwrap().size;
    log.sign_checkpoint(&SigningKey::from_bytes(&[9; 32]))
        .await
        .unwrap();

    let report = log.transparency_report(0, i64::MAX).await.unwrap();
    assert_eq!(report.events_by_kind["config_change"], 3);
    assert_eq!(report.events_by_kind["oversight_decision"], 3);
    assert_eq!(report.events_by_kind["model_call"], 1);
    assert_eq!(report.oversight_decisions["approved"], 2);
    assert_eq!(report.oversight_decisions["overridden"], 1);
    assert_eq!(report.latest_checkpoint.unwrap().size, size);

    let markdown = report.to_markdown();
    assert!(markdown.contains("not legal advice"), "{markdown}");
    assert!(
        markdown.contains("Period: 1970-01-01T00:00:00.000Z to 9223372036854775807 ms since"),
        "{markdown}"
    );
    assert!(markdown.contains("| overridden | 1 |"), "{markdown}");
    assert!(markdown.contains("| loan-assist | drafts loan decisions | credit team | gpt-4o-mini | hiring_or_loan_screening |"), "{markdown}");
    assert!(
        markdown.contains("| faq-bot | answers FAQ | support |  | none |"),
        "{markdown}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["events_by_kind"]["model_call"], json!(1));
}

#[tokio::test]
async fn report_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    report_flow(log).await;
}

#[tokio::test]
async fn report_on_postgres() {
    let Some((log, _db)) = postgres_log("report_on_postgres").await else {
        return;
    };
    report_flow(log).await;
}

#[tokio::test]
async fn report_counts_only_the_period() {
    let (log, _db) = sqlite_log().await;
    for at_ms in [100, 200, 300] {
        log.append(NewEvent::new(EventKind::GuardFinding, "guard", "r").at_ms(at_ms))
            .await
            .unwrap();
    }
    let report = log.transparency_report(150, 300).await.unwrap();
    assert_eq!(report.events_by_kind["guard_finding"], 1);
    assert!(report.latest_checkpoint.is_none());
    assert!(report.to_markdown().contains("No signed checkpoint"));
}

#[tokio::test]
async fn empty_period_is_rejected() {
    let (log, _db) = sqlite_log().await;
    let error = log.transparency_report(5, 5).await.unwrap_err();
    assert!(
        matches!(
            error,
            ComplianceError::InvalidPeriod {
                from_ms: 5,
                to_ms: 5
            }
        ),
        "{error}"
    );
    let error = log
        .register_system(&AiSystem::new("", "x", "y"), "cto")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("needs a name"), "{error}");
}
