//! Merging our store with what another writer left in the file.
//!
//! Per host the newest observation wins (ours on a tie), and a removal wins
//! over any entry observed before it.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use hashbrown::{HashMap, HashSet};

use super::binary::{
    build_store, encode, encode_parts, Contents, FileEntry, FileTombstone, Tombstone,
    TOMBSTONE_TTL_DAYS,
};
use crate::HstsStore;

/// Merges `ours` with what a store file holds, and encodes the result at
/// `now`. Works on the file's records directly, looking each up in `ours`'
/// own index, so no map of the whole file is built. Only when the union
/// outgrows the capacity is it put through a store, whose eviction policy
/// then decides what stays.
pub(crate) fn merge_encode(disk: Contents<'_>, ours: &HstsStore, now: DateTime<Utc>) -> Vec<u8> {
    let disk_tombs = newest_removals(&disk.tombstones);
    let mut entries = merged_entries(&disk.entries, &disk_tombs, ours);
    entries.retain(|e| now <= e.expires);
    let mut tombs = disk_tombs;
    for (h, at) in ours.tombstones() {
        let t = tombs.entry(h).or_insert(at);
        *t = (*t).max(at);
    }
    if entries.len() > ours.config().capacity_in_force() {
        let contents = Contents {
            entries,
            tombstones: tombs
                .into_iter()
                .map(|(h, removed)| FileTombstone {
                    host: Cow::Borrowed(h),
                    removed,
                })
                .collect(),
        };
        return encode(&build_store(contents, ours.config().clone()), now);
    }
    let keep_after = now - Duration::days(TOMBSTONE_TTL_DAYS);
    let tombs = tombs
        .iter()
        .filter(|(_, t)| **t >= keep_after)
        .map(|(h, t)| Tombstone::new(h, *t));
    let records = entries.iter().map(FileEntry::record);
    encode_parts(entries.len(), records, tombs, entries.len() * 32)
}

/// The newest removal of each host among `tombstones`.
fn newest_removals<'a>(tombstones: &'a [FileTombstone<'_>]) -> HashMap<&'a str, DateTime<Utc>> {
    let mut newest: HashMap<&str, DateTime<Utc>> = HashMap::with_capacity(tombstones.len());
    for t in tombstones {
        let at = newest.entry(&*t.host).or_insert(t.removed);
        *at = (*at).max(t.removed);
    }
    newest
}

/// The entries that survive the merge of the file's `disk` entries (with
/// its removals `disk_tombs`) and ours, expired or not.
fn merged_entries<'a>(
    disk: &'a [FileEntry<'_>],
    disk_tombs: &HashMap<&str, DateTime<Utc>>,
    ours: &'a HstsStore,
) -> Vec<FileEntry<'a>> {
    let removed_on_disk_after =
        |host: &str, at: DateTime<Utc>| disk_tombs.get(host).is_some_and(|t| *t > at);
    let removed_by_us_after =
        |host: &str, at: DateTime<Utc>| ours.tombstone_of(host).is_some_and(|t| t >= at);
    let mut out: Vec<FileEntry<'a>> = Vec::with_capacity(disk.len() + ours.len());
    // Our entries that an entry on disk beats.
    let mut beaten: HashSet<&str> = HashSet::new();
    for d in disk {
        if let Some(o) = ours.get_str(&d.host) {
            if o.observed >= d.observed && !removed_on_disk_after(&d.host, o.observed) {
                continue; // ours is taken below
            }
            beaten.insert(&*d.host);
        }
        if !removed_by_us_after(&d.host, d.observed) {
            out.push(FileEntry {
                host: Cow::Borrowed(&d.host),
                include_subdomains: d.include_subdomains,
                observed: d.observed,
                expires: d.expires,
            });
        }
    }
    for o in ours.iter() {
        if !beaten.contains(o.host)
            && !removed_on_disk_after(o.host, o.observed)
            && !removed_by_us_after(o.host, o.observed)
        {
            out.push(FileEntry {
                host: Cow::Borrowed(o.host),
                include_subdomains: o.include_subdomains,
                observed: o.observed,
                expires: o.expires,
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
        );
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
        );
        let disk = decode(&merged, StoreConfig::default()).unwrap();
        let a = disk.get_str("a.example").unwrap();
        assert_eq!(a.observed, t(10));
        assert!(disk.get_str("b.example").unwrap().include_subdomains);
        assert!(disk.get_str("c.example").is_none());
        assert!(disk.get_str("d.example").is_some());
    }
}
