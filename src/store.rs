//! The known-HSTS-host store (RFC 6797 §8.1, §8.1.1, §8.2).
//!
//! [`HstsStore`] is a plain synchronous value: queries take `&self`, changes
//! take `&mut self`, and it does no I/O. Wrap it in a lock to share it.
//!
//! ```
//! use chrono::{Duration, TimeZone, Utc};
//! use hsts::{HstsStore, Outcome, Transport};
//! use url::Url;
//!
//! let mut store = HstsStore::new();
//! let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let url = Url::parse("https://example.com/").unwrap();
//!
//! let out = store.note_at(&url, ["max-age=3600; includeSubDomains"], Transport::Secure, t0);
//! assert_eq!(out, Outcome::Noted);
//! assert!(store.is_known_at("www.example.com", t0).unwrap());
//! assert!(!store.is_known_at("www.example.com", t0 + Duration::seconds(3601)).unwrap());
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use crate::bounds;
use crate::clock::{Clock, SystemClock};
use crate::config::StoreConfig;
use crate::context::{LookupScope, RequestContext};
use crate::entry::{self, dynamic_match, expiry, Entry, EntryProblem, EntryRef, Match, Source};
use crate::header::StsHeader;
use crate::host::{self, CanonicalHost, CanonicalName, Host, HostError};
use crate::keys::{Key, Keys, RandomError, Salt, HASH_HEX};
use crate::outcome::{Evictions, IgnoreReason, Outcome, Transport};
use crate::preload::PreloadList;
use crate::removals::Removals;
use crate::table::{Table, Usage};

/// The store of known HSTS hosts. See the [crate documentation](crate).
#[derive(Debug, Clone)]
pub struct HstsStore {
    table: Table,
    /// Hosts removed (max-age=0, forget) and when, bounded as
    /// [`bounds`] says.
    removals: Removals,
    /// What the limits evicted so far.
    evictions: Evictions,
    config: StoreConfig,
    clock: Arc<dyn Clock>,
    /// Names, or keyed hashes of them.
    keys: Keys,
}

/// What a lookup found: a preload entry (borrowing the queried name), or
/// the slot of a dynamic entry.
enum Found<'h> {
    Preload(crate::preload::PreloadMatch<'h>),
    Dynamic(u32),
}

impl Default for HstsStore {
    fn default() -> Self {
        HstsStore::new()
    }
}

impl HstsStore {
    /// An empty store with the default settings and the system clock.
    pub fn new() -> Self {
        HstsStore::with_config(StoreConfig::default())
    }

    /// An empty store with the given settings and the system clock.
    pub fn with_config(config: StoreConfig) -> Self {
        HstsStore {
            table: Table::new(),
            removals: Removals::default(),
            evictions: Evictions::default(),
            config,
            clock: Arc::new(SystemClock),
            keys: Keys::Plain,
        }
    }

    /// An empty store with hashed hosts: it keeps no host names, in memory
    /// or in its file, only a keyed hash of each canonical name (the first
    /// 128 bits of SHA-256 over a random per-store salt and the name), and
    /// of each site, so the per-site quota and partitions still work.
    /// Lookups hash every candidate superdomain. [`HstsStore::iter`] and
    /// the store file show hashes; exporting to curl or JSON is refused
    /// ([`PersistError::HashedExport`](crate::persist::PersistError::HashedExport)).
    /// A store loaded from a hashed file is hashed, with the file's salt.
    ///
    /// ```
    /// use hsts::{HstsStore, StoreConfig, Transport};
    /// use url::Url;
    ///
    /// let mut store = HstsStore::hashed(StoreConfig::default()).unwrap();
    /// let url = Url::parse("https://secret.example/").unwrap();
    /// store.note(&url, ["max-age=600; includeSubDomains"], Transport::Secure);
    /// assert!(store.is_known_at("www.secret.example", chrono::Utc::now()).unwrap());
    /// assert!(store.iter().all(|e| !e.host.contains("secret")));
    /// ```
    pub fn hashed(config: StoreConfig) -> Result<HstsStore, RandomError> {
        Ok(HstsStore::with_keys(config, Keys::Hashed(Salt::random()?)))
    }

    /// An empty store keyed by `keys`.
    pub(crate) fn with_keys(config: StoreConfig, keys: Keys) -> HstsStore {
        HstsStore {
            keys,
            ..HstsStore::with_config(config)
        }
    }

    /// Whether the store keeps hashes of host names instead of the names
    /// (see [`HstsStore::hashed`]).
    pub fn is_hashed(&self) -> bool {
        self.keys.is_hashed()
    }

