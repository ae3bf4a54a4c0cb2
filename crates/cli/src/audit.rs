//! `llmops audit`: append to, verify and export the tamper-evident audit log.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use llmops_compliance::ed25519_dalek::{SigningKey, VerifyingKey};
use llmops_compliance::{
    AuditLog, BreakReason, Checkpoint, EventKind, Hash, NewEvent, VerifyOptions, parse_exact_json,
    read_tree_head, verify_extract,
};
use llmops_store::StoreOptions;

use crate::failure::Failure;
use crate::file_out::OutputFile;
use crate::output::outln;
use crate::prompt::utc_time;
use crate::records::{
    block_on, compliance_failure, open_existing_log, open_log, read_signing_key, trusted_keys,
};

/// Append to, verify and export the tamper-evident audit log.
///
/// Checkpoints are Merkle tree heads signed with an Ed25519 key. The key
/// file contains the 32-byte secret seed as 64 hex digits; `audit keygen`
/// creates one and prints the public key that `--public-key` takes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops audit append --kind config_change --actor ops --subject route:chat --payload '{\"model\":\"gpt-4o-mini\"}'\n  llmops audit keygen --out audit.key\n  llmops audit checkpoint --signing-key audit.key\n  llmops audit verify --public-key 3b6a...\n  llmops audit export --out extract.jsonl --from 0 --to 9\n  llmops audit verify-extract extract.jsonl --public-key 3b6a..."
)]
pub(crate) struct Args {
    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "LLMOPS_DB",
        default_value = "sqlite://llmops.db",
        global = true
    )]
    db: String,

    #[command(subcommand)]
    command: AuditCommand,
}

