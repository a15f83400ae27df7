//! The file layer under attack: planted links at temporary-file names, file
//! modes, symlinked stores, FIFOs and devices as stores, stale temporary
//! files, a held lock, and curl's file format. Real files in a temporary
//! directory, through the `hsts` binary where the defect was in the CLI.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::internal::StoreInternals;
use hsts::persist::{self, Format, LockOptions, PersistError};
use hsts::{Entry, HstsStore, Transport};
use url::Url;

mod cli_support;
use cli_support::{hsts_on as hsts, no_preload as config, HSTS, NOW};

const VICTIM: &[u8] = b"the victim's own bytes\n";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

fn run_guarded(cmd: Command) -> Output {
    cli_support::run(cmd, b"")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn lock_of(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// The pid the next process is likely to get: that of a child just run.
fn probe_pid() -> u32 {
    let child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    let _ = child.wait_with_output();
    pid
}

/// Plants links to `victim` at the temporary names the old code used for
/// `name` (`.NAME.PID.tmp` in the library, `.NAME.tmpPID` in the CLI) for
/// the next pids, and at a few random-looking names.
fn plant(dir: &Path, name: &str, victim: &Path) {
    let pid = probe_pid();
    for p in pid..pid + 60 {
        for tmp in [format!(".{name}.{p}.tmp"), format!(".{name}.tmp{p}")] {
            let _ = symlink(victim, dir.join(tmp));
        }
    }
    for r in ["abcdef", "AbC123xyz789", "000000000000", "zzzzzz"] {
        let _ = symlink(victim, dir.join(format!(".{name}.{r}.tmp")));
    }
}

const PRELOAD_JSON: &str = r#"{"entries": [
  {"name": "preloaded.example", "policy": "custom", "mode": "force-https", "include_subdomains": true}
]}"#;

#[test]
fn links_planted_at_temporary_names_never_reach_the_victim() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let victim = d.join("victim");
    fs::write(&victim, VICTIM).unwrap();
    let store = d.join("S");
    let out_curl = d.join("out.curl");
    let table = d.join("table.bin");
    let json = d.join("list.json");
    fs::write(&json, PRELOAD_JSON).unwrap();
    for round in 0..4 {
        plant(d, "S", &victim);
        let host = format!("https://a{round}.example/");
        ok(&hsts(&store, &["observe", &host, "max-age=600"]));
        assert_eq!(fs::read(&victim).unwrap(), VICTIM, "round {round}");
    }
    plant(d, "out.curl", &victim);
    let o = out_curl.to_str().unwrap();
    ok(&hsts(&store, &["export", "--format", "curl", "-o", o]));
    plant(d, "table.bin", &victim);
    ok(&hsts(
        &store,
        &[
            "preload",
            "compile",
            json.to_str().unwrap(),
            "-o",
            table.to_str().unwrap(),
            "--date",
            "2026-10-01",
        ],
    ));
    assert_eq!(fs::read(&victim).unwrap(), VICTIM);
    for p in [&store, &out_curl, &table] {
        let m = fs::symlink_metadata(p).unwrap();
        assert!(m.is_file(), "{} is not a regular file", p.display());
    }
    let listed = ok(&hsts(&store, &["list"]));
    for round in 0..4 {
        assert!(listed.contains(&format!("a{round}.example\t")), "{listed}");
    }
    assert!(fs::read_to_string(&out_curl)
        .unwrap()
        .contains("a3.example \""));
    let mut info = Command::new(HSTS);
    info.args(["--now", NOW, "--preload"])
        .arg(&table)
        .args(["preload", "info"]);
    let info = ok(&run_guarded(info));
    assert!(info.contains("entries\t1"), "{info}");
}

