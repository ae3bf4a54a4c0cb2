//! The review queue's state machine on the store, with each change in the audit log.

use crate::common;

use common::{postgres_log, sqlite_log};
use llmops_compliance::{
    AuditLog, ComplianceError, Decision, NewReview, ReviewQueue, ReviewState, VerifyOptions,
};
use serde_json::json;

async fn kinds(log: &AuditLog) -> Vec<String> {
    log.entries(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.kind)
        .collect()
}

async fn single_review_flow(log: AuditLog) {
    let queue = ReviewQueue::new(log.clone());
    let item = queue
        .enqueue(&NewReview::new("request:9", "pii guard"), "guardrails")
        .await
        .unwrap();
    assert_eq!(item.state, ReviewState::Queued);

    queue.assign(item.id, "rita", "lead").await.unwrap();
    queue.start(item.id, "rita").await.unwrap();
    let decided = queue
        .decide(
            item.id,
            "rita",
            Decision::Edit,
            json!({"changed": "removed a phone number"}),
        )
        .await
        .unwrap();
    assert_eq!(decided.state, ReviewState::Edited);
    assert_eq!(decided.decisions, 1);
    let closed = queue.close(item.id, "rita").await.unwrap();
    assert_eq!(closed.state, ReviewState::Closed);
    assert_eq!(queue.get(item.id).await.unwrap(), closed);

    let recorded = kinds(&log).await;
    assert_eq!(
        recorded,
        vec![
            "oversight_enqueued",
            "oversight_transition",
            "oversight_transition",
            "oversight_decision",
            "oversight_transition"
        ]
    );
    let decision = log.entry(3).await.unwrap();
    assert_eq!(decision.actor, "rita");
    assert_eq!(decision.payload["to"], json!("edited"));
    assert_eq!(
        decision.payload["details"]["note"]["changed"],
        json!("removed a phone number")
    );
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );
}

#[tokio::test]
async fn single_review_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    single_review_flow(log).await;
}

#[tokio::test]
async fn single_review_on_postgres() {
    let Some((log, _db)) = postgres_log("single_review_on_postgres").await else {
        return;
    };
    single_review_flow(log).await;
}

async fn list_filters_by_state(log: AuditLog) {
    let queue = ReviewQueue::new(log);
    assert!(queue.list(None).await.unwrap().is_empty());
    let mut ids = Vec::new();
    for subject in ["request:1", "request:2", "요청:3"] {
        let item = queue
            .enqueue(&NewReview::new(subject, "flagged"), "guardrails")
            .await
            .unwrap();
        ids.push(item.id);
    }
    queue.assign(ids[1], "rita", "lead").await.unwrap();

    let all = queue.list(None).await.unwrap();
    let listed: Vec<i64> = all.iter().map(|item| item.id).collect();
    assert_eq!(listed, ids, "oldest first");
    assert_eq!(all[2].subject, "요청:3");
    let queued: Vec<i64> = queue
        .list(Some(ReviewState::Queued))
        .await
        .unwrap()
        .iter()
        .map(|item| item.id)
        .collect();
    assert_eq!(queued, [ids[0], ids[2]]);
    let assigned = queue.list(Some(ReviewState::Assigned)).await.unwrap();
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].assignee.as_deref(), Some("rita"));
    assert!(
        queue
            .list(Some(ReviewState::Closed))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn list_on_sqlite() {
    let (log, _db) = sqlite_log().await;
    list_filters_by_state(log).await;
}

#[tokio::test]
async fn list_on_postgres() {
    let Some((log, _db)) = postgres_log("list_on_postgres").await else {
        return;
    };
    list_filters_by_state(log).await;
}

#[tokio::test]
async fn invalid_transition_names_states() {
    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log.clone());
    let item = queue
        .enqueue(&NewReview::new("request:1", "flag"), "guard")
        .await
        .unwrap();
    let error = queue
        .decide(item.id, "rita", Decision::Approve, json!(null))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ComplianceError::InvalidTransition { .. }),
        "{message}"
    );
    assert!(message.contains("from `queued` to `approved`"), "{message}");
    assert!(
        message.contains("allowed next states: assigned, expired"),
        "{message}"
    );

    // The rejected change left no trace.
    assert_eq!(queue.get(item.id).await.unwrap().state, ReviewState::Queued);
    assert_eq!(log.head().await.unwrap().size, 1);
}

