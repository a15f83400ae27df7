//! Noting, upgrading and looking up in a browsing context:
//! [`HstsStore::in_context`] and its view [`InContext`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use hsts::{AcceptFrom, HstsStore, IgnoreReason, Outcome, RequestContext, StoreConfig, Transport};
//! use url::Url;
//!
//! let mut store = HstsStore::with_config(StoreConfig {
//!     accept_from: AcceptFrom::SameSite,
//!     navigations_only: true,
//!     ..StoreConfig::default()
//! });
//! let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let page = Url::parse("https://news.example/").unwrap();
//! let image = RequestContext::subresource_of(&page).unwrap();
//!
//! // A tracker's image on news.example cannot set HSTS for its own site...
//! let pixel = Url::parse("https://b1.tracker.example/p.gif").unwrap();
//! assert_eq!(
//!     store.in_context(&image).note_at(&pixel, ["max-age=600"], Transport::Secure, now),
//!     Outcome::Ignored(IgnoreReason::ThirdParty)
//! );
//! // ...but news.example's own subresources can.
//! let css = Url::parse("https://static.news.example/a.css").unwrap();
//! assert_eq!(
//!     store.in_context(&image).note_at(&css, ["max-age=600"], Transport::Secure, now),
//!     Outcome::Noted
//! );
//! // With navigations_only, the dynamic entry upgrades navigations, not subresources.
//! let plain = Url::parse("http://static.news.example/a.css").unwrap();
//! assert!(!store.in_context(&image).upgrade_at(&plain, now).is_upgraded());
//! assert!(store.upgrade_at(&plain, now).is_upgraded());
//! ```

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::StoreConfig;
use crate::context::{AcceptFrom, RequestContext};
use crate::entry::Match;
use crate::header::StsHeader;
use crate::host::{self, CanonicalHost, CanonicalName, Host, HostError};
use crate::outcome::{IgnoreReason, Outcome, Transport};
use crate::prepare;
use crate::psl::SuffixSource;
use crate::store::HstsStore;
use crate::upgrade::{Upgrade, UrlText};

/// The settings that decide whether a response is noted before the store
/// itself is touched: copied out of a [`StoreConfig`] so that a shared
/// store can check and parse under no lock.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    exempt_localhost: bool,
    accept_from: AcceptFrom,
    suffix_list: SuffixSource,
}

impl Gate {
    /// The gate of a store with these settings.
    pub(crate) fn of(config: &StoreConfig) -> Gate {
        Gate {
            exempt_localhost: config.exempt_localhost,
            accept_from: config.accept_from,
            suffix_list: config.suffix_list.clone(),
        }
    }

    /// The §8.1 checks of [`prepare::prepare`], then the first-party rule of
    /// [`AcceptFrom`] for the response's host in `ctx`.
    pub(crate) fn prepare<I, S>(
        &self,
        ctx: &RequestContext,
        url: &Url,
        fields: I,
        transport: Transport,
    ) -> Result<(CanonicalHost, StsHeader), IgnoreReason>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let (host, header) = prepare::prepare(url, fields, transport, self.exempt_localhost)?;
        if ctx.may_set(self.accept_from, &host, self.suffix_list.list()) {
            Ok((host, header))
        } else {
            Err(IgnoreReason::ThirdParty)
        }
    }
}

/// A store seen from one browsing context: see [`HstsStore::in_context`].
#[derive(Debug)]
pub struct InContext<'a> {
    store: &'a mut HstsStore,
    ctx: &'a RequestContext,
}

impl HstsStore {
    /// The store as seen from `ctx`: noting follows
    /// [`StoreConfig::accept_from`], and upgrades and lookups follow
    /// [`StoreConfig::navigations_only`]. The store's own `note_at`,
    /// `upgrade_at` and `lookup_at` are this with
    /// [`RequestContext::navigation`].
    pub fn in_context<'a>(&'a mut self, ctx: &'a RequestContext) -> InContext<'a> {
        InContext { store: self, ctx }
    }
}

