//! End-to-end tests of the `hsts` binary against its documented contract,
//! driven by the conformance corpus (`tests/data/corpus/*.json`).
//!
//! Every invocation passes `--no-preload`, so only what the test itself
//! observes into the store file can make a host HSTS.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use hsts::host::{self, Host};
use hsts::{HstsStore, StoreConfig, Transport};
use serde_json::Value;
use url::Url;

const HEADER_PARSE: &str = include_str!("data/corpus/header_parse.json");
const REWRITE: &str = include_str!("data/corpus/rewrite.json");
const NOTING: &str = include_str!("data/corpus/noting.json");

/// 2026-01-01T00:00:00Z, the start of every timeline here.
const T0: i64 = 1_767_225_600;

fn t(at: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(T0 + at, 0).unwrap()
}

/// `--now` given as unix seconds.
fn unix(at: i64) -> String {
    (T0 + at).to_string()
}

/// `--now` given as RFC 3339.
fn rfc3339(at: i64) -> String {
    t(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs the binary with `--no-preload` and the given arguments, feeding `stdin`.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hsts"))
        .arg("--no-preload")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hsts binary starts");
    // A command that does not read stdin may exit before the write: ignore EPIPE.
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("the hsts binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed by a signal")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A printable summary of an invocation, for failure messages.
fn describe(args: &[&str], o: &Output) -> String {
    format!(
        "`hsts --no-preload {}` exited {:?}\nstdout: {}\nstderr: {}",
        args.join(" "),
        o.status.code(),
        stdout(o).trim_end(),
        stderr(o).trim_end()
    )
}

/// Parses stdout as exactly one line holding one JSON object.
fn one_json_line(o: &Output) -> Result<serde_json::Map<String, Value>, String> {
    let out = stdout(o);
    let Some(line) = out.strip_suffix('\n') else {
        return Err(format!("stdout does not end with a newline: {out:?}"));
    };
    if line.contains('\n') {
        return Err(format!("more than one line on stdout: {out:?}"));
    }
    match serde_json::from_str(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(v) => Err(format!("not a JSON object: {v}")),
        Err(e) => Err(format!("not JSON ({e}): {line:?}")),
    }
}

fn keys(m: &serde_json::Map<String, Value>) -> Vec<&str> {
    let mut k: Vec<&str> = m.keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn cases(json: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(json)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn id(case: &Value) -> &str {
    case["id"].as_str().unwrap()
}

fn fail_with(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------
// hsts parse --json

/// The expected max-age of a valid header case, saturated to `u64::MAX`.
fn expected_max_age(case: &Value) -> u64 {
    case["max_age"].as_u64().unwrap_or_else(|| {
        let dec = case["max_age_decimal"].as_str().unwrap();
        dec.parse::<u64>().unwrap_or(u64::MAX)
    })
}

fn check_parse_case(case: &Value) -> Result<(), String> {
    let header = case["header"].as_str().unwrap();
    let args = ["parse", "--json", header];
    let o = run(&args, "");
    let ctx = || describe(&args, &o);
    let m = one_json_line(&o).map_err(|e| format!("{e}\n{}", ctx()))?;
    let valid = case["valid"].as_bool().unwrap();
    let want_code = if valid { 0 } else { 1 };
    if code(&o) != want_code {
        return Err(format!("expected exit {want_code}\n{}", ctx()));
    }
    if valid {
        let want = serde_json::json!({
            "valid": true,
            // JSON output caps max-age at 2^53 - 1 (README, `parse`).
            "max_age": expected_max_age(case).min((1 << 53) - 1),
            "include_subdomains": case["include_subdomains"].as_bool().unwrap(),
            "preload": case["preload"].as_bool().unwrap(),
        });
        if Value::Object(m) != want {
            return Err(format!("expected {want}\n{}", ctx()));
        }
    } else {
        let ok = keys(&m) == ["error", "valid"]
            && m["valid"] == Value::Bool(false)
            && m["error"].as_str().is_some_and(|e| !e.is_empty());
        if !ok {
            return Err(format!(
                "expected {{\"valid\":false,\"error\":\"...\"}}\n{}",
                ctx()
            ));
        }
    }
    Ok(())
}

/// Every `wire: true` header case through `hsts parse --json`. Values with a
/// NUL byte cannot be passed as a command-line argument at all (execve);
/// they are counted and listed as skipped.
#[test]
fn parse_json_matches_header_corpus() {
    let all = cases(HEADER_PARSE);
    let mut failures = Vec::new();
    let (mut run_n, mut not_wire, mut nul) = (0, Vec::new(), Vec::new());
    for case in &all {
        let header = case["header"].as_str().unwrap();
        if case["wire"].as_bool() != Some(true) {
            not_wire.push(id(case));
            continue;
        }
        if header.contains('\0') {
            nul.push(id(case));
            continue;
        }
        run_n += 1;
        if let Err(e) = check_parse_case(case) {
            failures.push(format!("{}: {e}", id(case)));
        }
    }
    println!(
        "cli parse: {} cases, run {run_n}, passed {}, skipped {} not on the wire ({}) and {} with NUL ({})",
        all.len(),
        run_n - failures.len(),
        not_wire.len(),
        not_wire.join(", "),
        nul.len(),
        nul.join(", ")
    );
    assert_eq!(run_n + not_wire.len() + nul.len(), all.len());
    assert!(run_n >= 125, "most header cases run through the CLI");
    fail_with("hsts parse --json", &failures);
}

#[test]
fn parse_plain_output() {
    // README: "valid: <canonical header>" or "invalid: <error>".
    let args = ["parse", " MAX-AGE = \"10\" ; includesubdomains;;"];
    let o = run(&args, "");
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "valid: max-age=10; includeSubDomains\n"),
        "{}",
        describe(&args, &o)
    );
    let args = ["parse", "max-age=10; max-age=20"];
    let o = run(&args, "");
    assert_eq!(code(&o), 1, "{}", describe(&args, &o));
    let out = stdout(&o);
    assert!(
        out.starts_with("invalid: ") && out.len() > "invalid: \n".len() && out.lines().count() == 1,
        "{}",
        describe(&args, &o)
    );
}

// ---------------------------------------------------------------------------
// observe + check: the noting corpus

/// Common arguments for a store-backed invocation.
fn store_args<'a>(store: &'a str, now: &'a str, pin_localhost: bool) -> Vec<&'a str> {
    let mut v = vec!["--store", store, "--now", now];
    if pin_localhost {
        v.push("--pin-localhost");
    }
    v
}

/// `hsts observe --json` for one response; compares the outcome with what
/// the library does to a store fed the same events.
fn cli_observe(
    store: &str,
    at: i64,
    pin: bool,
    url: &str,
    headers: &[&str],
    cert_errors: bool,
    model: &mut HstsStore,
) -> Result<(), String> {
    let now = unix(at);
    let mut args = store_args(store, &now, pin);
    args.extend(["observe", "--json"]);
    if cert_errors {
        args.push("--cert-errors");
    }
    args.push(url);
    args.extend(headers);
    let o = run(&args, "");
    let ctx = || describe(&args, &o);
    if code(&o) != 0 {
        return Err(format!("observe failed\n{}", ctx()));
    }
    let m = one_json_line(&o).map_err(|e| format!("{e}\n{}", ctx()))?;
    let parsed = Url::parse(url).unwrap();
    let secure = matches!(parsed.scheme(), "https" | "wss");
    let want = model.note_at(
        &parsed,
        headers,
        Transport::from_flags(secure, cert_errors),
        t(at),
    );
    // "code" (a snake_case reason code, null unless ignored) joined the keys
    // with browsing contexts, and "partition" (null unless partitioned)
    // with partitioning; the others are as they were.
    if keys(&m) != ["code", "evicted", "host", "outcome", "partition", "reason"] {
        return Err(format!("observe --json keys\n{}", ctx()));
    }
    if m["partition"] != Value::Null {
        return Err(format!(
            "observe --json partition without --partition\n{}",
            ctx()
        ));
    }
    let want_code = match &want {
        hsts::Outcome::Ignored(r) => Value::from(r.code()),
        _ => Value::Null,
    };
    if m["code"] != want_code {
        return Err(format!("expected code {want_code}\n{}", ctx()));
    }
    // A single observation into a store far from its limits evicts nothing.
    if m["evicted"] != serde_json::json!({"site_quota": 0, "capacity": 0}) {
        return Err(format!("expected nothing evicted\n{}", ctx()));
    }
    if m["outcome"].as_str() != Some(want.as_str()) {
        return Err(format!("expected outcome {:?}\n{}", want.as_str(), ctx()));
    }
    let ignored = want.as_str() == "ignored";
    if m["reason"].is_string() != ignored || (!ignored && !m["reason"].is_null()) {
        return Err(format!("reason must be a string iff ignored\n{}", ctx()));
    }
    if let Some(Ok(Host::Domain(d))) = parsed.host().map(host::from_url_host) {
        if m["host"].as_str() != Some(d.as_str()) {
            return Err(format!("expected host {:?}\n{}", d.as_str(), ctx()));
        }
    }
    Ok(())
}

/// `hsts check --json HOST` at `at`; returns the "hsts" answer after
/// checking the object's shape.
fn cli_check(store: &str, at: i64, pin: bool, host_given: &str) -> Result<bool, String> {
    let now = rfc3339(at);
    let mut args = store_args(store, &now, pin);
    args.extend(["check", "--json", host_given]);
    let o = run(&args, "");
    let ctx = || describe(&args, &o);
    let m = one_json_line(&o).map_err(|e| format!("{e}\n{}", ctx()))?;
    if m["host"].as_str() != Some(host_given) {
        return Err(format!("\"host\" must be the host as given\n{}", ctx()));
    }
    if m.contains_key("error") {
        // An invalid host: {"host","hsts":false,"error"} and exit 1.
        if keys(&m) != ["error", "host", "hsts"] || m["hsts"] != Value::Bool(false) {
            return Err(format!("invalid-host object shape\n{}", ctx()));
        }
        if code(&o) != 1 {
            return Err(format!("an invalid host exits 1\n{}", ctx()));
        }
        return Ok(false);
    }
    if code(&o) != 0 {
        return Err(format!("check of a valid host exits 0\n{}", ctx()));
    }
    let want_keys = [
        "canonical",
        "expires",
        "host",
        "hsts",
        "include_subdomains",
        "matched",
        "partition",
        "source",
    ];
    if keys(&m) != want_keys {
        return Err(format!("check --json keys\n{}", ctx()));
    }
    if let Ok(Host::Domain(d)) = host::canonicalize(host_given) {
        if m["canonical"].as_str() != Some(d.as_str()) {
            return Err(format!("expected canonical {:?}\n{}", d.as_str(), ctx()));
        }
    }
    match m["hsts"].as_bool() {
        Some(true) => {
            let ok = m["source"] == "dynamic"
                && m["matched"].is_string()
                && m["include_subdomains"].is_boolean()
                && m["expires"]
                    .as_str()
                    .is_some_and(|e| DateTime::parse_from_rfc3339(e).is_ok());
            if !ok {
                return Err(format!(
                    "a dynamic match needs source/matched/include_subdomains/expires\n{}",
                    ctx()
                ));
            }
            Ok(true)
        }
        Some(false) => {
            let ok = ["source", "matched", "include_subdomains", "expires"]
                .iter()
                .all(|k| m[*k].is_null());
            if !ok {
                return Err(format!(
                    "no match: source/matched/include_subdomains/expires are null\n{}",
                    ctx()
                ));
            }
            Ok(false)
        }
        None => Err(format!("\"hsts\" is not a boolean\n{}", ctx())),
    }
}

fn check_noting_case(case: &Value, store: &str) -> Result<(), String> {
    let pin = case["involves_localhost"].as_bool() == Some(true);
    let mut model = HstsStore::with_config(StoreConfig {
        exempt_localhost: !pin,
        ..StoreConfig::default()
    });
    // Events before queries at equal times; file order otherwise.
    let mut steps: Vec<(i64, u8, &Value)> = Vec::new();
    for e in case["events"].as_array().unwrap() {
        steps.push((e["at"].as_i64().unwrap(), 0, e));
    }
    for q in case["queries"].as_array().unwrap() {
        steps.push((q["at"].as_i64().unwrap(), 1, q));
    }
    steps.sort_by_key(|(at, kind, _)| (*at, *kind));
    let mut problems = Vec::new();
    for (at, kind, step) in steps {
        if kind == 0 {
            let headers: Vec<&str> = step["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap())
                .collect();
            let cert = step["cert_errors"].as_bool().unwrap();
            let url = step["url"].as_str().unwrap();
            cli_observe(store, at, pin, url, &headers, cert, &mut model)?;
        } else {
            let host_given = step["host"].as_str().unwrap();
            let want = step["expect_https"].as_bool().unwrap();
            let strict = step["strict"].as_bool().unwrap_or(true);
            let got = cli_check(store, at, pin, host_given)?;
            if strict && got != want {
                problems.push(format!(
                    "check {host_given:?} at t={at}: expected hsts={want}, got {got}"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The CLI derives the transport from the URL's scheme, so a case whose
/// `secure` flag disagrees with its URL cannot be expressed.
fn expressible(case: &Value) -> bool {
    case["events"].as_array().unwrap().iter().all(|e| {
        let scheme = Url::parse(e["url"].as_str().unwrap()).unwrap();
        matches!(scheme.scheme(), "https" | "wss") == e["secure"].as_bool().unwrap()
    })
}

#[test]
fn observe_and_check_match_noting_corpus() {
    let all = cases(NOTING);
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for case in &all {
        if !expressible(case) {
            skipped.push(id(case));
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.json");
        if let Err(e) = check_noting_case(case, store.to_str().unwrap()) {
            failures.push(format!("{}: {e}", id(case)));
        }
    }
    let run_n = all.len() - skipped.len();
    println!(
        "cli noting: {} cases, run {run_n}, passed {}, skipped {} ({})",
        all.len(),
        run_n - failures.len(),
        skipped.len(),
        skipped.join(", ")
    );
    assert!(skipped.is_empty(), "every noting case is expressible");
    fail_with("observe + check", &failures);
}

/// Without `--pin-localhost` the exemption is on: localhost is not noted.
#[test]
fn localhost_exempt_without_pin() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.json");
    let store = store.to_str().unwrap();
    let args = [
        "--store",
        store,
        "--now",
        "1767225600",
        "observe",
        "https://localhost/",
        "max-age=1000",
    ];
    let o = run(&args, "");
    assert_eq!(code(&o), 0, "{}", describe(&args, &o));
    assert!(
        stdout(&o).starts_with("ignored: "),
        "{}",
        describe(&args, &o)
    );
    let args = [
        "--store",
        store,
        "--now",
        "1767225601",
        "check",
        "localhost",
    ];
    let o = run(&args, "");
    assert_eq!(stdout(&o), "localhost\thttp\n", "{}", describe(&args, &o));
    let args = [
        "--store",
        store,
        "--now",
        "1767225601",
        "--pin-localhost",
        "check",
        "localhost",
    ];
    let o = run(&args, "");
    assert_eq!(stdout(&o), "localhost\thttp\n", "{}", describe(&args, &o));
}

// ---------------------------------------------------------------------------
// observe + rewrite: the rewrite corpus

/// Fills a store file with a rewrite case's entries through `observe`:
/// live entries are observed an hour before T0 with a one-day max-age,
/// expired ones a day before T0 with a ten-second max-age.
fn seed_store(case: &Value, store: &str) -> Result<(), String> {
    for e in case["store"].as_array().unwrap() {
        let h = e["host"].as_str().unwrap();
        let isd = e["include_subdomains"].as_bool().unwrap();
        let expired = e["expired"].as_bool().unwrap_or(false);
        let (at, max_age) = if expired {
            (-86_400, 10)
        } else {
            (-3_600, 86_400)
        };
        let authority = if h.contains(':') {
            format!("[{h}]")
        } else {
            h.to_owned()
        };
        let url = format!("https://{authority}/");
        let value = if isd {
            format!("max-age={max_age}; includeSubDomains")
        } else {
            format!("max-age={max_age}")
        };
        let now = unix(at);
        let args = ["--store", store, "--now", &now, "observe", &url, &value];
        let o = run(&args, "");
        if code(&o) != 0 {
            return Err(format!("seeding failed\n{}", describe(&args, &o)));
        }
        let out = stdout(&o);
        let want_noted = Url::parse(&url)
            .ok()
            .and_then(|u| u.host().map(host::from_url_host))
            .is_some_and(|h| matches!(h, Ok(Host::Domain(_))));
        if want_noted != (out == "noted\n" || out == "updated\n") {
            return Err(format!("unexpected outcome\n{}", describe(&args, &o)));
        }
    }
    Ok(())
}

fn check_rewrite_case(case: &Value, store: &str) -> Result<(), String> {
    seed_store(case, store)?;
    let input = case["url"].as_str().unwrap();
    let want = match case["expect"].as_str() {
        Some(e) => e.to_owned(),
        None => Url::parse(input).unwrap().as_str().to_owned(),
    };
    let now = unix(0);
    let args = ["--store", store, "--now", &now, "rewrite", input];
    let o = run(&args, "");
    if code(&o) != 0 || stdout(&o) != format!("{want}\n") {
        return Err(format!(
            "expected exit 0 and {want:?}\n{}",
            describe(&args, &o)
        ));
    }
    Ok(())
}

#[test]
fn observe_and_rewrite_match_rewrite_corpus() {
    let all = cases(REWRITE);
    let mut failures = Vec::new();
    for case in &all {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.json");
        if let Err(e) = check_rewrite_case(case, store.to_str().unwrap()) {
            failures.push(format!("{}: {e}", id(case)));
        }
    }
    println!(
        "cli rewrite: {} cases, run {}, passed {}",
        all.len(),
        all.len(),
        all.len() - failures.len()
    );
    fail_with("observe + rewrite", &failures);
}

// ---------------------------------------------------------------------------
// plain output, stdin, --count, errors

/// A store file with `example.com` (includeSubDomains) and `plain.example`
/// noted at T0 for a day.
fn seeded() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.json").to_str().unwrap().to_owned();
    for (url, value, want) in [
        (
            "https://example.com/",
            "max-age=86400; includeSubDomains",
            "noted\n",
        ),
        ("https://plain.example/", "max-age=86400", "noted\n"),
        ("https://plain.example/", "max-age=86400", "updated\n"),
    ] {
        let args = [
            "--store",
            &store,
            "--now",
            "1767225600",
            "observe",
            url,
            value,
        ];
        let o = run(&args, "");
        assert_eq!(
            (code(&o), stdout(&o).as_str()),
            (0, want),
            "{}",
            describe(&args, &o)
        );
    }
    (dir, store)
}

#[test]
fn observe_plain_outcomes() {
    let (_dir, store) = seeded();
    let now = "2026-01-01T00:00:10Z";
    let cases: [(&[&str], &str); 4] = [
        (&["https://plain.example/", "max-age=0"], "removed\n"),
        (&["https://plain.example/", "max-age=0"], "ignored: "),
        (&["http://new.example/", "max-age=100"], "ignored: "),
        (&["https://new.example/", "max-age=x"], "ignored: "),
    ];
    for (rest, want) in cases {
        let mut args = vec!["--store", store.as_str(), "--now", now, "observe"];
        args.extend(rest);
        let o = run(&args, "");
        assert_eq!(code(&o), 0, "{}", describe(&args, &o));
        let out = stdout(&o);
        assert!(
            out.starts_with(want) && out.ends_with('\n') && out.lines().count() == 1,
            "expected {want:?}\n{}",
            describe(&args, &o)
        );
    }
    let args = [
        "--store",
        &store,
        "--now",
        now,
        "observe",
        "--cert-errors",
        "https://new.example/",
        "max-age=100",
    ];
    let o = run(&args, "");
    assert!(
        stdout(&o).starts_with("ignored: "),
        "{}",
        describe(&args, &o)
    );
    let args = ["--store", &store, "--now", now, "check", "new.example"];
    let o = run(&args, "");
    assert_eq!(stdout(&o), "new.example\thttp\n", "{}", describe(&args, &o));
}

#[test]
fn check_plain_output() {
    let (_dir, store) = seeded();
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "WWW.Example.COM.",
        "plain.example",
        "sub.plain.example",
        "127.0.0.1",
    ];
    let o = run(&args, "");
    assert_eq!(code(&o), 0, "{}", describe(&args, &o));
    assert_eq!(
        stdout(&o),
        "WWW.Example.COM.\thttps\nplain.example\thttps\nsub.plain.example\thttp\n127.0.0.1\thttp\n",
        "{}",
        describe(&args, &o)
    );
}

#[test]
fn check_after_expiry() {
    let (_dir, store) = seeded();
    // Known at exactly T0 + max-age, expired one second later.
    for (now, want) in [("1767312000", "https"), ("1767312001", "http")] {
        let args = ["--store", &store, "--now", now, "check", "example.com"];
        let o = run(&args, "");
        assert_eq!(
            stdout(&o),
            format!("example.com\t{want}\n"),
            "{}",
            describe(&args, &o)
        );
    }
}

#[test]
fn check_json_match_fields() {
    let (_dir, store) = seeded();
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "--json",
        "a.Example.com",
    ];
    let o = run(&args, "");
    assert_eq!(code(&o), 0, "{}", describe(&args, &o));
    let m = one_json_line(&o).unwrap();
    let want = serde_json::json!({
        "host": "a.Example.com",
        "canonical": "a.example.com",
        "hsts": true,
        "source": "dynamic",
        "matched": "example.com",
        "include_subdomains": true,
    });
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&m[k], v, "{k}\n{}", describe(&args, &o));
    }
    let expires = DateTime::parse_from_rfc3339(m["expires"].as_str().unwrap()).unwrap();
    assert_eq!(expires, t(86_400), "{}", describe(&args, &o));
}

#[test]
fn check_invalid_host() {
    let (_dir, store) = seeded();
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "--json",
        "example.com",
        "a..b",
    ];
    let o = run(&args, "");
    assert_eq!(code(&o), 1, "{}", describe(&args, &o));
    let out = stdout(&o);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", describe(&args, &o));
    assert_eq!(lines[0]["hsts"], true);
    let bad = lines[1].as_object().unwrap();
    assert_eq!(
        keys(bad),
        ["error", "host", "hsts"],
        "{}",
        describe(&args, &o)
    );
    assert_eq!(bad["host"], "a..b");
    assert_eq!(bad["hsts"], false);
    assert!(bad["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[test]
fn check_count() {
    let (_dir, store) = seeded();
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "--count",
        "example.com",
        "x.example.com",
        "x.plain.example",
        "other.test",
        "10.0.0.1",
        "plain.example",
    ];
    let o = run(&args, "");
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "3\n"),
        "{}",
        describe(&args, &o)
    );
    // An invalid host: still only the number on stdout, and exit 1.
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "--count",
        "example.com",
        "-",
    ];
    let o = run(&args, "a..b\nsub.example.com\n");
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (1, "2\n"),
        "{}",
        describe(&args, &o)
    );
    // Nothing known.
    let args = ["check", "--count", "example.com"];
    let o = run(&args, "");
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "0\n"),
        "{}",
        describe(&args, &o)
    );
}

