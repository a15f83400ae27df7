//! Private sessions: notes kept in memory only, for as long as the session
//! lives ([`PrivateSession`], [`PrivateOptions`]).
//!
//! A private session is what a browser's private window (Firefox's private
//! browsing, Chromium's Incognito) does with HSTS: it notes and upgrades as
//! a store does, but into a store of its own that lives in memory and dies
//! with the session. By default it is isolated: it neither reads nor
//! writes the persistent store, so a tracker cannot link the private
//! session to a normal one through HSTS entries. With
//! [`PrivateOptions::read_through`] it also honours the persistent store's
//! entries, still writing nothing there.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use crate::context::{LookupScope, RequestContext};
use crate::entry::Match;
use crate::host::{self, CanonicalHost, Host, HostError};
use crate::outcome::{Outcome, Transport};
use crate::shared::SharedHstsStore;
use crate::store::HstsStore;
use crate::upgrade::Upgrade;

/// How a private session relates to the persistent store it was opened on.
///
/// The default is isolated: the session sees only its own notes and the
/// preload list.
///
/// ```
/// use hsts::PrivateOptions;
///
/// assert!(!PrivateOptions::default().is_read_through());
/// assert!(PrivateOptions::default().read_through(true).is_read_through());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PrivateOptions {
    read_through: bool,
}

impl PrivateOptions {
    /// Whether lookups and upgrades that the session's own entries do not
    /// decide fall back to the persistent store's entries (default `false`).
    /// Reading through lets a tracker that wrote an identifier into the
    /// persistent store read it from the private session: the two can then
    /// be linked. Notes go to the session only either way.
    pub fn read_through(mut self, yes: bool) -> PrivateOptions {
        self.read_through = yes;
        self
    }

    /// Whether the session reads through to the persistent store.
    pub fn is_read_through(&self) -> bool {
        self.read_through
    }
}

/// What a read-through session falls back to.
#[derive(Debug)]
enum Behind {
    /// Isolated: nothing.
    Nothing,
    /// A copy of a plain store, taken when the session was opened.
    Snapshot(Box<HstsStore>),
    /// A shared store, read live under its read lock.
    Shared(SharedHstsStore),
}

/// A private session over a store: notes live in the session's own
/// in-memory store and die with it.
///
/// Open one with [`HstsStore::private_session`] or
/// [`SharedHstsStore::private_session`]. The session's store has the
/// persistent store's settings ([`StoreConfig`](crate::StoreConfig), as
/// they are when the session is opened) and clock. The preload list
/// applies in every session: it is the same for every user, so it cannot
/// link anyone.
///
/// - **Notes** (`note_at`, and in a context) go to the session's store
///   only. Nothing in this type can write to the persistent store or to a
///   file, so nothing a session notes reaches one, whatever the
///   [`SaveOptions`](crate::SaveOptions) of a [`SharedHstsStore`] say.
/// - **Lookups and upgrades** ask the session's store; with
///   [`PrivateOptions::read_through`], when it does not decide, the
///   persistent store's. A read through is never a use for the persistent
///   store's eviction policy (days of use are saved in its file, and would
///   record when the private session ran).
/// - **`max-age=0`** in a session removes the session's own entry only. It
///   does not remove a persistent entry, and a read-through session still
///   sees that entry: removing it would carry the private session's
///   browsing into the normal one (and into its file), which is the link a
///   private session exists to prevent. The outcome reports what happened
///   to the session's store (`Ignored(NotKnown)` when the host was only
///   known persistently).
/// - **Ending** ([`PrivateSession::end`], or dropping the session) frees
///   its store. Nothing is saved.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use hsts::{HstsStore, PreloadSource, PrivateOptions, StoreConfig, Transport};
/// use url::Url;
///
/// let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let config = StoreConfig { preload: PreloadSource::Off, ..StoreConfig::default() };
/// let mut store = HstsStore::with_config(config);
/// let bank = Url::parse("https://bank.example/").unwrap();
/// store.note_at(&bank, ["max-age=31536000"], Transport::Secure, now);
///
/// // Isolated (the default): the session does not see the store's entries...
/// let mut session = store.private_session(PrivateOptions::default());
/// let plain_bank = Url::parse("http://bank.example/").unwrap();
/// assert!(!session.upgrade_at(&plain_bank, now).is_upgraded());
/// // ...and the store does not see the session's.
/// let shop = Url::parse("https://shop.example/").unwrap();
/// session.note_at(&shop, ["max-age=31536000"], Transport::Secure, now);
/// let plain_shop = Url::parse("http://shop.example/").unwrap();
/// assert!(session.upgrade_at(&plain_shop, now).is_upgraded());
/// assert!(!store.upgrade_at(&plain_shop, now).is_upgraded());
/// session.end(); // its notes are gone
///
/// // Reading through: the store's entries count too, and notes still stay in the session.
/// let mut session = store.private_session(PrivateOptions::default().read_through(true));
/// assert!(session.upgrade_at(&plain_bank, now).is_upgraded());
/// session.note_at(&shop, ["max-age=31536000"], Transport::Secure, now);
/// assert!(!store.upgrade_at(&plain_shop, now).is_upgraded());
/// ```
#[derive(Debug)]
pub struct PrivateSession {
    own: HstsStore,
    behind: Behind,
}

