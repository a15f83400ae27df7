//! RFC 6797 §8.4 at connection time: a rustls certificate verifier for
//! known HSTS hosts (feature `rustls`).
//!
//! §8.4: "When connecting to a Known HSTS Host, the UA MUST terminate the
//! connection ... if there are any errors, whether 'warning' or 'fatal' or
//! any other error level, with the underlying secure transport", and §12.1:
//! with no user recourse. A client built to accept invalid certificates (a
//! scanner's `--insecure`, reqwest's `tls_danger_accept_invalid_certs`)
//! would otherwise connect to a known HSTS host with any certificate.
//!
//! [`HstsVerifier`] wraps the verifier the client chose (any
//! [`ServerCertVerifier`], for example [`AcceptAnyCertificate`] for
//! `--insecure`) and a strict [`WebPkiServerVerifier`] over the real roots
//! (webpki-roots by default, or a [`RootCertStore`] you give it, e.g. the
//! `--cacert` file or a test CA):
//! - for a **known HSTS host** (dynamic or preloaded, asked of the
//!   [`SharedHstsStore`]; IP addresses never are), the certificate must pass
//!   the strict verifier *and* the wrapped one. A strict failure ends the
//!   handshake with [`rustls::Error::InvalidCertificate`] carrying a
//!   [`KnownHostCertificateError`]: the host, the certificate problem and
//!   "RFC 6797 §8.4: no user recourse";
//! - for **any other host** the wrapped verifier decides, as before.
//!
//! Either way the verifier records whether the certificate passed strict
//! validation, per server name ([`HstsVerifier::certificate_status`]), so
//! that noting follows the truth (§8.1): an adapter given the verifier
//! notes a response only when its host's certificate was valid, and as
//! [`Transport::CertificateErrors`] (ignored) otherwise.
//!
//! ```
//! use std::sync::Arc;
//! use hsts::tls::{AcceptAnyCertificate, HstsVerifier};
//! use hsts::{HstsStore, SharedHstsStore};
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! // `--insecure`: accept any certificate, except from known HSTS hosts,
//! // which are checked against the webpki roots whatever happens.
//! let verifier = Arc::new(HstsVerifier::new(store, Arc::new(AcceptAnyCertificate::new()))?);
//! let config: rustls::ClientConfig = verifier.client_config();
//! // Give `config` to the client (reqwest's `tls_backend_preconfigured`,
//! // hyper-rustls's `with_tls_config`, the ureq adapter's connector) and
//! // `verifier` to the adapter, which then notes only over valid certificates.
//! # let _ = config;
//! # Ok::<(), hsts::tls::VerifierError>(())
//! ```
//!
//! ## What the record can and cannot tell
//!
//! Clients pool connections and do not say which connection a response
//! came over, so the record is per server name and errs on the side of not
//! noting: a name whose certificate failed strict validation once stays
//! [`CertificateStatus::Invalid`] for as long as the verifier remembers it
//! (a pooled connection over that certificate may still be answering), and
//! a name the verifier has not seen (or has forgotten: at most
//! [`DEFAULT_REMEMBERED_NAMES`] names, valid ones forgotten first) is
//! [`CertificateStatus::Unknown`], which is not noted either.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use url::Url;

use crate::{SharedHstsStore, Transport};

/// How many server names a verifier remembers by default.
pub const DEFAULT_REMEMBERED_NAMES: usize = 4096;

/// The error inside the rustls error that ends a handshake with a known
/// HSTS host whose certificate failed strict validation.
///
/// rustls reports it as
/// `Error::InvalidCertificate(CertificateError::Other(OtherError(Arc<KnownHostCertificateError>)))`;
/// HTTP clients wrap that further (usually in an `std::io::Error`):
/// [`KnownHostCertificateError::find`] digs it out of any error.
#[derive(Clone, thiserror::Error)]
#[error(
    "{host} is a known HSTS host and its certificate failed validation ({problem}); \
     RFC 6797 §8.4: no user recourse"
)]
#[non_exhaustive]
pub struct KnownHostCertificateError {
    /// The server name, lower case, without a trailing dot.
    pub host: String,
    /// What the strict verifier found wrong with the certificate.
    pub problem: rustls::Error,
}

/// Written so that the message also shows through errors that print their
/// causes with `{:?}`, as rustls does for `CertificateError::Other`.
impl fmt::Debug for KnownHostCertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KnownHostCertificateError")
            .field("host", &self.host)
            .field("problem", &self.problem)
            .field("rule", &"RFC 6797 §8.4: no user recourse")
            .finish()
    }
}

impl KnownHostCertificateError {
    /// The §8.4 error somewhere in `err`: itself, in its chain of sources,
    /// inside a `rustls::Error`, inside an `std::io::Error` (whose
    /// `source()` skips the error it wraps), or (feature `ureq`) inside a
    /// `ureq::Error` or the ureq adapter's `UreqError`.
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Self> {
        let mut next = Some(err);
        while let Some(e) = next {
            if let Some(found) = Self::in_one(e) {
                return Some(found);
            }
            next = e.source();
        }
        None
    }

