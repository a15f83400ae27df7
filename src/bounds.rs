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

use std::collections::{HashMap, HashSet};

use crate::outcome::Evictions;
use crate::table::{Table, CLASSES};

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

/// The order class for an entry used on `days` distinct days: 0 for one
/// day, then one class per doubling (2–3 days, 4–7, ...), at most
/// `CLASSES - 1`. A full store evicts from the lowest class first, so an
/// entry used on more days outlives any number of entries seen once.
pub(crate) fn class_of(days: u16) -> usize {
    let log2 = (u16::BITS - 1).saturating_sub(days.max(1).leading_zeros()) as usize;
    log2.min(CLASSES - 1)
}

/// Removes from `table` whatever must go before a new host of `site` can be
/// added within `limits`, counting each eviction in `evictions`.
pub(crate) fn make_room(table: &mut Table, site: &str, limits: Limits, evictions: &mut Evictions) {
    while table.site_count(site) >= limits.per_site_quota {
        let Some(victim) = site_victim(table, site) else {
            break;
        };
        table.remove(victim);
        evictions.site_quota += 1;
    }
    while table.len() >= limits.capacity {
        let Some(victim) = store_victim(table) else {
            break;
        };
        table.remove(victim);
        evictions.capacity += 1;
    }
}

/// The entry of a full site to replace. An includeSubDomains entry that
/// covers other entries of the site goes after them, never before (the
/// apex that protects `login.example.edu` outlives the 64 subdomains a
/// user visited); among the rest, the least recently observed (the smaller
/// name on a tie). Work is the site's size times its names' label count.
pub(crate) fn site_victim(table: &Table, site: &str) -> Option<u32> {
    let members: Vec<u32> = table.site_members(site).collect();
    let with_isd: HashMap<&str, u32> = members
        .iter()
        .map(|&id| table.entry(id))
        .filter(|e| e.include_subdomains)
        .map(|e| (e.host, 0))
        .collect();
    let mut covering: HashSet<&str> = HashSet::new();
    if !with_isd.is_empty() {
        for &id in &members {
            let host = table.entry(id).host;
            let parents = host.match_indices('.').map(|(i, _)| &host[i + 1..]);
            covering.extend(parents.filter(|p| with_isd.contains_key(p)));
        }
    }
    let oldest = |ids: &mut dyn Iterator<Item = u32>| {
        ids.min_by(|&a, &b| {
            let (ea, eb) = (table.entry(a), table.entry(b));
            ea.observed
                .cmp(&eb.observed)
                .then_with(|| ea.host.cmp(eb.host))
        })
    };
    let mut uncovering = members
        .iter()
        .copied()
        .filter(|&id| !covering.contains(table.entry(id).host));
    oldest(&mut uncovering).or_else(|| oldest(&mut members.iter().copied()))
}

/// The entry to evict from a full store: from the lowest class that has
/// entries, among its [`EVICTION_WINDOW`] least recently observed, the one
/// that expires soonest (the older on a tie). An entry whose days of use
/// now call for a higher class (lookups count days through `&self` and
/// cannot move it) is moved there first, so the work is amortised over the
/// uses that moved it.
pub(crate) fn store_victim(table: &mut Table) -> Option<u32> {
    for class in 0..CLASSES {
        loop {
            let window: Vec<u32> = table.oldest_in(class).take(EVICTION_WINDOW).collect();
            if window.is_empty() {
                break;
            }
            let due: Vec<(u32, usize)> = window
                .iter()
                .map(|&id| (id, class_of(table.usage(id).days)))
                .filter(|&(_, c)| c > class)
                .collect();
            if due.is_empty() {
                return soonest_expiring(table, &window);
            }
            for (id, c) in due {
                table.set_class(id, c);
            }
        }
    }
    None
}

