//! The compiled preload table against Chromium's JSON list.
#![cfg(feature = "compile")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use chrono::{NaiveDate, TimeZone, Utc};
use hsts::preload::{compile_entries, compile_json, Corruption, PreloadError, PreloadList};
use hsts::{HstsStore, IgnoreReason, Outcome, PreloadSource, Source, StoreConfig, Transport};

const JSON_GZ: &[u8] = include_bytes!("../data/transport_security_state_static.json.gz");
const LIST_DATE: (i32, u32, u32) = (2026, 6, 1);

/// name → include_subdomains, for every force-https entry of the JSON.
fn json_entries() -> BTreeMap<String, bool> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(JSON_GZ)
        .read_to_end(&mut text)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["mode"] == "force-https")
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["include_subdomains"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(LIST_DATE.0, LIST_DATE.1, LIST_DATE.2).unwrap()
}

#[test]
fn committed_table_is_a_fresh_compilation_of_the_json() {
    // The table is compiled offline and committed (see DESIGN.md); this
    // fails when data/preload.bin and the JSON drift apart.
    let (fresh, report) = compile_json(JSON_GZ, date()).unwrap();
    if std::env::var_os("HSTS_REGENERATE_PRELOAD").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/data/preload.bin"),
            &fresh,
        )
        .unwrap();
    }
    assert_eq!(report.entries(), 94_599);
    let skipped: Vec<_> = report.skipped_names().map(|(n, _)| n.to_owned()).collect();
    assert_eq!(skipped, ["1.0.0.1"]);
    assert!(
        fresh == PreloadList::builtin().as_bytes(),
        "data/preload.bin is stale: run `cargo run -- --no-preload preload compile \
         data/transport_security_state_static.json.gz -o data/preload.bin --date 2026-06-01`"
    );
}

#[test]
fn builtin_table_metadata_and_verification() {
    let list = PreloadList::builtin();
    list.verify().unwrap();
    assert_eq!(list.len(), 94_599);
    assert_eq!(list.date(), date());
    assert!(
        list.byte_size() <= 1_000_000,
        "table is {} bytes",
        list.byte_size()
    );
    assert_eq!(
        list.source_sha256_hex(),
        "fa7a4af092bff2e00cb020241a9482db3dca079ebee95394a2f7e87e520a29eb"
    );
}

#[test]
fn every_json_entry_is_found_with_its_flag() {
    let list = PreloadList::builtin();
    let entries = json_entries();
    assert_eq!(entries.len(), 94_600);
    let mut checked = 0;
    for (name, &isd) in &entries {
        if name == "1.0.0.1" {
            assert!(list.lookup(name).is_none());
            continue;
        }
        let m = list
            .lookup(name)
            .unwrap_or_else(|| panic!("{name} not found"));
        // A name under an include_subdomains ancestor is still reported as
        // the congruent entry, with its own flag.
        assert_eq!(
            (m.name, m.include_subdomains),
            (name.as_str(), isd),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 94_599);
}

#[test]
fn iteration_equals_the_json() {
    let mut expected = json_entries();
    expected.remove("1.0.0.1");
    let got: BTreeMap<String, bool> = PreloadList::builtin().iter().collect();
    assert_eq!(got.len(), 94_599);
    assert!(got == expected, "iteration differs from the JSON");
}

/// A small deterministic generator (xorshift) for label names.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn label(&mut self) -> String {
        let len = 1 + (self.next() % 12) as usize;
        (0..len)
            .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789"[(self.next() % 36) as usize] as char)
            .collect()
    }
}

#[test]
fn subdomains_follow_the_superdomain_rule() {
    let list = PreloadList::builtin();
    let entries = json_entries();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, &isd) in &entries {
        if name == "1.0.0.1" {
            continue;
        }
        let sub = format!("zz{}.{name}", rng.label());
        let expect = isd
            || name.split('.').skip(1).enumerate().any(|(i, _)| {
                let sup = name.splitn(i + 2, '.').last().unwrap();
                entries.get(sup) == Some(&true)
            });
        assert_eq!(list.contains(&sub), expect, "{sub}");
    }
}

