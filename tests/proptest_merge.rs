//! Saving over a store file that another process wrote, against a model of
//! the merge rule written with plain maps: per host the newest observation
//! wins (the saving process on a tie), a removal (either side's) wins over
//! any entry observed in the same second or before it, and expired entries
//! are dropped. Hosts are keyed by partition too: some entries and
//! removals are made through subresources of two top-level pages in a
//! partitioned store, so one host may be in several partitions, each its
//! own entry, and a removal in one partition leaves the others alone.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::{
    persist, CanonicalHost, Entry, HstsStore, PreloadSource, RequestContext, StoreConfig, Transport,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use url::Url;

type Policy = (bool, DateTime<Utc>, DateTime<Utc>);
/// A host in a partition (the top-level site; `None` outside partitions).
type Key = (Option<String>, String);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
}

fn at(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn config() -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        partition: true,
        ..StoreConfig::default()
    }
}

/// The top-level pages whose partitions entries are noted in.
const PAGES: [&str; 2] = ["news.example", "shop.example"];

/// One side: entries and removals over a few hosts, outside partitions or
/// in one of two.
#[derive(Debug, Clone)]
struct Side {
    entries: BTreeMap<Key, Policy>,
    removals: BTreeMap<Key, DateTime<Utc>>,
}

fn gen_side() -> impl Strategy<Value = Side> {
    let host = prop::sample::select(vec!["a.x.com", "b.x.com", "c.y.org", "d.z.net", "x.com"]);
    let part = prop_oneof![
        2 => Just(None),
        1 => prop::sample::select(PAGES.to_vec()).prop_map(|p| Some(p.to_owned())),
    ];
    let key = (part, host.prop_map(str::to_owned));
    (
        prop::collection::btree_map(key.clone(), (any::<bool>(), 0i64..10, 0i64..30), 0..6),
        prop::collection::btree_map(key, 0i64..10, 0..4),
    )
        .prop_map(|(entries, removals)| {
            let entries: BTreeMap<Key, Policy> = entries
                .into_iter()
                .map(|(k, (isd, obs, life))| {
                    // A partitioned entry is noted, and max-age=0 would remove it.
                    let life = if k.0.is_some() { life.max(1) } else { life };
                    (k, (isd, at(obs), at(obs + life)))
                })
                .collect();
            // In a partition, removing is noting max-age=0, which takes the
            // entry away: a side cannot hold both for one partitioned key.
            let removals = removals
                .into_iter()
                .filter(|(k, _)| k.0.is_none() || !entries.contains_key(k))
                .map(|(k, t)| (k, at(t)))
                .collect();
            Side { entries, removals }
        })
}

/// Notes `value` for `host` at `t` as a subresource of `page`: in the
/// partition of `page`'s site.
fn note_in(s: &mut HstsStore, page: &str, host: &str, value: &str, t: DateTime<Utc>) {
    let page = Url::parse(&format!("https://{page}/")).unwrap();
    let ctx = RequestContext::subresource_of(&page).unwrap();
    let url = Url::parse(&format!("https://{host}/")).unwrap();
    s.in_context(&ctx)
        .note_at(&url, [value], Transport::Secure, t);
}

fn store_of(side: &Side) -> HstsStore {
    let mut s = HstsStore::with_config(config());
    // Entries first: an explicit insert forgets an earlier removal of its
    // host, and a side here may hold both.
    for ((part, h), (isd, observed, expires)) in &side.entries {
        match part {
            None => {
                s.insert_entry(Entry {
                    host: h.clone(),
                    include_subdomains: *isd,
                    observed: *observed,
                    expires: *expires,
                })
                .unwrap();
            }
            Some(page) => {
                let age = (*expires - *observed).num_seconds();
                let sd = if *isd { "; includeSubDomains" } else { "" };
                note_in(&mut s, page, h, &format!("max-age={age}{sd}"), *observed);
            }
        }
    }
    for ((part, h), at) in &side.removals {
        match part {
            None => s.insert_tombstone(&CanonicalHost::new(h).unwrap(), *at),
            // Noted and removed again: the removal is remembered.
            Some(page) => {
                note_in(&mut s, page, h, "max-age=1", *at);
                note_in(&mut s, page, h, "max-age=0", *at);
            }
        }
    }
    s
}

fn model(disk: &Side, ours: &Side, now: DateTime<Utc>) -> BTreeMap<Key, Policy> {
    // The disk as loaded has already dropped expired entries; an expired
    // entry of ours still takes part (and then lapses).
    let mut merged: BTreeMap<Key, Policy> = disk
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
        let have: BTreeMap<Key, Policy> = merged
            .iter()
            .map(|e| {
                let k = (e.partition.map(str::to_owned), e.host.to_owned());
                (k, (e.include_subdomains, e.observed, e.expires))
            })
            .collect();
        prop_assert_eq!(merged.len(), have.len());
        prop_assert_eq!(have, model(&disk, &ours, now));
    }
}
