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
    /// A subresource response from a host that the store's
    /// [`AcceptFrom`](crate::AcceptFrom) policy does not let set HSTS in
    /// the top-level page's context.
    #[error("third-party response")]
    ThirdParty,
}

impl IgnoreReason {
    /// A stable snake_case code for scripts: `insecure_transport`,
    /// `certificate_errors`, `ip_literal`, `localhost`, `invalid_header`,
    /// `no_sts_field`, `invalid_host`, `not_known`, `preloaded`,
    /// `third_party`.
    pub fn code(&self) -> &'static str {
        match self {
            IgnoreReason::InsecureTransport => "insecure_transport",
            IgnoreReason::CertificateErrors => "certificate_errors",
            IgnoreReason::IpLiteral => "ip_literal",
            IgnoreReason::Localhost => "localhost",
            IgnoreReason::InvalidHeader(_) => "invalid_header",
            IgnoreReason::NoStsField => "no_sts_field",
            IgnoreReason::InvalidHost(_) => "invalid_host",
            IgnoreReason::NotKnown => "not_known",
            IgnoreReason::Preloaded => "preloaded",
            IgnoreReason::ThirdParty => "third_party",
        }
    }
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
    /// The host is known and the header repeats its policy: the same
    /// includeSubDomains, and an expiry within a day of the stored one
    /// while that is more than a day away. The entry is left as it is
    /// (write dampening, as Firefox does), so a saving store has nothing
    /// new to write.
    Unchanged,
    /// Nothing changed.
    Ignored(IgnoreReason),
}

impl Outcome {
    /// The lower-case word the CLI prints: `noted`, `updated`, `removed`,
    /// `unchanged`, `ignored`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Noted => "noted",
            Outcome::Updated => "updated",
            Outcome::Removed => "removed",
            Outcome::Unchanged => "unchanged",
            Outcome::Ignored(_) => "ignored",
        }
    }
}

/// The word of [`Outcome::as_str`], and for an ignored observation its
/// reason: `noted`, `ignored: insecure transport`.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Ignored(r) => write!(f, "ignored: {r}"),
            o => f.write_str(o.as_str()),
        }
    }
}

/// Entries a store dropped to stay within its limits, counted since the
/// store was created or loaded: nothing is evicted in silence. Read it
/// with [`HstsStore::evictions`](crate::HstsStore::evictions) before and
/// after a change to see what that change evicted.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use hsts::{HstsStore, PreloadSource, StoreConfig, Transport};
/// use url::Url;
///
/// let mut store = HstsStore::with_config(StoreConfig {
///     preload: PreloadSource::Off,
///     per_site_quota: 2,
///     ..StoreConfig::default()
/// });
/// let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// for h in ["a", "b", "c"] {
///     let url = Url::parse(&format!("https://{h}.example.com/")).unwrap();
///     store.note_at(&url, ["max-age=600"], Transport::Secure, now);
/// }
/// assert_eq!(store.evictions().site_quota, 1);
/// assert_eq!(store.len(), 2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Evictions {
    /// Replaced because their site was at its per-site quota.
    pub site_quota: u64,
    /// Evicted because the store was at its capacity.
    pub capacity: u64,
    /// Left out when a store file held more than the capacity.
    pub on_load: u64,
}

impl Evictions {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.site_quota + self.capacity + self.on_load
    }

    /// What happened between `before` and `self`.
    pub fn since(&self, before: Evictions) -> Evictions {
        Evictions {
            site_quota: self.site_quota - before.site_quota.min(self.site_quota),
            capacity: self.capacity - before.capacity.min(self.capacity),
            on_load: self.on_load - before.on_load.min(self.on_load),
        }
    }
}

impl std::fmt::Display for Evictions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "evicted {} (site quota {}, capacity {}, over capacity on load {})",
            self.total(),
            self.site_quota,
            self.capacity,
            self.on_load
        )
    }
}