/// Public keys that checkpoints must be signed with.
#[derive(Debug, clap::Args)]
struct TrustedKeys {
    /// A trusted Ed25519 public key, 64 hex digits; repeatable. Without any
    /// key, a checkpoint signed by any key passes.
    #[arg(long = "public-key", value_name = "HEX")]
    keys: Vec<String>,
    /// A file of trusted public keys, one per line; repeatable.
    #[arg(long = "public-key-file", value_name = "PATH")]
    files: Vec<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Append one event and print its sequence number and hash.
    Append {
        /// Event kind, such as model_call, config_change or a custom
        /// name of a-z, 0-9, `_`, `.` and `-`.
        #[arg(long)]
        kind: String,
        /// Who acted.
        #[arg(long)]
        actor: String,
        /// The event's subject, such as request:42.
        #[arg(long, default_value = "-")]
        subject: String,
        /// The event's details, a JSON object.
        #[arg(long, default_value = "{}", conflicts_with = "payload_file")]
        payload: String,
        /// Read the event's details from this file, or from standard input
        /// for `-`, for payloads too long for one argument.
        #[arg(long, value_name = "PATH")]
        payload_file: Option<PathBuf>,
    },
    /// Recompute every hash, link and checkpoint; exit 1 at the first break.
    ///
    /// Verify only reads: it never creates or migrates the database. It
    /// proves that the log agrees with itself, its head row and the
    /// checkpoints stored beside it. Anyone with write access to the
    /// database can delete the newest entries together with their
    /// checkpoints and fix the head row, and the shorter log still
    /// verifies. To detect that, pass --tree-head with a signed tree head
    /// kept outside the database, or --min-size.
    Verify {
        /// A trusted Ed25519 public key, 64 hex digits; repeatable. Every
        /// stored checkpoint and every --tree-head must be signed by one of
        /// the trusted keys. Without any key, a checkpoint signed by any key
        /// passes. Verify prints how many stored checkpoints verified and
        /// the largest size they cover, because entries past it are checked
        /// only against the head row.
        #[arg(long = "public-key", value_name = "HEX")]
        keys: Vec<String>,
        /// A file of trusted public keys, one per line; repeatable.
        #[arg(long = "public-key-file", value_name = "PATH")]
        key_files: Vec<PathBuf>,
        /// A signed tree head kept from earlier: an extract file from
        /// `audit export` or a bundle's extract; repeatable. The log must
        /// still contain every entry it covers, with the same root, so a
        /// log cut back below it fails.
        #[arg(long = "tree-head", value_name = "PATH")]
        tree_heads: Vec<PathBuf>,
        /// The minimum number of entries the log must contain, such as a
        /// size printed by an earlier verify.
        #[arg(long, value_name = "ENTRIES")]
        min_size: Option<u64>,
    },
    /// Create an Ed25519 signing key file and print its public key.
    Keygen {
        /// The key file to create; it must not exist.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
    },
    /// Sign a checkpoint over the whole log and store it.
    Checkpoint {
        /// The signing key file.
        #[arg(long, value_name = "PATH")]
        signing_key: PathBuf,
    },
    /// Write entries with inclusion proofs as JSON Lines, checkable offline.
    Export {
        /// The extract file to write.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// The first sequence number to export.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// The last sequence number to export, inclusive; default: the
        /// last entry the checkpoint covers.
        #[arg(long)]
        to: Option<u64>,
        /// Sign a new checkpoint with this key file; default: use the
        /// latest stored checkpoint.
        #[arg(long, value_name = "PATH")]
        signing_key: Option<PathBuf>,
        /// Replace --out when it already exists.
        #[arg(long)]
        force: bool,
    },
    /// Check an extract file offline: signature, entry hashes and proofs.
    VerifyExtract {
        /// The extract file, or - for standard input.
        file: PathBuf,
        #[command(flatten)]
        trusted: TrustedKeys,
        /// Fail unless the list of entries on the first line is signed, as
        /// `audit export --signing-key` writes it. An unsigned list can be
        /// edited together with the lines, so removed lines would not show.
        #[arg(long)]
        signed_selection: bool,
    },
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    let db = args.db;
    match args.command {
        AuditCommand::Append {
            kind,
            actor,
            subject,
            payload,
            payload_file,
        } => {
            let (payload, flag) = match payload_file {
                Some(path) => (read_input(&path, "--payload-file")?, "--payload-file"),
                None => (payload, "--payload"),
            };
            block_on(async {
                let log = open_log(&db).await?;
                append(&log, &kind, actor, subject, &payload, flag).await
            })?
        }
        AuditCommand::Verify {
            keys,
            key_files,
            tree_heads,
            min_size,
        } => {
            let keys = trusted_keys(&keys, &key_files)?;
            let given_tree_heads = tree_heads.len();
            let kept = read_tree_heads(&tree_heads, &keys)?;
            let mut options = VerifyOptions::default()
                .tree_heads(kept.heads)
                .kept_entries(kept.entries)
                .trusted_keys(keys);
            if let Some(min_size) = min_size {
                options = options.min_size(min_size);
            }
            block_on(async {
                let read_only = StoreOptions::default().read_only(true);
                let log = open_existing_log(&db, read_only).await?;
                verify(&log, &options, given_tree_heads).await
            })?
        }
        AuditCommand::Keygen { out } => keygen(&out),
        AuditCommand::Checkpoint { signing_key } => block_on(async {
            let key = read_signing_key(&signing_key)?;
            let log = open_log(&db).await?;
            let checkpoint = log
                .sign_checkpoint(&key)
                .await
                .map_err(compliance_failure)?;
            print_checkpoint(&checkpoint);
            Ok(())
        })?,
        AuditCommand::Export {
            out,
            from,
            to,
            signing_key,
            force,
        } => block_on(async {
            check_out_path(&out, force)?;
            // Without a key, export only reads; with one, it stores a new
            // checkpoint in the existing log.
            let options = StoreOptions::default().read_only(signing_key.is_none());
            let log = open_existing_log(&db, options).await?;
            export(&log, &out, from, to, signing_key.as_deref()).await
        })?,
        AuditCommand::VerifyExtract {
            file,
            trusted,
            signed_selection,
        } => check_extract(&file, &trusted, signed_selection),
    }
}

async fn append(
    log: &AuditLog,
    kind: &str,
    actor: String,
    subject: String,
    payload: &str,
    flag: &str,
) -> Result<(), Failure> {
    let kind = EventKind::parse(kind).map_err(compliance_failure)?;
    let payload = parse_exact_json("payload", payload).map_err(|error| {
        Failure::Usage(format!(
            "{flag} is invalid ({error}); pass a JSON object such as '{{\"model\":\"gpt-4o-mini\"}}'"
        ))
    })?;
    let entry = log
        .append(NewEvent::new(kind, actor, subject).payload(payload))
        .await
        .map_err(compliance_failure)?;
    outln!("appended entry {} hash {}", entry.seq, entry.hash);
    Ok(())
}

/// Reads the file at `path`, or standard input for `-`, as text; `flag`
/// names the option in messages.
fn read_input(path: &Path, flag: &str) -> Result<String, Failure> {
    let read = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin().lock())
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|error| {
        Failure::Usage(format!(
            "cannot read {flag} {}: {error}; check the path",
            path.display()
        ))
    })
}

/// Tree heads kept from earlier, and the entry hashes of the extracts
/// they came from.
#[derive(Default)]
struct KeptHeads {
    heads: Vec<Checkpoint>,
    entries: Vec<(u64, Hash)>,
}

