//! The store file format and the import layer against hostile and
//! surprising inputs (issue #10): an import that would make the store
//! unloadable, a same-second removal and observation, imports that used to
//! drop entries without a word, a store written with a larger capacity, and
//! version 1 files.

use std::process::Output;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::persist::{self, Format, PersistError, SkipReason};
use hsts::{Entry, HstsStore, StoreConfig};
use serde_json::{json, Value};

mod cli_support;
use cli_support::{hsts_on as hsts, no_preload as config};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// A JSON store document of `(host, observed, expires)`.
fn json_doc(entries: &[(String, DateTime<Utc>, DateTime<Utc>)]) -> String {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(h, o, e)| {
            json!({"host": h, "include_subdomains": false,
                   "observed": rfc3339(*o), "expires": rfc3339(*e)})
        })
        .collect();
    json!({"format": "hsts-store", "version": 1, "entries": entries}).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_entry_expiring_before_its_observation_is_refused_and_the_store_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.bin");
    let file = dir.path().join("bad.json");
    // Live at `now`, but expiring before it was observed.
    let bad = (
        "bad.example".to_owned(),
        now() + Duration::days(10),
        now() + Duration::days(5),
    );
    std::fs::write(&file, json_doc(&[bad])).unwrap();
    let out = hsts(
        &store,
        &["import", "--format", "json", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("expiry before observation"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("read 1, added 0, updated 0, expired 0, skipped 1, evicted 0"),
        "{}",
        stdout(&out)
    );
    // The store loads, lists and forgets.
    let list = hsts(&store, &["list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let forget = hsts(&store, &["forget", "--all"]);
    assert!(forget.status.success(), "{}", stderr(&forget));
    // With a good entry beside it, the good one goes in and the bad one is named.
    let good = ("good.example".to_owned(), now(), now() + Duration::days(5));
    let bad = (
        "bad.example".to_owned(),
        now() + Duration::days(10),
        now() + Duration::days(5),
    );
    std::fs::write(&file, json_doc(&[good, bad])).unwrap();
    let out = hsts(
        &store,
        &["import", "--format", "json", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(":2: skipped: bad.example: expiry before observation"));
    assert!(persist::load(&store, config())
        .unwrap()
        .get(&"good.example".parse().unwrap())
        .is_some());
    // And the library refuses it too, with the reason.
    let mut s = HstsStore::with_config(config());
    assert!(s
        .insert_entry(Entry {
            host: "bad.example".into(),
            include_subdomains: false,
            observed: now(),
            expires: now() - Duration::seconds(1),
        })
        .is_err());
}

#[test]
fn a_removal_and_an_observation_in_the_same_second_the_removal_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.bin");
    let entry = |observed| Entry {
        host: "a.example".into(),
        include_subdomains: false,
        observed,
        expires: now() + Duration::days(1),
    };
    let at = |ms: i64| now() + Duration::milliseconds(ms);
    // We observed a.example at .300; another process removed it at .700
    // (the file keeps the second) and saved first.
    let mut remover = HstsStore::with_config(config());
    remover
        .insert_entry(entry(now() - Duration::days(1)))
        .unwrap();
    remover.remove_at("a.example", at(700)).unwrap();
    let mut observer = HstsStore::with_config(config());
    observer.insert_entry(entry(at(300))).unwrap();
    persist::save(&remover, &path, at(900)).unwrap();
    persist::save(&observer, &path, at(900)).unwrap();
    let merged = persist::load(&path, config()).unwrap();
    assert!(merged.iter().all(|e| e.host != "a.example"));
    // The other order of saving gives the same result.
    std::fs::remove_file(&path).unwrap();
    persist::save(&observer, &path, at(900)).unwrap();
    persist::save(&remover, &path, at(900)).unwrap();
    let merged = persist::load(&path, config()).unwrap();
    assert!(merged.iter().all(|e| e.host != "a.example"));
    // An observation in the next second wins.
    let mut later = HstsStore::with_config(config());
    later.insert_entry(entry(at(1000))).unwrap();
    persist::save(&later, &path, at(1000)).unwrap();
    let merged = persist::load(&path, config()).unwrap();
    assert!(merged.iter().any(|e| e.host == "a.example"));
}

#[test]
fn two_hundred_subdomains_of_one_site_report_the_quota_and_keep_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.bin");
    let file = dir.path().join("many.json");
    // Observed one second apart, listed so that name order and observation
    // order disagree (the newest have the smallest names).
    let entries: Vec<_> = (0..200)
        .map(|i| {
            (
                format!("h{:03}.site.example", 199 - i),
                now() - Duration::seconds(1000 - i),
                now() + Duration::days(30),
            )
        })
        .collect();
    std::fs::write(&file, json_doc(&entries)).unwrap();
    let out = hsts(
        &store,
        &[
            "import",
            "--json",
            "--format",
            "json",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(report["read"], 200);
    assert_eq!(report["added"], 64);
    assert_eq!(report["evicted"], 136);
    assert_eq!(report["skipped"], 0);
    let loaded = persist::load(&store, config()).unwrap();
    let mut kept: Vec<&str> = loaded.iter().map(|e| e.host).collect();
    kept.sort();
    let want: Vec<String> = (0..64).map(|i| format!("h{i:03}.site.example")).collect();
    assert_eq!(kept, want);
}

#[test]
fn an_import_past_the_capacity_counts_what_it_evicted() {
    let mut store = HstsStore::with_config(config());
    store
        .insert_entry(Entry {
            host: "unrelated.example".into(),
            include_subdomains: false,
            observed: now() - Duration::days(2),
            expires: now() + Duration::days(2),
        })
        .unwrap();
    let entries: Vec<_> = (0..150_000)
        .map(|i| {
            (
                format!("s{i}.example"),
                now() - Duration::seconds(200_000 - i),
                now() + Duration::days(30),
            )
        })
        .collect();
    let report = persist::import(
        json_doc(&entries).as_bytes(),
        Format::Json,
        &mut store,
        now(),
    )
    .unwrap();
    assert_eq!(report.read, 150_000);
    assert_eq!(store.len(), 100_000);
    assert_eq!(report.added, 100_000);
    assert_eq!(report.updated, 0);
    // 50,000 imported ones and the unrelated entry.
    assert_eq!(report.evicted, 50_001);
    assert!(store.iter().all(|e| e.host != "unrelated.example"));
}

#[test]
fn expired_entries_are_counted_as_expired_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.bin");
    let file = dir.path().join("old.json");
    let old = |h: &str| {
        (
            h.to_owned(),
            now() - Duration::days(10),
            now() - Duration::days(1),
        )
    };
    std::fs::write(&file, json_doc(&[old("a.example"), old("b.example")])).unwrap();
    let out = hsts(
        &store,
        &["import", "--format", "json", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("read 2, added 0, updated 0, expired 2, skipped 0, evicted 0"),
        "{}",
        stdout(&out)
    );
    let live = (
        "c.example".to_owned(),
        now() - Duration::days(1),
        now() + Duration::days(1),
    );
    let doc = json_doc(&[old("a.example"), live]);
    let mut s = HstsStore::with_config(config());
    let report = persist::import(doc.as_bytes(), Format::Json, &mut s, now()).unwrap();
    assert_eq!((report.read, report.added, report.expired), (2, 1, 1));
    // Nothing importable is an error carrying the report.
    let doc = json_doc(&[old("a.example")]);
    match persist::import(doc.as_bytes(), Format::Json, &mut s, now()) {
        Err(PersistError::NothingImported(r)) => assert_eq!(r.expired, 1),
        other => panic!("{other:?}"),
    }
    // An IP literal is skipped with its reason.
    let doc = json_doc(&[("192.0.2.1".to_owned(), now(), now() + Duration::days(1))]);
    match persist::import(doc.as_bytes(), Format::Json, &mut s, now()) {
        Err(PersistError::NothingImported(r)) => {
            assert!(matches!(r.skipped[..], [(1, SkipReason::Invalid { .. })]))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_store_written_with_a_larger_capacity_loads_whole_with_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.bin");
    let big = StoreConfig {
        capacity: 150_000,
        ..config()
    };
    let mut s = HstsStore::with_config(big);
    for i in 0..150_000i64 {
        s.insert_entry(Entry {
            host: format!("s{i}.example"),
            include_subdomains: false,
            observed: now() - Duration::seconds(i),
            expires: now() + Duration::days(30),
        })
        .unwrap();
    }
    persist::save(&s, &path, now()).unwrap();
    let loaded = persist::load(&path, config()).unwrap();
    assert_eq!(loaded.len(), 150_000);
    assert_eq!(loaded.config().capacity, 150_000);
    // Saving it again with the default keeps them all too.
    persist::save(&loaded, &path, now()).unwrap();
    assert_eq!(persist::load(&path, config()).unwrap().len(), 150_000);
}

/// bincode 2's standard encoding of an unsigned integer.
fn varint(out: &mut Vec<u8>, v: u64) {
    if v < 251 {
        out.push(v as u8);
    } else if v <= u64::from(u16::MAX) {
        out.push(251);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(252);
        out.extend_from_slice(&(v as u32).to_le_bytes());
    } else {
        out.push(253);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn zigzag(out: &mut Vec<u8>, v: i64) {
    varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

#[test]
fn a_version_1_file_still_loads() {
    // Version 1, by hand: count, then (host, includeSubDomains, observed,
    // expires) per entry, then the removals: no limits, no usage.
    let mut body = Vec::new();
    varint(&mut body, 2);
    for (host, isd) in [("one.example", true), ("two.example", false)] {
        varint(&mut body, host.len() as u64);
        body.extend_from_slice(host.as_bytes());
        body.push(u8::from(isd));
        zigzag(&mut body, now().timestamp() - 100);
        zigzag(&mut body, now().timestamp() + 86_400);
    }
    varint(&mut body, 1);
    let gone = "gone.example";
    varint(&mut body, gone.len() as u64);
    body.extend_from_slice(gone.as_bytes());
    zigzag(&mut body, now().timestamp() - 50);
    let mut file = Vec::new();
    file.extend_from_slice(b"HSTSSTOR");
    file.extend_from_slice(&1u16.to_le_bytes());
    file.extend_from_slice(&[0, 0]);
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32(&body).to_le_bytes());
    file.extend_from_slice(&body);
    let store = persist::decode(&file, config()).unwrap();
    assert_eq!(store.len(), 2);
    assert!(store.is_known_at("x.one.example", now()).unwrap());
    // Written back as version 2, it reads the same.
    let again = persist::encode(&store, now());
    assert_eq!(u16::from_le_bytes([again[8], again[9]]), persist::VERSION);
    assert_eq!(persist::decode(&again, config()).unwrap().len(), 2);
}

/// CRC-32 (IEEE), bitwise: the header's checksum.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
