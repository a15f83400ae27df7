//! reqwest, through reqwest-middleware.
//!
//! reqwest follows redirects inside the client, where middleware never sees
//! the hops. So the inner client must not follow redirects
//! (`redirect::Policy::none()`): this middleware follows 301/302/303/307/308
//! itself, upgrading every hop before it is sent and noting every https
//! response. [`HstsMiddleware::build_client`] builds the client that way; a
//! client that follows a redirect anyway is caught on the response (its URL
//! is not the one sent) and the call fails with
//! [`SetupError::ClientFollowedRedirect`].
//!
//! ```no_run
//! use hsts::adapters::reqwest::HstsMiddleware;
//! use hsts::SharedHstsStore;
//! use hsts::HstsStore;
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! // Redirects off in the inner client, the middleware on top.
//! let client = HstsMiddleware::new(store).build_client(reqwest::Client::builder())?;
//! # let _ = client;
//! # Ok::<(), reqwest::Error>(())
//! ```
//!
//! With the feature `rustls`, give the middleware a
//! [`HstsVerifier`](crate::tls::HstsVerifier): `build_client` hands its
//! rustls configuration to reqwest (`tls_backend_preconfigured`), so known
//! HSTS hosts fail on any certificate error (RFC 6797 §8.4) and responses
//! are noted only over certificates that passed strict validation.
//! reqwest's own certificate settings (`tls_certs_only`,
//! `tls_danger_accept_invalid_certs`) no longer apply then: put them in the
//! verifier (its roots, and the wrapped verifier).
//!
//! ```no_run
//! # #[cfg(feature = "rustls")] {
//! use std::sync::Arc;
//! use hsts::adapters::reqwest::HstsMiddleware;
//! use hsts::tls::{AcceptAnyCertificate, HstsVerifier};
//! use hsts::{HstsStore, SharedHstsStore};
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let verifier = HstsVerifier::new(store.clone(), Arc::new(AcceptAnyCertificate::new())).unwrap();
//! let client = HstsMiddleware::new(store)
//!     .verifier(Arc::new(verifier))
//!     .build_client(reqwest::Client::builder())
//!     .unwrap();
//! # let _ = client; }
//! ```

use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

use super::{next_hop, RedirectError, SetupError, Validity, DEFAULT_MAX_HOPS};
use crate::http::note_headers;
use crate::upgrade::Upgrade;
use crate::SharedHstsStore;

/// The HSTS middleware for reqwest-middleware.
#[derive(Debug, Clone)]
pub struct HstsMiddleware {
    store: SharedHstsStore,
    max_hops: u32,
    validity: Validity,
    #[cfg(feature = "dns")]
    records: Option<crate::dns::HttpsRecords>,
}

impl HstsMiddleware {
    /// A middleware over `store`, following at most 10 redirects.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsMiddleware {
            store,
            max_hops: DEFAULT_MAX_HOPS,
            validity: Validity::default(),
            #[cfg(feature = "dns")]
            records: None,
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
    /// header is ever noted (RFC 6797 §8.1). Needed only for a client that
    /// does not use a [`HstsVerifier`](crate::tls::HstsVerifier).
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.validity.accept_invalid_certs = yes;
        self
    }

    /// Takes whether a certificate was valid from `verifier` (feature
    /// `rustls`): a response is noted only when its host's certificate
    /// passed strict validation. [`Self::build_client`] also makes the
    /// client use the verifier; a client built otherwise must use
    /// [`HstsVerifier::client_config`](crate::tls::HstsVerifier::client_config),
    /// or nothing is noted.
    #[cfg(feature = "rustls")]
    pub fn verifier(mut self, verifier: std::sync::Arc<crate::tls::HstsVerifier>) -> Self {
        self.validity.verifier = Some(verifier);
        self
    }

    /// Asks `records` (feature `dns`) before each hop that HSTS leaves as
    /// `http`: an AliasMode or usable ServiceMode HTTPS record sends the hop
    /// over `https` instead (RFC 9460 §9.5), trusted no more than a
    /// cleartext 307, so the host does not become a known HSTS host. A
    /// look-up that fails or times out leaves the hop as it was. The
    /// look-up runs on the caller's Tokio runtime.
    #[cfg(feature = "dns")]
    pub fn https_records(mut self, records: crate::dns::HttpsRecords) -> Self {
        self.records = Some(records);
        self
    }

    /// Builds a client with this middleware from `builder`: redirects off
    /// (the middleware follows them) and, with a
    /// [verifier](Self::verifier), TLS by its rustls configuration.
    pub fn build_client(
        self,
        builder: reqwest::ClientBuilder,
    ) -> std::result::Result<reqwest_middleware::ClientWithMiddleware, reqwest::Error> {
        let builder = builder.redirect(reqwest::redirect::Policy::none());
        #[cfg(feature = "rustls")]
        let builder = match &self.validity.verifier {
            Some(v) => builder.tls_backend_preconfigured(v.client_config()),
            None => builder,
        };
        Ok(reqwest_middleware::ClientBuilder::new(builder.build()?)
            .with(self)
            .build())
    }

    /// HSTS (RFC 6797 §8.3), then HTTPS records when set and HSTS left
    /// the URL alone.
    async fn upgrade(&self, request: &mut Request) {
        if let Upgrade::Upgraded(u) = self.store.upgrade(request.url()) {
            *request.url_mut() = u;
            return;
        }
        #[cfg(feature = "dns")]
        if let Some(records) = &self.records {
            if let Some(u) = super::https_record_upgrade(records, request.url()).await {
                *request.url_mut() = u;
            }
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
        let mut hops = 0;
        loop {
            // RFC 6797 §8.3: rewrite before anything leaves, on every hop.
            self.upgrade(&mut request).await;
            let url = request.url().clone();
            let method = request.method().clone();
            let headers = request.headers().clone();
            let (timeout, version) = (request.timeout().copied(), request.version());
            // A copy for a 307/308 hop; `None` when the body is a stream.
            let replay = request.try_clone();
            let response = next.clone().run(request, extensions).await?;
            // A client that followed a redirect itself sent hops that HSTS
            // never saw: refuse the setup rather than hand that back.
            if !same_resource(response.url(), &url) {
                return Err(reqwest_middleware::Error::middleware(
                    SetupError::ClientFollowedRedirect {
                        requested: url.to_string(),
                        answered: response.url().to_string(),
                    },
                ));
            }
            // §8.1: only a response received over https is noted.
            if url.scheme() == "https" {
                let transport = self.validity.transport(&url);
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
            self.upgrade(&mut request).await;
            if request.url().origin() != url.origin() {
                for h in super::CREDENTIAL_HEADERS {
                    request.headers_mut().remove(h);
                }
            }
        }
    }
}

/// Whether two URLs name the same resource (fragments aside).
fn same_resource(a: &url::Url, b: &url::Url) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.set_fragment(None);
    b.set_fragment(None);
    a == b
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
