//! Extracts as JSON Lines with inclusion proofs, verified offline.

use crate::common;

use common::{fill, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{AuditLog, Checkpoint, ComplianceError, verify_extract};
use llmops_store::testing::TestDatabase;
use serde_json::{Value, json};

async fn extract(entries: &[u64]) -> (AuditLog, Checkpoint, SigningKey, String, TestDatabase) {
    let (log, db) = sqlite_log().await;
    fill(&log, 10).await;
    let key = SigningKey::from_bytes(&[5; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let mut out = Vec::new();
    let written = log
        .export_extract(&mut out, entries.iter().copied(), &checkpoint)
        .await
        .unwrap();
    assert_eq!(written, entries.len() as u64);
    (log, checkpoint, key, String::from_utf8(out).unwrap(), db)
}

fn edit_line(text: &str, line: usize, edit: impl FnOnce(&mut Value)) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut value: Value = serde_json::from_str(&lines[line]).unwrap();
    edit(&mut value);
    lines[line] = value.to_string();
    lines.join("\n")
}

#[tokio::test]
async fn extract_verifies_offline() {
    let (_log, checkpoint, key, text, _db) = extract(&[0, 4, 9]).await;
    assert_eq!(text.lines().count(), 4);
    let report = verify_extract(text.as_bytes(), &[key.verifying_key()]).unwrap();
    assert_eq!(report.entries, vec![0, 4, 9]);
    assert_eq!(report.checkpoint, checkpoint);
}

#[tokio::test]
async fn edited_entry_in_extract_fails() {
    let (_log, _checkpoint, key, text, _db) = extract(&[3, 5]).await;
    let edited = edit_line(&text, 2, |value| {
        value["entry"]["payload"]["model"] = json!("x")
    });
    let error = verify_extract(edited.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 3, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn duplicated_or_swapped_lines_fail() {
    let (_log, _checkpoint, key, text, _db) = extract(&[2, 3, 4]).await;
    let lines: Vec<&str> = text.lines().collect();

    let duplicated = [lines[0], lines[1], lines[2], lines[2], lines[3]].join("\n");
    let error = verify_extract(duplicated.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 4, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("ascending order"), "{error}");

    let swapped = [lines[0], lines[2], lines[1], lines[3]].join("\n");
    let error = verify_extract(swapped.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 3, .. }),
        "{error}"
    );

    // The first line lists the entries, so a removed line shows.
    let shortened = [lines[0], lines[1], lines[3]].join("\n");
    let error = verify_extract(shortened.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 3, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("lists entry 3"), "{error}");
    let cut_at_end = [lines[0], lines[1], lines[2]].join("\n");
    let error = verify_extract(cut_at_end.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 4, .. }),
        "{error}"
    );
}

/// Sets the first line's selection ranges to `ranges`.
fn with_ranges(text: &str, ranges: Value) -> String {
    edit_line(text, 0, |value| value["selection"]["ranges"] = ranges)
}

#[tokio::test]
async fn unsigned_selection_shows_lost_lines_only() {
    let (_log, _checkpoint, key, text, _db) = extract(&[2, 3, 4]).await;
    let report = verify_extract(text.as_bytes(), &[key.verifying_key()]).unwrap();
    assert!(report.selection_recorded);
    assert_eq!(report.selection_signed_by, None);
    let hashes: Vec<u64> = report.leaves.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(hashes, report.entries);

    // A line removed together with its range is not detectable unsigned.
    let lines: Vec<&str> = text.lines().collect();
    let removed = with_ranges(
        &[lines[0], lines[1], lines[3]].join("\n"),
        json!([[2, 2], [4, 4]]),
    );
    let report = verify_extract(removed.as_bytes(), &[key.verifying_key()]).unwrap();
    assert_eq!(report.entries, vec![2, 4]);

    // An extract from before selections were recorded still verifies.
    let old = edit_line(&text, 0, |value| {
        value.as_object_mut().unwrap().remove("selection");
    });
    let report = verify_extract(old.as_bytes(), &[key.verifying_key()]).unwrap();
    assert!(!report.selection_recorded);
    assert_eq!(report.entries, vec![2, 3, 4]);
}

