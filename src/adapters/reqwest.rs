//! reqwest, through reqwest-middleware.
//!
//! reqwest follows redirects inside the client, where middleware never sees
//! the hops. So build the inner client with `redirect::Policy::none()`: this
//! middleware follows 301/302/303/307/308 itself, upgrading every hop before
//! it is sent and noting every https response.
//!
//! ```no_run
//! use hsts::adapters::reqwest::HstsMiddleware;
//! use hsts::SharedHstsStore;
//! use hsts::HstsStore;
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let inner = reqwest::Client::builder()
//!     .redirect(reqwest::redirect::Policy::none())
//!     .build()?;
//! let client = reqwest_middleware::ClientBuilder::new(inner)
//!     .with(HstsMiddleware::new(store))
//!     .build();
//! # let _ = client;
//! # Ok::<(), reqwest::Error>(())
//! ```

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

use super::{next_hop, RedirectError, DEFAULT_MAX_HOPS};
use crate::http::note_headers;
use crate::upgrade::Upgrade;
use crate::SharedHstsStore;
use crate::Transport;

/// The HSTS middleware for reqwest-middleware.
#[derive(Debug, Clone)]
pub struct HstsMiddleware {
    store: SharedHstsStore,
    max_hops: u32,
    accept_invalid_certs: bool,
}

impl HstsMiddleware {
    /// A middleware over `store`, following at most 10 redirects.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsMiddleware {
            store,
            max_hops: DEFAULT_MAX_HOPS,
            accept_invalid_certs: false,
        }
    }

    /// The most redirects followed; beyond, the call fails with
    /// [`RedirectError::TooManyRedirects`]. 0 follows none and returns the
    /// redirect response.
    pub fn max_hops(mut self, n: u32) -> Self {
        self.max_hops = n;
        self
    }

    /// Declares that the client accepts invalid certificates: then no
    /// header is ever noted (RFC 6797 §8.1).
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.accept_invalid_certs = yes;
        self
    }

    fn upgrade(&self, request: &mut Request) {
        if let Upgrade::Upgraded(u) = self.store.upgrade(request.url()) {
            *request.url_mut() = u;
        }
    }
}

#[async_trait::async_trait]
impl Middleware for HstsMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let transport = if self.accept_invalid_certs {
            Transport::CertificateErrors
        } else {
            Transport::Secure
        };
        let mut hops = 0;
        loop {
            // RFC 6797 §8.3: rewrite before anything leaves, on every hop.
            self.upgrade(&mut request);
            let url = request.url().clone();
            let method = request.method().clone();
            let headers = request.headers().clone();
            let (timeout, version) = (request.timeout().copied(), request.version());
            // A copy for a 307/308 hop; `None` when the body is a stream.
            let replay = request.try_clone();
            let response = next.clone().run(request, extensions).await?;
            // §8.1: only a response received over https is noted.
            if url.scheme() == "https" {
                note_headers(&self.store, &url, response.headers(), transport);
            }
            if self.max_hops == 0 {
                return Ok(response);
            }
            let location = response.headers().get(http::header::LOCATION);
            let hop = next_hop(
                response.status(),
                &method,
                &url,
                location.map(|v| v.as_bytes()),
            )
            .map_err(reqwest_middleware::Error::middleware)?;
            let Some(hop) = hop else {
                return Ok(response);
            };
            hops += 1;
            if hops > self.max_hops {
                return Err(reqwest_middleware::Error::middleware(
                    RedirectError::TooManyRedirects(self.max_hops),
                ));
            }
            let status = response.status().as_u16();
            let keep_body = hop.keep_body;
            request = rebuild(replay, hop, headers, timeout, version, status)?;
            if !keep_body {
                for h in super::BODY_HEADERS {
                    request.headers_mut().remove(h);
                }
            }
            // Credentials go only to the origin they were meant for: compare
            // with the URL the next hop will really use.
            self.upgrade(&mut request);
            if request.url().origin() != url.origin() {
                for h in super::CREDENTIAL_HEADERS {
                    request.headers_mut().remove(h);
                }
            }
        }
    }
}

/// The request for the next hop: the replayable copy with the hop's method
/// and URL (and no body when the hop drops it), or a fresh bodiless
/// request with the original headers. A streamed body that the hop must
/// keep cannot be resent: `BodyNotReplayable`.
fn rebuild(
    replay: Option<Request>,
    hop: super::NextHop,
    headers: http::HeaderMap,
    timeout: Option<std::time::Duration>,
    version: http::Version,
    status: u16,
) -> Result<Request> {
    Ok(match replay {
        Some(mut r) => {
            *r.method_mut() = hop.method;
            *r.url_mut() = hop.url;
            if !hop.keep_body {
                *r.body_mut() = None;
            }
            r
        }
        None if hop.keep_body => {
            return Err(reqwest_middleware::Error::middleware(
                RedirectError::BodyNotReplayable(status),
            ))
        }
        None => {
            let mut r = Request::new(hop.method, hop.url);
            *r.headers_mut() = headers;
            *r.timeout_mut() = timeout;
            *r.version_mut() = version;
            r
        }
    })
}
