//! Context words near a match, looked up without allocating: the window is
//! lower-cased into a buffer on the stack.

/// Context window in chars before the match; the window after it is a third of this.
pub(crate) const CONTEXT_WINDOW_CHARS: usize = 30;

/// Chars one char can lower-case to: `char::to_lowercase` yields at most 3.
const MAX_LOWER_CHARS: usize = 3;

/// A lower-cased window of text.
struct LowerWindow {
    chars: [char; MAX_LOWER_CHARS * CONTEXT_WINDOW_CHARS],
    len: usize,
}

impl LowerWindow {
    /// Lower-cases `text` char by char. `text` has at most
    /// [`CONTEXT_WINDOW_CHARS`] chars.
    fn new(text: &str) -> Self {
        let mut window = Self {
            chars: ['\0'; MAX_LOWER_CHARS * CONTEXT_WINDOW_CHARS],
            len: 0,
        };
        for c in text.chars() {
            // ASCII and Hangul syllables cover most windows and need no table.
            if c.is_ascii() || ('\u{AC00}'..='\u{D7A3}').contains(&c) {
                window.push(c.to_ascii_lowercase());
            } else {
                c.to_lowercase().for_each(|lower| window.push(lower));
            }
        }
        window
    }

    fn push(&mut self, c: char) {
        if let Some(slot) = self.chars.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    /// Returns true when `word` occurs in the window.
    fn contains(&self, word: &str) -> bool {
        let length = word.chars().count();
        if length == 0 {
            return true;
        }
        self.chars[..self.len]
            .windows(length)
            .any(|candidate| candidate.iter().copied().eq(word.chars()))
    }
}

/// Returns true when one of `words` occurs, ignoring case, among the
/// [`CONTEXT_WINDOW_CHARS`] chars before `start` or the third as many after
/// `end`.
///
/// Each char is lower-cased alone, so a capital sigma becomes `σ` even at
/// the end of a word, where `str::to_lowercase` gives `ς`. No context word
/// contains either.
pub(crate) fn has_context(text: &str, start: usize, end: usize, words: &[&str]) -> bool {
    if words.is_empty() {
        return false;
    }
    let before = text.get(..start).unwrap_or("");
    let before_start = before
        .char_indices()
        .rev()
        .nth(CONTEXT_WINDOW_CHARS - 1)
        .map_or(0, |(index, _)| index);
    let after = text.get(end..).unwrap_or("");
    let after_end = after
        .char_indices()
        .nth(CONTEXT_WINDOW_CHARS / 3)
        .map_or(after.len(), |(index, _)| index);
    let before = LowerWindow::new(&before[before_start..]);
    let after = LowerWindow::new(&after[..after_end]);
    words
        .iter()
        .any(|word| before.contains(word) || after.contains(word))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Lower-cases both windows into new strings.
    fn with_strings(text: &str, start: usize, end: usize, words: &[&str]) -> bool {
        if words.is_empty() {
            return false;
        }
        let before: String = text[..start]
            .chars()
            .rev()
            .take(CONTEXT_WINDOW_CHARS)
            .collect();
        let before = before.chars().rev().collect::<String>().to_lowercase();
        let after = text[end..]
            .chars()
            .take(CONTEXT_WINDOW_CHARS / 3)
            .collect::<String>()
            .to_lowercase();
        words
            .iter()
            .any(|word| before.contains(word) || after.contains(word))
    }

    const PIECES: &[&str] = &[
        "전화", "계좌", "Phone", "TEL", "mobile", "İ", "ẞ", "Ä", "ä", "x", " ", "-", "010", "가",
        "Bank", "account",
    ];
    const WORDS: &[&str] = &[
        "전화", "계좌", "phone", "tel", "mobile", "bank", "account", "ä",
    ];

    proptest! {
        #[test]
        fn stack_window_equals_lowercased_strings(
            picks in prop::collection::vec(0..PIECES.len(), 0..40),
            split in 0usize..40,
            width in 0usize..4,
        ) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let start = boundaries[split.min(boundaries.len() - 1)];
            let end = boundaries[(split + width).min(boundaries.len() - 1)];
            prop_assert_eq!(
                has_context(&text, start, end, WORDS),
                with_strings(&text, start, end, WORDS)
            );
        }
    }

    #[test]
    fn windows_have_their_lengths() {
        let far = format!("전화{}010-1234-5678", "가".repeat(CONTEXT_WINDOW_CHARS - 2));
        let match_start = far.find('0').unwrap();
        assert!(has_context(&far, match_start, far.len(), &["전화"]));
        let too_far = format!("전화{}010-1234-5678", "가".repeat(CONTEXT_WINDOW_CHARS - 1));
        let match_start = too_far.find('0').unwrap();
        assert!(!has_context(
            &too_far,
            match_start,
            too_far.len(),
            &["전화"]
        ));
        assert!(has_context("010 1234 MOBILE", 0, 8, &["mobile"]));
        assert!(!has_context("010 1234 mobile", 0, 3, &["mobile"]));
        assert!(!has_context("010", 0, 3, &[]));
    }
}