#[test]
fn non_members_are_not_found() {
    let list = PreloadList::builtin();
    for host in [
        "google.com",
        "www.google.com",
        "xgoogle.com",
        "xmail.google.com",
        "ail.google.com",
        "com",
        "example.com",
        "gle.com",
        "1.0.0.1",
        "",
        ".",
        "github.com.",
        "GITHUB.COM",
        "git_hub.com",
    ] {
        assert!(list.lookup(host).is_none(), "{host}");
    }
    // The parent of a non-includeSubDomains entry's child: search.yahoo.com
    // is listed without includeSubDomains, at.search.yahoo.com is listed.
    assert!(list.contains("at.search.yahoo.com"));
    let m = list.lookup("search.yahoo.com").unwrap();
    assert!(!m.include_subdomains);
    assert!(!list.contains("other.search.yahoo.com"));
    // g.co without includeSubDomains, www.g.co listed separately.
    assert!(list.contains("www.g.co") && list.contains("g.co") && !list.contains("x.g.co"));
    // Random names are not found.
    let entries = json_entries();
    let mut rng = Rng(7);
    for _ in 0..20_000 {
        let name = format!(
            "{}.{}",
            rng.label(),
            ["com", "org", "net", "de", "zzz"][(rng.next() % 5) as usize]
        );
        let covered = entries.contains_key(&name)
            || entries.get(name.rsplit('.').next().unwrap()) == Some(&true);
        assert_eq!(list.contains(&name), covered, "{name}");
    }
}

#[test]
fn nearest_superdomain_without_isd_does_not_stop_the_walk() {
    let list = PreloadList::builtin();
    let m = list.lookup("x.www.figma.com").unwrap();
    assert_eq!((m.name, m.include_subdomains), ("figma.com", true));
    let m = list.lookup("anything.at.all.dev").unwrap();
    assert_eq!((m.name, m.include_subdomains), ("dev", true));
    assert_eq!(list.lookup("dev").unwrap().name, "dev");
}

#[test]
fn store_lookups_canonicalise_first() {
    let store = HstsStore::new();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    for host in ["PAYPAL.COM", "paypal.com.", "WwW.PayPal.Com."] {
        let m = store.lookup_at(host, now).unwrap().unwrap();
        assert_eq!(m.source, Source::Preload, "{host}");
        assert_eq!(m.expires, None);
    }
    // A U-label host under a preloaded TLD.
    assert!(store.is_known_at("bücher.dev", now).unwrap());
    // --no-preload: the same store without the list.
    let off = HstsStore::with_config(StoreConfig {
        preload: PreloadSource::Off,
        ..StoreConfig::default()
    });
    assert!(!off.is_known_at("paypal.com", now).unwrap());
}

#[test]
fn max_age_zero_cannot_remove_a_preloaded_host() {
    let mut store = HstsStore::new();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let url = url::Url::parse("https://github.com/").unwrap();
    assert_eq!(
        store.note_at(&url, ["max-age=0"], Transport::Secure, now),
        Outcome::Ignored(IgnoreReason::Preloaded)
    );
    assert_eq!(
        store.note_at(&url, ["max-age=60"], Transport::Secure, now),
        Outcome::Noted
    );
    assert_eq!(
        store.note_at(&url, ["max-age=0"], Transport::Secure, now),
        Outcome::Removed
    );
    assert!(store.is_known_at("github.com", now).unwrap());
}

#[test]
fn staleness_limit_switches_the_list_off() {
    let store = HstsStore::with_config(StoreConfig {
        preload_max_staleness: Some(chrono::Duration::days(70)),
        ..StoreConfig::default()
    });
    let fresh = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let stale = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    assert!(store.is_known_at("github.com", fresh).unwrap());
    assert!(!store.is_known_at("github.com", stale).unwrap());
    assert!(PreloadList::builtin().is_stale_at(stale, chrono::Duration::weeks(18)));
}

#[test]
fn runtime_list_replaces_the_builtin_one() {
    let entries = vec![
        ("example.org".to_owned(), true),
        ("a.b.example.net".to_owned(), false),
    ];
    let (bytes, _) = compile_entries(entries, date(), [0; 32]).unwrap();
    let list = PreloadList::from_bytes(bytes).unwrap();
    list.verify().unwrap();
    let store = HstsStore::with_config(StoreConfig {
        preload: PreloadSource::List(std::sync::Arc::new(list)),
        ..StoreConfig::default()
    });
    let now = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    assert!(store.is_known_at("x.example.org", now).unwrap());
    assert!(store.is_known_at("a.b.example.net", now).unwrap());
    assert!(!store.is_known_at("x.a.b.example.net", now).unwrap());
    assert!(!store.is_known_at("github.com", now).unwrap());
}