    /// How the store keys its entries.
    pub(crate) fn keys(&self) -> Keys {
        self.keys
    }

    /// Replaces the clock that the methods without an explicit time use.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The store's settings.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Changes the store's settings. Existing entries are kept as they are,
    /// even beyond a smaller capacity or quota; a new Public Suffix List
    /// regroups them into sites.
    pub fn set_config(&mut self, config: StoreConfig) {
        // A hashed store's sites are hashed into its keys and stay as noted.
        let resite = config.suffix_list != self.config.suffix_list && !self.keys.is_hashed();
        self.config = config;
        if resite {
            let psl = self.config.suffix_list.list();
            self.table.resite(|h| psl.site_offset(h));
        }
    }

    /// The current time according to the store's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The store's clock, shared with a private session opened on it.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Notes the STS fields of a response, at the clock's current time.
    /// See [`HstsStore::note_at`].
    pub fn note<I, S>(&mut self, url: &Url, fields: I, transport: Transport) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let now = self.clock.now();
        self.note_at(url, fields, transport, now)
    }

    /// Notes the `Strict-Transport-Security` fields of one response received
    /// from `url` at `now`. `fields` are the field values in the order they
    /// appeared; only the first is processed.
    pub fn note_at<I, S>(
        &mut self,
        url: &Url,
        fields: I,
        transport: Transport,
        now: DateTime<Utc>,
    ) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // The context-free form is a top-level navigation to `url`.
        self.in_context(&RequestContext::navigation())
            .note_at(url, fields, transport, now)
    }

    /// Applies a parsed policy for a host, at `now`: the §8.1.1 steps without
    /// the transport checks. The exemption for localhost still applies.
    pub fn apply_at(
        &mut self,
        host: &CanonicalHost,
        header: &StsHeader,
        now: DateTime<Utc>,
    ) -> Outcome {
        self.apply_in(None, host, header, now)
    }

    /// The site (eTLD+1) of a canonical host; a host with no site of its
    /// own (a public suffix, a single label) is its own site.
    pub(crate) fn site_of<'h>(&self, host: &'h str) -> &'h str {
        self.config
            .suffix_list
            .list()
            .site_str(host)
            .unwrap_or(host)
    }

    /// The partition key of a request to `host` whose top-level page is
    /// `top` (`None`: the host's own site), hashed in a hashed store;
    /// empty when the store is not partitioned.
    pub(crate) fn partition_key<'h>(&self, top: Option<&'h Host>, host: &'h str) -> Key<'h> {
        match self.partition_site(top, host) {
            Some(site) => match self.keys.site_key(&site) {
                Key::Plain(_) => Key::Plain(site),
                Key::Hashed { buf, len } => Key::Hashed { buf, len },
            },
            None => Key::Plain(Cow::Borrowed("")),
        }
    }

    /// The top-level site whose partition a request to `host` from the page
    /// `top` uses, in a partitioned store (unhashed; `None` when the store
    /// is not partitioned).
    pub(crate) fn partition_site<'h>(
        &self,
        top: Option<&'h Host>,
        host: &'h str,
    ) -> Option<Cow<'h, str>> {
        if !self.config.partition {
            return None;
        }
        Some(match top {
            None => Cow::Borrowed(self.site_of(host)),
            Some(Host::Domain(d)) => Cow::Borrowed(self.site_of(d.as_str())),
            // A page at an IP address is its own site.
            Some(Host::Ip(ip)) => Cow::Owned(ip.to_string()),
        })
    }

    /// The key of a canonical host: the name, or its keyed hash.
    fn key_of<'h>(&self, host: &'h str) -> Key<'h> {
        self.keys.host_key(host, self.site_of(host))
    }

    /// [`HstsStore::apply_at`] for a response in the partition of `top`
    /// (see [`HstsStore::partition_key`]).
    pub(crate) fn apply_in(
        &mut self,
        top: Option<&Host>,
        host: &CanonicalHost,
        header: &StsHeader,
        now: DateTime<Utc>,
    ) -> Outcome {
        if self.config.exempt_localhost && host.is_localhost() {
            return Outcome::Ignored(IgnoreReason::Localhost);
        }
        let part = self.partition_key(top, host.as_str()).to_string();
        let key = self.key_of(host.as_str()).to_string();
        // §8.1.1 step 1: "If the max-age directive's value is 0, then the UA
        // MUST remove its cached HSTS Policy information if the HSTS Host is
        // known, or the UA MUST NOT note this HSTS Host if it is not yet known."
        if header.max_age == 0 {
            // An entry that has expired is no longer a Known HSTS Host: its
            // stale record goes, but nothing known was removed.
            if let Some(old) = self.take(&part, &key) {
                self.record_removal(&part, &key, now);
                if old.is_live_at(now) {
                    return Outcome::Removed;
                }
            }
            return if self.preload_match_at(host, now).is_some() {
                Outcome::Ignored(IgnoreReason::Preloaded)
            } else {
                Outcome::Ignored(IgnoreReason::NotKnown)
            };
        }
        let max_age = match self.config.max_age_cap {
            Some(cap) => header.max_age.min(cap),
            None => header.max_age,
        };
        let expires = expiry(now, max_age);
        if let Some(id) = self.find(&part, &key) {
            if entry::dampened(
                self.table.entry(id),
                header.include_subdomains,
                expires,
                now,
            ) {
                // Still a use, but no change to write.
                self.table.mark_used(id, Usage::day_of(now));
                return Outcome::Unchanged;
            }
        }
        // §8.1.1 step 2: "If the max-age directive's value is non-zero, then
        // ... update the UA's cached information ... if the HSTS Host is
        // already known, ... or the UA MUST note this HSTS Host if it is not
        // yet known." The new policy replaces the old one whole, so
        // includeSubDomains can be switched off again.
        self.removals.forget(&part, &key);
        let old = self.put(&part, &key, header.include_subdomains, now, expires);
        if let (Some(_), Some(id)) = (old, self.find(&part, &key)) {
            // Noting again is a use, as a match is.
            self.table.mark_used(id, Usage::day_of(now));
        }
        match old {
            Some((_, _, old_expires)) if now <= old_expires => Outcome::Updated,
            _ => Outcome::Noted,
        }
    }

    /// Whether `host` is a known HSTS host at `now`.
    pub fn is_known_at(&self, host: &str, now: DateTime<Utc>) -> Result<bool, HostError> {
        Ok(self.lookup_at(host, now)?.is_some())
    }

    /// The entry that makes `host` a known HSTS host now, if any.
    pub fn lookup(&self, host: &str) -> Result<Option<Match>, HostError> {
        self.lookup_at(host, self.clock.now())
    }

    /// The entry that makes `host` (in any form: U-labels, upper case, a
    /// trailing dot) a known HSTS host at `now`, if any. IP literals are
    /// never known hosts and give `Ok(None)`; names that are not valid
    /// domain names give an error.
    pub fn lookup_at(&self, host: &str, now: DateTime<Utc>) -> Result<Option<Match>, HostError> {
        match host::canonicalize(host)? {
            Host::Ip(_) => Ok(None),
            Host::Domain(d) => Ok(self.lookup_canonical_at(&d, now)),
        }
    }

    /// [`HstsStore::lookup_at`] for a host already in canonical form.
    pub fn lookup_canonical_at(&self, host: &CanonicalHost, now: DateTime<Utc>) -> Option<Match> {
        self.lookup_scoped_at(host, now, LookupScope::NAVIGATION)
    }

    /// [`HstsStore::lookup_canonical_at`] within a scope: whether dynamic
    /// entries count, and whether a match is a use (see
    /// [`crate::RequestContext`]).
    pub(crate) fn lookup_scoped_at(
        &self,
        host: &CanonicalHost,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> Option<Match> {
        Some(match self.find_scoped(host.into(), now, scope)? {
            Found::Preload(m) => Match {
                host: m.name.to_owned(),
                include_subdomains: m.include_subdomains,
                expires: None,
                source: Source::Preload,
            },
            Found::Dynamic(id) => dynamic_match(self.table.entry(id)),
        })
    }

    /// Whether the canonical `name` is a known HSTS host at `now` within
    /// `scope`: [`HstsStore::lookup_scoped_at`] without building the
    /// [`Match`], so that a loop over many hosts allocates nothing (for a
    /// store keyed by name; a hashed store hashes each candidate). `name`
    /// is a [`CanonicalName`] checked as given, a [`CanonicalHost`]'s, or
    /// a `url` domain whose lengths `url_domain_name` in `upgrade.rs`
    /// checked.
    #[inline]
    pub(crate) fn known_name_scoped_at(
        &self,
        name: CanonicalName<'_>,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> bool {
        self.find_scoped(name, now, scope).is_some()
    }

    /// What makes the canonical `host` a known HSTS host at `now` within
    /// `scope`, if anything: the one lookup behind
    /// [`HstsStore::lookup_scoped_at`] and [`HstsStore::known_name_scoped_at`].
    /// A dynamic match in a scope that counts as a use marks the entry
    /// used today.
    fn find_scoped<'h>(
        &self,
        name: CanonicalName<'h>,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> Option<Found<'h>> {
        let host = name.as_str();
        if self.config.exempt_localhost && host::is_localhost_name(host) {
            return None;
        }
        // A host must use https if either the preload list or the dynamic
        // store says so; the preload list is asked first, as it never expires.
        if let Some(m) = self
            .active_preload_at(now)
            .and_then(|l| l.lookup_name(name))
        {
            return Some(Found::Preload(m));
        }
        if !scope.dynamic || self.table.len() == 0 {
            return None;
        }
        let part = self.partition_key(scope.top, host);
        let pid = self.table.partition_id(&part)?;
        let id = if self.keys.is_hashed() {
            self.hashed_match(pid, host, now)
        } else {
            self.plain_match(pid, host, now)
        }?;
        // A match is a use: entries used on more days outlive others.
        if scope.counts_as_use {
            self.table.mark_used(id, Usage::day_of(now));
        }
        Some(Found::Dynamic(id))
    }

    /// The slot of `key` in partition `part`.
    fn find(&self, part: &str, key: &str) -> Option<u32> {
        let pid = self.table.partition_id(part)?;
        self.table.find_in(pid, key)
    }

    /// The preload list in use at `now`: none when switched off, or when it
    /// is older than the configured staleness limit.
    pub(crate) fn active_preload_at(&self, now: DateTime<Utc>) -> Option<&PreloadList> {
        let list = self.config.preload.list()?;
        match self.config.preload_max_staleness {
            Some(limit) if list.is_stale_at(now, limit) => None,
            _ => Some(list),
        }
    }

    /// The preload entry that makes `host` a known HSTS host, if any.
    pub(crate) fn preload_match_at(
        &self,
        host: &CanonicalHost,
        now: DateTime<Utc>,
    ) -> Option<Match> {
        let m = self.active_preload_at(now)?.lookup(host.as_str())?;
        Some(Match {
            host: m.name.to_owned(),
            include_subdomains: m.include_subdomains,
            expires: None,
            source: Source::Preload,
        })
    }

    /// The §8.2 match in partition `pid` of a store keyed by name.
    fn plain_match(&self, pid: u32, host: &str, now: DateTime<Utc>) -> Option<u32> {
        // §8.2: "A congruent match is found if, when compared, the given
        // domain name and the Known HSTS Host's domain name are identical."
        let congruent = self
            .table
            .find_in(pid, host)
            .filter(|&id| self.table.entry(id).is_live_at(now));
        // §8.2: "If a superdomain match with an asserted includeSubDomains
        // directive is found, ... the given domain name ... is a Known HSTS
        // Host". Every superdomain is checked, up to the single-label TLD: a
        // nearer one without includeSubDomains does not stop the walk.
        congruent.or_else(|| {
            host::superdomains_of(host)
                .filter_map(|s| self.table.find_in(pid, s))
                .find(|&id| {
                    let e = self.table.entry(id);
                    e.include_subdomains && e.is_live_at(now)
                })
        })
    }

    /// [`HstsStore::plain_match`] in a hashed store: each candidate's key is
    /// hashed, the site's hash made once for every candidate within it.
    fn hashed_match(&self, pid: u32, host: &str, now: DateTime<Utc>) -> Option<u32> {
        let site = self.site_of(host);
        let site_key = self.keys.site_key(site);
        let key = |name| self.candidate_key(name, site, &site_key);
        let congruent = self
            .table
            .find_in(pid, &key(host))
            .filter(|&id| self.table.entry(id).is_live_at(now));
        congruent.or_else(|| {
            host::superdomains_of(host)
                .filter_map(|s| self.table.find_in(pid, &key(s)))
                .find(|&id| {
                    let e = self.table.entry(id);
                    e.include_subdomains && e.is_live_at(now)
                })
        })
    }

    /// The key of `name`, `host` or one of its superdomains, in a hashed
    /// store where `host`'s site is `site`, whose key is `site_key`.
    fn candidate_key<'n>(&self, name: &'n str, site: &str, site_key: &Key<'_>) -> Key<'n> {
        if name.len() >= site.len() {
            self.keys.host_key_with_site(name, site_key)
        } else {
            // Above the site: a public suffix, its own site.
            self.keys.host_key(name, self.site_of(name))
        }
    }

    /// Removes the entry for exactly this host now, in every partition.
    /// Returns it if it was there.
    pub fn remove(&mut self, host: &str) -> Result<Option<Entry>, HostError> {
        let now = self.clock.now();
        self.remove_at(host, now)
    }

    /// Removes the entry for exactly this host, in every partition,
    /// recording the removal at `now` so that a later merge with a store
    /// file lets it win over older observations. Returns the entry if it
    /// was there (one of them, if several partitions held it).
    pub fn remove_at(
        &mut self,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Entry>, HostError> {
        let h = CanonicalHost::new(host)?;
        let site = self.site_of(h.as_str());
        let key = self.keys.host_key(h.as_str(), site);
        let site_key = self.keys.site_key(site);
        // Every partition's entry for the host is in the host's site list.
        let ids: Vec<u32> = self
            .table
            .site_members(&site_key)
            .filter(|&id| self.table.entry(id).host == &*key)
            .collect();
        let old = ids.first().map(|&id| self.table.entry(id).to_entry());
        self.remove_ids(ids, now);
        Ok(old)
    }

    /// Removes every entry now; see [`HstsStore::clear_at`].
    pub fn clear(&mut self) -> usize {
        let now = self.clock.now();
        self.clear_at(now)
    }

    /// Removes every entry, recording each removal at `now`. Returns how many went.
    pub fn clear_at(&mut self, now: DateTime<Utc>) -> usize {
        self.remove_where_at(now, |_| true)
    }

    /// Removes the entries observed in `[from, to)`, recording each removal
    /// at `now`. Returns how many went.
    pub fn clear_observed_between_at(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> usize {
        self.remove_where_at(now, |e| e.observed >= from && e.observed < to)
    }

    /// Removes every entry of a site: the hosts whose registrable domain
    /// (eTLD+1, from the Public Suffix List) is that of `domain`, in every
    /// partition, and everything in that site's own partition. Returns how
    /// many went.
    pub fn clear_site_at(&mut self, domain: &str, now: DateTime<Utc>) -> Result<usize, HostError> {
        let d = CanonicalHost::new(domain)?;
        let site_key = self.keys.site_key(self.site_of(d.as_str())).to_string();
        let mut gone: Vec<u32> = self.table.site_members(&site_key).collect();
        if let Some(pid) = self.table.partition_id(&site_key).filter(|&p| p != 0) {
            gone.extend(self.table.partition_members(pid));
            gone.sort_unstable();
            gone.dedup();
        }
        Ok(self.remove_ids(gone, now))
    }

    /// Removes every entry for which `pred` holds, recording the removals at `now`.
    pub fn remove_where_at(
        &mut self,
        now: DateTime<Utc>,
        mut pred: impl FnMut(EntryRef<'_>) -> bool,
    ) -> usize {
        let gone: Vec<u32> = self
            .table
            .iter()
            .filter(|(_, e)| pred(*e))
            .map(|(id, _)| id)
            .collect();
        self.remove_ids(gone, now)
    }

    fn remove_ids(&mut self, ids: Vec<u32>, now: DateTime<Utc>) -> usize {
        for &id in &ids {
            let e = self.table.entry(id);
            let (part, key): (Box<str>, Box<str>) =
                (e.partition.unwrap_or("").into(), e.host.into());
            self.table.remove(id);
            self.record_removal(&part, &key, now);
        }
        ids.len()
    }

    /// Makes room for `entries` more entries whose names take `name_bytes`
    /// bytes in all (at most up to the capacity), so that a bulk insert
    /// neither reallocates nor rehashes.
    pub(crate) fn reserve(&mut self, entries: usize, name_bytes: usize) {
        let room = self.config.capacity_in_force().saturating_sub(self.len());
        let n = entries.min(room);
        let bytes = if entries == 0 {
            0
        } else {
            (name_bytes as u128 * n as u128 / entries as u128) as usize
        };
        self.table.reserve(n, bytes.min(n * host::MAX_NAME_LEN));
    }

    /// Inserts an entry under a key the caller has already checked (a store
    /// file's: a canonical name, or in a hashed store a hashed key), in
    /// partition `part` (empty: none).
    /// Its `usage` (days of use, from the file) is kept, and the entry is
    /// filed under the eviction class those days call for.
    pub(crate) fn insert_trusted(
        &mut self,
        part: &str,
        host: &str,
        include_subdomains: bool,
        observed: DateTime<Utc>,
        expires: DateTime<Utc>,
        usage: Usage,
    ) {
        self.put(part, host, include_subdomains, observed, expires);
        if let Some(id) = self.find(part, host) {
            self.table.set_usage(id, usage);
            self.table.set_class(id, bounds::class_of(usage.days));
        }
    }

    /// How the entry stored under exactly this (canonical) name, outside
    /// any partition, was used.
    #[cfg(test)]
    pub(crate) fn usage_of(&self, canonical: &str) -> Option<Usage> {
        self.usage_in("", canonical)
    }

    /// How the entry stored under exactly this key in partition `part` was
    /// used.
    pub(crate) fn usage_in(&self, part: &str, key: &str) -> Option<Usage> {
        self.find(part, key).map(|id| self.table.usage(id))
    }

    /// The entries with their usage, in no particular order.
    pub(crate) fn iter_with_usage(&self) -> impl Iterator<Item = (EntryRef<'_>, Usage)> + '_ {
        self.table.iter().map(|(id, e)| (e, self.table.usage(id)))
    }

    /// Records a removal of a key already checked (see
    /// [`HstsStore::insert_trusted`]).
    pub(crate) fn insert_trusted_tombstone(&mut self, part: &str, host: &str, at: DateTime<Utc>) {
        self.record_removal(part, host, at);
    }

    /// Removes the entry of a key already checked (see
    /// [`HstsStore::insert_trusted`]) and records the removal at `at`, as
    /// a removal another worker made (fleet sync). Whether there was one.
    #[cfg(feature = "redis")]
    pub(crate) fn remove_trusted(&mut self, part: &str, host: &str, at: DateTime<Utc>) -> bool {
        let had = self.take(part, host).is_some();
        self.record_removal(part, host, at);
        had
    }

    /// Inserts or replaces the policy of a canonical host, keeping the store
    /// within its quota and capacity. Returns the replaced policy as
    /// `(include_subdomains, observed, expires)`.
    fn put(
        &mut self,
        part: &str,
        host: &str,
        include_subdomains: bool,
        observed: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Option<(bool, DateTime<Utc>, DateTime<Utc>)> {
        if let Some(id) = self.find(part, host) {
            return Some(self.table.update(id, include_subdomains, observed, expires));
        }
        let site_off = if self.keys.is_hashed() {
            HASH_HEX + 1
        } else {
            self.config.suffix_list.list().site_offset(host)
        };
        let limits = self.config.limits();
        bounds::make_room(
            &mut self.table,
            &host[site_off..],
            limits,
            &mut self.evictions,
        );
        // Only an empty or over-long name could be refused, and canonical
        // names are neither.
        let _ = self
            .table
            .insert(part, host, site_off, include_subdomains, observed, expires);
        None
    }

    /// Removes the entry of a key in partition `part`.
    fn take(&mut self, part: &str, host: &str) -> Option<Entry> {
        let id = self.find(part, host)?;
        let e = self.table.entry(id).to_entry();
        self.table.remove(id);
        Some(e)
    }

    /// Remembers a removal, within the bound that [`bounds`] sets.
    fn record_removal(&mut self, part: &str, host: &str, at: DateTime<Utc>) {
        self.removals.record(part, host, at, self.config.limits());
    }

    /// Keys removed from this store and when, as `(partition, key, at)`,
    /// for merging with a store file: the newest ones, within the bound
    /// that [`bounds`] sets.
    pub(crate) fn tombstones(&self) -> impl Iterator<Item = (&str, &str, DateTime<Utc>)> + '_ {
        self.removals.iter()
    }

    /// What the capacity and the per-site quota evicted since this store
    /// was created or loaded (see [`Evictions`]).
    pub fn evictions(&self) -> Evictions {
        self.evictions
    }

    /// Counts entries a store file held beyond the capacity, left out on load.
    pub(crate) fn count_dropped_on_load(&mut self, n: u64) {
        self.evictions.on_load += n;
    }

    /// The number of entries, expired ones included until they are purged.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the store has no entries.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.table.iter().map(|(_, e)| e)
    }

    /// The entry for exactly this canonical host outside any partition,
    /// live or not.
    pub fn get(&self, host: &CanonicalHost) -> Option<EntryRef<'_>> {
        self.get_key("", &self.key_of(host.as_str()))
    }

    /// The entry stored under exactly this (already canonical) name,
    /// outside any partition.
    pub(crate) fn get_str(&self, canonical: &str) -> Option<EntryRef<'_>> {
        self.get_key("", canonical)
    }

    /// The entry of exactly this canonical name outside any partition,
    /// hashed first in a hashed store.
    pub(crate) fn get_named(&self, canonical: &str) -> Option<EntryRef<'_>> {
        self.get_key("", &self.key_of(canonical))
    }

    /// The entry stored under exactly this key in partition `part`.
    pub(crate) fn get_key(&self, part: &str, key: &str) -> Option<EntryRef<'_>> {
        self.find(part, key).map(|id| self.table.entry(id))
    }

    /// How many partitions hold entries.
    pub fn partition_count(&self) -> usize {
        self.table.partition_count()
    }

    /// Heap bytes held by the entries and their indexes (removals not
    /// counted), for measuring memory per entry.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
    }

    /// When this key was last removed from partition `part`, if that is
    /// remembered.
    pub(crate) fn tombstone_of(&self, part: &str, key: &str) -> Option<DateTime<Utc>> {
        self.removals.get(part, key)
    }

    /// Removes expired entries now; returns how many went.
    pub fn purge_expired(&mut self) -> usize {
        self.purge_expired_at(self.clock.now())
    }

    /// Removes entries expired at `now`; returns how many went.
    pub fn purge_expired_at(&mut self, now: DateTime<Utc>) -> usize {
        let dead: Vec<u32> = self
            .table
            .iter()
            .filter(|(_, e)| !e.is_live_at(now))
            .map(|(id, _)| id)
            .collect();
        for &id in &dead {
            self.table.remove(id);
        }
        dead.len()
    }

    /// Inserts an entry as it is, for loading a saved store. The host is
    /// canonicalised; what the store file could not keep is refused (IP
    /// literals, invalid names, an expiry before the observation: the one
    /// validity rule, see [`EntryProblem`]).
    /// An existing entry for the same host is replaced, and returned.
    pub fn insert_entry(&mut self, entry: Entry) -> Result<Option<Entry>, EntryProblem> {
        let h = crate::entry::check_record(&entry.host, entry.observed, entry.expires)?;
        Ok(self.insert_canonical(&h, entry.include_subdomains, entry.observed, entry.expires))
    }

    /// [`HstsStore::insert_entry`] for a host already in canonical form.
    fn insert_canonical(
        &mut self,
        host: &CanonicalHost,
        include_subdomains: bool,
        observed: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Option<Entry> {
        // An explicit insert wins over an earlier removal, as noting does;
        // otherwise the next merge would drop what was just inserted.
        let key = self.key_of(host.as_str()).to_string();
        self.removals.forget("", &key);
        self.put("", &key, include_subdomains, observed, expires)
            .map(|(include_subdomains, observed, expires)| Entry {
                host: key,
                include_subdomains,
                observed,
                expires,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PreloadSource;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    fn note(store: &mut HstsStore, url: &str, v: &str, at: i64) -> Outcome {
        store.note_at(&Url::parse(url).unwrap(), [v], Transport::Secure, t(at))
    }

    #[test]
    fn outcomes() {
        let mut s = HstsStore::new();
        assert_eq!(
            note(&mut s, "https://a.example/", "max-age=10", 0),
            Outcome::Noted
        );
        assert_eq!(
            note(&mut s, "https://a.example/", "max-age=20", 1),
            Outcome::Updated
        );
        assert_eq!(
            note(&mut s, "https://a.example/", "max-age=0", 2),
            Outcome::Removed
        );
        assert_eq!(
            note(&mut s, "https://a.example/", "max-age=0", 3),
            Outcome::Ignored(IgnoreReason::NotKnown)
        );
        assert!(matches!(
            note(&mut s, "https://a.example/", "max-age=x", 3),
            Outcome::Ignored(IgnoreReason::InvalidHeader(_))
        ));
        assert_eq!(
            s.note_at(
                &Url::parse("http://a.example/").unwrap(),
                ["max-age=5"],
                Transport::Secure,
                t(0)
            ),
            Outcome::Ignored(IgnoreReason::InsecureTransport)
        );
        assert_eq!(
            s.note_at(
                &Url::parse("https://a.example/").unwrap(),
                ["max-age=5"],
                Transport::CertificateErrors,
                t(0)
            ),
            Outcome::Ignored(IgnoreReason::CertificateErrors)
        );
        assert_eq!(
            s.note_at(
                &Url::parse("https://a.example/").unwrap(),
                Vec::<&str>::new(),
                Transport::Secure,
                t(0)
            ),
            Outcome::Ignored(IgnoreReason::NoStsField)
        );
        assert_eq!(
            note(&mut s, "https://127.0.0.1/", "max-age=5", 0),
            Outcome::Ignored(IgnoreReason::IpLiteral)
        );
        assert_eq!(
            note(&mut s, "https://[::1]/", "max-age=5", 0),
            Outcome::Ignored(IgnoreReason::IpLiteral)
        );
        assert_eq!(
            note(&mut s, "https://x.localhost/", "max-age=5", 0),
            Outcome::Ignored(IgnoreReason::Localhost)
        );
        assert!(s.is_empty());
    }

    #[test]
    fn expired_entry_renoted_is_noted() {
        let mut s = HstsStore::new();
        note(&mut s, "https://a.example/", "max-age=10", 0);
        assert_eq!(
            note(&mut s, "https://a.example/", "max-age=10", 11),
            Outcome::Noted
        );
        // max-age=0 for an entry that has expired: it was not known.
        assert_eq!(
            note(&mut s, "https://a.example/", "max-age=0", 30),
            Outcome::Ignored(IgnoreReason::NotKnown)
        );
        assert!(s.is_empty());
    }

    #[test]
    fn expiry_boundary_and_saturation() {
        let mut s = HstsStore::new();
        note(&mut s, "https://a.example/", "max-age=7", 0);
        assert!(s.is_known_at("a.example", t(7)).unwrap());
        assert!(!s.is_known_at("a.example", t(8)).unwrap());
        note(
            &mut s,
            "https://b.example/",
            "max-age=99999999999999999999999",
            0,
        );
        assert_eq!(
            s.lookup_at("b.example", t(0)).unwrap().unwrap().expires,
            Some(DateTime::<Utc>::MAX_UTC)
        );
    }

    #[test]
    fn superdomain_walk_does_not_stop() {
        let mut s = HstsStore::new();
        note(
            &mut s,
            "https://example.com/",
            "max-age=100; includeSubDomains",
            0,
        );
        note(&mut s, "https://a.example.com/", "max-age=100", 0);
        let m = s.lookup_at("b.a.example.com", t(1)).unwrap().unwrap();
        assert_eq!(m.host, "example.com");
        let m = s.lookup_at("A.Example.COM.", t(1)).unwrap().unwrap();
        assert_eq!(
            (m.host.as_str(), m.include_subdomains),
            ("a.example.com", false)
        );
        assert!(s.lookup_at("com", t(1)).unwrap().is_none());
        assert!(s.lookup_at("xexample.com", t(1)).unwrap().is_none());
    }

    #[test]
    fn max_age_zero_only_removes_that_host() {
        let mut s = HstsStore::new();
        note(
            &mut s,
            "https://example.com/",
            "max-age=100; includeSubDomains",
            0,
        );
        note(&mut s, "https://a.example.com/", "max-age=100", 0);
        assert_eq!(
            note(&mut s, "https://a.example.com/", "max-age=0", 1),
            Outcome::Removed
        );
        assert!(s.is_known_at("a.example.com", t(2)).unwrap());
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn cap_and_localhost_switch() {
        let mut s = HstsStore::with_config(StoreConfig {
            max_age_cap: Some(10),
            exempt_localhost: false,
            ..StoreConfig::default()
        });
        note(&mut s, "https://localhost/", "max-age=1000", 0);
        assert!(s.is_known_at("localhost", t(10)).unwrap());
        assert!(!s.is_known_at("localhost", t(11)).unwrap());
    }

    #[test]
    fn purge_remove_clear() {
        let mut s = HstsStore::new();
        note(&mut s, "https://a.example/", "max-age=5", 0);
        note(&mut s, "https://b.example/", "max-age=50", 0);
        assert_eq!(s.purge_expired_at(t(10)), 1);
        assert_eq!(s.len(), 1);
        assert!(s.remove("B.EXAMPLE.").unwrap().is_some());
        assert!(s.remove("b.example").unwrap().is_none());
        note(&mut s, "https://c.example/", "max-age=5", 0);
        s.clear();
        assert_eq!(s.iter().count(), 0);
    }

    #[test]
    fn removals_are_bounded_and_clearing_a_full_store_keeps_them_all() {
        let mut s = HstsStore::with_config(StoreConfig {
            capacity: 10,
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        });
        for i in 0..10 {
            note(
                &mut s,
                &format!("https://h{i}.s{i}.example/"),
                "max-age=99",
                0,
            );
        }
        assert_eq!(s.clear_at(t(1)), 10);
        assert_eq!(s.tombstones().count(), 10);
        for i in 0..100 {
            let url = format!("https://r{i}.s{i}.example/");
            note(&mut s, &url, "max-age=99", 2 + i);
            assert_eq!(note(&mut s, &url, "max-age=0", 2 + i), Outcome::Removed);
            assert!(s.tombstones().count() <= 20);
        }
        // The newest removals are the ones remembered.
        assert!(s.tombstone_of("", "r99.s99.example").is_some());
        assert!(s.tombstone_of("", "h0.s0.example").is_none());
    }

    #[test]
    fn store_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<HstsStore>();
    }
}
