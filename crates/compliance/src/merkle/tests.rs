use proptest::prelude::*;

use super::*;

fn leaves(count: usize) -> Vec<Hash> {
    (0..count)
        .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
        .collect()
}

fn sha256(bytes: &[u8]) -> Hash {
    Hash(Sha256::digest(bytes).into())
}

#[test]
fn leaf_and_node_prefixes() {
    assert_eq!(leaf_hash(b"x"), sha256(b"\x00x"));
    let (a, b) = (Hash([1; 32]), Hash([2; 32]));
    let mut joined = vec![0x01];
    joined.extend_from_slice(&a.0);
    joined.extend_from_slice(&b.0);
    assert_eq!(node_hash(&a, &b), sha256(&joined));
}

#[test]
fn empty_tree_is_sha256_of_nothing() {
    // SHA-256 of the empty string, a published constant.
    let expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(root(&[]).to_hex(), expected);
}

/// Trees of one to seven leaves, written out by the definition of MTH.
#[test]
fn roots_of_small_trees_by_hand() {
    let d = leaves(7);
    let n01 = node_hash(&d[0], &d[1]);
    let n23 = node_hash(&d[2], &d[3]);
    let n45 = node_hash(&d[4], &d[5]);
    let n0123 = node_hash(&n01, &n23);
    assert_eq!(root(&d[..1]), d[0]);
    assert_eq!(root(&d[..2]), n01);
    assert_eq!(root(&d[..3]), node_hash(&n01, &d[2]));
    assert_eq!(root(&d[..4]), n0123);
    assert_eq!(root(&d[..5]), node_hash(&n0123, &d[4]));
    assert_eq!(root(&d[..6]), node_hash(&n0123, &n45));
    assert_eq!(root(&d[..7]), node_hash(&n0123, &node_hash(&n45, &d[6])));
}

/// Proofs in a tree of seven leaves d0..d6, written out by hand from the
/// PATH and SUBPROOF definitions of RFC 9162.
#[test]
fn proofs_of_seven_leaf_tree_by_hand() {
    let d = leaves(7);
    let n01 = node_hash(&d[0], &d[1]);
    let n23 = node_hash(&d[2], &d[3]);
    let n456 = node_hash(&node_hash(&d[4], &d[5]), &d[6]);

    assert_eq!(inclusion_proof(&d, 0).unwrap(), vec![d[1], n23, n456]);
    assert_eq!(inclusion_proof(&d, 3).unwrap(), vec![d[2], n01, n456]);
    assert_eq!(
        inclusion_proof(&d, 4).unwrap(),
        vec![d[5], d[6], node_hash(&n01, &n23)]
    );
    assert_eq!(
        inclusion_proof(&d, 6).unwrap(),
        vec![node_hash(&d[4], &d[5]), node_hash(&n01, &n23)]
    );

    assert_eq!(
        consistency_proof(&d, 3).unwrap(),
        vec![d[2], d[3], n01, n456]
    );
    assert_eq!(consistency_proof(&d, 4).unwrap(), vec![n456]);
    assert_eq!(
        consistency_proof(&d, 6).unwrap(),
        vec![node_hash(&d[4], &d[5]), d[6], node_hash(&n01, &n23)]
    );
}

#[test]
fn every_inclusion_proof_verifies_up_to_64() {
    let all = leaves(64);
    for size in 1..=64_usize {
        let tree = &all[..size];
        let head = root(tree);
        for index in 0..size {
            let proof = inclusion_proof(tree, index as u64).unwrap();
            assert!(
                verify_inclusion(index as u64, size as u64, &tree[index], &proof, &head),
                "leaf {index} of {size}"
            );
        }
    }
}

#[test]
fn every_consistency_proof_verifies_up_to_64() {
    let all = leaves(64);
    for new_size in 0..=64_usize {
        let new_root = root(&all[..new_size]);
        for old_size in 0..=new_size {
            let old_root = root(&all[..old_size]);
            let proof = consistency_proof(&all[..new_size], old_size as u64).unwrap();
            assert!(
                verify_consistency(
                    old_size as u64,
                    new_size as u64,
                    &old_root,
                    &new_root,
                    &proof
                ),
                "{old_size} -> {new_size}"
            );
        }
    }
}