/// Of `ids` (oldest first), the one that expires soonest; the older on a tie.
fn soonest_expiring(table: &Table, ids: &[u32]) -> Option<u32> {
    let mut best: Option<u32> = None;
    for &id in ids {
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
            tb.insert("", &format!("h{i}.example"), 0, false, t(i), exp);
        }
        let v = store_victim(&mut tb).unwrap();
        assert_eq!(tb.entry(v).host, "h4.example");
    }

    #[test]
    fn entries_used_on_more_days_outlive_entries_seen_once() {
        use crate::table::Usage;
        let mut tb = Table::new();
        let day = Usage::day_of(t(0));
        // The oldest entry was used on three days, by lookups alone.
        let used = tb.insert("", "used.example", 0, false, t(0), t(5)).unwrap();
        tb.mark_used(used, day + 1);
        tb.mark_used(used, day + 2);
        for i in 1..20 {
            tb.insert("", &format!("h{i}.example"), 0, false, t(i), t(1000));
        }
        let v = store_victim(&mut tb).unwrap();
        assert_eq!(tb.entry(v).host, "h1.example");
        assert_eq!(tb.class(used), class_of(3));
        // Once every entry seen once has gone, the used one can go too.
        for i in 1..20 {
            let id = tb.find(&format!("h{i}.example")).unwrap();
            tb.remove(id);
        }
        assert_eq!(store_victim(&mut tb), Some(used));
    }

    #[test]
    fn classes_double() {
        let got: Vec<usize> = [0, 1, 2, 3, 4, 7, 8, 127, 128, u16::MAX]
            .iter()
            .map(|&d| class_of(d))
            .collect();
        assert_eq!(got, [0, 0, 1, 1, 2, 2, 3, 6, 7, 7]);
    }

    #[test]
    fn site_victim_is_the_oldest_then_the_smaller_name() {
        let mut tb = Table::new();
        tb.insert("", "b.site.example", 2, false, t(1), t(9));
        tb.insert("", "c.site.example", 2, false, t(1), t(9));
        tb.insert("", "a.site.example", 2, false, t(2), t(9));
        tb.insert("", "z.other.example", 2, false, t(0), t(9));
        let v = site_victim(&tb, "site.example").unwrap();
        assert_eq!(tb.entry(v).host, "b.site.example");
        assert_eq!(site_victim(&tb, "none.example"), None);
    }

    #[test]
    fn an_apex_with_isd_goes_after_the_hosts_it_covers() {
        let mut tb = Table::new();
        for (host, isd, at) in [
            ("example.edu", true, 0),
            ("a.b.example.edu", true, 2),
            ("x.a.b.example.edu", false, 3),
            ("b.example.edu", false, 1),
        ] {
            let site_off = host.len() - "example.edu".len();
            tb.insert("", host, site_off, isd, t(at), t(9));
        }
        let mut order = Vec::new();
        while let Some(v) = site_victim(&tb, "example.edu") {
            order.push(tb.entry(v).host.to_owned());
            tb.remove(v);
        }
        assert_eq!(
            order,
            [
                "b.example.edu",
                "x.a.b.example.edu",
                "a.b.example.edu",
                "example.edu"
            ]
        );
    }

    #[test]
    fn make_room_applies_quota_then_capacity() {
        let limits = Limits::new(3, 2);
        let mut tb = Table::new();
        tb.insert("", "a.s.example", 2, false, t(0), t(9));
        tb.insert("", "b.s.example", 2, false, t(1), t(9));
        tb.insert("", "x.example", 0, false, t(2), t(9));
        // Quota: a.s.example goes; then the store has room.
        let mut ev = Evictions::default();
        make_room(&mut tb, "s.example", limits, &mut ev);
        assert_eq!((ev.site_quota, ev.capacity), (1, 0));
        assert!(tb.find("a.s.example").is_none());
        tb.insert("", "c.s.example", 2, false, t(3), t(9));
        // Capacity: the soonest expiring of the oldest go.
        make_room(&mut tb, "y.example", limits, &mut ev);
        assert_eq!((ev.site_quota, ev.capacity), (1, 1));
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
