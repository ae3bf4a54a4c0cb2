//! Prompt templates rendered with MiniJinja.
//!
//! A [`PromptTemplate`] is a single text or a list of chat messages with
//! roles. [`CompiledPrompt::compile`] parses every template once, checks
//! it against a variable schema ([`VariableSpec`]) and keeps the parsed
//! form, so [`CompiledPrompt::render`] only evaluates it.
//!
//! # Rendering rules
//!
//! - Strict: an undefined variable or attribute is an error, and so is a
//!   value whose type differs from its declaration.
//! - Verbatim: values are inserted as they are, without HTML escaping,
//!   without being parsed as template syntax, and without `$` or backslash
//!   sequences interpreted. UTF-8 passes through unchanged.
//! - A literal `{{` is written as `{{ '{{' }}` or inside
//!   `{% raw %}...{% endraw %}`.
//!
//! # Where MiniJinja and Jinja2 differ
//!
//! llmops follows MiniJinja 2 and does not emulate Jinja2 on these points
//! (checked against Jinja2 3.1.6 by the vectors in
//! `tests/data/jinja2_vectors.json`):
//!
//! - Integer division `//` and modulo `%` with a negative divisor: MiniJinja
//!   uses Euclidean division and Jinja2 uses Python's floor division.
//!   `-7 // 2` is `-4` in both. `7 // -2` is `-3` in MiniJinja and `-4` in
//!   Jinja2, and `-7 % -2` is `1` in MiniJinja and `-1` in Jinja2.
//! - The `round` filter rounds halves away from zero (`2.5|round` is `3.0`),
//!   where Jinja2 uses Python's `round`, which rounds halves to even
//!   (`2.0`). MiniJinja's `round` takes no `method` argument, so
//!   `round(method='floor')` is an error.
//! - Lists print with double-quoted strings (`[1, "two"]`), where Jinja2
//!   prints Python's repr (`[1, 'two']`). Booleans and none print as
//!   `True`, `False` and `None` in both.
//! - Whitespace control (`{%-`, `-%}`, `trim_blocks` and `lstrip_blocks`
//!   off, one trailing newline removed) behaves the same in both.
//!
//! # Speed
//!
//! Templates made only of text, `{{ name }}`, `{{ item.field }}`,
//! `{{ list[0] }}`, `{% if [not] name %}` and `{% for item in list %}`
//! (with `loop.index` and its siblings) render by a direct walk of
//! MiniJinja's parse tree over the `serde_json` variables, which skips the
//! conversion of the variables and MiniJinja's virtual machine. The walk
//! writes strings and integers only. Any other value or construct sends
//! the render through MiniJinja, so the output and the errors are
//! MiniJinja's either way.
//!
//! # Example
//!
//! ```
//! use llmops_core::types::Role;
//! use llmops_registry::render::{
//!     CompiledPrompt, MessageTemplate, PromptTemplate, RenderedPrompt, VariableSpec, VariableType,
//! };
//! use serde_json::json;
//!
//! let template = PromptTemplate::Chat(vec![
//!     MessageTemplate::new(Role::System, "You answer in {{ language }}."),
//!     MessageTemplate::new(Role::User, "{{ question }}"),
//! ]);
//! let schema = vec![
//!     VariableSpec::with_default("language", VariableType::String, json!("English")),
//!     VariableSpec::required("question", VariableType::String),
//! ];
//! let prompt = CompiledPrompt::compile(&template, schema)?;
//!
//! let variables = json!({"question": "What is {{ 1 + 1 }}?"});
//! let RenderedPrompt::Chat(messages) = prompt.render(variables.as_object().unwrap())? else {
//!     unreachable!("a chat template renders to messages");
//! };
//! assert_eq!(messages[0].text(), "You answer in English.");
//! assert_eq!(messages[1].text(), "What is {{ 1 + 1 }}?");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compiled;
mod environment;
mod error;
mod plan;
mod schema;
mod template;

pub use compiled::{CompiledPrompt, RenderedPrompt, ValidationReport};
pub use error::RenderError;
pub use schema::{VariableSpec, VariableType};
pub use template::{MessageTemplate, PromptTemplate};
