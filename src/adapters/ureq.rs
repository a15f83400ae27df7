//! ureq 3: a middleware, a helper that follows redirects hop by hop, and
//! (feature `rustls`) a TLS connector that enforces RFC 6797 §8.4.
//!
//! ureq runs middleware once per call, outside its own redirect loop, so
//! the agent must not follow redirects (`max_redirects(0)`):
//! [`send_following_redirects`] follows them one call at a time. Start from
//! [`config_builder`], which sets that up; an agent that follows redirects
//! anyway is refused: [`send_following_redirects`] checks the agent's
//! configuration before sending ([`SetupError::AgentFollowsRedirects`]), and
//! [`HstsMiddleware`] fails a call whose response came from another URL than
//! the one it sent ([`SetupError::ClientFollowedRedirect`]).
//!
//! ```no_run
//! use hsts::adapters::ureq::{config_builder, send_following_redirects, HstsMiddleware};
//! use hsts::SharedHstsStore;
//! use hsts::HstsStore;
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let agent: ureq::Agent = config_builder(HstsMiddleware::new(store.clone())).build().into();
//! let request = http::Request::get("http://github.com/").body(Vec::new())?;
//! let response = send_following_redirects(&agent, &store, request, 10)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Certificates
//!
//! ureq's `TlsConfig` does not take a rustls configuration or verifier, so
//! with the feature `rustls` this module brings its own connector,
//! [`HstsConnector`], which does TLS with a
//! [`HstsVerifier`](crate::tls::HstsVerifier)'s configuration (ureq's
//! `TlsConfig` is then not used for https: the verifier's roots and wrapped
//! verifier replace `root_certs` and `disable_verification`). Give the same
//! verifier to [`HstsMiddleware::verifier`] and a response is noted only
//! when its certificate passed strict validation. The connector is built on
//! ureq's `unversioned` transport API, which may change in a minor ureq
//! release; it supports HTTP CONNECT proxies, not SOCKS.
//!
//! ```no_run
//! # #[cfg(feature = "rustls")] {
//! use std::sync::Arc;
//! use hsts::adapters::ureq::{config_builder, HstsConnector, HstsMiddleware};
//! use hsts::tls::{AcceptAnyCertificate, HstsVerifier};
//! use hsts::{HstsStore, SharedHstsStore};
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let verifier = Arc::new(
//!     HstsVerifier::new(store.clone(), Arc::new(AcceptAnyCertificate::new())).unwrap(),
//! );
//! let config = config_builder(HstsMiddleware::new(store).verifier(verifier.clone())).build();
//! let agent = ureq::Agent::with_parts(
//!     config,
//!     HstsConnector::new(&verifier),
//!     ureq::unversioned::resolver::DefaultResolver::default(),
//! );
//! # let _ = agent; }
//! ```

use ureq::config::ConfigBuilder;
use ureq::middleware::{Middleware, MiddlewareNext};
use ureq::typestate::AgentScope;
use ureq::{Body, ResponseExt, SendBody};

pub use super::SetupError;
use super::{next_hop, RedirectError, Validity};
use crate::http::{note_response, upgrade_request, uri_to_url, url_to_uri};
use crate::SharedHstsStore;

/// Upgrades each request before ureq sends it and notes the STS header of
/// each response received over https.
///
/// # Panics
///
/// It checks that each response answers the URI it sent (an agent that
/// followed a redirect itself would have sent hops HSTS never saw) with
/// ureq's `ResponseExt::get_uri`, which panics for a response that ureq
/// did not receive: one that another middleware added *after* this one
/// makes up without calling `next` (a cache or a mock). Add such a
/// middleware before this one; ureq gives no way to ask whether a
/// response has its URI.
#[derive(Debug, Clone)]
pub struct HstsMiddleware {
    store: SharedHstsStore,
    validity: Validity,
    #[cfg(feature = "dns")]
    records: Option<crate::dns::HttpsRecords>,
}

impl HstsMiddleware {
    /// A middleware over `store`.
    pub fn new(store: SharedHstsStore) -> Self {
        HstsMiddleware {
            store,
            validity: Validity::default(),
            #[cfg(feature = "dns")]
            records: None,
        }
    }

    /// Declares that the agent accepts invalid certificates: then no
    /// header is ever noted (RFC 6797 §8.1). Needed only for an agent that
    /// does not connect through [`HstsConnector`].
    pub fn accept_invalid_certs(mut self, yes: bool) -> Self {
        self.validity.accept_invalid_certs = yes;
        self
    }

    /// Takes whether a certificate was valid from `verifier` (feature
    /// `rustls`): a response is noted only when its host's certificate
    /// passed strict validation. The agent must connect through
    /// [`HstsConnector`] over the same verifier, or nothing is noted.
    #[cfg(feature = "rustls")]
    pub fn verifier(mut self, verifier: std::sync::Arc<crate::tls::HstsVerifier>) -> Self {
        self.validity.verifier = Some(verifier);
        self
    }

    /// Asks `records` (feature `dns`, blocking API) before each call that
    /// HSTS leaves as `http` or `ws`: an AliasMode or usable ServiceMode
    /// HTTPS record sends the call over `https`/`wss` instead (RFC 9460
    /// §9.5), trusted no more than a cleartext 307, so the host does not
    /// become a known HSTS host. A look-up that fails or times out leaves
    /// the call as it was. [`send_following_redirects`] resolves each
    /// `Location` against the URL really sent.
    #[cfg(feature = "dns")]
    pub fn https_records(mut self, records: crate::dns::HttpsRecords) -> Self {
        self.records = Some(records);
        self
    }

    /// HSTS (RFC 6797 §8.3), then HTTPS records when set and HSTS left the
    /// URI alone.
    fn upgrade(&self, request: &mut http::Request<SendBody>) {
        if upgrade_request(&self.store, request) {
            return;
        }
        #[cfg(feature = "dns")]
        if let Some(records) = &self.records {
            let url = uri_to_url(request.uri());
            if let Some(crate::dns::HttpsRrOutcome::Upgrade { url, .. }) =
                url.map(|u| records.lookup_blocking(&u))
            {
                if let Some(uri) = url_to_uri(&url) {
                    *request.uri_mut() = uri;
                }
            }
        }
    }
}

/// An agent configuration with `middleware`, set up as the adapter needs:
/// `max_redirects(0)` and `max_redirects_will_error(false)`, so that the
/// agent returns each redirect to [`send_following_redirects`] instead of
/// following it unseen. Add your own settings, but not redirects.
pub fn config_builder(middleware: HstsMiddleware) -> ConfigBuilder<AgentScope> {
    ureq::Agent::config_builder()
        .middleware(middleware)
        .max_redirects(0)
        .max_redirects_will_error(false)
}

impl Middleware for HstsMiddleware {
    fn handle(
        &self,
        mut request: http::Request<SendBody>,
        next: MiddlewareNext,
    ) -> Result<http::Response<Body>, ureq::Error> {
        // RFC 6797 §8.3: rewrite before the request leaves.
        self.upgrade(&mut request);
        let sent = request.uri().clone();
        let url = uri_to_url(&sent);
        let mut response = next.handle(request)?;
        // An agent that followed a redirect itself sent hops that HSTS never
        // saw: refuse the setup rather than hand that back.
        let answered = response.get_uri();
        if *answered != sent {
            return Err(ureq::Error::Other(Box::new(
                SetupError::ClientFollowedRedirect {
                    requested: sent.to_string(),
                    answered: answered.to_string(),
                },
            )));
        }
        // §8.1: only a response received over https is noted.
        if let Some(url) = url.filter(|u| u.scheme() == "https") {
            let transport = self.validity.transport(&url);
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
    /// The agent is set up so that HSTS would be skipped.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

/// Sends `request` with `agent`, following redirects one call at a time so
/// that each hop is upgraded before it leaves and noted when it returns.
///
/// The agent must carry [`HstsMiddleware`] over the same `store` (it notes
/// the responses; without it the call fails with
/// [`UreqError::MissingMiddleware`]) and be configured with
/// `max_redirects(0)` (else [`UreqError::Setup`] with
/// [`SetupError::AgentFollowsRedirects`], before anything is sent) and
/// `max_redirects_will_error(false)`, so that it returns each redirect
/// instead of following it unseen; [`config_builder`] does both. At most `max_hops`
/// redirects are followed (Fetch rules, see [`super::next_hop`]); beyond,
/// [`RedirectError::TooManyRedirects`]. `Authorization`, `Cookie` and
/// `Proxy-Authorization` are dropped when a hop leaves the origin.
pub fn send_following_redirects(
    agent: &ureq::Agent,
    store: &SharedHstsStore,
    request: http::Request<Vec<u8>>,
    max_hops: u32,
) -> Result<http::Response<Body>, UreqError> {
    let follows = agent.config().max_redirects();
    if follows != 0 {
        return Err(SetupError::AgentFollowsRedirects(follows).into());
    }
    let (mut parts, mut body) = request.into_parts();
    let mut hops = 0;
    loop {
        let mut req = http::Request::from_parts(parts.clone(), body.clone());
        // The middleware upgrades (HSTS, then HTTPS records if it has
        // them); HSTS here too keeps the URL right if it does not.
        upgrade_request(store, &mut req);
        let current =
            uri_to_url(req.uri()).ok_or_else(|| UreqError::RelativeUri(req.uri().to_string()))?;
        let response = agent.run(req)?;
        if response.extensions().get::<PassedHsts>().is_none() {
            return Err(UreqError::MissingMiddleware);
        }
        // The URL really sent (the middleware checked that the response
        // came from it), against which Location is resolved.
        let current = uri_to_url(response.get_uri()).unwrap_or(current);
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

#[cfg(feature = "rustls")]
pub use self::connector::HstsConnector;

#[cfg(feature = "rustls")]
mod connector {
    use std::fmt;
    use std::io::{Read, Write};
    use std::sync::Arc;

    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, ClientConnection, StreamOwned};
    use ureq::unversioned::transport::{
        Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers,
        NextTimeout, TcpConnector, Transport, TransportAdapter,
    };

    use crate::tls::HstsVerifier;

    /// A ureq connector (TCP, HTTP CONNECT proxies, then TLS) whose TLS is
    /// done by rustls with a [`HstsVerifier`]'s configuration, so that known
    /// HSTS hosts fail on any certificate error (RFC 6797 §8.4). Use it with
    /// `ureq::Agent::with_parts`.
    pub struct HstsConnector {
        inner: Box<dyn Connector<(), Out = Box<dyn Transport>>>,
    }

    impl fmt::Debug for HstsConnector {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("HstsConnector").finish_non_exhaustive()
        }
    }

    impl HstsConnector {
        /// A connector with `verifier`'s client configuration.
        pub fn new(verifier: &Arc<HstsVerifier>) -> Self {
            Self::with_config(Arc::new(verifier.client_config()))
        }

        /// A connector with a rustls configuration made by
        /// [`HstsVerifier::client_config`] (and then adjusted, say with
        /// ALPN or a client certificate).
        pub fn with_config(config: Arc<ClientConfig>) -> Self {
            let chain =
                ().chain(ConnectProxyConnector::default())
                    .chain(TcpConnector::default())
                    .chain(TlsConnector { config })
                    .chain(Boxing);
            HstsConnector {
                inner: Box::new(chain),
            }
        }
    }

    impl Connector<()> for HstsConnector {
        type Out = Box<dyn Transport>;

        fn connect(
            &self,
            details: &ConnectionDetails,
            chained: Option<()>,
        ) -> Result<Option<Self::Out>, ureq::Error> {
            self.inner.connect(details, chained)
        }
    }

    /// Erases the transport's type at the end of the chain.
    #[derive(Debug)]
    struct Boxing;

    impl<In: Transport> Connector<In> for Boxing {
        type Out = Box<dyn Transport>;

        fn connect(
            &self,
            _: &ConnectionDetails,
            chained: Option<In>,
        ) -> Result<Option<Self::Out>, ureq::Error> {
            Ok(chained.map(|t| Box::new(t) as Box<dyn Transport>))
        }
    }

    /// Wraps the TCP transport in TLS for https.
    struct TlsConnector {
        config: Arc<ClientConfig>,
    }

    impl fmt::Debug for TlsConnector {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsConnector").finish_non_exhaustive()
        }
    }

    fn tls_error(e: rustls::Error) -> ureq::Error {
        ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    impl<In: Transport> Connector<In> for TlsConnector {
        type Out = Either<In, TlsTransport>;

        fn connect(
            &self,
            details: &ConnectionDetails,
            chained: Option<In>,
        ) -> Result<Option<Self::Out>, ureq::Error> {
            let Some(transport) = chained else {
                return Ok(None);
            };
            if !details.needs_tls() || transport.is_tls() {
                return Ok(Some(Either::A(transport)));
            }
            let host = details
                .uri
                .host()
                .ok_or(ureq::Error::Tls("no host to verify the certificate for"))?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let name = ServerName::try_from(host.to_owned())
                .map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))?;
            let mut conn = ClientConnection::new(self.config.clone(), name).map_err(tls_error)?;
            let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
            sock.set_timeout(details.timeout);
            conn.complete_io(&mut sock)?;
            let buffers = LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            );
            Ok(Some(Either::B(TlsTransport {
                buffers,
                stream: StreamOwned { conn, sock },
            })))
        }
    }

    /// A TLS connection for ureq.
    struct TlsTransport {
        buffers: LazyBuffers,
        stream: StreamOwned<ClientConnection, TransportAdapter>,
    }

    impl fmt::Debug for TlsTransport {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TlsTransport").finish_non_exhaustive()
        }
    }

    impl Transport for TlsTransport {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }

        fn transmit_output(
            &mut self,
            amount: usize,
            timeout: NextTimeout,
        ) -> Result<(), ureq::Error> {
            self.stream.get_mut().set_timeout(timeout);
            let output = &self.buffers.output()[..amount];
            self.stream.write_all(output)?;
            Ok(())
        }

        fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
            self.stream.get_mut().set_timeout(timeout);
            let input = self.buffers.input_append_buf();
            let amount = self.stream.read(input)?;
            self.buffers.input_appended(amount);
            Ok(amount > 0)
        }

        fn is_open(&mut self) -> bool {
            self.stream.get_mut().get_mut().is_open()
        }

        fn is_tls(&self) -> bool {
            true
        }
    }
}
