//! HTTPS DNS records as an upgrade source (RFC 9460 §9.5; feature `dns`).
//!
//! # Overview
//!
//! Before an `http` (or `ws`) request to a host that HSTS does not upgrade,
//! a client SHOULD look up the HTTPS records of the corresponding `https`
//! URL's host, and if the answer holds any AliasMode record or any
//! ServiceMode record it can use, it SHOULD "behave as if it has received an
//! HTTP 307 (Temporary Redirect)" to the `https` URL (RFC 9460 §9.5).
//! [`HttpsRecords`] does that look-up and returns the decision as an
//! [`HttpsRrOutcome`]:
//!
//! - [`HttpsRrOutcome::Upgrade`]: the secure URL (`http` → `https`, `ws` →
//!   `wss`, an explicit port 80 → 443, any other port kept, exactly as
//!   [`secure_url`] rewrites it) and why ([`HttpsRrReason`]);
//! - [`HttpsRrOutcome::NoRecord`] (NOERROR without an HTTPS record, or
//!   NXDOMAIN), [`HttpsRrOutcome::Incompatible`] (only records this client
//!   must ignore, [`Incompatibility`]), [`HttpsRrOutcome::Failed`] (timeout,
//!   SERVFAIL, network error: [`LookupError`]) and
//!   [`HttpsRrOutcome::NotApplicable`] (not `http`/`ws`, an IP address): the
//!   request goes as it was. The record is a hint; a failure never blocks
//!   the request.
//!
//! The answer is trusted no more than a cleartext 307: it changes the URL of
//! this one request and **never** makes the host a known HSTS host (this
//! module does not touch any store). Answers are cached for their TTL in a
//! bounded cache ([`HttpsRrConfig::cache_capacity`]), with the time taken
//! from the injected [`Clock`] or given explicitly to the `…_at(now)` twins.
//! Look-ups of one name that miss the cache at the same time (async or
//! blocking, on any runtime or thread) send one query: the first asks, the
//! others wait for its answer, and if it is cancelled or not answered
//! within [`HttpsRrConfig::timeout`], one of them takes its place.
//!
//! Which name is asked: the host for the default port (`http://h/` and
//! `http://h:80/` become `https://h/`, so `h` is asked), and
//! `_N._https.h` for any other port `N` (RFC 9460 §9.1), since
//! `http://h:8080/` becomes `https://h:8080/`.
//!
//! There is an async API ([`HttpsRecords::lookup`], [`HttpsRecords::upgrade`]
//! and their `_at` twins; they need a Tokio runtime with I/O and time
//! enabled) and a blocking one ([`HttpsRecords::lookup_blocking`],
//! [`HttpsRecords::upgrade_blocking`] and twins), which runs each look-up on
//! a small current-thread runtime of its own (on a helper thread when called
//! from inside a Tokio runtime, so it never panics there). The
//! `upgrade…` methods apply HSTS first, from a [`SharedHstsStore`], and ask
//! DNS only for what HSTS leaves alone.
//!
//! ```no_run
//! use std::time::Duration;
//! use hsts::dns::{HttpsRecords, HttpsRrConfig, HttpsRrOutcome, NameServer, UpgradeDecision};
//! use hsts::{HstsStore, SharedHstsStore};
//! use url::Url;
//!
//! let records = HttpsRecords::new(HttpsRrConfig {
//!     name_server: NameServer::Addr("127.0.0.1:5353".parse().unwrap()),
//!     timeout: Duration::from_millis(300),
//!     ..HttpsRrConfig::default()
//! })?;
//! let url = Url::parse("http://example.com/").unwrap();
//!
//! // DNS only:
//! match records.lookup_blocking(&url) {
//!     HttpsRrOutcome::Upgrade { url, reason } => println!("-> {url} ({reason})"),
//!     other => println!("unchanged: {other}"),
//! }
//!
//! // HSTS first, then HTTPS records:
//! let store = SharedHstsStore::new(HstsStore::new());
//! let decision: UpgradeDecision = records.upgrade_blocking(&store, &url);
//! let to_send = decision.url(&url);
//! # let _ = to_send;
//! # Ok::<(), hsts::dns::LookupError>(())
//! ```
//!
//! The blocking twins driven by an explicit time, as tests do:
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use hsts::dns::{HttpsRecords, HttpsRrConfig, HttpsRrOutcome, NotApplicable};
//! use url::Url;
//!
//! let records =
//!     HttpsRecords::new(HttpsRrConfig::default_with_addr("127.0.0.1:1".parse().unwrap())).unwrap();
//! let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! // Nothing to ask for an https URL or an IP address: no packet is sent.
//! let https = Url::parse("https://example.com/").unwrap();
//! assert_eq!(
//!     records.lookup_blocking_at(&https, now),
//!     HttpsRrOutcome::NotApplicable(NotApplicable::Scheme)
//! );
//! let ip = Url::parse("http://192.0.2.1/").unwrap();
//! assert_eq!(
//!     records.lookup_blocking_at(&ip, now),
//!     HttpsRrOutcome::NotApplicable(NotApplicable::IpAddress)
//! );
//! assert_eq!(
//!     hsts::dns::query_name(&Url::parse("http://Example.com:8080/").unwrap()).as_deref(),
//!     Some("_8080._https.example.com")
//! );
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::rdata::svcb::{SvcParamKey, SvcParamValue, SVCB};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;
use tokio::sync::watch;
use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::host::{self, Host};
use crate::upgrade::{secure_url, Upgrade};
use crate::SharedHstsStore;

