//! # hsts
//!
//! The user-agent side of HTTP Strict Transport Security (RFC 6797): parse
//! `Strict-Transport-Security`, remember known HSTS hosts, and rewrite
//! `http://` and `ws://` URLs before a request leaves.
//!
//! The core is synchronous and does no I/O. Queries take `&self`, changes
//! take `&mut self`, every change returns an outcome enum, and every call that
//! depends on the time has an explicit-time twin (`…_at(now)`).
//!
//! ## A tour
//!
//! Parse a header field value ([`StsHeader`]):
//!
//! ```
//! use hsts::StsHeader;
//!
//! let h = StsHeader::parse("max-age=31536000; includeSubDomains").unwrap();
//! assert_eq!((h.max_age, h.include_subdomains), (31_536_000, true));
//! // A broken or duplicated directive invalidates the whole header.
//! assert!(StsHeader::parse("max-age=1; includeSubDomains; includesubdomains").is_err());
//! ```
//!
//! Note the header of a response received over https ([`HstsStore`]), then ask
//! about hosts in any form: upper case, U-labels, a trailing dot ([`host`]):
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use hsts::{HstsStore, IgnoreReason, Outcome, Transport};
//! use url::Url;
//!
//! let mut store = HstsStore::new();
//! let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
//! let url = Url::parse("https://bücher.example/").unwrap();
//!
//! let fields = ["max-age=600; includeSubDomains", "max-age=0"]; // only the first counts
//! assert_eq!(store.note_at(&url, fields, Transport::Secure, now), Outcome::Noted);
//! assert!(store.is_known_at("WWW.XN--BCHER-KVA.EXAMPLE.", now).unwrap());
//! assert!(!store.is_known_at("bücher.example", now + Duration::seconds(601)).unwrap());
//!
//! // Plain http, certificate errors and IP literals are never noted.
//! let plain = Url::parse("http://example.org/").unwrap();
//! assert_eq!(
//!     store.note_at(&plain, ["max-age=600"], Transport::Insecure, now),
//!     Outcome::Ignored(IgnoreReason::InsecureTransport)
//! );
//! ```
//!
//! Rewrite a request URL before it leaves ([`Upgrade`]):
//!
//! ```
//! # use chrono::{TimeZone, Utc};
//! # use hsts::{HstsStore, Transport};
//! # use url::Url;
//! # let mut store = HstsStore::new();
//! # let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
//! # store.note_at(&Url::parse("https://example.com/").unwrap(), ["max-age=600"], Transport::Secure, now);
//! let url = Url::parse("http://example.com:80/login?next=/#top").unwrap();
//! let to_send = store.upgrade_url_at(&url, now);
//! assert_eq!(to_send.as_str(), "https://example.com/login?next=/#top");
//! ```
//!
//! To write the URL out rather than send a request to it (a proxy, a log
//! rewriter), [`HstsStore::upgrade_text_at`] gives its text as a
//! [`UrlText`] borrowed from the parsed URL, without building a new `Url`.
//!
//! ## Using hsts with your HTTP client
//!
//! [`SharedHstsStore`] is the thread-safe handle to give a client,
//! [`http`] upgrades `http::Request`s and notes `http::Response`s, and the
//! `adapters` module (features `reqwest`, `tower`, `ureq`) plugs the store
//! into reqwest-middleware, tower stacks and ureq 3 so that every redirect
//! hop passes through HSTS. Its documentation covers redirects, clients that
//! accept invalid certificates, and keeping the store in a file between runs.
//!
//! With the feature `rustls`, [`tls::HstsVerifier`] enforces RFC 6797 §8.4
//! at connection time: it wraps the certificate verifier your client chose
//! (here one that accepts anything, as `--insecure` would), fails any
//! certificate error from a known HSTS host with no user recourse, and
//! tells the adapter whether each certificate was valid, so that headers
//! are noted only over valid ones.
//!
//! With the feature `redis`, `redis_sync::RedisSync` lets a fleet of
//! workers share one store through Redis: lookups stay local, and a sync
//! beside each store (`SharedHstsStore::attach_sync`) pushes its notes and
//! removals and pulls the others', with the file merge's rule.
//!
//! With the feature `dns`, [`dns::HttpsRecords`] adds HTTPS DNS records
//! (RFC 9460 §9.5) as a second upgrade source: each adapter's
//! `.https_records(records)` asks them before every hop that HSTS leaves as
//! `http`/`ws`, and sends it as https when the host has an AliasMode or
//! usable ServiceMode record, trusted no more than a cleartext 307 (the
//! host never becomes a known HSTS host). A failed or timed-out look-up
//! leaves the request as it was. Both together, on reqwest:
//!
//! ```
//! # #[cfg(all(feature = "rustls", feature = "reqwest", feature = "dns"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use hsts::adapters::reqwest::HstsMiddleware;
//! use hsts::dns::{HttpsRecords, HttpsRrConfig};
//! use hsts::tls::{AcceptAnyCertificate, HstsVerifier};
//! use hsts::{HstsStore, SharedHstsStore};
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! // §8.4: known HSTS hosts must present a valid certificate, whatever the
//! // wrapped verifier accepts.
//! let verifier = Arc::new(HstsVerifier::new(
//!     store.clone(),
//!     Arc::new(AcceptAnyCertificate::new()),
//! )?);
//! // HTTPS records from the system's resolver, each look-up bounded.
//! let records = HttpsRecords::new(HttpsRrConfig {
//!     timeout: Duration::from_millis(300),
//!     ..HttpsRrConfig::default()
//! })?;
//! // Redirects off in reqwest (the middleware follows them, upgrading every
//! // hop by HSTS, then HTTPS records), TLS by the verifier, validity read
//! // from the verifier.
//! let client = HstsMiddleware::new(store)
//!     .verifier(verifier)
//!     .https_records(records)
//!     .build_client(reqwest::Client::builder())?;
//! # let _ = client;
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "rustls", feature = "reqwest", feature = "dns")))]
//! # fn main() {}
//! ```
//!
//! The same options exist on the ureq middleware and the tower layer
//! (`adapters::ureq::HstsMiddleware::https_records`,
//! `adapters::tower::HstsLayer::https_records`); the `adapters` module
//! documentation has the details, and `examples/` a runnable program per
//! adapter.
//!
//! ## Linting a header for deployment
//!
//! [`lint`] reads a value exactly as the store does and reports what a
//! browser will do with it, and what hstspreload.org, the Mozilla
//! Observatory or SSL Labs will say:
//!
//! ```
//! use hsts::lint::{lint, Profile};
//!
//! let report = lint("max-age=31536000;includeSubDomains;Preload", Profile::Preload);
//! assert!(report.valid() && report.preload_ready());
//! ```
//!
//! A wall clock is injected, never read deep inside: give the store a
//! [`clock::FixedClock`] in tests, and the time-free methods (`note`,
//! `lookup`, `upgrade`) use it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(unreachable_pub)]

