//! # Using hsts with your HTTP client
//!
//! Each adapter sits behind its own Cargo feature, off by default:
//!
//! | feature | client | what you get |
//! | --- | --- | --- |
//! | `reqwest` | reqwest through reqwest-middleware | [`reqwest::HstsMiddleware`], which follows redirects itself so that every hop passes through HSTS |
//! | `tower` | any `Service<http::Request<B>>`, e.g. hyper-util's legacy client | [`tower::HstsLayer`] |
//! | `ureq` | ureq 3 | [`ureq::HstsMiddleware`] and [`ureq::send_following_redirects`] |
//!
//! Without a feature, [`crate::http`] still upgrades `http::Request`s and
//! notes `http::Response`s for any client built on the `http` crate, and
//! [`crate::SharedHstsStore`] is the thread-safe handle all of them
//! share.
//!
//! ## Every hop of a redirect chain
//!
//! HSTS must rewrite each request before it leaves, including each hop of a
//! redirect chain (`http → https → http` must become all https once the host
//! is known). Clients that follow redirects internally hide the hops from
//! middleware, so the adapters follow them and refuse a client that does it
//! itself ([`SetupError`]): a misconfigured client is an error, never a
//! silent plain-http hop.
//! - **reqwest**: [`reqwest::HstsMiddleware::build_client`] builds the inner
//!   client with `redirect::Policy::none()`; the middleware follows
//!   301/302/303/307/308 itself, upgrading and noting on every hop, with a
//!   hop limit. A client built otherwise that follows a redirect anyway is
//!   caught on the response (its URL is not the one sent):
//!   [`SetupError::ClientFollowedRedirect`]. That hop has already been sent
//!   by then; reqwest does not let a middleware read the client's policy.
//! - **tower**: [`tower::HstsLayer::follow_redirects`] puts the layer
//!   *inside* tower-http's `FollowRedirect` (`FollowRedirect<HstsService<Client>>`),
//!   so the redirect loop calls it for every hop. The other order compiles
//!   (a layer cannot see what it wraps) and upgrades the first hop only.
//! - **ureq**: ureq runs middleware once per call, outside its redirect
//!   loop. Start from [`ureq::config_builder`] ([`ureq::HstsMiddleware`],
//!   `max_redirects(0)`, `max_redirects_will_error(false)`) and send through
//!   [`ureq::send_following_redirects`], which follows the hops one call at
//!   a time, refuses an agent without the middleware, and refuses an agent
//!   with `max_redirects` above 0 before sending anything
//!   ([`SetupError::AgentFollowsRedirects`]). The middleware alone fails a
//!   call that ureq answered from another URL than the one sent
//!   ([`SetupError::ClientFollowedRedirect`]).
//!
//! A redirect that changes origin drops `Authorization`, `Cookie` and
//! `Proxy-Authorization` (reqwest middleware and ureq helper); the hop cap
//! is [`DEFAULT_MAX_HOPS`] unless set, and going beyond it is
//! [`RedirectError::TooManyRedirects`].
//!
//! ## Invalid certificates
//!
//! RFC 6797 §8.1: a header received over a connection with certificate
//! errors must be ignored; §8.4: a connection to a known HSTS host with any
//! certificate error must fail, with no user recourse.
//!
//! With the feature `rustls`, both follow from a
//! [`HstsVerifier`](crate::tls::HstsVerifier) that wraps the verifier the
//! client chose (a permissive one for `--insecure`): known HSTS hosts are
//! always checked against the real roots and fail with
//! [`KnownHostCertificateError`](crate::tls::KnownHostCertificateError), and
//! the verifier records whether each server name's certificate passed
//! strict validation. Give the adapter the verifier (`.verifier(v)`) and it
//! notes a response only over a valid certificate; give the client the
//! verifier's configuration:
//!
//! | client | how it takes the verifier |
//! | --- | --- |
//! | reqwest | [`reqwest::HstsMiddleware::build_client`] (`tls_backend_preconfigured`) |
//! | ureq 3 | [`ureq::HstsConnector`] in `Agent::with_parts` (ureq's `TlsConfig` takes no rustls configuration) |
//! | hyper-util | hyper-rustls `HttpsConnectorBuilder::with_tls_config(v.client_config())` |
//!
//! A client that cannot take a rustls configuration (reqwest or ureq with
//! native-tls, another TLS stack) cannot enforce §8.4 through this crate.
//! For it, and without the feature, tell the adapter by hand: each has
//! `accept_invalid_certs(true)`, after which every response is noted as
//! [`Transport::CertificateErrors`](crate::Transport::CertificateErrors),
//! that is, ignored. Upgrading still happens. Forgetting the setting lets
//! anyone who can present a certificate pin your client to https for a
//! host, or switch HSTS off for it with `max-age=0`.
//!
//! The record is per server name, because clients do not say which pooled
//! connection a response came over: a name that presented an invalid
//! certificate once is not noted again while the verifier remembers it,
//! and a connection opened before its host became known is not checked
//! again if the client reuses it.
//!
//! ## HTTPS records (RFC 9460 §9.5)
//!
//! With the feature `dns`, each adapter takes an
//! [`HttpsRecords`](crate::dns::HttpsRecords) source:
//!
//! | adapter | option | look-up |
//! | --- | --- | --- |
//! | reqwest | [`reqwest::HstsMiddleware::https_records`] | async, on the caller's Tokio runtime |
//! | ureq | [`ureq::HstsMiddleware::https_records`] | blocking ([`HttpsRecords::lookup_blocking`](crate::dns::HttpsRecords::lookup_blocking)) |
//! | tower | [`tower::HstsLayer::https_records`] | async, before the inner service is called (a boxed `Send` future; the inner service must be `Clone + Send + 'static`) |
//!
//! Before each hop, after HSTS: when HSTS does not upgrade an `http`/`ws`
//! URL, the records are asked, and an AliasMode record or a ServiceMode
//! record this client can use sends the hop to the `https`/`wss` URL
//! instead, as after a cleartext 307: the host does not become a known
//! HSTS host, and nothing is noted from the DNS answer (an STS header in
//! the https response is noted as usual, by the certificate rules above).
//! No record, NXDOMAIN, unusable records, a failure or a timeout leave the
//! hop as it was: the record is a hint. Answers are cached for their TTL,
//! so a redirect chain on one host costs one query.
//!
//! ## Keeping the store between runs
//!
//! Open the shared store from a file ([`crate::persist`] format); it is
//! saved on demand, every N changes, and when the last handle is dropped,
//! each time merging with what other processes wrote meanwhile. A file that
//! cannot be read is an error and is never overwritten. Automatic saves run
//! on the thread that made the Nth change: in an async program prefer
//! `every_changes: None` and call `save` from a blocking task now and then.
//!
//! ```no_run
//! use hsts::{SaveOptions, SharedHstsStore};
//! use hsts::StoreConfig;
//!
//! let options = SaveOptions { every_changes: Some(16), on_drop: true };
//! let store = SharedHstsStore::open("hsts.bin", StoreConfig::default(), options)?;
//! // ... hand clones of `store` to the adapters ...
//! store.save()?;
//! # Ok::<(), hsts::persist::PersistError>(())
//! ```

