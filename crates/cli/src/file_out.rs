//! Writing an output file so that a failure never leaves half of it behind.
//!
//! A report, an export or an extract is written to a temporary file in the
//! target's folder and renamed over the target only once every byte is
//! written and flushed. A failed or interrupted command leaves the target as
//! it was: absent, or the previous complete file. A path that exists and is
//! not a regular file (`/dev/stdout`, `/dev/null`, a named pipe, a
//! symbolic link) cannot be replaced by a rename, so it is written in place.

use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tempfile::NamedTempFile;

/// An output file that appears at its path only when [`commit`] succeeds.
///
/// [`commit`]: OutputFile::commit
pub(crate) struct OutputFile {
    path: PathBuf,
    target: Target,
}

enum Target {
    /// A temporary file beside the path, renamed over it on commit.
    Staged(BufWriter<NamedTempFile>),
    /// The path itself, for devices, pipes and links.
    InPlace(BufWriter<File>),
}

impl OutputFile {
    /// Starts writing `path`.
    pub(crate) fn create(path: &Path) -> anyhow::Result<Self> {
        let target = match fs::symlink_metadata(path) {
            Ok(metadata) if !metadata.is_file() => {
                let file = File::create(path)
                    .with_context(|| format!("failed to open {}", path.display()))?;
                Target::InPlace(BufWriter::new(file))
            }
            Ok(metadata) => {
                Target::Staged(BufWriter::new(staged(path, Some(metadata.permissions()))?))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Target::Staged(BufWriter::new(staged(path, new_file_permissions())?))
            }
            Err(error) => {
                return Err(error).with_context(|| format!("failed to inspect {}", path.display()));
            }
        };
        Ok(Self {
            path: path.to_owned(),
            target,
        })
    }

    /// Flushes everything to disk and puts the file at its path.
    pub(crate) fn commit(self) -> anyhow::Result<()> {
        let path = self.path;
        let failed = || format!("failed to write {}", path.display());
        match self.target {
            Target::InPlace(mut writer) => writer.flush().with_context(failed),
            Target::Staged(writer) => {
                let file = writer
                    .into_inner()
                    .map_err(|error| anyhow::Error::new(error.into_error()).context(failed()))?;
                file.as_file().sync_all().with_context(failed)?;
                file.persist(&path)
                    .map_err(|error| anyhow::Error::new(error.error).context(failed()))?;
                Ok(())
            }
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Staged(writer) => writer.write(buf),
            Target::InPlace(writer) => writer.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Staged(writer) => writer.flush(),
            Target::InPlace(writer) => writer.flush(),
        }
    }
}

/// Writes `contents` to `path` through an [`OutputFile`].
pub(crate) fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let mut file = OutputFile::create(path)?;
    file.write_all(contents.as_ref())
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.commit()
}

/// Creates the temporary file in the folder of `path`, so the final rename
/// never crosses file systems.
fn staged(path: &Path, permissions: Option<Permissions>) -> anyhow::Result<NamedTempFile> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|name| format!(".{}.", name.to_string_lossy()))
        .unwrap_or_else(|| ".llmops-output.".to_owned());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&name).suffix(".partial");
    if let Some(permissions) = permissions {
        builder.permissions(permissions);
    }
    builder.tempfile_in(folder).with_context(|| {
        format!(
            "failed to create a file in {}; check that the folder exists and is writable",
            folder.display()
        )
    })
}

/// Returns the mode `File::create` requests (0o666). The process umask
/// still applies.
#[cfg(unix)]
fn new_file_permissions() -> Option<Permissions> {
    use std::os::unix::fs::PermissionsExt as _;
    Some(Permissions::from_mode(0o666))
}

/// Returns `None`, which keeps the temporary file's default mode.
#[cfg(not(unix))]
fn new_file_permissions() -> Option<Permissions> {
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::FileTypeExt as _;

    use super::*;

    #[test]
    fn new_file_appears_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("보고서 report.md");
        write_file(&path, "한국어 text\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "한국어 text\n");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn uncommitted_file_leaves_old_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extract.jsonl");
        fs::write(&path, "old complete extract\n").unwrap();
        let mut file = OutputFile::create(&path).unwrap();
        file.write_all(b"half of a new").unwrap();
        drop(file);
        assert_eq!(fs::read_to_string(&path).unwrap(), "old complete extract\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn replacing_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.txt");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        write_file(&path, "new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn device_is_written_in_place() {
        write_file(Path::new("/dev/null"), "discarded").unwrap();
        assert!(
            fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn link_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.md");
        let link = dir.path().join("link.md");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_file(&link, "new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-folder").join("out.md");
        let error = write_file(&path, "x").unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("no-such-folder"), "{text}");
        assert!(!path.exists());
    }
}
