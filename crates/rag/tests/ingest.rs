//! Text extraction and the bad-input checks of ingestion.

use crate::common;

use llmops_rag::{Document, Format, IngestLimits, RagError, extract_text};

fn limits() -> IngestLimits {
    IngestLimits::default()
}

#[test]
fn text_keeps_unicode_and_drops_bom() {
    let document = Document::text("a", "\u{feff}héllo 世界 🦀");
    assert_eq!(extract_text(&document, limits()).unwrap(), "héllo 世界 🦀");
}

#[test]
fn markdown_is_kept_as_written() {
    let source = "# Title\n\nBody *text*.";
    let document = Document::new("m", Format::Markdown, source);
    assert_eq!(extract_text(&document, limits()).unwrap(), source);
}

#[test]
fn html_loses_tags() {
    let html = "<html><body><h1>Title</h1><p>Hello <b>world</b> &amp; more</p></body></html>";
    let text = extract_text(&Document::new("h", Format::Html, html), limits()).unwrap();
    assert!(text.contains("Title"), "{text}");
    assert!(text.contains("world"), "{text}");
    assert!(text.contains('&'), "{text}");
    assert!(!text.contains('<'), "{text}");
}

#[test]
fn pdf_text_is_extracted() {
    let pdf = common::make_pdf("Hello PDF world");
    let text = extract_text(&Document::new("p", Format::Pdf, pdf), limits()).unwrap();
    assert!(text.contains("Hello PDF world"), "{text:?}");
}

#[test]
fn corrupt_pdf_is_an_extraction_error() {
    let mut pdf = common::make_pdf("Hello PDF world");
    pdf.truncate(60);
    let error = extract_text(&Document::new("p", Format::Pdf, pdf), limits()).unwrap_err();
    assert!(
        matches!(error, RagError::Extraction { format: "pdf", .. }),
        "{error}"
    );
}

#[test]
fn pdf_without_header_is_rejected() {
    let error = extract_text(&Document::new("p", Format::Pdf, "plain"), limits()).unwrap_err();
    assert!(matches!(error, RagError::Extraction { .. }), "{error}");
}

#[test]
fn empty_and_blank_documents_are_rejected() {
    for body in ["", "  \n\t "] {
        let error = extract_text(&Document::text("e", body), limits()).unwrap_err();
        assert!(
            matches!(error, RagError::EmptyDocument { ref id } if id == "e"),
            "{error}"
        );
    }
    let error = extract_text(&Document::new("h", Format::Html, "<p> </p>"), limits()).unwrap_err();
    assert!(matches!(error, RagError::EmptyDocument { .. }), "{error}");
}

#[test]
fn binary_text_is_rejected() {
    let nul = Document::new("b", Format::Text, vec![b'a', 0, b'b']);
    let error = extract_text(&nul, limits()).unwrap_err();
    assert!(matches!(error, RagError::BinaryDocument { .. }), "{error}");

    let latin1 = Document::new("b", Format::Text, vec![b'a', 0xE9, b'b']);
    let error = extract_text(&latin1, limits()).unwrap_err();
    assert!(
        error.to_string().contains("invalid UTF-8 at byte 1"),
        "{error}"
    );

    let pdf_as_text = Document::new("b", Format::Text, common::make_pdf("x"));
    let error = extract_text(&pdf_as_text, limits()).unwrap_err();
    assert!(error.to_string().contains("pdf"), "{error}");
}

#[test]
fn huge_document_is_rejected() {
    let small = IngestLimits {
        max_document_bytes: 10,
    };
    let error = extract_text(&Document::text("big", "x".repeat(11)), small).unwrap_err();
    assert!(
        matches!(
            error,
            RagError::DocumentTooLarge {
                bytes: 11,
                limit: 10,
                ..
            }
        ),
        "{error}"
    );
    assert!(extract_text(&Document::text("ok", "x".repeat(10)), small).is_ok());
}

#[test]
fn unsupported_extension_is_rejected() {
    let error = Format::from_path(std::path::Path::new("report.docx")).unwrap_err();
    assert!(error.to_string().contains("`docx`"), "{error}");
    let error = Format::from_path(std::path::Path::new("README")).unwrap_err();
    assert!(
        matches!(error, RagError::UnsupportedFormat { .. }),
        "{error}"
    );
    assert_eq!(
        Format::from_path(std::path::Path::new("a/b.HTML")).unwrap(),
        Format::Html
    );
}
