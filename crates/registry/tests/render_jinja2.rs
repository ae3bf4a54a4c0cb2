//! Renders the Jinja2 test vectors with llmops and compares the outputs.
//!
//! `data/jinja2_vectors.json` contains each case's output from Python Jinja2
//! (version recorded in the file). Every case must match, except those in
//! `KNOWN_DIFFERENCES`, where llmops follows MiniJinja and the expected
//! llmops output is pinned here.

use llmops_registry::render::{
    CompiledPrompt, PromptTemplate, RenderError, RenderedPrompt, VariableSpec, VariableType,
};
use serde_json::Value;

/// Cases where MiniJinja differs from Jinja2: (case, llmops output), where
/// `None` means llmops returns an error.
const KNOWN_DIFFERENCES: &[(&str, Option<&str>)] = &[
    // Euclidean division and remainder instead of Python's floor division.
    ("integer_division_negative_divisor", Some("-3")),
    ("integer_division_both_negative", Some("4")),
    ("modulo_negative_divisor", Some("1")),
    ("modulo_both_negative", Some("1")),
    // Halves round away from zero instead of to even.
    ("round_half_even_case", Some("3.0")),
    ("round_negative_half", Some("-3.0")),
    ("round_precision", Some("1.3")),
    // MiniJinja's `round` has no `method` argument.
    ("round_floor_method", None),
    // Sequences print with double-quoted strings.
    ("list_rendering", Some("[1, \"two\"]")),
];

fn load_vectors() -> Value {
    let text = include_str!("data/jinja2_vectors.json");
    serde_json::from_str(text).unwrap()
}

fn render_case(case: &Value) -> Result<String, RenderError> {
    let source = case["template"].as_str().unwrap();
    let context = case["context"].as_object().unwrap();
    let schema = context
        .keys()
        .map(|name| VariableSpec::required(name.clone(), VariableType::Any))
        .collect();
    // Templates that read undeclared names are compiled with those names
    // declared optional, so the strict runtime check is what fails.
    let prompt = match CompiledPrompt::compile(&PromptTemplate::Text(source.to_owned()), schema) {
        Ok(prompt) => prompt,
        Err(RenderError::UndeclaredVariable { name, .. }) => {
            let mut schema: Vec<VariableSpec> = context
                .keys()
                .map(|name| VariableSpec::required(name.clone(), VariableType::Any))
                .collect();
            schema.push(VariableSpec::optional(name, VariableType::Any));
            CompiledPrompt::compile(&PromptTemplate::Text(source.to_owned()), schema)?
        }
        Err(error) => return Err(error),
    };
    match prompt.render(context)? {
        RenderedPrompt::Text(text) => Ok(text),
        other => panic!("a text template rendered to {other:?}"),
    }
}

#[test]
fn vectors_record_jinja2_version() {
    let vectors = load_vectors();
    assert!(vectors["jinja2_version"].as_str().unwrap().starts_with('3'));
    assert!(vectors["cases"].as_array().unwrap().len() >= 40);
}

#[test]
fn outputs_match_jinja2_except_known_differences() {
    let vectors = load_vectors();
    let mut failures = Vec::new();
    for case in vectors["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let rendered = render_case(case);
        let known = KNOWN_DIFFERENCES.iter().find(|(case, _)| *case == name);
        match (case.get("output"), known, rendered) {
            (Some(_), Some((_, Some(ours))), Ok(text)) if text == *ours => {}
            (Some(_), Some((_, None)), Err(_)) => {}
            (Some(expected), None, Ok(text)) if expected.as_str() == Some(text.as_str()) => {}
            (None, None, Err(_)) => {}
            (expected, _, rendered) => {
                failures.push(format!("{name}: Jinja2 {expected:?}, llmops {rendered:?}"))
            }
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn known_differences_really_differ() {
    let vectors = load_vectors();
    for (name, ours) in KNOWN_DIFFERENCES {
        let case = vectors["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|case| case["name"] == *name)
            .unwrap_or_else(|| panic!("no vector named {name}"));
        assert!(case["output"].is_string(), "{name} fails in Jinja2");
        assert_ne!(case["output"].as_str(), *ours, "{name} no longer differs");
    }
}
