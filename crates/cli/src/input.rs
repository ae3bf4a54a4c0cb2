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

/// Parses a model name: any text but an empty or blank one.
pub(crate) fn parse_model_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("the model name is empty; name a model such as local or gpt-4o-mini".into());
    }
    Ok(name.to_owned())
}

/// Parses a whole number of 1 or more; `zero` says why 0 is rejected and
/// `example` is a typical value for the message.
pub(crate) fn parse_at_least_one(text: &str, zero: &str, example: usize) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err(format!("{zero}; use 1 or more")),
        Ok(count) => Ok(count),
        Err(_) => Err(format!(
            "`{text}` is not a whole number; use 1 or more, such as {example}"
        )),
    }
}

/// Parses a token count: a whole number, 0 or more.
pub(crate) fn parse_token_count(text: &str) -> Result<u64, String> {
    use std::num::IntErrorKind;

    text.trim()
        .parse::<u64>()
        .map_err(|error| match error.kind() {
            IntErrorKind::PosOverflow => format!(
                "{text:?} tokens is too large; use a count of at most {}",
                u64::MAX
            ),
            _ => format!(
                "{text:?} is not a token count; use a whole number of tokens, 0 or more, such as 1200"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::{parse_model_name, parse_token_count};

    #[test]
    fn blank_model_name_is_refused() {
        for blank in ["", "  ", "\t"] {
            let error = parse_model_name(blank).unwrap_err();
            assert!(error.contains("model name is empty"), "{error}");
        }
        assert_eq!(parse_model_name(" gpt-4o ").unwrap(), "gpt-4o");
    }

    #[test]
    fn token_counts_parse_with_surrounding_space() {
        assert_eq!(parse_token_count(" 1200 "), Ok(1200));
        assert_eq!(parse_token_count("0"), Ok(0));
    }

    #[test]
    fn overflowing_count_says_too_large() {
        let error = parse_token_count("99999999999999999999999").unwrap_err();
        assert!(error.contains("too large"), "{error}");
        assert!(error.contains(&u64::MAX.to_string()), "{error}");
    }

    #[test]
    fn negative_or_fractional_count_says_whole_number() {
        for text in ["-1", "1.5", "", "twelve"] {
            let error = parse_token_count(text).unwrap_err();
            assert!(error.contains("whole number"), "{text:?}: {error}");
        }
    }
}
