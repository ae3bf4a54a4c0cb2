//! Choosing the model of a request: task tag, model name, nearest task by
//! embedding, rule classifier, default.

use std::collections::HashMap;

use llmops_core::Error;
use llmops_core::types::ChatRequest;

use crate::hooks::CallContext;
use crate::record::RouteDecision;
use crate::task_embedding::NearestTask;

/// Task routes and model names, resolved once from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct Router {
    routes: HashMap<String, String>,
    models: Vec<String>,
    default_model: Option<String>,
}

/// The task classes the built-in classifier can name, in the order it
/// checks them. Each applies only when a route for it is configured.
pub const CLASSIFIER_TASKS: [&str; 5] = ["tools", "json", "code", "long_context", "korean"];

/// Requests with more characters than this count as `long_context`
/// (about 8,000 tokens of English at 4 characters a token).
const LONG_CONTEXT_CHARS: usize = 32_000;

impl Router {
    pub(crate) fn new(
        routes: HashMap<String, String>,
        models: Vec<String>,
        default_model: Option<String>,
    ) -> Self {
        Router {
            routes,
            models,
            default_model,
        }
    }

    /// Returns whether the request names neither a routed task nor a
    /// configured model, so that a classifier picks its route.
    pub(crate) fn needs_classifier(&self, request: &ChatRequest, context: &CallContext) -> bool {
        let routed_tag =
            tagged_task(request, context).is_some_and(|task| self.routes.contains_key(&task));
        !routed_tag && !self.models.contains(&request.model)
    }

    /// Picks the model: a task tag with a route first (the context's, then
    /// `metadata.task`), then the model name if it is configured, then the
    /// `nearest` task by embedding if it has a route, then the rule
    /// classifier's task if it has a route, then the default model.
    pub(crate) fn resolve(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        nearest: Option<NearestTask>,
    ) -> Result<RouteDecision, Error> {
        let requested_model = request.model.clone();
        if let Some(task) = tagged_task(request, context) {
            if let Some(model) = self.routes.get(&task) {
                return Ok(RouteDecision {
                    requested_model,
                    model: model.clone(),
                    reason: format!("task tag {task:?}"),
                    task: Some(task),
                });
            }
            tracing::debug!(task = %task, "no route for the task tag; routing by model name");
        }
        if self.models.contains(&request.model) {
            return Ok(RouteDecision {
                model: requested_model.clone(),
                requested_model,
                task: None,
                reason: "model name".to_owned(),
            });
        }
        if let Some(nearest) = nearest {
            if let Some(model) = self.routes.get(&nearest.task) {
                return Ok(RouteDecision {
                    requested_model,
                    model: model.clone(),
                    reason: format!(
                        "nearest task {:?} by embedding, similarity {:.2}",
                        nearest.task, nearest.similarity
                    ),
                    task: Some(nearest.task),
                });
            }
        }
        if let Some(task) = classify(request)
            .into_iter()
            .find(|task| self.routes.contains_key(*task))
        {
            return Ok(RouteDecision {
                requested_model,
                model: self.routes[task].clone(),
                task: Some(task.to_owned()),
                reason: format!("classifier: {task}"),
            });
        }
        if let Some(model) = &self.default_model {
            return Ok(RouteDecision {
                requested_model,
                model: model.clone(),
                task: None,
                reason: "default model".to_owned(),
            });
        }
        Err(Error::UnknownModel {
            model: request.model.clone(),
            hint: format!(
                "the gateway serves {:?}; send one of them, tag the request with a routed task, or set defaults.model",
                self.models
            ),
        })
    }
}

/// Returns the task the caller named: the context's, else
/// `metadata.task`.
fn tagged_task(request: &ChatRequest, context: &CallContext) -> Option<String> {
    context.task.clone().or_else(|| {
        request
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.get("task"))
            .and_then(|task| task.as_str())
            .map(str::to_owned)
    })
}

/// Names the task classes a request falls in, in [`CLASSIFIER_TASKS`]
/// order, from its shape alone: tools offered, JSON output asked, code in
/// the messages, length, and Korean text.
pub fn classify(request: &ChatRequest) -> Vec<&'static str> {
    let mut text = String::new();
    for message in &request.messages {
        text.push_str(&message.text());
        text.push('\n');
    }
    let mut tasks = Vec::new();
    if request
        .tools
        .as_ref()
        .is_some_and(|tools| !tools.is_empty())
    {
        tasks.push("tools");
    }
    if request
        .response_format
        .as_ref()
        .is_some_and(|format| format.is_json())
    {
        tasks.push("json");
    }
    if looks_like_code(&text) {
        tasks.push("code");
    }
    if text.len() > LONG_CONTEXT_CHARS {
        tasks.push("long_context");
    }
    if mostly_hangul(&text) {
        tasks.push("korean");
    }
    tasks
}

fn looks_like_code(text: &str) -> bool {
    if text.contains("```") {
        return true;
    }
    const MARKERS: [&str; 8] = [
        "fn ",
        "def ",
        "function ",
        "class ",
        "#include",
        "import ",
        "=> {",
        "};",
    ];
    let hits = MARKERS
        .iter()
        .filter(|marker| text.contains(*marker))
        .count();
    hits >= 2
}

/// Whether Hangul syllables make up at least 30% of the letters.
fn mostly_hangul(text: &str) -> bool {
    let mut letters = 0usize;
    let mut hangul = 0usize;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if ('\u{ac00}'..='\u{d7a3}').contains(&c) {
            hangul += 1;
        }
    }
    letters > 0 && hangul * 10 >= letters * 3
}

