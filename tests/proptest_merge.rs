//! Saving over a store file that another process wrote, against a model of
//! the merge rule written with plain maps: per host the newest observation
//! wins (the saving process on a tie), a removal (either side's) wins over
//! any entry observed in the same second or before it, and expired entries
//! are dropped.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::{persist, CanonicalHost, Entry, HstsStore, PreloadSource, StoreConfig};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

type Policy = (bool, DateTime<Utc>, DateTime<Utc>);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
}

fn at(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn config() -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    }
}

/// One side: entries and removals over a few hosts.
#[derive(Debug, Clone)]
struct Side {
    entries: BTreeMap<String, Policy>,
    removals: BTreeMap<String, DateTime<Utc>>,
}

fn gen_side() -> impl Strategy<Value = Side> {
    let host = prop::sample::select(vec!["a.x.com", "b.x.com", "c.y.org", "d.z.net", "x.com"]);
    (
        prop::collection::btree_map(
            host.clone().prop_map(str::to_owned),
            (any::<bool>(), 0i64..10, 0i64..30),
            0..5,
        ),
        prop::collection::btree_map(host.prop_map(str::to_owned), 0i64..10, 0..3),
    )
        .prop_map(|(entries, removals)| Side {
            entries: entries
                .into_iter()
                .map(|(h, (isd, obs, life))| (h, (isd, at(obs), at(obs + life))))
                .collect(),
            removals: removals.into_iter().map(|(h, t)| (h, at(t))).collect(),
        })
}

fn store_of(side: &Side) -> HstsStore {
    let mut s = HstsStore::with_config(config());
    // Entries first: an explicit insert forgets an earlier removal of its
    // host, and a side here may hold both.
    for (h, (isd, observed, expires)) in &side.entries {
        s.insert_entry(Entry {
            host: h.clone(),
            include_subdomains: *isd,
            observed: *observed,
            expires: *expires,
        })
        .unwrap();
    }
    for (h, at) in &side.removals {
        s.insert_tombstone(&CanonicalHost::new(h).unwrap(), *at);
    }
    s
}

fn model(disk: &Side, ours: &Side, now: DateTime<Utc>) -> BTreeMap<String, Policy> {
    // The disk as loaded has already dropped expired entries; an expired
    // entry of ours still takes part (and then lapses).
    let mut merged: BTreeMap<String, Policy> = disk
        .entries
        .iter()
        .filter(|(_, d)| now <= d.2)
        .map(|(h, d)| (h.clone(), *d))
        .collect();
    for (h, e) in &ours.entries {
        let newer = merged.get(h).is_none_or(|d| d.1 <= e.1);
        // A removal in the same second as the observation wins.
        let removed_later = disk.removals.get(h).is_some_and(|t| *t >= e.1);
        if newer && !removed_later {
            merged.insert(h.clone(), *e);
        }
    }
    for (h, t) in &ours.removals {
        if merged.get(h).is_some_and(|d| d.1 <= *t) {
            merged.remove(h);
        }
    }
    merged.retain(|_, p| now <= p.2);
    merged
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn save_merges_as_the_rule_says(disk in gen_side(), ours in gen_side(), now in 0i64..12) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.bin");
        let now = at(now);
        persist::save(&store_of(&disk), &path, now).unwrap();
        persist::save(&store_of(&ours), &path, now).unwrap();
        let merged = persist::load(&path, config()).unwrap();
        let have: BTreeMap<String, Policy> = merged
            .iter()
            .map(|e| (e.host.to_owned(), (e.include_subdomains, e.observed, e.expires)))
            .collect();
        prop_assert_eq!(have, model(&disk, &ours, now));
    }
}
