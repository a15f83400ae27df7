//! Helpers for the `http` crate's types, for any HTTP client built on them.
//!
//! ```
//! use hsts::http::{note_response, upgrade_request};
//! use hsts::SharedHstsStore;
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

use chrono::{DateTime, Utc};
use http::header::{HeaderMap, STRICT_TRANSPORT_SECURITY};
use http::{Request, Response, Uri};
use url::Url;

use crate::upgrade::Upgrade;
use crate::SharedHstsStore;
use crate::{HstsStore, Outcome, Transport};

/// An absolute `http::Uri` as a `url::Url`; `None` for a relative URI
/// (`/path`, `*`, or an authority alone).
pub fn uri_to_url(uri: &Uri) -> Option<Url> {
    uri.scheme()?;
    uri.authority()?;
    Url::parse(&uri.to_string()).ok()
}

/// A `url::Url` as an `http::Uri`, without its fragment (which is never
/// sent); `None` when `http` does not accept it.
pub fn url_to_uri(url: &Url) -> Option<Uri> {
    if url.fragment().is_some() {
        let mut url = url.clone();
        url.set_fragment(None);
        return url.as_str().parse().ok();
    }
    url.as_str().parse().ok()
}

/// The URI to request instead of `uri` at `now`, if its host is a known
/// HSTS host (RFC 6797 §8.3); `None` to send it as it is.
pub fn upgrade_uri_at(store: &HstsStore, uri: &Uri, now: DateTime<Utc>) -> Option<Uri> {
    let url = uri_to_url(uri)?;
    match store.upgrade_at(&url, now) {
        Upgrade::Upgraded(u) => url_to_uri(&u),
        Upgrade::Unchanged => None,
    }
}

/// The URI to request instead of `uri` now, if its host is a known HSTS host.
pub fn upgrade_uri(store: &SharedHstsStore, uri: &Uri) -> Option<Uri> {
    store.read(|s| upgrade_uri_at(s, uri, s.now()))
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

/// The request with its URI upgraded if its host is a known HSTS host.
pub fn upgraded_request<B>(store: &SharedHstsStore, mut request: Request<B>) -> Request<B> {
    upgrade_request(store, &mut request);
    request
}

/// The `Strict-Transport-Security` field values, in the order received.
pub fn sts_fields(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(STRICT_TRANSPORT_SECURITY)
        .iter()
        .map(|v| v.as_bytes())
}

/// Notes, at `now`, the STS fields of `headers` received from `url` over
/// `transport` (only the first field counts, RFC 6797 §8.1).
pub fn note_headers_at(
    store: &mut HstsStore,
    url: &Url,
    headers: &HeaderMap,
    transport: Transport,
    now: DateTime<Utc>,
) -> Outcome {
    store.note_at(url, sts_fields(headers), transport, now)
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
    use crate::HstsStore;
    use crate::{IgnoreReason, PreloadSource, StoreConfig};

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

    #[test]
    fn returning_and_explicit_time_forms() {
        let mut plain = HstsStore::with_config(StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        });
        let now = plain.now();
        let url = Url::parse("https://a.example/").unwrap();
        let mut h = HeaderMap::new();
        h.append(STRICT_TRANSPORT_SECURITY, "max-age=60".parse().unwrap());
        assert_eq!(
            note_headers_at(&mut plain, &url, &h, Transport::Secure, now),
            Outcome::Noted
        );
        let uri: Uri = "http://a.example/".parse().unwrap();
        assert_eq!(
            upgrade_uri_at(&plain, &uri, now).unwrap(),
            "https://a.example/"
        );
        let later = now + chrono::Duration::seconds(61);
        assert!(upgrade_uri_at(&plain, &uri, later).is_none());

        let s = SharedHstsStore::new(plain);
        let r = upgraded_request(&s, Request::post("http://a.example/f").body(7).unwrap());
        assert_eq!(
            (r.uri().to_string().as_str(), *r.body()),
            ("https://a.example/f", 7)
        );
    }

    #[test]
    fn certificate_errors_and_plain_http_are_never_noted() {
        let s = store();
        let response = Response::builder()
            .header(STRICT_TRANSPORT_SECURITY, "max-age=600")
            .body(())
            .unwrap();
        let https = Url::parse("https://a.example/").unwrap();
        let http = Url::parse("http://a.example/").unwrap();
        assert_eq!(
            note_response(&s, &https, &response, Transport::CertificateErrors),
            Outcome::Ignored(IgnoreReason::CertificateErrors)
        );
        assert_eq!(
            note_response(&s, &http, &response, Transport::Secure),
            Outcome::Ignored(IgnoreReason::InsecureTransport)
        );
        assert!(s.lookup("a.example").unwrap().is_none());
    }

    #[test]
    fn fragments_are_not_sent() {
        let url = Url::parse("https://a.example/p?q#frag").unwrap();
        assert_eq!(url_to_uri(&url).unwrap(), "https://a.example/p?q");
    }
}
