//! A store with hashed hosts against a plain one (issue #11): fed the same
//! random notes, over a few real-looking sites with subdomains, public
//! suffixes of one and two labels and a private suffix (`github.io`), the
//! two agree on every lookup (known or not, includeSubDomains, expiry) of
//! random hosts, deeper subdomains and public-suffix-level names included,
//! in random browsing contexts of a partitioned or unpartitioned store.
//! After a save and a load the hashed store still agrees, keeps its keys,
//! and its file holds none of the names noted. Two hashed stores key one
//! host differently (the salt differs).

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::persist;
use hsts::{HstsStore, Match, PreloadSource, RequestContext, StoreConfig, Transport};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use url::Url;

/// Sites (eTLD+1) under a one-label, a two-label and a private suffix.
const SITES: [&str; 4] = ["alpha.com", "beta.co.uk", "gamma.org", "delta.github.io"];
/// Names at or above the public suffix, and names that merely contain a
/// site: none of them is a subdomain of a noted site.
const OTHERS: [&str; 9] = [
    "com",
    "co.uk",
    "uk",
    "org",
    "github.io",
    "io",
    "other.net",
    "alpha.com.evil.net",
    "xalpha.com",
];
const LABELS: [&str; 4] = ["www", "api", "x", "m"];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn at(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn config(partition: bool) -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        partition,
        ..StoreConfig::default()
    }
}

/// A host of one of the sites: the site itself or up to `depth` labels
/// below it.
fn site_host(depth: usize) -> impl Strategy<Value = String> {
    (
        prop::sample::select(SITES.to_vec()),
        prop::collection::vec(prop::sample::select(LABELS.to_vec()), 0..=depth),
    )
        .prop_map(|(site, labels)| {
            let mut h = labels.join(".");
            if !h.is_empty() {
                h.push('.');
            }
            h.push_str(site);
            h
        })
}

/// A host that is noted: mostly a site's, now and then a public suffix
/// with two labels (a store may be told about one; it is its own site).
fn noted_host() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => site_host(2),
        1 => prop::sample::select(vec!["co.uk", "github.io"]).prop_map(str::to_owned),
    ]
}

/// A host that is looked up: deeper subdomains, and names at or above the
/// public suffix.
fn query_host() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => site_host(3),
        1 => prop::sample::select(OTHERS.to_vec()).prop_map(str::to_owned),
    ]
}

/// A browsing context: none (a navigation), or a page on one of the sites
/// and whether the request is a navigation from it.
type Ctx = Option<(String, bool)>;

fn gen_ctx() -> impl Strategy<Value = Ctx> {
    prop_oneof![
        2 => Just(None),
        2 => (site_host(1), any::<bool>()).prop_map(Some),
    ]
}

