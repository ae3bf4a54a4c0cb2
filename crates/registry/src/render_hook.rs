//! The call from the registry into template rendering.
//!
//! NOTE: this is a minimal strict substitution of `{{ name }}` placeholders,
//! kept behind one function so the MiniJinja renderer (strict mode) in the
//! `render` module replaces it without changing callers. It supports no
//! filters, conditions or loops.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::{RegistryError, Result};
use crate::prompt::{ChatMessage, Template};
use crate::version::PromptVersion;

/// A template with its variables filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum RenderedPrompt {
    /// A rendered text template.
    Text(String),
    /// Rendered chat messages.
    Chat(Vec<ChatMessage>),
}

/// Renders `version` with `variables`, after filling in declared defaults.
///
/// # Errors
///
/// [`RegistryError::Render`] for an undefined variable, a value of the wrong
/// declared type, or an unclosed `{{`.
pub fn render(
    version: &PromptVersion,
    variables: &BTreeMap<String, Value>,
) -> Result<RenderedPrompt> {
    let mut values = variables.clone();
    for (name, spec) in &version.content.variables {
        match (values.get(name), &spec.default) {
            (Some(value), _) if !spec.kind.accepts(value) => {
                return Err(render_error(
                    version,
                    format!("variable `{name}` must be of type {:?}", spec.kind),
                ));
            }
            (None, Some(default)) => {
                values.insert(name.clone(), default.clone());
            }
            _ => {}
        }
    }
    match &version.content.template {
        Template::Text(text) => Ok(RenderedPrompt::Text(substitute(version, text, &values)?)),
        Template::Chat(messages) => messages
            .iter()
            .map(|message| {
                Ok(ChatMessage {
                    role: message.role,
                    content: substitute(version, &message.content, &values)?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(RenderedPrompt::Chat),
    }
}

fn substitute(
    version: &PromptVersion,
    template: &str,
    values: &BTreeMap<String, Value>,
) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(render_error(
                version,
                "a `{{` has no closing `}}`".to_owned(),
            ));
        };
        let name = after[..end].trim();
        match values.get(name) {
            Some(Value::String(text)) => out.push_str(text),
            Some(other) => out.push_str(&other.to_string()),
            None => {
                return Err(render_error(
                    version,
                    format!("variable `{name}` is undefined"),
                ));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn render_error(version: &PromptVersion, reason: String) -> RegistryError {
    RegistryError::Render {
        name: version.name.clone(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::PromptContent;

    fn version(content: PromptContent) -> PromptVersion {
        PromptVersion {
            name: "p".into(),
            version: 1,
            content_hash: content.content_hash(),
            created_by: "t".into(),
            created_at_ms: 0,
            content,
        }
    }

    #[test]
    fn fills_variables_and_rejects_missing() {
        let prompt = version(PromptContent::text("Hi {{ name }}, {{n}} left"));
        let mut values = BTreeMap::new();
        values.insert("name".to_owned(), Value::from("Zoë"));
        let missing = render(&prompt, &values).unwrap_err();
        assert!(
            missing.to_string().contains("`n` is undefined"),
            "{missing}"
        );
        values.insert("n".to_owned(), Value::from(3));
        assert_eq!(
            render(&prompt, &values).unwrap(),
            RenderedPrompt::Text("Hi Zoë, 3 left".into())
        );
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        let prompt = version(PromptContent::text("Hi {{ name"));
        assert!(render(&prompt, &BTreeMap::new()).is_err());
    }
}
