//! What noting a response did: [`Outcome`], and why nothing changed
//! ([`IgnoreReason`]); and how the response travelled ([`Transport`]).

use crate::header::HeaderError;
use crate::host::HostError;

/// How the transport that carried a response was secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TLS with no certificate errors or warnings (§8.1).
    Secure,
    /// TLS, but with certificate errors the user or client chose to ignore (§8.1).
    CertificateErrors,
    /// No TLS at all.
    Insecure,
}

impl Transport {
    /// From the two flags an HTTP client usually has.
    pub fn from_flags(secure: bool, cert_errors: bool) -> Transport {
        match (secure, cert_errors) {
            (false, _) => Transport::Insecure,
            (true, true) => Transport::CertificateErrors,
            (true, false) => Transport::Secure,
        }
    }
}

/// Why an observation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IgnoreReason {
    /// The response did not come over a secure transport (or its URL is not https/wss).
    #[error("insecure transport")]
    InsecureTransport,
    /// The secure transport had certificate errors.
    #[error("certificate errors")]
    CertificateErrors,
    /// The host is an IP literal.
    #[error("IP literal host")]
    IpLiteral,
    /// The host is `localhost` or under it, and the exemption is on.
    #[error("localhost is exempt")]
    Localhost,
    /// The first STS field value is invalid.
    #[error("invalid header: {0}")]
    InvalidHeader(HeaderError),
    /// The response has no STS field.
    #[error("no Strict-Transport-Security field")]
    NoStsField,
    /// The URL's host is not a valid domain name.
    #[error("invalid host: {0}")]
    InvalidHost(HostError),
    /// max-age=0 for a host that is not known: nothing to remove.
    #[error("max-age=0 for a host that is not known")]
    NotKnown,
    /// max-age=0 for a host that only the preload list knows. As in
    /// Chromium, a header cannot remove a preloaded host.
    #[error("max-age=0 cannot remove a preloaded host")]
    Preloaded,
}

/// What an observation did to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A new known HSTS host.
    Noted,
    /// An existing entry's policy was replaced.
    Updated,
    /// max-age=0 removed the host's entry.
    Removed,
    /// Nothing changed.
    Ignored(IgnoreReason),
}

impl Outcome {
    /// The lower-case word the CLI prints: `noted`, `updated`, `removed`, `ignored`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Noted => "noted",
            Outcome::Updated => "updated",
            Outcome::Removed => "removed",
            Outcome::Ignored(_) => "ignored",
        }
    }
}
