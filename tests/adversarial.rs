//! Issue #10's defects in the parser, the store's eviction policy, URL
//! rewriting and the CLI's input handling, each reproduced as an attacker
//! would and asserted fixed. (The file layer's are in
//! `adversarial_files.rs`, the store file format's in
//! `adversarial_format.rs`.)

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::{HstsStore, Outcome, SharedHstsStore, StsHeader, Transport};
use url::Url;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

mod cli_support;
use cli_support::{hsts, no_preload as config};

fn note(store: &mut HstsStore, host: &str, value: &str, now: DateTime<Utc>) -> Outcome {
    let url = Url::parse(&format!("https://{host}/")).unwrap();
    store.note_at(&url, [value], Transport::Secure, now)
}

/// `max-age=1;x0;x1;…` with `n` distinct unknown directives.
fn hostile_header(n: usize) -> String {
    let mut s = String::from("max-age=1");
    for i in 0..n {
        s.push_str(&format!(";x{i}"));
    }
    s
}

/// The fastest of seven parses of `value`, in seconds: the minimum is
/// what the work costs, without the noise of a busy machine.
fn parse_secs(value: &str) -> f64 {
    (0..7)
        .map(|_| {
            let start = Instant::now();
            let h = StsHeader::parse(value).unwrap();
            assert_eq!(h.max_age, 1);
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Defect 2: each directive name was checked against a list of the names
/// seen, so 160,000 distinct unknown directives (1 MB) took 27 s. Thirty
/// times the input must now cost about thirty times the work; a quadratic
/// parse would cost nine hundred times. The ratio is compared with a wide
/// margin both ways, never a wall-clock limit.
#[test]
fn a_megabyte_of_unknown_directives_parses_in_linear_time() {
    let small = hostile_header(10_000);
    let large = hostile_header(300_000);
    assert!(large.len() > 2_000_000, "{}", large.len());
    let (a, b) = (parse_secs(&small), parse_secs(&large));
    let ratio = b / a;
    // 300: linear is 30, quadratic 900. A busy machine once gave 214 for the
    // linear parser with a limit of 150; the test is about the shape of the
    // cost, so the margin to quadratic is what matters.
    assert!(
        ratio < 300.0,
        "30x input took {ratio:.1}x the time ({a:.5}s, {b:.5}s)"
    );
    // A duplicate far into the field is still found.
    let dup = format!("{large};X299999");
    assert!(StsHeader::parse(&dup).is_err());
}

/// Defect 2, second half: the shared store parsed under its write lock. The
/// hostile field is now parsed first, and the outcome is the same.
#[test]
fn the_shared_store_notes_a_hostile_field_correctly() {
    let shared = SharedHstsStore::new(HstsStore::with_config(config()));
    let url = Url::parse("https://big.example/").unwrap();
    let outcome = shared.note_at(&url, [hostile_header(160_000)], Transport::Secure, t0());
    assert_eq!(outcome, Outcome::Noted);
    assert!(shared.lookup_at("big.example", t0()).unwrap().is_some());
}

/// Defect 6: at a site's quota the least recently observed entry went,
/// usually the apex with includeSubDomains: after 64 visited subdomains of
/// example.edu, login.example.edu was no longer protected.
#[test]
fn the_apex_with_include_subdomains_outlives_the_quota() {
    let mut store = HstsStore::with_config(config());
    note(
        &mut store,
        "example.edu",
        "max-age=999999; includeSubDomains",
        t0(),
    );
    for i in 0..200 {
        let at = t0() + Duration::seconds(i + 1);
        note(
            &mut store,
            &format!("s{i}.example.edu"),
            "max-age=999999",
            at,
        );
    }
    let now = t0() + Duration::seconds(300);
    assert_eq!(store.len(), 64);
    assert!(store.is_known_at("login.example.edu", now).unwrap());
    // The newest subdomains are the ones kept beside the apex.
    assert!(store.is_known_at("s199.example.edu", now).unwrap());
    assert!(store.iter().any(|e| e.host == "example.edu"));
}

/// Defect 8: 200,000 fresh registrable domains evicted all 1,000 honest
/// entries (capacity 100,000). Entries used on several days now outlive
/// entries seen once.
#[test]
fn a_flood_of_one_shot_sites_does_not_flush_entries_used_on_several_days() {
    let mut store = HstsStore::with_config(config());
    let honest: Vec<String> = (0..1000).map(|i| format!("bank{i}.example")).collect();
    for h in &honest {
        note(&mut store, h, "max-age=31536000", t0());
    }
    // The user comes back on four more days: lookups (as before each
    // request) count as uses.
    for day in 1..=4 {
        let now = t0() + Duration::days(day);
        for h in &honest {
            assert!(store.is_known_at(h, now).unwrap());
        }
    }
    let flood_day = t0() + Duration::days(5);
    for i in 0..200_000 {
        let at = flood_day + Duration::milliseconds(i);
        note(
            &mut store,
            &format!("t{i}.flood{i}.test"),
            "max-age=31536000",
            at,
        );
    }
    let now = flood_day + Duration::hours(1);
    let kept = honest
        .iter()
        .filter(|h| store.is_known_at(h, now).unwrap())
        .count();
    println!("honest entries kept after a 200,000-site flood: {kept} of 1000");
    assert_eq!(kept, 1000);
    assert_eq!(store.len(), 100_000);
}

/// Defect 9: a URL the url crate accepts but the canonicaliser refuses (a
/// 64-octet label, `example.com..`) escaped an includeSubDomains entry.
#[test]
fn urls_with_hosts_the_canonicaliser_refuses_fail_closed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let store = store.to_str().unwrap();
    let o = hsts(
        &[
            "--store",
            store,
            "observe",
            "https://example.com/",
            "max-age=600; includeSubDomains",
        ],
        b"",
    );
    assert!(o.status.success(), "{o:?}");
    let long = "x".repeat(64);
    let urls =
        format!("http://{long}.example.com/a\nhttp://example.com../b\nhttp://other.test/c\n");
    let o = hsts(&["--store", store, "rewrite", "-"], urls.as_bytes());
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("https://{long}.example.com/a"));
    assert_eq!(lines[1], "https://example.com../b");
    assert_eq!(lines[2], "http://other.test/c");
}

/// Defect 9: `check` echoed a host with a tab in it, so `cut -f2` read a
/// forged `https`.
#[test]
fn echoed_hosts_cannot_forge_a_field() {
    let o = hsts(&["check", "evil\thttps"], b"");
    let out = String::from_utf8(o.stdout).unwrap();
    let fields: Vec<&str> = out.trim_end().split('\t').collect();
    assert_eq!(fields, ["evil\\thttps", "http"]);
    assert_eq!(o.status.code(), Some(1));
}

/// Defect 5: one line of invalid UTF-8 aborted the whole batch with no
/// output. Now that line gets its own error and the rest are answered.
#[test]
fn a_bad_line_among_good_ones_is_reported_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let store = store.to_str().unwrap();
    hsts(
        &[
            "--store",
            store,
            "observe",
            "https://b.example/",
            "max-age=600",
        ],
        b"",
    );
    let o = hsts(
        &["--store", store, "check", "-"],
        b"a.example\n\xff\xfe\tx\nb.example\n",
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "a.example\thttp",
            "\u{fffd}\u{fffd}\\tx\thttp",
            "b.example\thttps"
        ]
    );
    assert!(err.contains("stdin line 2: not UTF-8"), "{err}");
    assert_eq!(o.status.code(), Some(1));
}

