//! Property tests: random review action sequences and random tampering.

use llmops_compliance::{
    AuditLog, BreakReason, ComplianceError, Decision, NewReview, ReviewQueue, ReviewState,
    VerifyOptions,
};
use llmops_compliance::{EventKind, NewEvent};
use llmops_store::Store;
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Action {
    Assign(usize),
    Release,
    Start(usize),
    Decide(usize, u8),
    Close,
    Expire,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0_usize..3).prop_map(Action::Assign),
        Just(Action::Release),
        (0_usize..3).prop_map(Action::Start),
        (0_usize..3, 0_u8..4).prop_map(|(reviewer, decision)| Action::Decide(reviewer, decision)),
        Just(Action::Close),
        Just(Action::Expire),
    ]
}

const REVIEWERS: [&str; 3] = ["rita", "sam", "li"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn memory_log() -> AuditLog {
    AuditLog::open(Store::connect("sqlite::memory:").await.unwrap())
        .await
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every accepted action appends exactly one audit entry and moves the
    /// item to an allowed next state; every rejected action changes nothing.
    #[test]
    fn review_actions_keep_state_and_log_in_step(
        actions in proptest::collection::vec(action(), 1..25),
        second_review in any::<bool>(),
    ) {
        runtime().block_on(async {
            let log = memory_log().await;
            let queue = ReviewQueue::new(log.clone());
            let review = NewReview {
                reviews_required: if second_review { 2 } else { 1 },
                // Expire (at i64::MAX) can fire; other actions stay before the deadline.
                expires_at_ms: Some(llmops_store::now_ms() + 86_400_000),
                ..NewReview::new("request:1", "flag")
            };
            let mut item = queue.enqueue(&review, "guard").await.unwrap();
            for action in actions {
                let size_before = log.head().await.unwrap().size;
                let allowed = item.allowed_next();
                let result = match action {
                    Action::Assign(r) => queue.assign(item.id, REVIEWERS[r], "lead").await,
                    Action::Release => queue.release(item.id, "lead").await,
                    Action::Start(r) => queue.start(item.id, REVIEWERS[r]).await,
                    Action::Decide(r, d) => {
                        let decision = [Decision::Approve, Decision::Edit, Decision::Override, Decision::Escalate][d as usize];
                        queue.decide(item.id, REVIEWERS[r], decision, json!(null)).await
                    }
                    Action::Close => queue.close(item.id, "lead").await,
                    Action::Expire => queue.expire_due(i64::MAX, "scheduler").await.map(|_| item.clone()),
                };
                let stored = queue.get(item.id).await.unwrap();
                let size_after = log.head().await.unwrap().size;
                match result {
                    Ok(_) if stored != item => {
                        prop_assert!(allowed.contains(&stored.state), "{:?} -> {:?}", item.state, stored.state);
                        prop_assert_eq!(size_after, size_before + 1);
                    }
                    Ok(_) => prop_assert_eq!(size_after, size_before),
                    Err(error) => {
                        prop_assert!(matches!(error, ComplianceError::InvalidTransition { .. } | ComplianceError::ReviewRejected { .. }), "{}", error);
                        prop_assert_eq!(&stored, &item);
                        prop_assert_eq!(size_after, size_before);
                    }
                }
                prop_assert!(stored.decisions <= stored.reviews_required);
                // An item closes only after its required decisions, or after expiry.
                if stored.state == ReviewState::Closed && item.state != ReviewState::Closed {
                    prop_assert!(
                        stored.decisions >= stored.reviews_required
                            || item.state == ReviewState::Expired
                    );
                }
                item = stored;
            }
            prop_assert!(log.verify(&VerifyOptions::default()).await.unwrap().is_valid());
            Ok(())
        })?;
    }

    /// An edit to any one entry's payload is reported at exactly that entry.
    #[test]
    fn edited_entry_found_at_its_position(
        batches in proptest::collection::vec(1_usize..40, 1..6),
        target_seed in any::<usize>(),
    ) {
        runtime().block_on(async {
            let log = memory_log().await;
            let mut total = 0;
            for (batch, size) in batches.iter().enumerate() {
                let events: Vec<NewEvent> = (0..*size)
                    .map(|i| NewEvent::new(EventKind::ModelCall, "gateway", "r").payload(json!({"batch": batch, "i": i})))
                    .collect();
                log.append_batch(&events).await.unwrap();
                total += size;
            }
            let report = log.verify(&VerifyOptions::default()).await.unwrap();
            prop_assert!(report.is_valid());
            prop_assert_eq!(report.entries, total as u64);

            let target = (target_seed % total) as i64;
            sqlx::query("UPDATE compliance_audit_log SET payload = '{\"edited\":true}' WHERE seq = $1")
                .bind(target)
                .execute(log.store().pool())
                .await
                .unwrap();
            let problem = log.verify(&VerifyOptions::default()).await.unwrap().problem.unwrap();
            prop_assert_eq!(problem.seq, target as u64);
            prop_assert_eq!(problem.reason, BreakReason::Edited);
            Ok(())
        })?;
    }
}
