//! The compact table behind [`HstsStore`](crate::HstsStore): every dynamic
//! entry in one slab, every name in one arena, and three indexes threaded
//! through the slab, so that an entry costs 56 bytes plus its name plus two
//! hash-table cells, with no allocation of its own.
//!
//! - **Slab.** `slots[i]` holds entry `i`: where its name lies in the arena,
//!   where its site (eTLD+1) starts in the name, includeSubDomains, and the
//!   observation and expiry times. Freed slots are chained and reused.
//! - **Arena.** All names back to back in 64 KiB chunks, so growing it never
//!   copies more than one chunk and wastes at most the last chunk's tail. A
//!   removal leaves garbage, compacted away once it outweighs the live names.
//! - **By host.** A hash table of slot numbers, keyed by the name (foldhash
//!   with a per-process random seed, so crafted names cannot aim for one
//!   bucket).
//! - **By site.** A hash table of slot numbers keyed by the site, one entry
//!   of each site (its head); the site's entries form a circular list
//!   through the slab, and the head's slot keeps the site's count (in a byte
//!   that would otherwise be padding; 255 means "count by walking"). The
//!   per-site quota reads the count, and only a full site is walked (at most
//!   its quota) to find its oldest entry.
//! - **By observation.** A doubly linked list through the slab in the order
//!   entries were noted (an update moves an entry to the newest end; a load
//!   inserts in observation order), walked from the oldest end by
//!   [`Table::oldest_first`].
//!
//! The table knows no policy: which entry goes when a site or the store
//! is full is decided in [`bounds`](crate::bounds), from the counts and
//! orders the table reports.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::entry::EntryRef;
use crate::partitions::{self, Partitions};

/// The most slots a table addresses: slot numbers and arena offsets are
/// 32 bits. [`bounds::MAX_CAPACITY`](crate::bounds::MAX_CAPACITY) keeps
/// stores well inside it (8,000,000 names of at most 253 bytes, plus as
/// much garbage, stay under 4 GiB).
pub(crate) const MAX_SLOTS: usize = u32::MAX as usize - 1;

/// No slot.
const NIL: u32 = u32::MAX;

/// Garbage in the arena is compacted once it exceeds both this and the
/// bytes of live names.
const COMPACT_MIN_GARBAGE: usize = 1 << 16;

/// Bits of an arena offset that address a byte within a chunk.
const CHUNK_BITS: u32 = 16;
/// Bytes in a full arena chunk.
const CHUNK: usize = 1 << CHUNK_BITS;
/// The most chunks: offsets are `chunk << 16 | byte` in a u32.
const MAX_CHUNKS: usize = 1 << (32 - CHUNK_BITS);
/// A site count of this or more is not kept and is counted by walking.
const COUNT_UNKNOWN: u8 = u8::MAX;

/// Names back to back in chunks of at most [`CHUNK`] bytes; a name never
/// straddles two chunks.
#[derive(Debug, Clone, Default)]
struct Arena {
    chunks: Vec<String>,
    /// Bytes written, live and garbage.
    used: usize,
}

impl Arena {
    fn get(&self, off: u32, len: u8) -> &str {
        let start = (off as usize) & (CHUNK - 1);
        self.chunks
            .get((off >> CHUNK_BITS) as usize)
            .and_then(|c| c.get(start..start + len as usize))
            .unwrap_or("")
    }

    /// Appends a name of at most 255 bytes; its offset, or `None` when all
    /// [`MAX_CHUNKS`] chunks are full.
    fn push(&mut self, name: &str) -> Option<u32> {
        let need = name.len();
        if need > u8::MAX as usize {
            return None;
        }
        if self.chunks.last().is_none_or(|c| c.len() + need > CHUNK) {
            if self.chunks.len() >= MAX_CHUNKS {
                return None;
            }
            self.chunks.push(String::new());
        }
        let index = self.chunks.len() - 1;
        let c = self.chunks.last_mut()?;
        if c.capacity() - c.len() < need {
            // Grow by doubling up to one chunk, never beyond.
            let target = (c.capacity() * 2).max(c.len() + need).clamp(64, CHUNK);
            c.reserve_exact(target - c.len());
        }
        let off = ((index << CHUNK_BITS) | c.len()) as u32;
        c.push_str(name);
        self.used += need;
        Some(off)
    }

