//! Checking a chat request against what the local model can do, and turning
//! it into generation parameters.

use std::hash::{BuildHasher, RandomState};

use candle_transformers::generation::Sampling;
use llmops_core::types::{ChatRequest, ToolChoice};

use crate::engine::GenerationParams;
use crate::error::LocalError;
use crate::tokenizer::LocalTokenizer;

/// The model name the local backend serves.
pub const MODEL_NAME: &str = "smollm2-135m-instruct";

/// The short alias accepted in place of [`MODEL_NAME`].
pub const MODEL_ALIAS: &str = "local";

/// The maximum number of stop sequences, as in the OpenAI API.
const MAX_STOP_SEQUENCES: usize = 4;

/// Temperatures below this sample greedily.
const GREEDY_TEMPERATURE: f64 = 1e-5;

/// Checks `request` and renders its prompt; the error names the field the
/// local model cannot honour.
pub(crate) fn plan_generation(
    request: &ChatRequest,
    tokenizer: &LocalTokenizer,
    context_length: usize,
    default_seed: Option<u64>,
) -> Result<GenerationParams, LocalError> {
    check_model(&request.model)?;
    check_unsupported(request)?;
    let sampling = sampling(request)?;
    let (presence_penalty, frequency_penalty) = penalties(request)?;
    let stop = stop_sequences(request)?;

    let prompt = tokenizer.chat_prompt(&request.messages)?;
    let max_tokens = completion_budget(request, prompt.len(), context_length)?;
    let seed = request
        .seed
        .map(|seed| seed as u64)
        .or(default_seed)
        .unwrap_or_else(random_seed);
    Ok(GenerationParams {
        prompt,
        max_tokens,
        sampling,
        seed,
        stop,
        presence_penalty,
        frequency_penalty,
    })
}

/// Returns whether `model` names the local model.
pub(crate) fn is_local_model(model: &str) -> bool {
    model.eq_ignore_ascii_case(MODEL_NAME) || model.eq_ignore_ascii_case(MODEL_ALIAS)
}

fn check_model(model: &str) -> Result<(), LocalError> {
    if is_local_model(model) {
        return Ok(());
    }
    Err(LocalError::invalid_request(
        "model",
        format!("the local backend serves {MODEL_NAME} (alias {MODEL_ALIAS}), not {model:?}"),
    ))
}

/// Rejects options the model cannot honour instead of silently ignoring them.
fn check_unsupported(request: &ChatRequest) -> Result<(), LocalError> {
    if let Some(n) = request.n {
        if n != 1 {
            return Err(LocalError::invalid_request(
                "n",
                format!(
                    "the local model generates one choice per request, but n is {n}; set n to 1"
                ),
            ));
        }
    }
    if request
        .tools
        .as_ref()
        .is_some_and(|tools| !tools.is_empty())
    {
        return Err(LocalError::invalid_request(
            "tools",
            "the local model does not call tools; remove `tools` or use a provider with tool calling",
        ));
    }
    match &request.tool_choice {
        None => {}
        Some(ToolChoice::Mode(mode)) if mode == "none" || mode == "auto" => {}
        Some(_) => {
            return Err(LocalError::invalid_request(
                "tool_choice",
                "the local model does not call tools; leave `tool_choice` out or set it to \"none\"",
            ));
        }
    }
    if request
        .response_format
        .as_ref()
        .is_some_and(|format| format.is_json())
    {
        return Err(LocalError::invalid_request(
            "response_format",
            "the local model cannot constrain its output to JSON; use the text format",
        ));
    }
    if request
        .extra
        .get("logprobs")
        .and_then(|value| value.as_bool())
        == Some(true)
    {
        return Err(LocalError::invalid_request(
            "logprobs",
            "the local backend does not return log probabilities; leave `logprobs` out",
        ));
    }
    Ok(())
}