#[cfg(test)]
mod tests {
    use llmops_core::types::{ChatMessage, ResponseFormat, Tool};
    use serde_json::json;

    use super::*;

    fn router() -> Router {
        let routes = [("summarize", "fast"), ("code", "coder"), ("korean", "ko")]
            .into_iter()
            .map(|(task, model)| (task.to_owned(), model.to_owned()))
            .collect();
        Router::new(
            routes,
            vec!["fast".into(), "coder".into(), "ko".into(), "chat".into()],
            Some("chat".into()),
        )
    }

    fn ask(model: &str, text: &str) -> ChatRequest {
        ChatRequest::new(model, vec![ChatMessage::user(text)])
    }

    #[test]
    fn context_task_beats_metadata_and_model_name() {
        let mut request = ask("chat", "hello");
        request.metadata = Some(json!({"task": "code"}).as_object().unwrap().clone());
        let from_metadata = router()
            .resolve(&request, &CallContext::new(), None)
            .unwrap();
        assert_eq!(from_metadata.model, "coder");
        assert_eq!(from_metadata.reason, "task tag \"code\"");
        let context = CallContext::new().with_task("summarize");
        let decision = router().resolve(&request, &context, None).unwrap();
        assert_eq!(decision.model, "fast");
        assert_eq!(decision.task.as_deref(), Some("summarize"));
    }

    #[test]
    fn unrouted_task_falls_back_to_model_name() {
        let context = CallContext::new().with_task("translate");
        let decision = router().resolve(&ask("fast", "x"), &context, None).unwrap();
        assert_eq!(decision.model, "fast");
        assert_eq!(decision.reason, "model name");
    }

    #[test]
    fn classifier_routes_unknown_model_names() {
        let decision = router()
            .resolve(
                &ask("auto", "```rust\nfn main() {}\n```"),
                &CallContext::new(),
                None,
            )
            .unwrap();
        assert_eq!(
            (decision.model.as_str(), decision.reason.as_str()),
            ("coder", "classifier: code")
        );
        let decision = router()
            .resolve(
                &ask("auto", "이 문서를 요약해 주세요"),
                &CallContext::new(),
                None,
            )
            .unwrap();
        assert_eq!(decision.model, "ko");
        let decision = router()
            .resolve(&ask("auto", "hi"), &CallContext::new(), None)
            .unwrap();
        assert_eq!(
            (decision.model.as_str(), decision.reason.as_str()),
            ("chat", "default model")
        );
    }

    #[test]
    fn unknown_model_without_default_names_the_choices() {
        let router = Router::new(HashMap::new(), vec!["chat".into()], None);
        let error = router
            .resolve(&ask("gpt-9", "x"), &CallContext::new(), None)
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("gpt-9") && text.contains("chat"), "{text}");
    }

    #[test]
    fn classifier_reads_request_shape() {
        let mut request = ask("auto", "plain words");
        assert!(classify(&request).is_empty());
        request.tools = Some(vec![
            serde_json::from_value::<Tool>(json!({
                "type": "function",
                "function": {"name": "f", "parameters": {"type": "object"}}
            }))
            .unwrap(),
        ]);
        request.response_format =
            Some(serde_json::from_value::<ResponseFormat>(json!({"type": "json_object"})).unwrap());
        assert_eq!(classify(&request), vec!["tools", "json"]);
        assert_eq!(
            classify(&ask("auto", &"a".repeat(40_000))),
            vec!["long_context"]
        );
        assert!(classify(&ask("auto", "")).is_empty());
        assert_eq!(
            classify(&ask("auto", "Hello 안녕하세요 반갑습니다")),
            vec!["korean"]
        );
    }

    #[test]
    fn nearest_task_between_name_and_rules() {
        let nearest = || {
            Some(NearestTask {
                task: "summarize".to_owned(),
                similarity: 0.834,
            })
        };
        let code = ask("auto", "```rust\nfn main() {}\n```");
        let decision = router()
            .resolve(&code, &CallContext::new(), nearest())
            .unwrap();
        assert_eq!(decision.model, "fast");
        assert_eq!(decision.task.as_deref(), Some("summarize"));
        assert_eq!(
            decision.reason,
            "nearest task \"summarize\" by embedding, similarity 0.83"
        );
        let named = router()
            .resolve(&ask("chat", "x"), &CallContext::new(), nearest())
            .unwrap();
        assert_eq!(named.reason, "model name");
        let unrouted = router()
            .resolve(
                &code,
                &CallContext::new(),
                Some(NearestTask {
                    task: "translate".to_owned(),
                    similarity: 0.9,
                }),
            )
            .unwrap();
        assert_eq!(unrouted.reason, "classifier: code");
    }

    #[test]
    fn classifier_needed_only_without_tag_or_model() {
        let router = router();
        assert!(router.needs_classifier(&ask("auto", "x"), &CallContext::new()));
        assert!(!router.needs_classifier(&ask("chat", "x"), &CallContext::new()));
        let tagged = CallContext::new().with_task("code");
        assert!(!router.needs_classifier(&ask("auto", "x"), &tagged));
        let unrouted_tag = CallContext::new().with_task("translate");
        assert!(router.needs_classifier(&ask("auto", "x"), &unrouted_tag));
    }
}