    fn in_one<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Self> {
        if let Some(found) = e.downcast_ref::<Self>() {
            return Some(found);
        }
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) =
            e.downcast_ref::<rustls::Error>()
        {
            return other.0.downcast_ref::<Self>();
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.get_ref().and_then(|inner| Self::find(inner));
        }
        // ureq's errors do not expose their I/O error as a source.
        #[cfg(feature = "ureq")]
        {
            let ureq = match e.downcast_ref::<crate::adapters::ureq::UreqError>() {
                Some(crate::adapters::ureq::UreqError::Ureq(u)) => Some(u),
                _ => e.downcast_ref::<ureq::Error>(),
            };
            if let Some(ureq::Error::Io(io)) = ureq {
                return Self::find(io);
            }
        }
        None
    }

    fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }
}

/// Why a [`HstsVerifier`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    /// The strict verifier could not be built from the roots (for example,
    /// an empty root store).
    #[error("cannot build the strict certificate verifier: {0}")]
    Roots(#[from] VerifierBuilderError),
    /// The crypto provider cannot make a TLS client configuration.
    #[error("the crypto provider cannot make a TLS client configuration: {0}")]
    Provider(#[from] rustls::Error),
}

/// What a verifier knows about the certificates a server name presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateStatus {
    /// Every certificate seen for the name passed strict validation.
    Valid,
    /// At least one certificate seen for the name failed strict validation.
    Invalid,
    /// No handshake with the name is remembered.
    Unknown,
}

/// A rustls [`ServerCertVerifier`] that enforces RFC 6797 §8.4 for known
/// HSTS hosts and records which certificates were valid; see the
/// [module documentation](self).
pub struct HstsVerifier {
    store: SharedHstsStore,
    wrapped: Arc<dyn ServerCertVerifier>,
    strict: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    seen: Mutex<Seen>,
}

impl fmt::Debug for HstsVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HstsVerifier")
            .field("wrapped", &self.wrapped)
            .field("strict", &self.strict)
            .finish_non_exhaustive()
    }
}

/// Server name → whether any certificate it presented failed strict
/// validation.
#[derive(Debug)]
struct Seen {
    names: HashMap<String, bool>,
    capacity: usize,
}

impl Seen {
    fn record(&mut self, name: &str, valid: bool) {
        if let Some(failed) = self.names.get_mut(name) {
            *failed |= !valid;
            return;
        }
        if self.names.len() >= self.capacity {
            // Forget a valid name first: forgetting an invalid one only
            // makes it Unknown, which is not noted either, but keeps less.
            let victim = self
                .names
                .iter()
                .find(|(_, failed)| !**failed)
                .or_else(|| self.names.iter().next())
                .map(|(k, _)| k.clone());
            if let Some(victim) = victim {
                self.names.remove(&victim);
            }
        }
        if self.capacity > 0 {
            self.names.insert(name.to_owned(), !valid);
        }
    }
}

/// The key for a DNS name: lower case, no trailing dot.
fn name_key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The process-wide default provider, or ring.
fn default_provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

impl HstsVerifier {
    /// A verifier over `store`, wrapping `wrapped`, whose strict verifier
    /// trusts the Mozilla roots of the `webpki-roots` crate. The crypto
    /// provider is the process default, or ring.
    pub fn new(
        store: SharedHstsStore,
        wrapped: Arc<dyn ServerCertVerifier>,
    ) -> Result<Self, VerifierError> {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::with_roots(store, wrapped, roots)
    }

    /// A verifier whose strict verifier trusts `roots` only (a `--cacert`
    /// file, a private CA, a test CA).
    pub fn with_roots(
        store: SharedHstsStore,
        wrapped: Arc<dyn ServerCertVerifier>,
        roots: impl Into<Arc<RootCertStore>>,
    ) -> Result<Self, VerifierError> {
        Self::with_roots_and_provider(store, wrapped, roots, default_provider())
    }

    /// A verifier with the given roots and crypto provider, which also
    /// checks handshake signatures and makes [`Self::client_config`].
    pub fn with_roots_and_provider(
        store: SharedHstsStore,
        wrapped: Arc<dyn ServerCertVerifier>,
        roots: impl Into<Arc<RootCertStore>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, VerifierError> {
        let strict =
            WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone()).build()?;
        // Fail now rather than in `client_config`.
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        Ok(HstsVerifier {
            store,
            wrapped,
            strict,
            provider,
            seen: Mutex::new(Seen {
                names: HashMap::new(),
                capacity: DEFAULT_REMEMBERED_NAMES,
            }),
        })
    }

