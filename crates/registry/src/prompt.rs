//! Prompt content: templates, model parameters, variables and metadata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::content_hash;
use crate::error::{RegistryError, Result};
pub use crate::render::VariableType;

/// Everything that defines one prompt version; equal content has an equal hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptContent {
    /// The text template or the chat messages.
    pub template: Template,
    /// Model parameters such as `model`, `temperature` or `max_tokens`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_parameters: BTreeMap<String, Value>,
    /// The variables the template uses, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, VariableSpec>,
    /// Free metadata such as owner or ticket; part of the content hash.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, Value>,
}

/// A prompt template: one text, or chat messages with roles.
///
/// In YAML a text template is a string and a chat template is a list of
/// `{role, content}` maps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Template {
    /// A single text template.
    Text(String),
    /// Chat messages, each a template.
    Chat(Vec<ChatMessage>),
}

/// One chat message template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    /// Who speaks.
    pub role: Role,
    /// The message template.
    pub content: String,
}

/// The role of a chat message, as in the OpenAI Chat Completions format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The user's turn.
    User,
    /// The model's turn, for few-shot examples.
    Assistant,
}

/// The declared type and default of one template variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    /// The JSON type the value must have.
    #[serde(rename = "type", default)]
    pub kind: VariableType,
    /// Whether rendering fails without a value; defaults to true.
    #[serde(default = "default_true")]
    pub required: bool,
    /// The value used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// A description of the variable, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn default_true() -> bool {
    true
}

impl PromptContent {
    /// Creates content with a text template and nothing else.
    pub fn text(template: impl Into<String>) -> Self {
        PromptContent {
            template: Template::Text(template.into()),
            model_parameters: BTreeMap::new(),
            variables: BTreeMap::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// Creates content with chat message templates and nothing else.
    pub fn chat(messages: Vec<ChatMessage>) -> Self {
        PromptContent {
            template: Template::Chat(messages),
            ..PromptContent::text("")
        }
    }

    /// Returns the `sha256:` hash of the canonical JSON of this content.
    pub fn content_hash(&self) -> String {
        content_hash(&self.to_json())
    }

    /// Parses content from YAML or JSON (JSON is read as YAML).
    ///
    /// # Errors
    ///
    /// [`RegistryError::Format`] with the parser's line and column.
    pub fn from_yaml(text: &str) -> Result<Self> {
        serde_yaml::from_str(text).map_err(|error| RegistryError::Format {
            format: "YAML",
            reason: error.to_string(),
        })
    }

    /// Returns the content as a JSON value.
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Checks the content; `name` only labels the error.
    ///
    /// # Errors
    ///
    /// [`RegistryError::InvalidPrompt`] naming the first problem found.
    pub fn validate(&self, name: &str) -> Result<()> {
        let invalid = |reason: String| RegistryError::InvalidPrompt {
            name: name.to_owned(),
            reason,
        };
        match &self.template {
            Template::Text(text) if text.trim().is_empty() => {
                return Err(invalid("the text template is empty".into()));
            }
            Template::Chat(messages) if messages.is_empty() => {
                return Err(invalid("the chat template has no messages".into()));
            }
            Template::Chat(messages) => {
                if let Some(index) = messages.iter().position(|m| m.content.trim().is_empty()) {
                    return Err(invalid(format!("chat message {index} has empty content")));
                }
            }
            Template::Text(_) => {}
        }
        for (variable, spec) in &self.variables {
            if !is_identifier(variable) {
                return Err(invalid(format!(
                    "variable name `{variable}` is not an identifier (letters, digits, _; not starting with a digit)"
                )));
            }
            if let Some(default) = &spec.default {
                if !spec.kind.accepts(default) {
                    return Err(invalid(format!(
                        "the default of variable `{variable}` is not of type {:?}",
                        spec.kind
                    )));
                }
            }
        }
        validate_parameters(&self.model_parameters).map_err(invalid)
    }
}

fn validate_parameters(parameters: &BTreeMap<String, Value>) -> Result<(), String> {
    let number = |key: &str| parameters.get(key).map(|value| (value, value.as_f64()));
    if let Some((value, as_number)) = number("temperature") {
        if !as_number.is_some_and(|t| (0.0..=2.0).contains(&t)) {
            return Err(format!(
                "temperature must be a number from 0 to 2, got {value}"
            ));
        }
    }
    if let Some((value, as_number)) = number("top_p") {
        if !as_number.is_some_and(|p| (0.0..=1.0).contains(&p)) {
            return Err(format!("top_p must be a number from 0 to 1, got {value}"));
        }
    }
    if let Some(value) = parameters.get("max_tokens") {
        if value.as_u64().is_none_or(|n| n == 0) {
            return Err(format!(
                "max_tokens must be a positive integer, got {value}"
            ));
        }
    }
    Ok(())
}

pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_chat_template_parses() {
        let content = PromptContent::from_yaml(
            "template:\n  - role: system\n    content: Be brief.\n  - role: user\n    content: '{{ question }}'\nmodel_parameters:\n  temperature: 0.2\nvariables:\n  question: {type: string}\n",
        )
        .unwrap();
        assert!(matches!(&content.template, Template::Chat(m) if m.len() == 2));
        assert!(content.variables["question"].required);
        assert!(content.validate("qa").is_ok());
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = PromptContent::from_yaml("template: hi\ntemprature: 1\n").unwrap_err();
        assert!(error.to_string().contains("temprature"), "{error}");
    }

    #[test]
    fn validation_names_the_problem() {
        let cases: Vec<(PromptContent, &str)> = vec![
            (PromptContent::text("  "), "text template is empty"),
            (PromptContent::chat(vec![]), "no messages"),
            (
                {
                    let mut c = PromptContent::text("x");
                    c.model_parameters
                        .insert("temperature".into(), Value::from(3));
                    c
                },
                "temperature",
            ),
            (
                {
                    let mut c = PromptContent::text("x");
                    c.model_parameters
                        .insert("max_tokens".into(), Value::from(0));
                    c
                },
                "max_tokens",
            ),
            (
                {
                    let mut c = PromptContent::text("x");
                    c.variables.insert(
                        "1x".into(),
                        VariableSpec {
                            kind: VariableType::String,
                            required: true,
                            default: None,
                            description: None,
                        },
                    );
                    c
                },
                "not an identifier",
            ),
            (
                {
                    let mut c = PromptContent::text("x");
                    c.variables.insert(
                        "n".into(),
                        VariableSpec {
                            kind: VariableType::Integer,
                            required: false,
                            default: Some(Value::from("five")),
                            description: None,
                        },
                    );
                    c
                },
                "default of variable `n`",
            ),
        ];
        for (content, expected) in cases {
            let message = content.validate("p").unwrap_err().to_string();
            assert!(message.contains(expected), "{message} lacks {expected}");
        }
    }

    #[test]
    fn hash_ignores_map_order_but_not_text() {
        let a = PromptContent::from_yaml("template: hi\nmetadata: {a: 1, b: 2}\n").unwrap();
        let b = PromptContent::from_yaml("metadata: {b: 2, a: 1}\ntemplate: hi\n").unwrap();
        let c = PromptContent::from_yaml("template: 'hi '\nmetadata: {a: 1, b: 2}\n").unwrap();
        assert_eq!(a.content_hash(), b.content_hash());
        assert_ne!(a.content_hash(), c.content_hash());
    }
}
