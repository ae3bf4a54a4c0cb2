//! Helpers for describing bad provider bodies without echoing their text.

/// Returns the category and position of a JSON error.
///
/// `serde_json` messages can quote values from the body, which may be model
/// output, so only the category and position are kept.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected JSON shape",
        serde_json::error::Category::Eof => "truncated JSON",
    };
    format!(
        "{category} at line {} column {}",
        error.line(),
        error.column()
    )
}

/// Returns the start of a non-JSON error body (at most 200 characters) for
/// an error message, with line breaks flattened.
pub(crate) fn body_snippet(body: &[u8]) -> String {
    const MAX_CHARS: usize = 200;
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut snippet: String = trimmed
        .chars()
        .take(MAX_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if trimmed.chars().count() > MAX_CHARS {
        snippet.push('…');
    }
    if snippet.is_empty() {
        snippet.push_str("(empty body)");
    }
    snippet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_hides_values() {
        let error = serde_json::from_str::<u64>("\"secret words\"").unwrap_err();
        let described = describe_json_error(&error);
        assert!(!described.contains("secret"), "{described}");
        assert!(
            described.starts_with("unexpected JSON shape"),
            "{described}"
        );
    }

    #[test]
    fn snippet_truncates_and_flattens() {
        assert_eq!(body_snippet(b"  <html>\n<b>Bad</b>\n"), "<html> <b>Bad</b>");
        assert_eq!(body_snippet(b""), "(empty body)");
        let long = "é".repeat(300);
        let snippet = body_snippet(long.as_bytes());
        assert_eq!(snippet.chars().count(), 201);
    }
}
