//! tower: a layer for any `Service<http::Request<B>>`.
//!
//! Put it inside tower-http's `FollowRedirect`, so that the redirect loop
//! calls it for every hop: `FollowRedirect<HstsService<Client>>`, i.e.
//! `ServiceBuilder::new().layer(FollowRedirectLayer::new()).layer(HstsLayer::new(store))`.
//!
//! ```
//! use hsts::adapters::tower::HstsLayer;
//! use hsts::shared::SharedHstsStore;
//! use hsts::HstsStore;
//! use tower_layer::Layer;
//!
//! # #[derive(Clone)] struct Client;
//! let store = SharedHstsStore::new(HstsStore::new());
//! let service = HstsLayer::new(store).layer(Client);
//! # let _ = service;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

use crate::http::{note_response, upgrade_request, uri_to_url};
use crate::shared::SharedHstsStore;
use crate::store::Transport;

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
    S::Future: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        upgrade_request(&self.store, &mut request);
        let url = uri_to_url(request.uri()).filter(|u| u.scheme() == "https");
        let store = self.store.clone();
        let transport = if self.accept_invalid_certs {
            Transport::CertificateErrors
        } else {
            Transport::Secure
        };
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            if let Some(url) = url {
                note_response(&store, &url, &response, transport);
            }
            Ok(response)
        })
    }
}