/// The most HTTPS records of one answer that are looked at; the rest of a
/// (hostile) huge answer is ignored.
pub const MAX_RECORDS: usize = 32;

/// The largest cache a [`HttpsRrConfig::cache_capacity`] can ask for.
pub const MAX_CACHE_CAPACITY: usize = 1 << 20;

/// How long a negative answer without an SOA record is cached, at most.
const NEGATIVE_TTL_WITHOUT_SOA: Duration = Duration::from_secs(30);

/// Which name server answers the HTTPS-record queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameServer {
    /// The system's resolver configuration (`/etc/resolv.conf` on Unix),
    /// read once by [`HttpsRecords::new`].
    #[default]
    System,
    /// This server only (the CLI's `--dns ADDR:PORT`): UDP, and TCP when a
    /// UDP answer is truncated.
    Addr(SocketAddr),
}

/// Settings of an [`HttpsRecords`] source.
#[derive(Debug, Clone)]
pub struct HttpsRrConfig {
    /// Where the queries go (default: the system's resolver).
    pub name_server: NameServer,
    /// The whole look-up, retries included, gives up after this long and
    /// leaves the request unchanged (default 400 ms).
    pub timeout: Duration,
    /// The most answers kept (default 1,024; at most [`MAX_CACHE_CAPACITY`];
    /// 0 caches nothing). When the cache is full, a new answer first drops
    /// every expired one, then the one that expires soonest.
    pub cache_capacity: usize,
    /// A record's TTL is honoured up to this long (default one hour).
    pub max_ttl: Duration,
    /// A negative answer (NOERROR without an HTTPS record, NXDOMAIN) is
    /// cached for the negative TTL of its SOA record (RFC 2308: the lesser
    /// of the SOA's TTL and its MINIMUM), at most this long (default 5
    /// minutes); without an SOA, for 30 s at most.
    pub max_negative_ttl: Duration,
    /// A failed look-up (timeout, SERVFAIL, network error) is remembered
    /// this long, so that a resolver that is down costs one timeout per name
    /// in that time instead of one per request (default 5 s; zero: not at
    /// all).
    pub failure_ttl: Duration,
    /// The ALPN protocol identifiers the client speaks (default `http/1.1`
    /// and `h2`). A ServiceMode record whose ALPN set (its `alpn` values,
    /// plus `http/1.1` unless `no-default-alpn`) shares none of them is
    /// ignored (RFC 9460 §7.1.2).
    pub alpn: Vec<String>,
    /// The clock of the methods without an explicit time (default: the
    /// system's).
    pub clock: Arc<dyn Clock>,
}

impl Default for HttpsRrConfig {
    fn default() -> Self {
        HttpsRrConfig {
            name_server: NameServer::System,
            timeout: Duration::from_millis(400),
            cache_capacity: 1024,
            max_ttl: Duration::from_secs(3600),
            max_negative_ttl: Duration::from_secs(300),
            failure_ttl: Duration::from_secs(5),
            alpn: vec!["http/1.1".to_owned(), "h2".to_owned()],
            clock: Arc::new(SystemClock),
        }
    }
}

impl HttpsRrConfig {
    /// The defaults, with queries sent to `addr`.
    pub fn default_with_addr(addr: SocketAddr) -> Self {
        HttpsRrConfig {
            name_server: NameServer::Addr(addr),
            ..HttpsRrConfig::default()
        }
    }
}

/// Why an HTTPS record upgrades the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpsRrReason {
    /// An AliasMode record (SvcPriority 0); RFC 9460 §9.5 upgrades on any.
    AliasMode {
        /// Its TargetName, without the final dot (`.` when it is the root).
        target: String,
    },
    /// A ServiceMode record this client can use: the one with the lowest
    /// SvcPriority.
    ServiceMode {
        /// Its SvcPriority (1 or more).
        priority: u16,
        /// Its TargetName, without the final dot (`.` when it is the root,
        /// which means the owner name).
        target: String,
    },
}

impl fmt::Display for HttpsRrReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpsRrReason::AliasMode { target } => write!(f, "HTTPS record, AliasMode {target}"),
            HttpsRrReason::ServiceMode { priority, target } => {
                write!(f, "HTTPS record, ServiceMode {priority} {target}")
            }
        }
    }
}

/// Why HTTPS records that exist do not upgrade the request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incompatibility {
    /// Every ServiceMode record lists in `mandatory` a key this client does
    /// not understand (RFC 9460 §8: the record MUST be ignored); the key of
    /// the record with the lowest SvcPriority.
    UnknownMandatoryKey(u16),
    /// Every ServiceMode record's ALPN set lacks all of the client's
    /// protocols ([`HttpsRrConfig::alpn`]).
    NoCommonAlpn,
    /// A record of the set is malformed (RFC 9460 §8: `mandatory` lists
    /// itself, lists a key twice, or lists a key the record lacks), so the
    /// whole set is rejected (§2.4.3).
    Malformed(&'static str),
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Incompatibility::UnknownMandatoryKey(k) => write!(f, "mandatory key{k} not understood"),
            Incompatibility::NoCommonAlpn => f.write_str("no ALPN protocol in common"),
            Incompatibility::Malformed(why) => write!(f, "malformed record set: {why}"),
        }
    }
}

/// Why no look-up was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotApplicable {
    /// The scheme is not `http` or `ws` (https is already secure).
    Scheme,
    /// The host is an IP address, which has no HTTPS records.
    IpAddress,
    /// The URL has no host, or one that is not a valid DNS name.
    InvalidHost,
}

