//! Documents, their formats and text extraction.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{RagError, Result};

/// Default [`IngestLimits::max_document_bytes`]: 50 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 50 * 1024 * 1024;

/// The format of a document's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Format {
    /// Plain UTF-8 text.
    Text,
    /// CommonMark Markdown; chunking follows its headings.
    Markdown,
    /// HTML; text is extracted with tags removed.
    Html,
    /// PDF; text is extracted from its content streams.
    Pdf,
}

impl Format {
    /// Returns the format's name as stored: `text`, `markdown`, `html`, `pdf`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }

    /// Parses a stored name or a file extension (`txt`, `md`, `htm`, ...).
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "text" | "txt" => Some(Format::Text),
            "markdown" | "md" => Some(Format::Markdown),
            "html" | "htm" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    /// Picks the format from a path's extension.
    ///
    /// # Errors
    ///
    /// [`RagError::UnsupportedFormat`] for a missing or unknown extension.
    pub fn from_path(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .unwrap_or("");
        Format::parse(extension).ok_or_else(|| RagError::UnsupportedFormat {
            id: path.display().to_string(),
            format: extension.to_owned(),
        })
    }
}

/// Limits applied to every ingested document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestLimits {
    /// Largest accepted document, in bytes before extraction. Default
    /// [`DEFAULT_MAX_DOCUMENT_BYTES`].
    pub max_document_bytes: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

/// A source document before extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Caller-chosen id, unique within a collection; citations name it.
    pub id: String,
    /// Format of [`Document::bytes`].
    pub format: Format,
    /// The raw content.
    pub bytes: Vec<u8>,
    /// Key-value metadata that filters can match.
    pub metadata: BTreeMap<String, String>,
}

impl Document {
    /// Creates a document from bytes in `format`, with no metadata.
    pub fn new(id: impl Into<String>, format: Format, bytes: impl Into<Vec<u8>>) -> Self {
        Document {
            id: id.into(),
            format,
            bytes: bytes.into(),
            metadata: BTreeMap::new(),
        }
    }

    /// Creates a plain-text document.
    pub fn text(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document::new(id, Format::Text, text.into().into_bytes())
    }

    /// Adds a metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Returns the SHA-256 of the format, metadata and bytes, as hex, so a
    /// change to any of them counts as a new version of the document.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.format.name().as_bytes());
        hasher.update([0]);
        for (key, value) in &self.metadata {
            hasher.update((key.len() as u64).to_le_bytes());
            hasher.update(key.as_bytes());
            hasher.update((value.len() as u64).to_le_bytes());
            hasher.update(value.as_bytes());
        }
        hasher.update([0]);
        hasher.update(&self.bytes);
        hex::encode(hasher.finalize())
    }
}

/// Extracts the text of a document, checking it against `limits`.
///
/// Markdown is kept as written so that chunking can follow its headings.
/// Offsets in chunks and citations count bytes of the returned text.
///
/// # Errors
///
/// [`RagError::DocumentTooLarge`], [`RagError::BinaryDocument`],
/// [`RagError::Extraction`] or [`RagError::EmptyDocument`].
pub fn extract_text(document: &Document, limits: IngestLimits) -> Result<String> {
    if document.bytes.len() > limits.max_document_bytes {
        return Err(RagError::DocumentTooLarge {
            id: document.id.clone(),
            bytes: document.bytes.len(),
            limit: limits.max_document_bytes,
        });
    }
    let text = match document.format {
        Format::Text | Format::Markdown => decode_text(document)?,
        Format::Html => extract_html(document)?,
        Format::Pdf => extract_pdf(document)?,
    };
    if text.trim().is_empty() {
        return Err(RagError::EmptyDocument {
            id: document.id.clone(),
        });
    }
    Ok(text)
}

fn decode_text(document: &Document) -> Result<String> {
    if document.bytes.starts_with(b"%PDF-") {
        return Err(binary(document, "it starts with a PDF header"));
    }
    if document.bytes.contains(&0) {
        return Err(binary(document, "it contains NUL bytes"));
    }
    match std::str::from_utf8(&document.bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text).to_owned()),
        Err(error) => Err(binary(
            document,
            &format!("invalid UTF-8 at byte {}", error.valid_up_to()),
        )),
    }
}

fn binary(document: &Document, reason: &str) -> RagError {
    RagError::BinaryDocument {
        id: document.id.clone(),
        reason: reason.to_owned(),
    }
}

fn extract_html(document: &Document) -> Result<String> {
    let html = decode_text(document)?;
    // A very wide line keeps paragraphs on one line; html2text wraps at it.
    html2text::from_read(html.as_bytes(), 100_000).map_err(|error| RagError::Extraction {
        id: document.id.clone(),
        format: "html",
        message: error.to_string(),
    })
}

fn extract_pdf(document: &Document) -> Result<String> {
    if !document.bytes.starts_with(b"%PDF-") {
        return Err(RagError::Extraction {
            id: document.id.clone(),
            format: "pdf",
            message: "missing `%PDF-` header".to_owned(),
        });
    }
    // pdf-extract 0.9 panics on some malformed files instead of returning an
    // error, so a panic is caught and reported like any other failure.
    let bytes = document.bytes.clone();
    let extracted = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&bytes));
    match extracted {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(error)) => Err(RagError::Extraction {
            id: document.id.clone(),
            format: "pdf",
            message: error.to_string(),
        }),
        Err(_) => Err(RagError::Extraction {
            id: document.id.clone(),
            format: "pdf",
            message: "the PDF parser failed on malformed content".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses_extensions() {
        assert_eq!(Format::parse("MD"), Some(Format::Markdown));
        assert_eq!(Format::parse("htm"), Some(Format::Html));
        assert_eq!(Format::parse("docx"), None);
    }

    #[test]
    fn content_hash_covers_metadata() {
        let plain = Document::text("a", "body");
        let tagged = Document::text("a", "body").with_metadata("lang", "en");
        assert_ne!(plain.content_hash(), tagged.content_hash());
        assert_eq!(
            plain.content_hash(),
            Document::text("a", "body").content_hash()
        );
    }
}
