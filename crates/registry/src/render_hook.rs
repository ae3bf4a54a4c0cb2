//! Rendering a stored prompt version with the MiniJinja renderer of the
//! [`render`](crate::render) module.
//!
//! A version stores its variable declarations by name
//! ([`crate::prompt::VariableSpec`], with a description for people); they
//! become the renderer's schema here. A variable that the template uses but
//! the version does not declare is treated as required and of any type, so
//! prompts saved without declarations still render, strictly.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde::Serialize;
use serde_json::Value;

use crate::error::{RegistryError, Result};
use crate::prompt::{self, ChatMessage, Template};
use crate::render::{self as engine, CompiledPrompt, MessageTemplate, PromptTemplate, RenderError};
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
/// Templates are MiniJinja in strict mode: see the [`render`](crate::render)
/// module for the rules.
///
/// # Errors
///
/// [`RegistryError::Render`] for a syntax error, a missing or undefined
/// variable, or a value of the wrong declared type.
pub fn render(
    version: &PromptVersion,
    variables: &BTreeMap<String, Value>,
) -> Result<RenderedPrompt> {
    let compiled = compiled(version).map_err(|error| render_error(&version.name, &error))?;
    let mut outputs = compiled
        .render_parts(variables)
        .map_err(|error| render_error(&version.name, &error))?
        .into_iter();
    match &version.content.template {
        Template::Text(_) => Ok(RenderedPrompt::Text(outputs.next().unwrap_or_default())),
        Template::Chat(stored) => Ok(RenderedPrompt::Chat(
            stored
                .iter()
                .zip(outputs)
                .map(|(message, content)| ChatMessage {
                    role: message.role,
                    content,
                })
                .collect(),
        )),
    }
}

/// The most compiled prompts [`COMPILED`] keeps before it starts over.
const COMPILED_CAPACITY: usize = 1_024;

/// Compiled prompts by content hash, each beside the content it came from,
/// so a stored version's templates are parsed once per process.
static COMPILED: LazyLock<Mutex<CompiledCache>> = LazyLock::new(Mutex::default);

type CompiledCache = HashMap<String, (prompt::PromptContent, Arc<CompiledPrompt>)>;

/// Returns `version` compiled, from [`COMPILED`] when the same content was
/// compiled before.
///
/// A hit must also have equal content, because a caller can build a
/// [`PromptVersion`] with any `content_hash`.
fn compiled(version: &PromptVersion) -> std::result::Result<Arc<CompiledPrompt>, RenderError> {
    {
        let cache = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((content, compiled)) = cache.get(&version.content_hash)
            && *content == version.content
        {
            return Ok(Arc::clone(compiled));
        }
    }
    let compiled = Arc::new(compile(&version.content)?);
    let mut cache = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= COMPILED_CAPACITY {
        cache.clear();
    }
    cache.insert(
        version.content_hash.clone(),
        (version.content.clone(), Arc::clone(&compiled)),
    );
    Ok(compiled)
}

/// Checks that `content`'s template compiles, so that a version that can
/// never render is not published.
///
/// # Errors
///
/// [`RegistryError::InvalidPrompt`] naming the syntax error or the variable
/// declaration at fault.
pub(crate) fn check_compiles(name: &str, content: &prompt::PromptContent) -> Result<()> {
    compile(content)
        .map(|_| ())
        .map_err(|error| RegistryError::InvalidPrompt {
            name: name.to_owned(),
            reason: format!("the template does not compile: {error}"),
        })
}

/// Compiles a template against its declarations, declaring each used but
/// undeclared variable as required and of any type.
fn compile(content: &prompt::PromptContent) -> std::result::Result<CompiledPrompt, RenderError> {
    let template = match &content.template {
        Template::Text(text) => PromptTemplate::Text(text.clone()),
        Template::Chat(messages) => PromptTemplate::Chat(
            messages
                .iter()
                .map(|message| MessageTemplate::new(core_role(message.role), &message.content))
                .collect(),
        ),
    };
    let mut schema: Vec<engine::VariableSpec> = content
        .variables
        .iter()
        .map(|(name, spec)| schema_entry(name, spec))
        .collect();
    // Each round declares one more variable, so the loop ends after at most
    // as many rounds as the template has variables.
    loop {
        match CompiledPrompt::compile(&template, schema.clone()) {
            Ok(compiled) => return Ok(compiled),
            Err(RenderError::UndeclaredVariable { name, .. })
                if !schema.iter().any(|spec| spec.name == name) =>
            {
                schema.push(engine::VariableSpec::required(
                    name,
                    engine::VariableType::Any,
                ));
            }
            Err(error) => return Err(error),
        }
    }
}

