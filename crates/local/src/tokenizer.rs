//! The model's byte-level BPE tokenizer, built from GGUF metadata.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file;
use llmops_core::types::ChatMessage;
use tokenizers::Tokenizer;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;

use crate::error::LocalError;
use crate::template::ChatTemplate;

/// GGUF `tokenizer.ggml.token_type` of control tokens such as `<|im_end|>`.
const TOKEN_TYPE_CONTROL: i64 = 3;

/// The tokenizer of the local model.
///
/// It is built from the vocabulary, merges, token types and pre-tokenizer
/// name stored in the model file, so token ids match the model exactly.
/// Text is always encoded without special-token parsing: a message that
/// contains `<|im_end|>` is tokenized as the characters `<`, `|`, ... and
/// cannot end a turn or start a new role. Special tokens enter a prompt only
/// through the chat template ([`LocalTokenizer::chat_prompt`]).
#[derive(Clone)]
pub struct LocalTokenizer {
    inner: Tokenizer,
    /// Raw bytes of every token, by id; empty for control tokens.
    token_bytes: Vec<Vec<u8>>,
    /// Whether each token id is a control token.
    control: Vec<bool>,
    template: ChatTemplate,
    /// Tokens that end the assistant's turn.
    end_of_turn: Vec<u32>,
}

impl std::fmt::Debug for LocalTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTokenizer")
            .field("vocab_size", &self.token_bytes.len())
            .field("end_of_turn", &self.end_of_turn)
            .finish_non_exhaustive()
    }
}

impl LocalTokenizer {
    /// Reads the tokenizer from the metadata of a GGUF model file, without
    /// loading the weights.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::Io`] when the file cannot be read and
    /// [`LocalError::InvalidModel`] when its metadata lacks a supported
    /// tokenizer or chat template.
    pub fn from_gguf_file(path: &Path) -> Result<Self, LocalError> {
        let mut file = std::fs::File::open(path).map_err(|error| LocalError::io(path, error))?;
        let content =
            gguf_file::Content::read(&mut file).map_err(|error| LocalError::InvalidModel {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        Self::from_gguf(&content).map_err(|message| LocalError::InvalidModel {
            path: path.to_owned(),
            message,
        })
    }

    /// Builds the tokenizer from parsed GGUF metadata; the error says which
    /// metadata key is missing or unsupported.
    pub(crate) fn from_gguf(content: &gguf_file::Content) -> Result<Self, String> {
        let metadata = Metadata(content);
        let model = metadata.string("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(format!(
                "tokenizer.ggml.model is {model:?}; only byte-level BPE (\"gpt2\") is supported"
            ));
        }
        let pre = metadata.string("tokenizer.ggml.pre")?;
        if pre != "smollm" {
            return Err(format!(
                "tokenizer.ggml.pre is {pre:?}; only the \"smollm\" pre-tokenizer is supported"
            ));
        }

        let tokens = metadata.strings("tokenizer.ggml.tokens")?;
        let merges = metadata.strings("tokenizer.ggml.merges")?;
        let token_types = metadata.integers("tokenizer.ggml.token_type")?;
        if token_types.len() != tokens.len() {
            return Err(format!(
                "tokenizer.ggml.token_type has {} entries for {} tokens",
                token_types.len(),
                tokens.len()
            ));
        }
        let control: Vec<bool> = token_types
            .iter()
            .map(|&kind| kind == TOKEN_TYPE_CONTROL)
            .collect();

        let inner = build_bpe(&tokens, &merges)?;
        let byte_of_char = byte_of_char();
        let token_bytes = tokens
            .iter()
            .zip(&control)
            .map(|(token, &is_control)| {
                if is_control {
                    Vec::new()
                } else {
                    token_to_bytes(token, &byte_of_char)
                }
            })
            .collect();

        let id_of = |text: &str| -> Result<u32, String> {
            let id = tokens
                .iter()
                .position(|token| token == text)
                .ok_or_else(|| format!("the vocabulary has no {text} token"))?;
            u32::try_from(id).map_err(|_| format!("token id of {text} out of range"))
        };
        let im_start = id_of("<|im_start|>")?;
        let im_end = id_of("<|im_end|>")?;
        let template_source = metadata.string("tokenizer.chat_template")?;
        let template = ChatTemplate::parse(&template_source, im_start, im_end)?;

        let mut end_of_turn = vec![im_end];
        let eos = content
            .metadata
            .get("tokenizer.ggml.eos_token_id")
            .and_then(|value| value.to_u32().ok());
        end_of_turn.extend(eos);
        // A new turn or the end-of-text token also ends the assistant's turn.
        end_of_turn.push(im_start);
        end_of_turn.extend(id_of("<|endoftext|>").ok());
        end_of_turn.sort_unstable();
        end_of_turn.dedup();

        Ok(LocalTokenizer {
            inner,
            token_bytes,
            control,
            template,
            end_of_turn,
        })
    }