/// Reads each `--tree-head` file and checks its signature against `keys`,
/// or any key when `keys` is empty. A file that is a whole extract must
/// verify, and its entry hashes are kept too, so that verify names the
/// first entry a rewrite changed.
fn read_tree_heads(paths: &[PathBuf], keys: &[VerifyingKey]) -> Result<KeptHeads, Failure> {
    let mut kept = KeptHeads::default();
    for path in paths {
        let bytes = read_input(path, "--tree-head")?.into_bytes();
        let head = read_tree_head(&bytes[..]).map_err(|error| {
            Failure::Usage(format!(
                "--tree-head {} is invalid: {error}; pass an extract written by `llmops audit export`",
                path.display()
            ))
        })?;
        head.verify_signature(keys)
            .map_err(|error| Failure::Usage(format!("--tree-head {}: {error}", path.display())))?;
        // A checkpoint on its own carries no entries.
        if serde_json::from_slice::<Checkpoint>(&bytes).is_err() {
            let report = verify_extract(&bytes[..], keys).map_err(|error| {
                Failure::Usage(format!(
                    "--tree-head {} is an extract that fails verification: {error}; check it with `llmops audit verify-extract`",
                    path.display()
                ))
            })?;
            kept.entries.extend(report.leaves);
        }
        kept.heads.push(head);
    }
    Ok(kept)
}

/// Verifies `log` and prints the report; `given_tree_heads` is the number
/// of `--tree-head` files in `options`.
async fn verify(
    log: &AuditLog,
    options: &VerifyOptions,
    given_tree_heads: usize,
) -> Result<(), Failure> {
    let report = log.verify(options).await.map_err(compliance_failure)?;
    outln!("entries checked: {}", report.entries);
    outln!("tree head: {}", report.root);
    match report.max_checkpoint_size {
        Some(size) => outln!(
            "checkpoints verified: {} (the largest covers {size} {})",
            report.checkpoints_verified,
            if size == 1 { "entry" } else { "entries" }
        ),
        None => outln!("checkpoints verified: 0"),
    }
    if given_tree_heads > 0 {
        outln!(
            "tree heads verified: {} of {given_tree_heads}",
            report.tree_heads_verified
        );
    }
    match report.problem {
        None => {
            outln!("OK");
            Ok(())
        }
        Some(problem) if problem.reason == BreakReason::UntrustedCheckpointKey => {
            outln!("UNTRUSTED at entry {}: {}", problem.seq, problem.detail);
            Err(Failure::Other(anyhow::anyhow!(
                "a checkpoint is signed by a key outside --public-key and --public-key-file; pass that key if you trust its signer, otherwise treat the checkpoint as forged"
            )))
        }
        Some(problem) => {
            outln!(
                "BROKEN at entry {}: {}: {}",
                problem.seq,
                problem.reason,
                problem.detail
            );
            Err(Failure::Other(anyhow::anyhow!(
                "the audit log is broken at entry {} ({}); restore the database from a backup and compare it with the last verified extract",
                problem.seq,
                problem.reason
            )))
        }
    }
}

fn keygen(out: &Path) -> Result<(), Failure> {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(out).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::Usage(format!(
                "{} already exists; choose another --out path, because keygen never overwrites a key",
                out.display()
            ))
        } else {
            Failure::Other(
                anyhow::Error::new(error).context(format!("failed to create {}", out.display())),
            )
        }
    })?;
    writeln!(file, "{}", hex::encode(key.to_bytes()))
        .with_context(|| format!("failed to write {}", out.display()))?;
    outln!("{}", hex::encode(key.verifying_key().as_bytes()));
    Ok(())
}

fn print_checkpoint(checkpoint: &Checkpoint) {
    outln!(
        "checkpoint size {} root {} key {} at {}",
        checkpoint.size,
        checkpoint.root,
        checkpoint.key_id,
        utc_time(checkpoint.at_ms)
    );
}

async fn export(
    log: &AuditLog,
    out: &Path,
    from: u64,
    to: Option<u64>,
    signing_key: Option<&Path>,
) -> Result<(), Failure> {
    // The file is opened before anything is signed and stored, so an
    // unwritable --out leaves the log as it was.
    let mut file = OutputFile::create(out)?;
    // A new checkpoint would cover every entry, so the range is checked
    // against the log's size before anything is signed and stored.
    let (checkpoint, covered, key) = match signing_key {
        Some(path) => {
            let key = read_signing_key(path)?;
            let size = log.head().await.map_err(compliance_failure)?.size;
            check_range(from, to, size, "the log")?;
            let checkpoint = log
                .sign_checkpoint(&key)
                .await
                .map_err(compliance_failure)?;
            let size = checkpoint.size;
            (checkpoint, size, Some(key))
        }
        None => {
            let checkpoint = latest_checkpoint(log).await?;
            let size = checkpoint.size;
            check_range(from, to, size, "the checkpoint")?;
            (checkpoint, size, None)
        }
    };
    let to = to.unwrap_or(covered.saturating_sub(1));

    let written = match &key {
        Some(key) => {
            log.export_signed_extract(&mut file, from..=to, &checkpoint, key)
                .await
        }
        None => log.export_extract(&mut file, from..=to, &checkpoint).await,
    }
    .map_err(compliance_failure)?;
    file.commit()?;
    outln!(
        "exported {written} entries ({from} to {to}) to {}",
        out.display()
    );
    print_checkpoint(&checkpoint);
    Ok(())
}