/// A field of `/proc/PID/<file>`, in the unit it is given in.
fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
}

/// Defect 5: `check -` collected all of stdin (a 2 GB line took 4.2 GB of
/// memory). A 64 MiB line is now skipped without being buffered: the
/// child's peak resident memory, read from /proc once it has read every
/// byte, stays far below the line's size.
#[test]
fn a_64_mib_line_on_stdin_is_skipped_in_bounded_memory() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsts"))
        .args(["--no-preload", "check", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut input = child.stdin.take().unwrap();
    let mut sent = 0u64;
    let mut send = |b: &[u8]| {
        input.write_all(b).unwrap();
        sent += b.len() as u64;
    };
    send(b"a.example\n");
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..64 {
        send(&chunk);
    }
    send(b"\nb.example\n");
    // Wait (boundedly) until the child has read everything, stdin still open.
    let mut read = 0;
    for _ in 0..6000 {
        read = proc_field(pid, "io", "rchar:").unwrap_or(0);
        if read >= sent {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let peak_kib = proc_field(pid, "status", "VmHWM:").unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(read >= sent, "the child read {read} of {sent} bytes");
    assert!(peak_kib < 24 * 1024, "peak RSS {peak_kib} KiB");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], "a.example\thttp");
    assert!(lines[1].starts_with("xxxx") && lines[1].ends_with("\thttp"));
    assert_eq!(lines[2], "b.example\thttp");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stdin line 2: 67108864 bytes"), "{err}");
    assert_eq!(out.status.code(), Some(1));
}

/// Defect 7: `observe` of a 65th subdomain said "noted" and evicted in
/// silence. The eviction is now reported, with its reason, on stderr and
/// in the JSON.
#[test]
fn observe_reports_what_it_evicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let store = store.to_str().unwrap();
    for i in 0..2 {
        let url = format!("https://s{i}.quota.example/");
        let o = hsts(
            &[
                "--site-quota",
                "2",
                "--store",
                store,
                "observe",
                &url,
                "max-age=600",
            ],
            b"",
        );
        assert!(o.stderr.is_empty(), "{o:?}");
    }
    let o = hsts(
        &[
            "--site-quota",
            "2",
            "--store",
            store,
            "observe",
            "--json",
            "https://s2.quota.example/",
            "max-age=600",
        ],
        b"",
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "noted");
    assert_eq!(v["evicted"]["site_quota"], 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("evicted 1 (site quota 1"), "{err}");
    let o = hsts(&["--store", store, "forget", "--json", "--all"], b"");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"{"removed":2}"#
    );
}

/// Defect 5: `import /dev/zero` read until memory ran out before its 1 GiB
/// check. A device or FIFO is now refused before anything is read, and no
/// store or lock file is created.
#[test]
fn importing_a_device_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.bin");
    let o = hsts(
        &["--store", store.to_str().unwrap(), "import", "/dev/zero"],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
