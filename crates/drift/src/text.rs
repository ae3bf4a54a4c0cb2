//! Tokenisation of inputs for topic labels.

/// English function words left out of topic labels. Short on purpose:
/// c-TF-IDF already down-weights terms common to all topics.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but",
    "by", "can", "could", "did", "do", "does", "for", "from", "get", "had", "has", "have", "he",
    "her", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "my",
    "no", "not", "of", "on", "or", "our", "please", "she", "so", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "to", "up", "us", "was", "we", "were",
    "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
];

/// Splits `text` into lowercase words of letters and digits, in any script,
/// dropping stop words and one-character words.
pub(crate) fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|word| word.trim_matches('\'').to_lowercase())
        .filter(|word| word.chars().count() > 1 && !STOP_WORDS.contains(&word.as_str()))
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn terms_lowercase_and_drop_stop_words() {
        let found: Vec<String> = terms("How do I freeze MY account?").collect();
        assert_eq!(found, ["freeze", "account"]);
    }

    #[test]
    fn terms_keep_non_latin_words() {
        let found: Vec<String> = terms("계좌 동결 방법, ¿Cómo congelar?").collect();
        assert_eq!(found, ["계좌", "동결", "방법", "cómo", "congelar"]);
    }

    #[test]
    fn terms_of_empty_text_are_empty() {
        assert_eq!(terms("  ?! ").count(), 0);
    }
}
