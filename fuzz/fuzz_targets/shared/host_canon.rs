//! The host_canon fuzz check (see `fuzz_targets/host_canon.rs`).

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use chrono::{DateTime, TimeZone, Utc};
use hsts::host::{canonicalize, Host};
use hsts::{CanonicalName, Entry, HstsStore, RequestContext};

/// A host either as any string or built from interesting labels.
#[derive(Debug, Arbitrary)]
enum Input {
    Text(String),
    Labels(Vec<Label>, bool),
}

#[derive(Debug, Arbitrary)]
enum Label {
    Example,
    Com,
    Upper,
    Unicode,
    Punycode,
    BadPunycode,
    Digits(u16),
    Hex(u16),
    Localhost,
    Empty,
    FullwidthDot,
    Long(u8),
    Text(String),
}

impl Input {
    fn text(&self) -> String {
        match self {
            Input::Text(s) => s.clone(),
            Input::Labels(labels, trailing_dot) => {
                let parts: Vec<String> = labels
                    .iter()
                    .map(|l| match l {
                        Label::Example => "example".to_owned(),
                        Label::Com => "com".to_owned(),
                        Label::Upper => "WwW".to_owned(),
                        Label::Unicode => "bücher".to_owned(),
                        Label::Punycode => "xn--bcher-kva".to_owned(),
                        Label::BadPunycode => "xn--a".to_owned(),
                        Label::Digits(n) => n.to_string(),
                        Label::Hex(n) => format!("0x{n:x}"),
                        Label::Localhost => "localhost".to_owned(),
                        Label::Empty => String::new(),
                        Label::FullwidthDot => "a\u{3002}b".to_owned(),
                        Label::Long(n) => "a".repeat(usize::from(*n)),
                        Label::Text(s) => s.clone(),
                    })
                    .collect();
                let mut s = parts.join(".");
                if *trailing_dot {
                    s.push('.');
                }
                s
            }
        }
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn store() -> &'static HstsStore {
    static STORE: OnceLock<HstsStore> = OnceLock::new();
    STORE.get_or_init(new_store)
}

/// The store the checks query: the built-in list and four dynamic entries.
fn new_store() -> HstsStore {
    let mut s = HstsStore::new();
    for (host, isd) in [
        ("example.com", true),
        ("xn--bcher-kva.example", false),
        ("com", false),
        ("a.b.c", true),
    ] {
        s.insert_entry(Entry {
            host: host.to_owned(),
            include_subdomains: isd,
            observed: now(),
            expires: now() + chrono::Duration::days(1),
        })
        .unwrap();
    }
    s
}

/// Decodes `data` the way `fuzz_target!` decodes a typed input, then checks
/// the properties. Shared by the fuzz target and `tests/fuzz_regressions.rs`.
pub fn run(data: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(data)) else {
        return;
    };
    let text = input.text();
    let result = canonicalize(&text);
    // The reusable form agrees with the one-shot form.
    let mut scratch = hsts::CanonicalHost::new("scratch.invalid").unwrap();
    match (&result, scratch.set(&text)) {
        (Ok(Host::Domain(d)), Ok(None)) => assert_eq!(d, &scratch, "{text:?}"),
        (Ok(Host::Ip(a)), Ok(Some(b))) => assert_eq!(*a, b, "{text:?}"),
        (Err(a), Err(b)) => assert_eq!(a, &b, "{text:?}"),
        (a, b) => panic!("{text:?}: canonicalize {a:?}, set {b:?}"),
    }
    match &result {
        Ok(Host::Domain(d)) => {
            let name = d.as_str();
            assert!(name.len() <= 253, "{name:?}");
            assert!(!name.ends_with('.'), "{name:?}");
            for label in name.split('.') {
                assert!(!label.is_empty() && label.len() <= 63, "{name:?}");
            }
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && b > b' '),
                "{name:?}"
            );
            assert_eq!(canonicalize(name), result, "not idempotent for {text:?}");
            // The superdomains are suffixes of the name, nearest first.
            let mut prev = name;
            for s in d.superdomains() {
                assert!(prev.ends_with(s) && s.len() < prev.len());
                prev = s;
            }
        }
        Ok(Host::Ip(_)) => {
            let printed = result.as_ref().unwrap().to_string();
            assert_eq!(
                canonicalize(&printed),
                result,
                "{text:?} printed as {printed:?}"
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    let store = store();
    if let Some(name) = CanonicalName::new(&text) {
        let trimmed = text.strip_suffix('.').unwrap_or(&text);
        assert_eq!(name.as_str(), trimmed);
        let Ok(Host::Domain(d)) = &result else {
            panic!("{text:?} taken as given, canonicalize gives {result:?}");
        };
        assert_eq!(d.as_str(), trimmed, "{text:?}");
        let nav = RequestContext::navigation();
        let mut own = new_store();
        let view = own.in_context(&nav);
        assert_eq!(
            view.is_known_canonical_at(name, now()),
            view.is_known_canonical_at(d, now()),
            "{text:?}"
        );
        let builtin = hsts::preload::PreloadList::builtin();
        assert_eq!(
            view.is_known_canonical_at(name, now()),
            builtin.lookup(name.as_str()).is_some()
                || store.lookup_canonical_at(d, now()).is_some(),
            "{text:?}"
        );
    }
    match (store.lookup_at(&text, now()), &result) {
        (Err(a), Err(b)) => assert_eq!(&a, b),
        (Ok(None), Ok(Host::Ip(_))) => {}
        (Ok(m), Ok(Host::Domain(d))) => {
            assert_eq!(m, store.lookup_canonical_at(d, now()));
        }
        (got, want) => panic!("lookup_at {got:?} disagrees with canonicalize {want:?}"),
    }
    if let Ok(url) = url::Url::parse(&format!("http://{text}/")) {
        let _ = store.upgrade_at(&url, now());
    }
}
