//! Sentence splitting and claim extraction.
//!
//! A claim is a declarative sentence or list item of an answer: questions,
//! conversational boilerplate ("I hope this helps") and pieces without a
//! content word are dropped. The splitter is rule-based so it runs on every
//! production response without a model call.

use super::lexical::content_tokens;

/// Abbreviations after which a period does not end a sentence, lowercased
/// and without their final period.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf",
    "approx", "inc", "ltd", "co", "corp", "no", "nos", "fig", "figs", "vol", "pp", "ca", "a.m",
    "p.m", "u.s", "u.k", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "gen", "gov", "sen", "rep", "rev", "est", "dept", "univ",
];

/// Lowercased sentence openings that carry no claim about the world.
const BOILERPLATE_PREFIXES: &[&str] = &[
    "i hope this helps",
    "hope this helps",
    "let me know if",
    "feel free to",
    "as an ai",
    "i am an ai",
    "i'm an ai",
];

/// Lowercased sentences that are boilerplate when they stand alone, such as
/// `Sure!`; `Sure, the tower is tall` still contains a claim.
const BOILERPLATE_SENTENCES: &[&str] = &[
    "sure",
    "certainly",
    "of course",
    "absolutely",
    "great question",
    "thank you",
    "thanks",
    "i'm sorry",
    "i am sorry",
];

/// Splits text into sentences.
///
/// A sentence ends at `.`, `!`, `?` or `…` followed by whitespace, at a
/// CJK full stop, exclamation or question mark (`。`, `！`, `？`, `．`)
/// even without a following space, and at a line break. A period does not
/// end a sentence after a listed abbreviation, after a single-letter
/// initial (`J. K. Rowling`), inside a number (`3.14`) or before a
/// lowercase Latin letter. A period glued to a capitalised word after a
/// lowercase letter (`century.First`) does end one, because concatenated
/// passages often lose the space. Bullet and number markers at the start
/// of a line are removed. Returns trimmed, non-empty sentences in order.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    for line in text.lines() {
        let item = strip_list_marker(line.trim());
        split_line(item, &mut sentences);
    }
    sentences
}

/// Extracts the claims of an answer: its sentences minus questions, lead-ins
/// ending in a colon, boilerplate and sentences without a content word.
///
/// ```
/// use llmops_eval::rag::extract_claims;
///
/// let claims = extract_claims("Paris is the capital. Want more? I hope this helps!");
/// assert_eq!(claims, ["Paris is the capital."]);
/// ```
pub fn extract_claims(answer: &str) -> Vec<String> {
    split_sentences(answer)
        .into_iter()
        .filter(|sentence| is_claim(sentence))
        .collect()
}

fn is_claim(sentence: &str) -> bool {
    let trimmed = sentence.trim_end_matches(['"', '\'', ')', '”', '’']);
    if trimmed.ends_with('?') || trimmed.ends_with('？') {
        return false;
    }
    // A lead-in such as `Here are the steps:` introduces claims, it makes none.
    if trimmed.ends_with(':') || trimmed.ends_with('：') {
        return false;
    }
    let lowered = sentence.to_lowercase();
    if BOILERPLATE_PREFIXES
        .iter()
        .any(|prefix| starts_with_phrase(&lowered, prefix))
    {
        return false;
    }
    let bare = lowered.trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    if BOILERPLATE_SENTENCES.contains(&bare) {
        return false;
    }
    !content_tokens(sentence).is_empty()
}

/// Returns whether `text` starts with `phrase` as whole words.
fn starts_with_phrase(text: &str, phrase: &str) -> bool {
    text.strip_prefix(phrase)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
}

/// Removes a leading `-`, `*`, `•`, `1.`, `1)` or `a)` list marker.
fn strip_list_marker(line: &str) -> &str {
    for bullet in ['-', '*', '•', '·', '‣', '–'] {
        if let Some(rest) = line.strip_prefix(bullet) {
            if rest.starts_with(char::is_whitespace) {
                return rest.trim_start();
            }
        }
    }
    let marker_end = line
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(index, c)| index + c.len_utf8());
    if let Some(end) = marker_end {
        let rest = &line[end..];
        for closer in ['.', ')'] {
            if let Some(after) = rest.strip_prefix(closer) {
                if after.starts_with(char::is_whitespace) {
                    return after.trim_start();
                }
            }
        }
    }
    line
}

