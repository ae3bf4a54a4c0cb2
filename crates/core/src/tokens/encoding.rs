//! The OpenAI BPE encodings and which model uses which.

use std::fmt;

use tiktoken_rs::CoreBPE;

use super::Tokenizer;

/// A tiktoken byte-pair encoding used by OpenAI models.
///
/// Each encoding's ranks are loaded once per process on first use (about
/// 100 ms) and shared by every thread afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// `o200k_base`: gpt-4o, gpt-4.1, gpt-4.5, the o1/o3/o4 series and the
    /// gpt-5 family.
    O200kBase,
    /// `cl100k_base`: gpt-4, gpt-3.5-turbo and the text-embedding-3 and
    /// ada-002 embedding models.
    Cl100kBase,
}

/// Model name prefixes and their encodings, most specific first because
/// `gpt-4` is also a prefix of `gpt-4o` and `gpt-4.1`.
const PREFIX_RULES: &[(&str, Encoding)] = &[
    ("gpt-4o", Encoding::O200kBase),
    ("chatgpt-4o", Encoding::O200kBase),
    ("gpt-4.1", Encoding::O200kBase),
    ("gpt-4.5", Encoding::O200kBase),
    ("gpt-5", Encoding::O200kBase),
    ("o1", Encoding::O200kBase),
    ("o3", Encoding::O200kBase),
    ("o4", Encoding::O200kBase),
    ("gpt-4", Encoding::Cl100kBase),
    ("gpt-3.5-turbo", Encoding::Cl100kBase),
    // Azure OpenAI deployment names drop the dot.
    ("gpt-35-turbo", Encoding::Cl100kBase),
    ("text-embedding-3-small", Encoding::Cl100kBase),
    ("text-embedding-3-large", Encoding::Cl100kBase),
    ("text-embedding-ada-002", Encoding::Cl100kBase),
];

impl Encoding {
    /// Returns the encoding of an OpenAI model, or `None` for other models.
    ///
    /// Accepts dated and suffixed versions (`gpt-4o-2024-08-06`,
    /// `gpt-5.1-codex`) and a leading provider prefix (`openai/gpt-4o`).
    /// A prefix matches only at a name boundary, so `o1` matches `o1-mini`
    /// but not `o100`.
    pub fn for_model(model: &str) -> Option<Encoding> {
        let model = model.trim();
        Self::match_prefix(model).or_else(|| {
            let (_provider, bare) = model.split_once('/')?;
            Self::match_prefix(bare)
        })
    }

    fn match_prefix(model: &str) -> Option<Encoding> {
        PREFIX_RULES.iter().find_map(|(prefix, encoding)| {
            let rest = model.strip_prefix(prefix)?;
            let at_boundary = rest.is_empty()
                || rest.starts_with('-')
                || (rest.starts_with('.') && *prefix == "gpt-5");
            at_boundary.then_some(*encoding)
        })
    }

    /// Returns the encoding name used by tiktoken, such as `o200k_base`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }

    /// Counts the tokens of `text`, treating special-token markers such as
    /// `<|endoftext|>` as ordinary text, which is how the API reads message
    /// content.
    pub fn count(self, text: &str) -> u64 {
        if text.is_empty() {
            return 0;
        }
        self.bpe().encode_ordinary(text).len() as u64
    }

    fn bpe(self) -> &'static CoreBPE {
        match self {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Tokenizer for Encoding {
    fn name(&self) -> &str {
        Encoding::name(*self)
    }

    fn count_text(&self, text: &str) -> u64 {
        self.count(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_map_covers_families() {
        let cases = [
            ("gpt-4o", Some(Encoding::O200kBase)),
            ("gpt-4o-2024-08-06", Some(Encoding::O200kBase)),
            ("gpt-4o-mini", Some(Encoding::O200kBase)),
            ("openai/gpt-4o", Some(Encoding::O200kBase)),
            ("gpt-4.1-nano-2025-04-14", Some(Encoding::O200kBase)),
            ("o1", Some(Encoding::O200kBase)),
            ("o3-mini-2025-01-31", Some(Encoding::O200kBase)),
            ("o4-mini", Some(Encoding::O200kBase)),
            ("gpt-5", Some(Encoding::O200kBase)),
            ("gpt-5.1-codex", Some(Encoding::O200kBase)),
            ("gpt-5-nano-2025-08-07", Some(Encoding::O200kBase)),
            ("gpt-4", Some(Encoding::Cl100kBase)),
            ("gpt-4-0613", Some(Encoding::Cl100kBase)),
            ("gpt-4-turbo", Some(Encoding::Cl100kBase)),
            ("gpt-3.5-turbo-0125", Some(Encoding::Cl100kBase)),
            ("azure/gpt-35-turbo", Some(Encoding::Cl100kBase)),
            ("text-embedding-3-small", Some(Encoding::Cl100kBase)),
            ("text-embedding-ada-002", Some(Encoding::Cl100kBase)),
        ];
        for (model, expected) in cases {
            assert_eq!(Encoding::for_model(model), expected, "encoding for {model}");
        }
    }

    #[test]
    fn model_map_rejects_near_names() {
        for model in [
            "o100",
            "gpt-4x",
            "gpt-40",
            "claude-3-7-sonnet-20250219",
            "",
            "openai/",
            "gpt-4.10",
            "text-embedding-004",
        ] {
            assert_eq!(Encoding::for_model(model), None, "encoding for {model:?}");
        }
    }

    #[test]
    fn empty_text_has_no_tokens() {
        assert_eq!(Encoding::O200kBase.count(""), 0);
        assert_eq!(Encoding::Cl100kBase.count(""), 0);
    }
}
