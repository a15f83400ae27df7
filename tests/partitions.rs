//! Partitioned state and hashed hosts (issue #11, part B), through the
//! library and the CLI: what each partition sees, clearing, the store file
//! (partitions kept, no names in a hashed file, keys that cannot be mixed),
//! exports refused, imports into a hashed store, and memory per entry.

mod cli_support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::persist::{self, Format, PersistError, SkipReason};
use hsts::{
    CanonicalHost, Entry, HstsStore, PreloadSource, RequestContext, StoreConfig, Transport,
};
use url::Url;

use cli_support::{hsts_on, NOW};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn sub_of(page: &str) -> RequestContext {
    RequestContext::subresource_of(&url(page)).unwrap()
}

fn config(partition: bool) -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        partition,
        ..StoreConfig::default()
    }
}

/// Notes `max-age=31536000` (with includeSubDomains when `isd`) for `host`
/// as a subresource of `page`.
fn note_sub(store: &mut HstsStore, page: &str, host: &str, isd: bool) {
    let v = if isd {
        "max-age=31536000; includeSubDomains"
    } else {
        "max-age=31536000"
    };
    let ctx = sub_of(page);
    let out = store.in_context(&ctx).note_at(
        &url(&format!("https://{host}/")),
        [v],
        Transport::Secure,
        t0(),
    );
    assert!(
        matches!(out, hsts::Outcome::Noted | hsts::Outcome::Updated),
        "{host} on {page}: {out:?}"
    );
}

/// Whether a subresource request to `http://host/` from `page` is upgraded.
fn seen_from(store: &mut HstsStore, page: &str, host: &str) -> bool {
    let ctx = sub_of(page);
    let later = t0() + Duration::hours(1);
    store
        .in_context(&ctx)
        .upgrade_at(&url(&format!("http://{host}/x")), later)
        .is_upgraded()
}

#[test]
fn each_partition_sees_its_own_entries_and_the_preload_list_is_seen_everywhere() {
    let mut s = HstsStore::with_config(StoreConfig {
        partition: true,
        ..StoreConfig::default()
    });
    note_sub(&mut s, "https://news.example/", "cdn.tracker.example", true);
    assert!(seen_from(
        &mut s,
        "https://www.news.example/a",
        "cdn.tracker.example"
    ));
    assert!(seen_from(
        &mut s,
        "https://news.example/",
        "x.cdn.tracker.example"
    ));
    assert!(!seen_from(
        &mut s,
        "https://shop.example/",
        "cdn.tracker.example"
    ));
    // A navigation is in the host's own partition, which the subresource
    // note did not touch.
    assert!(!s
        .upgrade_at(&url("http://cdn.tracker.example/"), t0())
        .is_upgraded());
    // A preloaded host is upgraded from every partition.
    let preloaded = "accounts.google.com";
    assert!(s.lookup_at(preloaded, t0()).unwrap().is_some());
    assert!(seen_from(&mut s, "https://shop.example/", preloaded));
    // The same host in two partitions is two entries.
    note_sub(
        &mut s,
        "https://shop.example/",
        "cdn.tracker.example",
        false,
    );
    assert_eq!(s.len(), 2);
    assert_eq!(s.partition_count(), 2);
    let mut parts: Vec<_> = s.iter().map(|e| e.partition.unwrap()).collect();
    parts.sort_unstable();
    assert_eq!(parts, ["news.example", "shop.example"]);
    assert!(!seen_from(
        &mut s,
        "https://shop.example/",
        "x.cdn.tracker.example"
    ));
}

