//! The `[guardrails]` section as gateway hooks: input guards before
//! routing, output guards on each response, and their findings counted by
//! the monitor.

use std::sync::Arc;

use llmops_gateway::{GatewayBuilder, GatewayError};
use llmops_guardrails::{GuardEvent, GuardHook, GuardListener, OutputGuardHook, Pipeline};
use llmops_monitor::Monitor;

use crate::serve_config::GuardrailsSection;

/// The name of the guard whose findings carry entity types; its flags are
/// counted by those types rather than by its own name.
const PII_GUARD: &str = "pii";

/// Adds the input and output guards of `section` to `builder`.
///
/// # Errors
///
/// Returns [`GatewayError::Config`] for guard settings the pipeline
/// rejects, such as a banned-term pattern that does not compile.
pub(crate) fn attach_guardrails(
    builder: GatewayBuilder,
    section: &GuardrailsSection,
    monitor: &Monitor,
) -> Result<GatewayBuilder, GatewayError> {
    let invalid = |error: llmops_guardrails::GuardError| {
        GatewayError::config("guardrails", error.to_string())
    };
    let settings = section.pipeline();
    let listener = finding_counter(monitor.clone());
    let input = GuardHook::with_listener(
        Pipeline::from_config(&settings).map_err(invalid)?,
        section.tag_on_findings.clone(),
        Arc::clone(&listener),
    );
    let output = OutputGuardHook::from_config(&settings)
        .map_err(invalid)?
        .with_window_chars(section.stream_window_chars)
        .with_listener(listener);
    Ok(builder.pre_call_hook(input).output_hook(Arc::new(output)))
}

/// Counts each guard event in the monitor: one finding per entity type
/// found, such as `KR_RRN`, and one per other guard that acted, such as
/// `injection`. Found values never reach the monitor.
fn finding_counter(monitor: Monitor) -> GuardListener {
    Arc::new(move |event: &GuardEvent| {
        for name in finding_names(event) {
            monitor.record_guard_finding(name, 1);
        }
    })
}

/// Returns the names an event is counted under.
fn finding_names(event: &GuardEvent) -> impl Iterator<Item = &str> {
    let entities = event.entities.iter().map(String::as_str);
    let guards = event
        .guards
        .iter()
        .map(String::as_str)
        .filter(|guard| *guard != PII_GUARD);
    entities.chain(guards)
}

#[cfg(test)]
mod tests {
    use llmops_guardrails::Action;

    use super::*;

    #[test]
    fn names_are_entities_then_other_guards() {
        let event = GuardEvent {
            action: Action::Block,
            entities: vec!["KR_RRN".to_owned(), "EMAIL_ADDRESS".to_owned()],
            reasons: vec!["found KR_RRN".to_owned()],
            guards: vec!["pii".to_owned(), "injection".to_owned()],
            entity_model_failed: false,
        };
        let names: Vec<&str> = finding_names(&event).collect();
        assert_eq!(names, ["KR_RRN", "EMAIL_ADDRESS", "injection"]);
    }

    #[test]
    fn empty_event_counts_nothing() {
        let event = GuardEvent {
            action: Action::Allow,
            entities: Vec::new(),
            reasons: Vec::new(),
            guards: Vec::new(),
            entity_model_failed: false,
        };
        assert_eq!(finding_names(&event).count(), 0);
    }
}
