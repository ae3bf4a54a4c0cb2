//! Sampling options and the model call shared by rubric and pairwise
//! judges.

use llmops_core::ModelBackend;
use llmops_core::types::{ChatMessage, ChatRequest, ResponseFormat};
use serde_json::Value;

use crate::error::{EvalError, Result};
use crate::judge::aggregate::Aggregation;

/// The maximum number of samples a judge takes per case.
pub const MAX_SAMPLES: u32 = 32;

/// Sampling settings of a judge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JudgeOptions {
    /// Samples per case; 1 by default.
    pub(crate) samples: u32,
    /// Sampling temperature; 0 by default.
    pub(crate) temperature: f64,
    /// Aggregation of samples; the mean by default.
    pub(crate) aggregation: Aggregation,
    /// Whether to send the output schema as `response_format`; on by
    /// default.
    pub(crate) structured_output: bool,
    /// Cap on generated tokens; 512 by default.
    pub(crate) max_tokens: u32,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            samples: 1,
            temperature: 0.0,
            aggregation: Aggregation::Mean,
            structured_output: true,
            max_tokens: 512,
        }
    }
}

impl JudgeOptions {
    /// Sets the samples per case and their temperature.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `samples` is 0 or above
    /// [`MAX_SAMPLES`], or `temperature` is outside 0 to 2.
    pub(crate) fn set_samples(&mut self, samples: u32, temperature: f64) -> Result<()> {
        if samples == 0 || samples > MAX_SAMPLES {
            return Err(EvalError::InvalidParameter {
                name: "samples",
                value: samples.to_string(),
                reason: format!("use 1 to {MAX_SAMPLES} samples per case"),
            });
        }
        if !(0.0..=2.0).contains(&temperature) {
            return Err(EvalError::InvalidParameter {
                name: "temperature",
                value: temperature.to_string(),
                reason: "use a temperature from 0 to 2".to_owned(),
            });
        }
        self.samples = samples;
        self.temperature = temperature;
        Ok(())
    }
}

/// Calls the judge model once and returns its reply text, or the failure
/// as a reason.
///
/// `sample` seeds the request when several samples are taken, so
/// backends that honour `seed` give distinct but repeatable samples.
pub(crate) async fn call_judge(
    backend: &dyn ModelBackend,
    model: &str,
    messages: Vec<ChatMessage>,
    options: &JudgeOptions,
    output_schema: Option<Value>,
    sample: u32,
) -> std::result::Result<String, String> {
    let mut request = ChatRequest::new(model, messages);
    request.temperature = Some(options.temperature);
    request.max_tokens = Some(options.max_tokens);
    if options.samples > 1 {
        request.seed = Some(i64::from(sample));
    }
    if let (true, Some(schema)) = (options.structured_output, output_schema) {
        request.response_format = Some(json_schema_format(schema));
    }
    match backend.complete(request).await {
        Ok(completion) => Ok(completion.text()),
        Err(error) => {
            tracing::debug!(model, class = error.class(), "judge call failed");
            Err(format!("the judge call to `{model}` failed: {error}"))
        }
    }
}

fn json_schema_format(schema: Value) -> ResponseFormat {
    ResponseFormat {
        kind: "json_schema".to_owned(),
        json_schema: Some(serde_json::json!({
            "name": "judge_verdict",
            "strict": true,
            "schema": schema,
        })),
        extra: Default::default(),
    }
}