/// A look-up that did not get an answer. The request goes unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No answer within [`HttpsRrConfig::timeout`].
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server answered with an error code other than NXDOMAIN
    /// (SERVFAIL, REFUSED, ...).
    #[error("error response from the name server: {0}")]
    ErrorResponse(String),
    /// Any other failure of the resolver (network, malformed answer).
    #[error("DNS look-up failed: {0}")]
    Resolver(String),
    /// The system's resolver configuration could not be read.
    #[error("cannot read the system's resolver configuration: {0}")]
    SystemConfig(String),
    /// The blocking API could not start its runtime.
    #[error("cannot start the DNS runtime: {0}")]
    Runtime(String),
}

/// What the HTTPS records say about one request URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum HttpsRrOutcome {
    /// Behave as after a 307 to `url` (RFC 9460 §9.5).
    Upgrade {
        /// The secure URL to request instead.
        url: Url,
        /// The record that says so.
        reason: HttpsRrReason,
    },
    /// No HTTPS record: NOERROR with none (`nxdomain: false`) or NXDOMAIN.
    NoRecord {
        /// Whether the name does not exist at all.
        nxdomain: bool,
    },
    /// HTTPS records exist, but none this client can use.
    Incompatible(Incompatibility),
    /// The look-up failed; the record is a hint, so the request goes as it was.
    Failed(LookupError),
    /// Nothing to look up for this URL.
    NotApplicable(NotApplicable),
}

impl HttpsRrOutcome {
    /// The URL to request: the upgraded one, or `original`.
    pub fn url(self, original: &Url) -> Url {
        match self {
            HttpsRrOutcome::Upgrade { url, .. } => url,
            _ => original.clone(),
        }
    }

    /// Whether the URL was upgraded.
    pub fn is_upgrade(&self) -> bool {
        matches!(self, HttpsRrOutcome::Upgrade { .. })
    }
}

impl fmt::Display for HttpsRrOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpsRrOutcome::Upgrade { url, reason } => write!(f, "upgrade to {url} ({reason})"),
            HttpsRrOutcome::NoRecord { nxdomain: false } => f.write_str("no HTTPS record"),
            HttpsRrOutcome::NoRecord { nxdomain: true } => f.write_str("NXDOMAIN"),
            HttpsRrOutcome::Incompatible(i) => write!(f, "HTTPS records not usable: {i}"),
            HttpsRrOutcome::Failed(e) => write!(f, "HTTPS record look-up failed: {e}"),
            HttpsRrOutcome::NotApplicable(NotApplicable::Scheme) => {
                f.write_str("not an http or ws URL")
            }
            HttpsRrOutcome::NotApplicable(NotApplicable::IpAddress) => f.write_str("IP address"),
            HttpsRrOutcome::NotApplicable(NotApplicable::InvalidHost) => {
                f.write_str("no valid host name")
            }
        }
    }
}

/// HSTS first, then HTTPS records: the URL a request must use.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum UpgradeDecision {
    /// The host is a known HSTS host: no DNS query was made.
    Hsts(Url),
    /// An HTTPS record upgrades the request (the host stays unknown to HSTS).
    HttpsRecord {
        /// The secure URL to request instead.
        url: Url,
        /// The record that says so.
        reason: HttpsRrReason,
    },
    /// Send the request as it is; why HTTPS records did not upgrade it.
    Unchanged(HttpsRrOutcome),
}

impl UpgradeDecision {
    /// The URL to request: the upgraded one, or `original`.
    pub fn url(self, original: &Url) -> Url {
        match self {
            UpgradeDecision::Hsts(u) | UpgradeDecision::HttpsRecord { url: u, .. } => u,
            UpgradeDecision::Unchanged(_) => original.clone(),
        }
    }

    /// Whether the URL was upgraded, by either source.
    pub fn is_upgraded(&self) -> bool {
        !matches!(self, UpgradeDecision::Unchanged(_))
    }
}

/// The name to ask for HTTPS records before requesting `url`: the host of
/// its secure twin for the default port, `_N._https.HOST` for any other
/// port `N` (RFC 9460 §9.1). `None` when no look-up applies (not `http` or
/// `ws`, an IP address, no valid host).
pub fn query_name(url: &Url) -> Option<String> {
    plan(url).ok().map(|p| p.name)
}

/// What to ask, and what to answer on an upgrade.
struct Plan {
    name: String,
    secure: Url,
}

fn plan(url: &Url) -> Result<Plan, NotApplicable> {
    // secure_url refuses every scheme but http and ws.
    let secure = secure_url(url).ok_or(NotApplicable::Scheme)?;
    let host = match url.host().map(host::from_url_host) {
        Some(Ok(Host::Domain(h))) => h,
        Some(Ok(Host::Ip(_))) => return Err(NotApplicable::IpAddress),
        Some(Err(_)) | None => return Err(NotApplicable::InvalidHost),
    };
    let name = match secure.port() {
        None => host.into_string(),
        Some(port) => format!("_{port}._https.{}", host.as_str()),
    };
    // A name over 253 octets (the prefix can push one over) cannot be asked.
    if name.len() > host::MAX_NAME_LEN {
        return Err(NotApplicable::InvalidHost);
    }
    Ok(Plan { name, secure })
}

