//! Tree heads, inclusion and consistency proofs read from the log, against signed checkpoints.

use crate::common;

use common::{fill, sqlite_log};
use llmops_compliance::ed25519_dalek::SigningKey;
use llmops_compliance::{CHECKPOINT_KIND, Checkpoint, ComplianceError, TreeHead, merkle};

#[tokio::test]
async fn inclusion_proofs_verify_against_checkpoint() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 13).await;
    let key = SigningKey::from_bytes(&[1; 32]);
    let checkpoint = log.sign_checkpoint(&key).await.unwrap();
    checkpoint.verify_signature(&[key.verifying_key()]).unwrap();
    assert_eq!(checkpoint.size, 13);

    for seq in 0..13 {
        let entry = log.entry(seq).await.unwrap();
        let proof = log.inclusion_proof(seq, checkpoint.size).await.unwrap();
        assert!(
            merkle::verify_inclusion(seq, checkpoint.size, &entry.hash, &proof, &checkpoint.root),
            "entry {seq}"
        );
    }
}

#[tokio::test]
async fn later_checkpoint_is_consistent_with_earlier() {
    let (log, _db) = sqlite_log().await;
    let key = SigningKey::from_bytes(&[1; 32]);
    fill(&log, 5).await;
    let old = log.sign_checkpoint(&key).await.unwrap();
    fill(&log, 9).await;
    let new = log.sign_checkpoint(&key).await.unwrap();
    // Each signing appends a `checkpoint_signed` entry after the covered ones.
    assert_eq!((old.size, new.size), (5, 15));
    assert_eq!(log.entry(5).await.unwrap().kind, CHECKPOINT_KIND);

    let proof = log.consistency_proof(old.size, new.size).await.unwrap();
    assert!(merkle::verify_consistency(
        old.size, new.size, &old.root, &new.root, &proof
    ));
    assert_eq!(
        log.checkpoints().await.unwrap(),
        vec![old.clone(), new.clone()]
    );

    let stale = log.tree_head(Some(5)).await.unwrap();
    assert_eq!(stale, old.tree_head());
}

#[tokio::test]
async fn empty_log_has_empty_root() {
    let (log, _db) = sqlite_log().await;
    let head = log.tree_head(None).await.unwrap();
    assert_eq!(
        head,
        TreeHead {
            size: 0,
            root: merkle::empty_root()
        }
    );
}

#[tokio::test]
async fn proof_beyond_log_is_rejected() {
    let (log, _db) = sqlite_log().await;
    fill(&log, 3).await;
    let error = log.inclusion_proof(0, 4).await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidTreeSize { size: 4, .. }),
        "{error}"
    );
    let error = log.inclusion_proof(3, 3).await.unwrap_err();
    assert!(
        matches!(error, ComplianceError::InvalidTreeSize { .. }),
        "{error}"
    );
    assert!(log.consistency_proof(4, 3).await.is_err());
}

#[test]
fn changed_checkpoint_fields_fail_signature() {
    let key = SigningKey::from_bytes(&[2; 32]);
    let head = TreeHead {
        size: 4,
        root: merkle::leaf_hash(b"x"),
    };
    let checkpoint = Checkpoint::sign(head, 1_000, &key);
    checkpoint.verify_signature(&[]).unwrap();

    let mut later = checkpoint.clone();
    later.at_ms += 1;
    assert!(matches!(
        later.verify_signature(&[]),
        Err(ComplianceError::BadSignature { .. })
    ));
    let mut bigger = checkpoint.clone();
    bigger.size = 5;
    assert!(bigger.verify_signature(&[]).is_err());
    let mut bad_key = checkpoint.clone();
    bad_key.public_key = "00".repeat(31);
    assert!(matches!(
        bad_key.verify_signature(&[]),
        Err(ComplianceError::InvalidKey { .. })
    ));
}
