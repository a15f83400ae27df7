//! The store file on disk: crash safety, concurrent writers, curl interchange.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::persist::{self, Format, PersistError};
use hsts::{Entry, HstsStore, PreloadSource, StoreConfig, Transport};
use url::Url;

const HSTS: &str = env!("CARGO_BIN_EXE_hsts");

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

fn config() -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        capacity: 1_000_000,
        per_site_quota: 1_000_000,
        ..StoreConfig::default()
    }
}

fn store_of(prefix: &str, n: usize) -> HstsStore {
    let mut s = HstsStore::with_config(config());
    for i in 0..n {
        s.insert_entry(Entry {
            host: format!("{prefix}{i}.example"),
            include_subdomains: i % 2 == 0,
            observed: t0(),
            expires: t0() + Duration::days(365),
        })
        .unwrap();
    }
    s
}

#[test]
fn sigkill_during_save_leaves_old_or_new_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.bin");
    let old = persist::encode(&store_of("old", 20_000), t0());
    let addition = dir.path().join("add.json");
    std::fs::write(
        &addition,
        persist::export(&store_of("new", 20_000), Format::Json, t0()).unwrap(),
    )
    .unwrap();
    let import = |path: &Path| {
        let mut c = Command::new(HSTS);
        c.args(["--no-preload", "--now", "2026-11-01T00:00:00Z", "--store"])
            .arg(path)
            .args(["import", "--format", "json"])
            .arg(&addition)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // How long one uninterrupted run takes, to spread the kills over it.
    std::fs::write(&path, &old).unwrap();
    let started = std::time::Instant::now();
    assert!(import(&path).status().unwrap().success());
    let full = started.elapsed().as_micros() as u64;
    let mut outcomes = [0usize; 2];
    for round in 0..40u64 {
        std::fs::write(&path, &old).unwrap();
        let mut child = import(&path).spawn().unwrap();
        // Kill at a different point each round, from before the load to after the rename.
        std::thread::sleep(StdDuration::from_micros(full * 6 / 5 * round / 40));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let loaded = persist::load(&path, config()).expect("the file always loads after a kill");
        match loaded.len() {
            20_000 => outcomes[0] += 1,
            40_000 => outcomes[1] += 1,
            n => panic!("round {round}: {n} entries, neither old nor new"),
        }
    }
    eprintln!(
        "kills before the rename: {}, after: {}",
        outcomes[0], outcomes[1]
    );
}

#[test]
fn concurrent_processes_lose_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.bin");
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                for i in 0..15 {
                    let status = Command::new(HSTS)
                        .args(["--no-preload", "--now", "2026-11-01T00:00:00Z", "--store"])
                        .arg(&path)
                        .args([
                            "observe",
                            &format!("https://w{w}-h{i}.example/"),
                            "max-age=86400",
                        ])
                        .stdout(Stdio::null())
                        .status()
                        .unwrap();
                    assert!(status.success());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let store = persist::load(&path, config()).unwrap();
    assert_eq!(store.len(), 60);
    for w in 0..4 {
        for i in 0..15 {
            assert!(store.get_str(&format!("w{w}-h{i}.example")).is_some());
        }
    }
}

#[test]
fn concurrent_savers_merge_through_the_file_api() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("merge.bin");
    let threads: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = HstsStore::with_config(config());
                for i in 0..50 {
                    let url = Url::parse(&format!("https://t{w}-{i}.example/")).unwrap();
                    store.note_at(&url, ["max-age=600"], Transport::Secure, t0());
                    persist::save(&store, &path, t0()).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(persist::load(&path, config()).unwrap().len(), 200);
}

#[test]
fn newer_removal_wins_in_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rm.bin");
    let url = Url::parse("https://gone.example/").unwrap();
    let mut a = HstsStore::with_config(config());
    a.note_at(&url, ["max-age=600"], Transport::Secure, t0());
    persist::save(&a, &path, t0()).unwrap();
    // Another process removes it later...
    let mut b = persist::load(&path, config()).unwrap();
    b.note_at(
        &url,
        ["max-age=0"],
        Transport::Secure,
        t0() + Duration::seconds(10),
    );
    persist::save(&b, &path, t0() + Duration::seconds(10)).unwrap();
    // ...and the first process saves its older observation again.
    persist::save(&a, &path, t0() + Duration::seconds(20)).unwrap();
    let disk = persist::load(&path, config()).unwrap();
    assert!(disk.get_str("gone.example").is_none());
}