fn sampling(request: &ChatRequest) -> Result<Sampling, LocalError> {
    let temperature = request.temperature.unwrap_or(1.0);
    if !(0.0..=2.0).contains(&temperature) {
        return Err(LocalError::invalid_request(
            "temperature",
            format!("temperature must be between 0 and 2, got {temperature}"),
        ));
    }
    let top_p = request.top_p.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&top_p) {
        return Err(LocalError::invalid_request(
            "top_p",
            format!("top_p must be between 0 and 1, got {top_p}"),
        ));
    }
    // A nucleus of (almost) no mass keeps only the most likely token.
    if temperature < GREEDY_TEMPERATURE || top_p < GREEDY_TEMPERATURE {
        return Ok(Sampling::ArgMax);
    }
    if top_p >= 1.0 {
        return Ok(Sampling::All { temperature });
    }
    Ok(Sampling::TopP {
        p: top_p,
        temperature,
    })
}

fn penalties(request: &ChatRequest) -> Result<(f32, f32), LocalError> {
    let check = |field: &str, value: Option<f64>| -> Result<f32, LocalError> {
        let value = value.unwrap_or(0.0);
        if !(-2.0..=2.0).contains(&value) {
            return Err(LocalError::invalid_request(
                field,
                format!("{field} must be between -2 and 2, got {value}"),
            ));
        }
        Ok(value as f32)
    };
    Ok((
        check("presence_penalty", request.presence_penalty)?,
        check("frequency_penalty", request.frequency_penalty)?,
    ))
}

fn stop_sequences(request: &ChatRequest) -> Result<Vec<String>, LocalError> {
    let stop = request.stop_sequences();
    if stop.len() > MAX_STOP_SEQUENCES {
        return Err(LocalError::invalid_request(
            "stop",
            format!(
                "at most {MAX_STOP_SEQUENCES} stop sequences are allowed, got {}",
                stop.len()
            ),
        ));
    }
    Ok(stop)
}

/// The maximum number of tokens generated for a request that sets no `max_tokens`. The
/// 135M model often runs on without ending its turn, so an unbounded
/// request would fill the context window (8,192 tokens) before it returns.
pub(crate) const DEFAULT_MAX_TOKENS: usize = 1024;