#[tokio::test]
async fn signed_selection_shows_removed_lines_and_ranges() {
    let (log, db) = sqlite_log().await;
    fill(&log, 10).await;
    let key = SigningKey::from_bytes(&[5; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    let mut out = Vec::new();
    // Out of order and repeated on purpose: the extract sorts them.
    log.export_signed_extract(&mut out, [7, 1, 2, 3, 7], &checkpoint, &key)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let report = verify_extract(text.as_bytes(), &[key.verifying_key()]).unwrap();
    assert_eq!(report.entries, vec![1, 2, 3, 7]);
    assert_eq!(report.selection_signed_by, Some(checkpoint.key_id.clone()));
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["selection"]["ranges"], json!([[1, 3], [7, 7]]));

    let lines: Vec<&str> = text.lines().collect();
    let removed = with_ranges(
        &[lines[0], lines[1], lines[2], lines[4]].join("\n"),
        json!([[1, 2], [7, 7]]),
    );
    let error = verify_extract(removed.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 1, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("does not verify"), "{error}");

    // A signature by a key outside the trusted ones fails too.
    let other = SigningKey::from_bytes(&[6; 32]);
    let mut resigned = Vec::new();
    log.export_signed_extract(&mut resigned, [1], &checkpoint, &other)
        .await
        .unwrap();
    let error = verify_extract(&resigned[..], &[key.verifying_key()]).unwrap_err();
    assert!(
        error.to_string().contains("not among the trusted"),
        "{error}"
    );
    drop(db);
}

#[tokio::test]
async fn line_outside_the_selection_fails() {
    let (log, checkpoint, key, text, _db) = extract(&[2, 4]).await;
    let mut other = Vec::new();
    log.export_extract(&mut other, [5], &checkpoint)
        .await
        .unwrap();
    let other = String::from_utf8(other).unwrap();
    let added = format!("{text}{}\n", other.lines().nth(1).unwrap());
    let error = verify_extract(added.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 4, .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("outside the selection"),
        "{error}"
    );

    for ranges in [
        json!([[4, 2]]),
        json!([[2, 4], [3, 5]]),
        json!([[2, 10]]),
        json!([[2, 2], [3, 4]]),
    ] {
        let bad = with_ranges(&text, ranges.clone());
        let error = verify_extract(bad.as_bytes(), &[key.verifying_key()]).unwrap_err();
        assert!(
            matches!(error, ComplianceError::InvalidExtract { line: 1, .. }),
            "{ranges}: {error}"
        );
    }
}

#[tokio::test]
async fn entries_beyond_the_checkpoint_are_refused() {
    let (log, checkpoint, _key, _text, _db) = extract(&[1]).await;
    let error = log
        .export_extract(&mut Vec::new(), [checkpoint.size], &checkpoint)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidTreeSize { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn edited_link_fails() {
    let (_log, _checkpoint, key, text, _db) = extract(&[5, 6]).await;
    let zeros = "0".repeat(64);
    let unlinked = edit_line(&text, 2, |value| value["entry"]["prev_hash"] = json!(zeros));
    let error = verify_extract(unlinked.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 3, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn entry_moved_to_other_position_fails() {
    let (_log, _checkpoint, key, text, _db) = extract(&[3]).await;
    let moved = edit_line(&text, 1, |value| value["entry"]["seq"] = json!(4));
    let error = verify_extract(moved.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        error.to_string().contains("inclusion proof of entry 4"),
        "{error}"
    );
}

#[tokio::test]
async fn tampered_proof_fails() {
    let (_log, _checkpoint, key, text, _db) = extract(&[6]).await;
    let tampered = edit_line(&text, 1, |value| {
        value["proof"][0] = json!("00".repeat(32));
    });
    assert!(verify_extract(tampered.as_bytes(), &[key.verifying_key()]).is_err());
}

#[tokio::test]
async fn wrong_key_or_changed_root_fails() {
    let (_log, _checkpoint, key, text, _db) = extract(&[1]).await;
    let other = SigningKey::from_bytes(&[6; 32]);
    let error = verify_extract(text.as_bytes(), &[other.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 1, .. }),
        "{error}"
    );

    let changed = edit_line(&text, 0, |value| value["checkpoint"]["size"] = json!(11));
    let error = verify_extract(changed.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(error.to_string().contains("invalid signature"), "{error}");
}

#[test]
fn empty_or_garbled_extract_fails() {
    let error = verify_extract(&b""[..], &[]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 1, .. }),
        "{error}"
    );
    let error = verify_extract(&b"{\"nope\": 1}\n"[..], &[]).unwrap_err();
    assert!(
        error.to_string().contains("not a checkpoint line"),
        "{error}"
    );
}

#[tokio::test]
async fn entry_outside_checkpoint_is_rejected() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    let key = SigningKey::from_bytes(&[5; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    fill(&log, 2).await;
    let mut out = Vec::new();
    let error = log
        .export_extract(&mut out, [4], &checkpoint)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidTreeSize { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn line_a_reader_could_take_another_way_fails() {
    let (_log, _checkpoint, key, text, _db) = extract(&[3]).await;
    let line = text.lines().nth(1).unwrap();
    // A first value before the real one: a reader that keeps the first
    // of two keys would see it, while the digest covers the second.
    let doubled = line.replacen("\"payload\":{", "\"payload\":{\"model\":\"forged\",", 1);
    assert_ne!(doubled, line);
    let forged = text.replacen(line, &doubled, 1);
    let error = verify_extract(forged.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 2, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("repeats a key"), "{error}");

    let rounded = text.replacen("\"n\":3", "\"n\":3.0000000000000000000001", 1);
    assert_ne!(rounded, text);
    let error = verify_extract(rounded.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(error.to_string().contains("64-bit float"), "{error}");
}

#[tokio::test]
async fn purged_flag_never_carries_content() {
    let (_log, _checkpoint, key, text, _db) = extract(&[3, 4]).await;
    let forged = edit_line(&text, 1, |value| {
        value["entry"]["purged"] = json!(true);
        value["entry"]["payload"] = json!({"model": "forged"});
    });
    let error = verify_extract(forged.as_bytes(), &[key.verifying_key()]).unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidExtract { line: 2, .. }),
        "{error}"
    );
    // Claiming a purge with nothing left hides the content, which the
    // log's own verify checks against its recorded purges.
    let hidden = edit_line(&text, 1, |value| {
        value["entry"]["purged"] = json!(true);
        value["entry"]["payload"] = Value::Null;
    });
    assert!(verify_extract(hidden.as_bytes(), &[key.verifying_key()]).is_ok());
}

#[tokio::test]
async fn fields_no_hash_covers_fail() {
    let (_log, _checkpoint, key, text, _db) = extract(&[3]).await;
    // (line, object pointer, field added to it)
    let edits = [
        (1, "/entry", "approved_by"),
        (1, "", "note"),
        (0, "/checkpoint", "comment"),
        (0, "/selection", "extra"),
    ];
    for (line, pointer, field) in edits {
        let changed = edit_line(&text, line, |value| {
            value.pointer_mut(pointer).unwrap()[field] = json!("added");
        });
        let error = verify_extract(changed.as_bytes(), &[key.verifying_key()]).unwrap_err();
        assert!(error.to_string().contains("unknown field"), "{error}");
    }
}