#[test]
fn unreadable_files_are_errors_and_stay_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.bin");
    let good = persist::encode(&store_of("x", 3), t0());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"garbage".to_vec(), "bad magic"),
        (good[..good.len() - 3].to_vec(), "truncated"),
        (
            {
                let mut b = good.clone();
                b[8] = 7;
                b
            },
            "version 7",
        ),
        (
            {
                let mut b = good.clone();
                let last = b.len() - 1;
                b[last] ^= 1;
                b
            },
            "checksum mismatch",
        ),
    ];
    for (bytes, what) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let err = persist::load(&path, config()).unwrap_err();
        assert!(
            err.to_string().contains(what),
            "{err} should mention {what}"
        );
        let store = store_of("y", 1);
        assert!(persist::save(&store, &path, t0()).is_err());
        assert!(persist::update(&path, config(), t0(), |_| ()).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{what}: file changed");
        let out = Command::new(HSTS)
            .arg("--store")
            .arg(&path)
            .args(["observe", "https://a.example/", "max-age=5"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }
    assert!(matches!(
        persist::decode(b"", config()),
        Err(PersistError::BadMagic)
    ));
}

fn curl_available() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_curl_against(hsts_file: &Path, host: &str) -> String {
    let out = Command::new("curl")
        .arg("--hsts")
        .arg(hsts_file)
        .args(["-sv", "--max-time", "5"])
        .args(["--connect-to", &format!("{host}:80:127.0.0.1:1")])
        .args(["--connect-to", &format!("{host}:443:127.0.0.1:1")])
        .arg(format!("http://{host}/"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn real_curl_reads_our_export_and_we_read_curls_file() {
    assert!(
        curl_available(),
        "curl is required (.ci/run installs Debian's curl)"
    );
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.bin");
    let now = Utc::now();
    let mut store = HstsStore::with_config(config());
    store.note_at(
        &Url::parse("https://hsts-curl.test/").unwrap(),
        ["max-age=86400; includeSubDomains"],
        Transport::Secure,
        now,
    );
    persist::save(&store, &store_path, now).unwrap();
    let curl_file = dir.path().join("curl-hsts.txt");
    let status = Command::new(HSTS)
        .arg("--store")
        .arg(&store_path)
        .args(["export", "--format", "curl", "-o"])
        .arg(&curl_file)
        .status()
        .unwrap();
    assert!(status.success());
    let log = run_curl_against(&curl_file, "www.hsts-curl.test");
    assert!(
        log.contains("Switched from HTTP to HTTPS due to HSTS => https://www.hsts-curl.test/"),
        "curl did not upgrade:\n{log}"
    );
    // Nothing for an unknown host.
    assert!(
        !run_curl_against(&curl_file, "other-curl.test").contains("Switched from HTTP to HTTPS")
    );
    // curl rewrote the cache file on exit: import what curl itself wrote.
    let written = std::fs::read_to_string(&curl_file).unwrap();
    assert!(written.contains("libcurl"), "curl's own header: {written}");
    let mut back = HstsStore::with_config(config());
    let report = persist::import(written.as_bytes(), Format::Curl, &mut back, now).unwrap();
    assert_eq!(report.imported(), 1, "{report:?}");
    let e = back.get_str("hsts-curl.test").unwrap();
    assert!(e.include_subdomains);
    assert!((e.expires - (now + Duration::days(1))).num_seconds().abs() <= 1);
}

#[test]
fn a_public_suffix_list_given_at_run_time_regroups_sites() {
    let dir = tempfile::tempdir().unwrap();
    let psl = dir.path().join("psl.dat");
    // Here `site.example` is a public suffix, so `b.site.example` is a site.
    std::fs::write(
        &psl,
        "// test list\n// ===BEGIN ICANN DOMAINS===\nexample\nsite.example\n",
    )
    .unwrap();
    let hsts = |store: &Path, psl_file: Option<&Path>, args: &[&str]| {
        let mut c = Command::new(HSTS);
        c.args(["--no-preload", "--now", "2026-11-01T00:00:00Z", "--store"])
            .arg(store);
        if let Some(p) = psl_file {
            c.arg("--psl").arg(p);
        }
        let out = c.args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        )
    };
    for psl_file in [None, Some(psl.as_path())] {
        let store = dir.path().join(format!("store-{}.bin", psl_file.is_some()));
        for host in ["a.b.site.example", "c.b.site.example", "d.z.site.example"] {
            let (code, ..) = hsts(
                &store,
                psl_file,
                &["observe", &format!("https://{host}/"), "max-age=600"],
            );
            assert_eq!(code, Some(0));
        }
        let (code, out, _) = hsts(&store, psl_file, &["forget", "--site", "b.site.example"]);
        assert_eq!(code, Some(0));
        // The built-in list knows no `example`: the site is `site.example`
        // and all three go. With the given list only b.site.example's two go.
        let want = if psl_file.is_some() {
            "removed 2"
        } else {
            "removed 3"
        };
        assert_eq!(out, want);
    }
    let store = dir.path().join("store-bad.bin");
    let missing = dir.path().join("missing.dat");
    let (code, _, err) = hsts(&store, Some(&missing), &["list"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("public suffix list"), "{err}");
    let empty = dir.path().join("empty.dat");
    std::fs::write(&empty, "example\n").unwrap();
    let (code, _, err) = hsts(&store, Some(&empty), &["list"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("BEGIN ICANN DOMAINS"), "{err}");
}
