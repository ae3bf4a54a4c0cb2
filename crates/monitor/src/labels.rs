//! Label values interned to small integer ids, with a cap per dimension so
//! that memory stays bounded however many distinct values arrive.

use std::collections::HashMap;

/// The map of label lookups, hashed with foldhash rather than the
/// standard SipHash because lookups are a large share of the recording
/// cost (see the `record` benchmark). Its per-map random seed resists crafted
/// collisions, and the cap bounds how many values a client can insert.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The id of a label value within its dimension.
pub(crate) type LabelId = u16;

/// The id that stands for "no value", such as a request without a team.
pub(crate) const NONE: LabelId = LabelId::MAX;

/// The value under which label values past the cap are counted.
pub(crate) const OTHER: &str = "other";

/// The label value of a request without one, in Prometheus output and
/// breakdowns.
pub(crate) const UNSET: &str = "";

/// The default cap on distinct values per dimension.
pub const DEFAULT_MAX_LABEL_VALUES: usize = 200;

/// Distinct values of one dimension. Id 0 is always [`OTHER`]; lookups by
/// `&str` allocate only when a value is new and under the cap.
#[derive(Debug)]
pub(crate) struct Interner {
    ids: FastMap<Box<str>, LabelId>,
    names: Vec<Box<str>>,
    max_values: usize,
    folded: u64,
}

impl Interner {
    pub(crate) fn new(max_values: usize) -> Self {
        // Ids must stay below NONE, and id 0 is taken by OTHER.
        let max_values = max_values.clamp(1, usize::from(NONE) - 2);
        let mut interner = Interner {
            ids: FastMap::default(),
            names: Vec::new(),
            max_values,
            folded: 0,
        };
        interner.insert(OTHER);
        interner
    }

    fn insert(&mut self, value: &str) -> LabelId {
        // The cap keeps `names.len()` below NONE, so the cast is exact.
        let id = self.names.len() as LabelId;
        self.names.push(value.into());
        self.ids.insert(value.into(), id);
        id
    }

    /// Returns the id of `value`, adding it while under the cap and
    /// returning the id of `other` past it.
    pub(crate) fn intern(&mut self, value: &str) -> LabelId {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        if self.names.len() > self.max_values {
            self.folded += 1;
            return 0;
        }
        self.insert(value)
    }

    /// The id of `value` when it was interned.
    pub(crate) fn get(&self, value: &str) -> Option<LabelId> {
        self.ids.get(value).copied()
    }

    /// Like [`Interner::intern`] for an optional value, [`NONE`] for none.
    pub(crate) fn intern_option(&mut self, value: Option<&str>) -> LabelId {
        value.map_or(NONE, |value| self.intern(value))
    }

    /// Adds `value` even past the cap, for values configured up front
    /// (budget scopes) that must never fold into `other`.
    pub(crate) fn reserve(&mut self, value: &str) -> LabelId {
        match self.ids.get(value) {
            Some(id) => *id,
            None => self.insert(value),
        }
    }

    /// The value of `id`; empty for [`NONE`].
    pub(crate) fn name(&self, id: LabelId) -> &str {
        self.names.get(usize::from(id)).map_or(UNSET, |name| name)
    }

    /// How many lookups were folded into `other` because of the cap.
    pub(crate) fn folded(&self) -> u64 {
        self.folded
    }

    /// Heap bytes held, estimated from capacities.
    pub(crate) fn heap_bytes(&self) -> usize {
        let strings: usize = self.names.iter().map(|name| name.len() * 2).sum();
        let table = self.ids.capacity() * (std::mem::size_of::<(Box<str>, LabelId)>() + 1);
        strings + table + self.names.capacity() * std::mem::size_of::<Box<str>>()
    }
}

/// The interned dimensions.
#[derive(Debug)]
pub(crate) struct Labels {
    pub(crate) model: Interner,
    pub(crate) provider: Interner,
    pub(crate) operation: Interner,
    pub(crate) team: Interner,
    pub(crate) key: Interner,
    pub(crate) route: Interner,
    pub(crate) prompt: Interner,
    /// `prompt@version` pairs, by prompt id and version.
    pub(crate) prompt_versions: PromptVersions,
    pub(crate) error_class: Interner,
    pub(crate) guard_finding: Interner,
    pub(crate) metric: Interner,
}

