//! Lexical evidence: content-word coverage of a claim by a context, and
//! number and named-entity consistency.

use std::collections::HashSet;

/// English function words that carry no content, plus conversational
/// fillers. Hand-written for this crate; lowercase.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "either",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "neither",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "would",
    "yes",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "s",
    "t",
    "answer",
    "question",
    "based",
    "according",
    "information",
    "context",
    "provided",
    "given",
];

/// Returns whether a character belongs to a script written without spaces between
/// words (Han, Hiragana, Katakana), whose tokens are character bigrams.
fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
    )
}

/// Splits text into lowercased word tokens.
///
/// Words are runs of letters and digits (apostrophes inside a word are
/// dropped, `,` between digits is removed and `.` between digits is kept,
/// so `1,000` is `1000` and `3.5` stays one token). Han, Hiragana and
/// Katakana runs become overlapping character bigrams (a single character
/// stays one token), because those scripts do not separate words. Hangul
/// words are separated by spaces and stay whole words.
pub(crate) fn word_tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if is_unspaced_script(c) {
            let run_end = (index..chars.len())
                .find(|&i| !is_unspaced_script(chars[i]))
                .unwrap_or(chars.len());
            push_bigrams(&chars[index..run_end], &mut tokens);
            index = run_end;
        } else if c.is_alphanumeric() {
            let mut word = String::new();
            while index < chars.len() {
                let c = chars[index];
                let joins_digits = matches!(c, ',' | '.')
                    && word
                        .chars()
                        .last()
                        .is_some_and(|last| last.is_ascii_digit())
                    && chars.get(index + 1).is_some_and(char::is_ascii_digit);
                if c.is_alphanumeric() && !is_unspaced_script(c) {
                    word.extend(c.to_lowercase());
                } else if joins_digits {
                    if c == '.' {
                        word.push('.');
                    }
                } else if c == '\'' || c == '’' {
                    // `Arthur's` is `arthur`, `don't` is `dont`.
                    let possessive = chars.get(index + 1).is_some_and(|&n| n == 's' || n == 'S')
                        && !chars.get(index + 2).is_some_and(|n| n.is_alphanumeric());
                    if possessive {
                        index += 1;
                    }
                } else {
                    break;
                }
                index += 1;
            }
            tokens.push(word);
        } else {
            index += 1;
        }
    }
    tokens
}

fn push_bigrams(run: &[char], tokens: &mut Vec<String>) {
    if run.len() == 1 {
        tokens.push(run.iter().collect());
        return;
    }
    for pair in run.windows(2) {
        tokens.push(pair.iter().collect());
    }
}

/// Reduces an English plural to its singular by dropping a final `s` on
/// words of five or more letters that do not end in `ss`. The result need
/// not be a word, because both sides of a comparison are reduced alike.
fn fold_plural(token: &str) -> &str {
    if token.len() >= 5 && token.ends_with('s') && !token.ends_with("ss") {
        return &token[..token.len() - 1];
    }
    token
}

/// Returns the content tokens of a text: word tokens that are not stopwords,
/// with plurals folded.
pub(crate) fn content_tokens(text: &str) -> Vec<String> {
    word_tokens(text)
        .into_iter()
        .filter(|token| !STOPWORDS.contains(&token.as_str()))
        .map(|token| fold_plural(&token).to_owned())
        .collect()
}

/// Returns the numbers written in digits, normalised as [`word_tokens`]
/// writes them (`1,000` is `1000`).
pub(crate) fn numbers(text: &str) -> Vec<String> {
    word_tokens(text)
        .into_iter()
        .filter(|token| token.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .filter_map(|token| {
            let digits: String = token
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let digits = digits.trim_end_matches('.').to_owned();
            (!digits.is_empty()).then_some(digits)
        })
        .collect()
}

/// Returns the lowercased tokens of capitalised words that are not
/// stopwords, as a cheap stand-in for named entities.
pub(crate) fn entity_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|word| word.chars().next().is_some_and(char::is_uppercase))
        .flat_map(word_tokens)
        .filter(|token| !STOPWORDS.contains(&token.as_str()))
        .map(|token| fold_plural(&token).to_owned())
        .collect()
}

