//! 2 KB prompts built from the public sentences in `tests/data`.
//!
//! English sentences come from presidio-research's `synth_dataset_v2.json`:
//! samples with annotated spans for the PII prompts, samples without for the
//! clean ones. Korean sentences come from the `korean-pii` 0.2.0 test cases.
//! The PII prompts interleave its cases expected to be detected with its
//! no-PII corpus. The clean prompts interleave the same corpus with its
//! cases expected not to be detected, which are numbers that look like PII. See
//! `tests/data/README.md` for sources and licences.

use std::error::Error;
use std::path::PathBuf;

use serde_json::{Value, json};

/// Size of every prompt in UTF-8 bytes.
pub(crate) const PROMPT_BYTES: usize = 2048;

/// Distinct prompts per kind; the timed loop cycles through them.
const PROMPTS_PER_KIND: usize = 50;

/// A prompt language and whether it contains PII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PromptKind {
    EnglishPii,
    EnglishClean,
    KoreanPii,
    KoreanClean,
}

impl PromptKind {
    pub(crate) const ALL: [PromptKind; 4] = [
        PromptKind::EnglishPii,
        PromptKind::EnglishClean,
        PromptKind::KoreanPii,
        PromptKind::KoreanClean,
    ];

    /// Returns the name used in the JSON exchanged with the Presidio script.
    pub(crate) fn key(self) -> &'static str {
        match self {
            PromptKind::EnglishPii => "en_pii",
            PromptKind::EnglishClean => "en_clean",
            PromptKind::KoreanPii => "ko_pii",
            PromptKind::KoreanClean => "ko_clean",
        }
    }

    /// Returns the name printed in the results table.
    pub(crate) fn label(self) -> &'static str {
        match self {
            PromptKind::EnglishPii => "English, PII",
            PromptKind::EnglishClean => "English, no PII",
            PromptKind::KoreanPii => "Korean, PII",
            PromptKind::KoreanClean => "Korean, no PII",
        }
    }

    fn header(self) -> &'static str {
        match self {
            PromptKind::EnglishPii | PromptKind::EnglishClean => {
                "Summarise the customer notes below for the account team.\n\n"
            }
            PromptKind::KoreanPii | PromptKind::KoreanClean => {
                "아래 고객 메모를 상담팀용으로 요약해 주세요.\n\n"
            }
        }
    }
}

/// The prompts of every kind.
pub(crate) struct PromptSet {
    prompts: Vec<(PromptKind, Vec<String>)>,
}

impl PromptSet {
    /// Reads the test data and builds [`PROMPTS_PER_KIND`] prompts per kind.
    pub(crate) fn build() -> Result<Self, Box<dyn Error>> {
        let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let synth: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(
            data.join("presidio-research/synth_dataset_v2.json"),
        )?)?;
        let mut english_pii = Vec::new();
        let mut english_clean = Vec::new();
        for sample in &synth {
            let Some(text) = sample["full_text"].as_str() else {
                continue;
            };
            let has_spans = sample["spans"].as_array().is_some_and(|s| !s.is_empty());
            if has_spans {
                english_pii.push(text.to_owned());
            } else {
                english_clean.push(text.to_owned());
            }
        }

        let corpus = std::fs::read_to_string(data.join("korean/korean_pii_no_pii_corpus_ko.txt"))?;
        let corpus: Vec<String> = corpus.lines().map(str::to_owned).collect();
        let cases = std::fs::read_to_string(data.join("korean/korean_pii_regression_cases.jsonl"))?;
        let mut korean_detected = Vec::new();
        let mut korean_not_detected = Vec::new();
        for line in cases.lines().filter(|line| !line.trim().is_empty()) {
            let case: Value = serde_json::from_str(line)?;
            let Some(text) = case["text"].as_str() else {
                continue;
            };
            if case["expect_detected"].as_bool() == Some(true) {
                korean_detected.push(text.to_owned());
            } else {
                korean_not_detected.push(text.to_owned());
            }
        }
        let korean_pii = interleave(&korean_detected, &corpus);
        let korean_clean = interleave(&korean_not_detected, &corpus);

        let sources = [
            (PromptKind::EnglishPii, english_pii),
            (PromptKind::EnglishClean, english_clean),
            (PromptKind::KoreanPii, korean_pii),
            (PromptKind::KoreanClean, korean_clean),
        ];
        let mut prompts = Vec::new();
        for (kind, sentences) in sources {
            if sentences.is_empty() {
                return Err(format!("no sentences for {} prompts", kind.label()).into());
            }
            let built = (0..PROMPTS_PER_KIND)
                .map(|index| compose(kind.header(), &sentences, index * 7))
                .collect();
            prompts.push((kind, built));
        }
        Ok(PromptSet { prompts })
    }

    /// Returns the prompts of `kind`.
    pub(crate) fn texts(&self, kind: PromptKind) -> &[String] {
        self.prompts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[], |(_, texts)| texts.as_slice())
    }

    /// Returns `{"en_pii": [...], ...}` for the Presidio script.
    pub(crate) fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        for (kind, texts) in &self.prompts {
            object.insert(kind.key().to_owned(), json!(texts));
        }
        Value::Object(object)
    }
}

/// Alternates the sentences of `first` and `second`, cycling the shorter.
fn interleave(first: &[String], second: &[String]) -> Vec<String> {
    let rounds = first.len().max(second.len());
    let mut out = Vec::with_capacity(rounds * 2);
    for index in 0..rounds {
        if let Some(sentence) = first.get(index % first.len().max(1)) {
            out.push(sentence.clone());
        }
        if let Some(sentence) = second.get(index % second.len().max(1)) {
            out.push(sentence.clone());
        }
    }
    out
}

/// Appends sentences from `start` on, one per line, after `header`, and cuts
/// the text at the last char boundary within [`PROMPT_BYTES`].
fn compose(header: &str, sentences: &[String], start: usize) -> String {
    let mut prompt = String::from(header);
    let mut index = start;
    while prompt.len() < PROMPT_BYTES {
        prompt.push_str(&sentences[index % sentences.len()]);
        prompt.push('\n');
        index += 1;
    }
    let mut end = PROMPT_BYTES;
    while !prompt.is_char_boundary(end) {
        end -= 1;
    }
    prompt.truncate(end);
    prompt
}