    fn capacity(&self) -> usize {
        self.chunks.iter().map(String::capacity).sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<String>()
    }
}

/// How many order lists the table keeps: the caller files each entry under
/// one of these classes (see [`Table::set_class`]).
pub(crate) const CLASSES: usize = 8;

/// Bit of [`Slot::flags`]: includeSubDomains.
const FLAG_ISD: u8 = 1;
/// Bits of [`Slot::flags`] holding the order class.
const CLASS_SHIFT: u32 = 1;
const CLASS_MASK: u8 = (CLASSES as u8 - 1) << CLASS_SHIFT;

/// On how many distinct days an entry was used (noted or matched), and the
/// last such day, in days since 1970-01-01 (saturating at `u16::MAX`, the
/// year 2149).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Usage {
    /// Distinct days of use, saturating.
    pub(crate) days: u16,
    /// The last day of use.
    pub(crate) last_day: u16,
}

impl Usage {
    /// The day of `t`, in days since 1970-01-01, within `0..=u16::MAX`.
    pub(crate) fn day_of(t: DateTime<Utc>) -> u16 {
        let days = t.timestamp().div_euclid(86_400);
        u16::try_from(days.max(0)).unwrap_or(u16::MAX)
    }

    /// First used on the day of `t`.
    pub(crate) fn first(t: DateTime<Utc>) -> Usage {
        Usage {
            days: 1,
            last_day: Usage::day_of(t),
        }
    }

    fn pack(self) -> u32 {
        u32::from(self.last_day) << 16 | u32::from(self.days)
    }

    fn unpack(v: u32) -> Usage {
        Usage {
            days: v as u16,
            last_day: (v >> 16) as u16,
        }
    }

    /// This usage after a use on `day`: a later day counts once more.
    pub(crate) fn used_on(self, day: u16) -> Usage {
        if day > self.last_day {
            Usage {
                days: self.days.saturating_add(1),
                last_day: day,
            }
        } else {
            self
        }
    }
}

#[derive(Debug)]
struct Slot {
    /// Where the name starts in the arena.
    name_off: u32,
    /// Its length; 0 marks a free slot (canonical names are never empty).
    name_len: u8,
    /// Where the site starts in the name.
    site_off: u8,
    /// includeSubDomains ([`FLAG_ISD`]) and the order class.
    flags: u8,
    /// In a site's head slot, the site's entry count ([`COUNT_UNKNOWN`]
    /// when too large to keep here).
    site_count: u8,
    /// The partition (an index into [`Partitions`]; [`partitions::NONE`]
    /// when the store is not partitioned).
    part: u32,
    /// [`Usage`], packed; atomic so that a lookup through `&self` can
    /// count a day of use.
    usage: AtomicU32,
    observed: DateTime<Utc>,
    expires: DateTime<Utc>,
    /// The neighbours in observation order within the slot's class; for a
    /// free slot, `newer` chains the free list.
    older: u32,
    newer: u32,
    /// The neighbours in the site's circular list.
    site_prev: u32,
    site_next: u32,
}

impl Clone for Slot {
    fn clone(&self) -> Slot {
        Slot {
            usage: AtomicU32::new(self.usage.load(Ordering::Relaxed)),
            older: self.older,
            newer: self.newer,
            site_prev: self.site_prev,
            site_next: self.site_next,
            observed: self.observed,
            expires: self.expires,
            ..*self
        }
    }
}

impl Slot {
    fn include_subdomains(&self) -> bool {
        self.flags & FLAG_ISD != 0
    }

    fn class(&self) -> usize {
        ((self.flags & CLASS_MASK) >> CLASS_SHIFT) as usize
    }
}

/// The entry table. See the [module documentation](self).
#[derive(Clone)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    names: Arena,
    garbage: usize,
    free: u32,
    /// The ends of each class's order list.
    oldest: [u32; CLASSES],
    newest: [u32; CLASSES],
    len: usize,
    by_host: HashTable<u32>,
    by_site: HashTable<u32>,
    hasher: DefaultHashBuilder,
    parts: Partitions,
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("len", &self.len)
            .field("sites", &self.by_site.len())
            .field("name_bytes", &self.names.used)
            .finish_non_exhaustive()
    }
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

