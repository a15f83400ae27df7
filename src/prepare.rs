//! The checks of RFC 6797 §8.1 that need no store: the transport, the
//! host, the localhost exemption and the grammar of the first STS field.

use url::Url;

use crate::header::StsHeader;
use crate::host::{self, CanonicalHost, Host, HostError};
use crate::outcome::{IgnoreReason, Transport};

/// The checks of §8.1 that need no store: the transport, the host, the
/// localhost exemption, and the grammar of the first STS field. Pure, so a
/// shared store can run it before taking its write lock.
pub(crate) fn prepare<I, S>(
    url: &Url,
    fields: I,
    transport: Transport,
    exempt_localhost: bool,
) -> Result<(CanonicalHost, StsHeader), IgnoreReason>
where
    I: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    // §8.1: "If an HTTP response, received over a secure transport,
    // includes an STS header field, conforming to the grammar specified
    // in Section 6.1, and there are no underlying secure transport errors
    // or warnings, the UA MUST either note the host as a Known HSTS Host
    // ... or update ...". §8.1 also: "The UA MUST ignore any STS header
    // fields not conforming to the grammar" and responses over
    // non-secure transport.
    if !matches!(url.scheme(), "https" | "wss") || transport == Transport::Insecure {
        return Err(IgnoreReason::InsecureTransport);
    }
    if transport == Transport::CertificateErrors {
        return Err(IgnoreReason::CertificateErrors);
    }
    let host = match url.host().map(host::from_url_host) {
        None => return Err(IgnoreReason::InvalidHost(HostError::Empty)),
        Some(Err(e)) => return Err(IgnoreReason::InvalidHost(e)),
        // §8.1.1: "if the substring matching the host production from the
        // Request-URI ... is an IP-literal or IPv4address, ... the UA MUST
        // NOT note this host as a Known HSTS Host".
        Some(Ok(Host::Ip(_))) => return Err(IgnoreReason::IpLiteral),
        Some(Ok(Host::Domain(d))) => d,
    };
    if exempt_localhost && host.is_localhost() {
        return Err(IgnoreReason::Localhost);
    }
    // §8.1: "If a UA receives more than one STS header field in an HTTP
    // response message over secure transport, then the UA MUST process
    // only the first such header field."
    let Some(first) = fields.into_iter().next() else {
        return Err(IgnoreReason::NoStsField);
    };
    match StsHeader::parse_bytes(first.as_ref()) {
        Ok(h) => Ok((host, h)),
        Err(e) => Err(IgnoreReason::InvalidHeader(e)),
    }
}