impl Labels {
    pub(crate) fn new(max_values: usize) -> Self {
        Labels {
            model: Interner::new(max_values),
            provider: Interner::new(max_values),
            operation: Interner::new(max_values),
            team: Interner::new(max_values),
            key: Interner::new(max_values),
            route: Interner::new(max_values),
            prompt: Interner::new(max_values),
            prompt_versions: PromptVersions::new(max_values),
            error_class: Interner::new(max_values),
            guard_finding: Interner::new(max_values),
            metric: Interner::new(max_values),
        }
    }

    /// Interns a prompt and version into a prompt-version id.
    pub(crate) fn intern_prompt(&mut self, prompt: Option<crate::PromptRef<'_>>) -> LabelId {
        let Some(prompt) = prompt else {
            return NONE;
        };
        let name = self.prompt.intern(prompt.name);
        self.prompt_versions.intern(name, prompt.version)
    }

    /// `prompt@version` of a prompt-version id; `other` past the cap.
    pub(crate) fn prompt_version_name(&self, id: LabelId) -> Option<(String, u32)> {
        let (prompt, version) = self.prompt_versions.get(id)?;
        Some((self.prompt.name(prompt).to_owned(), version))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        [
            &self.model,
            &self.provider,
            &self.operation,
            &self.team,
            &self.key,
            &self.route,
            &self.prompt,
            &self.error_class,
            &self.guard_finding,
            &self.metric,
        ]
        .iter()
        .map(|interner| interner.heap_bytes())
        .sum::<usize>()
            + self.prompt_versions.heap_bytes()
    }

    /// Lookups folded into `other`, over every dimension.
    pub(crate) fn folded(&self) -> u64 {
        [
            &self.model,
            &self.provider,
            &self.operation,
            &self.team,
            &self.key,
            &self.route,
            &self.prompt,
            &self.error_class,
            &self.guard_finding,
            &self.metric,
        ]
        .iter()
        .map(|interner| interner.folded())
        .sum::<u64>()
            + self.prompt_versions.folded
    }
}

/// Prompt-version pairs; id 0 is `other`.
#[derive(Debug)]
pub(crate) struct PromptVersions {
    ids: FastMap<(LabelId, u32), LabelId>,
    pairs: Vec<(LabelId, u32)>,
    max_values: usize,
    folded: u64,
}

impl PromptVersions {
    fn new(max_values: usize) -> Self {
        PromptVersions {
            ids: FastMap::default(),
            pairs: vec![(0, 0)],
            max_values: max_values.clamp(1, usize::from(NONE) - 2),
            folded: 0,
        }
    }

    fn intern(&mut self, prompt: LabelId, version: u32) -> LabelId {
        if prompt == 0 {
            return 0;
        }
        if let Some(id) = self.ids.get(&(prompt, version)) {
            return *id;
        }
        if self.pairs.len() > self.max_values {
            self.folded += 1;
            return 0;
        }
        let id = self.pairs.len() as LabelId;
        self.pairs.push((prompt, version));
        self.ids.insert((prompt, version), id);
        id
    }

    /// The prompt id and version of `id`; none for [`NONE`] and `other`.
    fn get(&self, id: LabelId) -> Option<(LabelId, u32)> {
        if id == 0 {
            return None;
        }
        self.pairs.get(usize::from(id)).copied()
    }

    fn heap_bytes(&self) -> usize {
        self.ids.capacity() * (std::mem::size_of::<((LabelId, u32), LabelId)>() + 1)
            + self.pairs.capacity() * std::mem::size_of::<(LabelId, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_folds_values_past_cap() {
        let mut interner = Interner::new(3);
        let ids: Vec<LabelId> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|value| interner.intern(value))
            .collect();
        assert_eq!(ids, vec![1, 2, 3, 0, 0]);
        assert_eq!(interner.name(0), OTHER);
        assert_eq!(interner.name(2), "b");
        assert_eq!(interner.folded(), 2);
        assert_eq!(interner.intern("a"), 1);
    }

    #[test]
    fn reserve_passes_cap() {
        let mut interner = Interner::new(1);
        assert_eq!(interner.intern("a"), 1);
        assert_eq!(interner.intern("b"), 0);
        let reserved = interner.reserve("b");
        assert_eq!(reserved, 2);
        assert_eq!(interner.intern("b"), 2);
    }

    #[test]
    fn none_has_empty_name() {
        let interner = Interner::new(3);
        assert_eq!(interner.name(NONE), UNSET);
    }
}
