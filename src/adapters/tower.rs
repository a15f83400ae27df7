//! tower: a layer for any `Service<http::Request<B>>`.
//!
//! Put it inside tower-http's `FollowRedirect`, so that the redirect loop
//! calls it for every hop: `FollowRedirect<HstsService<Client>>`, i.e.
//! `ServiceBuilder::new().layer(FollowRedirectLayer::new()).layer(HstsLayer::new(store))`.
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

use crate::http::{note_response, upgrade_request, uri_to_url};
use crate::SharedHstsStore;
use crate::Transport;

/// Wraps a service in [`HstsService`].
#[derive(Debug, Clone)]
pub struct HstsLayer {
    store: SharedHstsStore,
    accept_invalid_certs: bool,
}

impl HstsLayer {
    /// A layer over `store`.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsLayer {
            store,
            accept_invalid_certs: false,
        }
    }

    /// Declares that the inner client accepts invalid certificates: then no
    /// header is ever noted (RFC 6797 §8.1).
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.accept_invalid_certs = yes;
        self
    }
}

impl<S> Layer<S> for HstsLayer {
    type Service = HstsService<S>;
    fn layer(&self, inner: S) -> HstsService<S> {
        HstsService {
            inner,
            store: self.store.clone(),
            accept_invalid_certs: self.accept_invalid_certs,
        }
    }
}

/// Upgrades each request's URI before the inner service sees it, and notes
/// the STS header of each response to an https request.
#[derive(Debug, Clone)]
pub struct HstsService<S> {
    inner: S,
    store: SharedHstsStore,
    accept_invalid_certs: bool,
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
        let note = uri_to_url(request.uri())
            .filter(|u| u.scheme() == "https")
            .map(|url| (url, self.store.clone()));
        HstsFuture {
            inner: self.inner.call(request),
            note,
            transport: if self.accept_invalid_certs {
                Transport::CertificateErrors
            } else {
                Transport::Secure
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`HstsService`]: the inner future, then the
    /// STS header of the response is noted.
    pub struct HstsFuture<F> {
        #[pin]
        inner: F,
        note: Option<(Url, SharedHstsStore)>,
        transport: Transport,
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
        if let Some((url, store)) = this.note.take() {
            note_response(&store, &url, &response, *this.transport);
        }
        Poll::Ready(Ok(response))
    }
}
