//! Rewriting a request URL before it leaves (RFC 6797 §8.3; Fetch for WebSockets).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use hsts::{HstsStore, Transport};
//! use hsts::Upgrade;
//! use url::Url;
//!
//! let mut store = HstsStore::new();
//! let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! store.note_at(&Url::parse("https://example.com/").unwrap(), ["max-age=60"], Transport::Secure, now);
//!
//! let url = Url::parse("http://user@example.com:80/a?b#c").unwrap();
//! match store.upgrade_at(&url, now) {
//!     Upgrade::Upgraded(u) => assert_eq!(u.as_str(), "https://user@example.com/a?b#c"),
//!     Upgrade::Unchanged => unreachable!(),
//! }
//! let ws = Url::parse("ws://example.com:8080/chat").unwrap();
//! assert_eq!(store.upgrade_at(&ws, now).url(&ws).as_str(), "wss://example.com:8080/chat");
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use url::Url;

use crate::context::LookupScope;
use crate::host::{self, CanonicalHost, CanonicalName, Host};
use crate::HstsStore;

/// The answer to "what URL must this request use?".
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Upgrade {
    /// Send the request to the URL as it is.
    Unchanged,
    /// Send it to this URL instead: the host is a known HSTS host.
    Upgraded(Url),
}

impl Upgrade {
    /// The URL to request: the upgraded one, or `original`.
    pub fn url(self, original: &Url) -> Url {
        match self {
            Upgrade::Unchanged => original.clone(),
            Upgrade::Upgraded(u) => u,
        }
    }

    /// The same as [`Upgrade::url`]: the URL to request, the upgraded one
    /// or `original`.
    pub fn into_url(self, original: &Url) -> Url {
        self.url(original)
    }

    /// Whether the URL was upgraded.
    pub fn is_upgraded(&self) -> bool {
        matches!(self, Upgrade::Upgraded(_))
    }
}

/// The secure twin of a scheme that HSTS upgrades.
fn secure_scheme(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" => Some("https"),
        // Fetch: a WebSocket URL is fetched as http(s), so HSTS upgrades ws to wss.
        "ws" => Some("wss"),
        _ => None,
    }
}

/// Rewrites `url` to its secure form regardless of any store: the scheme
/// becomes https (or wss), an explicit port 80 becomes the default port, any
/// other explicit port is kept, and every other part is left as it is.
/// Returns `None` for schemes HSTS does not upgrade.
pub fn secure_url(url: &Url) -> Option<Url> {
    let scheme = secure_scheme(url.scheme())?;
    let mut out = url.clone();
    // §8.3 step 5: "If the URI contains an explicit port component of "80",
    // then the UA MUST convert the port component to be "443"." The url
    // crate never stores a scheme's default port, so an explicit :80 is
    // already gone from an http URL; setting the scheme drops an explicit
    // :443, which is https's default.
    // §8.3 step 6: "If the URI contains an explicit port component that is
    // not equal to "80", the port component value MUST be preserved".
    // http and ws are special schemes, so the change to https/wss cannot fail.
    out.set_scheme(scheme).ok()?;
    if out.port() == Some(80) {
        out.set_port(None).ok()?;
    }
    Some(out)
}

/// The text of the URL to send for a request, borrowed from the parsed
/// [`Url`]: its own text, or its secure form (RFC 6797 §8.3) made of at most
/// three pieces of it, so that nothing is allocated and no second [`Url`]
/// is built. Its text is exactly that of the [`Url`] that [`Upgrade::url`]
/// (or [`secure_url`]) gives.
///
/// ```
/// use hsts::url::Url;
/// use hsts::UrlText;
///
/// let url = Url::parse("http://user@example.com:443/a?b#c").unwrap();
/// let secure = UrlText::secure(&url).unwrap();
/// assert!(secure.is_upgraded());
/// assert_eq!(secure.to_string(), "https://user@example.com/a?b#c");
/// assert_eq!(secure.to_string(), hsts::secure_url(&url).unwrap().as_str());
///
/// let mut out = Vec::new();
/// UrlText::unchanged(&url).write_to(&mut out).unwrap();
/// assert_eq!(out, url.as_str().as_bytes());
/// assert!(UrlText::secure(&Url::parse("ftp://example.com/").unwrap()).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlText<'a> {
    pieces: [&'a str; 3],
    upgraded: bool,
}