    /// Encodes text as plain text: special-token strings in it are split
    /// like any other characters.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::Tokenizer`] if the BPE model fails, which does
    /// not happen for valid UTF-8 with this byte-level vocabulary.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LocalError> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let encoding =
            self.inner
                .encode_fast(text, false)
                .map_err(|error| LocalError::Tokenizer {
                    message: error.to_string(),
                })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Returns the number of tokens of `text` encoded as plain text.
    ///
    /// # Errors
    ///
    /// As [`LocalTokenizer::encode`].
    pub fn count_tokens(&self, text: &str) -> Result<usize, LocalError> {
        Ok(self.encode(text)?.len())
    }

    /// Decodes ids to text, leaving out control tokens; bytes that do not
    /// form valid UTF-8 become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| self.token_bytes(id).iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Renders a conversation with the model's ChatML template and returns
    /// the prompt ids, ending with the opening of the assistant's turn.
    ///
    /// Following the template stored in the model file, a conversation that
    /// does not start with a system message gets the model's default system
    /// message. `developer` messages count as `system` messages.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::InvalidRequest`] naming the message field when
    /// the conversation is empty, has a role the template cannot express,
    /// or has non-text content or tool calls.
    pub fn chat_prompt(&self, messages: &[ChatMessage]) -> Result<Vec<u32>, LocalError> {
        self.template.render(messages, |text| self.encode(text))
    }

    /// Returns the number of prompt tokens of a conversation, as
    /// [`LocalTokenizer::chat_prompt`] renders it.
    ///
    /// # Errors
    ///
    /// As [`LocalTokenizer::chat_prompt`].
    pub fn count_chat_tokens(&self, messages: &[ChatMessage]) -> Result<usize, LocalError> {
        Ok(self.chat_prompt(messages)?.len())
    }

    /// Returns the number of tokens in the vocabulary.
    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }

    /// Returns the raw bytes of a token; empty for control tokens and
    /// unknown ids.
    pub(crate) fn token_bytes(&self, id: u32) -> &[u8] {
        self.token_bytes
            .get(id as usize)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Returns whether `id` ends the assistant's turn.
    pub(crate) fn is_end_of_turn(&self, id: u32) -> bool {
        self.end_of_turn.contains(&id)
    }

    /// Returns whether `id` is a control token.
    pub(crate) fn is_control(&self, id: u32) -> bool {
        self.control.get(id as usize).copied().unwrap_or(false)
    }
}

