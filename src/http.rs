//! Helpers for the `http` crate's types, for any HTTP client built on them.
//!
//! ```
//! use hsts::http::{note_response, upgrade_request};
//! use hsts::shared::SharedHstsStore;
//! use hsts::{HstsStore, Transport};
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let response = http::Response::builder()
//!     .header("strict-transport-security", "max-age=600")
//!     .body(())
//!     .unwrap();
//! let from = url::Url::parse("https://example.com/").unwrap();
//! note_response(&store, &from, &response, Transport::Secure);
//!
//! let mut request = http::Request::get("http://example.com/x?y").body(()).unwrap();
//! assert!(upgrade_request(&store, &mut request));
//! assert_eq!(request.uri(), "https://example.com/x?y");
//! ```

use http::header::{HeaderMap, STRICT_TRANSPORT_SECURITY};
use http::{Request, Response, Uri};
use url::Url;

use crate::shared::SharedHstsStore;
use crate::store::{Outcome, Transport};
use crate::upgrade::Upgrade;

/// An absolute `http::Uri` as a `url::Url`; `None` for a relative URI.
pub fn uri_to_url(uri: &Uri) -> Option<Url> {
    uri.scheme()?;
    Url::parse(&uri.to_string()).ok()
}

/// A `url::Url` as an `http::Uri`, when `http` accepts it.
pub fn url_to_uri(url: &Url) -> Option<Uri> {
    url.as_str().parse().ok()
}

/// The URI to request instead of `uri`, if its host is a known HSTS host.
pub fn upgrade_uri(store: &SharedHstsStore, uri: &Uri) -> Option<Uri> {
    let url = uri_to_url(uri)?;
    match store.upgrade(&url) {
        Upgrade::Upgraded(u) => url_to_uri(&u),
        Upgrade::Unchanged => None,
    }
}

/// Upgrades a request's URI in place; returns whether it changed.
pub fn upgrade_request<B>(store: &SharedHstsStore, request: &mut Request<B>) -> bool {
    match upgrade_uri(store, request.uri()) {
        Some(uri) => {
            *request.uri_mut() = uri;
            true
        }
        None => false,
    }
}

/// The `Strict-Transport-Security` field values, in order.
pub fn sts_fields(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(STRICT_TRANSPORT_SECURITY)
        .iter()
        .map(|v| v.as_bytes())
}

/// Notes the STS fields of `headers`, received from `url` over `transport`.
pub fn note_headers(
    store: &SharedHstsStore,
    url: &Url,
    headers: &HeaderMap,
    transport: Transport,
) -> Outcome {
    store.note(url, sts_fields(headers), transport)
}

/// Notes the STS fields of a response received from `url` over `transport`.
pub fn note_response<B>(
    store: &SharedHstsStore,
    url: &Url,
    response: &Response<B>,
    transport: Transport,
) -> Outcome {
    note_headers(store, url, response.headers(), transport)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{IgnoreReason, PreloadSource, StoreConfig};
    use crate::HstsStore;

    fn store() -> SharedHstsStore {
        SharedHstsStore::new(HstsStore::with_config(StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        }))
    }

    #[test]
    fn only_the_first_field_counts() {
        let s = store();
        let mut h = HeaderMap::new();
        h.append(STRICT_TRANSPORT_SECURITY, "max-age=0".parse().unwrap());
        h.append(STRICT_TRANSPORT_SECURITY, "max-age=600".parse().unwrap());
        let url = Url::parse("https://a.example/").unwrap();
        assert_eq!(
            note_headers(&s, &url, &h, Transport::Secure),
            Outcome::Ignored(IgnoreReason::NotKnown)
        );
        assert_eq!(
            note_headers(&s, &url, &HeaderMap::new(), Transport::Secure),
            Outcome::Ignored(IgnoreReason::NoStsField)
        );
    }

    #[test]
    fn uris_keep_every_part() {
        let s = store();
        let url = Url::parse("https://a.example/").unwrap();
        s.note(&url, ["max-age=600"], Transport::Secure);
        let up = upgrade_uri(&s, &"http://a.example:8080/p?q=1".parse().unwrap()).unwrap();
        assert_eq!(up, "https://a.example:8080/p?q=1");
        assert!(upgrade_uri(&s, &"/relative".parse().unwrap()).is_none());
        assert!(upgrade_uri(&s, &"http://b.example/".parse().unwrap()).is_none());
        let mut ws = Request::get("ws://a.example/chat").body(()).unwrap();
        assert!(upgrade_request(&s, &mut ws));
        assert_eq!(ws.uri(), "wss://a.example/chat");
    }
}
