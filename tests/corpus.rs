//! Runs every case of the HSTS conformance corpus (`tests/data/corpus/*.json`)
//! through the library.
//!
//! The corpus states the RFC 6797 answer for each case. The rules applied here:
//! * `rfc_ambiguous` cases are run like the others (the product takes the
//!   stricter reading the corpus expects); they are also listed by id so a
//!   reader sees which answers depend on that reading. A case can only be
//!   excused through [`EXPECTED_FAILURES`], and an excused case that passes is
//!   itself reported, so the list cannot go stale.
//! * `involves_localhost` cases run with the localhost exemption switched off.
//! * a `strict: false` query accepts either answer.
//!
//! Every file's test fails with the complete list of failing case ids, and
//! asserts that the number of cases run plus skipped equals the number of
//! cases in the file, so no case can silently disappear.

use std::net::IpAddr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hsts::{Entry, HstsStore, StoreConfig, StsHeader, Transport, Upgrade};
use serde_json::Value;
use url::Url;

const HEADER_PARSE: &str = include_str!("data/corpus/header_parse.json");
const HOST_MATCH: &str = include_str!("data/corpus/host_match.json");
const REWRITE: &str = include_str!("data/corpus/rewrite.json");
const NOTING: &str = include_str!("data/corpus/noting.json");

/// Case ids known to fail, with the reason. Empty: every case must pass.
const EXPECTED_FAILURES: &[(&str, &str)] = &[];

/// The number of cases in each file (from the corpus README), so that a
/// truncated or mis-copied file is noticed too.
const HEADER_PARSE_CASES: usize = 135;
const HOST_MATCH_CASES: usize = 56;
const REWRITE_CASES: usize = 21;
const NOTING_CASES: usize = 24;

/// The fixed "now" for the store-based files.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// Per-file bookkeeping.
struct Tally {
    file: &'static str,
    cases: usize,
    run: usize,
    passed: usize,
    skipped: Vec<String>,
    ambiguous: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn new(file: &'static str, cases: usize) -> Self {
        Tally {
            file,
            cases,
            run: 0,
            passed: 0,
            skipped: Vec::new(),
            ambiguous: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Records the result of one case: `Ok(())` or the list of problems.
    fn record(&mut self, case: &Value, result: Result<(), String>) {
        let id = id(case).to_owned();
        if case["rfc_ambiguous"].as_bool() == Some(true) {
            self.ambiguous.push(id.clone());
        }
        self.run += 1;
        let excused = EXPECTED_FAILURES.iter().find(|(x, _)| *x == id);
        match (result, excused) {
            (Ok(()), None) => self.passed += 1,
            (Ok(()), Some(_)) => {
                self.passed += 1;
                self.failures.push(format!(
                    "{id}: listed in EXPECTED_FAILURES but passes; remove it from the list"
                ));
            }
            (Err(e), None) => self.failures.push(format!("{id}: {e}")),
            (Err(e), Some((_, why))) => {
                self.skipped
                    .push(format!("{id} (expected failure: {why}; got: {e})"));
                self.run -= 1;
            }
        }
    }

    fn finish(self) {
        println!(
            "{}: {} cases, run {}, passed {}, skipped {}",
            self.file,
            self.cases,
            self.run,
            self.passed,
            self.skipped.len()
        );
        if !self.ambiguous.is_empty() {
            println!(
                "{}: rfc_ambiguous cases run with the stricter reading: {}",
                self.file,
                self.ambiguous.join(", ")
            );
        }
        for s in &self.skipped {
            println!("{}: expected failure: {s}", self.file);
        }
        assert!(
            self.failures.is_empty(),
            "{}: {} failing case(s):\n{}",
            self.file,
            self.failures.len(),
            self.failures.join("\n")
        );
        assert_eq!(
            self.run + self.skipped.len(),
            self.cases,
            "{}: not every case was accounted for",
            self.file
        );
        assert_eq!(self.passed, self.run, "{}: pass count", self.file);
    }
}

fn load(json: &str, expected_len: usize, file: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{file}: {e}"));
    let cases = v
        .as_array()
        .unwrap_or_else(|| panic!("{file}: not an array"))
        .clone();
    assert_eq!(cases.len(), expected_len, "{file}: number of cases");
    cases
}

fn id(case: &Value) -> &str {
    case["id"].as_str().expect("every case has an id")
}

fn field_bool(v: &Value, key: &str) -> Result<bool, String> {
    v[key]
        .as_bool()
        .ok_or_else(|| format!("corpus: `{key}` is not a boolean in {v}"))
}

fn field_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v[key]
        .as_str()
        .ok_or_else(|| format!("corpus: `{key}` is not a string in {v}"))
}

fn field_i64(v: &Value, key: &str) -> Result<i64, String> {
    v[key]
        .as_i64()
        .ok_or_else(|| format!("corpus: `{key}` is not an integer in {v}"))
}

/// The store configuration a case runs with.
fn config_for(case: &Value) -> StoreConfig {
    StoreConfig {
        exempt_localhost: case["involves_localhost"].as_bool() != Some(true),
        ..StoreConfig::default()
    }
}

// ---------------------------------------------------------------------------
// header_parse.json

/// The max-age a valid case expects: the exact value, or, when the corpus
/// gives only `max_age_decimal`, that value saturated to `u64::MAX`.
fn expected_max_age(case: &Value) -> Result<u64, String> {
    if let Some(n) = case["max_age"].as_u64() {
        return Ok(n);
    }
    let dec = field_str(case, "max_age_decimal")?;
    if dec.is_empty() || !dec.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("corpus: max_age_decimal {dec:?} is not digits"));
    }
    Ok(dec.parse::<u64>().unwrap_or(u64::MAX))
}

