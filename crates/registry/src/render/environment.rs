//! The MiniJinja environment settings that every prompt uses.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// Creates an environment with the llmops rendering rules.
///
/// - Strict undefined behaviour: using an undefined variable or attribute is
///   an error, not an empty string.
/// - No auto-escaping: prompts are not HTML, so `<`, `&` and quotes pass
///   through verbatim.
/// - MiniJinja's defaults for whitespace, which match Jinja2's defaults:
///   `trim_blocks` and `lstrip_blocks` off, and one trailing newline removed.
pub(crate) fn prompt_environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    environment
}
