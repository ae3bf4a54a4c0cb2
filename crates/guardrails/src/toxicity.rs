//! Toxicity by lexicon: whole-word matches of categorised term lists.
//!
//! A [`ToxicityLexicon`] holds terms sorted into the toxicity categories of
//! [`EntityType::TOXICITY`] (insult, threat, identity attack, profanity,
//! sexually explicit). [`ToxicityGuard`] finds them in a text and reports
//! one [`Finding`] per match, so its verdicts carry categories and offsets
//! but never the matched words.
//!
//! Matching works on words: maximal runs of Unicode letters, digits and
//! combining marks, after the crate's normalisation (NFKC, zero-width
//! characters removed) and Unicode lowercasing. A term matches when its
//! words appear as consecutive words of the text, so `ass` does not match
//! inside `assessment` and `cunt` does not match inside `Scunthorpe`. A
//! term's own punctuation separates words too: `f.u.c.k` matches `f u c k`
//! and `f-u-c-k`.
//!
//! NOTE: scripts written without spaces between words (Chinese, Japanese,
//! Thai) form one long word per run, so a term in those scripts matches
//! only when it stands alone. A lexicon cannot judge context either: a
//! quoted slur, a medical term or a name that equals a listed word is
//! flagged all the same.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

use crate::anonymize::{Anonymizer, PlaceholderScope};
use crate::entity::EntityType;
use crate::error::{GuardError, Result};
use crate::finding::Finding;
use crate::guard::{Action, Guard, Stage, Verdict};
use crate::normalize::{CharIndex, NormalizedText};

/// The profanity list of the PyPI package better-profanity 0.7.0 (MIT
/// licence), one term per line; `data/toxicity/README.md` names the source.
const BETTER_PROFANITY_WORDLIST: &str =
    include_str!("../data/toxicity/better_profanity_wordlist.txt");

/// Terms sorted into toxicity categories.
#[derive(Debug, Clone, Default)]
pub struct ToxicityLexicon {
    /// Terms by their first word; each entry is the term's words and its
    /// category.
    by_first_word: HashMap<String, Vec<(Vec<String>, EntityType)>>,
    terms: usize,
}

impl ToxicityLexicon {
    /// Creates an empty lexicon.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the profanity list of better-profanity 0.7.0 (916 terms,
    /// all in [`EntityType::Profanity`]). It is an English list; it has
    /// no insults, threats or slurs as such.
    pub fn better_profanity() -> Self {
        let mut lexicon = Self::new();
        for line in BETTER_PROFANITY_WORDLIST.lines() {
            lexicon.insert(line, EntityType::Profanity);
        }
        lexicon
    }

    /// Parses a lexicon file: `[category]` lines start a section, each
    /// other line is one term of the current section, and blank lines and
    /// lines starting with `#` are skipped. Categories are the names of
    /// [`EntityType::TOXICITY`] in any case: `insult`, `threat`,
    /// `identity_attack`, `profanity`, `sexually_explicit`.
    ///
    /// ```
    /// use llmops_guardrails::ToxicityLexicon;
    ///
    /// let lexicon = ToxicityLexicon::parse("[insult]\nnitwit\n[threat]\nhunt you down\n").unwrap();
    /// assert_eq!(lexicon.len(), 2);
    /// ```
    ///
    /// # Errors
    ///
    /// [`GuardError::InvalidConfig`] for a term before the first section,
    /// an unknown section name or a section that names a PII type.
    pub fn parse(text: &str) -> Result<Self> {
        let mut lexicon = Self::new();
        let mut category = None;
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                category = Some(parse_category(name.trim(), index + 1)?);
                continue;
            }
            let Some(category) = category else {
                return Err(GuardError::InvalidConfig {
                    message: format!(
                        "toxicity lexicon line {} has a term before any [category] line; start the file with a line such as [insult]",
                        index + 1
                    ),
                });
            };
            lexicon.insert(line, category);
        }
        Ok(lexicon)
    }

    /// Reads and parses a lexicon file (see [`parse`](Self::parse)).
    ///
    /// # Errors
    ///
    /// [`GuardError::InvalidConfig`] when the file cannot be read or parsed.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| GuardError::InvalidConfig {
            message: format!(
                "could not read toxicity lexicon {}: {error}; check the path",
                path.display()
            ),
        })?;
        Self::parse(&text)
    }

    /// Adds a term in `category`. A term without any word character, such
    /// as `***`, is ignored; adding a term twice keeps the first category.
    pub fn insert(&mut self, term: &str, category: EntityType) {
        let normalized = NormalizedText::new(term);
        let words: Vec<String> = words(normalized.as_str())
            .map(|range| normalized.as_str()[range].to_lowercase())
            .collect();
        let Some(first) = words.first().cloned() else {
            return;
        };
        let entries = self.by_first_word.entry(first).or_default();
        if entries.iter().any(|(known, _)| *known == words) {
            return;
        }
        entries.push((words, category));
        self.terms += 1;
    }

    /// Merges the terms of `other` into this lexicon.
    pub fn extend(&mut self, other: &ToxicityLexicon) {
        for entries in other.by_first_word.values() {
            for (words, category) in entries {
                self.insert(&words.join(" "), *category);
            }
        }
    }

    /// Returns the number of distinct terms.
    pub fn len(&self) -> usize {
        self.terms
    }

    /// Returns true when the lexicon has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms == 0
    }

    /// Finds every term in `text`, longest term first where two start at
    /// the same word, without overlaps. Offsets point at `text`.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        if self.is_empty() {
            return Vec::new();
        }
        let normalized = NormalizedText::new(text);
        let spans: Vec<Range<usize>> = words(normalized.as_str()).collect();
        let lowered: Vec<String> = spans
            .iter()
            .map(|range| normalized.as_str()[range.clone()].to_lowercase())
            .collect();

        let chars = CharIndex::new(text);
        let mut findings = Vec::new();
        let mut position = 0;
        while position < lowered.len() {
            let Some((length, category)) = self.longest_match(&lowered[position..]) else {
                position += 1;
                continue;
            };
            let last = position + length - 1;
            let normalized_range = spans[position].start..spans[last].end;
            if let Some(bytes) = normalized.to_original(normalized_range) {
                findings.push(Finding {
                    entity: category,
                    chars: chars.char_offset(bytes.start)..chars.char_offset(bytes.end),
                    bytes,
                    score: 1.0,
                    recognizer: "toxicity_lexicon".into(),
                });
            }
            position += length;
        }
        findings
    }

    /// Returns the word count and category of the longest term that starts
    /// the word sequence.
    fn longest_match(&self, words: &[String]) -> Option<(usize, EntityType)> {
        let candidates = self.by_first_word.get(words.first()?)?;
        candidates
            .iter()
            .filter(|(term, _)| words.len() >= term.len() && words[..term.len()] == term[..])
            .max_by_key(|(term, _)| term.len())
            .map(|(term, category)| (term.len(), *category))
    }
}