fn check_header(case: &Value) -> Result<(), String> {
    let header = field_str(case, "header")?;
    let valid = field_bool(case, "valid")?;
    let got = StsHeader::parse_bytes(header.as_bytes());
    match (valid, got) {
        (false, Ok(h)) => Err(format!("{header:?}: expected invalid, parsed as {h:?}")),
        (false, Err(_)) => Ok(()),
        (true, Err(e)) => Err(format!("{header:?}: expected valid, got error: {e}")),
        (true, Ok(h)) => {
            let want = (
                expected_max_age(case)?,
                field_bool(case, "include_subdomains")?,
                field_bool(case, "preload")?,
            );
            let got = (h.max_age, h.include_subdomains, h.preload);
            if got != want {
                return Err(format!(
                    "{header:?}: (max_age, include_subdomains, preload) expected {want:?}, got {got:?}"
                ));
            }
            // The canonical form must parse back to the same value.
            let printed = h.to_string();
            match StsHeader::parse(&printed) {
                Ok(back) if back == h => Ok(()),
                other => Err(format!(
                    "{header:?}: Display gave {printed:?}, which parses to {other:?}"
                )),
            }
        }
    }
}

#[test]
fn header_parse_corpus() {
    let cases = load(HEADER_PARSE, HEADER_PARSE_CASES, "header_parse.json");
    let mut tally = Tally::new("header_parse.json", cases.len());
    for case in &cases {
        tally.record(case, check_header(case));
    }
    tally.finish();
}

// ---------------------------------------------------------------------------
// host_match.json and rewrite.json: a store, then a query

/// Hosts that can never be noted (corpus README): an empty name, `.`, and IP
/// literals. Decided from the corpus text, not by asking the library.
fn never_notable(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.is_empty() || host == "." || bare.parse::<IpAddr>().is_ok()
}

/// Builds the store of a host_match or rewrite case. Live entries were
/// observed a day ago and last a year; `expired: true` entries expired a
/// second ago. Entries that can never be noted must be refused.
fn build_store(case: &Value, now: DateTime<Utc>) -> Result<HstsStore, String> {
    let mut store = HstsStore::with_config(config_for(case));
    let entries = case["store"]
        .as_array()
        .ok_or("corpus: `store` is not an array")?;
    for e in entries {
        let host = field_str(e, "host")?;
        let expired = e["expired"].as_bool().unwrap_or(false);
        let entry = Entry {
            host: host.to_owned(),
            include_subdomains: field_bool(e, "include_subdomains")?,
            observed: now - Duration::days(if expired { 400 } else { 1 }),
            expires: if expired {
                now - Duration::seconds(1)
            } else {
                now + Duration::days(365)
            },
        };
        match (store.insert_entry(entry), never_notable(host)) {
            (Ok(_), true) => {
                return Err(format!(
                    "store entry {host:?} can never be noted but insert_entry accepted it"
                ))
            }
            (Err(e), false) => return Err(format!("insert_entry({host:?}) refused: {e}")),
            _ => {}
        }
    }
    Ok(store)
}

fn check_host_match(case: &Value) -> Result<(), String> {
    let now = now();
    let store = build_store(case, now)?;
    let query = field_str(case, "query")?;
    let want = field_bool(case, "expect_https")?;
    // A query that is not a valid host is "not HSTS".
    let got = match store.lookup_at(query, now) {
        Ok(m) => m.is_some(),
        Err(_) => false,
    };
    if got != want {
        return Err(format!(
            "query {query:?}: expected expect_https={want}, got {got} ({:?})",
            store.lookup_at(query, now)
        ));
    }
    Ok(())
}

#[test]
fn host_match_corpus() {
    let cases = load(HOST_MATCH, HOST_MATCH_CASES, "host_match.json");
    let mut tally = Tally::new("host_match.json", cases.len());
    for case in &cases {
        tally.record(case, check_host_match(case));
    }
    tally.finish();
}

