//! The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping",
//! Program 14(3), 1980) as NLTK 3.x's `PorterStemmer` runs it in its
//! default `NLTK_EXTENSIONS` mode. That is the stemmer rouge-score 0.1.2
//! applies with `use_stemmer=True`.
//!
//! NLTK's mode differs from the published algorithm in these places, all
//! reproduced here:
//!
//! - a table of irregular forms (`skies` to `sky`, `dying` to `die`, …);
//! - words of one or two characters are returned unchanged;
//! - step 1a maps a four-letter word ending in `ies` to `…ie`;
//! - step 1b maps `ied` to `ie` in four-letter words and to `i` otherwise;
//! - the `*o` condition also holds for a two-letter vowel-consonant stem;
//! - step 1c turns `y` into `i` only after a consonant that is not the
//!   first letter;
//! - step 2 applies `alli` to `al` first and then runs step 2 again, uses
//!   `bli` to `ble` in place of `abli` to `able`, and adds `fulli` to
//!   `ful` and `logi` to `log` (with the `l` counted in the stem).

/// A letter of the word being stemmed: a byte for ASCII words, a `char`
/// otherwise. Only `a`, `e`, `i`, `o`, `u` and `y` are not consonants, so
/// any other letter, digits and non-ASCII letters included, is one.
trait Letter: Copy + Eq {
    fn ascii(self) -> Option<u8>;
    fn from_ascii(byte: u8) -> Self;
}

impl Letter for u8 {
    #[inline]
    fn ascii(self) -> Option<u8> {
        Some(self)
    }

    #[inline]
    fn from_ascii(byte: u8) -> Self {
        byte
    }
}

impl Letter for char {
    #[inline]
    fn ascii(self) -> Option<u8> {
        u8::try_from(self).ok().filter(u8::is_ascii)
    }

    #[inline]
    fn from_ascii(byte: u8) -> Self {
        char::from(byte)
    }
}

/// Irregular forms and their stems, looked up before any rule runs.
const IRREGULAR_FORMS: [(&str, &str); 16] = [
    ("sky", "sky"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

/// Stems one word like NLTK's `PorterStemmer().stem(word)`: the word is
/// lowercased first, and words of one or two characters come back
/// lowercased but otherwise unchanged.
///
/// ```
/// use llmops_eval::text::porter_stem;
///
/// assert_eq!(porter_stem("Relational"), "relat");
/// assert_eq!(porter_stem("flies"), "fli");
/// assert_eq!(porter_stem("dies"), "die");
/// ```
pub fn porter_stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.is_ascii() {
        let mut letters = lower.into_bytes();
        if word.chars().count() > 2 {
            stem_ascii(&mut letters);
        }
        // The rules only remove letters or add ASCII ones.
        return String::from_utf8(letters).unwrap_or_default();
    }
    // The irregular forms are all ASCII, so none can match here.
    let mut letters: Vec<char> = lower.chars().collect();
    if word.chars().count() > 2 {
        run_steps(&mut letters);
    }
    letters.into_iter().collect()
}

/// Stems an ASCII word in place, without lowercasing it and without the
/// length check of [`porter_stem`].
pub(crate) fn stem_ascii(word: &mut Vec<u8>) {
    if let Some(stem) = irregular_stem(word) {
        word.clear();
        word.extend_from_slice(stem.as_bytes());
        return;
    }
    run_steps(word);
}

fn irregular_stem(word: &[u8]) -> Option<&'static str> {
    if word.is_empty() {
        return None;
    }
    IRREGULAR_FORMS
        .iter()
        .find(|(form, _)| form.as_bytes() == word)
        .map(|&(_, stem)| stem)
}

fn run_steps<L: Letter>(word: &mut Vec<L>) {
    step_1a(word);
    step_1b(word);
    step_1c(word);
    step_2(word);
    step_3(word);
    step_4(word);
    step_5a(word);
    step_5b(word);
}

// Letter classes and the measure.

/// Returns whether `word[index]` is a consonant. A `y` is one at the start
/// or after a vowel, so the classes in a run of `y`s alternate. The loop
/// walks back over the run instead of recursing, so that a long run cannot
/// exhaust the stack.
fn is_consonant<L: Letter>(word: &[L], index: usize) -> bool {
    let mut index = index;
    let mut flipped = false;
    while index > 0 && word[index].ascii() == Some(b'y') {
        flipped = !flipped;
        index -= 1;
    }
    let consonant = !matches!(word[index].ascii(), Some(b'a' | b'e' | b'i' | b'o' | b'u'));
    consonant != flipped
}

