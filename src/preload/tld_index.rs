//! An in-memory index of the short TLDs, built once per list.
//!
//! Every lookup starts by finding its TLD. Through the table's own slots
//! that is a byte hash, a slot read, a name compare and a record parse
//! (about 120 instructions a host). Nearly every TLD is at most 7 bytes,
//! so its bytes and length fit one `u64`: the index keys a small
//! open-addressing table on that word and keeps the three fields a lookup
//! needs beside it, in 16-byte slots (1,024 for the real list). Longer TLDs, and any whose bucket count
//! does not fit the packed form, are not indexed and are found through the
//! slots as before.

use super::format::{find_tld, Layout, Tld};
use super::iter::tlds;

/// The longest TLD the index holds: its bytes and length share one word.
pub(crate) const MAX_SHORT: usize = 7;
/// The multiplier of the slot hash.
const SLOT_K: u64 = 0x9e37_79b9_7f4a_7c15;

/// What a lookup needs of a TLD record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TldInfo {
    pub(crate) flags: u8,
    pub(crate) first_bucket: u32,
    pub(crate) bucket_count: u32,
}

impl From<Tld<'_>> for TldInfo {
    fn from(t: Tld<'_>) -> TldInfo {
        TldInfo {
            flags: t.flags,
            first_bucket: t.first_bucket,
            bucket_count: t.bucket_count,
        }
    }
}

/// One slot: the key (0 when empty), the first bucket, and the bucket count
/// (low 24 bits) with the flags (high 8).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u64,
    first_bucket: u32,
    count_flags: u32,
}

/// The short TLDs of one list (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct TldIndex {
    slots: Box<[Slot]>,
    /// 64 − log2(slot count).
    shift: u32,
    /// Whether every short TLD is indexed (a count too large for the
    /// packed form leaves one out: then a miss is asked of the slots).
    complete: bool,
}

/// The key of a TLD of 1..=7 bytes: its bytes, little-endian, and its
/// length in the top byte (so `co` and `co\0` differ); `None` otherwise.
#[inline(always)]
pub(crate) fn short_key(name: &[u8]) -> Option<u64> {
    let word = name
        .iter()
        .rev()
        .fold(0u64, |w, &c| (w << 8) | u64::from(c));
    key_of(word, name.len())
}

/// [`short_key`] of the `len` bytes held, little-endian, in the low bytes
/// of `word` (the bytes above them zero).
#[inline(always)]
pub(crate) fn key_of(word: u64, len: usize) -> Option<u64> {
    (1..=MAX_SHORT)
        .contains(&len)
        .then_some(word | (len as u64) << 56)
}

impl TldIndex {
    /// Indexes the short TLDs of the table's TLD area (a bounded walk: the
    /// area's length bounds the records).
    pub(crate) fn new(b: &[u8], l: &Layout) -> TldIndex {
        let mut complete = true;
        let short: Vec<(u64, Slot)> = tlds(b, l)
            .filter_map(|t| {
                let key = short_key(t.name)?;
                if t.bucket_count >= 1 << 24 {
                    complete = false;
                    return None;
                }
                let count_flags = t.bucket_count | u32::from(t.flags) << 24;
                Some((
                    key,
                    Slot {
                        key,
                        first_bucket: t.first_bucket,
                        count_flags,
                    },
                ))
            })
            .collect();
        // At most two thirds full, so probes stay short (630 short TLDs in
        // 1,024 slots, 16 KiB, for the real list).
        let len = (short.len() * 3 / 2).next_power_of_two().max(16);
        let shift = 64 - len.trailing_zeros();
        let mut slots = vec![Slot::default(); len].into_boxed_slice();
        let mask = len - 1;
        for (key, slot) in short {
            let mut i = slot_of(key, shift);
            // A corrupt area may name a TLD twice: the first one stays.
            while slots[i].key != 0 && slots[i].key != key {
                i = (i + 1) & mask;
            }
            if slots[i].key == 0 {
                slots[i] = slot;
            }
        }
        TldIndex {
            slots,
            shift,
            complete,
        }
    }

    /// The TLD `name`, whose [`short_key`] is `key` (a lookup has the
    /// word at hand): from the index when it is short, otherwise through
    /// the table's slots.
    #[inline(always)]
    pub(crate) fn find(
        &self,
        b: &[u8],
        l: &Layout,
        name: &[u8],
        key: Option<u64>,
    ) -> Option<TldInfo> {
        let slots = || find_tld(b, l, name).map(TldInfo::from);
        match key {
            None => slots(),
            Some(key) => match self.find_short(key) {
                None if !self.complete => slots(),
                found => found,
            },
        }
    }

    /// The indexed TLD with this key.
    #[inline(always)]
    fn find_short(&self, key: u64) -> Option<TldInfo> {
        let mask = self.slots.len() - 1;
        let mut i = slot_of(key, self.shift);
        // Bounded by the slot count; at most two thirds are full.
        for _ in 0..self.slots.len() {
            let s = self.slots.get(i)?;
            if s.key == key {
                return Some(TldInfo {
                    flags: (s.count_flags >> 24) as u8,
                    first_bucket: s.first_bucket,
                    bucket_count: s.count_flags & 0x00ff_ffff,
                });
            }
            if s.key == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
        None
    }
}

#[inline(always)]
fn slot_of(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(SLOT_K) >> shift) as usize
}

#[cfg(test)]
mod tests {
    use super::super::PreloadList;
    use super::*;

    /// The index answers what the table's own slots answer, for every TLD
    /// of the real list and for names that are not TLDs.
    #[test]
    fn agrees_with_the_slots() {
        let list = PreloadList::builtin();
        let (b, l) = (list.as_bytes(), &list.layout);
        let index = TldIndex::new(b, l);
        let mut short = 0;
        for t in tlds(b, l) {
            let via_slots = find_tld(b, l, t.name).map(TldInfo::from);
            let short_name = t.name.len() <= MAX_SHORT;
            assert_eq!(index.find(b, l, t.name, short_key(t.name)), via_slots);
            assert_eq!(via_slots, Some(TldInfo::from(t)));
            short += usize::from(short_name);
        }
        assert!(short > 600, "{short} short TLDs");
        // The memory DESIGN.md gives: 1,024 slots of 16 bytes.
        assert_eq!(index.slots.len() * std::mem::size_of::<Slot>(), 16 << 10);
        for name in [
            &b"zz"[..],
            b"co\0",
            b"\0",
            b"comm",
            b"xn--notatld",
            b"a",
            b"ab.cd",
        ] {
            assert_eq!(
                index.find(b, l, name, short_key(name)),
                find_tld(b, l, name).map(TldInfo::from)
            );
        }
    }

    #[test]
    fn keys_keep_the_length() {
        assert_ne!(short_key(b"co"), short_key(b"co\0"));
        assert_eq!(short_key(b""), None);
        assert_eq!(short_key(b"abcdefgh"), None);
        assert_eq!(short_key(b"abcdefg"), Some(0x0767_6665_6463_6261));
    }
}
