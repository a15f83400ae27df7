//! ureq 3: a middleware, and a helper that follows redirects hop by hop.
//!
//! ```no_run
//! use hsts::adapters::ureq::{send_following_redirects, HstsMiddleware};
//! use hsts::SharedHstsStore;
//! use hsts::HstsStore;
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let agent: ureq::Agent = ureq::Agent::config_builder()
//!     .middleware(HstsMiddleware::new(store.clone()))
//!     // ureq follows redirects outside the middleware: let the helper do it.
//!     .max_redirects(0)
//!     .max_redirects_will_error(false)
//!     .build()
//!     .into();
//! let request = http::Request::get("http://github.com/").body(Vec::new())?;
//! let response = send_following_redirects(&agent, &store, request, 10)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ureq::middleware::{Middleware, MiddlewareNext};
use ureq::{Body, SendBody};

use super::{next_hop, RedirectError};
use crate::http::{note_response, upgrade_request, uri_to_url, url_to_uri};
use crate::SharedHstsStore;
use crate::Transport;

/// Upgrades each request before ureq sends it and notes the STS header of
/// each response received over https.
#[derive(Debug, Clone)]
pub struct HstsMiddleware {
    store: SharedHstsStore,
    accept_invalid_certs: bool,
}

impl HstsMiddleware {
    /// A middleware over `store`.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsMiddleware {
            store,
            accept_invalid_certs: false,
        }
    }

    /// Declares that the agent accepts invalid certificates: then no
    /// header is ever noted (RFC 6797 §8.1).
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.accept_invalid_certs = yes;
        self
    }
}

impl Middleware for HstsMiddleware {
    fn handle(
        &self,
        mut request: http::Request<SendBody>,
        next: MiddlewareNext,
    ) -> Result<http::Response<Body>, ureq::Error> {
        // RFC 6797 §8.3: rewrite before the request leaves.
        upgrade_request(&self.store, &mut request);
        let url = uri_to_url(request.uri());
        let mut response = next.handle(request)?;
        // §8.1: only a response received over https is noted.
        if let Some(url) = url.filter(|u| u.scheme() == "https") {
            let transport = if self.accept_invalid_certs {
                Transport::CertificateErrors
            } else {
                Transport::Secure
            };
            note_response(&self.store, &url, &response, transport);
        }
        response.extensions_mut().insert(PassedHsts);
        Ok(response)
    }
}

/// Put on every response by [`HstsMiddleware`], so that
/// [`send_following_redirects`] can tell that responses are being noted.
#[derive(Debug, Clone, Copy)]
struct PassedHsts;

/// Why [`send_following_redirects`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UreqError {
    /// ureq failed.
    #[error(transparent)]
    Ureq(#[from] ureq::Error),
    /// The redirect chain could not be followed.
    #[error(transparent)]
    Redirect(#[from] RedirectError),
    /// The agent has no [`HstsMiddleware`], so responses would not be noted.
    #[error(
        "the ureq agent has no hsts::adapters::ureq::HstsMiddleware: responses would not be noted"
    )]
    MissingMiddleware,
    /// The request's URI is not absolute.
    #[error("the request URI is not absolute: {0}")]
    RelativeUri(String),
}

/// Sends `request` with `agent`, following redirects one call at a time so
/// that each hop is upgraded before it leaves and noted when it returns.
///
/// The agent must carry [`HstsMiddleware`] over the same `store` (it notes
/// the responses; without it the call fails with
/// [`UreqError::MissingMiddleware`]) and be configured with
/// `max_redirects(0)` and `max_redirects_will_error(false)`, so that it
/// returns each redirect instead of following it unseen. At most `max_hops`
/// redirects are followed (Fetch rules, see [`super::next_hop`]); beyond,
/// [`RedirectError::TooManyRedirects`]. `Authorization`, `Cookie` and
/// `Proxy-Authorization` are dropped when a hop leaves the origin.
pub fn send_following_redirects(
    agent: &ureq::Agent,
    store: &SharedHstsStore,
    request: http::Request<Vec<u8>>,
    max_hops: u32,
) -> Result<http::Response<Body>, UreqError> {
    let (mut parts, mut body) = request.into_parts();
    let mut hops = 0;
    loop {
        let mut req = http::Request::from_parts(parts.clone(), body.clone());
        // The middleware upgrades too; doing it here tells us the URL the
        // request really goes to, against which Location is resolved.
        upgrade_request(store, &mut req);
        let current =
            uri_to_url(req.uri()).ok_or_else(|| UreqError::RelativeUri(req.uri().to_string()))?;
        let response = agent.run(req)?;
        if response.extensions().get::<PassedHsts>().is_none() {
            return Err(UreqError::MissingMiddleware);
        }
        let location = response.headers().get(http::header::LOCATION);
        let Some(hop) = next_hop(
            response.status(),
            &parts.method,
            &current,
            location.map(|v| v.as_bytes()),
        )?
        else {
            return Ok(response);
        };
        hops += 1;
        if hops > max_hops {
            return Err(RedirectError::TooManyRedirects(max_hops).into());
        }
        if !hop.keep_body {
            body = Vec::new();
            for h in super::BODY_HEADERS {
                parts.headers.remove(h);
            }
        }
        let next = store.upgrade(&hop.url).url(&hop.url);
        if next.origin() != current.origin() {
            for h in super::CREDENTIAL_HEADERS {
                parts.headers.remove(h);
            }
        }
        parts.method = hop.method;
        parts.uri = url_to_uri(&hop.url)
            .ok_or_else(|| RedirectError::UnrepresentableTarget(hop.url.clone()))?;
    }
}
