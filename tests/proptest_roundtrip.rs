//! Whatever `save` writes, `load` reads: stores built from random, hostile
//! entries through every public way in (`note_at`, `insert_entry`, JSON
//! and curl imports, and notes made as subresources of top-level pages)
//! save to a file that loads into the same live entries. Half the cases
//! use a partitioned store, where those subresource notes land in the
//! partition of their page's site (one host in several partitions being
//! several entries), and a removal in one partition leaves the others.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use hsts::persist::{self, Format};
use hsts::{Entry, HstsStore, PreloadSource, RequestContext, StoreConfig, Transport};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::json;
use url::Url;

fn config(partition: bool) -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        capacity: 24,
        per_site_quota: 6,
        partition,
        ..StoreConfig::default()
    }
}

/// Top-level pages: sites, a subdomain of one, IP addresses (a page at an
/// IP address is its own partition), upper case and U-labels.
fn page() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "news.example",
        "www.news.example",
        "shop.example",
        "Shop.Example.",
        "bücher.example",
        "192.0.2.7",
        "[::1]",
        "[2001:db8::1]",
        "co.uk",
        "localhost",
    ])
    .prop_map(str::to_owned)
}

fn base() -> i64 {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0)
        .unwrap()
        .timestamp()
}

/// Hosts, hostile ones included: IP literals, upper case, trailing dots,
/// U-labels, bad names, many subdomains of one site.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..12).prop_map(|i| format!("h{i}.site.example")),
        (0u8..30).prop_map(|i| format!("s{i}.example")),
        prop::sample::select(vec![
            "192.0.2.1",
            "[::1]",
            "::1",
            "Upper.Example.",
            "bücher.example",
            "xn--bcher-kva.example",
            "",
            "a..b",
            "-bad-.example",
            "localhost",
            "x.localhost",
            "com",
        ])
        .prop_map(str::to_owned),
    ]
}

/// An instant: near the base, far away, or at the ends of chrono's range,
/// with or without a fraction of a second.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        (-100_000i64..100_000, 0u32..1_000_000_000)
            .prop_map(|(s, ns)| Utc.timestamp_opt(base() + s, ns).unwrap()),
        (-1i64 << 40..1i64 << 40).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap()),
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
    ]
}

fn max_age() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..100_000).prop_map(|a| format!("max-age={a}")),
        (0u64..100_000).prop_map(|a| format!("max-age={a}; includeSubDomains")),
        Just("max-age=99999999999999999999999".to_owned()),
        Just("max-age=0".to_owned()),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Note(String, String, DateTime<Utc>),
    /// A note as a subresource of a top-level page.
    NoteIn(String, String, String, DateTime<Utc>),
    Insert(String, bool, DateTime<Utc>, DateTime<Utc>),
    Json(Vec<(String, bool, DateTime<Utc>, DateTime<Utc>)>),
    Curl(Vec<String>),
}

fn op() -> impl Strategy<Value = Op> {
    let record = || (host(), any::<bool>(), instant(), instant());
    prop_oneof![
        (host(), max_age(), instant()).prop_map(|(h, v, t)| Op::Note(h, v, t)),
        (page(), host(), max_age(), instant()).prop_map(|(p, h, v, t)| Op::NoteIn(p, h, v, t)),
        record().prop_map(|(h, isd, o, e)| Op::Insert(h, isd, o, e)),
        prop::collection::vec(record(), 0..8).prop_map(Op::Json),
        prop::collection::vec(
            (
                host(),
                any::<bool>(),
                prop_oneof![
                    Just("unlimited".to_owned()),
                    (1970i32..2200, 1u32..13, 1u32..29)
                        .prop_map(|(y, m, d)| format!("{y:04}{m:02}{d:02} 00:00:00")),
                    Just("garbage".to_owned()),
                ]
            )
                .prop_map(|(h, isd, stamp)| format!(
                    "{}{h} \"{stamp}\"",
                    if isd { "." } else { "" }
                )),
            0..8
        )
        .prop_map(Op::Curl),
    ]
}

fn apply(store: &mut HstsStore, op: &Op, now: DateTime<Utc>) {
    match op {
        Op::Note(h, v, t) => {
            if let Ok(url) = Url::parse(&format!("https://{h}/")) {
                store.note_at(&url, [v.as_str()], Transport::Secure, *t);
            }
        }
        Op::NoteIn(p, h, v, t) => {
            let (Ok(page), Ok(url)) = (
                Url::parse(&format!("https://{p}/")),
                Url::parse(&format!("https://{h}/")),
            ) else {
                return;
            };
            let ctx = RequestContext::subresource_of(&page).unwrap();
            store
                .in_context(&ctx)
                .note_at(&url, [v.as_str()], Transport::Secure, *t);
        }
        Op::Insert(h, isd, o, e) => {
            let _ = store.insert_entry(Entry {
                host: h.clone(),
                include_subdomains: *isd,
                observed: *o,
                expires: *e,
            });
        }
        Op::Json(entries) => {
            let entries: Vec<_> = entries
                .iter()
                .map(|(h, isd, o, e)| {
                    json!({"host": h, "include_subdomains": isd,
                           "observed": o.to_rfc3339(), "expires": e.to_rfc3339()})
                })
                .collect();
            let doc = json!({"format": "hsts-store", "version": 1, "entries": entries});
            let _ = persist::import(doc.to_string().as_bytes(), Format::Json, store, now);
        }
        Op::Curl(lines) => {
            let _ = persist::import(lines.join("\n").as_bytes(), Format::Curl, store, now);
        }
    }
}

type Live = BTreeMap<(Option<String>, String), (bool, i64, i64)>;

fn live(store: &HstsStore, now: DateTime<Utc>) -> Live {
    store
        .iter()
        .filter(|e| e.is_live_at(now))
        .map(|e| {
            (
                (e.partition.map(str::to_owned), e.host.to_owned()),
                (
                    e.include_subdomains,
                    e.observed.timestamp(),
                    e.expires.timestamp(),
                ),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn what_save_writes_load_reads(
        ops in prop::collection::vec(op(), 0..24),
        now in -50_000i64..50_000,
        partition in any::<bool>(),
    ) {
        // `now` in whole seconds, the file's precision.
        let now = Utc.timestamp_opt(base() + now, 0).unwrap();
        let mut store = HstsStore::with_config(config(partition));
        for op in &ops {
            apply(&mut store, op, now);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.bin");
        persist::save(&store, &path, now).unwrap();
        let loaded = persist::load(&path, config(partition));
        prop_assert!(loaded.is_ok(), "{:?}", loaded.err());
        let loaded = loaded.unwrap();
        let want = live(&store, now);
        prop_assert_eq!(loaded.iter().filter(|e| e.is_live_at(now)).count(), want.len());
        prop_assert_eq!(live(&loaded, now), want);
    }
}
