//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use llmops_core::Embedder;

/// Defines `mod $name` with a `sqlite` and a `postgres` test that each call
/// `$body(TestDatabase)` on a fresh database.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let database = llmops_store::testing::sqlite_file().await.unwrap();
                super::$body(database).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(database) = llmops_store::testing::postgres(stringify!($name)).await
                else {
                    return;
                };
                super::$body(database).await;
            }
        }
    };
}

/// An embedder that reports one length and returns another.
pub struct WrongLengthEmbedder;

#[async_trait]
impl Embedder for WrongLengthEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|_| vec![1.0; 3]).collect())
    }

    fn dimensions(&self) -> usize {
        8
    }

    fn model(&self) -> &str {
        "wrong-length"
    }
}

/// Counts the texts it embeds, delegating to a hash embedder.
pub struct CountingEmbedder {
    pub inner: llmops_rag::HashEmbedder,
    pub texts: std::sync::atomic::AtomicUsize,
}

impl CountingEmbedder {
    pub fn new(dimensions: usize) -> Arc<Self> {
        Arc::new(CountingEmbedder {
            inner: llmops_rag::HashEmbedder::new(dimensions),
            texts: std::sync::atomic::AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Embedder for CountingEmbedder {
    async fn embed(&self, texts: &[String]) -> llmops_core::Result<Vec<Vec<f32>>> {
        self.texts
            .fetch_add(texts.len(), std::sync::atomic::Ordering::SeqCst);
        self.inner.embed(texts).await
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }
}

/// Builds a one-page PDF showing `text` in Courier.
pub fn make_pdf(text: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Object, Stream, dictionary};

    let mut pdf = lopdf::Document::with_version("1.5");
    let pages_id = pdf.new_object_id();
    let font_id = pdf.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Courier",
    });
    let resources_id = pdf.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 14.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = pdf.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = pdf.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    let pages = dictionary! {
        "Type" => "Pages",
        "Kids" => vec![page_id.into()],
        "Count" => 1,
        "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    };
    pdf.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = pdf.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    pdf.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    pdf.save_to(&mut bytes).unwrap();
    bytes
}