fn request_context(ctx: &Ctx) -> RequestContext {
    match ctx {
        None => RequestContext::navigation(),
        Some((page, nav)) => {
            let page = Url::parse(&format!("https://{page}/")).unwrap();
            if *nav {
                RequestContext::navigation_from(&page).unwrap()
            } else {
                RequestContext::subresource_of(&page).unwrap()
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Note {
    host: String,
    isd: bool,
    max_age: u64,
    at: i64,
    ctx: Ctx,
}

fn gen_note() -> impl Strategy<Value = Note> {
    (
        noted_host(),
        any::<bool>(),
        prop_oneof![
            2 => Just(0u64),
            6 => 1u64..2_000,
            1 => 1u64..100_000_000,
            1 => Just(u64::MAX),
        ],
        0i64..1_000,
        gen_ctx(),
    )
        .prop_map(|(host, isd, max_age, at, ctx)| Note {
            host,
            isd,
            max_age,
            at,
            ctx,
        })
}

fn note(store: &mut HstsStore, n: &Note) {
    let url = Url::parse(&format!("https://{}/", n.host)).unwrap();
    let value = if n.isd {
        format!("max-age={}; includeSubDomains", n.max_age)
    } else {
        format!("max-age={}", n.max_age)
    };
    let rc = request_context(&n.ctx);
    store
        .in_context(&rc)
        .note_at(&url, [value.as_str()], Transport::Secure, at(n.at));
}

/// What a lookup says, names aside: whether the host is known, and the
/// matching entry's includeSubDomains and expiry (in whole seconds, the
/// store file's precision).
fn answer(m: &Option<Match>) -> Option<(bool, Option<i64>)> {
    m.as_ref()
        .map(|m| (m.include_subdomains, m.expires.map(|e| e.timestamp())))
}

/// The lookup of `host` in `ctx`, and whether it is known context-free.
fn ask(store: &mut HstsStore, host: &str, ctx: &Ctx, now: DateTime<Utc>) -> (Option<Match>, bool) {
    let rc = request_context(ctx);
    let m = store.in_context(&rc).lookup_at(host, now).unwrap();
    (m, store.is_known_at(host, now).unwrap())
}

/// Every query agrees between `plain` and `hashed`: the same answer, and
/// a congruent match in one is congruent in the other. With `same_keys`,
/// `hashed` must also report exactly the keys that `reference` (a hashed
/// store with the same salt) reports.
fn agree(
    plain: &mut HstsStore,
    hashed: &mut HstsStore,
    queries: &[(String, Ctx, i64)],
    from: i64,
    mut reference: Option<&mut HstsStore>,
) -> Result<(), TestCaseError> {
    for (host, ctx, dt) in queries {
        let now = at(from + dt);
        let (pm, pk) = ask(plain, host, ctx, now);
        let (hm, hk) = ask(hashed, host, ctx, now);
        prop_assert_eq!(answer(&pm), answer(&hm), "{} in {:?} at {}", host, ctx, now);
        prop_assert_eq!(pk, hk, "is_known_at {} at {}", host, now);
        if let (Some(p), Some(h)) = (&pm, &hm) {
            prop_assert_ne!(&p.host, &h.host);
            prop_assert_eq!(h.host.len(), 65, "a hashed key: {}", h.host);
            // Asking for the matched name itself: where the plain store
            // finds that name congruently, the hashed one finds that key.
            let (p2, _) = ask(plain, &p.host, ctx, now);
            if p2.is_some_and(|m| m.host == p.host) {
                let (h2, _) = ask(hashed, &p.host, ctx, now);
                prop_assert_eq!(h2.map(|m| m.host), Some(h.host.clone()));
            }
        }
        if let Some(r) = reference.as_deref_mut() {
            let (rm, _) = ask(r, host, ctx, now);
            prop_assert_eq!(rm.map(|m| m.host), hm.map(|m| m.host));
        }
    }
    Ok(())
}

fn gen_queries() -> impl Strategy<Value = Vec<(String, Ctx, i64)>> {
    prop::collection::vec((query_host(), gen_ctx(), 0i64..3_000), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hashed_store_answers_as_a_plain_one_before_and_after_a_save(
        partition in any::<bool>(),
        notes in prop::collection::vec(gen_note(), 1..30),
        queries in gen_queries(),
        save_at in 0i64..1_500,
    ) {
        let mut plain = HstsStore::with_config(config(partition));
        let mut hashed = HstsStore::hashed(config(partition)).unwrap();
        for n in &notes {
            note(&mut plain, n);
            note(&mut hashed, n);
        }
        prop_assert_eq!(plain.len(), hashed.len());
        prop_assert_eq!(plain.partition_count(), hashed.partition_count());
        prop_assert!(hashed.iter().all(|e| e.host.len() == 65
            && e.partition.is_none_or(|p| p.len() == 32)));
        agree(&mut plain, &mut hashed, &queries, 0, None)?;

        // Save at `save_at` (which drops what expired by then) and load.
        let now = at(save_at);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.bin");
        persist::save(&hashed, &path, now).unwrap();
        let mut loaded = persist::load(&path, config(partition)).unwrap();
        prop_assert!(loaded.is_hashed());
        let live = |s: &HstsStore| s.iter().filter(|e| e.is_live_at(now)).count();
        prop_assert_eq!(live(&loaded), live(&plain));
        let keys = |s: &HstsStore| {
            let mut k: Vec<(Option<String>, String)> = s
                .iter()
                .filter(|e| e.is_live_at(now))
                .map(|e| (e.partition.map(str::to_owned), e.host.to_owned()))
                .collect();
            k.sort();
            k
        };
        prop_assert_eq!(keys(&loaded), keys(&hashed));
        agree(&mut plain, &mut loaded, &queries, save_at, Some(&mut hashed))?;

        // The file names no host and no site, noted or not.
        let bytes = std::fs::read(&path).unwrap();
        let names = notes
            .iter()
            .map(|n| n.host.as_str())
            .chain(SITES)
            .chain(queries.iter().map(|q| q.0.as_str()).filter(|h| h.len() > 4));
        for name in names {
            prop_assert!(
                !bytes.windows(name.len()).any(|w| w == name.as_bytes()),
                "the file holds {}", name
            );
        }
        // ...which the same search finds in a plain store's file.
        let first = plain.iter().find(|e| e.is_live_at(now)).map(|e| e.host.to_owned());
        if let Some(name) = first {
            let plain_path = dir.path().join("plain.bin");
            persist::save(&plain, &plain_path, now).unwrap();
            let bytes = std::fs::read(&plain_path).unwrap();
            prop_assert!(bytes.windows(name.len()).any(|w| w == name.as_bytes()));
        }
    }

    #[test]
    fn two_hashed_stores_key_one_host_differently(
        host in site_host(2),
        partition in any::<bool>(),
    ) {
        let url = Url::parse(&format!("https://{host}/")).unwrap();
        let mut keys = Vec::new();
        for _ in 0..2 {
            let mut s = HstsStore::hashed(config(partition)).unwrap();
            s.note_at(&url, ["max-age=600"], Transport::Secure, t0());
            let e = s.iter().next().unwrap();
            keys.push((e.host.to_owned(), e.partition.map(str::to_owned)));
        }
        let ((a, pa), (b, pb)) = (&keys[0], &keys[1]);
        // Neither the host's hash nor the site's (after the dot) match.
        prop_assert_ne!(&a[..32], &b[..32]);
        prop_assert_ne!(&a[33..], &b[33..]);
        prop_assert_eq!(pa.is_some(), partition);
        prop_assert!(pa.is_none() || pa != pb);
    }
}
