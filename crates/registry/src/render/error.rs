//! Errors of template validation and rendering.

use thiserror::Error;

/// A failure to compile or render a prompt template.
///
/// Messages name the template part, the variable and the fix; they never
/// contain variable values, which may hold user data.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum RenderError {
    /// A template has invalid syntax.
    #[error(
        "syntax error in {part} at line {line}, column {column}: {message}; fix the template text"
    )]
    Syntax {
        /// The template part (`text` or `message 2 (user)`).
        part: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error, counted in characters.
        column: usize,
        /// MiniJinja's description of the problem.
        message: String,
    },
    /// A template uses a variable that the schema does not declare.
    #[error(
        "{part} uses variable `{name}`, which the variable schema does not declare; add it to the schema or fix the name"
    )]
    UndeclaredVariable {
        /// The template part that uses the variable.
        part: String,
        /// The variable name.
        name: String,
    },
    /// The schema declares the same variable twice.
    #[error("variable `{name}` is declared more than once; keep one declaration")]
    DuplicateDeclaration {
        /// The variable name.
        name: String,
    },
    /// A declared default value does not have the declared type.
    #[error(
        "default value of variable `{name}` is {found}, but the schema declares {expected}; change the default or the type"
    )]
    DefaultTypeMismatch {
        /// The variable name.
        name: String,
        /// The declared type.
        expected: String,
        /// The JSON type of the default.
        found: String,
    },
    /// A required variable has no value at render time.
    #[error("required variable `{name}` is missing; pass a value for it")]
    MissingVariable {
        /// The variable name.
        name: String,
    },
    /// A value passed at render time has the wrong type.
    #[error("variable `{name}` must be {expected}, but the value is {found}; pass a {expected}")]
    VariableTypeMismatch {
        /// The variable name.
        name: String,
        /// The declared type.
        expected: String,
        /// The JSON type of the value passed.
        found: String,
    },
    /// A value was passed for a variable that the schema does not declare.
    #[error("variable `{name}` is not declared in the schema; remove it or declare it")]
    UnknownVariable {
        /// The variable name.
        name: String,
    },
    /// MiniJinja failed while rendering, for example on an undefined
    /// attribute or an operation on the wrong type.
    #[error("rendering {part} failed at line {line}: {message}")]
    Render {
        /// The template part being rendered.
        part: String,
        /// 1-based line of the failing expression, 0 when unknown.
        line: usize,
        /// MiniJinja's description of the problem.
        message: String,
    },
    /// A chat prompt has no messages.
    #[error("a chat prompt needs at least one message; add a message template")]
    EmptyChat,
}