impl HstsStore {
    /// Opens a private session over this store; see [`PrivateSession`].
    ///
    /// With [`PrivateOptions::read_through`], the session reads through to
    /// a **snapshot** of this store taken now (a copy of its entries):
    /// later changes to this store are not seen by the session. For a
    /// session that sees the persistent store live, use
    /// [`SharedHstsStore::private_session`].
    pub fn private_session(&self, options: PrivateOptions) -> PrivateSession {
        let behind = if options.read_through {
            Behind::Snapshot(Box::new(self.clone()))
        } else {
            Behind::Nothing
        };
        PrivateSession::open(self, behind)
    }
}

impl SharedHstsStore {
    /// Opens a private session over this shared store; see
    /// [`PrivateSession`]. With [`PrivateOptions::read_through`], the
    /// session holds a clone of this handle and reads the shared store
    /// live, under its read lock; it never writes to it, so it never counts
    /// towards [`SaveOptions::every_changes`](crate::SaveOptions) and never
    /// adds to what a save writes. (The handle clone keeps the shared store
    /// alive, so its save on drop waits for the session to end.)
    pub fn private_session(&self, options: PrivateOptions) -> PrivateSession {
        let behind = if options.read_through {
            Behind::Shared(self.clone())
        } else {
            Behind::Nothing
        };
        self.read(|store| PrivateSession::open(store, behind))
    }
}

/// The scope of a read through: the session's scope, but never a use.
fn read_through_scope(scope: LookupScope<'_>) -> LookupScope<'_> {
    LookupScope {
        counts_as_use: false,
        ..scope
    }
}

impl PrivateSession {
    /// A session with `store`'s settings and clock, in front of `behind`.
    fn open(store: &HstsStore, behind: Behind) -> PrivateSession {
        // A store with hashed hosts keeps no names in memory: nor does its
        // session.
        let own = HstsStore::with_keys(store.config().clone(), store.keys())
            .with_clock(Arc::clone(store.clock()));
        PrivateSession { own, behind }
    }

    /// Whether the session reads through to the persistent store.
    pub fn is_read_through(&self) -> bool {
        !matches!(self.behind, Behind::Nothing)
    }

    /// The current time by the session's clock (the persistent store's).
    pub fn now(&self) -> DateTime<Utc> {
        self.own.now()
    }

    /// Notes the STS fields of a response received in the session now; see
    /// [`PrivateSession::note_at`].
    pub fn note<I, S>(&mut self, url: &Url, fields: I, transport: Transport) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let now = self.now();
        self.note_at(url, fields, transport, now)
    }

    /// [`HstsStore::note_at`] into the session's own store: a top-level
    /// navigation's response. The persistent store is not touched.
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
        self.own.note_at(url, fields, transport, now)
    }

    /// The URL to request instead of `url` now; see
    /// [`PrivateSession::upgrade_at`].
    pub fn upgrade(&self, url: &Url) -> Upgrade {
        self.upgrade_at(url, self.now())
    }

    /// [`HstsStore::upgrade_at`] in the session: upgraded when the
    /// session's store knows the host, or, reading through, when the
    /// persistent store does.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        self.upgrade_scoped_at(url, now, LookupScope::NAVIGATION)
    }

    /// The entry that makes `host` a known HSTS host in the session now.
    pub fn lookup(&self, host: &str) -> Result<Option<Match>, HostError> {
        self.lookup_at(host, self.now())
    }

    /// [`HstsStore::lookup_at`] in the session: the session's own match
    /// first, then, reading through, the persistent store's.
    pub fn lookup_at(&self, host: &str, now: DateTime<Utc>) -> Result<Option<Match>, HostError> {
        self.lookup_scoped_at(host, now, LookupScope::NAVIGATION)
    }

    /// The session as seen from `ctx`: see [`HstsStore::in_context`]. The
    /// policies of the persistent store's settings apply (first-party
    /// rule, navigation-only upgrades).
    pub fn in_context<'a>(&'a mut self, ctx: &'a RequestContext) -> PrivateInContext<'a> {
        PrivateInContext { session: self, ctx }
    }

    /// How many entries the session's own store holds (the persistent
    /// store's are not counted).
    pub fn len(&self) -> usize {
        self.own.len()
    }

    /// Whether the session has noted nothing that is still held.
    pub fn is_empty(&self) -> bool {
        self.own.is_empty()
    }

    /// Ends the session: its store is freed and nothing is saved. Dropping
    /// the session does the same.
    pub fn end(self) {}

    fn upgrade_scoped_at(&self, url: &Url, now: DateTime<Utc>, scope: LookupScope<'_>) -> Upgrade {
        let up = self.own.upgrade_scoped_at(url, now, scope);
        if up.is_upgraded() {
            return up;
        }
        let scope = read_through_scope(scope);
        match &self.behind {
            Behind::Nothing => up,
            Behind::Snapshot(store) => store.upgrade_scoped_at(url, now, scope),
            Behind::Shared(shared) => shared.read(|s| s.upgrade_scoped_at(url, now, scope)),
        }
    }

    fn lookup_scoped_at(
        &self,
        host: &str,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> Result<Option<Match>, HostError> {
        match host::canonicalize(host)? {
            Host::Ip(_) => Ok(None),
            Host::Domain(d) => Ok(self.lookup_canonical(&d, now, scope)),
        }
    }

    fn lookup_canonical(
        &self,
        host: &CanonicalHost,
        now: DateTime<Utc>,
        scope: LookupScope<'_>,
    ) -> Option<Match> {
        if let Some(m) = self.own.lookup_scoped_at(host, now, scope) {
            return Some(m);
        }
        let scope = read_through_scope(scope);
        match &self.behind {
            Behind::Nothing => None,
            Behind::Snapshot(store) => store.lookup_scoped_at(host, now, scope),
            Behind::Shared(shared) => shared.read(|s| s.lookup_scoped_at(host, now, scope)),
        }
    }
}

