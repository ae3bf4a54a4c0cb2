//! The stable hash that maps a unit to a point in [0, 1).

use sha2::{Digest, Sha256};

/// Maps `(experiment_id, unit_id)` to a number in [0, 1).
///
/// The input to SHA-256 is the byte length of `experiment_id` as an 8-byte
/// big-endian integer, then the UTF-8 bytes of `experiment_id`, then the
/// UTF-8 bytes of `unit_id`. The length prefix keeps `("ab", "c")` and
/// `("a", "bc")` apart. The first 8 bytes of the digest, read big-endian,
/// keep their top 53 bits, which are divided by 2^53, so every result is an
/// exact `f64` in [0, 1).
///
/// This function fixes assignment across processes, platforms and releases;
/// changing it reassigns every unit of every running experiment, so the
/// golden vectors in `tests/data/assignment_vectors.json` pin it.
pub fn unit_interval(experiment_id: &str, unit_id: &str) -> f64 {
    let mut hasher = Sha256::new();
    hasher.update((experiment_id.len() as u64).to_be_bytes());
    hasher.update(experiment_id.as_bytes());
    hasher.update(unit_id.as_bytes());
    let digest = hasher.finalize();

    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let bits = u64::from_be_bytes(first) >> 11;
    bits as f64 / (1u64 << 53) as f64
}