#[test]
fn check_reads_stdin() {
    let (_dir, store) = seeded();
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "first.test",
        "-",
        "last.example.com",
    ];
    let o = run(&args, "example.com\nother.test\nsub.plain.example\n");
    assert_eq!(code(&o), 0, "{}", describe(&args, &o));
    assert_eq!(
        stdout(&o),
        "first.test\thttp\nexample.com\thttps\nother.test\thttp\nsub.plain.example\thttp\nlast.example.com\thttps\n",
        "{}",
        describe(&args, &o)
    );
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "check",
        "--json",
        "-",
    ];
    let o = run(&args, "plain.example\nnope.test\n");
    let hsts: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["hsts"].clone())
        .collect();
    assert_eq!(
        hsts,
        [Value::Bool(true), Value::Bool(false)],
        "{}",
        describe(&args, &o)
    );
}

#[test]
fn rewrite_stdin_and_bad_url() {
    let (_dir, store) = seeded();
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "rewrite",
        "http://plain.example:80/a?b#c",
        "-",
    ];
    let o = run(
        &args,
        "http://x.example.com:8080/\nhttp://[bad/\nhttps://other.test\nws://example.com/chat\n",
    );
    assert_eq!(code(&o), 1, "{}", describe(&args, &o));
    assert_eq!(
        stdout(&o),
        "https://plain.example/a?b#c\nhttps://x.example.com:8080/\nhttp://[bad/\nhttps://other.test/\nwss://example.com/chat\n",
        "{}",
        describe(&args, &o)
    );
    assert!(stderr(&o).contains("[bad"), "{}", describe(&args, &o));
    // Only good URLs: exit 0.
    let args = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "rewrite",
        "http://a.example.com/",
    ];
    let o = run(&args, "");
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "https://a.example.com/\n"),
        "{}",
        describe(&args, &o)
    );
}