/// The name of slot `id`; empty for a free or unknown slot.
fn name_of<'a>(slots: &[Slot], names: &'a Arena, id: u32) -> &'a str {
    match slots.get(id as usize) {
        Some(s) => names.get(s.name_off, s.name_len),
        None => "",
    }
}

/// The partition of slot `id`.
fn part_of(slots: &[Slot], id: u32) -> u32 {
    slots.get(id as usize).map_or(partitions::NONE, |s| s.part)
}

/// The hash of an entry's key: its partition and its name.
fn key_hash(hasher: &DefaultHashBuilder, part: u32, name: &str) -> u64 {
    hasher.hash_one((part, name))
}

/// The site of slot `id`: the tail of its name.
fn site_of<'a>(slots: &[Slot], names: &'a Arena, id: u32) -> &'a str {
    let name = name_of(slots, names, id);
    let off = slots.get(id as usize).map_or(0, |s| s.site_off as usize);
    name.get(off..).unwrap_or(name)
}

impl Table {
    /// An empty table.
    pub(crate) fn new() -> Table {
        Table {
            slots: Vec::new(),
            names: Arena::default(),
            garbage: 0,
            free: NIL,
            oldest: [NIL; CLASSES],
            newest: [NIL; CLASSES],
            len: 0,
            by_host: HashTable::new(),
            by_site: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            parts: Partitions::default(),
        }
    }