#[test]
fn clearing_a_site_clears_its_partition_and_forgetting_a_host_reaches_every_partition() {
    let mut s = HstsStore::with_config(config(true));
    note_sub(&mut s, "https://news.example/", "a.tracker.example", false);
    note_sub(&mut s, "https://news.example/", "cdn.other.example", false);
    note_sub(&mut s, "https://shop.example/", "a.tracker.example", false);
    note_sub(&mut s, "https://shop.example/", "b.tracker.example", false);
    note_sub(&mut s, "https://shop.example/", "img.shop.example", false);
    // Clearing news.example: its partition goes (both entries there).
    assert_eq!(s.clear_site_at("news.example", t0()).unwrap(), 2);
    assert!(!seen_from(
        &mut s,
        "https://news.example/",
        "cdn.other.example"
    ));
    assert!(seen_from(
        &mut s,
        "https://shop.example/",
        "a.tracker.example"
    ));
    // Clearing the tracker's site: its hosts go from every partition.
    note_sub(&mut s, "https://news.example/", "a.tracker.example", false);
    assert_eq!(s.clear_site_at("www.tracker.example", t0()).unwrap(), 3);
    assert_eq!(s.len(), 1);
    // Forgetting a host removes it from every partition.
    note_sub(&mut s, "https://news.example/", "img.shop.example", false);
    assert!(s.remove_at("img.shop.example", t0()).unwrap().is_some());
    assert!(s.is_empty());
    assert_eq!(s.partition_count(), 0, "unused partition keys are freed");
}

#[test]
fn partitions_survive_the_store_file_and_merge_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut a = HstsStore::with_config(config(true));
    note_sub(&mut a, "https://news.example/", "cdn.tracker.example", true);
    persist::save(&a, &path, t0()).unwrap();
    // Another writer: the same host in another partition, and a removal of
    // the host in news.example's partition... by a third writer later.
    let mut b = HstsStore::with_config(config(true));
    note_sub(&mut b, "https://shop.example/", "cdn.tracker.example", true);
    persist::save(&b, &path, t0()).unwrap();
    let mut back = persist::load(&path, config(true)).unwrap();
    assert_eq!(back.len(), 2);
    assert!(seen_from(
        &mut back,
        "https://news.example/",
        "cdn.tracker.example"
    ));
    assert!(seen_from(
        &mut back,
        "https://shop.example/",
        "cdn.tracker.example"
    ));
    assert!(!seen_from(
        &mut back,
        "https://other.example/",
        "cdn.tracker.example"
    ));
    // A max-age=0 in news.example's partition removes only that entry, and
    // the removal wins in the merge.
    let ctx = sub_of("https://news.example/");
    let mut c = persist::load(&path, config(true)).unwrap();
    let gone = c.in_context(&ctx).note_at(
        &url("https://cdn.tracker.example/"),
        ["max-age=0"],
        Transport::Secure,
        t0() + Duration::minutes(1),
    );
    assert_eq!(gone, hsts::Outcome::Removed);
    persist::save(&c, &path, t0() + Duration::minutes(1)).unwrap();
    // `a`, saving again with its older entry, does not bring it back.
    persist::save(&a, &path, t0() + Duration::minutes(2)).unwrap();
    let mut back = persist::load(&path, config(true)).unwrap();
    assert!(!seen_from(
        &mut back,
        "https://news.example/",
        "cdn.tracker.example"
    ));
    assert!(seen_from(
        &mut back,
        "https://shop.example/",
        "cdn.tracker.example"
    ));
}

#[test]
fn exports_refuse_what_they_cannot_represent_and_imports_skip_partitions_with_a_reason() {
    let mut s = HstsStore::with_config(config(true));
    note_sub(
        &mut s,
        "https://news.example/",
        "cdn.tracker.example",
        false,
    );
    s.note_at(
        &url("https://plain.example/"),
        ["max-age=600"],
        Transport::Secure,
        t0(),
    );
    for format in [Format::Curl, Format::Json] {
        match persist::export(&s, format, t0()) {
            Err(PersistError::PartitionedExport { entries, .. }) => {
                // plain.example was noted by a navigation: in its own
                // partition too.
                assert_eq!(entries, 2)
            }
            other => panic!("{format:?}: {other:?}"),
        }
    }
    let bytes = persist::export(&s, Format::Binary, t0()).unwrap();
    let mut into = HstsStore::with_config(config(false));
    let err = persist::import(&bytes, Format::Binary, &mut into, t0()).unwrap_err();
    let PersistError::NothingImported(report) = err else {
        panic!("{err:?}")
    };
    assert_eq!(report.skipped.len(), 2);
    assert!(report
        .skipped
        .iter()
        .all(|(_, r)| matches!(r, SkipReason::Partitioned { .. })));
    // Unpartitioned entries export as before.
    let mut plain = HstsStore::with_config(config(false));
    plain.note_at(
        &url("https://plain.example/"),
        ["max-age=600"],
        Transport::Secure,
        t0(),
    );
    assert!(persist::export(&plain, Format::Curl, t0()).is_ok());
}