/// What one answer means, independent of the URL: the part that is cached.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Upgrade(HttpsRrReason),
    NoRecord { nxdomain: bool },
    Incompatible(Incompatibility),
    Failed(LookupError),
}

impl Verdict {
    fn outcome(self, secure: Url) -> HttpsRrOutcome {
        match self {
            Verdict::Upgrade(reason) => HttpsRrOutcome::Upgrade {
                url: secure,
                reason,
            },
            Verdict::NoRecord { nxdomain } => HttpsRrOutcome::NoRecord { nxdomain },
            Verdict::Incompatible(i) => HttpsRrOutcome::Incompatible(i),
            Verdict::Failed(e) => HttpsRrOutcome::Failed(e),
        }
    }
}

/// The keys this client understands in `mandatory` (RFC 9460 §8).
///
/// None of them changes the URL, which is all that §9.5 decides: `alpn`
/// and `no-default-alpn` are checked against [`HttpsRrConfig::alpn`];
/// `port`, `ipv4hint` and `ipv6hint` describe the endpoint of the
/// connection, which the HTTP client establishes as it would for the https
/// URL anyway; `ech` is optional to use for a client without ECH.
fn understood(key: SvcParamKey) -> bool {
    matches!(
        key,
        SvcParamKey::Mandatory
            | SvcParamKey::Alpn
            | SvcParamKey::NoDefaultAlpn
            | SvcParamKey::Port
            | SvcParamKey::Ipv4Hint
            | SvcParamKey::Ipv6Hint
            | SvcParamKey::EchConfigList
    )
}

fn target(name: &Name) -> String {
    if name.is_root() {
        ".".to_owned()
    } else {
        let s = name.to_ascii();
        s.strip_suffix('.').map(str::to_owned).unwrap_or(s)
    }
}

/// RFC 9460 §8: a record whose `mandatory` list is malformed.
fn malformed(rr: &SVCB) -> Option<&'static str> {
    let mut keys: Vec<u16> = rr.svc_params.iter().map(|(k, _)| u16::from(*k)).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Some("a SvcParamKey appears twice");
    }
    for (key, value) in &rr.svc_params {
        if let (SvcParamKey::Mandatory, SvcParamValue::Mandatory(m)) = (key, value) {
            let mut listed: Vec<u16> = m.0.iter().map(|k| u16::from(*k)).collect();
            if listed.contains(&u16::from(SvcParamKey::Mandatory)) {
                return Some("mandatory lists itself");
            }
            listed.sort_unstable();
            if listed.windows(2).any(|w| w[0] == w[1]) {
                return Some("mandatory lists a key twice");
            }
            if listed.iter().any(|k| keys.binary_search(k).is_err()) {
                return Some("mandatory lists a key the record lacks");
            }
        }
    }
    None
}

/// Whether this client can use a ServiceMode record.
fn compatible(rr: &SVCB, client_alpn: &[String]) -> Result<(), Incompatibility> {
    let mut alpn: Vec<&str> = Vec::new();
    let mut default_alpn = true;
    for (key, value) in &rr.svc_params {
        match (key, value) {
            (SvcParamKey::Mandatory, SvcParamValue::Mandatory(m)) => {
                if let Some(k) = m.0.iter().find(|k| !understood(**k)) {
                    return Err(Incompatibility::UnknownMandatoryKey(u16::from(*k)));
                }
            }
            (SvcParamKey::Alpn, SvcParamValue::Alpn(a)) => {
                alpn.extend(a.0.iter().map(String::as_str));
            }
            (SvcParamKey::NoDefaultAlpn, _) => default_alpn = false,
            _ => {}
        }
    }
    // RFC 9460 §7.1.1: "http/1.1" is the default ALPN of HTTPS records.
    if default_alpn {
        alpn.push("http/1.1");
    }
    if alpn.iter().any(|a| client_alpn.iter().any(|c| c == a)) {
        Ok(())
    } else {
        Err(Incompatibility::NoCommonAlpn)
    }
}

/// RFC 9460 §9.5 over one RRset (at most [`MAX_RECORDS`] records).
fn evaluate<'a>(records: impl IntoIterator<Item = &'a SVCB>, client_alpn: &[String]) -> Verdict {
    let records: Vec<&SVCB> = records.into_iter().take(MAX_RECORDS).collect();
    if records.is_empty() {
        return Verdict::NoRecord { nxdomain: false };
    }
    if let Some(why) = records.iter().find_map(|rr| malformed(rr)) {
        return Verdict::Incompatible(Incompatibility::Malformed(why));
    }
    // §2.4.1: with an AliasMode record in the set, ServiceMode ones are ignored.
    if let Some(alias) = records.iter().find(|rr| rr.svc_priority == 0) {
        return Verdict::Upgrade(HttpsRrReason::AliasMode {
            target: target(&alias.target_name),
        });
    }
    let mut by_priority = records;
    by_priority.sort_by_key(|rr| rr.svc_priority);
    let mut first_problem = None;
    for rr in by_priority {
        match compatible(rr, client_alpn) {
            Ok(()) => {
                return Verdict::Upgrade(HttpsRrReason::ServiceMode {
                    priority: rr.svc_priority,
                    target: target(&rr.target_name),
                })
            }
            Err(e) => {
                first_problem.get_or_insert(e);
            }
        }
    }
    Verdict::Incompatible(first_problem.unwrap_or(Incompatibility::NoCommonAlpn))
}

#[derive(Debug)]
struct Cached {
    verdict: Verdict,
    expires: DateTime<Utc>,
}

