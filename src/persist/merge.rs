//! Merging our store with what another writer left in the file.
//!
//! Every decision compares times at the file's precision, whole seconds
//! (`.timestamp()`): memory keeps nanoseconds, the file does not, so a
//! comparison of a file's time with one of memory must not depend on the
//! fraction the file dropped.
//!
//! - Per host the newest observation wins; on the same second, ours (the
//!   saving process's) wins.
//! - A removal (ours or the file's) wins over an entry (the other side's,
//!   or ours) observed in the same second as the removal or before it. A
//!   removal and an observation in the same second: **the removal wins**,
//!   whichever side saves, so the result does not depend on who saves
//!   last. (The file's own removals are not applied to the file's own
//!   entries: a writer of this build never writes both.)
//! - For a host in both, the usage kept is the larger one: the more days
//!   of use and the later last day of use, whichever record wins.
//! - The limits written are the larger of ours and the file's.
//! - Hosts are matched by key and partition: a host in two partitions is
//!   two entries. The file and the store must key hosts alike (both plain,
//!   or both hashed with one salt), or nothing is merged.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use hashbrown::{HashMap, HashSet};

use super::binary::{
    build_store, config_in_force, encode, encode_parts, Contents, FileEntry, FileTombstone,
    Tombstone, TOMBSTONE_TTL_DAYS,
};
use super::error::PersistError;
use crate::table::Usage;
use crate::HstsStore;

/// What one side knows of one (partition, key): an observation or a
/// removal, and when. The file merge and the fleet sync
/// ([`crate::redis_sync`], feature `redis`) both decide with [`wins`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// Observed (noted) at this time.
    Seen(DateTime<Utc>),
    /// Removed (`max-age=0`, forgotten, cleared) at this time.
    Removed(DateTime<Utc>),
}

/// The merge rule, in whole seconds: whether `a` (the writer's side: ours
/// when saving, the pusher's in a fleet) wins over `b`.
///
/// - two observations: the newer wins; on the same second, `a`;
/// - a removal wins over an observation in the same second or before it
///   ([`removal_wins`]), whichever side it is on;
/// - two removals: the newer one is kept (either way nothing is left).
pub(crate) fn wins(a: Mark, b: Mark) -> bool {
    match (a, b) {
        (Mark::Seen(x), Mark::Seen(y)) => x.timestamp() >= y.timestamp(),
        (Mark::Removed(r), Mark::Seen(o)) => removal_wins(r, o),
        (Mark::Seen(o), Mark::Removed(r)) => !removal_wins(r, o),
        (Mark::Removed(x), Mark::Removed(y)) => x.timestamp() >= y.timestamp(),
    }
}

/// Whether a removal at `removed` wins over an observation at `observed`:
/// at or after it, in whole seconds.
pub(crate) fn removal_wins(removed: DateTime<Utc>, observed: DateTime<Utc>) -> bool {
    removed.timestamp() >= observed.timestamp()
}

/// The usage of a host used as `a` says on one side and as `b` on the
/// other: the more days, the later last day.
fn larger_usage(a: Usage, b: Usage) -> Usage {
    Usage {
        days: a.days.max(b.days),
        last_day: a.last_day.max(b.last_day),
    }
}