/// Calls `visit` with whether each letter is a consonant, in one pass.
fn for_each_class<L: Letter>(word: &[L], mut visit: impl FnMut(bool)) {
    let mut previous_consonant = false;
    for (index, letter) in word.iter().enumerate() {
        let consonant = match letter.ascii() {
            Some(b'a' | b'e' | b'i' | b'o' | b'u') => false,
            Some(b'y') => index == 0 || !previous_consonant,
            _ => true,
        };
        visit(consonant);
        previous_consonant = consonant;
    }
}

/// Porter's m: the number of vowel-then-consonant transitions.
fn measure<L: Letter>(word: &[L]) -> usize {
    let mut count = 0;
    let mut previous_vowel = false;
    for_each_class(word, |consonant| {
        if consonant && previous_vowel {
            count += 1;
        }
        previous_vowel = !consonant;
    });
    count
}

fn contains_vowel<L: Letter>(word: &[L]) -> bool {
    let mut found = false;
    for_each_class(word, |consonant| found |= !consonant);
    found
}

/// Condition `*d`: the word ends with two equal consonants.
fn ends_double_consonant<L: Letter>(word: &[L]) -> bool {
    let len = word.len();
    len >= 2 && word[len - 1] == word[len - 2] && is_consonant(word, len - 1)
}

/// Condition `*o`: the word ends consonant-vowel-consonant and the last
/// consonant is not `w`, `x` or `y`, or the word is a vowel then a
/// consonant.
fn ends_cvc<L: Letter>(word: &[L]) -> bool {
    let len = word.len();
    if len == 2 {
        return !is_consonant(word, 0) && is_consonant(word, 1);
    }
    len >= 3
        && is_consonant(word, len - 3)
        && !is_consonant(word, len - 2)
        && is_consonant(word, len - 1)
        && !matches!(word[len - 1].ascii(), Some(b'w' | b'x' | b'y'))
}

// Suffix rules.

fn ends_with<L: Letter>(word: &[L], suffix: &str) -> bool {
    let suffix = suffix.as_bytes();
    word.len() >= suffix.len()
        && word[word.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(letter, &byte)| letter.ascii() == Some(byte))
}

fn replace_suffix<L: Letter>(word: &mut Vec<L>, suffix_len: usize, replacement: &str) {
    word.truncate(word.len() - suffix_len);
    word.extend(replacement.bytes().map(L::from_ascii));
}

/// The test a suffix rule applies to the stem, which is the word without
/// the suffix.
#[derive(Clone, Copy)]
enum Condition {
    Always,
    MeasureAbove(usize),
    /// `m > 1` and the stem ends with `s` or `t`.
    MeasureAbove1EndsST,
    /// `m > 0` for the stem with the suffix's first letter kept on it.
    MeasureAbove0KeepingOne,
}

impl Condition {
    fn holds<L: Letter>(self, word: &[L], stem_len: usize) -> bool {
        let stem = &word[..stem_len];
        match self {
            Condition::Always => true,
            Condition::MeasureAbove(floor) => measure(stem) > floor,
            Condition::MeasureAbove1EndsST => {
                measure(stem) > 1
                    && matches!(stem.last().and_then(|l| l.ascii()), Some(b's' | b't'))
            }
            Condition::MeasureAbove0KeepingOne => measure(&word[..stem_len + 1]) > 0,
        }
    }
}

type Rule = (&'static str, &'static str, Condition);

/// Applies the first rule whose suffix ends the word, if its condition
/// holds. A rule whose suffix matches stops the search either way, as in
/// the published algorithm.
fn apply_rules<L: Letter>(word: &mut Vec<L>, rules: &[Rule]) {
    for &(suffix, replacement, condition) in rules {
        if ends_with(word, suffix) {
            if condition.holds(word, word.len() - suffix.len()) {
                replace_suffix(word, suffix.len(), replacement);
            }
            return;
        }
    }
}

// The steps.

fn step_1a<L: Letter>(word: &mut Vec<L>) {
    if word.len() == 4 && ends_with(word, "ies") {
        replace_suffix(word, 3, "ie");
        return;
    }
    apply_rules(
        word,
        &[
            ("sses", "ss", Condition::Always),
            ("ies", "i", Condition::Always),
            ("ss", "ss", Condition::Always),
            ("s", "", Condition::Always),
        ],
    );
}