#[cfg(any(
    feature = "reqwest",
    feature = "tower",
    feature = "ureq",
    feature = "get"
))]
pub mod adapters;
pub mod audit;
pub mod clock;
#[cfg(feature = "dns")]
pub mod dns;
pub mod host;
pub mod http;
#[doc(hidden)]
pub mod internal;
pub mod lint;
pub mod persist;
pub mod preload;
#[cfg(feature = "redis")]
pub mod redis_sync;
#[cfg(feature = "rustls")]
pub mod tls;

mod bounds;
mod config;
mod context;
mod entry;
mod header;
mod in_context;
mod keys;
mod outcome;
mod partitions;
mod prepare;
mod private;
mod psl;
mod removals;
mod shared;
mod store;
mod swar;
mod table;
mod upgrade;
mod wire;

/// One xorshift step: the unit tests' seeded random inputs.
#[cfg(test)]
pub(crate) fn xorshift(seed: &mut u64) {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
}

/// The `chrono` crate this one's API takes and returns
/// ([`chrono::DateTime`]`<`[`chrono::Utc`]`>`).
pub use chrono;
/// The `url` crate this one's API takes and returns ([`url::Url`]).
pub use url;

pub use bounds::{EVICTION_WINDOW, MAX_CAPACITY};
pub use config::{PreloadSource, StoreConfig};
pub use context::{AcceptFrom, RequestContext};
pub use entry::{Entry, EntryProblem, EntryRef, Match, Source};
pub use header::{HeaderError, HeaderErrorKind, StsHeader};
pub use host::{CanonicalHost, CanonicalName, Host, HostError};
pub use in_context::InContext;
pub use keys::RandomError;
pub use outcome::{Evictions, IgnoreReason, Outcome, Transport};
pub use private::{PrivateInContext, PrivateOptions, PrivateSession};
pub use psl::{PslError, SuffixList, SuffixSource};
pub use shared::{SaveOptions, SharedHstsStore, SharedInContext};
pub use store::HstsStore;
pub use upgrade::{secure_url, Upgrade, UrlText};