/// Returns the number of tokens to generate at most, after checking that
/// the prompt and that many tokens fit the context window. A request that
/// sets no limit gets [`DEFAULT_MAX_TOKENS`] or what the window has left,
/// whichever is less.
fn completion_budget(
    request: &ChatRequest,
    prompt_tokens: usize,
    context_length: usize,
) -> Result<usize, LocalError> {
    let field = if request.max_completion_tokens.is_some() {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    let requested = request.output_token_limit().map(|limit| limit as usize);
    if requested == Some(0) {
        return Err(LocalError::invalid_request(
            field,
            format!("{field} must be at least 1"),
        ));
    }
    let needed = requested.unwrap_or(1);
    if prompt_tokens + needed > context_length {
        return Err(LocalError::ContextLengthExceeded {
            prompt_tokens,
            completion_tokens: needed,
            context_length,
        });
    }
    Ok(requested.unwrap_or((context_length - prompt_tokens).min(DEFAULT_MAX_TOKENS)))
}

/// Returns a seed from the process's random hasher keys.
fn random_seed() -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use llmops_core::types::{ChatMessage, ResponseFormat, StopSequences, Tool};

    use super::*;

    fn request() -> ChatRequest {
        ChatRequest::new("local", vec![ChatMessage::user("hi")])
    }

    fn rejected_field(request: &ChatRequest) -> String {
        let error = check_model(&request.model)
            .and_then(|()| check_unsupported(request))
            .and_then(|()| sampling(request).map(|_| ()))
            .and_then(|()| penalties(request).map(|_| ()))
            .and_then(|()| stop_sequences(request).map(|_| ()))
            .unwrap_err();
        match error {
            LocalError::InvalidRequest { param, .. } => param,
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn model_names_accepted() {
        assert!(is_local_model("smollm2-135m-instruct"));
        assert!(is_local_model("SmolLM2-135M-Instruct"));
        assert!(is_local_model("local"));
        assert!(!is_local_model("gpt-4o"));
    }

    #[test]
    fn unsupported_options_name_field() {
        let mut other_model = request();
        other_model.model = "gpt-4o".to_owned();
        assert_eq!(rejected_field(&other_model), "model");

        let mut two_choices = request();
        two_choices.n = Some(2);
        assert_eq!(rejected_field(&two_choices), "n");

        let mut with_tools = request();
        with_tools.tools = Some(vec![Tool::function("f", "d", serde_json::json!({}))]);
        assert_eq!(rejected_field(&with_tools), "tools");

        let mut required_tool = request();
        required_tool.tool_choice = Some(ToolChoice::Mode("required".to_owned()));
        assert_eq!(rejected_field(&required_tool), "tool_choice");

        let mut json = request();
        json.response_format = Some(ResponseFormat {
            kind: "json_object".to_owned(),
            json_schema: None,
            extra: Default::default(),
        });
        assert_eq!(rejected_field(&json), "response_format");

        let mut logprobs = request();
        logprobs
            .extra
            .insert("logprobs".to_owned(), serde_json::Value::Bool(true));
        assert_eq!(rejected_field(&logprobs), "logprobs");

        let mut hot = request();
        hot.temperature = Some(2.5);
        assert_eq!(rejected_field(&hot), "temperature");

        let mut nan = request();
        nan.top_p = Some(f64::NAN);
        assert_eq!(rejected_field(&nan), "top_p");

        let mut penalty = request();
        penalty.frequency_penalty = Some(-3.0);
        assert_eq!(rejected_field(&penalty), "frequency_penalty");

        let mut stops = request();
        stops.stop = Some(StopSequences::Many(vec![
            "a".into(),
            "b".into(),
            "c".into(),
            "d".into(),
            "e".into(),
        ]));
        assert_eq!(rejected_field(&stops), "stop");
    }

    #[test]
    fn tool_message_tool_calls_message() {
        let tools_error = LocalError::invalid_request("tools", "x").to_string();
        assert!(tools_error.contains("tools"));
        let mut with_tools = request();
        with_tools.tools = Some(vec![Tool::function("f", "d", serde_json::json!({}))]);
        let message = check_unsupported(&with_tools).unwrap_err().to_string();
        assert!(message.contains("does not call tools"), "{message}");
    }

    #[test]
    fn sampling_modes() {
        let mut greedy = request();
        greedy.temperature = Some(0.0);
        assert!(matches!(sampling(&greedy).unwrap(), Sampling::ArgMax));

        let mut nucleus = request();
        nucleus.temperature = Some(0.7);
        nucleus.top_p = Some(0.9);
        assert!(matches!(sampling(&nucleus).unwrap(), Sampling::TopP { .. }));

        let mut zero_mass = request();
        zero_mass.top_p = Some(0.0);
        assert!(matches!(sampling(&zero_mass).unwrap(), Sampling::ArgMax));

        assert!(matches!(
            sampling(&request()).unwrap(),
            Sampling::All { .. }
        ));
    }

    #[test]
    fn budget_defaults_to_cap_or_remaining() {
        assert_eq!(
            completion_budget(&request(), 48, 2048).unwrap(),
            DEFAULT_MAX_TOKENS
        );
        assert_eq!(completion_budget(&request(), 1948, 2048).unwrap(), 100);
    }

    #[test]
    fn budget_over_context_names_counts() {
        let mut long = request();
        long.max_tokens = Some(100);
        let error = completion_budget(&long, 2000, 2048).unwrap_err();
        assert!(matches!(
            error,
            LocalError::ContextLengthExceeded {
                prompt_tokens: 2000,
                completion_tokens: 100,
                context_length: 2048
            }
        ));
    }

    #[test]
    fn budget_prompt_fills_context() {
        let error = completion_budget(&request(), 2048, 2048).unwrap_err();
        assert!(matches!(
            error,
            LocalError::ContextLengthExceeded {
                completion_tokens: 1,
                ..
            }
        ));
    }

    #[test]
    fn budget_exact_fit_accepted() {
        let mut exact = request();
        exact.max_completion_tokens = Some(48);
        exact.max_tokens = Some(4000);
        assert_eq!(completion_budget(&exact, 2000, 2048).unwrap(), 48);
    }

    #[test]
    fn budget_zero_rejected() {
        let mut zero = request();
        zero.max_tokens = Some(0);
        assert!(matches!(
            completion_budget(&zero, 10, 2048).unwrap_err(),
            LocalError::InvalidRequest { ref param, .. } if param == "max_tokens"
        ));
    }
}