#[test]
fn tables_of_1k_entries_are_exact() {
    let all = json_entries();
    let sample: Vec<(String, bool)> = all
        .iter()
        .filter(|(n, _)| *n != "1.0.0.1")
        .step_by(94)
        .map(|(n, &i)| (n.clone(), i))
        .collect();
    let (bytes, report) = compile_entries(sample.clone(), date(), [0; 32]).unwrap();
    let list = PreloadList::from_bytes(bytes).unwrap();
    list.verify().unwrap();
    assert_eq!(report.entries(), sample.len());
    let names: BTreeSet<_> = sample.iter().map(|(n, _)| n.clone()).collect();
    for (n, isd) in &sample {
        assert_eq!(
            list.lookup(n).map(|m| m.include_subdomains),
            Some(*isd),
            "{n}"
        );
    }
    for (n, _) in all.iter().filter(|(n, _)| !names.contains(*n)).take(5000) {
        if let Some(m) = list.lookup(n) {
            assert!(
                m.include_subdomains && names.contains(m.name),
                "{n} matched {}",
                m.name
            );
        }
    }
}

#[test]
fn corrupted_or_truncated_tables_are_rejected() {
    let (bytes, _) = compile_entries(
        json_entries()
            .into_iter()
            .filter(|(n, _)| n != "1.0.0.1")
            .step_by(300),
        date(),
        [7; 32],
    )
    .unwrap();
    PreloadList::from_bytes(bytes.clone())
        .unwrap()
        .verify()
        .unwrap();
    // Every truncation fails at load.
    for n in 0..bytes.len() {
        let r = PreloadList::from_bytes(bytes[..n].to_vec());
        assert!(r.is_err(), "truncation at {n} accepted");
    }
    // Flipping a byte anywhere is caught by the header check or by
    // verify(), so the checked load refuses it; and lookups on what the
    // unchecked load accepts never panic.
    let step = (bytes.len() / 997).max(1);
    for i in (0..bytes.len())
        .step_by(step)
        .chain(0..hsts::preload::HEADER_LEN)
    {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert!(
                PreloadList::from_bytes(b.clone()).is_err(),
                "flip {flip:#x} at {i} loaded"
            );
            match PreloadList::from_bytes_unchecked(b) {
                Err(_) => {}
                Ok(list) => {
                    assert!(list.verify().is_err(), "flip {flip:#x} at {i} not detected");
                    let _ = list.lookup("www.example.com");
                    let _ = list.iter().count();
                }
            }
        }
    }
    assert!(matches!(
        PreloadList::from_bytes(Vec::new()),
        Err(PreloadError::BadMagic)
    ));
    let mut newer = bytes.clone();
    newer[8] = (hsts::preload::FORMAT_VERSION + 1) as u8;
    assert!(matches!(
        PreloadList::from_bytes(newer),
        Err(PreloadError::UnsupportedVersion { found, .. }) if found == hsts::preload::FORMAT_VERSION + 1
    ));
}

