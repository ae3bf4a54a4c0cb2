//! Reusable token storage and interning for the reference metrics, so that
//! scoring a text pair allocates nothing once the buffers have grown.

/// Tokens of one or more segments: the token bytes back to back and the end
/// offset of each token. Separators are not stored.
#[derive(Debug, Default)]
pub(crate) struct TokenBuffer {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    open: bool,
}

impl TokenBuffer {
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.open = false;
    }

    /// Appends one byte to the current token, starting one if none is open.
    #[inline]
    pub(crate) fn push_byte(&mut self, byte: u8) {
        self.bytes.push(byte);
        self.open = true;
    }

    /// Ends the current token, if one is open.
    #[inline]
    pub(crate) fn end_token(&mut self) {
        if self.open {
            self.ends.push(self.bytes.len());
            self.open = false;
        }
    }

    /// Appends `bytes` as one finished token; empty `bytes` add no token.
    pub(crate) fn push_token(&mut self, bytes: &[u8]) {
        self.end_token();
        self.bytes.extend_from_slice(bytes);
        self.open = !bytes.is_empty();
        self.end_token();
    }

    /// Appends `text[start..end]` as one finished token, like
    /// [`push_token`](Self::push_token). When `text` has 16 bytes from
    /// `start`, it copies those 16 and drops the extra ones: a copy of a
    /// fixed size compiles to a few moves, where a short copy of a
    /// variable size calls `memcpy`.
    #[inline(always)]
    pub(crate) fn push_token_of(&mut self, text: &[u8], start: usize, end: usize) {
        const CHUNK: usize = 16;
        if end - start > CHUNK || start + CHUNK > text.len() {
            self.push_token(&text[start..end]);
            return;
        }
        self.end_token();
        if start < end {
            let token_start = self.bytes.len();
            self.bytes.extend_from_slice(&text[start..start + CHUNK]);
            self.bytes.truncate(token_start + end - start);
            self.ends.push(self.bytes.len());
        }
    }

    /// Returns the number of finished tokens.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Returns token `index`, which must be below [`len`](Self::len).
    pub(crate) fn token(&self, index: usize) -> &[u8] {
        let start = match index {
            0 => 0,
            _ => self.ends[index - 1],
        };
        &self.bytes[start..self.ends[index]]
    }

    /// Returns the tokens from `start` on as strings. The bytes of each token
    /// are a substring of the UTF-8 text they came from, or ASCII.
    pub(crate) fn strings_from(&self, start: usize) -> Vec<String> {
        (start..self.len())
            .map(|index| String::from_utf8_lossy(self.token(index)).into_owned())
            .collect()
    }
}

/// Maps the distinct tokens of a [`TokenBuffer`] to ids 1, 2, 3, … in order
/// of first appearance. Id 0 is never given out, so packed n-gram keys of
/// different lengths differ.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// Open-addressing slots: 0 when empty, else 1 + the index of the first
    /// token with that text.
    slots: Vec<u32>,
    used: Vec<usize>,
    ids: Vec<u32>,
    distinct: u32,
}

impl Interner {
    /// Assigns ids to every token of `tokens` and returns them, one per
    /// token. Previous ids are forgotten.
    pub(crate) fn intern(&mut self, tokens: &TokenBuffer) -> &[u32] {
        self.reset(tokens.len());
        let mask = self.slots.len() - 1;
        for index in 0..tokens.len() {
            let text = tokens.token(index);
            let mut slot = (hash_bytes(text) as usize) & mask;
            let id = loop {
                let entry = self.slots[slot] as usize;
                if entry == 0 {
                    self.slots[slot] = (index + 1) as u32;
                    self.used.push(slot);
                    self.distinct += 1;
                    break self.distinct;
                }
                if same_bytes(tokens.token(entry - 1), text) {
                    break self.ids[entry - 1];
                }
                slot = (slot + 1) & mask;
            };
            self.ids.push(id);
        }
        &self.ids
    }

    /// Returns the ids of the last call to `intern`.
    pub(crate) fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Returns the number of distinct tokens of the last call to `intern`.
    pub(crate) fn distinct(&self) -> usize {
        self.distinct as usize
    }

    fn reset(&mut self, token_count: usize) {
        let capacity = (token_count * 2).next_power_of_two().max(16);
        if capacity > self.slots.len() {
            self.slots = vec![0; capacity];
        } else {
            for &slot in &self.used {
                self.slots[slot] = 0;
            }
        }
        self.used.clear();
        self.ids.clear();
        self.distinct = 0;
    }
}

