//! Checks the MiniLM embedder against sentence-transformers and on hard
//! inputs.
//!
//! The model files are found through the normal resolution (configured
//! folder, `LLMOPS_EMBEDDER_MODEL_DIR`, then the cache). Files missing from
//! the cache are downloaded once per test binary before any test loads
//! them. A failed download fails the test with the resolution error.

use llmops_core::Embedder;
use llmops_local::{EmbedderConfig, LocalError, MiniLmEmbedder};
use serde::Deserialize;
use tokio::sync::OnceCell;

/// The largest difference allowed between a component here and the one
/// sentence-transformers computed.
const TOLERANCE: f32 = 1e-4;

#[derive(Deserialize)]
struct Reference {
    max_tokens: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    tokens: usize,
    truncated: bool,
    embedding: Vec<f32>,
}

fn reference() -> Reference {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/minilm_reference.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn config() -> EmbedderConfig {
    EmbedderConfig::default().with_download(false)
}

/// Fetches the model files into the cache once when they are missing.
async fn fetch_once() {
    static FETCHED: OnceCell<()> = OnceCell::const_new();
    FETCHED
        .get_or_init(|| async {
            if let Err(error) = EmbedderConfig::default().locate_model().await {
                panic!("cannot find or fetch the embedding model: {error}");
            }
        })
        .await;
}

async fn load(config: EmbedderConfig) -> MiniLmEmbedder {
    fetch_once().await;
    match MiniLmEmbedder::load(config).await {
        Ok(embedder) => embedder,
        Err(error) => panic!("cannot load the embedding model: {error}"),
    }
}

/// Returns an embedder with truncation on, loaded once per test binary.
async fn truncating() -> &'static MiniLmEmbedder {
    static EMBEDDER: OnceCell<MiniLmEmbedder> = OnceCell::const_new();
    EMBEDDER
        .get_or_init(|| load(config().with_truncation(true)))
        .await
}

fn max_difference(left: &[f32], right: &[f32]) -> f32 {
    assert_eq!(left.len(), right.len());
    left.iter()
        .zip(right)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn norm(vector: &[f32]) -> f32 {
    vector.iter().map(|value| value * value).sum::<f32>().sqrt()
}

#[tokio::test]
async fn matches_sentence_transformers() {
    let reference = reference();
    let embedder = truncating().await;
    assert_eq!(embedder.max_tokens(), reference.max_tokens);
    assert!(reference.cases.iter().any(|case| case.truncated));
    assert!(reference.cases.iter().any(|case| case.text.is_empty()));

    let texts: Vec<String> = reference
        .cases
        .iter()
        .map(|case| case.text.clone())
        .collect();
    let vectors = embedder.embed(&texts).await.unwrap();
    assert_eq!(vectors.len(), reference.cases.len());
    for (case, vector) in reference.cases.iter().zip(&vectors) {
        assert_eq!(vector.len(), 384, "text {:?}", case.text);
        let difference = max_difference(vector, &case.embedding);
        assert!(
            difference <= TOLERANCE,
            "text {:?}: largest component difference {difference}",
            case.text
        );
    }
}

#[tokio::test]
async fn vectors_have_unit_norm() {
    let reference = reference();
    let texts: Vec<String> = reference
        .cases
        .iter()
        .map(|case| case.text.clone())
        .collect();
    let vectors = truncating().await.embed(&texts).await.unwrap();
    for (text, vector) in texts.iter().zip(&vectors) {
        let length = norm(vector);
        assert!((length - 1.0).abs() < 1e-5, "text {text:?}: norm {length}");
    }
}

#[tokio::test]
async fn batch_size_does_not_change_vectors() {
    // Short texts keep the one-at-a-time pass fast; padding still differs
    // between the batched and the single runs.
    let reference = reference();
    let texts: Vec<String> = reference
        .cases
        .iter()
        .filter(|case| case.tokens <= 40)
        .map(|case| case.text.clone())
        .collect();
    assert!(texts.len() > 20);
    let together = truncating().await.embed(&texts).await.unwrap();
    let one_at_a_time = load(config().with_truncation(true).with_batch_size(1)).await;
    let alone = one_at_a_time.embed(&texts).await.unwrap();
    for ((text, left), right) in texts.iter().zip(&together).zip(&alone) {
        let difference = max_difference(left, right);
        assert!(difference <= 1e-5, "text {text:?}: difference {difference}");
    }
}

#[tokio::test]
async fn long_input_rejected_without_truncation() {
    let reference = reference();
    let long = reference.cases.iter().find(|case| case.truncated).unwrap();
    let embedder = load(config()).await;
    let texts = vec!["short".to_owned(), long.text.clone()];

    let error = embedder.embed_blocking(&texts).unwrap_err();
    match error {
        LocalError::InputTooLong {
            index,
            tokens,
            max_tokens,
        } => {
            assert_eq!(index, 1);
            assert_eq!(tokens, long.tokens);
            assert_eq!(max_tokens, 256);
        }
        other => panic!("expected InputTooLong, got {other:?}"),
    }

    let core = embedder.embed(&texts).await.unwrap_err();
    assert!(
        matches!(core, llmops_core::Error::ContextLengthExceeded { .. }),
        "{core:?}"
    );
}

#[tokio::test]
async fn input_at_limit_is_accepted() {
    // "token" is one token, so 254 words plus [CLS] and [SEP] fill the
    // 256-token limit exactly, and one more word exceeds it.
    let embedder = load(config()).await;
    let at_limit = vec!["token ".repeat(254)];
    let vectors = embedder.embed(&at_limit).await.unwrap();
    assert_eq!(vectors.len(), 1);

    let over_limit = vec!["token ".repeat(255)];
    let error = embedder.embed_blocking(&over_limit).unwrap_err();
    assert!(
        matches!(error, LocalError::InputTooLong { tokens: 257, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn empty_batch_gives_no_vectors() {
    let vectors = truncating().await.embed(&[]).await.unwrap();
    assert!(vectors.is_empty());
}

#[tokio::test]
async fn reports_model_and_dimensions() {
    let embedder = truncating().await;
    assert_eq!(embedder.dimensions(), 384);
    assert_eq!(embedder.model(), "all-MiniLM-L6-v2");
}

#[tokio::test]
async fn concurrent_calls_agree() {
    let embedder = truncating().await.clone();
    let texts = vec![
        "A cat sits on the mat.".to_owned(),
        "東京は日本の首都です。".to_owned(),
        String::new(),
    ];
    let expected = embedder.embed(&texts).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let embedder = embedder.clone();
            let texts = texts.clone();
            tokio::spawn(async move { embedder.embed(&texts).await.unwrap() })
        })
        .collect();
    for task in tasks {
        let vectors = task.await.unwrap();
        for (left, right) in vectors.iter().zip(&expected) {
            assert!(max_difference(left, right) <= 1e-6);
        }
    }
}

#[tokio::test]
async fn missing_folder_names_fix() {
    let dir = tempfile::TempDir::new().unwrap();
    let error = MiniLmEmbedder::load(config().with_model_dir(dir.path()))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, LocalError::EmbedderModelNotFound { .. }));
    assert!(text.contains("model.safetensors is missing"), "{text}");
    assert!(text.contains("llmops model fetch"), "{text}");
}
