//! The table of partition keys behind a partitioned store: each top-level
//! site that owns entries is kept once, and an entry holds its index (four
//! bytes), not a copy of the name.
//!
//! Index 0 is "no partition": the entries of an unpartitioned store, and
//! of a partitioned store's requests without a top-level site. A site's
//! index is freed when its last entry goes, and reused.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// The index of "no partition".
pub(crate) const NONE: u32 = 0;

/// The partition keys in use, each with the count of entries that use it.
#[derive(Debug, Clone)]
pub(crate) struct Partitions {
    /// The key of each index; `names[0]` is empty (no partition).
    names: Vec<Box<str>>,
    /// Entries using each index; 0 marks a free index (except index 0).
    refs: Vec<u32>,
    /// Freed indexes, for reuse.
    free: Vec<u32>,
    /// Indexes by key.
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Default for Partitions {
    fn default() -> Self {
        Partitions {
            names: vec![Box::from("")],
            refs: vec![0],
            free: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }
}

impl Partitions {
    /// The index of `key`, if some entry uses it; the empty key is
    /// [`NONE`].
    pub(crate) fn id(&self, key: &str) -> Option<u32> {
        if key.is_empty() {
            return Some(NONE);
        }
        let names = &self.names;
        self.index
            .find(self.hasher.hash_one(key), |&i| &*names[i as usize] == key)
            .copied()
    }

    /// The index of `key` for one more entry, added if new.
    pub(crate) fn acquire(&mut self, key: &str) -> u32 {
        let id = match self.id(key) {
            Some(id) => id,
            None => self.add(key),
        };
        if let Some(r) = self.refs.get_mut(id as usize) {
            *r = r.saturating_add(1);
        }
        id
    }

    fn add(&mut self, key: &str) -> u32 {
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = key.into();
                id
            }
            None => {
                self.names.push(key.into());
                self.refs.push(0);
                (self.names.len() - 1) as u32
            }
        };
        let (names, hasher) = (&self.names, &self.hasher);
        self.index.insert_unique(hasher.hash_one(key), id, |&i| {
            hasher.hash_one(&*names[i as usize])
        });
        id
    }

    /// One entry fewer uses `id`; the last one frees it.
    pub(crate) fn release(&mut self, id: u32) {
        if id == NONE {
            return;
        }
        let Some(r) = self.refs.get_mut(id as usize) else {
            return;
        };
        *r = r.saturating_sub(1);
        if *r > 0 {
            return;
        }
        let key = std::mem::take(&mut self.names[id as usize]);
        let hash = self.hasher.hash_one(&*key);
        if let Ok(e) = self.index.find_entry(hash, |&i| i == id) {
            e.remove();
        }
        self.free.push(id);
    }

    /// The key of `id`; empty for [`NONE`] or an unknown index.
    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    /// How many partition keys are in use.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        let buckets = |c: usize| if c == 0 { 0 } else { c * 8 / 7 };
        self.names.capacity() * std::mem::size_of::<Box<str>>()
            + self.names.iter().map(|n| n.len()).sum::<usize>()
            + self.refs.capacity() * 4
            + self.free.capacity() * 4
            + buckets(self.index.capacity()) * 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_counted_freed_and_reused() {
        let mut p = Partitions::default();
        assert_eq!(p.id(""), Some(NONE));
        assert_eq!(p.acquire(""), NONE);
        let a = p.acquire("a.example");
        assert_eq!(p.acquire("a.example"), a);
        let b = p.acquire("b.example");
        assert_ne!(a, b);
        assert_eq!((p.len(), p.name(a)), (2, "a.example"));
        p.release(a);
        assert_eq!(p.id("a.example"), Some(a));
        p.release(a);
        assert_eq!(p.id("a.example"), None);
        assert_eq!(p.acquire("c.example"), a, "the freed index is reused");
        assert_eq!(p.id("b.example"), Some(b));
        assert_eq!(p.len(), 2);
    }
}