/// Merges `ours` with what a store file holds, and encodes the result at
/// `now`. Works on the file's records directly, looking each up in `ours`'
/// own index, so no map of the whole file is built. Only when the union
/// outgrows the capacity is it put through a store, whose eviction policy
/// then decides what stays.
pub(crate) fn merge_encode(
    disk: Contents<'_>,
    ours: &HstsStore,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, PersistError> {
    if disk.keys != ours.keys() {
        return Err(PersistError::KeysMismatch {
            file_hashed: disk.keys.is_hashed(),
            store_hashed: ours.is_hashed(),
        });
    }
    let config = config_in_force(ours.config().clone(), disk.limits);
    let disk_tombs = newest_removals(&disk.tombstones);
    let mut entries = merged_entries(&disk.entries, &disk_tombs, ours);
    entries.retain(|e| now <= e.expires);
    let mut tombs = disk_tombs;
    for (p, h, at) in ours.tombstones() {
        let t = tombs.entry((p, h)).or_insert(at);
        *t = (*t).max(at);
    }
    if entries.len() > config.capacity_in_force() {
        let contents = Contents {
            entries,
            tombstones: tombs
                .into_iter()
                .map(|((p, h), removed)| FileTombstone {
                    host: Cow::Borrowed(h),
                    partition: Cow::Borrowed(p),
                    removed,
                })
                .collect(),
            limits: None,
            keys: disk.keys,
            entries_dropped: 0,
        };
        return Ok(encode(&build_store(contents, config), now));
    }
    let keep_after = now - Duration::days(TOMBSTONE_TTL_DAYS);
    let tombs = tombs
        .iter()
        .filter(|(_, t)| **t >= keep_after)
        .map(|((p, h), t)| Tombstone::new(h, p, *t));
    let records = entries.iter().map(FileEntry::record);
    Ok(encode_parts(
        config.limits(),
        ours.keys(),
        entries.len(),
        records,
        tombs,
        entries.len() * 32,
    ))
}

/// An entry's identity in a merge: its partition and its key.
type Key<'a> = (&'a str, &'a str);

/// The newest removal of each host among `tombstones`.
fn newest_removals<'a>(tombstones: &'a [FileTombstone<'_>]) -> HashMap<Key<'a>, DateTime<Utc>> {
    let mut newest: HashMap<Key<'a>, DateTime<Utc>> = HashMap::with_capacity(tombstones.len());
    for t in tombstones {
        let at = newest.entry((&*t.partition, &*t.host)).or_insert(t.removed);
        *at = (*at).max(t.removed);
    }
    newest
}

/// The entries that survive the merge of the file's `disk` entries (with
/// its removals `disk_tombs`) and ours, expired or not, with the larger
/// usage of the two sides.
fn merged_entries<'a>(
    disk: &'a [FileEntry<'_>],
    disk_tombs: &HashMap<Key<'_>, DateTime<Utc>>,
    ours: &'a HstsStore,
) -> Vec<FileEntry<'a>> {
    let removed_on_disk = |k: Key<'_>, at: DateTime<Utc>| {
        disk_tombs
            .get(&k)
            .is_some_and(|t| wins(Mark::Removed(*t), Mark::Seen(at)))
    };
    let removed_by_us = |(p, h): Key<'_>, at: DateTime<Utc>| {
        ours.tombstone_of(p, h)
            .is_some_and(|t| wins(Mark::Removed(t), Mark::Seen(at)))
    };
    let mut out: Vec<FileEntry<'a>> = Vec::with_capacity(disk.len() + ours.len());
    // Hosts in both, and the larger usage of the two sides.
    let mut both: HashMap<Key<'a>, Usage> = HashMap::new();
    // Our entries that an entry on disk beats.
    let mut beaten: HashSet<Key<'a>> = HashSet::new();
    for d in disk {
        let k: Key<'a> = (&d.partition, &d.host);
        if let Some(o) = ours.get_key(k.0, k.1) {
            let usage = larger_usage(d.usage, ours.usage_in(k.0, k.1).unwrap_or(d.usage));
            both.insert(k, usage);
            if wins(Mark::Seen(o.observed), Mark::Seen(d.observed))
                && !removed_on_disk(k, o.observed)
            {
                continue; // ours is taken below
            }
            beaten.insert(k);
        }
        if !removed_by_us(k, d.observed) {
            out.push(FileEntry {
                host: Cow::Borrowed(&d.host),
                partition: Cow::Borrowed(&d.partition),
                include_subdomains: d.include_subdomains,
                observed: d.observed,
                expires: d.expires,
                usage: both.get(&k).copied().unwrap_or(d.usage),
            });
        }
    }
    for (o, usage) in ours.iter_with_usage() {
        let k: Key<'a> = (o.partition.unwrap_or(""), o.host);
        if !beaten.contains(&k) && !removed_on_disk(k, o.observed) && !removed_by_us(k, o.observed)
        {
            out.push(FileEntry {
                host: Cow::Borrowed(o.host),
                partition: Cow::Borrowed(k.0),
                include_subdomains: o.include_subdomains,
                observed: o.observed,
                expires: o.expires,
                usage: both.get(&k).copied().unwrap_or(usage),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::Limits;
    use crate::persist::binary::decode_contents;
    use crate::persist::binary::tests::{sample, t};
    use crate::persist::decode;
    use crate::{Entry, StoreConfig, Transport};
    use chrono::TimeZone;
    use url::Url;

    #[test]
    fn a_merge_past_the_capacity_goes_through_the_eviction_policy() {
        let small = StoreConfig {
            capacity: 5,
            ..StoreConfig::default()
        };
        let entry = |i: i64| Entry {
            host: format!("h{i}.s{i}.example"),
            include_subdomains: false,
            observed: t(i),
            expires: t(1000),
        };
        let mut disk = HstsStore::with_config(small.clone());
        let mut ours = HstsStore::with_config(small.clone());
        for i in 0..5 {
            disk.insert_entry(entry(i)).unwrap();
            ours.insert_entry(entry(10 + i)).unwrap();
        }
        let merged = merge_encode(
            decode_contents(&encode(&disk, t(0)), Limits::new(5, 64).decode_keep()).unwrap(),
            &ours,
            t(20),
        )
        .unwrap();
        let back = decode(&merged, StoreConfig::default()).unwrap();
        let mut hosts: Vec<&str> = back.iter().map(|e| e.host).collect();
        hosts.sort();
        // The five least recently observed (the disk's) were evicted.
        let want: Vec<String> = (10..15).map(|i| entry(i).host).collect();
        assert_eq!(hosts, want);
    }

    #[test]
    fn merge_newest_wins_and_removal_wins() {
        let disk = sample();
        let mut ours = HstsStore::new();
        ours.note_at(
            &Url::parse("https://a.example/").unwrap(),
            ["max-age=5"],
            Transport::Secure,
            t(10),
        );
        ours.note_at(
            &Url::parse("https://d.example/").unwrap(),
            ["max-age=5"],
            Transport::Secure,
            t(10),
        );
        // An older observation of b.example loses to the disk's.
        ours.insert_entry(Entry {
            host: "b.example".into(),
            include_subdomains: false,
            observed: t(-10),
            expires: t(1000),
        })
        .unwrap();
        // A removal of c.example after the disk observed it wins.
        ours.insert_entry(Entry {
            host: "c.example".into(),
            include_subdomains: false,
            observed: t(0),
            expires: t(9),
        })
        .unwrap();
        ours.remove_at("c.example", t(1)).unwrap();
        let on_disk = encode(&disk, t(0));
        let merged = merge_encode(
            decode_contents(&on_disk, Limits::new(100, 64).decode_keep()).unwrap(),
            &ours,
            t(0),
        )
        .unwrap();
        let disk = decode(&merged, StoreConfig::default()).unwrap();
        let a = disk.get_str("a.example").unwrap();
        assert_eq!(a.observed, t(10));
        assert!(disk.get_str("b.example").unwrap().include_subdomains);
        assert!(disk.get_str("c.example").is_none());
        assert!(disk.get_str("d.example").is_some());
    }

    #[test]
    fn same_second_removal_wins_whoever_saves_and_usage_is_the_larger() {
        let sec = |s: i64, ns: u32| Utc.timestamp_opt(1_800_000_000 + s, ns).unwrap();
        let keep = Limits::new(100, 64).decode_keep();
        let entry = |obs| Entry {
            host: "a.example".into(),
            include_subdomains: false,
            observed: obs,
            expires: sec(1000, 0),
        };
        // Another process removed a.example at 5.7 (the file says 5); we
        // observed it at 5.3 and save: the removal wins.
        let mut remover = HstsStore::new();
        remover.insert_entry(entry(sec(0, 0))).unwrap();
        remover.remove_at("a.example", sec(5, 700_000_000)).unwrap();
        let mut observer = HstsStore::new();
        observer.insert_entry(entry(sec(5, 300_000_000))).unwrap();
        let file = encode(&remover, sec(6, 0));
        let merged =
            merge_encode(decode_contents(&file, keep).unwrap(), &observer, sec(6, 0)).unwrap();
        assert!(decode(&merged, StoreConfig::default())
            .unwrap()
            .get_str("a.example")
            .is_none());
        // The other way round: the observation is on disk, we removed.
        let file = encode(&observer, sec(6, 0));
        let merged =
            merge_encode(decode_contents(&file, keep).unwrap(), &remover, sec(6, 0)).unwrap();
        assert!(decode(&merged, StoreConfig::default())
            .unwrap()
            .get_str("a.example")
            .is_none());
        // An observation in the next second wins over the removal.
        let mut later = HstsStore::new();
        later.insert_entry(entry(sec(6, 0))).unwrap();
        let file = encode(&remover, sec(6, 0));
        let merged =
            merge_encode(decode_contents(&file, keep).unwrap(), &later, sec(6, 0)).unwrap();
        assert!(decode(&merged, StoreConfig::default())
            .unwrap()
            .get_str("a.example")
            .is_some());

        // Usage: the more days and the later last day, whichever wins.
        let mut disk = HstsStore::new();
        disk.insert_trusted(
            "",
            "b.example",
            false,
            sec(0, 0),
            sec(99, 0),
            Usage {
                days: 7,
                last_day: 10,
            },
        );
        let mut ours = HstsStore::new();
        ours.insert_trusted(
            "",
            "b.example",
            true,
            sec(1, 0),
            sec(99, 0),
            Usage {
                days: 2,
                last_day: 30,
            },
        );
        let file = encode(&disk, sec(0, 0));
        let merged = merge_encode(decode_contents(&file, keep).unwrap(), &ours, sec(2, 0)).unwrap();
        let back = decode(&merged, StoreConfig::default()).unwrap();
        assert!(back.get_str("b.example").unwrap().include_subdomains);
        assert_eq!(
            back.usage_of("b.example"),
            Some(Usage {
                days: 7,
                last_day: 30
            })
        );
    }
}
