//! Compiled prompts: validated once, rendered many times.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use llmops_core::types::ChatMessage;
use minijinja::{Environment, Value};
use serde_json::{Map, Value as JsonValue};

use super::environment::prompt_environment;
use super::error::RenderError;
use super::schema::{VariableSpec, json_type_name};
use super::template::PromptTemplate;

/// The output of rendering a prompt.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RenderedPrompt {
    /// The rendered text of a text prompt.
    Text(String),
    /// The rendered messages of a chat prompt.
    Chat(Vec<ChatMessage>),
}

/// Facts found while compiling a prompt that do not stop it from rendering.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ValidationReport {
    /// Declared variables that no template uses, sorted by name.
    pub unused_declarations: Vec<String>,
}

/// One template part with its role when it is a chat message.
#[derive(Debug, Clone)]
struct CompiledPart {
    name: String,
    role: Option<llmops_core::types::Role>,
}

/// A prompt whose templates are parsed and checked against the variable
/// schema, ready to render many times.
///
/// Parsing happens once in [`CompiledPrompt::compile`]; [`render`] only
/// checks the values and evaluates the compiled templates.
///
/// [`render`]: CompiledPrompt::render
#[derive(Debug)]
pub struct CompiledPrompt {
    environment: Environment<'static>,
    parts: Vec<CompiledPart>,
    is_chat: bool,
    schema: Vec<VariableSpec>,
    report: ValidationReport,
}

impl CompiledPrompt {
    /// Parses the templates of `template` and checks them against `schema`.
    ///
    /// # Errors
    ///
    /// [`RenderError::Syntax`] with the line and column of a syntax error,
    /// [`RenderError::UndeclaredVariable`] when a template uses a variable
    /// the schema lacks, [`RenderError::DuplicateDeclaration`],
    /// [`RenderError::DefaultTypeMismatch`] and [`RenderError::EmptyChat`].
    pub fn compile(
        template: &PromptTemplate,
        schema: Vec<VariableSpec>,
    ) -> Result<CompiledPrompt, RenderError> {
        check_schema(&schema)?;
        if matches!(template, PromptTemplate::Chat(messages) if messages.is_empty()) {
            return Err(RenderError::EmptyChat);
        }

        let mut environment = prompt_environment();
        let globals: HashSet<String> = environment
            .globals()
            .map(|(name, _)| name.to_owned())
            .collect();
        let declared: BTreeSet<&str> = schema.iter().map(|spec| spec.name.as_str()).collect();
        let mut used = BTreeSet::new();
        let mut parts = Vec::new();
        for (index, (label, source)) in template.parts().into_iter().enumerate() {
            let name = format!("part-{index}");
            environment
                .add_template_owned(name.clone(), source.to_owned())
                .map_err(|error| syntax_error(&label, source, &error))?;
            let compiled = environment
                .get_template(&name)
                .map_err(|error| syntax_error(&label, source, &error))?;
            let mut names: Vec<String> = compiled
                .undeclared_variables(false)
                .into_iter()
                .filter(|name| !globals.contains(name))
                .collect();
            names.sort();
            if let Some(name) = names.iter().find(|name| !declared.contains(name.as_str())) {
                return Err(RenderError::UndeclaredVariable {
                    part: label,
                    name: name.clone(),
                });
            }
            used.extend(names);
            parts.push(CompiledPart { name, role: None });
        }
        if let PromptTemplate::Chat(messages) = template {
            for (part, message) in parts.iter_mut().zip(messages) {
                part.role = Some(message.role.clone());
            }
        }

        let unused_declarations = declared
            .iter()
            .filter(|name| !used.contains(**name))
            .map(|name| (*name).to_owned())
            .collect();
        Ok(CompiledPrompt {
            environment,
            parts,
            is_chat: matches!(template, PromptTemplate::Chat(_)),
            schema,
            report: ValidationReport {
                unused_declarations,
            },
        })
    }

    /// Returns what compilation found that does not prevent rendering.
    pub fn report(&self) -> &ValidationReport {
        &self.report
    }

    /// Returns the variable schema.
    pub fn schema(&self) -> &[VariableSpec] {
        &self.schema
    }