#[test]
fn from_bytes_refuses_a_body_corruption_that_from_bytes_unchecked_accepts() {
    let (mut bytes, _) = compile_entries(
        [
            ("example.org".to_owned(), true),
            ("a.example.net".to_owned(), false),
        ],
        date(),
        [0; 32],
    )
    .unwrap();
    assert!(PreloadList::from_bytes(bytes.clone()).is_ok());
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01; // the record stream; the header is intact
    assert!(matches!(
        PreloadList::from_bytes(bytes.clone()),
        Err(PreloadError::BodyChecksum { .. })
    ));
    let unchecked = PreloadList::from_bytes_unchecked(bytes.clone()).unwrap();
    assert!(matches!(
        unchecked.verify(),
        Err(PreloadError::BodyChecksum { .. })
    ));
    // With the checksum resealed, the checked load still finds the
    // structural damage, and says what it is.
    reseal(&mut bytes);
    match PreloadList::from_bytes(bytes.clone()) {
        Err(PreloadError::Corrupt(_)) => {}
        Ok(_) => {
            // The flip made another well-formed table: the unchecked load
            // agrees with it.
            let list = PreloadList::from_bytes_unchecked(bytes).unwrap();
            list.verify().unwrap();
        }
        Err(e) => panic!("unexpected {e}"),
    }
    // The same through a file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.bin");
    let mut body_flipped = PreloadList::builtin().as_bytes().to_vec();
    body_flipped[hsts::preload::HEADER_LEN + 10] ^= 0x40;
    std::fs::write(&path, &body_flipped).unwrap();
    assert!(matches!(
        PreloadList::from_file(&path),
        Err(PreloadError::BodyChecksum { .. })
    ));
    assert!(matches!(
        PreloadList::from_file(dir.path().join("missing.bin")),
        Err(PreloadError::Io { .. })
    ));
}

#[test]
fn static_constructors() {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let builtin: &'static [u8] = BYTES.get_or_init(|| PreloadList::builtin().as_bytes().to_vec());
    let checked = PreloadList::from_static(builtin).unwrap();
    let unchecked = PreloadList::from_static_unchecked(builtin).unwrap();
    assert_eq!(checked.len(), unchecked.len());
    assert!(matches!(
        PreloadList::from_static(b"HSTSPRLD"),
        Err(PreloadError::Truncated { len: 8, needed: 92 })
    ));
}

