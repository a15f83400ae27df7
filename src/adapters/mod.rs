//! Using hsts with your HTTP client.
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
//! [`crate::shared::SharedHstsStore`] is the thread-safe handle all of them
//! share.
//!
//! ## Every hop of a redirect chain
//!
//! HSTS must rewrite each request before it leaves, including each hop of a
//! redirect chain (`http → https → http` must become all https once the host
//! is known). Clients that follow redirects internally hide the hops from
//! middleware, so:
//! - **reqwest**: build the inner client with `redirect::Policy::none()`; the
//!   middleware follows 301/302/303/307/308 itself, upgrading and noting on
//!   every hop, with a hop limit.
//! - **tower**: put [`tower::HstsLayer`] *inside* tower-http's
//!   `FollowRedirect` (that is, `FollowRedirect<HstsService<Client>>`), so the
//!   redirect loop calls it for every hop.
//! - **ureq**: ureq runs middleware once per call, outside its redirect loop.
//!   Configure the agent with `max_redirects(0)` and call
//!   [`ureq::send_following_redirects`], which follows the hops one call at a
//!   time.
//!
//! ## Invalid certificates
//!
//! RFC 6797 §8.1: a header received over a connection with certificate
//! errors must be ignored. An adapter cannot see whether the client was
//! built to accept invalid certificates, so tell it: each adapter has
//! `accept_invalid_certs(true)`, after which it never notes a header.
//!
//! ## Keeping the store between runs
//!
//! Open the shared store from a file; it is saved on demand, every N
//! changes, and when the last handle is dropped (merging with what other
//! processes wrote meanwhile):
//!
//! ```no_run
//! use hsts::shared::SharedHstsStore;
//! use hsts::StoreConfig;
//!
//! let store = SharedHstsStore::open("hsts.bin".as_ref(), StoreConfig::default(), Some(16), true)?;
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

/// The default cap on redirect hops.
pub const DEFAULT_MAX_HOPS: u32 = 10;

/// Why following a redirect chain stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// More hops than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    /// A redirect without a usable Location.
    #[error("redirect with an invalid Location: {0}")]
    BadLocation(String),
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
    let location = location.ok_or_else(|| RedirectError::BadLocation("missing".into()))?;
    let location = std::str::from_utf8(location)
        .map_err(|_| RedirectError::BadLocation("not UTF-8".into()))?;
    let url = current
        .join(location)
        .map_err(|e| RedirectError::BadLocation(format!("{location:?}: {e}")))?;
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