#[tokio::test]
async fn only_assignee_can_start_and_decide() {
    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log);
    let item = queue
        .enqueue(&NewReview::new("request:1", "flag"), "guard")
        .await
        .unwrap();
    queue.assign(item.id, "rita", "lead").await.unwrap();
    let error = queue.start(item.id, "sam").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`sam` is not the assigned reviewer (rita)"),
        "{error}"
    );
    queue.start(item.id, "rita").await.unwrap();
    let error = queue
        .decide(item.id, "sam", Decision::Approve, json!(null))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::ReviewRejected { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn second_review_needs_other_reviewer() {
    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log);
    let review = NewReview {
        reviews_required: 2,
        ..NewReview::new("loan:77", "high impact")
    };
    let item = queue.enqueue(&review, "screening").await.unwrap();
    queue.assign(item.id, "rita", "lead").await.unwrap();
    queue.start(item.id, "rita").await.unwrap();
    queue
        .decide(item.id, "rita", Decision::Approve, json!(null))
        .await
        .unwrap();

    let error = queue.close(item.id, "rita").await.unwrap_err();
    assert!(
        error.to_string().contains("allowed next states: assigned"),
        "{error}"
    );
    let error = queue.assign(item.id, "rita", "lead").await.unwrap_err();
    assert!(
        error.to_string().contains("made the first decision"),
        "{error}"
    );

    queue.assign(item.id, "sam", "lead").await.unwrap();
    queue.start(item.id, "sam").await.unwrap();
    let second = queue
        .decide(
            item.id,
            "sam",
            Decision::Override,
            json!({"why": "income misread"}),
        )
        .await
        .unwrap();
    assert_eq!(second.decisions, 2);
    assert_eq!(second.first_reviewer.as_deref(), Some("rita"));
    assert_eq!(
        queue.close(item.id, "sam").await.unwrap().state,
        ReviewState::Closed
    );
}

#[tokio::test]
async fn escalation_goes_to_new_reviewer() {
    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log);
    let item = queue
        .enqueue(&NewReview::new("request:5", "unsure"), "guard")
        .await
        .unwrap();

    queue.assign(item.id, "rita", "lead").await.unwrap();
    queue.start(item.id, "rita").await.unwrap();
    let escalated = queue
        .decide(item.id, "rita", Decision::Escalate, json!(null))
        .await
        .unwrap();
    assert_eq!(escalated.state, ReviewState::Escalated);
    assert_eq!(escalated.decisions, 0);
    let error = queue.close(item.id, "rita").await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("allowed next states: assigned, expired"),
        "{error}"
    );

    // The escalation goes to another reviewer, who decides and closes.
    queue.assign(item.id, "head-of-risk", "lead").await.unwrap();
    queue.start(item.id, "head-of-risk").await.unwrap();
    queue
        .decide(item.id, "head-of-risk", Decision::Approve, json!(null))
        .await
        .unwrap();
    assert_eq!(
        queue.close(item.id, "head-of-risk").await.unwrap().state,
        ReviewState::Closed
    );
}

#[tokio::test]
async fn due_items_expire_and_close() {
    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log);
    let due = NewReview {
        expires_at_ms: Some(1_000),
        ..NewReview::new("request:1", "flag")
    };
    let later = NewReview {
        expires_at_ms: Some(5_000),
        ..NewReview::new("request:2", "flag")
    };
    let due = queue.enqueue(&due, "guard").await.unwrap();
    let later = queue.enqueue(&later, "guard").await.unwrap();
    let open = queue
        .enqueue(&NewReview::new("request:3", "flag"), "guard")
        .await
        .unwrap();
    queue.assign(due.id, "rita", "lead").await.unwrap_err();

    assert_eq!(
        queue.expire_due(2_000, "scheduler").await.unwrap(),
        vec![due.id]
    );
    assert_eq!(queue.get(due.id).await.unwrap().state, ReviewState::Expired);
    assert_eq!(
        queue.get(later.id).await.unwrap().state,
        ReviewState::Queued
    );
    assert_eq!(queue.get(open.id).await.unwrap().state, ReviewState::Queued);
    assert!(
        queue
            .expire_due(2_000, "scheduler")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        queue.close(due.id, "scheduler").await.unwrap().state,
        ReviewState::Closed
    );
}

