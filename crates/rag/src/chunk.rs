//! Token-aware, structure-aware chunking with offsets into the source text.

use llmops_core::tokens::TokenCounter;
use serde::{Deserialize, Serialize};
use text_splitter::{ChunkConfig, ChunkSizer, MarkdownSplitter, TextSplitter};

use crate::document::Format;
use crate::error::{RagError, Result};

/// How documents are cut into chunks; recorded with every index version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkingConfig {
    /// Model whose tokenizer counts chunk sizes, through
    /// [`TokenCounter::count_text`]: exact for OpenAI models, an `o200k_base`
    /// estimate for others.
    pub tokenizer_model: String,
    /// Largest chunk, in tokens.
    pub max_tokens: usize,
    /// Tokens repeated from the end of one chunk at the start of the next.
    /// Must be below `max_tokens`.
    pub overlap_tokens: usize,
}

impl Default for ChunkingConfig {
    fn default() -> Self {
        ChunkingConfig {
            tokenizer_model: "gpt-4o".to_owned(),
            max_tokens: 256,
            overlap_tokens: 32,
        }
    }
}

/// A piece of a document's extracted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// The document the chunk comes from.
    pub document_id: String,
    /// Position of the chunk within its document, from 0.
    pub sequence: u32,
    /// Byte offset of the chunk's first byte in the extracted text.
    pub start: usize,
    /// Byte offset one past the chunk's last byte in the extracted text.
    pub end: usize,
    /// The chunk text, equal to `source[start..end]`.
    pub text: String,
}

/// Counts chunk sizes with the tokenizer of one model.
struct TokenSizer<'a> {
    counter: &'a TokenCounter,
    model: &'a str,
}

impl ChunkSizer for TokenSizer<'_> {
    fn size(&self, chunk: &str) -> usize {
        usize::try_from(self.counter.count_text(self.model, chunk).tokens).unwrap_or(usize::MAX)
    }
}

/// Splits extracted text into chunks.
///
/// Markdown splits at headings first, then paragraphs, sentences and words;
/// other formats at paragraphs, sentences and words. Chunks are trimmed of
/// surrounding whitespace, never split a UTF-8 character, and every chunk's
/// `start..end` range slices the source to exactly its text.
///
/// ```
/// use llmops_core::tokens::TokenCounter;
/// use llmops_rag::{ChunkingConfig, Format, chunk_text};
///
/// let config = ChunkingConfig { max_tokens: 8, overlap_tokens: 0, ..Default::default() };
/// let text = "# Title\n\nFirst paragraph here.\n\nSecond paragraph is a little longer.";
/// let chunks = chunk_text("doc", text, Format::Markdown, &config, &TokenCounter::new()).unwrap();
/// assert!(chunks.len() > 1);
/// for chunk in &chunks {
///     assert_eq!(&text[chunk.start..chunk.end], chunk.text);
/// }
/// ```
///
/// # Errors
///
/// [`RagError::InvalidConfig`] when `max_tokens` is 0 or the overlap is not
/// below it.
pub fn chunk_text(
    document_id: &str,
    text: &str,
    format: Format,
    config: &ChunkingConfig,
    counter: &TokenCounter,
) -> Result<Vec<Chunk>> {
    let splitter_config = splitter_config(config, counter)?;
    let pieces: Vec<(usize, &str)> = match format {
        Format::Markdown => MarkdownSplitter::new(splitter_config)
            .chunk_indices(text)
            .collect(),
        Format::Text | Format::Html | Format::Pdf => TextSplitter::new(splitter_config)
            .chunk_indices(text)
            .collect(),
    };
    let chunks = pieces
        .into_iter()
        .filter(|(_, piece)| !piece.trim().is_empty())
        .enumerate()
        .map(|(sequence, (start, piece))| Chunk {
            document_id: document_id.to_owned(),
            sequence: u32::try_from(sequence).unwrap_or(u32::MAX),
            start,
            end: start + piece.len(),
            text: piece.to_owned(),
        })
        .collect();
    Ok(chunks)
}

impl ChunkingConfig {
    /// Checks the settings without chunking anything, so a caller can
    /// refuse them before loading an embedder.
    ///
    /// # Errors
    ///
    /// [`RagError::InvalidConfig`] naming the setting: `max_tokens` of 0,
    /// a `tokenizer_model` the counter does not know, or `overlap_tokens`
    /// not below `max_tokens`.
    pub fn validate(&self, counter: &TokenCounter) -> Result<()> {
        splitter_config(self, counter).map(|_| ())
    }
}

fn splitter_config<'a>(
    config: &'a ChunkingConfig,
    counter: &'a TokenCounter,
) -> Result<ChunkConfig<TokenSizer<'a>>> {
    if config.max_tokens == 0 {
        return Err(RagError::InvalidConfig {
            setting: "max_tokens",
            message: "must be at least 1".to_owned(),
        });
    }
    if !counter.count_text(&config.tokenizer_model, "").is_exact() {
        return Err(RagError::InvalidConfig {
            setting: "tokenizer_model",
            message: format!(
                "`{}` has no known tokenizer; use an OpenAI model name such as gpt-4o, gpt-4o-mini, gpt-4.1, gpt-5, o3, gpt-4 or gpt-3.5-turbo, or a model whose tokenizer is registered with the token counter",
                config.tokenizer_model
            ),
        });
    }
    let sizer = TokenSizer {
        counter,
        model: &config.tokenizer_model,
    };
    ChunkConfig::new(config.max_tokens)
        .with_overlap(config.overlap_tokens)
        .map(|chunk_config| chunk_config.with_sizer(sizer))
        .map_err(|_| RagError::InvalidConfig {
            setting: "overlap_tokens",
            message: format!(
                "{} is not below max_tokens {}; lower the overlap",
                config.overlap_tokens, config.max_tokens
            ),
        })
}