fn parse_category(name: &str, line: usize) -> Result<EntityType> {
    let invalid = || GuardError::InvalidConfig {
        message: format!(
            "toxicity lexicon line {line} names category `{name}`; use insult, threat, identity_attack, profanity or sexually_explicit"
        ),
    };
    let category: EntityType = name.parse().map_err(|_| invalid())?;
    if category.is_toxicity() {
        Ok(category)
    } else {
        Err(invalid())
    }
}

/// Returns the byte ranges of the words of `text`: maximal runs of letters,
/// digits and combining marks.
fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let is_word =
        |c: char| c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c);
    let mut start = None;
    let mut chars = text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')));
    std::iter::from_fn(move || {
        for (offset, c) in chars.by_ref() {
            match (start, is_word(c)) {
                (None, true) => start = Some(offset),
                (Some(begin), false) => {
                    start = None;
                    return Some(begin..offset);
                }
                _ => {}
            }
        }
        None
    })
}

/// Flags or blocks text that contains terms of a [`ToxicityLexicon`].
///
/// Each match becomes a [`Finding`] whose entity is the term's category.
/// The verdict's action is the most severe action among the categories
/// found (default `Block` for all), and its reasons count matches per
/// category without quoting them. With `Redact`, the replacement text has
/// placeholders such as `<PROFANITY_1>` in place of the terms.
///
/// ```
/// use llmops_guardrails::{Action, EntityType, Guard, Stage, ToxicityGuard, ToxicityLexicon};
///
/// let lexicon = ToxicityLexicon::parse("[insult]\nnitwit\n").unwrap();
/// let guard = ToxicityGuard::new(lexicon);
/// let verdict = guard.check("You NITWIT.", Stage::Output).unwrap();
/// assert_eq!(verdict.action, Action::Block);
/// assert_eq!(verdict.findings[0].entity, EntityType::Insult);
/// assert_eq!(guard.check("Nitwitted is not a word", Stage::Output).unwrap().action, Action::Allow);
/// ```
#[derive(Debug, Clone)]
pub struct ToxicityGuard {
    lexicon: ToxicityLexicon,
    default_action: Action,
    actions: BTreeMap<EntityType, Action>,
    stage: Option<Stage>,
}

impl ToxicityGuard {
    /// Creates a guard that blocks on any term of `lexicon`, at both
    /// stages.
    pub fn new(lexicon: ToxicityLexicon) -> Self {
        Self {
            lexicon,
            default_action: Action::Block,
            actions: BTreeMap::new(),
            stage: None,
        }
    }

    /// Sets the action for categories without their own (default `Block`).
    pub fn with_action(mut self, action: Action) -> Self {
        self.default_action = action;
        self
    }

    /// Sets the action for one category, for example `Review` for
    /// profanity while insults still block.
    pub fn with_category_action(mut self, category: EntityType, action: Action) -> Self {
        self.actions.insert(category, action);
        self
    }

    /// Runs the guard at `stage` only (default: both stages).
    pub fn only_at(mut self, stage: Stage) -> Self {
        self.stage = Some(stage);
        self
    }

    /// Returns the lexicon.
    pub fn lexicon(&self) -> &ToxicityLexicon {
        &self.lexicon
    }
}

impl Guard for ToxicityGuard {
    fn name(&self) -> &str {
        "toxicity"
    }

    fn applies_to(&self, stage: Stage) -> bool {
        self.stage.is_none_or(|only| only == stage)
    }

    fn check(&self, text: &str, _stage: Stage) -> Result<Verdict> {
        let findings = self.lexicon.find(text);
        let mut verdict = Verdict::allow(self.name());
        if findings.is_empty() {
            return Ok(verdict);
        }

        let mut counts: BTreeMap<EntityType, usize> = BTreeMap::new();
        for finding in &findings {
            *counts.entry(finding.entity).or_insert(0) += 1;
            let action = self
                .actions
                .get(&finding.entity)
                .copied()
                .unwrap_or(self.default_action);
            verdict.action = verdict.action.max(action);
        }
        verdict.reasons = counts
            .iter()
            .map(|(category, count)| format!("found {count} {category} term(s)"))
            .collect();
        if verdict.action == Action::Redact {
            let mut scope = PlaceholderScope::new();
            verdict.replacement =
                Some(Anonymizer::default().anonymize(text, &findings, &mut scope));
        }
        verdict.findings = findings;
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests;