/// Answers by query name; see [`HttpsRrConfig::cache_capacity`].
#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<String, Cached>,
}

impl Cache {
    fn get(&self, name: &str, now: DateTime<Utc>) -> Option<Verdict> {
        self.entries
            .get(name)
            .filter(|c| now < c.expires)
            .map(|c| c.verdict.clone())
    }

    fn put(&mut self, name: String, cached: Cached, now: DateTime<Utc>, capacity: usize) {
        if capacity == 0 || cached.expires <= now {
            self.entries.remove(&name);
            return;
        }
        if self.entries.len() >= capacity && !self.entries.contains_key(&name) {
            self.entries.retain(|_, c| now < c.expires);
            if self.entries.len() >= capacity {
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, c)| c.expires)
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    self.entries.remove(&k);
                }
            }
        }
        self.entries.insert(name, cached);
    }
}

struct Inner {
    config: HttpsRrConfig,
    /// The resolver's configuration, read once.
    resolver_config: ResolverConfig,
    resolver_opts: ResolverOpts,
    cache: Mutex<Cache>,
    /// The queries being asked, by name: a miss for a name already being
    /// asked waits for that query's answer instead of asking again. At
    /// most one entry per look-up in progress.
    in_flight: Mutex<HashMap<String, watch::Receiver<Option<Answer>>>>,
}

/// A query's verdict and how long it may be cached.
type Answer = (Verdict, Duration);

/// How a look-up that missed the cache gets its answer.
enum Join<'a> {
    /// Answered while joining (the query it would have waited for ended).
    Cached(Verdict),
    /// Asks DNS itself, and tells those that join after it.
    Ask(Flight<'a>),
    /// Waits for the answer of the query in flight.
    Wait(watch::Receiver<Option<Answer>>),
    /// Asks DNS without telling anyone (another look-up took the place of
    /// a query that went unanswered).
    Alone,
}

/// A query in flight, owned by the look-up that asks it. Dropped (answered
/// or not: a cancelled look-up drops it too), it leaves the in-flight
/// table unless another look-up has taken its place there, and those
/// waiting without an answer stop waiting.
struct Flight<'a> {
    records: &'a HttpsRecords,
    name: &'a str,
    tell: watch::Sender<Option<Answer>>,
}

impl Flight<'_> {
    /// Tells those waiting.
    fn answer(self, answer: &Answer) {
        self.tell.send_replace(Some(answer.clone()));
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut in_flight = self.records.in_flight();
        let own = self.tell.subscribe();
        if in_flight
            .get(self.name)
            .is_some_and(|rx| rx.same_channel(&own))
        {
            in_flight.remove(self.name);
        }
    }
}

/// An HTTPS-record upgrade source: cheap to clone (clones share the cache),
/// `Send` and `Sync`. See the [module documentation](self).
#[derive(Clone)]
pub struct HttpsRecords {
    inner: Arc<Inner>,
}

impl fmt::Debug for HttpsRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsRecords")
            .field("config", &self.inner.config)
            .field("cached", &self.cache_len())
            .finish()
    }
}