#[tokio::test]
async fn bad_requests_are_rejected() {
    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log);
    let error = queue.get(404).await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::ReviewNotFound { id: 404 }),
        "{error}"
    );
    let three = NewReview {
        reviews_required: 3,
        ..NewReview::new("x", "y")
    };
    let error = queue.enqueue(&three, "guard").await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidReview { .. })
            && error.to_string().contains("reviews_required is 3"),
        "{error}"
    );
}

/// Waits until the gate's item is queued, then has `rita` decide on it.
async fn decide_when_queued(queue: ReviewQueue, decision: Decision, note: serde_json::Value) {
    let id = loop {
        if let Some(item) = queue.list(Some(ReviewState::Queued)).await.unwrap().first() {
            break item.id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    queue.assign(id, "rita", "lead").await.unwrap();
    queue.start(id, "rita").await.unwrap();
    queue.decide(id, "rita", decision, note).await.unwrap();
}

#[tokio::test]
async fn gate_releases_what_the_reviewer_decided() {
    use llmops_compliance::{ApprovalGate, GateOutcome};
    use std::time::Duration;

    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log.clone());
    let gate = ApprovalGate::new(queue.clone(), Duration::from_secs(120))
        .poll_interval(Duration::from_millis(5));

    let reviewer = tokio::spawn(decide_when_queued(
        queue.clone(),
        Decision::Edit,
        json!({"text": "고객님, 환불은 7일 안에 처리됩니다."}),
    ));
    let (item, outcome) = gate
        .hold(&NewReview::new("response:1", "refund answer"), "gateway")
        .await
        .unwrap();
    reviewer.await.unwrap();
    assert_eq!(item.state, ReviewState::Edited);
    assert_eq!(
        outcome,
        GateOutcome::Edited {
            note: Some(json!({"text": "고객님, 환불은 7일 안에 처리됩니다."}))
        }
    );
    assert!(!outcome.sends_original());

    let reviewer = tokio::spawn(decide_when_queued(
        queue.clone(),
        Decision::Override,
        json!("cites the wrong law"),
    ));
    let (_, outcome) = gate
        .hold(&NewReview::new("response:2", "legal answer"), "gateway")
        .await
        .unwrap();
    reviewer.await.unwrap();
    assert_eq!(
        outcome,
        GateOutcome::Overridden {
            note: Some(json!("cites the wrong law"))
        }
    );
    assert!(
        log.verify(&VerifyOptions::default())
            .await
            .unwrap()
            .is_valid()
    );
}

#[tokio::test]
async fn gate_applies_the_timeout_policy() {
    use llmops_compliance::{ApprovalGate, GateOutcome, TimeoutPolicy};
    use std::time::Duration;

    let (log, _db) = sqlite_log().await;
    let queue = ReviewQueue::new(log.clone());
    for (policy, release) in [
        (TimeoutPolicy::Withhold, false),
        (TimeoutPolicy::Release, true),
    ] {
        let gate = ApprovalGate::new(queue.clone(), Duration::from_millis(50))
            .poll_interval(Duration::from_millis(5))
            .on_timeout(policy);
        let (item, outcome) = gate
            .hold(&NewReview::new("response:3", "nobody around"), "gateway")
            .await
            .unwrap();
        assert_eq!(item.state, ReviewState::Expired);
        assert_eq!(outcome, GateOutcome::TimedOut { release });
        assert_eq!(outcome.sends_original(), release);
    }
    let huge = ApprovalGate::new(queue, Duration::MAX);
    let error = huge
        .hold(&NewReview::new("response:4", "x"), "gateway")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("too long"), "{error}");
}
