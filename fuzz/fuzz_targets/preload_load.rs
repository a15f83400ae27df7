//! Untrusted compiled preload tables: load, verify, look up, iterate.
//!
//! Inputs are either raw bytes, or a small valid table (compiled once) with
//! byte flips and a truncation applied, so that the fuzzer reaches the body
//! of the format: a body flip passes the header check of
//! `from_bytes_unchecked`, so lookups and iteration run over corrupt
//! records; `from_bytes` (the full check) must agree with `verify()`.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use hsts::preload::{compile_entries, PreloadList};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Start from the small valid table instead of `raw`.
    from_valid: bool,
    raw: Vec<u8>,
    /// (position, xor) pairs applied to the table.
    flips: Vec<(u16, u8)>,
    /// Cut the table to this length.
    truncate: Option<u16>,
    hosts: Vec<String>,
}

fn valid_table() -> &'static [u8] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let names = [
            ("dev", true),
            ("example.com", true),
            ("www.example.com", false),
            ("a.b.example.org", false),
            ("b.example.org", true),
            ("xn--bcher-kva.example", true),
            ("mail.google.com", true),
            ("g.co", false),
            ("www.g.co", true),
        ];
        let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let entries = names.iter().map(|&(n, i)| (n.to_owned(), i));
        compile_entries(entries, date, [0; 32]).unwrap().0
    })
}

fuzz_target!(|input: Input| {
    let mut bytes = if input.from_valid {
        valid_table().to_vec()
    } else {
        input.raw
    };
    for &(pos, x) in input.flips.iter().take(8) {
        let len = bytes.len();
        if len > 0 {
            bytes[usize::from(pos) % len] ^= x;
        }
    }
    if let Some(n) = input.truncate {
        bytes.truncate(usize::from(n));
    }
    let checked = PreloadList::from_bytes(bytes.clone()).is_ok();
    let Ok(list) = PreloadList::from_bytes_unchecked(bytes) else {
        assert!(!checked, "the checked load accepted what the header check refused");
        return;
    };
    let verified = list.verify().is_ok();
    assert_eq!(checked, verified, "from_bytes disagrees with verify()");
    let hosts = input.hosts.iter().map(String::as_str).chain([
        "www.example.com",
        "x.b.example.org",
        "dev",
        "a.dev",
        "g.co",
    ]);
    for h in hosts {
        if let Some(m) = list.lookup(h) {
            assert!(h.ends_with(m.name));
        }
    }
    let names: Vec<_> = list.iter().take(10_000).collect();
    if verified {
        // A verified table finds every name it lists, with its flag.
        assert_eq!(names.len(), list.len());
        for (name, isd) in names {
            let m = list.lookup(&name).expect("a listed name is found");
            assert_eq!((m.name, m.include_subdomains), (name.as_str(), isd));
        }
    }
});