/// What `rewrite` writes for each form of URL (http, ws, :80, :443,
/// :8080, userinfo, query, fragment, IDN, IP, other schemes, a bad URL and
/// a blank line), as a navigation and as a subresource: the output of
/// `rewrite` before it wrote URLs without building a second `Url`.
#[test]
fn rewrite_output_for_every_form_of_url() {
    let (_dir, store) = seeded();
    let cases = [
        ("http://example.com/", "https://example.com/"),
        ("ws://a.example.com/chat", "wss://a.example.com/chat"),
        ("http://example.com:80/x", "https://example.com/x"),
        ("ws://example.com:80/x", "wss://example.com/x"),
        ("http://example.com:443/x", "https://example.com/x"),
        ("ws://example.com:443/x", "wss://example.com/x"),
        ("http://example.com:8080/x", "https://example.com:8080/x"),
        ("ws://example.com:8080/x", "wss://example.com:8080/x"),
        (
            "http://user:pw@example.com:443/p?q=1#frag",
            "https://user:pw@example.com/p?q=1#frag",
        ),
        (
            "http://user@plain.example/a?b",
            "https://user@plain.example/a?b",
        ),
        ("http://plain.example/#f", "https://plain.example/#f"),
        ("http://a.plain.example/", "http://a.plain.example/"),
        ("http://EXAMPLE.com./", "https://example.com./"),
        (
            "http://bücher.example.com/ü?ü#ü",
            "https://xn--bcher-kva.example.com/%C3%BC?%C3%BC#%C3%BC",
        ),
        ("http://[::1]:80/", "http://[::1]/"),
        ("https://example.com:443/", "https://example.com/"),
        ("ftp://example.com/", "ftp://example.com/"),
        ("http://other.test:80/", "http://other.test/"),
        ("", ""),
        ("not a url", "not a url"),
    ];
    let input: String = cases.iter().map(|(i, _)| format!("{i}\n")).collect();
    let want: String = cases.iter().map(|(_, o)| format!("{o}\n")).collect();
    let nav = ["--store", &store, "--now", "1767225700", "rewrite", "-"];
    let sub = [
        "--store",
        &store,
        "--now",
        "1767225700",
        "rewrite",
        "--top-level",
        "https://shop.example/",
        "--subresource",
        "-",
    ];
    for args in [&nav[..], &sub[..]] {
        let o = run(args, &input);
        assert_eq!(code(&o), 1, "{}", describe(args, &o));
        assert_eq!(stdout(&o), want, "{}", describe(args, &o));
        assert!(stderr(&o).contains("not a url"), "{}", describe(args, &o));
    }
}