    /// A verifier for a client that verifies certificates normally: the
    /// wrapped verifier is the strict one over `roots`. Known HSTS hosts
    /// then fail with the §8.4 error, and the adapters learn validity from it.
    pub fn strict(
        store: SharedHstsStore,
        roots: impl Into<Arc<RootCertStore>>,
    ) -> Result<Self, VerifierError> {
        let provider = default_provider();
        let roots = roots.into();
        let wrapped =
            WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone()).build()?;
        Self::with_roots_and_provider(store, wrapped, roots, provider)
    }

    /// Remember at most `n` server names (default
    /// [`DEFAULT_REMEMBERED_NAMES`]); 0 remembers none, so nothing is
    /// ever noted.
    pub fn remember_names(self, n: usize) -> Self {
        self.seen_guard().capacity = n;
        self
    }

    /// A rustls client configuration that uses this verifier, with the
    /// provider's safe default protocol versions and no client certificate.
    pub fn client_config(self: &Arc<Self>) -> rustls::ClientConfig {
        rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .expect("checked when the verifier was built")
            .dangerous()
            .with_custom_certificate_verifier(self.clone())
            .with_no_client_auth()
    }

    /// What the verifier knows about the certificates `host` presented.
    /// IP addresses are not recorded: [`CertificateStatus::Unknown`].
    pub fn certificate_status(&self, host: &str) -> CertificateStatus {
        match self.seen_guard().names.get(&name_key(host)) {
            Some(false) => CertificateStatus::Valid,
            Some(true) => CertificateStatus::Invalid,
            None => CertificateStatus::Unknown,
        }
    }

    /// How to note a response from `url`: [`Transport::Secure`] for an
    /// https or wss URL whose host's certificate is
    /// [`CertificateStatus::Valid`], [`Transport::CertificateErrors`] for
    /// other https or wss URLs, [`Transport::Insecure`] otherwise.
    pub fn transport(&self, url: &Url) -> Transport {
        if !matches!(url.scheme(), "https" | "wss") {
            return Transport::Insecure;
        }
        match url.host() {
            Some(url::Host::Domain(d))
                if self.certificate_status(d) == CertificateStatus::Valid =>
            {
                Transport::Secure
            }
            _ => Transport::CertificateErrors,
        }
    }

    fn seen_guard(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_known(&self, name: &str) -> bool {
        matches!(self.store.lookup(name), Ok(Some(_)))
    }
}

impl ServerCertVerifier for HstsVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let ServerName::DnsName(dns) = server_name {
            let strict = self.strict.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            );
            let name = name_key(dns.as_ref());
            self.seen_guard().record(&name, strict.is_ok());
            if let Err(problem) = strict {
                if self.is_known(&name) {
                    return Err(KnownHostCertificateError {
                        host: name,
                        problem,
                    }
                    .into_rustls());
                }
            }
        }
        // HSTS only ever adds checks: a stricter wrapped verifier (pinning,
        // say) still has the last word.
        self.wrapped
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.strict.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.strict.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.strict.supported_verify_schemes()
    }
}

/// A verifier that accepts any certificate chain for any name (`curl
/// --insecure`), while still checking handshake signatures with its crypto
/// provider. Dangerous on its own; behind [`HstsVerifier`] it never applies
/// to known HSTS hosts.
#[derive(Debug)]
pub struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl AcceptAnyCertificate {
    /// With the process default provider, or ring.
    pub fn new() -> Self {
        Self::with_provider(default_provider())
    }

    /// With the given provider.
    pub fn with_provider(provider: Arc<CryptoProvider>) -> Self {
        AcceptAnyCertificate { provider }
    }
}

impl Default for AcceptAnyCertificate {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_is_bounded_and_invalid_sticks() {
        let mut seen = Seen {
            names: HashMap::new(),
            capacity: 2,
        };
        seen.record("a.example", false);
        seen.record("a.example", true);
        assert_eq!(seen.names.get("a.example"), Some(&true), "invalid sticks");
        seen.record("b.example", false);
        seen.record("c.example", false);
        assert_eq!(seen.names.len(), 2);
        // Nothing valid to forget first: one of the invalid names went.
        seen.record("d.example", false);
        assert_eq!(seen.names.len(), 2);
        let mut none = Seen {
            names: HashMap::new(),
            capacity: 0,
        };
        none.record("a.example", true);
        assert!(none.names.is_empty());
    }

    #[test]
    fn valid_names_are_forgotten_first() {
        let mut seen = Seen {
            names: HashMap::new(),
            capacity: 2,
        };
        seen.record("bad.example", false);
        seen.record("good.example", true);
        seen.record("new.example", true);
        assert_eq!(seen.names.get("bad.example"), Some(&true));
        assert!(!seen.names.contains_key("good.example"));
    }

    #[test]
    fn names_are_keyed_in_one_form() {
        assert_eq!(name_key("WWW.Example.COM."), "www.example.com");
    }

    #[test]
    fn the_error_says_why_and_is_found_again() {
        let e = KnownHostCertificateError {
            host: "a.example".into(),
            problem: rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        };
        let text = e.to_string();
        assert!(
            text.contains("a.example") && text.contains("UnknownIssuer"),
            "{text}"
        );
        assert!(text.contains("RFC 6797 §8.4: no user recourse"), "{text}");
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, e.clone().into_rustls());
        assert!(format!("{io}").contains("RFC 6797 §8.4"), "{io}");
        let found = KnownHostCertificateError::find(&io).unwrap();
        assert_eq!(found.host, "a.example");
    }
}
