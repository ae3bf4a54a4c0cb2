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
    use proptest::prelude::*;

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

    /// One step of a random table workload.
    #[derive(Debug, Clone)]
    enum Operation {
        Push(Option<usize>, usize),
        Always(usize, usize),
        SetDefault(usize),
        Select(usize),
    }

    const MODELS: [&str; 3] = ["a", "b", "c"];

    fn operation() -> impl Strategy<Value = Operation> {
        prop_oneof![
            (proptest::option::of(0..3usize), 0..1000usize)
                .prop_map(|(model, id)| Operation::Push(model, id)),
            (0..3usize, 0..1000usize).prop_map(|(model, id)| Operation::Always(model, id)),
            (0..1000usize).prop_map(Operation::SetDefault),
            (0..3usize).prop_map(Operation::Select),
        ]
    }

    proptest! {
        /// The table agrees with a plain reference model: per-model queues
        /// first, then the shared queue, then sticky rules, then the default.
        #[test]
        fn table_matches_reference_model(operations in proptest::collection::vec(operation(), 0..60)) {
            let mut table = ScenarioTable::default();
            let mut model_queues: [VecDeque<String>; 3] = Default::default();
            let mut shared_queue: VecDeque<String> = VecDeque::new();
            let mut sticky: [Option<String>; 3] = Default::default();
            let mut default = "<echo>".to_owned();

            for operation in operations {
                match operation {
                    Operation::Push(model, id) => {
                        let text = format!("queued-{id}");
                        let name = model.map(|index| MODELS[index].to_owned());
                        table.push(None, name, Scenario::text(&text));
                        match model {
                            Some(index) => model_queues[index].push_back(text),
                            None => shared_queue.push_back(text),
                        }
                    }
                    Operation::Always(model, id) => {
                        let text = format!("sticky-{id}");
                        table.always(None, Some(MODELS[model].to_owned()), Scenario::text(&text));
                        sticky[model] = Some(text);
                    }
                    Operation::SetDefault(id) => {
                        default = format!("default-{id}");
                        table.set_default(Scenario::text(&default));
                    }
                    Operation::Select(model) => {
                        let expected = model_queues[model]
                            .pop_front()
                            .or_else(|| shared_queue.pop_front())
                            .or_else(|| sticky[model].clone())
                            .unwrap_or_else(|| default.clone());
                        let actual = text_of(table.select(Route::ChatCompletions, MODELS[model]));
                        prop_assert_eq!(actual, expected);
                    }
                }
                let queued: usize = model_queues.iter().map(VecDeque::len).sum::<usize>() + shared_queue.len();
                prop_assert_eq!(table.queued_len(), queued);
            }
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