#[cfg(feature = "cli")]
#[test]
fn the_cli_lists_and_describes_the_table() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hsts"))
        .args(["--now", "2026-07-01T00:00:00Z", "preload", "info", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["entries"], 94_599);
    assert_eq!(v["date"], "2026-06-01");
    // Within 18 weeks: no warning.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hsts"))
        .args([
            "--now",
            "2026-11-23T00:00:00Z",
            "check",
            "--json",
            "x.www.figma.com",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"], "preload");
    assert_eq!(v["matched"], "figma.com");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hsts"))
        .args(["preload", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 94_599);
    assert!(text.lines().any(|l| l == "mail.google.com\ttrue"));
}

/// Rewrites both checksums of a table, so that a corruption reaches the
/// structural checks of `verify()` instead of the checksum.
fn reseal(bytes: &mut [u8]) {
    // Header offsets of the format (see `preload/format.rs`): body CRC at 52,
    // header CRC over bytes 0..88 at 88.
    let body = crc32fast::hash(&bytes[hsts::preload::HEADER_LEN..]);
    bytes[52..56].copy_from_slice(&body.to_le_bytes());
    let head = crc32fast::hash(&bytes[..88]);
    bytes[88..92].copy_from_slice(&head.to_le_bytes());
}

#[test]
fn a_bucket_count_width_outside_1_to_16_is_refused_by_the_header_check() {
    let entries = [
        ("a.example".to_owned(), true),
        ("b.example".to_owned(), false),
    ];
    let (bytes, _) = compile_entries(entries, date(), [0; 32]).unwrap();
    for width in [0u8, 17, 255] {
        let mut b = bytes.clone();
        b[10] = width;
        reseal(&mut b);
        match PreloadList::from_bytes_unchecked(b) {
            Err(PreloadError::Corrupt(Corruption::CountWidth(w))) => assert_eq!(w, width),
            other => panic!("width {width}: {other:?}"),
        }
    }
    // The byte after it stays reserved.
    let mut b = bytes.clone();
    b[11] = 1;
    reseal(&mut b);
    assert!(matches!(
        PreloadList::from_bytes_unchecked(b),
        Err(PreloadError::Corrupt(Corruption::ReservedBytes))
    ));
}

#[test]
fn resealed_corruption_is_caught_or_harmless() {
    let entries: Vec<(String, bool)> = json_entries()
        .into_iter()
        .filter(|(n, _)| n != "1.0.0.1")
        .step_by(500)
        .collect();
    let (bytes, _) = compile_entries(entries.clone(), date(), [0; 32]).unwrap();
    // The record stream is the last section; its length in bits is at 36.
    let record_bits = u32::from_le_bytes(bytes[36..40].try_into().unwrap()) as usize;
    let records = bytes.len() - record_bits.div_ceil(8);
    let (mut caught, mut tried) = (0, 0);
    for i in (hsts::preload::HEADER_LEN..bytes.len()).step_by(3) {
        for flip in [0x01u8, 0x10, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            reseal(&mut b);
            let in_records = i >= records;
            tried += usize::from(in_records);
            let checked = PreloadList::from_bytes(b.clone()).is_ok();
            let Ok(list) = PreloadList::from_bytes_unchecked(b) else {
                assert!(!checked);
                caught += usize::from(in_records);
                continue;
            };
            assert_eq!(checked, list.verify().is_ok(), "flip {flip:#x} at {i}");
            // Lookups and iteration never panic, verified or not.
            for (n, _) in entries.iter().take(20) {
                let _ = list.lookup(n);
                let _ = list.lookup(&format!("www.{n}"));
            }
            let listed: Vec<(String, bool)> = list.iter().take(1000).collect();
            match list.verify() {
                Err(_) => caught += usize::from(in_records),
                // A flip that still makes a well-formed table (say, a code
                // table entry nothing uses) must keep lookups and iteration
                // in agreement.
                Ok(()) => {
                    assert_eq!(listed.len(), list.len(), "flip {flip:#x} at {i}");
                    for (n, isd) in &listed {
                        let m = list.lookup(n).unwrap_or_else(|| panic!("{n} lost"));
                        assert_eq!((m.name, m.include_subdomains), (n.as_str(), *isd));
                    }
                }
            }
        }
    }
    // Most changes to the records are structurally visible even with the
    // checksums rewritten (86% when measured); the rest turn a record into
    // another well-formed one, which the checks above show is harmless. A
    // flip elsewhere may hit a code entry that nothing uses.
    assert!(
        tried > 500 && caught * 10 > tried * 8,
        "{caught} of {tried} caught"
    );
}

#[test]
fn a_synthetic_million_entry_table_is_exact() {
    let mut rng = Rng(0x1234_5678);
    let tlds = ["com", "org", "net", "de", "io", "nl", "dev", "xn--p1ai"];
    let entries: Vec<(String, bool)> = (0..1_000_000)
        .map(|i| {
            let name = format!("{}-{i}.{}", rng.label(), tlds[i % tlds.len()]);
            (name, rng.next() % 10 < 9)
        })
        .collect();
    let (bytes, report) = compile_entries(entries.clone(), date(), [0; 32]).unwrap();
    assert_eq!(report.entries(), 1_000_000);
    let list = PreloadList::from_bytes(bytes).unwrap();
    assert_eq!(list.len(), 1_000_000);
    for (n, isd) in entries.iter().step_by(97) {
        let m = list.lookup(n).unwrap_or_else(|| panic!("{n} not found"));
        assert_eq!((m.name, m.include_subdomains), (n.as_str(), *isd));
        assert_eq!(list.contains(&format!("a.{n}")), *isd, "a.{n}");
        assert!(!list.contains(&format!("{n}x")), "{n}x");
    }
}

#[test]
fn malformed_input_finds_nothing_even_under_a_preloaded_tld() {
    let list = PreloadList::builtin();
    assert_eq!(list.lookup("a.dev").unwrap().name, "dev");
    let long_label = format!("{}.dev", "a".repeat(64));
    let long_name = format!("{}dev", "abc.".repeat(63));
    for host in [
        "",
        ".",
        "a..dev",
        ".dev",
        ".a.dev",
        "dev.",
        "a.dev.",
        "a.DEV",
        long_label.as_str(),
        long_name.as_str(),
    ] {
        assert_eq!(list.lookup(host), None, "{host:?}");
    }
}

#[test]
fn bytes_no_entry_holds_only_rule_out_their_own_label() {
    // The host module lets `_` and other URL code points through, so a
    // canonical host may hold them: its listed superdomains still apply.
    let list = PreloadList::builtin();
    let m = list.lookup("my_app.dev").unwrap();
    assert_eq!((m.name, m.include_subdomains), ("dev", true));
    let m = list.lookup("a_b.x.figma.com").unwrap();
    assert_eq!(m.name, "figma.com");
    assert_eq!(list.lookup("git_hub.com"), None);
    assert_eq!(list.lookup("GitHub.com"), None); // entries are lower case
}

/// The superdomain rule, written the obvious way over the JSON's names.
fn reference_lookup(entries: &BTreeMap<String, bool>, host: &str) -> Option<(String, bool)> {
    let well_formed = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| !l.is_empty() && l.len() <= 63);
    if !well_formed {
        return None;
    }
    if let Some(&isd) = entries.get(host) {
        return Some((host.to_owned(), isd));
    }
    let mut rest = host;
    while let Some((_, sup)) = rest.split_once('.') {
        if entries.get(sup) == Some(&true) {
            return Some((sup.to_owned(), true));
        }
        rest = sup;
    }
    None
}

/// The JSON's domain names, as a map and as a list to pick from.
fn shared_entries() -> &'static (BTreeMap<String, bool>, Vec<String>) {
    static ENTRIES: std::sync::OnceLock<(BTreeMap<String, bool>, Vec<String>)> =
        std::sync::OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut e = json_entries();
        e.remove("1.0.0.1");
        let names = e.keys().cloned().collect();
        (e, names)
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// Hosts built around listed names (prefixes, edits, random labels) get
    /// exactly the reference answer.
    #[test]
    fn lookups_agree_with_the_reference(
        pick in 0usize..94_599,
        prefix in "([a-z0-9-]{1,8}\\.){0,3}",
        edit in 0u8..6,
        junk in "[a-zA-Z0-9._-]{0,6}",
    ) {
        let (entries, names) = shared_entries();
        let name = &names[pick];
        let host = match edit {
            0 => format!("{prefix}{name}"),
            1 => format!("{junk}{name}"),
            2 => format!("{prefix}{junk}.{}", name.rsplit('.').next().unwrap()),
            3 => format!("{name}{junk}"),
            4 => name[1..].to_owned(),
            _ => format!("{prefix}x{name}"),
        };
        let got = PreloadList::builtin()
            .lookup(&host)
            .map(|m| (m.name.to_owned(), m.include_subdomains));
        proptest::prop_assert_eq!(got, reference_lookup(entries, &host), "{}", host);
    }

    /// Any string at all: no panic, and a match is a suffix of the input.
    #[test]
    fn any_string_is_safe(host in "\\PC{0,300}") {
        if let Some(m) = PreloadList::builtin().lookup(&host) {
            proptest::prop_assert!(host.ends_with(m.name));
        }
    }
}

#[test]
fn the_sample_compiles_from_plain_json_with_a_typed_skip_report() {
    let json = include_bytes!("data/preload-sample.json");
    let (bytes, report) = compile_json(json, date()).unwrap();
    let skipped: Vec<_> = report.skipped_names().collect();
    assert_eq!(
        skipped,
        [("1.0.0.1", &hsts::preload::SkipReason::IpLiteral)]
    );
    assert_eq!(report.entries(), 199);
    assert_eq!(report.not_force_https(), 0);
    let list = PreloadList::from_bytes(bytes).unwrap();
    list.verify().unwrap();
    // The source checksum is the SHA-256 of the (plain) JSON bytes.
    assert_eq!(
        list.source_sha256_hex(),
        "3fd1024abc6e4b2773c17c1a7d4ce15b1a204ab3a5bbd11d6ee806d9eebc7d8c"
    );
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    for e in v["entries"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let isd = e["include_subdomains"].as_bool().unwrap_or(false);
        let found = list.lookup(name).map(|m| (m.name, m.include_subdomains));
        if name == "1.0.0.1" {
            assert_eq!(found, None);
        } else {
            assert_eq!(found, Some((name, isd)), "{name}");
        }
    }
    // Plain and gzip input compile to the same table.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, json).unwrap();
    let (from_gz, _) = compile_json(&gz.finish().unwrap(), date()).unwrap();
    assert!(from_gz == list.as_bytes());
    // Entries of another mode are not imported, and bad JSON is an error.
    let other = br#"{"entries":[{"name":"a.example","policy":"custom","mode":"other"}]}"#;
    let (_, report) = compile_json(other, date()).unwrap();
    assert_eq!((report.entries(), report.not_force_https()), (0, 1));
    assert!(matches!(
        compile_json(b"{\"entries\":[", date()),
        Err(PreloadError::Json(_))
    ));
}