/// Hashes the bytes eight at a time: each little-endian word, and the
/// zero-padded tail, is mixed in with a multiply and a rotate, and the
/// length is mixed in last so that padding cannot make two tokens equal.
/// The high bits of the final multiply end up in the low bits used as the
/// slot index.
/// Compares two tokens; most are at most 8 bytes long and are compared
/// as one packed word instead of through `memcmp`.
#[inline]
fn same_bytes(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    if left.len() > 8 {
        return left == right;
    }
    pack_short(left) == pack_short(right)
}

/// Packs a slice of at most 8 bytes into a word without a variable-length
/// copy. Among slices of one length, different bytes give different words:
/// from 4 bytes up the first and last four bytes cover every byte, and
/// below that the first, middle and last bytes do.
#[inline]
fn pack_short(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    if len >= 4 {
        let first = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let last = u32::from_le_bytes([
            bytes[len - 4],
            bytes[len - 3],
            bytes[len - 2],
            bytes[len - 1],
        ]);
        u64::from(first) | (u64::from(last) << 32)
    } else if len > 0 {
        u64::from(bytes[0]) | (u64::from(bytes[len / 2]) << 8) | (u64::from(bytes[len - 1]) << 16)
    } else {
        0
    }
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut hash: u64 = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = (hash ^ u64::from_le_bytes(word))
            .wrapping_mul(MULTIPLIER)
            .rotate_left(29);
    }
    hash = (hash ^ pack_short(chunks.remainder())).wrapping_mul(MULTIPLIER);
    hash = (hash ^ bytes.len() as u64).wrapping_mul(MULTIPLIER);
    hash ^ (hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(tokens: &[&str]) -> TokenBuffer {
        let mut buffer = TokenBuffer::default();
        for token in tokens {
            for &byte in token.as_bytes() {
                buffer.push_byte(byte);
            }
            buffer.end_token();
        }
        buffer
    }

    #[test]
    fn interner_gives_equal_tokens_equal_ids() {
        let tokens = buffer(&["a", "b", "a", "東京", "b", "東京", "c"]);
        let mut interner = Interner::default();
        assert_eq!(interner.intern(&tokens), [1, 2, 1, 3, 2, 3, 4]);
        assert_eq!(interner.distinct(), 4);
    }

    #[test]
    fn interner_forgets_previous_call() {
        let mut interner = Interner::default();
        interner.intern(&buffer(&["x", "y"]));
        assert_eq!(interner.intern(&buffer(&["y", "z", "y"])), [1, 2, 1]);
        assert_eq!(interner.distinct(), 2);
    }

    #[test]
    fn interner_grows_past_initial_capacity() {
        let words: Vec<String> = (0..1000).map(|i| format!("w{}", i % 300)).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut interner = Interner::default();
        let ids = interner.intern(&buffer(&refs)).to_vec();
        assert_eq!(interner.distinct(), 300);
        assert_eq!(ids[0], ids[300]);
        assert_ne!(ids[0], ids[1]);
    }

    #[test]
    fn buffer_push_token_skips_empty() {
        let mut tokens = TokenBuffer::default();
        tokens.push_byte(b'a');
        tokens.push_token(b"bc");
        tokens.push_token(b"");
        tokens.push_token("東".as_bytes());
        assert_eq!(tokens.strings_from(0), ["a", "bc", "東"]);
    }

    #[test]
    fn buffer_end_without_bytes_adds_no_token() {
        let mut tokens = TokenBuffer::default();
        tokens.end_token();
        tokens.push_byte(b'a');
        tokens.end_token();
        tokens.end_token();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens.token(0), b"a");
    }

    proptest::proptest! {
        #[test]
        fn packed_comparison_equals_slice_comparison(
            left in proptest::collection::vec(0u8..4, 0..12),
            right in proptest::collection::vec(0u8..4, 0..12),
        ) {
            proptest::prop_assert_eq!(same_bytes(&left, &right), left == right);
            proptest::prop_assert!(same_bytes(&left, &left));
        }

        #[test]
        fn ids_are_equal_exactly_when_tokens_are(
            tokens in proptest::collection::vec("[ab]{0,10}", 1..40),
        ) {
            let words: Vec<&str> = tokens.iter().map(String::as_str).filter(|t| !t.is_empty()).collect();
            let mut interner = Interner::default();
            let ids = interner.intern(&buffer(&words)).to_vec();
            for (i, a) in words.iter().enumerate() {
                for (j, b) in words.iter().enumerate() {
                    proptest::prop_assert_eq!(ids[i] == ids[j], a == b);
                }
            }
        }
    }
}