/// A private session seen from one browsing context: see
/// [`PrivateSession::in_context`].
#[derive(Debug)]
pub struct PrivateInContext<'a> {
    session: &'a mut PrivateSession,
    ctx: &'a RequestContext,
}

impl PrivateInContext<'_> {
    /// [`InContext::note_at`](crate::InContext::note_at) into the session's
    /// own store.
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
        self.session
            .own
            .in_context(self.ctx)
            .note_at(url, fields, transport, now)
    }

    /// [`PrivateSession::upgrade_at`] for a request made in this context.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        let scope = self.scope();
        self.session.upgrade_scoped_at(url, now, scope)
    }

    /// [`PrivateSession::lookup_at`] for a request to `host` made in this
    /// context.
    pub fn lookup_at(&self, host: &str, now: DateTime<Utc>) -> Result<Option<Match>, HostError> {
        let scope = self.scope();
        self.session.lookup_scoped_at(host, now, scope)
    }

    /// The context's scope under the session's settings.
    fn scope(&self) -> LookupScope<'_> {
        self.ctx.scope(self.session.own.config().navigations_only)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PreloadSource, StoreConfig};
    use chrono::{Duration, TimeZone};

    #[test]
    fn a_read_through_is_never_a_use_of_the_persistent_store() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut store = HstsStore::with_config(StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        });
        let url = Url::parse("https://t.example/").unwrap();
        store.note_at(&url, ["max-age=31536000"], Transport::Secure, t0);
        let shared = SharedHstsStore::new(store);
        let days = || shared.read(|s| s.usage_of("t.example").unwrap().days);
        let before = days();
        let mut session = shared.private_session(PrivateOptions::default().read_through(true));
        let plain = Url::parse("http://t.example/").unwrap();
        let nav = RequestContext::navigation();
        for d in 1..=5 {
            let at = t0 + Duration::days(d);
            assert!(session.upgrade_at(&plain, at).is_upgraded());
            assert!(session.lookup_at("t.example", at).unwrap().is_some());
            assert!(session
                .in_context(&nav)
                .upgrade_at(&plain, at)
                .is_upgraded());
        }
        assert_eq!(days(), before);
        // The same lookups outside the session are uses.
        assert!(shared
            .upgrade_at(&plain, t0 + Duration::days(6))
            .is_upgraded());
        assert_eq!(days(), before + 1);
    }
}
