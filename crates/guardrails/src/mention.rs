//! Entity mentions named by a model, and where they occur in a text.

use std::borrow::Cow;
use std::fmt;

use crate::entity::EntityType;
use crate::finding::Finding;
use crate::normalize::CharIndex;

/// An entity a model named in a text, as the text of the mention rather
/// than as offsets, such as the person name `홍길동`.
///
/// A mention stands for every occurrence of its text, so offsets are found
/// by [`locate_mentions`] in whichever text is checked. `Debug` shows the
/// mention's length, never its text.
#[derive(Clone, PartialEq)]
pub struct EntityMention {
    /// Kind of value, such as [`EntityType::Person`].
    pub entity: EntityType,
    /// The mention exactly as it appears in the text.
    pub text: String,
    /// Confidence in `0.0..=1.0`.
    pub score: f32,
    /// Name of the recognizer, reported in every finding of this mention.
    pub recognizer: Cow<'static, str>,
}

impl fmt::Debug for EntityMention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityMention")
            .field("entity", &self.entity)
            .field("chars", &self.text.chars().count())
            .field("score", &self.score)
            .field("recognizer", &self.recognizer)
            .finish()
    }
}

/// Returns a finding for every occurrence of every mention in `text`,
/// sorted by start.
///
/// A mention matches its exact text. A match is skipped when it cuts a
/// word. That is the case when the mention starts or ends with a letter or
/// digit of a script that separates words with spaces (Latin, Cyrillic and
/// so on), and the text continues with another such char. Hangul, kana and CJK ideographs do not
/// count, so `홍길동` matches in `홍길동님`, where a particle follows the
/// name. Mentions that are empty or blank, not in the text, or scored
/// outside 0 to 1 yield nothing; a duplicate span keeps its highest score.
/// Findings may overlap, and [`resolve_overlaps`](crate::resolve_overlaps)
/// picks among them.
pub fn locate_mentions(text: &str, mentions: &[EntityMention]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    if mentions.is_empty() || text.is_empty() {
        return findings;
    }
    let index = CharIndex::new(text);
    for mention in mentions {
        let needle = mention.text.as_str();
        if needle.trim().is_empty() || !(0.0..=1.0).contains(&mention.score) {
            continue;
        }
        for (start, _) in text.match_indices(needle) {
            let end = start + needle.len();
            if cuts_word(text, start, end) {
                continue;
            }
            let duplicate = findings
                .iter_mut()
                .find(|f| f.bytes == (start..end) && f.entity == mention.entity);
            if let Some(existing) = duplicate {
                existing.score = existing.score.max(mention.score);
                continue;
            }
            findings.push(Finding {
                entity: mention.entity,
                bytes: start..end,
                chars: index.char_offset(start)..index.char_offset(end),
                score: mention.score,
                recognizer: mention.recognizer.clone(),
            });
        }
    }
    findings.sort_by_key(|f| (f.bytes.start, f.bytes.end));
    findings
}

/// Returns true when `text[start..end]` begins or ends inside a word.
fn cuts_word(text: &str, start: usize, end: usize) -> bool {
    let value = &text[start..end];
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = value.chars().next();
    let last = value.chars().next_back();
    let joined = |edge: Option<char>, neighbour: Option<char>| matches!((edge, neighbour), (Some(a), Some(b)) if is_spaced_word_char(a) && is_spaced_word_char(b));
    joined(first, before) || joined(last, after)
}

/// Returns true for letters and digits of scripts that put spaces between
/// words. Hangul, kana and CJK ideographs are excluded because names there
/// are followed directly by particles or titles.
fn is_spaced_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