#[test]
fn a_new_store_is_private_and_an_existing_one_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("S");
    ok(&hsts(
        &store,
        &["observe", "https://a.example/", "max-age=600"],
    ));
    assert_eq!(mode(&store), 0o600);
    fs::set_permissions(&store, fs::Permissions::from_mode(0o640)).unwrap();
    ok(&hsts(
        &store,
        &["observe", "https://b.example/", "max-age=600"],
    ));
    assert_eq!(mode(&store), 0o640);
    // Through the library too, and for a file written by `export -o`.
    fs::set_permissions(&store, fs::Permissions::from_mode(0o604)).unwrap();
    persist::save(&HstsStore::with_config(config()), &store, t0()).unwrap();
    assert_eq!(mode(&store), 0o604);
    let out = dir.path().join("out.json");
    ok(&hsts(&store, &["export", "-o", out.to_str().unwrap()]));
    assert_eq!(mode(&out), 0o600);
    fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).unwrap();
    ok(&hsts(&store, &["export", "-o", out.to_str().unwrap()]));
    assert_eq!(mode(&out), 0o644);
    // The lock file is private as well.
    assert_eq!(mode(&lock_of(&store)), 0o600);
}

#[test]
fn leftover_temporary_files_are_swept_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let victim = d.join("victim");
    fs::write(&victim, VICTIM).unwrap();
    let store = d.join("S");
    let leftovers = [".S.xyz.tmp", ".S.12345.tmp", ".S.AbCdEf123456.tmp"];
    for l in leftovers {
        fs::write(d.join(l), b"an old copy of the store").unwrap();
    }
    // Not ours to remove: another store's temporary file, other names, and
    // a link (removing is safe, but links are never followed or touched).
    let kept = [".S.x.y.tmp", ".T.abc.tmp", "S.abc.tmp", ".S.abc.tmp.bak"];
    for k in kept {
        fs::write(d.join(k), b"not ours").unwrap();
    }
    symlink(&victim, d.join(".S.link.tmp")).unwrap();
    ok(&hsts(
        &store,
        &["observe", "https://a.example/", "max-age=600"],
    ));
    for l in leftovers {
        assert!(!d.join(l).exists(), "{l} was not swept");
    }
    for k in kept {
        assert_eq!(fs::read(d.join(k)).unwrap(), b"not ours", "{k}");
    }
    assert!(fs::symlink_metadata(d.join(".S.link.tmp")).is_ok());
    assert_eq!(fs::read(&victim).unwrap(), VICTIM);
    // Nothing of ours is left behind by a successful write.
    let ours: Vec<_> = fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".S.") && n.ends_with(".tmp") && n != ".S.x.y.tmp")
        .filter(|n| n != ".S.link.tmp")
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
}

#[test]
fn a_symlinked_store_is_written_through_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("real")).unwrap();
    let target = d.join("real").join("T");
    let store = d.join("S");
    // Relative and dangling: the target is created.
    symlink("real/T", &store).unwrap();
    ok(&hsts(
        &store,
        &["observe", "https://a.example/", "max-age=600"],
    ));
    assert!(fs::symlink_metadata(&store)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::symlink_metadata(&target).unwrap().is_file());
    assert_eq!(mode(&target), 0o600);
    // A chain of links, and an existing target: still written through.
    let outer = d.join("S2");
    symlink(&store, &outer).unwrap();
    ok(&hsts(
        &outer,
        &["observe", "https://b.example/", "max-age=600"],
    ));
    assert!(fs::symlink_metadata(&outer)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::symlink_metadata(&store)
        .unwrap()
        .file_type()
        .is_symlink());
    // The lock file lives beside the target, not the link.
    assert!(lock_of(&target).exists());
    assert!(!lock_of(&store).exists());
    let listed = ok(&hsts(&store, &["list"]));
    assert!(listed.contains("a.example\t"), "{listed}");
    assert!(listed.contains("b.example\t"), "{listed}");
    let loaded = persist::load(&target, config()).unwrap();
    assert_eq!(loaded.len(), 2);
}