impl<'a> UrlText<'a> {
    /// The text of `url` as it is.
    pub fn unchanged(url: &'a Url) -> UrlText<'a> {
        UrlText {
            pieces: [url.as_str(), "", ""],
            upgraded: false,
        }
    }

    /// The text of [`secure_url`]`(url)`: `None` for schemes HSTS does not
    /// upgrade.
    pub fn secure(url: &'a Url) -> Option<UrlText<'a>> {
        use url::Position;
        let scheme = secure_scheme(url.scheme())?;
        // `url` never keeps a special scheme's default port: an http (or
        // ws) URL has no explicit :80, and the scheme alone changes. An
        // explicit :443 is the secure scheme's default, which `url` would
        // drop: the text on either side of it is kept.
        let pieces = match url.port() {
            Some(443) => [
                scheme,
                &url[Position::AfterScheme..Position::AfterHost],
                &url[Position::AfterPort..],
            ],
            _ => [scheme, &url[Position::AfterScheme..], ""],
        };
        Some(UrlText {
            pieces,
            upgraded: true,
        })
    }

    /// Whether this is the secure form of the URL rather than its own text.
    pub fn is_upgraded(&self) -> bool {
        self.upgraded
    }

    /// The text in pieces, to be written one after the other (some may be
    /// empty).
    pub fn pieces(&self) -> [&'a str; 3] {
        self.pieces
    }

    /// Writes the text to `w`.
    pub fn write_to<W: std::io::Write + ?Sized>(&self, w: &mut W) -> std::io::Result<()> {
        let [first, rest @ ..] = self.pieces;
        w.write_all(first.as_bytes())?;
        for piece in rest.into_iter().filter(|p| !p.is_empty()) {
            w.write_all(piece.as_bytes())?;
        }
        Ok(())
    }
}

impl fmt::Display for UrlText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces.iter().try_for_each(|p| f.write_str(p))
    }
}

/// The canonical form ([`host::canonicalize`]) of a domain that `url`
/// mapped, when that is only a matter of its length: `None` sends the name
/// to the canonicaliser.
///
/// `url` has already applied UTS #46 to the host with the same settings as
/// the canonicaliser (`idna::domain_to_ascii_cow` with
/// `AsciiDenyList::URL`): the name is ASCII, lower case, its A-labels are
/// valid and it does not end in a number (that made it an IPv4 address or
/// an error). Mapping such a name again gives it back, so what is left of
/// canonicalisation is the DNS length rules, which `url` does not apply:
/// one trailing dot removed, then no empty label, no label over 63 octets
/// and no more than 253 in all. The unit tests check the claim against
/// the canonicaliser on random hosts. A name of up to 63 octets comes with
/// where its dots are, which its check found.
fn url_domain_name(domain: &str) -> Option<CanonicalName<'_>> {
    let name = domain.strip_suffix('.').unwrap_or(domain);
    let b = name.as_bytes();
    let n = b.len();
    if (1..=host::MAX_LABEL_LEN).contains(&n) {
        // No label can be too long: only an empty label (a dot first,
        // last, or after another) is left to rule out.
        let dots = crate::swar::mask_of(b, b'.');
        return (!host::has_empty_label(dots, n)).then_some(CanonicalName::known(name, Some(dots)));
    }
    // Longer names (rare): the canonicaliser's own length check.
    host::check_lengths(name)
        .is_ok()
        .then_some(CanonicalName::known(name, None))
}

impl HstsStore {
    /// Upgrades `url` if its host is a known HSTS host now.
    /// See [`HstsStore::upgrade_at`].
    pub fn upgrade(&self, url: &Url) -> Upgrade {
        self.upgrade_at(url, self.now())
    }