fn is_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{1100}'..='\u{11FF}'     // Hangul Jamo
            | '\u{3040}'..='\u{30FF}' // Hiragana and Katakana
            | '\u{3130}'..='\u{318F}' // Hangul Compatibility Jamo
            | '\u{3400}'..='\u{4DBF}' // CJK Extension A
            | '\u{4E00}'..='\u{9FFF}' // CJK Unified Ideographs
            | '\u{A960}'..='\u{A97F}' // Hangul Jamo Extended-A
            | '\u{AC00}'..='\u{D7AF}' // Hangul Syllables
            | '\u{D7B0}'..='\u{D7FF}' // Hangul Jamo Extended-B
            | '\u{F900}'..='\u{FAFF}' // CJK Compatibility Ideographs
            | '\u{FF66}'..='\u{FF9F}' // Half-width Katakana
            | '\u{FFA0}'..='\u{FFDC}' // Half-width Hangul
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(entity: EntityType, text: &str, score: f32) -> EntityMention {
        EntityMention {
            entity,
            text: text.to_owned(),
            score,
            recognizer: Cow::Borrowed("test"),
        }
    }

    fn values<'a>(text: &'a str, findings: &[Finding]) -> Vec<&'a str> {
        findings.iter().map(|f| f.value(text)).collect()
    }

    #[test]
    fn every_occurrence_found() {
        let text = "Ann met Bob. Later Ann called Bob's office.";
        let found = locate_mentions(text, &[mention(EntityType::Person, "Ann", 0.8)]);
        assert_eq!(values(text, &found), ["Ann", "Ann"]);
        assert_eq!(found[0].bytes, 0..3);
        assert_eq!(found[1].bytes, 19..22);
    }

    #[test]
    fn korean_offsets_are_chars() {
        let text = "고객 홍길동님이 서울시 마포구로 이사했고, 홍길동은 내일 옵니다.";
        let found = locate_mentions(
            text,
            &[
                mention(EntityType::Person, "홍길동", 0.9),
                mention(EntityType::Location, "서울시 마포구", 0.9),
            ],
        );
        assert_eq!(values(text, &found), ["홍길동", "서울시 마포구", "홍길동"]);
        assert_eq!(found[0].chars, 3..6);
        assert_eq!(found[0].bytes, 7..16);
        assert_eq!(found[1].chars, 9..16);
        assert_eq!(found[2].chars, 24..27);
    }

    #[test]
    fn partial_latin_words_skipped() {
        let text = "Kimberly and Kim ate kimchi; Kim.";
        let found = locate_mentions(text, &[mention(EntityType::Person, "Kim", 0.8)]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].bytes, 13..16);
        assert_eq!(found[1].bytes, 29..32);
    }

    #[test]
    fn absent_blank_and_bad_mentions_dropped() {
        let text = "No names here.";
        let mentions = [
            mention(EntityType::Person, "Alice", 0.8),
            mention(EntityType::Person, "", 0.8),
            mention(EntityType::Person, "   ", 0.8),
            mention(EntityType::Person, "names", f32::NAN),
            mention(EntityType::Person, "names", 1.5),
        ];
        assert!(locate_mentions(text, &mentions).is_empty());
        assert!(locate_mentions("", &mentions).is_empty());
    }

    #[test]
    fn duplicate_mentions_keep_max_score() {
        let text = "Call Dana.";
        let found = locate_mentions(
            text,
            &[
                mention(EntityType::Person, "Dana", 0.6),
                mention(EntityType::Person, "Dana", 0.9),
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].score, 0.9);
    }

    #[test]
    fn multibyte_neighbours_respected() {
        // "Zoë" ends in a non-ASCII letter, so "Zo" cuts the word.
        let text = "Zoë and Zo, 🙂Zo🙂";
        let found = locate_mentions(text, &[mention(EntityType::Person, "Zo", 0.8)]);
        assert_eq!(values(text, &found), ["Zo", "Zo"]);
        assert_eq!(found[1].chars, 13..15);
    }

    #[test]
    fn debug_hides_mention_text() {
        let debug = format!("{:?}", mention(EntityType::Person, "홍길동", 0.8));
        assert!(!debug.contains("홍길동"), "{debug}");
        assert!(debug.contains("chars: 3"), "{debug}");
    }
}