/// A store file that does not exist yet is an empty store for queries.
#[test]
fn missing_store_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("never-written.json");
    let store = store.to_str().unwrap();
    let args = ["--store", store, "check", "example.com"];
    let o = run(&args, "");
    assert_eq!(
        (code(&o), stdout(&o).as_str()),
        (0, "example.com\thttp\n"),
        "{}",
        describe(&args, &o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.json");
    let store = store.to_str().unwrap();
    let bad: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["--frobnicate", "check", "example.com"],
        &["parse"],
        &["parse", "--bogus", "max-age=1"],
        &["check"],
        &["check", "--json", "--count", "example.com"],
        &["rewrite"],
        &["--now", "yesterday", "check", "example.com"],
        &["--now", "2026-13-45T00:00:00Z", "check", "example.com"],
        &["observe", "https://example.com/", "max-age=1"],
        &["--store", store, "observe"],
    ];
    for args in bad {
        let o = run(args, "");
        assert_eq!(code(&o), 2, "{}", describe(args, &o));
        assert!(!stderr(&o).trim().is_empty(), "{}", describe(args, &o));
        assert!(stdout(&o).is_empty(), "{}", describe(args, &o));
    }
    assert!(
        !Path::new(store).exists(),
        "a usage error never creates the store"
    );
}