/// Builds the BPE model with the `smollm` pre-tokenizer: digits split one
/// by one, then GPT-2 byte-level splitting with no prefix space.
fn build_bpe(tokens: &[String], merges: &[String]) -> Result<Tokenizer, String> {
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(id, token)| (token.clone(), id as u32))
        .collect();
    let merges = merges
        .iter()
        .map(|merge| {
            merge
                .split_once(' ')
                .map(|(left, right)| (left.to_owned(), right.to_owned()))
                .ok_or_else(|| format!("tokenizer.ggml.merges entry {merge:?} has no space"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|error| format!("cannot build the BPE model: {error}"))?;

    let mut tokenizer = Tokenizer::new(bpe);
    let pre_tokenizer = Sequence::new(vec![
        Digits::new(true).into(),
        ByteLevel::new(false, true, true).into(),
    ]);
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    Ok(tokenizer)
}

/// Returns the inverse of GPT-2's byte-to-character table, which maps each
/// byte to a printable character so that byte-level tokens are strings.
///
/// Printable Latin-1 bytes map to the same code point; the other 68 bytes
/// map, in order, to U+0100 and up.
fn byte_of_char() -> HashMap<char, u8> {
    let mut table = HashMap::with_capacity(256);
    let mut next_extra = 0u32;
    for byte in 0..=255u8 {
        let printable = matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        let code = if printable {
            u32::from(byte)
        } else {
            next_extra += 1;
            255 + next_extra
        };
        if let Some(character) = char::from_u32(code) {
            table.insert(character, byte);
        }
    }
    table
}

/// Maps a byte-level token string back to its bytes.
fn token_to_bytes(token: &str, byte_of_char: &HashMap<char, u8>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(token.len());
    for character in token.chars() {
        match byte_of_char.get(&character) {
            Some(&byte) => bytes.push(byte),
            // Not a byte-level character: keep its UTF-8 form.
            None => bytes.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    bytes
}

/// Typed access to GGUF metadata, with errors naming the key.
struct Metadata<'a>(&'a gguf_file::Content);

impl Metadata<'_> {
    fn value(&self, key: &str) -> Result<&gguf_file::Value, String> {
        self.0
            .metadata
            .get(key)
            .ok_or_else(|| format!("metadata key {key} is missing"))
    }

    fn string(&self, key: &str) -> Result<String, String> {
        self.value(key)?
            .to_string()
            .cloned()
            .map_err(|_| format!("metadata key {key} is not a string"))
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, String> {
        let values = self
            .value(key)?
            .to_vec()
            .map_err(|_| format!("metadata key {key} is not an array"))?;
        values
            .iter()
            .map(|value| {
                value
                    .to_string()
                    .cloned()
                    .map_err(|_| format!("metadata key {key} has a non-string element"))
            })
            .collect()
    }

    fn integers(&self, key: &str) -> Result<Vec<i64>, String> {
        let values = self
            .value(key)?
            .to_vec()
            .map_err(|_| format!("metadata key {key} is not an array"))?;
        values
            .iter()
            .map(|value| match value {
                gguf_file::Value::I32(number) => Ok(i64::from(*number)),
                gguf_file::Value::U32(number) => Ok(i64::from(*number)),
                gguf_file::Value::I8(number) => Ok(i64::from(*number)),
                gguf_file::Value::U8(number) => Ok(i64::from(*number)),
                other => Err(format!(
                    "metadata key {key} has a non-integer element {other:?}"
                )),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Utf8Decoder;

    #[test]
    fn byte_table_covers_every_byte() {
        let table = byte_of_char();
        assert_eq!(table.len(), 256);
        assert_eq!(table[&'Ġ'], b' ');
        assert_eq!(table[&'Ċ'], b'\n');
        assert_eq!(table[&'a'], b'a');
        assert_eq!(table[&'Ā'], 0);
    }

    #[test]
    fn token_bytes_decode_space_prefix() {
        let table = byte_of_char();
        assert_eq!(token_to_bytes("Ġhello", &table), b" hello");
        // "ðŁ¦Ģ" is the byte-level form of the crab emoji's four bytes.
        assert_eq!(token_to_bytes("ðŁ¦Ģ", &table), "🦀".as_bytes());
    }

    /// Feeds the bytes of real tokens one token at a time, as generation
    /// does, and checks that characters split across tokens come out whole.
    #[tokio::test]
    async fn split_characters_streamed_whole() {
        let path = crate::test_support::model_path().await;
        let tokenizer = LocalTokenizer::from_gguf_file(&path).unwrap();
        for text in ["🦀🎉 crab party", "한국어 문장입니다", "naïve café ☕"] {
            let ids = tokenizer.encode(text).unwrap();
            let split_tokens = ids
                .iter()
                .filter(|&&id| std::str::from_utf8(tokenizer.token_bytes(id)).is_err())
                .count();
            assert!(
                split_tokens > 0,
                "{text:?} has no token that splits a character"
            );

            let mut decoder = Utf8Decoder::default();
            let pieces: Vec<String> = ids
                .iter()
                .map(|&id| decoder.push(tokenizer.token_bytes(id)))
                .collect();
            assert_eq!(decoder.discard_unfinished(), 0);
            assert_eq!(pieces.concat(), text);
            for piece in &pieces {
                assert!(!piece.contains(char::REPLACEMENT_CHARACTER), "{pieces:?}");
            }
        }
    }
}
