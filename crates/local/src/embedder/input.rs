//! Turning texts into token ids within the model's input limit.

use tokenizers::Tokenizer;

use crate::error::LocalError;

/// The token ids of one text, `[CLS]` and `[SEP]` included.
pub(crate) type TokenIds = Vec<u32>;

/// Encodes each text with `[CLS]` and `[SEP]` added.
///
/// A text of more than `max_tokens` tokens is cut to its first
/// `max_tokens - 1` tokens plus the final `[SEP]` when `truncate` is set,
/// which is what sentence-transformers does, and is rejected otherwise.
pub(crate) fn encode_texts(
    tokenizer: &Tokenizer,
    texts: &[String],
    max_tokens: usize,
    truncate: bool,
) -> Result<Vec<TokenIds>, LocalError> {
    texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let encoding =
                tokenizer
                    .encode(text.as_str(), true)
                    .map_err(|error| LocalError::Tokenizer {
                        message: format!("cannot encode input {index}: {error}"),
                    })?;
            let ids = encoding.get_ids();
            if ids.len() <= max_tokens {
                return Ok(ids.to_vec());
            }
            if !truncate {
                return Err(LocalError::InputTooLong {
                    index,
                    tokens: ids.len(),
                    max_tokens,
                });
            }
            Ok(truncated(ids, max_tokens))
        })
        .collect()
}

/// Keeps the first `max_tokens - 1` ids and the last one (`[SEP]`).
fn truncated(ids: &[u32], max_tokens: usize) -> TokenIds {
    let keep = max_tokens.saturating_sub(1);
    let mut kept: TokenIds = ids.iter().take(keep).copied().collect();
    kept.extend(ids.last());
    kept
}

/// Returns the indexes of `inputs` from longest to shortest, so each batch
/// contains texts of similar length.
pub(crate) fn longest_first(inputs: &[TokenIds]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(inputs[index].len()));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_final_separator() {
        let ids = [101, 1, 2, 3, 4, 102];
        assert_eq!(truncated(&ids, 4), vec![101, 1, 2, 102]);
        assert_eq!(truncated(&ids, 6), ids.to_vec());
    }

    #[test]
    fn order_is_longest_first_and_stable() {
        let inputs = vec![vec![1], vec![1, 2, 3], vec![1, 2], vec![4, 5, 6]];
        assert_eq!(longest_first(&inputs), vec![1, 3, 2, 0]);
    }
}