/// Runs a store-reading and a store-writing command against `path` and
/// checks both fail and leave the file's bytes as they were.
fn assert_store_refused(path: &Path, what: &str) {
    let before = std::fs::read(path).ok();
    let p = path.to_str().unwrap();
    let commands: [&[&str]; 3] = [
        &["--store", p, "check", "example.com"],
        &["--store", p, "rewrite", "http://example.com/"],
        &[
            "--store",
            p,
            "observe",
            "https://example.com/",
            "max-age=100",
        ],
    ];
    for args in commands {
        let o = run(args, "");
        // README: a store file that cannot be read is an error (exit 1).
        assert_eq!(code(&o), 1, "{what}: {}", describe(args, &o));
        assert!(
            !stderr(&o).trim().is_empty(),
            "{what}: {}",
            describe(args, &o)
        );
        assert_eq!(
            std::fs::read(path).ok(),
            before,
            "{what}: the store file changed: {}",
            describe(args, &o)
        );
    }
}

#[test]
fn corrupt_store_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    assert_store_refused(&write("garbage", b"this is not a store\n"), "garbage");
    assert_store_refused(&write("binary", b"\xff\xfe\x00\x01{["), "binary");
    assert_store_refused(&write("wrong-json", b"[1, 2, 3]\n"), "wrong JSON");

    // A real store file, cut in half.
    let (_seed_dir, seeded_store) = seeded();
    let full = std::fs::read(&seeded_store).unwrap();
    assert!(full.len() > 2, "the seeded store file has content");
    assert_store_refused(&write("truncated", &full[..full.len() / 2]), "truncated");

    // A directory where the file should be cannot be read.
    let sub = dir.path().join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    assert_store_refused(&sub, "directory");
    assert!(sub.is_dir());
}