/// The product decision: with the default configuration `localhost` and
/// `*.localhost` are never HSTS hosts, even when the store holds them.
#[test]
fn host_match_localhost_exempt_by_default() {
    let cases = load(HOST_MATCH, HOST_MATCH_CASES, "host_match.json");
    let now = now();
    let mut checked = 0;
    for case in cases
        .iter()
        .filter(|c| c["involves_localhost"].as_bool() == Some(true))
    {
        let mut store = HstsStore::new();
        for e in case["store"].as_array().unwrap() {
            let entry = Entry {
                host: e["host"].as_str().unwrap().to_owned(),
                include_subdomains: e["include_subdomains"].as_bool().unwrap(),
                observed: now,
                expires: now + Duration::days(1),
            };
            store.insert_entry(entry).unwrap();
        }
        let query = case["query"].as_str().unwrap();
        assert_eq!(store.lookup_at(query, now), Ok(None), "{}", id(case));
        checked += 1;
    }
    assert!(checked >= 3, "the corpus has localhost cases");
}

fn check_rewrite(case: &Value) -> Result<(), String> {
    let now = now();
    let store = build_store(case, now)?;
    let input = field_str(case, "url")?;
    let url = Url::parse(input).map_err(|e| format!("url {input:?} does not parse: {e}"))?;
    let want = case["expect"].as_str();
    let got = store.upgrade_at(&url, now);
    match (&got, want) {
        (Upgrade::Unchanged, None) => Ok(()),
        (Upgrade::Upgraded(u), Some(w)) if u.as_str() == w => Ok(()),
        _ => Err(format!("{input:?}: expected {want:?}, got {got:?}")),
    }
}

#[test]
fn rewrite_corpus() {
    let cases = load(REWRITE, REWRITE_CASES, "rewrite.json");
    let mut tally = Tally::new("rewrite.json", cases.len());
    for case in &cases {
        tally.record(case, check_rewrite(case));
    }
    tally.finish();
}

// ---------------------------------------------------------------------------
// noting.json: events over time, then queries

/// One step of a noting case, in time order.
enum Step<'a> {
    Event(&'a Value),
    Query(&'a Value),
}

fn check_noting(case: &Value) -> Result<(), String> {
    let t0 = now();
    let mut store = HstsStore::with_config(config_for(case));
    if let Some(initial) = case.get("initial_store").and_then(Value::as_array) {
        for e in initial {
            let host = field_str(e, "host")?;
            let entry = Entry {
                host: host.to_owned(),
                include_subdomains: field_bool(e, "include_subdomains")?,
                observed: t0,
                expires: t0 + Duration::seconds(field_i64(e, "expires_in")?),
            };
            store
                .insert_entry(entry)
                .map_err(|e| format!("initial_store {host:?} refused: {e}"))?;
        }
    }

    // Events and queries run in time order; at equal times events come
    // first, and within a kind the file order is kept (the sort is stable).
    let mut steps: Vec<(i64, u8, Step<'_>)> = Vec::new();
    for e in case["events"].as_array().ok_or("corpus: no events")? {
        steps.push((field_i64(e, "at")?, 0, Step::Event(e)));
    }
    for q in case["queries"].as_array().ok_or("corpus: no queries")? {
        steps.push((field_i64(q, "at")?, 1, Step::Query(q)));
    }
    steps.sort_by_key(|(at, kind, _)| (*at, *kind));

    let mut problems = Vec::new();
    let mut log = Vec::new();
    for (at, _, step) in steps {
        let t = t0 + Duration::seconds(at);
        match step {
            Step::Event(e) => {
                let input = field_str(e, "url")?;
                let url = Url::parse(input)
                    .map_err(|err| format!("url {input:?} does not parse: {err}"))?;
                let headers: Vec<&str> = e["headers"]
                    .as_array()
                    .ok_or("corpus: `headers` is not an array")?
                    .iter()
                    .map(|h| h.as_str().ok_or("corpus: a header is not a string"))
                    .collect::<Result<_, _>>()?;
                let transport =
                    Transport::from_flags(field_bool(e, "secure")?, field_bool(e, "cert_errors")?);
                let outcome = store.note_at(&url, &headers, transport, t);
                log.push(format!(
                    "t={at} {input} {headers:?} {transport:?} -> {outcome:?}"
                ));
            }
            Step::Query(q) => {
                let host = field_str(q, "host")?;
                let want = field_bool(q, "expect_https")?;
                let strict = q["strict"].as_bool().unwrap_or(true);
                let got = matches!(store.lookup_at(host, t), Ok(Some(_)));
                if strict && got != want {
                    problems.push(format!(
                        "query {host:?} at t={at}: expected {want}, got {got}"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} [events: {}]",
            problems.join("; "),
            log.join(" | ")
        ))
    }
}

#[test]
fn noting_corpus() {
    let cases = load(NOTING, NOTING_CASES, "noting.json");
    let mut tally = Tally::new("noting.json", cases.len());
    for case in &cases {
        tally.record(case, check_noting(case));
    }
    tally.finish();
}
