//! Token-level F1 as in the SQuAD v1.1 evaluation script: lowercase, remove
//! ASCII punctuation and the articles a, an, the, split on whitespace as
//! Python's `str.split` does, then
//! F1 over the multiset of tokens.

use std::collections::HashMap;

use super::tokenize::python_split;

/// Normalizes an answer the SQuAD way.
pub fn squad_normalize(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let without_punctuation: String = lowered
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    python_split(&without_punctuation)
        .filter(|token| !matches!(*token, "a" | "an" | "the"))
        .map(str::to_owned)
        .collect()
}

/// Computes token F1 between a prediction and a reference. Returns `None`
/// when both normalize to no tokens, where F1 is undefined; when only one is
/// empty the F1 is 0.
///
/// ```
/// use llmops_eval::text::token_f1;
///
/// assert_eq!(token_f1("The Eiffel Tower", "eiffel tower!"), Some(1.0));
/// assert_eq!(token_f1("", "..."), None);
/// ```
pub fn token_f1(prediction: &str, reference: &str) -> Option<f64> {
    let prediction_tokens = squad_normalize(prediction);
    let reference_tokens = squad_normalize(reference);
    if prediction_tokens.is_empty() && reference_tokens.is_empty() {
        return None;
    }
    let mut reference_counts: HashMap<&str, u32> = HashMap::new();
    for token in &reference_tokens {
        *reference_counts.entry(token.as_str()).or_insert(0) += 1;
    }
    let mut common = 0u32;
    for token in &prediction_tokens {
        if let Some(count) = reference_counts.get_mut(token.as_str()) {
            if *count > 0 {
                *count -= 1;
                common += 1;
            }
        }
    }
    if common == 0 {
        return Some(0.0);
    }
    let precision = f64::from(common) / prediction_tokens.len() as f64;
    let recall = f64::from(common) / reference_tokens.len() as f64;
    Some(2.0 * precision * recall / (precision + recall))
}