/// Refuses an `--out` path that names an existing file or link unless
/// `force` is set, so an export cannot replace the database, a key or an
/// earlier extract by mistake. Devices such as `/dev/null` and pipes are
/// written in place and need no `force`.
fn check_out_path(out: &Path, force: bool) -> Result<(), Failure> {
    match std::fs::symlink_metadata(out) {
        Ok(metadata) if !force && (metadata.is_file() || metadata.is_symlink()) => {
            Err(Failure::Usage(format!(
                "{} already exists; choose another --out path, or pass --force to replace it",
                out.display()
            )))
        }
        Ok(metadata) if metadata.is_dir() => Err(Failure::Usage(format!(
            "--out {} is a folder; give a file path such as {}",
            out.display(),
            out.join("extract.jsonl").display()
        ))),
        _ => Ok(()),
    }
}

/// Checks `from..=to` against the `size` entries that `what` covers.
fn check_range(from: u64, to: Option<u64>, size: u64, what: &str) -> Result<(), Failure> {
    let Some(last) = size.checked_sub(1) else {
        return Err(Failure::Usage(format!(
            "{what} covers no entries; append entries, then sign a checkpoint with --signing-key"
        )));
    };
    if to.is_none() && from > last {
        return Err(Failure::Usage(format!(
            "--from {from} is beyond {what}, which covers entries 0 to {last}; give --from at most {last}"
        )));
    }
    let to = to.unwrap_or(last);
    if from > to {
        return Err(Failure::Usage(format!(
            "--from {from} is after --to {to}; give --from at most --to"
        )));
    }
    if to > last {
        return Err(Failure::Usage(format!(
            "--to {to} is beyond {what}, which covers entries 0 to {last}; sign a new checkpoint with --signing-key or lower --to"
        )));
    }
    Ok(())
}

async fn latest_checkpoint(log: &AuditLog) -> Result<Checkpoint, Failure> {
    let checkpoints = log.checkpoints().await.map_err(compliance_failure)?;
    checkpoints
        .into_iter()
        .max_by_key(|checkpoint| (checkpoint.size, checkpoint.at_ms))
        .ok_or_else(|| {
            Failure::Usage(
                "the log has no signed checkpoint; pass --signing-key PATH (create one with `llmops audit keygen`)".to_owned(),
            )
        })
}

fn check_extract(
    path: &Path,
    trusted: &TrustedKeys,
    signed_selection: bool,
) -> Result<(), Failure> {
    let keys = trusted_keys(&trusted.keys, &trusted.files)?;
    let report = if path == Path::new("-") {
        verify_extract(std::io::stdin().lock(), &keys)
    } else {
        let file = std::fs::File::open(path)
            .with_context(|| format!("failed to open {}", path.display()))?;
        verify_extract(std::io::BufReader::new(file), &keys)
    }
    .map_err(compliance_failure)?;
    if signed_selection && report.selection_signed_by.is_none() {
        return Err(Failure::Other(anyhow::anyhow!(
            "the extract's list of entries is {}, and --signed-selection requires a signed one; ask for an extract written with `llmops audit export --signing-key`",
            if report.selection_recorded {
                "not signed"
            } else {
                "missing"
            }
        )));
    }
    let entries = report.entries.len();
    outln!(
        "OK: {entries} {} verified against the checkpoint of size {} (key {})",
        if entries == 1 { "entry" } else { "entries" },
        report.checkpoint.size,
        report.checkpoint.key_id
    );
    match (&report.selection_signed_by, report.selection_recorded) {
        (Some(key_id), _) => {
            outln!("selection: signed by key {key_id}, every listed entry present")
        }
        (None, true) => outln!(
            "selection: unsigned, every listed entry present; lines removed together with their range would not show"
        ),
        (None, false) => {
            outln!("selection: not recorded; compare the entries with the ones you requested")
        }
    }
    Ok(())
}