    /// Makes room for `entries` more entries with `name_bytes` more bytes of
    /// names, so that a bulk load neither reallocates nor rehashes.
    pub(crate) fn reserve(&mut self, entries: usize, name_bytes: usize) {
        self.slots.reserve_exact(entries);
        self.names.chunks.reserve(name_bytes / CHUNK + 1);
        let Table {
            slots,
            names,
            by_host,
            by_site,
            hasher,
            ..
        } = self;
        by_host.reserve(entries, |&i| {
            key_hash(hasher, part_of(slots, i), name_of(slots, names, i))
        });
        by_site.reserve(entries, |&h| hasher.hash_one(site_of(slots, names, h)));
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn hash(&self, s: &str) -> u64 {
        self.hasher.hash_one(s)
    }

    /// The slot holding exactly this name, outside any partition.
    #[cfg(test)]
    pub(crate) fn find(&self, host: &str) -> Option<u32> {
        self.find_in(partitions::NONE, host)
    }

    /// The slot holding exactly this name in partition `part` (an index
    /// from [`Table::partition_id`]).
    pub(crate) fn find_in(&self, part: u32, host: &str) -> Option<u32> {
        let (slots, names) = (&self.slots, &self.names);
        self.by_host
            .find(key_hash(&self.hasher, part, host), |&id| {
                slots[id as usize].part == part && name_of(slots, names, id) == host
            })
            .copied()
    }

    /// The index of partition key `key` (empty: no partition), if some
    /// entry uses it.
    pub(crate) fn partition_id(&self, key: &str) -> Option<u32> {
        self.parts.id(key)
    }

    /// How many partitions hold entries (not counting "no partition").
    pub(crate) fn partition_count(&self) -> usize {
        self.parts.len()
    }

    /// The entries of partition `part`, in slot order.
    pub(crate) fn partition_members(&self, part: u32) -> impl Iterator<Item = u32> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.name_len != 0 && s.part == part)
            .map(|(i, _)| i as u32)
    }

    /// The entry in slot `id`.
    pub(crate) fn entry(&self, id: u32) -> EntryRef<'_> {
        let s = &self.slots[id as usize];
        EntryRef {
            host: name_of(&self.slots, &self.names, id),
            partition: Some(self.parts.name(s.part)).filter(|p| !p.is_empty()),
            include_subdomains: s.include_subdomains(),
            observed: s.observed,
            expires: s.expires,
        }
    }

    /// Every entry with its slot, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, EntryRef<'_>)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name_len != 0)
            .map(|(i, _)| (i as u32, self.entry(i as u32)))
    }

    /// Replaces the policy of slot `id` and makes it the most recently
    /// observed. Returns the old `(include_subdomains, observed, expires)`.
    pub(crate) fn update(
        &mut self,
        id: u32,
        include_subdomains: bool,
        observed: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> (bool, DateTime<Utc>, DateTime<Utc>) {
        let s = &mut self.slots[id as usize];
        let old = (s.include_subdomains(), s.observed, s.expires);
        s.flags = (s.flags & !FLAG_ISD) | u8::from(include_subdomains);
        s.observed = observed;
        s.expires = expires;
        self.unlink_order(id);
        self.link_newest(id);
        old
    }

    /// Adds an entry for a name that is not in the table yet, in partition
    /// `part` (a key; empty for none). `site_off` is
    /// where its site starts in `host`. The caller keeps the table within
    /// [`bounds::MAX_CAPACITY`](crate::bounds::MAX_CAPACITY), which keeps the
    /// arena within its 4 GiB; `None` (the entry is not added) only for an
    /// empty or over-long name, a full arena or [`MAX_SLOTS`] slots.
    pub(crate) fn insert(
        &mut self,
        part: &str,
        host: &str,
        site_off: usize,
        include_subdomains: bool,
        observed: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Option<u32> {
        if host.is_empty() || host.len() > u8::MAX as usize || self.slots.len() >= MAX_SLOTS {
            return None;
        }
        debug_assert!(self
            .partition_id(part)
            .and_then(|p| self.find_in(p, host))
            .is_none());
        let name_off = match self.names.push(host) {
            Some(off) => off,
            None => {
                self.compact();
                self.names.push(host)?
            }
        };
        let slot = Slot {
            name_off,
            name_len: host.len() as u8,
            site_off: if site_off < host.len() {
                site_off as u8
            } else {
                0
            },
            flags: u8::from(include_subdomains),
            site_count: 0,
            part: partitions::NONE,
            usage: AtomicU32::new(Usage::first(observed).pack()),
            observed,
            expires,
            older: NIL,
            newer: NIL,
            site_prev: NIL,
            site_next: NIL,
        };
        let id = if self.free != NIL {
            let id = self.free;
            self.free = self.slots[id as usize].newer;
            self.slots[id as usize] = slot;
            id
        } else {
            self.slots.push(slot);
            (self.slots.len() - 1) as u32
        };
        let part = self.parts.acquire(part);
        self.slots[id as usize].part = part;
        let hash = key_hash(&self.hasher, part, host);
        let (slots, names, hasher) = (&self.slots, &self.names, &self.hasher);
        self.by_host.insert_unique(hash, id, |&i| {
            key_hash(hasher, part_of(slots, i), name_of(slots, names, i))
        });
        self.link_newest(id);
        self.link_site(id);
        self.len += 1;
        Some(id)
    }

    /// Removes the entry in slot `id`.
    pub(crate) fn remove(&mut self, id: u32) {
        let Some(s) = self.slots.get(id as usize) else {
            return;
        };
        if s.name_len == 0 {
            return;
        }
        let part = s.part;
        let hash = key_hash(&self.hasher, part, name_of(&self.slots, &self.names, id));
        if let Ok(e) = self.by_host.find_entry(hash, |&i| i == id) {
            e.remove();
        }
        self.parts.release(part);
        self.unlink_site(id);
        self.unlink_order(id);
        let s = &mut self.slots[id as usize];
        self.garbage += s.name_len as usize;
        s.name_len = 0;
        s.newer = self.free;
        self.free = id;
        self.len -= 1;
        if self.len == 0 {
            self.clear();
        } else if self.garbage > COMPACT_MIN_GARBAGE && self.garbage > self.names.used / 2 {
            self.compact();
        }
    }

    /// Removes every entry and gives the memory back.
    pub(crate) fn clear(&mut self) {
        let hasher = self.hasher.clone();
        *self = Table::new();
        self.hasher = hasher;
    }

    /// How many entries the site has.
    pub(crate) fn site_count(&self, site: &str) -> usize {
        self.site_head(site).map_or(0, |head| self.count_of(head))
    }

    /// The entries of a site, in no particular order.
    pub(crate) fn site_members(&self, site: &str) -> impl Iterator<Item = u32> + '_ {
        let head = self.site_head(site);
        head.into_iter().flat_map(|h| self.site_members_of(h))
    }

    fn site_head(&self, site: &str) -> Option<u32> {
        let (slots, names) = (&self.slots, &self.names);
        self.by_site
            .find(self.hash(site), |&h| site_of(slots, names, h) == site)
            .copied()
    }

    /// The entry count of the site whose head is `head`.
    fn count_of(&self, head: u32) -> usize {
        match self.slots[head as usize].site_count {
            COUNT_UNKNOWN => self.site_members_of(head).count(),
            n => n as usize,
        }
    }

    fn site_members_of(&self, head: u32) -> impl Iterator<Item = u32> + '_ {
        let mut next = Some(head);
        let mut steps = 0usize;
        std::iter::from_fn(move || {
            let id = next?;
            steps += 1;
            let n = self.slots[id as usize].site_next;
            next = (n != head && n != NIL && steps < self.len).then_some(n);
            Some(id)
        })
    }

    /// The entries of one class, from the least to the most recently
    /// observed.
    pub(crate) fn oldest_in(&self, class: usize) -> impl Iterator<Item = u32> + '_ {
        let mut id = self.oldest.get(class).copied().unwrap_or(NIL);
        std::iter::from_fn(move || {
            let this = id;
            id = self.slots.get(this as usize)?.newer;
            Some(this)
        })
        .take(self.len)
    }

    /// The class slot `id` is filed under.
    #[cfg(test)]
    pub(crate) fn class(&self, id: u32) -> usize {
        self.slots[id as usize].class()
    }

    /// Files slot `id` under `class` (below [`CLASSES`]), as its most
    /// recently observed entry.
    pub(crate) fn set_class(&mut self, id: u32, class: usize) {
        let class = class.min(CLASSES - 1);
        self.unlink_order(id);
        let s = &mut self.slots[id as usize];
        s.flags = (s.flags & !CLASS_MASK) | ((class as u8) << CLASS_SHIFT);
        self.link_newest(id);
    }

    /// How slot `id` has been used.
    pub(crate) fn usage(&self, id: u32) -> Usage {
        Usage::unpack(self.slots[id as usize].usage.load(Ordering::Relaxed))
    }

    /// Sets how slot `id` has been used (from a store file).
    #[allow(dead_code)] // used by the store file once it records usage
    pub(crate) fn set_usage(&mut self, id: u32, usage: Usage) {
        *self.slots[id as usize].usage.get_mut() = usage.pack();
    }

    /// Counts a use of slot `id` on `day`; through `&self`, for lookups.
    pub(crate) fn mark_used(&self, id: u32, day: u16) {
        let Some(s) = self.slots.get(id as usize) else {
            return;
        };
        let _ = s
            .usage
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                let now = Usage::unpack(v).used_on(day);
                (now.pack() != v).then(|| now.pack())
            });
    }

    /// Recomputes every entry's site, for a new Public Suffix List.
    pub(crate) fn resite(&mut self, site_off: impl Fn(&str) -> usize) {
        self.by_site.clear();
        for id in 0..self.slots.len() as u32 {
            if self.slots[id as usize].name_len == 0 {
                continue;
            }
            let off = site_off(name_of(&self.slots, &self.names, id));
            let s = &mut self.slots[id as usize];
            s.site_off = if off < s.name_len as usize {
                off as u8
            } else {
                0
            };
            self.link_site(id);
        }
    }

    /// Bytes held, for the benches: slots, arena and both indexes (a hash
    /// table of capacity `c` has `c * 8 / 7` buckets, each its value plus a
    /// control byte).
    pub(crate) fn heap_bytes(&self) -> usize {
        let buckets = |c: usize| if c == 0 { 0 } else { c * 8 / 7 };
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.names.capacity()
            + self.parts.heap_bytes()
            + buckets(self.by_host.capacity()) * (std::mem::size_of::<u32>() + 1)
            + buckets(self.by_site.capacity()) * (std::mem::size_of::<u32>() + 1)
    }

    fn link_newest(&mut self, id: u32) {
        let class = self.slots[id as usize].class();
        let newest = self.newest[class];
        let s = &mut self.slots[id as usize];
        s.older = newest;
        s.newer = NIL;
        if newest == NIL {
            self.oldest[class] = id;
        } else {
            self.slots[newest as usize].newer = id;
        }
        self.newest[class] = id;
    }

    fn unlink_order(&mut self, id: u32) {
        let s = &self.slots[id as usize];
        let (older, newer, class) = (s.older, s.newer, s.class());
        if older == NIL {
            self.oldest[class] = newer;
        } else {
            self.slots[older as usize].newer = newer;
        }
        if newer == NIL {
            self.newest[class] = older;
        } else {
            self.slots[newer as usize].older = older;
        }
    }

    fn link_site(&mut self, id: u32) {
        let hash = self.hash(site_of(&self.slots, &self.names, id));
        let Table {
            slots,
            names,
            by_site,
            hasher,
            ..
        } = self;
        let site = site_of(slots, names, id);
        match by_site.find(hash, |&h| site_of(slots, names, h) == site) {
            Some(&head) => {
                let h = &mut slots[head as usize];
                h.site_count = h.site_count.saturating_add(1);
                let next = h.site_next;
                h.site_next = id;
                slots[id as usize].site_prev = head;
                slots[id as usize].site_next = next;
                slots[next as usize].site_prev = id;
            }
            None => {
                let s = &mut slots[id as usize];
                s.site_prev = id;
                s.site_next = id;
                s.site_count = 1;
                let slots: &[Slot] = slots;
                by_site.insert_unique(hash, id, |&h| hasher.hash_one(site_of(slots, names, h)));
            }
        }
    }

    fn unlink_site(&mut self, id: u32) {
        let hash = self.hash(site_of(&self.slots, &self.names, id));
        let Slot {
            site_prev: prev,
            site_next: next,
            ..
        } = self.slots[id as usize];
        let (slots, names) = (&self.slots, &self.names);
        let site = site_of(slots, names, id);
        let Ok(mut e) = self
            .by_site
            .find_entry(hash, |&h| site_of(slots, names, h) == site)
        else {
            return;
        };
        if next == id || next == NIL {
            e.remove();
            return;
        }
        let head = e.get_mut();
        let old_head = *head;
        if old_head == id {
            *head = next;
        }
        let new_head = *head;
        let count = self.slots[old_head as usize].site_count;
        self.slots[prev as usize].site_next = next;
        self.slots[next as usize].site_prev = prev;
        self.slots[new_head as usize].site_count = match count {
            COUNT_UNKNOWN => {
                let n = self.site_members_of(new_head).count();
                u8::try_from(n)
                    .ok()
                    .filter(|&n| n < COUNT_UNKNOWN)
                    .unwrap_or(COUNT_UNKNOWN)
            }
            n => n.saturating_sub(1),
        };
    }

    /// Rewrites the arena with only the live names.
    fn compact(&mut self) {
        let mut names = Arena::default();
        names
            .chunks
            .reserve((self.names.used - self.garbage) / CHUNK + 1);
        for s in self.slots.iter_mut().filter(|s| s.name_len != 0) {
            // The live names took no more room before; they fit again.
            if let Some(off) = names.push(self.names.get(s.name_off, s.name_len)) {
                s.name_off = off;
            }
        }
        self.names = names;
        self.garbage = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    /// Checks every index against a plain scan of the slab.
    fn check(t: &Table) {
        let live: Vec<(u32, EntryRef<'_>)> = t.iter().collect();
        assert_eq!(live.len(), t.len());
        for (id, e) in &live {
            assert_eq!(t.find(e.host), Some(*id));
            let site = site_of(&t.slots, &t.names, *id);
            let members: Vec<u32> = t.site_members(site).collect();
            assert!(members.contains(id));
            assert_eq!(t.site_count(site), members.len());
        }
        let mut n = 0;
        for class in 0..CLASSES {
            let mut id = t.oldest[class];
            while id != NIL {
                assert_eq!(t.class(id), class);
                n += 1;
                id = t.slots[id as usize].newer;
            }
        }
        assert_eq!(n, t.len());
        let listed: usize = (0..CLASSES).map(|c| t.oldest_in(c).count()).sum();
        assert_eq!(listed, t.len());
        assert_eq!(t.by_host.len(), t.len());
    }

    #[test]
    fn insert_update_remove_keep_indexes_consistent() {
        let mut tb = Table::new();
        let mut ids = Vec::new();
        for i in 0..200 {
            let host = format!("h{i}.site{}.example", i % 7);
            let off = host.find("site").unwrap();
            ids.push(
                tb.insert("", &host, off, i % 2 == 0, t(i), t(i + 100))
                    .unwrap(),
            );
        }
        check(&tb);
        assert_eq!(tb.site_count("site3.example"), 29);
        for &id in ids.iter().step_by(3) {
            tb.remove(id);
        }
        check(&tb);
        let id = tb.find("h1.site1.example").unwrap();
        let old = tb.update(id, true, t(500), t(600));
        assert_eq!(old, (false, t(1), t(101)));
        assert_eq!(tb.newest[0], id);
        // Freed slots are reused.
        let before = tb.slots.len();
        tb.insert("", "new.site0.example", 4, false, t(501), t(502));
        assert_eq!(tb.slots.len(), before);
        check(&tb);
    }

    #[test]
    fn large_sites_are_counted_past_the_byte() {
        let mut tb = Table::new();
        let mut ids = Vec::new();
        for i in 0..300 {
            let host = format!("h{i}.big.example");
            ids.push(
                tb.insert("", &host, host.len() - 11, false, t(i), t(999))
                    .unwrap(),
            );
        }
        tb.insert("", "other.example", 0, false, t(0), t(1))
            .unwrap();
        assert_eq!(tb.site_count("big.example"), 300);
        check(&tb);
        // Remove the head each time, so the count moves from slot to slot,
        // and cross back under 255.
        for _ in 0..100 {
            let head = tb.site_head("big.example").unwrap();
            tb.remove(head);
        }
        assert_eq!(tb.site_count("big.example"), 200);
        check(&tb);
        for &id in &ids {
            tb.remove(id);
        }
        assert_eq!(tb.site_count("big.example"), 0);
        assert_eq!(tb.site_members("big.example").count(), 0);
        assert_eq!(tb.len(), 1);
        check(&tb);
    }

    #[test]
    fn order_lists_follow_observation_order() {
        let mut tb = Table::new();
        for i in 0..5 {
            tb.insert("", &format!("h{i}.example"), 0, false, t(i), t(99));
        }
        let id = tb.find("h1.example").unwrap();
        tb.update(id, false, t(10), t(99));
        let order: Vec<&str> = tb.oldest_in(0).map(|id| tb.entry(id).host).collect();
        assert_eq!(
            order,
            [
                "h0.example",
                "h2.example",
                "h3.example",
                "h4.example",
                "h1.example"
            ]
        );
    }

    #[test]
    fn arena_is_compacted_and_names_survive() {
        let mut tb = Table::new();
        let long = "x".repeat(60);
        for i in 0..5000 {
            tb.insert("", &format!("{long}.{i}.example"), 0, false, t(0), t(1));
        }
        let ids: Vec<u32> = tb.iter().map(|(id, _)| id).collect();
        for id in &ids[..4000] {
            tb.remove(*id);
        }
        let live: usize = tb.iter().map(|(_, e)| e.host.len()).sum();
        let bound = (2 * live).max(live + COMPACT_MIN_GARBAGE);
        assert!(tb.garbage < 4000 * 70, "never compacted");
        assert!(tb.names.used <= bound, "arena {} for {live}", tb.names.used);
        check(&tb);
        assert!(tb.find(&format!("{long}.4999.example")).is_some());
        for id in &ids[4000..] {
            tb.remove(*id);
        }
        assert_eq!(tb.len(), 0);
        assert_eq!(tb.names.used, 0);
    }

    #[test]
    fn resite_rebuilds_site_lists() {
        let mut tb = Table::new();
        tb.insert("", "a.b.example", 0, false, t(0), t(1));
        tb.insert("", "c.b.example", 0, false, t(0), t(1));
        assert_eq!(tb.site_count("b.example"), 0);
        tb.resite(|h| h.find('.').map_or(0, |d| d + 1));
        assert_eq!(tb.site_count("b.example"), 2);
        check(&tb);
    }
}
