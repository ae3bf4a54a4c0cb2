//! Judge prompt templates rendered with MiniJinja in strict mode.

use std::collections::BTreeMap;

use llmops_core::types::ChatMessage;
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::error::{EvalError, Result};

/// A named judge prompt: a system message and a user message, both
/// MiniJinja templates.
///
/// Rendering is strict: a variable the template uses but the case does not
/// provide is an error, never an empty string. Rubric judges provide
/// `input`, `output`, `criteria` and `scale`, plus `expected` when the case
/// has a reference and `contexts` (a list) when it has contexts. Pairwise
/// judges provide `input`, `criteria`, `output_a` and `output_b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeTemplate {
    name: String,
    system: String,
    user: String,
}

impl JudgeTemplate {
    /// Creates a template and checks that both parts compile.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidTemplate`] when either part is not valid
    /// MiniJinja.
    pub fn new(
        name: impl Into<String>,
        system: impl Into<String>,
        user: impl Into<String>,
    ) -> Result<Self> {
        let template = JudgeTemplate {
            name: name.into(),
            system: system.into(),
            user: user.into(),
        };
        let environment = environment();
        for source in [&template.system, &template.user] {
            environment
                .template_from_str(source)
                .map_err(|error| template.invalid(&error))?;
        }
        Ok(template)
    }

    /// Returns the template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renders the system and user messages; the system message is left
    /// out when it renders empty.
    ///
    /// # Errors
    ///
    /// Returns the reason when a variable the template uses is missing from
    /// `variables` or rendering fails.
    pub(crate) fn render(
        &self,
        variables: &BTreeMap<&'static str, Value>,
    ) -> std::result::Result<Vec<ChatMessage>, String> {
        let environment = environment();
        let mut messages = Vec::with_capacity(2);
        let system = self.render_part(&environment, &self.system, variables)?;
        if !system.trim().is_empty() {
            messages.push(ChatMessage::system(system));
        }
        let user = self.render_part(&environment, &self.user, variables)?;
        messages.push(ChatMessage::user(user));
        Ok(messages)
    }

    fn render_part(
        &self,
        environment: &Environment<'static>,
        source: &str,
        variables: &BTreeMap<&'static str, Value>,
    ) -> std::result::Result<String, String> {
        let template = environment
            .template_from_str(source)
            .map_err(|error| self.invalid(&error).to_string())?;
        template.render(variables).map_err(|error| {
            // Strict mode reports an undefined value without its name, so
            // name the variables the template uses that the case lacks.
            let mut missing: Vec<String> = template
                .undeclared_variables(false)
                .into_iter()
                .filter(|name| !variables.contains_key(name.as_str()))
                .map(|name| format!("`{name}`"))
                .collect();
            missing.sort();
            if error.kind() == minijinja::ErrorKind::UndefinedError && !missing.is_empty() {
                format!(
                    "judge template `{}` needs {}, which the case does not provide",
                    self.name,
                    missing.join(", ")
                )
            } else {
                format!("judge template `{}` failed: {error}", self.name)
            }
        })
    }

    fn invalid(&self, error: &minijinja::Error) -> EvalError {
        EvalError::InvalidTemplate {
            name: self.name.clone(),
            message: error.to_string(),
        }
    }
}

fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, Value> {
        pairs
            .iter()
            .map(|(name, value)| (*name, Value::from(*value)))
            .collect()
    }

    #[test]
    fn renders_system_and_user() {
        let template = JudgeTemplate::new("t", "Judge {{ criteria }}", "Q: {{ input }}").unwrap();
        let messages = template
            .render(&variables(&[("criteria", "tone"), ("input", "héllo ✓")]))
            .unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].text(), "Judge tone");
        assert_eq!(messages[1].text(), "Q: héllo ✓");
    }

    #[test]
    fn empty_system_is_left_out() {
        let template = JudgeTemplate::new("t", "", "{{ input }}").unwrap();
        let messages = template.render(&variables(&[("input", "x")])).unwrap();
        assert_eq!(messages.len(), 1);
    }

    #[test]
    fn missing_variable_names_it() {
        let template = JudgeTemplate::new("t", "", "{{ input }} vs {{ expected }}").unwrap();
        let error = template.render(&variables(&[("input", "x")])).unwrap_err();
        assert!(error.contains("`expected`"), "{error}");
    }

    #[test]
    fn optional_variable_may_be_absent() {
        let source = "{{ input }}{% if expected is defined %} ref {{ expected }}{% endif %}";
        let template = JudgeTemplate::new("t", "", source).unwrap();
        let without = template.render(&variables(&[("input", "x")])).unwrap();
        assert_eq!(without[0].text(), "x");
        let with = template
            .render(&variables(&[("input", "x"), ("expected", "y")]))
            .unwrap();
        assert_eq!(with[0].text(), "x ref y");
    }

    #[test]
    fn invalid_syntax_is_rejected() {
        let error = JudgeTemplate::new("broken", "", "{{ input ").unwrap_err();
        assert!(error.to_string().contains("broken"), "{error}");
    }
}