fn step_1b<L: Letter>(word: &mut Vec<L>) {
    if ends_with(word, "ied") {
        let replacement = if word.len() == 4 { "ie" } else { "i" };
        replace_suffix(word, 3, replacement);
        return;
    }
    if ends_with(word, "eed") {
        if measure(&word[..word.len() - 3]) > 0 {
            replace_suffix(word, 3, "ee");
        }
        return;
    }
    let removed = ["ed", "ing"].into_iter().find(|suffix| {
        ends_with(word, suffix) && contains_vowel(&word[..word.len() - suffix.len()])
    });
    let Some(suffix) = removed else {
        return;
    };
    word.truncate(word.len() - suffix.len());

    for (ending, restored) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if ends_with(word, ending) {
            replace_suffix(word, ending.len(), restored);
            return;
        }
    }
    if ends_double_consonant(word) {
        let last = word[word.len() - 1].ascii();
        if !matches!(last, Some(b'l' | b's' | b'z')) {
            word.pop();
        }
        return;
    }
    if measure(word) == 1 && ends_cvc(word) {
        word.push(L::from_ascii(b'e'));
    }
}

fn step_1c<L: Letter>(word: &mut Vec<L>) {
    let len = word.len();
    if ends_with(word, "y") && len - 1 > 1 && is_consonant(word, len - 2) {
        replace_suffix(word, 1, "i");
    }
}

fn step_2<L: Letter>(word: &mut Vec<L>) {
    if ends_with(word, "alli") && measure(&word[..word.len() - 4]) > 0 {
        replace_suffix(word, 4, "al");
        step_2(word);
        return;
    }
    let positive = Condition::MeasureAbove(0);
    apply_rules(
        word,
        &[
            ("ational", "ate", positive),
            ("tional", "tion", positive),
            ("enci", "ence", positive),
            ("anci", "ance", positive),
            ("izer", "ize", positive),
            ("bli", "ble", positive),
            ("alli", "al", positive),
            ("entli", "ent", positive),
            ("eli", "e", positive),
            ("ousli", "ous", positive),
            ("ization", "ize", positive),
            ("ation", "ate", positive),
            ("ator", "ate", positive),
            ("alism", "al", positive),
            ("iveness", "ive", positive),
            ("fulness", "ful", positive),
            ("ousness", "ous", positive),
            ("aliti", "al", positive),
            ("iviti", "ive", positive),
            ("biliti", "ble", positive),
            ("fulli", "ful", positive),
            ("logi", "log", Condition::MeasureAbove0KeepingOne),
        ],
    );
}

fn step_3<L: Letter>(word: &mut Vec<L>) {
    let positive = Condition::MeasureAbove(0);
    apply_rules(
        word,
        &[
            ("icate", "ic", positive),
            ("ative", "", positive),
            ("alize", "al", positive),
            ("iciti", "ic", positive),
            ("ical", "ic", positive),
            ("ful", "", positive),
            ("ness", "", positive),
        ],
    );
}

fn step_4<L: Letter>(word: &mut Vec<L>) {
    let above_1 = Condition::MeasureAbove(1);
    apply_rules(
        word,
        &[
            ("al", "", above_1),
            ("ance", "", above_1),
            ("ence", "", above_1),
            ("er", "", above_1),
            ("ic", "", above_1),
            ("able", "", above_1),
            ("ible", "", above_1),
            ("ant", "", above_1),
            ("ement", "", above_1),
            ("ment", "", above_1),
            ("ent", "", above_1),
            ("ion", "", Condition::MeasureAbove1EndsST),
            ("ou", "", above_1),
            ("ism", "", above_1),
            ("ate", "", above_1),
            ("iti", "", above_1),
            ("ous", "", above_1),
            ("ive", "", above_1),
            ("ize", "", above_1),
        ],
    );
}

/// Step 5a tries both of its rules, unlike the other steps: `(m>1) E ->`
/// and then `(m=1 and not *o) E ->`.
fn step_5a<L: Letter>(word: &mut Vec<L>) {
    if !ends_with(word, "e") {
        return;
    }
    let stem = &word[..word.len() - 1];
    let stem_measure = measure(stem);
    if stem_measure > 1 || (stem_measure == 1 && !ends_cvc(stem)) {
        word.pop();
    }
}

/// Step 5b: `(m>1 and *d and *L) -> single letter`, with m taken over the
/// word without its last `l`.
fn step_5b<L: Letter>(word: &mut Vec<L>) {
    if ends_with(word, "ll") && measure(&word[..word.len() - 1]) > 1 {
        word.pop();
    }
}

#[cfg(test)]
mod tests;
