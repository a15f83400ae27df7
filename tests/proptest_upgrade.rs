//! `UrlText` (the text of the URL to send, borrowed from the parsed URL)
//! is exactly the text of the `Url` that `secure_url` and `upgrade_at`
//! build: random URLs of every scheme, with and without ports (80, 443 and
//! others, with leading zeros), userinfo, IP and IDN hosts, paths, queries
//! and fragments, all parsed and serialised by the `url` crate.

use chrono::{DateTime, TimeZone, Utc};
use hsts::{secure_url, HstsStore, PreloadSource, StoreConfig, Transport, UrlText};
use proptest::prelude::*;
use url::Url;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(items)
}

/// A URL as text, from pieces that `url` keeps, drops or rewrites.
fn url_text() -> impl Strategy<Value = String> {
    let scheme = pick(&[
        "http", "HTTP", "ws", "Ws", "https", "wss", "ftp", "file", "foo", "data",
    ]);
    let userinfo = pick(&["", "u@", "u:p@", ":p@", "%41:b%40@", "ü@"]);
    let host = pick(&[
        "example.com",
        "a.example.com",
        "Example.COM",
        "example.com.",
        "plain.test",
        "a.plain.test",
        "bücher.example",
        "xn--bcher-kva.example",
        "xn--bcher-kva.example.",
        "a..example.com",
        "a$b.example.com",
        "192.0.2.1",
        "0x7f.1",
        "[::1]",
        "[2001:DB8::1]",
        "localhost",
        "",
    ]);
    let port = pick(&[
        "", ":", ":80", ":080", ":443", ":0443", ":8080", ":0", ":65535", ":21",
    ]);
    let path = pick(&["", "/", "/a/b", "/%7e/ü", "/a b", "/../x", "//x", "/a?"]);
    let query = pick(&["", "?", "?a=1&b", "?q=ü", "?x#y"]);
    let fragment = pick(&["", "#", "#f", "#ü", "#a b"]);
    let slashes = pick(&["//", "//", "/", ""]);
    (scheme, slashes, userinfo, host, port, path, query, fragment)
        .prop_map(|(s, sl, u, h, p, pa, q, f)| format!("{s}:{sl}{u}{h}{p}{pa}{q}{f}"))
}

/// A store that knows `example.com` with includeSubDomains and
/// `plain.test` alone, with the preload list on or off.
fn store(preload: bool) -> HstsStore {
    let mut store = HstsStore::with_config(StoreConfig {
        preload: if preload {
            PreloadSource::default()
        } else {
            PreloadSource::Off
        },
        ..StoreConfig::default()
    });
    for (u, v) in [
        ("https://example.com/", "max-age=600; includeSubDomains"),
        ("https://plain.test/", "max-age=600"),
    ] {
        store.note_at(&Url::parse(u).unwrap(), [v], Transport::Secure, now());
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16384, ..ProptestConfig::default() })]

    #[test]
    fn secure_text_is_the_text_of_secure_url(text in url_text()) {
        let Ok(url) = Url::parse(&text) else { return Ok(()) };
        let slow = secure_url(&url);
        let fast = UrlText::secure(&url);
        prop_assert_eq!(
            fast.map(|t| t.to_string()),
            slow.as_ref().map(|u| u.as_str().to_owned()),
            "{}", url
        );
        if let Some(t) = fast {
            prop_assert!(t.is_upgraded());
            let mut written = Vec::new();
            t.write_to(&mut written).unwrap();
            prop_assert_eq!(written, t.to_string().into_bytes());
            prop_assert_eq!(t.pieces().concat(), t.to_string());
        }
        let same = UrlText::unchanged(&url);
        prop_assert!(!same.is_upgraded());
        prop_assert_eq!(same.to_string(), url.as_str());
    }

    #[test]
    fn upgrade_text_at_is_the_text_of_upgrade_at(text in url_text(), preload in any::<bool>()) {
        let Ok(url) = Url::parse(&text) else { return Ok(()) };
        let store = store(preload);
        let upgrade = store.upgrade_at(&url, now());
        let text = store.upgrade_text_at(&url, now());
        prop_assert_eq!(text.is_upgraded(), upgrade.is_upgraded(), "{}", url);
        let sent = upgrade.url(&url);
        prop_assert_eq!(text.to_string(), sent.as_str(), "{}", url);
    }
}

/// The cases that matter, by name.
#[test]
fn upgrade_text_examples() {
    let store = store(false);
    for (given, sent) in [
        ("http://example.com/", "https://example.com/"),
        ("http://example.com:80/a", "https://example.com/a"),
        ("http://example.com:443/a", "https://example.com/a"),
        ("http://example.com:0443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "https://example.com:8080/a"),
        ("ws://a.example.com/chat", "wss://a.example.com/chat"),
        ("ws://a.example.com:443/chat", "wss://a.example.com/chat"),
        (
            "http://u:p@example.com:443/p?q#f",
            "https://u:p@example.com/p?q#f",
        ),
        ("http://example.com./", "https://example.com./"),
        ("http://plain.test/", "https://plain.test/"),
        ("http://a.plain.test/", "http://a.plain.test/"),
        ("http://[::1]/", "http://[::1]/"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("ftp://example.com/", "ftp://example.com/"),
    ] {
        let url = Url::parse(given).unwrap();
        assert_eq!(
            store.upgrade_text_at(&url, now()).to_string(),
            sent,
            "{given}"
        );
    }
}
