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
//! ## HTTPS records
//!
//! With the feature `dns`, [`HstsLayer::https_records`] makes the service
//! ask an [`HttpsRecords`](crate::dns::HttpsRecords) source before each
//! request that HSTS leaves as `http` or `ws` (RFC 9460 §9.5), and send it
//! over `https`/`wss` when an AliasMode or usable ServiceMode record
//! exists, trusted no more than a cleartext 307 (the host does not become
//! a known HSTS host). A failed or timed-out look-up leaves the request as
//! it was. The look-up runs before the inner service is called, so that
//! service must be `Clone + Send + 'static` (hyper-util's client is): the
//! ready service is moved into the response future, a boxed `Send` future,
//! and a clone is left in its place. It needs a Tokio runtime with I/O and
//! time enabled.
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

/// The upgrade sources of a layer without HTTPS records: HSTS only (the
/// default type parameter of [`HstsLayer`] and [`HstsService`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct HstsOnly;

/// Wraps a service in [`HstsService`].
///
/// `R` is [`HstsOnly`], or [`HttpsRecords`](crate::dns::HttpsRecords) after
/// [`HstsLayer::https_records`] (feature `dns`).
#[derive(Debug, Clone)]
pub struct HstsLayer<R = HstsOnly> {
    store: SharedHstsStore,
    validity: Validity,
    records: R,
}

impl HstsLayer {
    /// A layer over `store`.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsLayer {
            store,
            validity: Validity::default(),
            records: HstsOnly,
        }
    }
}

impl<R: Clone> HstsLayer<R> {
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

    /// Asks `records` (feature `dns`) before each request that HSTS leaves
    /// as `http` or `ws`, and sends it over `https`/`wss` when an HTTPS
    /// record says so (RFC 9460 §9.5; see the [module documentation](self)).
    #[cfg(feature = "dns")]
    pub fn https_records(
        self,
        records: crate::dns::HttpsRecords,
    ) -> HstsLayer<crate::dns::HttpsRecords> {
        HstsLayer {
            store: self.store,
            validity: self.validity,
            records,
        }
    }

    /// `inner` wrapped in this layer, inside tower-http's `FollowRedirect`
    /// (standard policy): the order in which every redirect hop passes
    /// through HSTS.
    pub fn follow_redirects<S>(
        &self,
        inner: S,
    ) -> tower_http::follow_redirect::FollowRedirect<HstsService<S, R>> {
        tower_http::follow_redirect::FollowRedirect::new(self.layer(inner))
    }
}

impl<S, R: Clone> Layer<S> for HstsLayer<R> {
    type Service = HstsService<S, R>;
    fn layer(&self, inner: S) -> HstsService<S, R> {
        HstsService {
            inner,
            store: self.store.clone(),
            validity: self.validity.clone(),
            records: self.records.clone(),
        }
    }
}

/// Upgrades each request's URI before the inner service sees it, and notes
/// the STS header of each response to an https request.
#[derive(Debug, Clone)]
pub struct HstsService<S, R = HstsOnly> {
    inner: S,
    store: SharedHstsStore,
    validity: Validity,
    #[cfg_attr(not(feature = "dns"), allow(dead_code))]
    records: R,
}

/// Put on every response by [`HstsService`]: the URI the request was
/// really sent to, after HSTS (and HTTPS records). Inside tower-http's
/// `FollowRedirect`, the response carries the one of the last hop
/// (`FollowRedirect`'s own `RequestUri` is the URI before the upgrade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentUri(pub http::Uri);

/// What to note once the response arrives: for an https request only
/// (§8.1). The transport is decided then: by that time the verifier has
/// seen the certificate.
type Note = Option<(Url, SharedHstsStore, Validity)>;

fn note_for<B>(request: &http::Request<B>, store: &SharedHstsStore, validity: &Validity) -> Note {
    uri_to_url(request.uri())
        .filter(|u| u.scheme() == "https")
        .map(|url| (url, store.clone(), validity.clone()))
}

fn note_now<RB>(note: Note, response: &http::Response<RB>) {
    if let Some((url, store, validity)) = note {
        let transport: Transport = validity.transport(&url);
        note_response(&store, &url, response, transport);
    }
}

impl<S, B, RB> Service<http::Request<B>> for HstsService<S, HstsOnly>
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
        let note = note_for(&request, &self.store, &self.validity);
        HstsFuture {
            sent: Some(request.uri().clone()),
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
        note: Note,
        sent: Option<http::Uri>,
    }
}

impl<F, RB, E> Future for HstsFuture<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
{
    type Output = Result<http::Response<RB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        note_now(this.note.take(), &response);
        if let Some(sent) = this.sent.take() {
            response.extensions_mut().insert(SentUri(sent));
        }
        Poll::Ready(Ok(response))
    }
}

/// The response future of an [`HstsService`] with HTTPS records: the
/// look-up (when HSTS left the request as `http` or `ws`), the inner
/// service's call, then the STS header of the response is noted.
#[cfg(feature = "dns")]
pub type HstsRecordsFuture<RB, E> =
    Pin<Box<dyn Future<Output = Result<http::Response<RB>, E>> + Send + 'static>>;

#[cfg(feature = "dns")]
impl<S, B, RB> Service<http::Request<B>> for HstsService<S, crate::dns::HttpsRecords>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<RB>;
    type Error = S::Error;
    type Future = HstsRecordsFuture<RB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // RFC 6797 §8.3: rewrite before the request leaves.
        let hsts = upgrade_request(&self.store, &mut request);
        let ask = if hsts {
            None
        } else {
            uri_to_url(request.uri()).filter(|u| matches!(u.scheme(), "http" | "ws"))
        };
        let Some(url) = ask else {
            let note = note_for(&request, &self.store, &self.validity);
            let sent = SentUri(request.uri().clone());
            let fut = self.inner.call(request);
            return Box::pin(async move {
                let mut response = fut.await?;
                note_now(note, &response);
                response.extensions_mut().insert(sent);
                Ok(response)
            });
        };
        // The service made ready by poll_ready goes into the future, to be
        // called after the look-up; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (records, store, validity) = (
            self.records.clone(),
            self.store.clone(),
            self.validity.clone(),
        );
        Box::pin(async move {
            // RFC 9460 §9.5: as after a cleartext 307, nothing is noted from
            // the answer; a failure leaves the request as it was.
            if let Some(secure) = super::https_record_upgrade(&records, &url).await {
                if let Some(uri) = crate::http::url_to_uri(&secure) {
                    *request.uri_mut() = uri;
                }
            }
            let note = note_for(&request, &store, &validity);
            let sent = SentUri(request.uri().clone());
            let mut response = inner.call(request).await?;
            note_now(note, &response);
            response.extensions_mut().insert(sent);
            Ok(response)
        })
    }
}