impl InContext<'_> {
    /// [`HstsStore::note_at`] for a response received in this context. A
    /// subresource response that the [`AcceptFrom`] policy refuses is
    /// `Ignored(ThirdParty)`, whatever its header says (Firefox and WebKit
    /// drop the whole header, `max-age=0` included).
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
        let gate = Gate::of(self.store.config());
        match gate.prepare(self.ctx, url, fields, transport) {
            Ok((host, header)) => {
                let top = self.ctx.partition_top();
                self.store.apply_in(top, &host, &header, now)
            }
            Err(reason) => Outcome::Ignored(reason),
        }
    }

    /// [`HstsStore::upgrade_at`] for a request made in this context.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        upgrade_in(self.store, self.ctx, url, now)
    }

    /// The text of the URL to send for `url` at `now` in this context,
    /// without building a new [`Url`]; see [`HstsStore::upgrade_text_at`].
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use hsts::url::Url;
    /// use hsts::{HstsStore, RequestContext, Transport};
    ///
    /// let mut store = HstsStore::new();
    /// let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// store.note_at(&Url::parse("https://example.com/").unwrap(), ["max-age=600"], Transport::Secure, now);
    /// let page = Url::parse("https://news.example/").unwrap();
    /// let img = RequestContext::subresource_of(&page).unwrap();
    /// let url = Url::parse("http://example.com/a.png").unwrap();
    /// let text = store.in_context(&img).upgrade_text_at(&url, now);
    /// assert_eq!(text.to_string(), "https://example.com/a.png");
    /// ```
    pub fn upgrade_text_at<'u>(&self, url: &'u Url, now: DateTime<Utc>) -> UrlText<'u> {
        upgrade_text_in(self.store, self.ctx, url, now)
    }

    /// The URL to send for `url` at `now` in this context, upgraded or
    /// `url` itself; see [`HstsStore::upgrade_url`].
    pub fn upgrade_url_at(&self, url: &Url, now: DateTime<Utc>) -> Url {
        self.upgrade_at(url, now).url(url)
    }

    /// Whether a request to the canonical `host` in this context must use
    /// https at `now`: [`InContext::lookup_at`] without the [`Match`], and
    /// without allocating. `host` is a [`CanonicalHost`] or a
    /// [`CanonicalName`]: a CLI or crawler checking many hosts takes each
    /// as a `CanonicalName` when it is canonical as given (no copy, and
    /// the lookup reuses what the check found), and otherwise reuses one
    /// `CanonicalHost` through [`CanonicalHost::set`].
    ///
    /// ```
    /// use hsts::{CanonicalHost, CanonicalName, HstsStore, RequestContext};
    ///
    /// let mut store = HstsStore::new();
    /// let nav = RequestContext::navigation();
    /// let view = store.in_context(&nav);
    /// let now = chrono::Utc::now();
    /// let mut scratch = CanonicalHost::new("example.org").unwrap();
    /// for given in ["accounts.google.com", "Accounts.Google.COM"] {
    ///     let known = match CanonicalName::new(given) {
    ///         Some(name) => view.is_known_canonical_at(name, now),
    ///         None => {
    ///             scratch.set(given).unwrap();
    ///             view.is_known_canonical_at(&scratch, now)
    ///         }
    ///     };
    ///     assert!(known);
    /// }
    /// ```
    pub fn is_known_canonical_at<'h>(
        &self,
        host: impl Into<CanonicalName<'h>>,
        now: DateTime<Utc>,
    ) -> bool {
        let scope = self.ctx.scope(self.store.config().navigations_only);
        self.store.known_name_scoped_at(host.into(), now, scope)
    }

    /// The top-level site whose partition a request to `host` in this
    /// context uses, when the store is partitioned
    /// ([`StoreConfig::partition`]); `None` otherwise. A navigation (and a
    /// request without a page) uses the host's own site; a subresource the
    /// site of its page.
    ///
    /// ```
    /// use hsts::{CanonicalHost, HstsStore, RequestContext, StoreConfig};
    /// use url::Url;
    ///
    /// let mut store = HstsStore::with_config(StoreConfig { partition: true, ..StoreConfig::default() });
    /// let page = Url::parse("https://www.news.example/").unwrap();
    /// let img = RequestContext::subresource_of(&page).unwrap();
    /// let host = CanonicalHost::new("cdn.tracker.example").unwrap();
    /// assert_eq!(store.in_context(&img).partition(&host).as_deref(), Some("news.example"));
    /// let nav = RequestContext::navigation();
    /// assert_eq!(store.in_context(&nav).partition(&host).as_deref(), Some("tracker.example"));
    /// ```
    pub fn partition(&self, host: &CanonicalHost) -> Option<String> {
        self.store
            .partition_site(self.ctx.partition_top(), host.as_str())
            .map(|s| s.into_owned())
    }

    /// [`HstsStore::lookup_at`] for a request to `host` made in this context.
    pub fn lookup_at(&self, host: &str, now: DateTime<Utc>) -> Result<Option<Match>, HostError> {
        lookup_in(self.store, self.ctx, host, now)
    }
}

/// An upgrade in `ctx`, on a store borrowed for reading.
pub(crate) fn upgrade_in(
    store: &HstsStore,
    ctx: &RequestContext,
    url: &Url,
    now: DateTime<Utc>,
) -> Upgrade {
    let scope = ctx.scope(store.config().navigations_only);
    store.upgrade_scoped_at(url, now, scope)
}

/// The text of the URL to send in `ctx`, on a store borrowed for reading.
pub(crate) fn upgrade_text_in<'u>(
    store: &HstsStore,
    ctx: &RequestContext,
    url: &'u Url,
    now: DateTime<Utc>,
) -> UrlText<'u> {
    let scope = ctx.scope(store.config().navigations_only);
    store.upgrade_text_scoped_at(url, now, scope)
}

/// A lookup in `ctx`, on a store borrowed for reading.
pub(crate) fn lookup_in(
    store: &HstsStore,
    ctx: &RequestContext,
    host: &str,
    now: DateTime<Utc>,
) -> Result<Option<Match>, HostError> {
    let scope = ctx.scope(store.config().navigations_only);
    match host::canonicalize(host)? {
        Host::Ip(_) => Ok(None),
        Host::Domain(d) => Ok(store.lookup_scoped_at(&d, now, scope)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PreloadSource;
    use chrono::{Duration, TimeZone};

    #[test]
    fn only_navigations_count_as_a_use() {
        let mut store = HstsStore::with_config(StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        });
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let url = Url::parse("https://t.example/").unwrap();
        store.note_at(&url, ["max-age=31536000"], Transport::Secure, t0);
        let days = |s: &HstsStore| s.usage_of("t.example").unwrap().days;
        let before = days(&store);
        let page = Url::parse("https://news.example/").unwrap();
        let sub = RequestContext::subresource_of(&page).unwrap();
        let plain = Url::parse("http://t.example/").unwrap();
        for d in 1..=5 {
            let at = t0 + Duration::days(d);
            assert!(store.in_context(&sub).upgrade_at(&plain, at).is_upgraded());
        }
        assert_eq!(days(&store), before);
        let nav = RequestContext::navigation();
        assert!(store
            .in_context(&nav)
            .upgrade_at(&plain, t0 + Duration::days(6))
            .is_upgraded());
        assert_eq!(days(&store), before + 1);
    }
}
