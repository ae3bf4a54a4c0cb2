//! Chooses the scenario for each request: queued one-shot scenarios first,
//! then sticky ones, then the default.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::scenario::Scenario;

/// An endpoint of the mock server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /v1/chat/completions` (OpenAI).
    ChatCompletions,
    /// `POST /v1/messages` (Anthropic).
    Messages,
    /// `POST /v1/embeddings` (OpenAI).
    Embeddings,
    /// `GET /v1/models` (OpenAI).
    Models,
}

impl Route {
    /// Returns whether the route generates chat replies, which scenarios
    /// without a route apply to.
    fn is_chat(self) -> bool {
        matches!(self, Route::ChatCompletions | Route::Messages)
    }
}

/// A scenario with the requests it applies to.
#[derive(Debug, Clone)]
struct Rule {
    /// `None` matches the chat routes only.
    route: Option<Route>,
    /// `None` matches any model.
    model: Option<String>,
    scenario: Arc<Scenario>,
}

impl Rule {
    fn matches(&self, route: Route, model: &str) -> bool {
        let route_matches = self.route.map_or(route.is_chat(), |own| own == route);
        let model_matches = self.model.as_deref().is_none_or(|own| own == model);
        route_matches && model_matches
    }
}

/// All scenarios of a server.
#[derive(Debug, Default)]
pub(crate) struct ScenarioTable {
    queued: VecDeque<Rule>,
    sticky: Vec<Rule>,
    default: Arc<Scenario>,
}

impl ScenarioTable {
    pub(crate) fn push(&mut self, route: Option<Route>, model: Option<String>, scenario: Scenario) {
        let scenario = Arc::new(scenario);
        self.queued.push_back(Rule {
            route,
            model,
            scenario,
        });
    }

    /// Adds a sticky scenario; a later one for the same route and model
    /// replaces the earlier one.
    pub(crate) fn always(
        &mut self,
        route: Option<Route>,
        model: Option<String>,
        scenario: Scenario,
    ) {
        self.sticky
            .retain(|rule| !(rule.route == route && rule.model == model));
        let scenario = Arc::new(scenario);
        self.sticky.push(Rule {
            route,
            model,
            scenario,
        });
    }

    pub(crate) fn set_default(&mut self, scenario: Scenario) {
        self.default = Arc::new(scenario);
    }

    /// Drops all queued and sticky scenarios and restores the echo default.
    pub(crate) fn clear(&mut self) {
        *self = ScenarioTable::default();
    }

    pub(crate) fn queued_len(&self) -> usize {
        self.queued.len()
    }

    /// Picks the scenario for a request, in this order: the oldest queued
    /// scenario for this model, the oldest queued scenario for any model,
    /// the sticky scenario for this model, the sticky scenario for any
    /// model, then the default. Non-chat routes get `None` when no
    /// scenario names their route, and then send their normal reply.
    pub(crate) fn select(&mut self, route: Route, model: &str) -> Option<Arc<Scenario>> {
        if !self.queued.is_empty() {
            let position = self
                .queued
                .iter()
                .position(|rule| rule.model.is_some() && rule.matches(route, model))
                .or_else(|| {
                    self.queued
                        .iter()
                        .position(|rule| rule.model.is_none() && rule.matches(route, model))
                });
            if let Some(rule) = position.and_then(|position| self.queued.remove(position)) {
                return Some(rule.scenario);
            }
        }
        let sticky = self
            .sticky
            .iter()
            .find(|rule| rule.model.is_some() && rule.matches(route, model))
            .or_else(|| {
                self.sticky
                    .iter()
                    .find(|rule| rule.model.is_none() && rule.matches(route, model))
            });
        if let Some(rule) = sticky {
            return Some(Arc::clone(&rule.scenario));
        }
        route.is_chat().then(|| Arc::clone(&self.default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Reply;

    fn text_of(scenario: Option<Arc<Scenario>>) -> String {
        match scenario.map(|s| s.reply.clone()) {
            Some(Reply::Text(pieces)) => pieces.concat(),
            Some(Reply::Echo) => "<echo>".to_owned(),
            None => "<none>".to_owned(),
            Some(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn queue_is_fifo_then_default() {
        let mut table = ScenarioTable::default();
        table.push(None, None, Scenario::text("one"));
        table.push(None, None, Scenario::text("two"));
        assert_eq!(text_of(table.select(Route::ChatCompletions, "m")), "one");
        assert_eq!(text_of(table.select(Route::Messages, "m")), "two");
        assert_eq!(text_of(table.select(Route::ChatCompletions, "m")), "<echo>");
    }

    #[test]
    fn model_rule_wins_over_older_general_rule() {
        let mut table = ScenarioTable::default();
        table.push(None, None, Scenario::text("general"));
        table.push(None, Some("a".into()), Scenario::text("for-a"));
        assert_eq!(
            text_of(table.select(Route::ChatCompletions, "b")),
            "general"
        );
        assert_eq!(text_of(table.select(Route::ChatCompletions, "b")), "<echo>");
        assert_eq!(text_of(table.select(Route::ChatCompletions, "a")), "for-a");
    }

    #[test]
    fn sticky_rules_by_model_then_route() {
        let mut table = ScenarioTable::default();
        table.always(None, Some("a".into()), Scenario::text("sticky-a"));
        table.always(
            Some(Route::Messages),
            None,
            Scenario::text("sticky-messages"),
        );
        for _ in 0..3 {
            assert_eq!(
                text_of(table.select(Route::ChatCompletions, "a")),
                "sticky-a"
            );
            assert_eq!(
                text_of(table.select(Route::Messages, "b")),
                "sticky-messages"
            );
            assert_eq!(text_of(table.select(Route::ChatCompletions, "b")), "<echo>");
        }
    }

    #[test]
    fn unnamed_route_skips_embeddings() {
        let mut table = ScenarioTable::default();
        table.push(None, None, Scenario::text("chat"));
        assert_eq!(text_of(table.select(Route::Embeddings, "e")), "<none>");
        table.push(Some(Route::Embeddings), None, Scenario::text("emb"));
        assert_eq!(text_of(table.select(Route::Embeddings, "e")), "emb");
        assert_eq!(table.queued_len(), 1);
    }
}