    /// Renders the prompt with `variables`.
    ///
    /// Values are inserted verbatim: they are never parsed as template
    /// syntax, and no escaping or `$`/backslash interpretation applies.
    ///
    /// # Errors
    ///
    /// [`RenderError::MissingVariable`], [`RenderError::VariableTypeMismatch`]
    /// and [`RenderError::UnknownVariable`] when the values do not match the
    /// schema, and [`RenderError::Render`] when evaluation fails, for
    /// example on an undefined attribute.
    pub fn render(
        &self,
        variables: &Map<String, JsonValue>,
    ) -> Result<RenderedPrompt, RenderError> {
        let context = self.context(variables)?;
        let mut outputs = Vec::with_capacity(self.parts.len());
        for (index, part) in self.parts.iter().enumerate() {
            let label = self.part_label(index);
            let template = self
                .environment
                .get_template(&part.name)
                .map_err(|error| runtime_error(&label, &error))?;
            let text = template
                .render(&context)
                .map_err(|error| runtime_error(&label, &error))?;
            outputs.push(text);
        }

        if !self.is_chat {
            return Ok(RenderedPrompt::Text(outputs.pop().unwrap_or_default()));
        }
        let messages = self
            .parts
            .iter()
            .zip(outputs)
            .filter_map(|(part, text)| part.role.clone().map(|role| ChatMessage::new(role, text)))
            .collect();
        Ok(RenderedPrompt::Chat(messages))
    }

    /// Checks `variables` against the schema and builds the render context.
    fn context(&self, variables: &Map<String, JsonValue>) -> Result<Value, RenderError> {
        if let Some(name) = variables
            .keys()
            .find(|name| !self.schema.iter().any(|spec| &spec.name == *name))
        {
            return Err(RenderError::UnknownVariable { name: name.clone() });
        }

        let mut context = BTreeMap::new();
        for spec in &self.schema {
            let value = match (variables.get(&spec.name), &spec.default) {
                (Some(value), _) => value,
                (None, Some(default)) => default,
                (None, None) if spec.required => {
                    return Err(RenderError::MissingVariable {
                        name: spec.name.clone(),
                    });
                }
                (None, None) => continue,
            };
            if !spec.kind.accepts(value) {
                return Err(RenderError::VariableTypeMismatch {
                    name: spec.name.clone(),
                    expected: spec.kind.as_str().to_owned(),
                    found: json_type_name(value).to_owned(),
                });
            }
            context.insert(spec.name.as_str(), Value::from_serialize(value));
        }
        Ok(Value::from(context))
    }

    fn part_label(&self, index: usize) -> String {
        match self.parts.get(index).and_then(|part| part.role.as_ref()) {
            Some(role) => format!("message {} ({})", index + 1, role.as_str()),
            None => "text".to_owned(),
        }
    }
}

/// Rejects duplicate names and defaults of the wrong type.
fn check_schema(schema: &[VariableSpec]) -> Result<(), RenderError> {
    let mut seen = HashSet::new();
    for spec in schema {
        if !seen.insert(spec.name.as_str()) {
            return Err(RenderError::DuplicateDeclaration {
                name: spec.name.clone(),
            });
        }
        if let Some(default) = &spec.default
            && !spec.kind.accepts(default)
        {
            return Err(RenderError::DefaultTypeMismatch {
                name: spec.name.clone(),
                expected: spec.kind.as_str().to_owned(),
                found: json_type_name(default).to_owned(),
            });
        }
    }
    Ok(())
}

/// Converts a MiniJinja parse error into [`RenderError::Syntax`], with the
/// column counted in characters from the start of the line.
fn syntax_error(label: &str, source: &str, error: &minijinja::Error) -> RenderError {
    let line = error.line().unwrap_or(1);
    let column = error
        .range()
        .and_then(|range| source.get(..range.start))
        .map(|before| {
            let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
            before[line_start..].chars().count() + 1
        })
        .unwrap_or(1);
    RenderError::Syntax {
        part: label.to_owned(),
        line,
        column,
        message: error.detail().unwrap_or("invalid syntax").to_owned(),
    }
}

fn runtime_error(label: &str, error: &minijinja::Error) -> RenderError {
    let message = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    RenderError::Render {
        part: label.to_owned(),
        line: error.line().unwrap_or(0),
        message,
    }
}
