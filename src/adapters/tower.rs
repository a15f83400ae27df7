//! tower: a layer for any `Service<http::Request<B>>`.
//!
//! Put it inside tower-http's `FollowRedirect`, so that the redirect loop
//! calls it for every hop: `FollowRedirect<HstsService<Client>>`, i.e.
//! `ServiceBuilder::new().layer(FollowRedirectLayer::new()).layer(HstsLayer::new(store))`,
//! or let [`HstsLayer::follow_redirects`] stack them in that order. The
//! other order (`HstsService<FollowRedirect<Client>>`) compiles, since a
//! layer cannot see what it wraps, and upgrades only the first hop: the
//! types cannot forbid it, so prefer `follow_redirects`. The inner client
//! must not follow redirects itself (hyper-util's does not).
//!
//! ## Certificates
//!
//! With the feature `rustls`, hyper-util's client takes a
//! [`HstsVerifier`](crate::tls::HstsVerifier)'s configuration through
//! hyper-rustls (`HttpsConnectorBuilder::with_tls_config(verifier.client_config())`),
//! and [`HstsLayer::verifier`] makes the layer note a response only when
//! its certificate passed strict validation. A client that cannot take a
//! rustls configuration (native-tls, a custom TLS stack) cannot enforce
//! RFC 6797 §8.4 through this crate: declare `accept_invalid_certs(true)`
//! if it accepts invalid certificates.
//!
//! ```
//! use hsts::adapters::tower::HstsLayer;
//! use hsts::SharedHstsStore;
//! use hsts::HstsStore;
//! use tower_layer::Layer;
//!
//! # #[derive(Clone)] struct Client;
//! let store = SharedHstsStore::new(HstsStore::new());
//! let service = HstsLayer::new(store).layer(Client);
//! # let _ = service;
//! ```
//!
//! Over hyper-util's client, with redirects followed by tower-http:
//!
//! ```no_run
//! use hsts::adapters::tower::HstsLayer;
//! use hsts::SharedHstsStore;
//! use hsts::HstsStore;
//! use http_body_util::Full;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use tower::ServiceBuilder;
//! use tower_http::follow_redirect::FollowRedirectLayer;
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let https = hyper_rustls::HttpsConnectorBuilder::new()
//!     .with_tls_config(
//!         rustls::ClientConfig::builder()
//!             .with_root_certificates(rustls::RootCertStore::empty()) // your roots
//!             .with_no_client_auth(),
//!     )
//!     .https_or_http()
//!     .enable_http1()
//!     .build();
//! let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build(https);
//! // FollowRedirect outside, HSTS inside: every hop is upgraded and noted.
//! let service = ServiceBuilder::new()
//!     .layer(FollowRedirectLayer::new())
//!     .layer(HstsLayer::new(store))
//!     .service(client);
//! # let _ = service;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;
use url::Url;

use super::Validity;
use crate::http::{note_response, upgrade_request, uri_to_url};
use crate::SharedHstsStore;
use crate::Transport;

/// Wraps a service in [`HstsService`].
#[derive(Debug, Clone)]
pub struct HstsLayer {
    store: SharedHstsStore,
    validity: Validity,
}

impl HstsLayer {
    /// A layer over `store`.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsLayer {
            store,
            validity: Validity::default(),
        }
    }

    /// Declares that the inner client accepts invalid certificates: then no
    /// header is ever noted (RFC 6797 §8.1). Needed only for a client that
    /// does not use a [`HstsVerifier`](crate::tls::HstsVerifier).
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.validity.accept_invalid_certs = yes;
        self
    }

    /// Takes whether a certificate was valid from `verifier` (feature
    /// `rustls`): a response is noted only when its host's certificate
    /// passed strict validation. The inner client must do TLS with
    /// [`HstsVerifier::client_config`](crate::tls::HstsVerifier::client_config)
    /// of the same verifier, or nothing is noted.
    #[cfg(feature = "rustls")]
    pub fn verifier(mut self, verifier: std::sync::Arc<crate::tls::HstsVerifier>) -> Self {
        self.validity.verifier = Some(verifier);
        self
    }

    /// `inner` wrapped in this layer, inside tower-http's `FollowRedirect`
    /// (standard policy): the order in which every redirect hop passes
    /// through HSTS.
    pub fn follow_redirects<S>(
        &self,
        inner: S,
    ) -> tower_http::follow_redirect::FollowRedirect<HstsService<S>> {
        tower_http::follow_redirect::FollowRedirect::new(self.layer(inner))
    }
}

impl<S> Layer<S> for HstsLayer {
    type Service = HstsService<S>;
    fn layer(&self, inner: S) -> HstsService<S> {
        HstsService {
            inner,
            store: self.store.clone(),
            validity: self.validity.clone(),
        }
    }
}

/// Upgrades each request's URI before the inner service sees it, and notes
/// the STS header of each response to an https request.
#[derive(Debug, Clone)]
pub struct HstsService<S> {
    inner: S,
    store: SharedHstsStore,
    validity: Validity,
}

impl<S, B, RB> Service<http::Request<B>> for HstsService<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>>,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = HstsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // RFC 6797 §8.3: rewrite before the request leaves.
        upgrade_request(&self.store, &mut request);
        // §8.1: only a response received over https is noted.
        // The transport is decided when the response arrives: by then the
        // verifier has seen the certificate.
        let note = uri_to_url(request.uri())
            .filter(|u| u.scheme() == "https")
            .map(|url| (url, self.store.clone(), self.validity.clone()));
        HstsFuture {
            inner: self.inner.call(request),
            note,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HstsService`]: the inner future, then the
    /// STS header of the response is noted.
    pub struct HstsFuture<F> {
        #[pin]
        inner: F,
        note: Option<(Url, SharedHstsStore, Validity)>,
    }
}

impl<F, RB, E> Future for HstsFuture<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
{
    type Output = Result<http::Response<RB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        if let Some((url, store, validity)) = this.note.take() {
            let transport: Transport = validity.transport(&url);
            note_response(&store, &url, &response, transport);
        }
        Poll::Ready(Ok(response))
    }
}