#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "ureq")]
pub mod ureq;

use http::{Method, StatusCode};
use url::Url;

/// Headers that describe the request body, dropped when a redirect turns
/// the request into one without a body.
#[cfg(any(feature = "reqwest", feature = "ureq"))]
pub(crate) const BODY_HEADERS: [http::HeaderName; 4] = [
    http::header::CONTENT_LENGTH,
    http::header::CONTENT_TYPE,
    http::header::CONTENT_ENCODING,
    http::header::TRANSFER_ENCODING,
];

/// Headers that carry credentials, dropped when a redirect leaves the
/// origin they were sent to.
#[cfg(any(feature = "reqwest", feature = "ureq"))]
pub(crate) const CREDENTIAL_HEADERS: [http::HeaderName; 3] = [
    http::header::AUTHORIZATION,
    http::header::COOKIE,
    http::header::PROXY_AUTHORIZATION,
];

/// A client set up so that HSTS would be skipped, found before or while
/// sending. Never a silent plain-http hop: the call fails with this error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The HTTP client followed a redirect itself, where HSTS never saw the
    /// hop (reqwest without `redirect::Policy::none()`, a ureq agent without
    /// `max_redirects(0)`).
    #[error(
        "the HTTP client followed a redirect itself (asked for {requested}, answered from {answered}), \
         so HSTS never saw that hop: build it without redirects \
         (reqwest: redirect::Policy::none(); ureq: max_redirects(0)) and let the hsts adapter follow them"
    )]
    ClientFollowedRedirect {
        /// The URL the adapter sent.
        requested: String,
        /// The URL the response came from.
        answered: String,
    },
    /// The ureq agent would follow up to this many redirects itself.
    #[error(
        "the ureq agent follows up to {0} redirects itself, out of reach of HSTS: \
         configure it with max_redirects(0) and send through hsts::adapters::ureq::send_following_redirects"
    )]
    AgentFollowsRedirects(u32),
}

/// How an adapter decides the [`crate::Transport`] of an https response:
/// from the [`crate::tls::HstsVerifier`] when it has one, else from the
/// hand-set `accept_invalid_certs` flag.
#[cfg(any(feature = "reqwest", feature = "tower", feature = "ureq"))]
#[derive(Debug, Clone, Default)]
pub(crate) struct Validity {
    pub(crate) accept_invalid_certs: bool,
    #[cfg(feature = "rustls")]
    pub(crate) verifier: Option<std::sync::Arc<crate::tls::HstsVerifier>>,
}