#[test]
fn out_of_range_requests_are_rejected() {
    let d = leaves(3);
    assert!(inclusion_proof(&d, 3).is_err());
    assert!(inclusion_proof(&[], 0).is_err());
    assert!(consistency_proof(&d, 4).is_err());
    let head = root(&d);
    assert!(!verify_inclusion(3, 3, &d[0], &[], &head));
    assert!(!verify_consistency(4, 3, &head, &head, &[]));
}

#[test]
fn wrong_leaf_index_or_size_fails() {
    let d = leaves(7);
    let head = root(&d);
    let proof = inclusion_proof(&d, 2).unwrap();
    assert!(verify_inclusion(2, 7, &d[2], &proof, &head));
    assert!(!verify_inclusion(3, 7, &d[2], &proof, &head));
    assert!(!verify_inclusion(2, 4, &d[2], &proof, &head));
    assert!(!verify_inclusion(2, 16, &d[2], &proof, &head));
    assert!(!verify_inclusion(2, 7, &d[3], &proof, &head));
    assert!(!verify_inclusion(2, 7, &d[2], &proof[..2], &head));
}

#[test]
fn consistency_with_forked_tree_fails() {
    let d = leaves(8);
    let mut forked = d.clone();
    forked[1] = leaf_hash(b"rewritten");
    let proof = consistency_proof(&d, 5).unwrap();
    assert!(verify_consistency(5, 8, &root(&d[..5]), &root(&d), &proof));
    assert!(!verify_consistency(
        5,
        8,
        &root(&forked[..5]),
        &root(&d),
        &proof
    ));
    assert!(!verify_consistency(
        3,
        3,
        &root(&d[..3]),
        &root(&forked[..3]),
        &[]
    ));
}

proptest! {
    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        size in 1_usize..300,
        index_seed in any::<usize>(),
        byte in 0_usize..32,
        element_seed in any::<usize>(),
    ) {
        let tree = leaves(size);
        let head = root(&tree);
        let index = index_seed % size;
        let proof = inclusion_proof(&tree, index as u64).unwrap();
        prop_assert!(verify_inclusion(index as u64, size as u64, &tree[index], &proof, &head));

        if !proof.is_empty() {
            let mut tampered = proof.clone();
            tampered[element_seed % proof.len()].0[byte] ^= 0x01;
            prop_assert!(!verify_inclusion(index as u64, size as u64, &tree[index], &tampered, &head));
            let mut longer = proof.clone();
            longer.push(head);
            prop_assert!(!verify_inclusion(index as u64, size as u64, &tree[index], &longer, &head));
        }
        let mut wrong_leaf = tree[index];
        wrong_leaf.0[byte] ^= 0x80;
        prop_assert!(!verify_inclusion(index as u64, size as u64, &wrong_leaf, &proof, &head));
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        new_size in 1_usize..300,
        old_seed in any::<usize>(),
        byte in 0_usize..32,
        element_seed in any::<usize>(),
    ) {
        let tree = leaves(new_size);
        let old_size = 1 + old_seed % new_size;
        let old_root = root(&tree[..old_size]);
        let new_root = root(&tree);
        let proof = consistency_proof(&tree, old_size as u64).unwrap();
        prop_assert!(verify_consistency(old_size as u64, new_size as u64, &old_root, &new_root, &proof));

        if !proof.is_empty() {
            let mut tampered = proof.clone();
            tampered[element_seed % proof.len()].0[byte] ^= 0x01;
            prop_assert!(!verify_consistency(old_size as u64, new_size as u64, &old_root, &new_root, &tampered));
            prop_assert!(!verify_consistency(old_size as u64, new_size as u64, &old_root, &new_root, &proof[1..]));
        }
        let mut wrong_old = old_root;
        wrong_old.0[byte] ^= 0x01;
        prop_assert!(!verify_consistency(old_size as u64, new_size as u64, &wrong_old, &new_root, &proof));
    }
}

#[test]
fn root_builder_matches_root_at_every_size() {
    let tree = leaves(130);
    let mut builder = RootBuilder::new();
    assert_eq!(builder.root(), empty_root());
    for (index, leaf) in tree.iter().enumerate() {
        builder.push(*leaf);
        assert_eq!(builder.size(), index as u64 + 1);
        assert_eq!(builder.root(), root(&tree[..=index]), "size {}", index + 1);
    }
}