    /// The URL to send for `url` now: its https (or wss) form when the host
    /// is a known HSTS host, otherwise `url` itself. The URL is given once:
    /// `store.upgrade(&url).url(&url)` in one call.
    ///
    /// ```
    /// use hsts::{HstsStore, Transport};
    /// use hsts::url::Url;
    ///
    /// let mut store = HstsStore::new();
    /// store.note(&Url::parse("https://example.com/").unwrap(), ["max-age=600"], Transport::Secure);
    /// let to_send = store.upgrade_url(&Url::parse("http://example.com/a").unwrap());
    /// assert_eq!(to_send.as_str(), "https://example.com/a");
    /// ```
    pub fn upgrade_url(&self, url: &Url) -> Url {
        self.upgrade(url).url(url)
    }

    /// [`HstsStore::upgrade_url`] at `now`.
    pub fn upgrade_url_at(&self, url: &Url, now: DateTime<Utc>) -> Url {
        self.upgrade_at(url, now).url(url)
    }

    /// The text of the URL to send for `url` at `now`:
    /// [`HstsStore::upgrade_url_at`] without building a new [`Url`], for a
    /// caller that only writes the URL out (a proxy, a log rewriter, the
    /// CLI's `hsts rewrite`).
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use hsts::{HstsStore, Transport};
    /// use hsts::url::Url;
    ///
    /// let mut store = HstsStore::new();
    /// let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// store.note_at(&Url::parse("https://example.com/").unwrap(), ["max-age=600"], Transport::Secure, now);
    /// let url = Url::parse("ws://example.com:8080/chat").unwrap();
    /// assert_eq!(store.upgrade_text_at(&url, now).to_string(), "wss://example.com:8080/chat");
    /// let other = Url::parse("http://other.example/").unwrap();
    /// assert!(!store.upgrade_text_at(&other, now).is_upgraded());
    /// ```
    pub fn upgrade_text_at<'u>(&self, url: &'u Url, now: DateTime<Utc>) -> UrlText<'u> {
        self.upgrade_text_scoped_at(url, now, LookupScope::NAVIGATION)
    }

    /// RFC 6797 §8.3: when the URL's scheme is `http` (or `ws`) and its host
    /// is a known HSTS host at `now`, the URL to request instead.
    /// https, wss, other schemes and IP hosts are left unchanged.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        self.upgrade_scoped_at(url, now, LookupScope::NAVIGATION)
    }

    /// [`HstsStore::upgrade_at`] with lookups in `scope`.
    pub(crate) fn upgrade_scoped_at(
        &self,
        url: &Url,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> Upgrade {
        if self.must_upgrade_scoped_at(url, now, scope) {
            secure_url(url).map_or(Upgrade::Unchanged, Upgrade::Upgraded)
        } else {
            Upgrade::Unchanged
        }
    }

    /// [`HstsStore::upgrade_text_at`] with lookups in `scope`.
    pub(crate) fn upgrade_text_scoped_at<'u>(
        &self,
        url: &'u Url,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> UrlText<'u> {
        if self.must_upgrade_scoped_at(url, now, scope) {
            if let Some(text) = UrlText::secure(url) {
                return text;
            }
        }
        UrlText::unchanged(url)
    }

    /// Whether `url` is to be upgraded at `now` within `scope`: its scheme
    /// is one HSTS upgrades and its host is a known HSTS host.
    fn must_upgrade_scoped_at(
        &self,
        url: &Url,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> bool {
        if secure_scheme(url.scheme()).is_none() {
            return false;
        }
        // §8.3 step 3: "If the URI-host is an IP-literal or IPv4address, ...
        // the UA MUST NOT" treat it as a known HSTS host.
        let host = url.host();
        // A domain that `url` mapped is nearly always canonical once its
        // trailing dot is gone: looked up as it is, with no copy, no
        // second scan and no Match.
        if let Some(url::Host::Domain(d)) = host {
            // What the scan of every name took before, this takes too.
            debug_assert!(CanonicalName::new(d)
                .is_none_or(|n| url_domain_name(d).map(|m| m.as_str()) == Some(n.as_str())));
            if let Some(name) = url_domain_name(d) {
                return self.known_name_scoped_at(name, now, scope);
            }
        }
        self.known_host_scoped_at(host, url, now, scope)
    }

    /// The slow path of [`HstsStore::upgrade_scoped_at`]: canonicalise.
    fn known_host_scoped_at(
        &self,
        host: Option<url::Host<&str>>,
        url: &Url,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> bool {
        match host.map(host::from_url_host) {
            Some(Ok(Host::Domain(h))) => self.known_name_scoped_at((&h).into(), now, scope),
            Some(Err(_)) => self.covers_invalid_at(url.host_str().unwrap_or_default(), now, scope),
            Some(Ok(Host::Ip(_))) | None => false,
        }
    }

    /// Fail closed: whether a host that the URL parser accepted but the
    /// canonicaliser refuses (a label over 63 octets, empty labels such as
    /// `example.com..`) lies under a known HSTS host: its name without
    /// trailing dots is a known host, or one of its proper suffixes is known
    /// with includeSubDomains. Only suffixes that can be valid names (253
    /// bytes at most) are tried, so the work is bounded whatever the length.
    fn covers_invalid_at(&self, raw: &str, now: DateTime<Utc>, scope: LookupScope<'_>) -> bool {
        let name = raw.trim_end_matches('.');
        let start = name.len().saturating_sub(host::MAX_NAME_LEN);
        let suffixes = std::iter::once(0)
            .chain(name.match_indices('.').map(|(i, _)| i + 1))
            .filter(|&i| i >= start);
        for at in suffixes {
            let Ok(suffix) = CanonicalHost::new(&name[at..]) else {
                continue;
            };
            match self.lookup_scoped_at(&suffix, now, scope) {
                Some(m) if at == 0 || m.include_subdomains => return true,
                _ => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PreloadSource, StoreConfig, Transport};
    use chrono::TimeZone;

    #[test]
    fn hosts_the_canonicaliser_refuses_fail_closed() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut store = HstsStore::with_config(StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        });
        let note = |s: &mut HstsStore, u: &str, v: &str| {
            s.note_at(&Url::parse(u).unwrap(), [v], Transport::Secure, now)
        };
        note(
            &mut store,
            "https://example.com/",
            "max-age=60; includeSubDomains",
        );
        note(&mut store, "https://plain.test/", "max-age=60");
        let long = "x".repeat(64);
        for (given, upgraded) in [
            (format!("http://{long}.example.com/"), true),
            ("http://example.com../".to_owned(), true),
            ("http://a..example.com/".to_owned(), true),
            ("http://plain.test../".to_owned(), true),
            (format!("http://{long}.plain.test/"), false),
            (format!("http://{long}.other.example/"), false),
        ] {
            let url = Url::parse(&given).unwrap();
            assert!(host::from_url_host(url.host().unwrap()).is_err(), "{given}");
            assert_eq!(
                store.upgrade_at(&url, now).is_upgraded(),
                upgraded,
                "{given}"
            );
        }
    }

    /// Random hosts through `url`, then the claim of [`url_domain_name`]:
    /// whatever name it gives is the canonicaliser's answer for that domain.
    #[test]
    fn url_domain_names_are_canonical() {
        let long = "x".repeat(62);
        let pieces: &[&str] = &[
            "a",
            "b",
            "z",
            "0",
            "9",
            "-",
            "_",
            ".",
            ".",
            ".",
            "A",
            "Z",
            "xn--",
            "xn--bcher-kva",
            "XN--BCHER-KVA",
            "ü",
            "ß",
            "é",
            "$",
            "!",
            "~",
            "(",
            "*",
            "'",
            "\u{ff21}",
            "\u{3002}",
            "\u{661}",
            "\u{200d}",
            "%2e",
            "%41",
            "0x",
            "1",
            "255",
            &long,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            crate::xorshift(&mut seed);
            (seed % n as u64) as usize
        };
        let (mut fast, mut slow) = (0, 0);
        for _ in 0..300_000 {
            let mut host = String::new();
            for _ in 0..1 + next(14) {
                host.push_str(pieces[next(pieces.len())]);
            }
            let Ok(url) = Url::parse(&format!("http://{host}/")) else {
                continue;
            };
            let Some(url::Host::Domain(d)) = url.host() else {
                continue;
            };
            match url_domain_name(d) {
                Some(name) => {
                    fast += 1;
                    match host::canonicalize(d) {
                        Ok(Host::Domain(c)) => {
                            assert_eq!(c.as_str(), name.as_str(), "{host:?} as {d:?}");
                            // The dots found on the way are the name's.
                            let checked = CanonicalName::new(d).and_then(|n| n.dots());
                            if let (Some(a), Some(b)) = (name.dots(), checked) {
                                assert_eq!(a, b, "{d:?}");
                            }
                        }
                        other => panic!("{host:?} as {d:?}: {other:?}, not {name:?}"),
                    }
                }
                None => slow += 1,
            }
        }
        assert!(fast > 50_000 && slow > 10_000, "{fast} {slow}");
        // Lengths at the limits: labels of 63 and 64 octets, names of 253
        // and 254, with and without a trailing dot.
        let l63 = "a".repeat(63);
        let l64 = "a".repeat(64);
        for d in [
            l63.clone(),
            l64.clone(),
            format!("{l63}."),
            format!("{l64}.b"),
            format!("b.{l63}"),
            format!("{l63}.{l63}.{l63}.{}", "c".repeat(61)),
            format!("{l63}.{l63}.{l63}.{}", "c".repeat(62)),
            format!("{l63}.{l63}.{l63}.{}.", "c".repeat(61)),
            format!("{l63}..{l63}"),
        ] {
            let want = match host::canonicalize(&d) {
                Ok(Host::Domain(c)) => Some(c.into_string()),
                _ => None,
            };
            let got = url_domain_name(&d).map(|n| n.as_str().to_owned());
            assert_eq!(got, want, "{d}");
        }
    }

    #[test]
    fn empty_labels_are_refused_and_dots_found_a_word_at_a_time() {
        for n in 1..40 {
            for i in 0..n {
                for j in i..n {
                    let mut b = vec![b'a'; n];
                    b[i] = b'.';
                    b[j] = b'.';
                    let text = String::from_utf8(b).unwrap();
                    // One trailing dot is not part of the name.
                    let trimmed = text.strip_suffix('.').unwrap_or(&text);
                    let empty = trimmed.split('.').any(str::is_empty);
                    match url_domain_name(&text) {
                        Some(name) => {
                            assert!(!empty, "{text}");
                            let want = (0..trimmed.len())
                                .filter(|&k| k == i || k == j)
                                .fold(0u64, |m, k| m | 1 << k);
                            assert_eq!(name.dots(), Some(want), "{text}");
                        }
                        None => assert!(empty, "{text}"),
                    }
                }
            }
        }
    }

    #[test]
    fn secure_url_rules() {
        let cases = [
            ("http://a.example/", Some("https://a.example/")),
            ("http://a.example:80/x", Some("https://a.example/x")),
            ("http://a.example:443/x", Some("https://a.example/x")),
            ("http://a.example:8080/x", Some("https://a.example:8080/x")),
            ("ws://a.example:80/x", Some("wss://a.example/x")),
            (
                "http://u:p@a.example/p?q#f",
                Some("https://u:p@a.example/p?q#f"),
            ),
            ("https://a.example/", None),
            ("ftp://a.example/", None),
        ];
        for (i, o) in cases {
            let got = secure_url(&Url::parse(i).unwrap()).map(|u| u.to_string());
            assert_eq!(got.as_deref(), o, "{i}");
        }
    }
}
