//! Signals for responses without retrieved contexts.

use serde_json::Value;

/// Reads the token log-probabilities of a choice's `logprobs` field in the
/// OpenAI Chat Completions format (`{"content": [{"token": ..., "logprob":
/// -0.1, ...}, ...]}`). Returns `None` when the field has no `content`
/// list or no finite log-probability.
pub fn token_logprobs(logprobs: &Value) -> Option<Vec<f64>> {
    let content = logprobs.get("content")?.as_array()?;
    let values: Vec<f64> = content
        .iter()
        .filter_map(|token| token.get("logprob")?.as_f64())
        .filter(|logprob| logprob.is_finite())
        .collect();
    (!values.is_empty()).then_some(values)
}

/// Returns the mean of `exp(logprob)` over the tokens, 0 to 1, or `None`
/// for an empty list. Low values mean the model was unsure of many tokens,
/// a weak signal of hallucination.
pub fn mean_token_probability(logprobs: &[f64]) -> Option<f64> {
    if logprobs.is_empty() {
        return None;
    }
    let sum: f64 = logprobs.iter().map(|logprob| logprob.min(0.0).exp()).sum();
    Some((sum / logprobs.len() as f64).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn logprobs_parsed_from_openai_shape() {
        let value = json!({"content": [
            {"token": "Par", "logprob": -0.01, "bytes": [80]},
            {"token": "is", "logprob": -2.3},
            {"token": "?", "logprob": null}
        ]});
        assert_eq!(token_logprobs(&value), Some(vec![-0.01, -2.3]));
        assert_eq!(token_logprobs(&json!({"content": []})), None);
        assert_eq!(token_logprobs(&json!(null)), None);
    }

    #[test]
    fn mean_probability_of_tokens() {
        let mean = mean_token_probability(&[0.0, (0.5f64).ln()]).unwrap();
        assert!((mean - 0.75).abs() < 1e-12);
        assert_eq!(mean_token_probability(&[]), None);
    }
}