#[test]
fn a_partition_costs_four_bytes_an_entry_plus_its_key_once() {
    let n = 20_000;
    let mut plain = HstsStore::with_config(config(false));
    let mut parted = HstsStore::with_config(StoreConfig {
        capacity: 100_000,
        ..config(true)
    });
    for i in 0..n {
        let host = format!("h{i}.s{}.example", i % 500);
        plain.note_at(
            &url(&format!("https://{host}/")),
            ["max-age=600"],
            Transport::Secure,
            t0(),
        );
        note_sub(
            &mut parted,
            &format!("https://p{}.example/", i % 100),
            &host,
            false,
        );
    }
    assert_eq!((plain.len(), parted.len()), (n, n));
    assert_eq!(parted.partition_count(), 100);
    let (a, b) = (plain.heap_bytes(), parted.heap_bytes());
    let per_entry = (b as f64 - a as f64) / n as f64;
    println!("plain {a} B, partitioned {b} B: {per_entry:.2} B more an entry");
    // The partition index fits in the slot; its key is kept once per
    // partition, not per entry (a string each would add ~12 bytes here).
    assert!(per_entry < 1.0, "{per_entry}");
}

#[test]
fn a_hashed_store_keeps_no_names_in_memory_or_in_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut s = HstsStore::hashed(config(true)).unwrap();
    assert!(s.is_hashed());
    let names = ["secret.example", "www.private-bank.example"];
    s.note_at(
        &url("https://secret.example/"),
        ["max-age=600; includeSubDomains"],
        Transport::Secure,
        t0(),
    );
    note_sub(
        &mut s,
        "https://www.private-bank.example/",
        "cdn.hidden-tracker.example",
        false,
    );
    s.remove_at("gone.example", t0()).unwrap();
    s.note_at(
        &url("https://removed.example/"),
        ["max-age=600"],
        Transport::Secure,
        t0(),
    );
    s.remove_at("removed.example", t0()).unwrap();
    for e in s.iter() {
        assert!(!e.host.contains("example"), "{}", e.host);
        assert!(!e.partition.unwrap_or("").contains("example"));
    }
    persist::save(&s, &path, t0()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for n in names
        .iter()
        .chain(&["hidden-tracker", "private-bank", "removed", "example"])
    {
        assert!(
            !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
            "{n} in the file"
        );
    }
    let back = persist::load(&path, config(true)).unwrap();
    assert!(back.is_hashed());
    assert!(back.is_known_at("a.b.secret.example", t0()).unwrap());
    assert!(!back.is_known_at("removed.example", t0()).unwrap());
    // A plain store cannot be saved over a hashed file, nor a hashed store
    // with another salt: the file is left as it is.
    let plain = HstsStore::with_config(config(true));
    let other = HstsStore::hashed(config(true)).unwrap();
    for (store, hashed) in [(&plain, false), (&other, true)] {
        match persist::save(store, &path, t0()) {
            Err(PersistError::KeysMismatch {
                file_hashed: true,
                store_hashed,
            }) => assert_eq!(store_hashed, hashed),
            r => panic!("{r:?}"),
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // Exports to formats that need names are refused; importing a hashed
    // file elsewhere too.
    for format in [Format::Curl, Format::Json] {
        assert!(matches!(
            persist::export(&back, format, t0()),
            Err(PersistError::HashedExport { .. })
        ));
    }
    let mut into = HstsStore::with_config(config(false));
    assert!(matches!(
        persist::import(&bytes, Format::Binary, &mut into, t0()),
        Err(PersistError::HashedImport)
    ));
}

#[test]
fn imports_into_a_hashed_store_work_and_two_stores_hash_apart() {
    let mut a = HstsStore::hashed(config(false)).unwrap();
    let mut b = HstsStore::hashed(config(false)).unwrap();
    let entry = Entry {
        host: "Imported.Example".into(),
        include_subdomains: true,
        observed: t0(),
        expires: t0() + Duration::days(1),
    };
    a.insert_entry(entry.clone()).unwrap();
    b.insert_entry(entry).unwrap();
    let key = |s: &HstsStore| s.iter().next().unwrap().host.to_owned();
    assert_ne!(key(&a), key(&b), "each store has its own salt");
    assert!(a.is_known_at("www.imported.example", t0()).unwrap());
    let h = CanonicalHost::new("imported.example").unwrap();
    assert!(a.get(&h).is_some());
    let curl = b"imported2.example \"20270101 00:00:00\"\n";
    let report = persist::import(curl, Format::Curl, &mut a, t0()).unwrap();
    assert_eq!(report.imported(), 1);
    assert!(a.is_known_at("imported2.example", t0()).unwrap());
    assert!(a.iter().all(|e| !e.host.contains("imported")));
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_line(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(stdout(o).trim()).unwrap()
}

#[test]
fn cli_partition_reports_the_partition_used() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let observed = json_line(&hsts_on(
        &store,
        &[
            "--partition",
            "observe",
            "--json",
            "--top-level",
            "https://news.example/",
            "--subresource",
            "https://b1.tracker.example/p.gif",
            "max-age=600",
        ],
    ));
    assert_eq!(observed["outcome"], "noted");
    assert_eq!(observed["partition"], "news.example");
    let check = |page: &str| {
        json_line(&hsts_on(
            &store,
            &[
                "--partition",
                "check",
                "--json",
                "--top-level",
                page,
                "--subresource",
                "b1.tracker.example",
            ],
        ))
    };
    let on_news = check("https://www.news.example/");
    assert_eq!(
        (&on_news["hsts"], &on_news["partition"]),
        (&true.into(), &"news.example".into())
    );
    let on_shop = check("https://shop.example/");
    assert_eq!(
        (&on_shop["hsts"], &on_shop["partition"]),
        (&false.into(), &"shop.example".into())
    );
    let list = stdout(&hsts_on(&store, &["list"]));
    assert!(list.trim_end().ends_with("\tnews.example"), "{list}");
    // Without --partition the lookup is in no partition: not found either.
    let o = hsts_on(&store, &["check", "--json", "b1.tracker.example"]);
    let v = json_line(&o);
    assert_eq!(
        (&v["hsts"], &v["partition"]),
        (&false.into(), &serde_json::Value::Null)
    );
}

#[test]
fn cli_hash_hosts_creates_a_hashed_file_that_stays_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let o = hsts_on(
        &store,
        &[
            "--hash-hosts",
            "observe",
            "https://secret.example/",
            "max-age=600; includeSubDomains",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&store).unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"secret"));
    // The file is hashed: no flag is needed to use it.
    let o = hsts_on(&store, &["check", "www.secret.example"]);
    assert_eq!(stdout(&o), "www.secret.example\thttps\n");
    let list = stdout(&hsts_on(&store, &["list"]));
    assert_eq!(list.lines().count(), 1);
    assert!(!list.contains("secret"), "{list}");
    let o = hsts_on(&store, &["export", "--format", "curl"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("hashed hosts"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A curl file imports into it.
    let curl = dir.path().join("curl.txt");
    std::fs::write(&curl, "imported.example \"20271231 00:00:00\"\n").unwrap();
    let o = hsts_on(&store, &["import", &curl.to_string_lossy()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = hsts_on(&store, &["check", "imported.example"]);
    assert_eq!(stdout(&o), "imported.example\thttps\n");
    // --hash-hosts on a store file that keeps names is refused, unchanged.
    let plain = dir.path().join("plain");
    hsts_on(&plain, &["observe", "https://a.example/", "max-age=600"]);
    let before = std::fs::read(&plain).unwrap();
    let o = hsts_on(
        &plain,
        &[
            "--hash-hosts",
            "observe",
            "https://b.example/",
            "max-age=600",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--hash-hosts applies only"));
    assert_eq!(std::fs::read(&plain).unwrap(), before);
    // A 0-byte file is an empty store: with --hash-hosts, a hashed one,
    // for reading commands as for writing ones.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let o = hsts_on(&empty, &["--hash-hosts", "check", "a.example"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = hsts_on(
        &empty,
        &[
            "--hash-hosts",
            "observe",
            "https://c.example/",
            "max-age=600",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = hsts_on(&empty, &["check", "c.example"]);
    assert_eq!(stdout(&o), "c.example\thttps\n");
    assert!(!std::fs::read(&empty)
        .unwrap()
        .windows(9)
        .any(|w| w == b"c.example"));
    let _ = NOW;
}
