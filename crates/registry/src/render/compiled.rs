//! Compiled prompts: validated once, rendered many times.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use llmops_core::types::ChatMessage;
use minijinja::{Environment, Value};
use serde_json::{Map, Value as JsonValue};

use super::environment::prompt_environment;
use super::error::RenderError;
use super::plan::Plan;
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

/// Read access to the variables of one render, so that callers holding a
/// `serde_json` map or a `BTreeMap` need not copy their values.
pub(crate) trait Variables {
    /// Returns the value named `name`.
    fn value(&self, name: &str) -> Option<&JsonValue>;

    /// Returns the names of all values.
    fn names(&self) -> impl Iterator<Item = &str>;
}

impl Variables for Map<String, JsonValue> {
    fn value(&self, name: &str) -> Option<&JsonValue> {
        self.get(name)
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.keys().map(String::as_str)
    }
}

impl Variables for BTreeMap<String, JsonValue> {
    fn value(&self, name: &str) -> Option<&JsonValue> {
        self.get(name)
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.keys().map(String::as_str)
    }
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
    /// The direct renderer, when the template has only plain constructs.
    plan: Option<Plan>,
    /// The length of the template source, a first guess at the output's.
    source_len: usize,
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
            parts.push(CompiledPart {
                name,
                role: None,
                plan: Plan::compile(source),
                source_len: source.len(),
            });
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
        let outputs = self.render_parts(variables)?;
        if !self.is_chat {
            return Ok(RenderedPrompt::Text(
                outputs.into_iter().next().unwrap_or_default(),
            ));
        }
        let messages = self
            .parts
            .iter()
            .zip(outputs)
            .filter_map(|(part, text)| part.role.clone().map(|role| ChatMessage::new(role, text)))
            .collect();
        Ok(RenderedPrompt::Chat(messages))
    }

    /// Checks `variables` and renders the text of every part, in order.
    pub(crate) fn render_parts<V: Variables + ?Sized>(
        &self,
        variables: &V,
    ) -> Result<Vec<String>, RenderError> {
        self.check(variables)?;
        match self.render_planned(variables) {
            Some(outputs) => Ok(outputs),
            None => self.render_with_minijinja(variables),
        }
    }

    /// Renders every part through its [`Plan`], or returns `None` when a
    /// part has no plan or its plan gives up on these values.
    fn render_planned<V: Variables + ?Sized>(&self, variables: &V) -> Option<Vec<String>> {
        let lookup = |name: &str| {
            variables.value(name).or_else(|| {
                self.schema
                    .iter()
                    .find(|spec| spec.name == name)
                    .and_then(|spec| spec.default.as_ref())
            })
        };
        self.parts
            .iter()
            .map(|part| part.plan.as_ref()?.render(&lookup, part.source_len * 2))
            .collect()
    }

    /// Renders every part with MiniJinja.
    fn render_with_minijinja<V: Variables + ?Sized>(
        &self,
        variables: &V,
    ) -> Result<Vec<String>, RenderError> {
        let context = self.context(variables);
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
        Ok(outputs)
    }

    /// Checks `variables` against the schema: no unknown names, every
    /// required variable present, every value of its declared type.
    fn check<V: Variables + ?Sized>(&self, variables: &V) -> Result<(), RenderError> {
        if let Some(name) = variables
            .names()
            .find(|name| !self.schema.iter().any(|spec| spec.name == *name))
        {
            return Err(RenderError::UnknownVariable {
                name: name.to_owned(),
            });
        }
        for spec in &self.schema {
            let value = match (variables.value(&spec.name), &spec.default) {
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
        }
        Ok(())
    }

    /// Builds the MiniJinja context from variables that passed
    /// [`check`](Self::check).
    fn context<V: Variables + ?Sized>(&self, variables: &V) -> Value {
        let mut context = BTreeMap::new();
        for spec in &self.schema {
            let value = variables.value(&spec.name).or(spec.default.as_ref());
            if let Some(value) = value {
                context.insert(spec.name.as_str(), Value::from_serialize(value));
            }
        }
        Value::from(context)
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

#[cfg(test)]
mod tests {
    use llmops_core::types::Role;
    use serde_json::json;

    use super::*;
    use crate::render::{MessageTemplate, VariableType};

    fn support_prompt() -> CompiledPrompt {
        let template = PromptTemplate::Chat(vec![
            MessageTemplate::new(
                Role::System,
                "You are {{ name }}.{% if strict %} Say so when unsure.{% endif %}",
            ),
            MessageTemplate::new(
                Role::User,
                "{% for doc in documents %}[{{ loop.index }}] {{ doc.title }}\n{% endfor %}{{ question }}",
            ),
        ]);
        let schema = vec![
            VariableSpec::required("name", VariableType::String),
            VariableSpec::with_default("strict", VariableType::Boolean, json!(true)),
            VariableSpec::required("documents", VariableType::List),
            VariableSpec::required("question", VariableType::String),
        ];
        CompiledPrompt::compile(&template, schema).expect("the prompt compiles")
    }

    fn object(value: JsonValue) -> Map<String, JsonValue> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn plain_prompt_matches_minijinja() {
        let prompt = support_prompt();
        let variables = object(json!({
            "name": "Ada",
            "documents": [{"title": "Returns"}, {"title": "반품 안내"}],
            "question": "{{ not a template }} $1 \\n",
        }));
        let direct = prompt
            .render_planned(&variables)
            .expect("plain values take the plan");
        let reference = prompt.render_with_minijinja(&variables).expect("renders");
        assert_eq!(direct, reference);
        assert_eq!(
            direct[1],
            "[1] Returns\n[2] 반품 안내\n{{ not a template }} $1 \\n"
        );
        assert_eq!(direct[0], "You are Ada. Say so when unsure.");
    }

    #[test]
    fn errors_come_from_minijinja() {
        let prompt = support_prompt();
        let variables = object(json!({
            "name": "Ada",
            "documents": [{"heading": "no title field"}],
            "question": "q",
        }));
        assert!(prompt.render_planned(&variables).is_none());
        let error = prompt
            .render(&variables)
            .expect_err("doc.title is undefined");
        assert!(
            matches!(&error, RenderError::Render { part, .. } if part.contains("message 2")),
            "{error:?}"
        );
    }
}