impl HttpsRecords {
    /// A source with `config`. With [`NameServer::System`] the system's
    /// resolver configuration is read now, and an unreadable one is an
    /// error; with [`NameServer::Addr`] this cannot fail.
    pub fn new(config: HttpsRrConfig) -> Result<Self, LookupError> {
        let (resolver_config, mut opts) = match config.name_server {
            NameServer::System => hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| LookupError::SystemConfig(e.to_string()))?,
            NameServer::Addr(addr) => {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut server.connections {
                    c.port = addr.port();
                }
                (
                    ResolverConfig::from_name_servers(vec![server]),
                    ResolverOpts::default(),
                )
            }
        };
        // One try per server within our own bound; our cache, not hickory's,
        // decides what is remembered, and by the injected clock.
        opts.timeout = config.timeout;
        opts.attempts = 1;
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        let capacity = config.cache_capacity.min(MAX_CACHE_CAPACITY);
        Ok(HttpsRecords {
            inner: Arc::new(Inner {
                config: HttpsRrConfig {
                    cache_capacity: capacity,
                    ..config
                },
                resolver_config,
                resolver_opts: opts,
                cache: Mutex::new(Cache::default()),
                in_flight: Mutex::default(),
            }),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &HttpsRrConfig {
        &self.inner.config
    }

    /// The current time by the configured clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.config.clock.now()
    }

    /// How many answers the cache holds (expired ones included until they
    /// are dropped).
    pub fn cache_len(&self) -> usize {
        self.cache().entries.len()
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&self) {
        self.cache().entries.clear();
    }

    /// The cached outcome for `url` at `now`, without any query: `None`
    /// when nothing current is cached (or no look-up applies).
    pub fn cached_at(&self, url: &Url, now: DateTime<Utc>) -> Option<HttpsRrOutcome> {
        let plan = plan(url).ok()?;
        let verdict = self.cache().get(&plan.name, now)?;
        Some(verdict.outcome(plan.secure))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn in_flight(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, watch::Receiver<Option<Answer>>>> {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The verdict for the query name `name` at `now`, after a cache miss:
    /// one query for every look-up of the name that misses at the same
    /// time. The first asks; the others wait for its answer, for at most
    /// [`HttpsRrConfig::timeout`]. If it was cancelled, or is not answered
    /// by then (its caller may have stopped polling it), a waiter takes
    /// its place in the table and asks, so that later look-ups wait for a
    /// live query; if another waiter took it first, it asks alone.
    async fn resolve(&self, name: &str, now: DateTime<Utc>) -> Verdict {
        let mut waiting = match self.join(name, now, None) {
            Join::Cached(verdict) => return verdict,
            Join::Ask(flight) => return self.ask(name, now, Some(flight)).await,
            Join::Wait(rx) => rx,
            Join::Alone => return self.ask(name, now, None).await,
        };
        let wait = waiting.wait_for(Option::is_some);
        let told = match tokio::time::timeout(self.inner.config.timeout, wait).await {
            Ok(Ok(answer)) => answer.as_ref().map(|(verdict, _)| verdict.clone()),
            Ok(Err(_)) | Err(_) => None,
        };
        if let Some(verdict) = told {
            return verdict;
        }
        match self.join(name, now, Some(&waiting)) {
            Join::Cached(verdict) => verdict,
            Join::Ask(flight) => self.ask(name, now, Some(flight)).await,
            // Waiting again could double the wait.
            Join::Wait(_) | Join::Alone => self.ask(name, now, None).await,
        }
    }

    /// Joins the query in flight for `name`, or starts one. `stale` is the
    /// query a look-up waited for in vain: if it is still in the table, it
    /// is replaced by this look-up's; if another has replaced it already,
    /// the look-up asks alone.
    fn join<'a>(
        &'a self,
        name: &'a str,
        now: DateTime<Utc>,
        stale: Option<&watch::Receiver<Option<Answer>>>,
    ) -> Join<'a> {
        let mut in_flight = self.in_flight();
        if let Some(rx) = in_flight.get(name) {
            match stale {
                None => return Join::Wait(rx.clone()),
                Some(stale) if !rx.same_channel(stale) => return Join::Alone,
                Some(_) => {}
            }
        } else if let Some(verdict) = self.cache().get(name, now) {
            // A query that ended since this look-up missed the cache left
            // its answer there before leaving the table.
            return Join::Cached(verdict);
        }
        let (tell, rx) = watch::channel(None);
        in_flight.insert(name.to_owned(), rx);
        Join::Ask(Flight {
            records: self,
            name,
            tell,
        })
    }

    /// Asks DNS, caches the answer, then tells those waiting on `flight`.
    async fn ask(&self, name: &str, now: DateTime<Utc>, flight: Option<Flight<'_>>) -> Verdict {
        let answer = self.query(name).await;
        self.remember(name.to_owned(), &answer.0, answer.1, now);
        if let Some(flight) = flight {
            flight.answer(&answer);
        }
        answer.0
    }

    /// What the HTTPS records say about `url` now; see
    /// [`HttpsRecords::lookup_at`].
    pub async fn lookup(&self, url: &Url) -> HttpsRrOutcome {
        self.lookup_at(url, self.now()).await
    }

    /// What the HTTPS records say about `url` at `now`: from the cache, or
    /// by one query bounded by [`HttpsRrConfig::timeout`]. Needs a Tokio
    /// runtime with I/O and time enabled.
    pub async fn lookup_at(&self, url: &Url, now: DateTime<Utc>) -> HttpsRrOutcome {
        let plan = match plan(url) {
            Ok(p) => p,
            Err(n) => return HttpsRrOutcome::NotApplicable(n),
        };
        if let Some(v) = self.cache().get(&plan.name, now) {
            return v.outcome(plan.secure);
        }
        self.resolve(&plan.name, now).await.outcome(plan.secure)
    }

    /// [`HttpsRecords::lookup_at`] now, blocking.
    pub fn lookup_blocking(&self, url: &Url) -> HttpsRrOutcome {
        self.lookup_blocking_at(url, self.now())
    }

    /// [`HttpsRecords::lookup_at`], blocking the calling thread for at most
    /// about [`HttpsRrConfig::timeout`]. It may be called from anywhere,
    /// inside a Tokio runtime too (the query then runs on a helper thread).
    pub fn lookup_blocking_at(&self, url: &Url, now: DateTime<Utc>) -> HttpsRrOutcome {
        let plan = match plan(url) {
            Ok(p) => p,
            Err(n) => return HttpsRrOutcome::NotApplicable(n),
        };
        if let Some(v) = self.cache().get(&plan.name, now) {
            return v.outcome(plan.secure);
        }
        let verdict = match block_on(self.resolve(&plan.name, now)) {
            Ok(verdict) => verdict,
            Err(e) => {
                let verdict = Verdict::Failed(e);
                let ttl = self.inner.config.failure_ttl;
                self.remember(plan.name.clone(), &verdict, ttl, now);
                verdict
            }
        };
        verdict.outcome(plan.secure)
    }

    /// HSTS first, then HTTPS records, now; see [`HttpsRecords::upgrade_at`].
    pub async fn upgrade(&self, store: &SharedHstsStore, url: &Url) -> UpgradeDecision {
        self.upgrade_at(store, url, self.now()).await
    }

    /// The URL a request to `url` must use at `now`: the HSTS upgrade if
    /// `store` knows the host (no query is made), else what the HTTPS
    /// records say. The store is only read.
    pub async fn upgrade_at(
        &self,
        store: &SharedHstsStore,
        url: &Url,
        now: DateTime<Utc>,
    ) -> UpgradeDecision {
        if let Upgrade::Upgraded(u) = store.upgrade_at(url, now) {
            return UpgradeDecision::Hsts(u);
        }
        decide(self.lookup_at(url, now).await)
    }

    /// [`HttpsRecords::upgrade_at`] now, blocking.
    pub fn upgrade_blocking(&self, store: &SharedHstsStore, url: &Url) -> UpgradeDecision {
        self.upgrade_blocking_at(store, url, self.now())
    }

    /// [`HttpsRecords::upgrade_at`], blocking.
    pub fn upgrade_blocking_at(
        &self,
        store: &SharedHstsStore,
        url: &Url,
        now: DateTime<Utc>,
    ) -> UpgradeDecision {
        if let Upgrade::Upgraded(u) = store.upgrade_at(url, now) {
            return UpgradeDecision::Hsts(u);
        }
        decide(self.lookup_blocking_at(url, now))
    }

    fn remember(&self, name: String, verdict: &Verdict, ttl: Duration, now: DateTime<Utc>) {
        let Ok(ttl) = chrono::Duration::from_std(ttl) else {
            return;
        };
        let Some(expires) = now.checked_add_signed(ttl) else {
            return;
        };
        let cached = Cached {
            verdict: verdict.clone(),
            expires,
        };
        let capacity = self.inner.config.cache_capacity;
        self.cache().put(name, cached, now, capacity);
    }

    /// One query for the HTTPS records of `name`, within the timeout: the
    /// verdict and how long it may be cached.
    async fn query(&self, name: &str) -> (Verdict, Duration) {
        let config = &self.inner.config;
        let failed = |e| (Verdict::Failed(e), config.failure_ttl);
        // A fresh resolver per query: its background tasks live on the
        // runtime of this call, whichever it is, and it caches nothing.
        let resolver = match TokioResolver::builder_with_config(
            self.inner.resolver_config.clone(),
            TokioRuntimeProvider::default(),
        )
        .with_options(self.inner.resolver_opts.clone())
        .build()
        {
            Ok(r) => r,
            Err(e) => return failed(LookupError::Resolver(e.to_string())),
        };
        let fqdn = match Name::from_ascii(format!("{name}.")) {
            Ok(n) => n,
            Err(e) => return failed(LookupError::Resolver(e.to_string())),
        };
        let answer =
            tokio::time::timeout(config.timeout, resolver.lookup(fqdn, RecordType::HTTPS)).await;
        match answer {
            Err(_) => failed(LookupError::Timeout(config.timeout)),
            Ok(Ok(lookup)) => {
                let https = lookup.answers().iter().filter_map(|r| match &r.data {
                    RData::HTTPS(h) => Some((r.ttl, &h.0)),
                    _ => None,
                });
                let ttl = https
                    .clone()
                    .take(MAX_RECORDS)
                    .map(|(ttl, _)| ttl)
                    .min()
                    .unwrap_or(0);
                let verdict = evaluate(https.map(|(_, rr)| rr), &config.alpn);
                let ttl = match verdict {
                    // A positive answer without an HTTPS record (a CNAME
                    // chain to nothing): treat as negative, briefly.
                    Verdict::NoRecord { .. } => NEGATIVE_TTL_WITHOUT_SOA,
                    _ => Duration::from_secs(u64::from(ttl)),
                };
                (verdict, ttl.min(config.max_ttl))
            }
            Ok(Err(e)) => self.classify(e),
        }
    }

    fn classify(&self, e: NetError) -> (Verdict, Duration) {
        let config = &self.inner.config;
        match e {
            NetError::Dns(DnsError::NoRecordsFound(no)) => {
                let ttl = no.negative_ttl.map_or(NEGATIVE_TTL_WITHOUT_SOA, |t| {
                    Duration::from_secs(u64::from(t))
                });
                let nxdomain = no.response_code == ResponseCode::NXDomain;
                (
                    Verdict::NoRecord { nxdomain },
                    ttl.min(config.max_negative_ttl),
                )
            }
            NetError::Dns(DnsError::ResponseCode(code)) => (
                Verdict::Failed(LookupError::ErrorResponse(code.to_string())),
                config.failure_ttl,
            ),
            NetError::Timeout => (
                Verdict::Failed(LookupError::Timeout(config.timeout)),
                config.failure_ttl,
            ),
            other => (
                Verdict::Failed(LookupError::Resolver(other.to_string())),
                config.failure_ttl,
            ),
        }
    }
}

fn decide(outcome: HttpsRrOutcome) -> UpgradeDecision {
    match outcome {
        HttpsRrOutcome::Upgrade { url, reason } => UpgradeDecision::HttpsRecord { url, reason },
        other => UpgradeDecision::Unchanged(other),
    }
}

/// Runs `fut` to completion on a current-thread runtime of its own; on a
/// helper thread when the caller is inside a Tokio runtime, where starting
/// another would panic.
fn block_on<T: Send>(fut: impl Future<Output = T> + Send) -> Result<T, LookupError> {
    let run = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(fut))
            .map_err(|e| LookupError::Runtime(e.to_string()))
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(run).join())
            .unwrap_or_else(|_| Err(LookupError::Runtime("the look-up panicked".to_owned())))
    } else {
        run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_resolver::proto::rr::rdata::svcb::{Alpn, Mandatory, Unknown};

    fn alpn() -> Vec<String> {
        HttpsRrConfig::default().alpn
    }

    fn svcb(priority: u16, params: Vec<(SvcParamKey, SvcParamValue)>) -> SVCB {
        SVCB::new(priority, Name::root(), params)
    }

    fn mandatory(keys: &[SvcParamKey]) -> (SvcParamKey, SvcParamValue) {
        (
            SvcParamKey::Mandatory,
            SvcParamValue::Mandatory(Mandatory(keys.to_vec())),
        )
    }

    fn alpn_param(ids: &[&str]) -> (SvcParamKey, SvcParamValue) {
        (
            SvcParamKey::Alpn,
            SvcParamValue::Alpn(Alpn(ids.iter().map(|s| (*s).to_owned()).collect())),
        )
    }

    #[test]
    fn query_names() {
        for (url, name) in [
            ("http://example.com/", Some("example.com")),
            ("http://Example.COM:80/x", Some("example.com")),
            ("http://example.com:443/", Some("example.com")),
            ("ws://example.com/", Some("example.com")),
            ("http://example.com:8080/", Some("_8080._https.example.com")),
            ("ws://example.com:8443/", Some("_8443._https.example.com")),
            ("http://bücher.example/", Some("xn--bcher-kva.example")),
            ("https://example.com/", None),
            ("ftp://example.com/", None),
            ("http://127.0.0.1/", None),
            ("http://[::1]/", None),
        ] {
            assert_eq!(
                query_name(&Url::parse(url).unwrap()).as_deref(),
                name,
                "{url}"
            );
        }
    }

    #[test]
    fn rrset_rules() {
        let a = alpn();
        assert_eq!(evaluate([], &a), Verdict::NoRecord { nxdomain: false });
        // AliasMode wins over anything else in the set.
        let alias = SVCB::new(0, Name::from_ascii("cdn.example.").unwrap(), vec![]);
        let weird = svcb(
            1,
            vec![
                mandatory(&[SvcParamKey::Unknown(65000)]),
                (
                    SvcParamKey::Unknown(65000),
                    SvcParamValue::Unknown(Unknown(vec![])),
                ),
            ],
        );
        assert_eq!(
            evaluate([&weird, &alias], &a),
            Verdict::Upgrade(HttpsRrReason::AliasMode {
                target: "cdn.example".into()
            })
        );
        assert_eq!(
            evaluate([&weird], &a),
            Verdict::Incompatible(Incompatibility::UnknownMandatoryKey(65000))
        );
        // A compatible record of higher priority still upgrades.
        let ok = svcb(2, vec![alpn_param(&["h2"])]);
        assert_eq!(
            evaluate([&weird, &ok], &a),
            Verdict::Upgrade(HttpsRrReason::ServiceMode {
                priority: 2,
                target: ".".into()
            })
        );
        // Every understood key may be mandatory.
        let all = svcb(
            1,
            vec![
                mandatory(&[SvcParamKey::Alpn, SvcParamKey::Port]),
                alpn_param(&["h2"]),
                (SvcParamKey::Port, SvcParamValue::Port(8443)),
            ],
        );
        assert!(matches!(evaluate([&all], &a), Verdict::Upgrade(_)));
        // h3 only, without the default: nothing in common with h1/h2.
        let h3 = svcb(
            1,
            vec![
                alpn_param(&["h3"]),
                (SvcParamKey::NoDefaultAlpn, SvcParamValue::NoDefaultAlpn),
            ],
        );
        assert_eq!(
            evaluate([&h3], &a),
            Verdict::Incompatible(Incompatibility::NoCommonAlpn)
        );
        assert!(matches!(
            evaluate([&h3], &["h3".to_owned()]),
            Verdict::Upgrade(_)
        ));
        // Malformed: mandatory lists itself or a missing key; the set is rejected.
        let selfish = svcb(1, vec![mandatory(&[SvcParamKey::Mandatory])]);
        let missing = svcb(1, vec![mandatory(&[SvcParamKey::Alpn])]);
        for bad in [&selfish, &missing] {
            assert!(matches!(
                evaluate([bad, &ok], &a),
                Verdict::Incompatible(Incompatibility::Malformed(_))
            ));
        }
    }

    #[test]
    fn records_beyond_the_bound_are_ignored() {
        let a = alpn();
        let bad = svcb(
            1,
            vec![
                mandatory(&[SvcParamKey::Unknown(9)]),
                (
                    SvcParamKey::Unknown(9),
                    SvcParamValue::Unknown(Unknown(vec![])),
                ),
            ],
        );
        let ok = svcb(1, vec![]);
        let mut set: Vec<&SVCB> = vec![&bad; MAX_RECORDS];
        set.push(&ok);
        assert!(matches!(
            evaluate(set, &a),
            Verdict::Incompatible(Incompatibility::UnknownMandatoryKey(9))
        ));
    }

    #[test]
    fn cache_is_bounded_and_evicts_the_soonest_to_expire() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let at = |s| now + chrono::Duration::seconds(s);
        let mut cache = Cache::default();
        let v = Verdict::NoRecord { nxdomain: false };
        let put = |c: &mut Cache, n: &str, exp| {
            c.put(
                n.to_owned(),
                Cached {
                    verdict: v.clone(),
                    expires: exp,
                },
                now,
                3,
            )
        };
        put(&mut cache, "a", at(30));
        put(&mut cache, "b", at(10));
        put(&mut cache, "c", at(20));
        put(&mut cache, "d", at(40));
        assert_eq!(cache.entries.len(), 3);
        assert!(cache.get("b", now).is_none());
        assert!(cache.get("a", now).is_some());
        assert!(cache.get("a", at(30)).is_none(), "expired at its time");
        // Zero TTL: not kept.
        put(&mut cache, "e", now);
        assert!(cache.get("e", now).is_none());
    }
}
