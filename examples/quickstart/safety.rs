//! The quickstart's guardrails and compliance records: input guards in the
//! gateway, output guards on each reply, an audit log of every call, and a
//! review queue for calls with findings.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{
    AiSystem, AuditHook, AuditLog, EventKind, NewEvent, NewReview, ReviewQueue, VerifyOptions,
};
use llmops_gateway::GatewayBuilder;
use llmops_guardrails::{Action, GuardEvent, GuardHook, Pipeline, Stage};
use llmops_store::{Store, now_ms};
use serde_json::json;

/// A fictitious resident registration number (valid checksum) and the AWS
/// documentation's example access key, planted in the first question.
pub(crate) const PLANTED: &str =
    " (Asked by customer 900101-1234568, who pasted the key AKIAIOSFODNN7EXAMPLE.)";

/// Input guards: personal data and secrets are replaced by typed
/// placeholders, and a likely prompt injection goes to review.
const INPUT_GUARDS: &str = r#"
[injection]
threshold = 0.5
action = "review"

[pii]
default_action = "redact"
actions = { AWS_ACCESS_KEY = "redact", OPENAI_API_KEY = "redact" }
"#;

/// Output guards: personal data or secrets in a reply, a refusal or an
/// overlong reply go to review.
const OUTPUT_GUARDS: &str = r#"
[pii]
default_action = "review"

[output]
max_chars = 2000
refusal_action = "review"
"#;

/// The audit log, the review queue and the guards of one run.
pub(crate) struct Safety {
    log: AuditLog,
    queue: ReviewQueue,
    input: Arc<GuardHook>,
    output: Pipeline,
    started_ms: i64,
    queued: std::sync::atomic::AtomicU64,
}

impl Safety {
    /// Opens an audit log on an in-memory SQLite database and registers
    /// the quickstart as an AI system.
    pub(crate) async fn open() -> anyhow::Result<Safety> {
        let started_ms = now_ms();
        let log = AuditLog::open(Store::connect("sqlite::memory:").await?).await?;
        let mut system = AiSystem::new(
            "quickstart-qa",
            "answers questions from a supplied passage",
            "llmops examples",
        )
        .answer_questionnaire(|_| false);
        system.models = vec!["SmolLM2-135M-Instruct".to_owned()];
        log.register_system(&system, "quickstart").await?;
        Ok(Safety {
            queue: ReviewQueue::new(log.clone()),
            log,
            input: GuardHook::new(Pipeline::from_toml(INPUT_GUARDS)?),
            output: Pipeline::from_toml(OUTPUT_GUARDS)?,
            started_ms,
            queued: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Returns the review queue, for the dashboard's oversight panel.
    pub(crate) fn queue(&self) -> ReviewQueue {
        self.queue.clone()
    }

    /// Adds the input guards and the audit hook to a gateway.
    pub(crate) fn attach(&self, builder: GatewayBuilder) -> GatewayBuilder {
        builder
            .pre_call_hook(self.input.clone())
            .post_call_hook(Arc::new(AuditHook::new(self.log.clone(), "quickstart")))
    }

    /// Records what the input guards did to the last request, checks the
    /// reply with the output guards, and queues the call for review when
    /// either found something. Prints one line per finding, never a value,
    /// and returns the entity type of every finding.
    pub(crate) async fn after_reply(
        &self,
        request_id: &str,
        reply: &str,
    ) -> anyhow::Result<Vec<String>> {
        let subject = format!("request:{request_id}");
        let mut reasons = Vec::new();
        let mut entities = Vec::new();
        for event in self.input.take_events() {
            println!(
                "  input guards: {} {} before the model saw the request",
                describe(event.action),
                event.entities.join(", ")
            );
            self.record(&subject, "input", &event).await?;
            reasons.push(format!("input: {}", event.entities.join(", ")));
            entities.extend(event.entities.iter().cloned());
        }
        let outcome = self.output.check(reply, Stage::Output)?;
        if outcome.action != Action::Allow {
            let event = GuardEvent {
                action: outcome.action,
                entities: outcome
                    .verdicts
                    .iter()
                    .flat_map(|verdict| &verdict.findings)
                    .map(|finding| finding.entity.to_string())
                    .collect(),
                reasons: outcome
                    .verdicts
                    .iter()
                    .flat_map(|verdict| verdict.reasons.iter().cloned())
                    .collect(),
                guards: outcome
                    .verdicts
                    .iter()
                    .filter(|verdict| verdict.action != Action::Allow)
                    .map(|verdict| verdict.guard.clone())
                    .collect(),
                entity_model_failed: false,
            };
            println!("  output guards: {}", event.reasons.join("; "));
            self.record(&subject, "output", &event).await?;
            reasons.push(format!("output: {}", event.reasons.join("; ")));
            entities.extend(event.entities.iter().cloned());
        }
        if !reasons.is_empty() {
            let item = self
                .queue
                .enqueue(&NewReview::new(&subject, reasons.join(" | ")), "quickstart")
                .await?;
            self.queued
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            println!("  queued for human review as item {}", item.id);
        }
        Ok(entities)
    }

    async fn record(&self, subject: &str, stage: &str, event: &GuardEvent) -> anyhow::Result<()> {
        self.log
            .append(
                NewEvent::new(EventKind::GuardFinding, "guardrails", subject).payload(json!({
                    "stage": stage,
                    "action": format!("{:?}", event.action).to_lowercase(),
                    "entities": event.entities,
                })),
            )
            .await?;
        Ok(())
    }

    /// Waits for the audit hook's entries, signs a checkpoint, verifies
    /// the log and prints the transparency report.
    pub(crate) async fn finish(&self, calls: u64) -> anyhow::Result<()> {
        // The hook appends on a spawned task after each response.
        let mut model_calls = 0;
        for _ in 0..500 {
            let report = self
                .log
                .transparency_report(self.started_ms, now_ms() + 1)
                .await?;
            model_calls = report
                .events_by_kind
                .get("model_call")
                .copied()
                .unwrap_or(0);
            if model_calls >= calls {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::ensure!(
            model_calls >= calls,
            "the audit log holds {model_calls} model calls, expected {calls}"
        );

        // A key made for this run; a deployment loads its own from a secret store.
        let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let checkpoint = self.log.sign_checkpoint(&key).await?;
        let verified = self
            .log
            .verify(&VerifyOptions::default().trusted_keys([key.verifying_key()]))
            .await?;
        anyhow::ensure!(
            verified.is_valid(),
            "audit log verification failed: {verified:?}"
        );
        println!(
            "\nAudit log: {} entries, hash chain and signed checkpoint verified (tree head {}).",
            checkpoint.size, checkpoint.root
        );
        let queued = self.queued.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "Review queue: {queued} {} for a human decision.",
            if queued == 1 {
                "call waits"
            } else {
                "calls wait"
            }
        );
        let report = self
            .log
            .transparency_report(self.started_ms, now_ms() + 1)
            .await
            .context("the transparency report failed")?;
        println!("\n{}", report.to_markdown());
        Ok(())
    }
}

fn describe(action: Action) -> &'static str {
    match action {
        Action::Redact => "redacted",
        Action::Block => "blocked",
        Action::Review => "flagged",
        _ => "allowed",
    }
}