fn mkfifo(p: &Path) {
    let status = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_fifo_as_store_is_refused_at_once_and_leaves_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("S");
    mkfifo(&fifo);
    for args in [
        &["observe", "https://a.example/", "max-age=600"][..],
        &["list"][..],
        &["check", "a.example"][..],
        &["forget", "--all"][..],
    ] {
        let out = hsts(&fifo, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("FIFO, not a regular file"),
            "{}",
            stderr(&out)
        );
        assert!(!lock_of(&fifo).exists(), "{args:?} left a lock file");
    }
    // Through a link as well.
    let link = dir.path().join("L");
    symlink(&fifo, &link).unwrap();
    let out = hsts(&link, &["observe", "https://a.example/", "max-age=600"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("FIFO"), "{}", stderr(&out));
    assert!(!lock_of(&link).exists() && !lock_of(&fifo).exists());
    // The library says which error it is.
    assert!(matches!(
        persist::load(&fifo, config()),
        Err(PersistError::NotARegularFile { kind: "a FIFO", .. })
    ));
    assert!(matches!(
        persist::save(&HstsStore::with_config(config()), &fifo, t0()),
        Err(PersistError::NotARegularFile { .. })
    ));
    assert!(matches!(
        persist::write_atomic(&fifo, b"x"),
        Err(PersistError::NotARegularFile { .. })
    ));
}

#[test]
fn dev_zero_as_store_is_refused_at_once() {
    let zero = Path::new("/dev/zero");
    for args in [
        &["list"][..],
        &["observe", "https://a.example/", "max-age=600"][..],
    ] {
        let out = hsts(zero, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("character device, not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!Path::new("/dev/zero.lock").exists());
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("S");
    symlink(zero, &link).unwrap();
    let out = hsts(&link, &["observe", "https://a.example/", "max-age=600"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!lock_of(&link).exists());
    assert!(matches!(
        persist::load(zero, config()),
        Err(PersistError::NotARegularFile { .. })
    ));
}

#[test]
fn commands_that_fail_before_writing_leave_no_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("S");
    let garbage = dir.path().join("garbage.json");
    fs::write(&garbage, b"this is not JSON").unwrap();
    let cases: [&[&str]; 5] = [
        &["forget", "bad..host"],
        &["forget", "--site", "bad..site"],
        &["import", "--format", "json", garbage.to_str().unwrap()],
        &["observe", "not a url", "max-age=600"],
        &["forget", "--no-such-flag"],
    ];
    for args in cases {
        let out = hsts(&store, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(!lock_of(&store).exists(), "{args:?} left a lock file");
        assert!(!store.exists(), "{args:?} created the store");
    }
}

#[test]
fn a_held_lock_times_out_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("S");
    let holder = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_of(&store))
        .unwrap();
    holder.lock().unwrap();
    let quick = LockOptions::with_timeout(StdDuration::from_millis(150));
    let err =
        persist::save_with(&HstsStore::with_config(config()), &store, t0(), &quick).unwrap_err();
    match err {
        PersistError::LockTimeout { path, waited } => {
            assert_eq!(path, lock_of(&store));
            assert!(waited >= quick.timeout);
        }
        other => panic!("expected LockTimeout, got {other:?}"),
    }
    let err = persist::update_with(&store, config(), t0(), &quick, |_| ()).unwrap_err();
    assert!(matches!(err, PersistError::LockTimeout { .. }), "{err:?}");
    assert!(!store.exists());
    holder.unlock().unwrap();
    persist::save_with(&HstsStore::with_config(config()), &store, t0(), &quick).unwrap();
    assert!(store.exists());
}

#[test]
fn a_symlinked_lock_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, VICTIM).unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
    let store = dir.path().join("S");
    symlink(&victim, lock_of(&store)).unwrap();
    let out = hsts(&store, &["observe", "https://a.example/", "max-age=600"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(fs::read(&victim).unwrap(), VICTIM);
    assert_eq!(mode(&victim), 0o644);
    assert!(!store.exists());
}

#[test]
fn curl_duplicates_and_trailing_text_are_read_as_curl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("S");
    let file = dir.path().join("curl.txt");
    fs::write(
        &file,
        "dup.example \"20280101 00:00:00\"\n\
         .dup.example \"20270101 00:00:00\"\n\
         DUP.example \"20270601 00:00:00\"\n\
         tail.example \"20270101 00:00:00\" written by some tool\n",
    )
    .unwrap();
    let out = ok(&hsts(
        &store,
        &["import", "--format", "curl", file.to_str().unwrap()],
    ));
    assert_eq!(
        out.trim(),
        "read 2, added 2, updated 0, expired 0, skipped 0, evicted 0"
    );
    let listed = ok(&hsts(&store, &["list"]));
    assert!(
        listed.contains("dup.example\ttrue\t2028-01-01T00:00:00Z"),
        "{listed}"
    );
    assert!(
        listed.contains("tail.example\tfalse\t2027-01-01T00:00:00Z"),
        "{listed}"
    );
}

fn entry(host: &str, days: i64) -> Entry {
    Entry {
        host: host.to_owned(),
        include_subdomains: true,
        observed: t0(),
        expires: t0() + Duration::days(days),
    }
}

#[test]
fn curl_export_writes_children_before_parents() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("S");
    let mut s = HstsStore::with_config(config());
    for h in [
        "example.com",
        "www.example.com",
        "a.www.example.com",
        "b.com",
    ] {
        s.insert_entry(entry(h, 100)).unwrap();
    }
    persist::save(&s, &store, t0()).unwrap();
    let out = ok(&hsts(&store, &["export", "--format", "curl"]));
    let pos = |h: &str| out.find(&format!("\n.{h} ")).unwrap();
    assert!(pos("a.www.example.com") < pos("www.example.com"), "{out}");
    assert!(pos("www.example.com") < pos("example.com"), "{out}");
}

fn curl_available() -> bool {
    Command::new("sh")
        .args(["-c", "command -v curl"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// curl with `--hsts FILE` against a loopback port nobody listens on: it
/// loads the cache, fails to connect, and saves the cache again.
fn run_curl_against(hsts_file: &Path, host: &str) -> String {
    let mut cmd = Command::new("curl");
    cmd.arg("--hsts")
        .arg(hsts_file)
        .args(["-sv", "--max-time", "5"])
        .args(["--connect-to", &format!("{host}:80:127.0.0.1:1")])
        .args(["--connect-to", &format!("{host}:443:127.0.0.1:1")])
        .arg(format!("http://{host}/"));
    String::from_utf8_lossy(&run_guarded(cmd).stderr).into_owned()
}

#[test]
fn real_curl_keeps_a_child_exported_beside_its_parent() {
    if !curl_available() {
        eprintln!("curl is not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("S");
    let now = Utc::now();
    let mut s = HstsStore::with_config(config());
    for (host, days) in [("parent-curl.test", 10), ("www.parent-curl.test", 20)] {
        let url = Url::parse(&format!("https://{host}/")).unwrap();
        let value = format!("max-age={}; includeSubDomains", days * 86_400);
        s.note_at(&url, [value.as_str()], Transport::Secure, now);
    }
    persist::save(&s, &store, now).unwrap();
    let curl_file = dir.path().join("curl-hsts.txt");
    let c = curl_file.to_str().unwrap();
    let out = Command::new(HSTS)
        .arg("--no-preload")
        .arg("--store")
        .arg(&store)
        .args(["export", "--format", "curl", "-o", c])
        .output()
        .unwrap();
    ok(&out);
    let log = run_curl_against(&curl_file, "x.www.parent-curl.test");
    assert!(
        log.contains("Switched from HTTP to HTTPS due to HSTS"),
        "curl did not upgrade:\n{log}"
    );
    let written = fs::read_to_string(&curl_file).unwrap();
    assert!(written.contains("libcurl"), "curl's own header: {written}");
    let mut back = HstsStore::with_config(config());
    let report = persist::import(written.as_bytes(), Format::Curl, &mut back, now).unwrap();
    assert_eq!(report.imported(), 2, "curl dropped an entry:\n{written}");
    for (host, days) in [("parent-curl.test", 10), ("www.parent-curl.test", 20)] {
        let e = back.get_str(host).unwrap();
        assert!(e.include_subdomains, "{host}");
        let want = now + Duration::days(days);
        assert!(
            (e.expires - want).num_seconds().abs() <= 1,
            "{host}: {} (curl wrote:\n{written})",
            e.expires
        );
    }
}
