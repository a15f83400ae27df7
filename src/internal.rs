//! Not part of the stable API: what the fuzz targets, benches and tests
//! need to look inside a store, and what the CLI shares with the library.
//! May change in any release.

use chrono::{DateTime, Utc};

use crate::{CanonicalHost, EntryRef, HstsStore};

/// The byte tests on whole words that the library uses, for the CLI's
/// check of what it echoes.
pub mod swar {
    pub use crate::swar::{at_least_low, eq_bytes, eq_low, HIGH, ONES};
}

/// Views and changes of a store's plumbing (removal records, memory use),
/// for tests, benches and fuzzing.
pub trait StoreInternals {
    /// The entry stored under exactly this (already canonical) name.
    fn get_str(&self, canonical: &str) -> Option<EntryRef<'_>>;
    /// The entry stored under exactly this key in partition `partition`
    /// (empty: none).
    fn get_in(&self, partition: &str, key: &str) -> Option<EntryRef<'_>>;
    /// The remembered removals and when they happened (keys only, in any
    /// partition).
    fn tombstones(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> + '_;
    /// When this (canonical) host was last removed outside any partition,
    /// if that is remembered.
    fn tombstone_of(&self, canonical: &str) -> Option<DateTime<Utc>>;
    /// Records that `host` was removed at `at`, keeping the newest time.
    fn insert_tombstone(&mut self, host: &CanonicalHost, at: DateTime<Utc>);
    /// Heap bytes held by the entries and their indexes (removals not
    /// counted).
    fn heap_bytes(&self) -> usize;
}

impl StoreInternals for HstsStore {
    fn get_str(&self, canonical: &str) -> Option<EntryRef<'_>> {
        HstsStore::get_str(self, canonical)
    }

    fn get_in(&self, partition: &str, key: &str) -> Option<EntryRef<'_>> {
        HstsStore::get_key(self, partition, key)
    }

    fn tombstones(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> + '_ {
        HstsStore::tombstones(self).map(|(_, h, t)| (h, t))
    }

    fn tombstone_of(&self, canonical: &str) -> Option<DateTime<Utc>> {
        HstsStore::tombstone_of(self, "", canonical)
    }

    fn insert_tombstone(&mut self, host: &CanonicalHost, at: DateTime<Utc>) {
        self.insert_trusted_tombstone("", host.as_str(), at);
    }

    fn heap_bytes(&self) -> usize {
        HstsStore::heap_bytes(self)
    }
}
