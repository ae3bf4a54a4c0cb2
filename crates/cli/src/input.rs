//! Reading command input from a file or standard input.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// Reads UTF-8 text from `path`, or from standard input when it is `-`.
pub(crate) fn read_text(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("failed to read standard input")?;
        return String::from_utf8(bytes).context("standard input is not valid UTF-8 text");
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{} is not valid UTF-8 text", path.display()))
}

/// Parses a token count: a whole number, 0 or more.
pub(crate) fn parse_token_count(text: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| {
        format!(
            "{text:?} is not a token count; use a whole number of tokens, 0 or more, such as 1200"
        )
    })
}