fn schema_entry(name: &str, spec: &prompt::VariableSpec) -> engine::VariableSpec {
    let kind = spec.kind;
    let mut entry = match (&spec.default, spec.required) {
        (Some(default), _) => engine::VariableSpec::with_default(name, kind, default.clone()),
        (None, true) => engine::VariableSpec::required(name, kind),
        (None, false) => engine::VariableSpec::optional(name, kind),
    };
    entry.required = spec.required && spec.default.is_none();
    entry
}

fn core_role(role: prompt::Role) -> llmops_core::types::Role {
    match role {
        prompt::Role::System => llmops_core::types::Role::System,
        prompt::Role::User => llmops_core::types::Role::User,
        prompt::Role::Assistant => llmops_core::types::Role::Assistant,
    }
}

fn render_error(name: &str, error: &RenderError) -> RegistryError {
    RegistryError::Render {
        name: name.to_owned(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{PromptContent, VariableSpec, VariableType};

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
    fn compiled_prompt_is_reused_per_content() {
        let first = version(PromptContent::text("Hi {{ who }}, reused"));
        let again = compiled(&first).expect("compiles");
        assert!(Arc::ptr_eq(&again, &compiled(&first).expect("compiles")));

        // A caller-built version with a stale hash must not get the other
        // content's compiled templates.
        let mut other = version(PromptContent::text("Bye {{ who }}, reused"));
        other.content_hash = first.content_hash.clone();
        let variables = BTreeMap::from([("who".to_owned(), Value::from("Ada"))]);
        let rendered = render(&other, &variables).expect("renders");
        assert_eq!(rendered, RenderedPrompt::Text("Bye Ada, reused".into()));
        let rendered = render(&first, &variables).expect("renders");
        assert_eq!(rendered, RenderedPrompt::Text("Hi Ada, reused".into()));
    }

    #[test]
    fn fills_variables_and_rejects_missing() {
        let prompt = version(PromptContent::text("Hi {{ name }}, {{n}} left"));
        let mut values = BTreeMap::new();
        values.insert("name".to_owned(), Value::from("Zoë"));
        let missing = render(&prompt, &values).unwrap_err();
        assert!(
            missing.to_string().contains("variable `n` is missing"),
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

    #[test]
    fn jinja_syntax_and_declared_defaults_apply() {
        let mut content = PromptContent::text(
            "{% for item in items %}{{ item | upper }}{% if not loop.last %}, {% endif %}{% endfor %} in {{ tone }}",
        );
        content.variables.insert(
            "items".to_owned(),
            VariableSpec {
                kind: VariableType::List,
                required: true,
                default: None,
                description: None,
            },
        );
        content.variables.insert(
            "tone".to_owned(),
            VariableSpec {
                kind: VariableType::String,
                required: false,
                default: Some(Value::from("plain words")),
                description: None,
            },
        );
        let prompt = version(content);
        let mut values = BTreeMap::new();
        values.insert("items".to_owned(), serde_json::json!(["a", "ß"]));
        assert_eq!(
            render(&prompt, &values).unwrap(),
            RenderedPrompt::Text("A, SS in plain words".into())
        );
        values.insert("items".to_owned(), Value::from("not a list"));
        let error = render(&prompt, &values).unwrap_err();
        assert!(error.to_string().contains("items"), "{error}");
    }

    #[test]
    fn chat_roles_survive_and_values_stay_verbatim() {
        let prompt = version(PromptContent::chat(vec![
            ChatMessage {
                role: prompt::Role::System,
                content: "Answer briefly.".into(),
            },
            ChatMessage {
                role: prompt::Role::User,
                content: "{{ question }}".into(),
            },
        ]));
        let mut values = BTreeMap::new();
        values.insert("question".to_owned(), Value::from("What is {{ 1 + 1 }}?"));
        let RenderedPrompt::Chat(messages) = render(&prompt, &values).unwrap() else {
            panic!("a chat prompt renders to messages");
        };
        assert_eq!(messages[0].role, prompt::Role::System);
        assert_eq!(messages[1].role, prompt::Role::User);
        assert_eq!(messages[1].content, "What is {{ 1 + 1 }}?");
    }
}