/// The lexical comparison of one claim with a context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LexicalEvidence {
    /// Share of the claim's distinct content tokens found in the best
    /// matching context sentence, or in the whole context times
    /// [`WHOLE_CONTEXT_DISCOUNT`] when that is higher.
    pub(crate) coverage: f64,
    /// Share of the claim's entity tokens absent from the whole context.
    pub(crate) missing_entities: f64,
    /// Whether a number of the claim is absent from the whole context.
    pub(crate) number_mismatch: bool,
}

/// Weight of coverage by the whole context relative to coverage by one
/// sentence: a claim whose words are spread over several sentences is
/// weaker evidence than one sentence stating it.
pub(crate) const WHOLE_CONTEXT_DISCOUNT: f64 = 0.8;

/// A context prepared for repeated lexical comparisons.
#[derive(Debug, Clone, Default)]
pub(crate) struct LexicalContext {
    sentences: Vec<HashSet<String>>,
    all: HashSet<String>,
    numbers: HashSet<String>,
}

impl LexicalContext {
    /// Tokenises the context sentences once.
    pub(crate) fn new(sentences: &[String]) -> Self {
        let mut context = LexicalContext::default();
        for sentence in sentences {
            let tokens: HashSet<String> = content_tokens(sentence).into_iter().collect();
            context.all.extend(tokens.iter().cloned());
            context.sentences.push(tokens);
            context.numbers.extend(numbers(sentence));
        }
        context
    }

    /// Compares a claim with the context. Returns `None` when the claim
    /// has no content token.
    pub(crate) fn evidence(&self, claim: &str) -> Option<LexicalEvidence> {
        let claim_tokens: HashSet<String> = content_tokens(claim).into_iter().collect();
        if claim_tokens.is_empty() {
            return None;
        }
        let share = |found: &HashSet<String>| {
            claim_tokens.iter().filter(|t| found.contains(*t)).count() as f64
                / claim_tokens.len() as f64
        };
        let best_sentence = self.sentences.iter().map(share).fold(0.0, f64::max);
        let coverage = best_sentence.max(WHOLE_CONTEXT_DISCOUNT * share(&self.all));

        let entities: HashSet<String> = entity_tokens(claim).into_iter().collect();
        let missing_entities = if entities.is_empty() {
            0.0
        } else {
            entities.iter().filter(|e| !self.all.contains(*e)).count() as f64
                / entities.len() as f64
        };
        let number_mismatch = numbers(claim)
            .iter()
            .any(|number| !self.numbers.contains(number));
        Some(LexicalEvidence {
            coverage,
            missing_entities,
            number_mismatch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_numbers_whole() {
        assert_eq!(
            word_tokens("It cost $1,000.50 in 1999."),
            ["it", "cost", "1000.50", "in", "1999"]
        );
        assert_eq!(
            numbers("Born 2 March 1,991, age 3.5."),
            ["2", "1991", "3.5"]
        );
    }

    #[test]
    fn tokens_of_cjk_and_hangul() {
        assert_eq!(word_tokens("東京タワー"), ["東京", "京タ", "タワ", "ワー"]);
        assert_eq!(word_tokens("서울은 수도"), ["서울은", "수도"]);
        assert_eq!(word_tokens("日"), ["日"]);
    }

    #[test]
    fn possessive_dropped() {
        assert_eq!(content_tokens("Arthur's Magazine"), ["arthur", "magazine"]);
        assert_eq!(
            entity_tokens("the Oberoi Group in Delhi"),
            ["oberoi", "group", "delhi"]
        );
    }

    #[test]
    fn number_missing_from_context() {
        let context = LexicalContext::new(&["The bridge opened in 1932.".to_owned()]);
        let evidence = context.evidence("The bridge opened in 1933.").unwrap();
        assert!(evidence.number_mismatch);
        let evidence = context.evidence("The bridge opened in 1932.").unwrap();
        assert!(!evidence.number_mismatch);
        assert_eq!(evidence.coverage, 1.0);
    }
}
