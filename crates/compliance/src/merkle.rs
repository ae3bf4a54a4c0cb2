//! The Merkle tree of RFC 9162 (Certificate Transparency 2.0) section 2.1.
//!
//! Leaves and interior nodes are hashed with distinct one-byte prefixes,
//! 0x00 and 0x01, so a leaf can never pass for a node. The tree over `n`
//! leaves splits at the largest power of two smaller than `n`. The audit
//! log's entry hashes are the leaf hashes, so the functions here take leaf
//! hashes, not raw leaf data.

use sha2::{Digest, Sha256};

use crate::error::{ComplianceError, Result};
use crate::hash::Hash;

/// Returns the RFC 9162 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// Returns the RFC 9162 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// Returns the hash of the empty tree, SHA-256 of no bytes.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// Returns the largest power of two smaller than `n`, for `n >= 2`.
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Computes the tree head (MTH) over `leaves`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Computes tree heads while leaves are added one at a time, so the heads
/// of every prefix a checkpoint signed cost one pass over the leaves.
///
/// It keeps the roots of the perfect subtrees that the binary digits of
/// the size describe, largest first (RFC 9162's compact range of the whole
/// tree), which is at most 64 hashes.
#[derive(Debug, Clone, Default)]
pub struct RootBuilder {
    /// `(height, root)` of each perfect subtree, from the left.
    subtrees: Vec<(u32, Hash)>,
    size: u64,
}

impl RootBuilder {
    /// Creates a builder over no leaves.
    pub fn new() -> Self {
        RootBuilder::default()
    }

    /// Returns the number of leaves added.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds the next leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut height = 0;
        while let Some(&(top, left)) = self.subtrees.last() {
            if top != height {
                break;
            }
            self.subtrees.pop();
            node = node_hash(&left, &node);
            height += 1;
        }
        self.subtrees.push((height, node));
        self.size += 1;
    }

    /// Returns the tree head over the leaves added so far, equal to
    /// [`root`] over them.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, mut acc)) = subtrees.next() else {
            return empty_root();
        };
        for (_, left) in subtrees {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// Builds the inclusion proof (audit path) of leaf `index` in the tree over
/// `leaves`, ordered from the leaf up.
///
/// # Errors
///
/// [`ComplianceError::InvalidTreeSize`] when `index` is not below the number of leaves.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(ComplianceError::InvalidTreeSize {
            size,
            reason: format!("leaf {index} is not in a tree of {size} leaves"),
        });
    }
    let mut proof = Vec::new();
    let mut index = index as usize;
    let mut subtree = leaves;
    let mut siblings = Vec::new();
    while subtree.len() > 1 {
        let k = split_point(subtree.len());
        if index < k {
            siblings.push(root(&subtree[k..]));
            subtree = &subtree[..k];
        } else {
            siblings.push(root(&subtree[..k]));
            subtree = &subtree[k..];
            index -= k;
        }
    }
    // The walk went from the root down, the proof runs from the leaf up.
    while let Some(sibling) = siblings.pop() {
        proof.push(sibling);
    }
    Ok(proof)
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose
/// head is `root`, following RFC 9162 section 2.1.3.2.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// Builds the consistency proof between the tree over the first `old_size`
/// leaves and the tree over all `leaves` (RFC 9162 section 2.1.4.1).
///
/// The proof is empty when `old_size` is 0 or equals the number of leaves.
///
/// # Errors
///
/// [`ComplianceError::InvalidTreeSize`] when `old_size` exceeds the number of leaves.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>> {
    let size = leaves.len() as u64;
    if old_size > size {
        return Err(ComplianceError::InvalidTreeSize {
            size: old_size,
            reason: format!("the old tree cannot be larger than the new tree of {size} leaves"),
        });
    }
    let mut proof = Vec::new();
    if old_size == 0 || old_size == size {
        return Ok(proof);
    }
    subproof(old_size as usize, leaves, true, &mut proof);
    Ok(proof)
}

/// SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1, appended to `proof`.
fn subproof(m: usize, leaves: &[Hash], whole_subtree: bool, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole_subtree {
            proof.push(root(leaves));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, &leaves[..k], whole_subtree, proof);
        proof.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, proof);
        proof.push(root(&leaves[..k]));
    }
}

/// Checks that the tree of `old_size` leaves with head `old_root` is a
/// prefix of the tree of `new_size` leaves with head `new_root`, following
/// RFC 9162 section 2.1.4.2.
///
/// An empty old tree is a prefix of every tree. Equal sizes need an empty
/// proof and equal heads.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let Some((first, rest)) = proof.split_first() else {
        return false;
    };

    // A power-of-two old tree is a whole subtree of the new tree, so the
    // proof leaves out its head and the verifier starts from `old_root`.
    let (start, path) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = *start;
    let mut sr = *start;
    for c in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests;