fn split_line(line: &str, sentences: &mut Vec<String>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut start = 0;
    for (position, &(index, c)) in chars.iter().enumerate() {
        let end = index + c.len_utf8();
        let next = chars.get(position + 1).map(|&(_, next)| next);
        if ends_sentence(line, index, c, next, &chars[position + 1..]) {
            push_sentence(&line[start..end], sentences);
            start = end;
        }
    }
    push_sentence(&line[start..], sentences);
}

fn push_sentence(piece: &str, sentences: &mut Vec<String>) {
    let piece = piece.trim();
    if !piece.is_empty() {
        sentences.push(piece.to_owned());
    }
}

/// Returns whether the character at byte `index` ends a sentence.
fn ends_sentence(
    line: &str,
    index: usize,
    c: char,
    next: Option<char>,
    rest: &[(usize, char)],
) -> bool {
    match c {
        '。' | '！' | '？' | '．' => return true,
        '!' | '?' | '…' => return next.is_none_or(char::is_whitespace),
        '.' => {}
        _ => return false,
    }
    let before = &line[..index];
    let previous = before.chars().next_back();
    match next {
        None => true,
        Some(next) if next.is_whitespace() => {
            let following = rest.iter().map(|&(_, c)| c).find(|c| !c.is_whitespace());
            if following.is_some_and(|c| c.is_ascii_lowercase()) {
                return false;
            }
            !ends_with_abbreviation(before)
        }
        // A citation right after the period: `Paris is in France.[1]`.
        Some('[') => true,
        // `century.First`: two passages glued together.
        Some(next) if next.is_uppercase() => {
            previous.is_some_and(char::is_lowercase) && last_word(before).chars().count() > 1
        }
        Some(_) => false,
    }
}

fn last_word(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '(' | '"' | '“'))
        .map(|(index, c)| index + c.len_utf8())
        .unwrap_or(0);
    &text[start..]
}

fn ends_with_abbreviation(before: &str) -> bool {
    let word = last_word(before);
    let mut letters = word.chars();
    if let (Some(only), None) = (letters.next(), letters.next()) {
        // A single-letter initial, as in `J. K. Rowling`.
        return only.is_alphabetic();
    }
    let lowered = word.to_lowercase();
    ABBREVIATIONS.contains(&lowered.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_and_decimals_stay() {
        let text = "Dr. Smith paid $3.50 at 5 p.m. yesterday. J. K. Rowling wrote it.";
        assert_eq!(
            split_sentences(text),
            [
                "Dr. Smith paid $3.50 at 5 p.m. yesterday.",
                "J. K. Rowling wrote it."
            ]
        );
    }

    #[test]
    fn cjk_sentence_ends_split() {
        assert_eq!(
            split_sentences("東京は日本の首都です。人口は多い！本当？"),
            ["東京は日本の首都です。", "人口は多い！", "本当？"]
        );
        assert_eq!(
            split_sentences("서울은 한국의 수도이다. 인구는 약 940만 명이다."),
            ["서울은 한국의 수도이다.", "인구는 약 940만 명이다."]
        );
    }

    #[test]
    fn bullets_become_items() {
        let text = "Steps:\n- Preheat the oven.\n* Mix flour\n2) Bake for 20 minutes\n3. Serve";
        assert_eq!(
            split_sentences(text),
            [
                "Steps:",
                "Preheat the oven.",
                "Mix flour",
                "Bake for 20 minutes",
                "Serve"
            ]
        );
    }

    #[test]
    fn glued_passages_split() {
        assert_eq!(
            split_sentences("It was published in the 19th century.First for Women is new."),
            [
                "It was published in the 19th century.",
                "First for Women is new."
            ]
        );
        assert_eq!(
            split_sentences("Use ASP.NET today."),
            ["Use ASP.NET today."]
        );
    }

    #[test]
    fn claims_drop_questions_and_boilerplate() {
        let answer = "Sure! The tower is 330 metres tall. Is that what you needed? \
                      I hope this helps.";
        assert_eq!(extract_claims(answer), ["The tower is 330 metres tall."]);
    }

    #[test]
    fn claim_after_sure_kept() {
        assert_eq!(
            extract_claims("Sure, the tower is tall. Here are the facts:"),
            ["Sure, the tower is tall."]
        );
    }

    #[test]
    fn claims_of_empty_or_questions_only() {
        assert!(extract_claims("").is_empty());
        assert!(extract_claims("   \n\n ").is_empty());
        assert!(extract_claims("Why? What is it? 本当？").is_empty());
    }

    #[test]
    fn fragment_answer_is_claim() {
        assert_eq!(
            extract_claims("President Richard Nixon"),
            ["President Richard Nixon"]
        );
    }
}
