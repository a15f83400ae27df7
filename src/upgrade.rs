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

use chrono::{DateTime, Utc};
use url::Url;

use crate::host::{self, Host};
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

impl HstsStore {
    /// Upgrades `url` if its host is a known HSTS host now.
    /// See [`HstsStore::upgrade_at`].
    pub fn upgrade(&self, url: &Url) -> Upgrade {
        self.upgrade_at(url, self.now())
    }

    /// RFC 6797 §8.3: when the URL's scheme is `http` (or `ws`) and its host
    /// is a known HSTS host at `now`, the URL to request instead.
    /// https, wss, other schemes and IP hosts are left unchanged.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        if secure_scheme(url.scheme()).is_none() {
            return Upgrade::Unchanged;
        }
        // §8.3 step 3: "If the URI-host is an IP-literal or IPv4address, ...
        // the UA MUST NOT" treat it as a known HSTS host.
        let Some(Ok(Host::Domain(h))) = url.host().map(host::from_url_host) else {
            return Upgrade::Unchanged;
        };
        match self.lookup_canonical_at(&h, now) {
            Some(_) => secure_url(url).map_or(Upgrade::Unchanged, Upgrade::Upgraded),
            None => Upgrade::Unchanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
