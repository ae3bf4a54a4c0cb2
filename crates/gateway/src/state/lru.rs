//! A byte-bounded cache with expiry and least-recently-used eviction.

use std::collections::{BTreeMap, HashMap};

use super::CacheStats;

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_ms: u64,
    /// The position in the use order; higher is more recent.
    used: u64,
}

/// The cache of [`MemoryState`](super::MemoryState).
#[derive(Debug)]
pub(crate) struct Lru {
    entries: HashMap<String, Entry>,
    /// Keys by their last use, oldest first.
    order: BTreeMap<u64, String>,
    next_use: u64,
    bytes: u64,
    max_bytes: u64,
    hits: u64,
    misses: u64,
}

fn size_of(key: &str, value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64
}

impl Lru {
    pub(crate) fn new(max_bytes: u64) -> Self {
        Lru {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_use: 0,
            bytes: 0,
            max_bytes,
            hits: 0,
            misses: 0,
        }
    }

    pub(crate) fn get(&mut self, now_ms: u64, key: &str) -> Option<Vec<u8>> {
        let live = self.entries.get(key).map(|entry| entry.expires_ms > now_ms);
        match live {
            Some(true) => {}
            Some(false) => {
                self.remove(key);
                self.misses += 1;
                return None;
            }
            None => {
                self.misses += 1;
                return None;
            }
        }
        self.hits += 1;
        let used = self.touch();
        let entry = self.entries.get_mut(key)?;
        self.order.remove(&entry.used);
        entry.used = used;
        self.order.insert(used, key.to_owned());
        Some(entry.value.clone())
    }

    pub(crate) fn put(&mut self, now_ms: u64, key: &str, value: Vec<u8>, ttl_ms: u64) {
        self.remove(key);
        let size = size_of(key, &value);
        if size > self.max_bytes || ttl_ms == 0 {
            return;
        }
        while self.bytes + size > self.max_bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(entry) = self.entries.remove(&oldest) {
                self.bytes -= size_of(&oldest, &entry.value);
            }
        }
        let used = self.touch();
        self.order.insert(used, key.to_owned());
        self.bytes += size;
        self.entries.insert(
            key.to_owned(),
            Entry {
                value,
                expires_ms: now_ms.saturating_add(ttl_ms),
                used,
            },
        );
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.entries.len() as u64,
            bytes: self.bytes,
        }
    }

    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.used);
            self.bytes -= size_of(key, &entry.value);
        }
    }

    fn touch(&mut self) -> u64 {
        self.next_use += 1;
        self.next_use
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_is_evicted_first() {
        let mut lru = Lru::new(25);
        lru.put(0, "a", vec![0; 9], 1_000);
        lru.put(0, "b", vec![0; 9], 1_000);
        assert!(lru.get(0, "a").is_some(), "a is now the most recent");
        lru.put(0, "c", vec![0; 9], 1_000);
        assert!(lru.get(0, "b").is_none(), "b was the least recent");
        assert!(lru.get(0, "a").is_some());
        assert!(lru.get(0, "c").is_some());
        assert_eq!(lru.stats().bytes, 20);
        assert_eq!(lru.stats().entries, 2);
    }

    #[test]
    fn expired_entry_is_a_miss_and_freed() {
        let mut lru = Lru::new(100);
        lru.put(0, "k", vec![1, 2, 3], 50);
        assert_eq!(lru.get(49, "k"), Some(vec![1, 2, 3]));
        assert_eq!(lru.get(50, "k"), None);
        let stats = lru.stats();
        assert_eq!(
            (stats.hits, stats.misses, stats.entries, stats.bytes),
            (1, 1, 0, 0)
        );
    }

    #[test]
    fn value_larger_than_bound_is_not_stored() {
        let mut lru = Lru::new(10);
        lru.put(0, "small", vec![0; 2], 1_000);
        lru.put(0, "big", vec![0; 20], 1_000);
        assert!(lru.get(0, "big").is_none());
        assert!(lru.get(0, "small").is_some(), "nothing was evicted for it");
    }

    #[test]
    fn replacing_a_key_keeps_byte_count_exact() {
        let mut lru = Lru::new(100);
        lru.put(0, "k", vec![0; 10], 1_000);
        lru.put(0, "k", vec![0; 4], 1_000);
        assert_eq!(lru.stats().bytes, 5);
        assert_eq!(lru.stats().entries, 1);
    }
}