#[cfg(any(feature = "reqwest", feature = "tower", feature = "ureq"))]
impl Validity {
    /// The transport to note a response from the https `url` with.
    pub(crate) fn transport(&self, url: &Url) -> crate::Transport {
        if self.accept_invalid_certs {
            return crate::Transport::CertificateErrors;
        }
        #[cfg(feature = "rustls")]
        if let Some(v) = &self.verifier {
            return v.transport(url);
        }
        let _ = url;
        crate::Transport::Secure
    }
}

/// The URL an HTTPS record upgrades `url` to (RFC 9460 §9.5), if any: for a
/// URL that HSTS left alone. Not applicable, no record, unusable records and
/// failed look-ups all leave the request as it was.
#[cfg(all(feature = "dns", any(feature = "reqwest", feature = "tower")))]
pub(crate) async fn https_record_upgrade(
    records: &crate::dns::HttpsRecords,
    url: &Url,
) -> Option<Url> {
    match records.lookup(url).await {
        crate::dns::HttpsRrOutcome::Upgrade { url, .. } => Some(url),
        _ => None,
    }
}

/// The default cap on redirect hops.
pub const DEFAULT_MAX_HOPS: u32 = 10;

/// Why following a redirect chain stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// More hops than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    /// A redirect without a Location field.
    #[error("redirect without a Location")]
    MissingLocation,
    /// A Location field that is not UTF-8.
    #[error("redirect with a Location that is not UTF-8")]
    LocationNotUtf8,
    /// A Location that does not resolve to a URL against the request's.
    #[error("redirect with an invalid Location {location:?}: {source}")]
    BadLocation {
        /// The field as sent.
        location: String,
        /// Why it does not resolve.
        #[source]
        source: url::ParseError,
    },
    /// A redirect target that the HTTP client cannot represent as a URI.
    #[error("redirect to {0}, which is not a valid request URI")]
    UnrepresentableTarget(url::Url),
    /// A 307/308 asks to resend a body that cannot be replayed.
    #[error("a {0} redirect needs the request body again, and it cannot be cloned")]
    BodyNotReplayable(u16),
}

/// What the next hop of a redirect is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    /// The method of the next request.
    pub method: Method,
    /// The absolute URL of the next request (not yet upgraded).
    pub url: Url,
    /// Whether the request body is sent again (307 and 308).
    pub keep_body: bool,
}

/// The next hop for a response, following the Fetch rules: 301 and 302 turn
/// POST into GET, 303 turns everything but HEAD into GET, 307 and 308 keep
/// the method and the body. `None` when the status is not a redirect.
pub fn next_hop(
    status: StatusCode,
    method: &Method,
    current: &Url,
    location: Option<&[u8]>,
) -> Result<Option<NextHop>, RedirectError> {
    let (method, keep_body) = match status.as_u16() {
        301 | 302 if method == Method::POST => (Method::GET, false),
        301 | 302 => (method.clone(), true),
        303 if method == Method::HEAD => (Method::HEAD, false),
        303 => (Method::GET, false),
        307 | 308 => (method.clone(), true),
        _ => return Ok(None),
    };
    let location = location.ok_or(RedirectError::MissingLocation)?;
    let location = std::str::from_utf8(location).map_err(|_| RedirectError::LocationNotUtf8)?;
    let url = current
        .join(location)
        .map_err(|source| RedirectError::BadLocation {
            location: location.to_owned(),
            source,
        })?;
    Ok(Some(NextHop {
        method,
        url,
        keep_body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        let here = Url::parse("http://a.example/x/y").unwrap();
        let hop = |s: u16, m: Method, loc: &str| {
            next_hop(
                StatusCode::from_u16(s).unwrap(),
                &m,
                &here,
                Some(loc.as_bytes()),
            )
        };
        let h = hop(302, Method::POST, "/z").unwrap().unwrap();
        assert_eq!(
            (h.method, h.url.as_str(), h.keep_body),
            (Method::GET, "http://a.example/z", false)
        );
        let h = hop(307, Method::POST, "https://b.example/")
            .unwrap()
            .unwrap();
        assert_eq!((h.method, h.keep_body), (Method::POST, true));
        let h = hop(303, Method::PUT, "w").unwrap().unwrap();
        assert_eq!(
            (h.method, h.url.as_str()),
            (Method::GET, "http://a.example/x/w")
        );
        assert!(hop(200, Method::GET, "/").unwrap().is_none());
        assert!(next_hop(StatusCode::FOUND, &Method::GET, &here, None).is_err());
        assert!(hop(301, Method::GET, "http://[").is_err());
    }
}
