//! The quickstart's prompt, kept in the registry: two versions, an A/B
//! experiment between them, and every call logged against the version
//! that produced it.

use std::collections::BTreeMap;

use anyhow::Context;
use llmops_core::types::ChatMessage;
use llmops_registry::experiment::{
    AnalysisConfig, Arm, ArmTarget, MetricSamples, NewExperiment, Recommendation, Served,
};
use llmops_registry::{
    CallLogger, CallLoggerOptions, CallRecord, LabelMove, PromptContent, Registry, RenderedPrompt,
    Role, Score,
};
use llmops_store::Store;
use rust_decimal::Decimal;
use serde_json::json;

pub(crate) const PROMPT: &str = "qa-answer";
pub(crate) const LABEL: &str = "production";
pub(crate) const EXPERIMENT: &str = "qa-answer-brevity";

const USER_TEMPLATE: &str = "Context: {{ context }}\n\nQuestion: {{ question }}";

/// The system messages of the two versions: the released one, and a
/// candidate that requests the shortest possible reply.
const SYSTEM_PROMPTS: [&str; 2] = [
    "Answer the question using only the context. Reply in one short sentence.",
    "Answer the question using only the context. Reply with the answer alone, in as few words as possible.",
];

/// The registry on an in-memory SQLite database, with its call logger.
pub(crate) struct Prompts {
    pub(crate) registry: Registry,
    logger: CallLogger,
}

impl Prompts {
    /// Publishes both versions, releases the first on `production`, and
    /// starts an experiment that splits `production` evenly.
    pub(crate) async fn open() -> anyhow::Result<Prompts> {
        let store = Store::connect("sqlite::memory:").await?;
        let registry = Registry::open(store).await?;
        for system in SYSTEM_PROMPTS {
            let content = PromptContent::chat(vec![
                llmops_registry::ChatMessage {
                    role: Role::System,
                    content: system.to_owned(),
                },
                llmops_registry::ChatMessage {
                    role: Role::User,
                    content: USER_TEMPLATE.to_owned(),
                },
            ]);
            registry.publish(PROMPT, &content, "quickstart").await?;
        }
        registry
            .set_label(&LabelMove {
                prompt: PROMPT,
                label: LABEL,
                version: 1,
                actor: "quickstart",
                reason: "first release",
            })
            .await?;
        registry
            .create_experiment(&NewExperiment {
                id: EXPERIMENT,
                prompt: PROMPT,
                label: LABEL,
                arms: vec![
                    Arm::new("released", ArmTarget::Label(LABEL.to_owned()), 1.0),
                    Arm::new("brief", ArmTarget::Version(2), 1.0),
                ],
                actor: "quickstart",
            })
            .await?;
        let logger = CallLogger::start(registry.store().clone(), CallLoggerOptions::default());
        Ok(Prompts { registry, logger })
    }

    /// Picks the version for one reader and renders it.
    pub(crate) async fn messages(
        &self,
        reader: &str,
        context: &str,
        question: &str,
    ) -> anyhow::Result<(Served, Vec<ChatMessage>)> {
        let served = self.registry.serve(PROMPT, LABEL, reader).await?;
        let variables = BTreeMap::from([
            ("context".to_owned(), json!(context)),
            ("question".to_owned(), json!(question)),
        ]);
        let RenderedPrompt::Chat(rendered) = llmops_registry::render(&served.version, &variables)?
        else {
            anyhow::bail!("{PROMPT} is a chat prompt, but rendered as text");
        };
        let messages = rendered
            .into_iter()
            .map(|message| match message.role {
                Role::System => ChatMessage::system(message.content),
                Role::Assistant => ChatMessage::assistant(message.content),
                _ => ChatMessage::user(message.content),
            })
            .collect();
        Ok((served, messages))
    }

    /// Logs one call against its version, and a 0 or 1 score for whether
    /// the reply contains the reference answer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn log(
        &self,
        served: &Served,
        call_id: &str,
        question: &str,
        answer: &str,
        latency_ms: u64,
        usage: (u64, u64),
        matches_reference: bool,
    ) -> anyhow::Result<()> {
        let record = CallRecord::served(served, "local", json!({ "question": question }), answer)
            .call_id(call_id)
            .usage(latency_ms, usage.0, usage.1, Decimal::ZERO);
        self.logger.log(record).await?;
        let score = Score::new(
            &served.version,
            "answer_match",
            f64::from(u8::from(matches_reference)),
        )
        .label(LABEL)
        .call_id(call_id);
        self.registry.record_score(&score).await?;
        Ok(())
    }

    /// Flushes the call log, prints each arm's numbers and the
    /// experiment's recommendation, and returns the registry.
    pub(crate) async fn report(self) -> anyhow::Result<Registry> {
        let stats = self.logger.close().await?;
        println!(
            "\nPrompt registry: {} calls logged against {PROMPT} versions.",
            stats.written
        );
        let samples = self.registry.experiment_samples(EXPERIMENT).await?;
        let experiment = self.registry.experiment(EXPERIMENT).await?;
        for arm in &samples {
            let target = experiment
                .experiment
                .arms()
                .iter()
                .find(|candidate| candidate.name == arm.arm)
                .map(|candidate| match &candidate.target {
                    ArmTarget::Version(version) => format!("{PROMPT}@{version}"),
                    ArmTarget::Label(label) => format!("{PROMPT}:{label}"),
                    other => format!("{other:?}"),
                })
                .context("an arm without a target")?;
            let matched = match arm.metrics.get("answer_match") {
                Some(MetricSamples::Binary { successes, trials }) => {
                    format!("{successes}/{trials} answers hold the reference")
                }
                Some(MetricSamples::Continuous { values }) => format!(
                    "mean answer match {:.2}",
                    values.iter().sum::<f64>() / values.len().max(1) as f64
                ),
                _ => "no scores".to_owned(),
            };
            let latency = match arm.metrics.get("latency_ms") {
                Some(MetricSamples::Continuous { values }) if !values.is_empty() => format!(
                    "{:.0} ms mean",
                    values.iter().sum::<f64>() / values.len() as f64
                ),
                _ => "-".to_owned(),
            };
            println!(
                "  experiment {EXPERIMENT}, arm {} ({target}): {} readers, {matched}, {latency}",
                arm.arm, arm.units
            );
        }
        let config = AnalysisConfig {
            primary_metric: Some("answer_match".to_owned()),
            ..AnalysisConfig::default()
        };
        let report = self.registry.experiment_report(EXPERIMENT, &config).await?;
        let decision = match &report.recommendation {
            Recommendation::Continue { reason } => format!("keep running ({reason})"),
            Recommendation::StopWinner { arm, reason } => format!("promote {arm} ({reason})"),
            Recommendation::StopNoDifference { reason } => format!("no difference ({reason})"),
            Recommendation::StopSampleRatioMismatch { reason } => {
                format!("the split is broken ({reason})")
            }
            other => format!("{other:?}"),
        };
        println!("  recommendation: {decision}");
        println!("  (`llmops experiment status` prints the full statistics for a stored registry)");
        Ok(self.registry)
    }
}

/// Returns whether `answer` contains `reference`, ignoring case and
/// punctuation.
pub(crate) fn matches_reference(answer: &str, reference: &str) -> bool {
    let normalize = |text: &str| {
        text.chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let reference = normalize(reference);
    !reference.is_empty() && normalize(answer).contains(&reference)
}
