//! The limits policy, in one place: how many dynamic entries a store holds
//! (the capacity), how many one site may hold (the per-site quota), which
//! entry goes when either is reached, how many removals are remembered, and
//! how much of a store file a decoder keeps. DESIGN.md ("Bounded and
//! flush-resistant") gives the reasons.
//!
//! - A new host of a site that already holds `per_site_quota` entries
//!   replaces that site's least recently observed entry (the name breaks a
//!   tie, so the choice does not depend on slot order), never another
//!   site's.
//! - A new host in a store holding `capacity` entries evicts, among the
//!   [`EVICTION_WINDOW`] least recently observed entries, the one that
//!   expires soonest (the older on a tie).
//! - At most twice the capacity of removals are remembered; when that many
//!   are held, only the newest `capacity` of them stay, so clearing a full
//!   store keeps every removal it made.
//! - Decoding a store file keeps the capacity's worth of most recently
//!   observed entries and twice that many removals, whatever the file
//!   claims, so memory follows the capacity.
//!
//! The [`Table`] only reports counts and orders; the choices are made here.

use crate::table::Table;

/// How many of the least recently observed entries are weighed on eviction.
pub const EVICTION_WINDOW: usize = 8;

/// The largest capacity a store takes; larger settings are clamped. It keeps
/// slot numbers and arena offsets within 32 bits: 8,000,000 names of at most
/// 253 bytes, plus as much garbage, stay under 4 GiB.
pub const MAX_CAPACITY: usize = 8_000_000;

/// A configured capacity as applied: within `1..=MAX_CAPACITY`.
pub(crate) fn capacity_in_force(capacity: usize) -> usize {
    capacity.clamp(1, MAX_CAPACITY)
}

/// The limits in force for one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The most dynamic entries, already within `1..=MAX_CAPACITY`.
    pub(crate) capacity: usize,
    /// The most dynamic entries of one site, at least 1.
    pub(crate) per_site_quota: usize,
}

impl Limits {
    /// Limits from the configured values, clamped to what is applied.
    pub(crate) fn new(capacity: usize, per_site_quota: usize) -> Limits {
        Limits {
            capacity: capacity_in_force(capacity),
            per_site_quota: per_site_quota.max(1),
        }
    }

    /// The most removals held at once.
    pub(crate) fn removals_held(&self) -> usize {
        self.capacity.saturating_mul(2)
    }

    /// How many removals stay when [`Limits::removals_held`] is reached:
    /// the newest ones.
    pub(crate) fn removals_kept_on_trim(&self) -> usize {
        self.capacity
    }

    /// How many entries and removals a decoder keeps from a store file.
    pub(crate) fn decode_keep(&self) -> DecodeKeep {
        DecodeKeep {
            entries: self.capacity,
            removals: self.removals_held(),
        }
    }
}

/// What a decoder keeps of a store file: the most recently observed
/// `entries` and the newest `removals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeKeep {
    /// Entries kept, the most recently observed.
    pub(crate) entries: usize,
    /// Removals kept, the newest.
    pub(crate) removals: usize,
}

/// Removes from `table` whatever must go before a new host of `site` can be
/// added within `limits`. Returns how many entries were evicted.
pub(crate) fn make_room(table: &mut Table, site: &str, limits: Limits) -> usize {
    let mut evicted = 0;
    while table.site_count(site) >= limits.per_site_quota {
        let Some(victim) = site_victim(table, site) else {
            break;
        };
        table.remove(victim);
        evicted += 1;
    }
    while table.len() >= limits.capacity {
        let Some(victim) = store_victim(table) else {
            break;
        };
        table.remove(victim);
        evicted += 1;
    }
    evicted
}

/// The entry of a full site to replace: its least recently observed (the
/// smaller name on a tie).
pub(crate) fn site_victim(table: &Table, site: &str) -> Option<u32> {
    table.site_members(site).min_by(|&a, &b| {
        let (ea, eb) = (table.entry(a), table.entry(b));
        ea.observed
            .cmp(&eb.observed)
            .then_with(|| ea.host.cmp(eb.host))
    })
}

/// The entry to evict from a full store: among the [`EVICTION_WINDOW`]
/// least recently observed, the one that expires soonest (the older on a
/// tie).
pub(crate) fn store_victim(table: &Table) -> Option<u32> {
    let mut best: Option<u32> = None;
    for id in table.oldest_first().take(EVICTION_WINDOW) {
        if best.is_none_or(|b| table.entry(id).expires < table.entry(b).expires) {
            best = Some(id);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn store_victim_is_the_soonest_expiring_of_the_oldest_window() {
        let mut tb = Table::new();
        for i in 0..20 {
            // The fifth oldest expires first; the 15th expires even sooner
            // but is outside the window.
            let exp = match i {
                4 => t(50),
                14 => t(10),
                _ => t(1000 + i),
            };
            tb.insert(&format!("h{i}.example"), 0, false, t(i), exp);
        }
        assert_eq!(tb.entry(store_victim(&tb).unwrap()).host, "h4.example");
    }

    #[test]
    fn site_victim_is_the_oldest_then_the_smaller_name() {
        let mut tb = Table::new();
        tb.insert("b.site.example", 2, false, t(1), t(9));
        tb.insert("c.site.example", 2, false, t(1), t(9));
        tb.insert("a.site.example", 2, false, t(2), t(9));
        tb.insert("z.other.example", 2, false, t(0), t(9));
        let v = site_victim(&tb, "site.example").unwrap();
        assert_eq!(tb.entry(v).host, "b.site.example");
        assert_eq!(site_victim(&tb, "none.example"), None);
    }

    #[test]
    fn make_room_applies_quota_then_capacity() {
        let limits = Limits::new(3, 2);
        let mut tb = Table::new();
        tb.insert("a.s.example", 2, false, t(0), t(9));
        tb.insert("b.s.example", 2, false, t(1), t(9));
        tb.insert("x.example", 0, false, t(2), t(9));
        // Quota: a.s.example goes; then the store has room.
        assert_eq!(make_room(&mut tb, "s.example", limits), 1);
        assert!(tb.find("a.s.example").is_none());
        tb.insert("c.s.example", 2, false, t(3), t(9));
        // Capacity: the soonest expiring of the oldest go.
        assert_eq!(make_room(&mut tb, "y.example", limits), 1);
        assert_eq!(tb.len(), 2);
        assert!(tb.find("b.s.example").is_none());
    }

    #[test]
    fn limits_clamp() {
        assert_eq!(Limits::new(0, 0), Limits::new(1, 1));
        assert_eq!(Limits::new(usize::MAX, 5).capacity, MAX_CAPACITY);
        let l = Limits::new(10, 5);
        assert_eq!((l.removals_held(), l.removals_kept_on_trim()), (20, 10));
        assert_eq!(
            l.decode_keep(),
            DecodeKeep {
                entries: 10,
                removals: 20
            }
        );
    }
}
