//! A cheap-to-clone, thread-safe handle around a store, for HTTP clients.
//!
//! Lookups and upgrades take a read lock, so they run side by side on every
//! thread; noting takes the write lock briefly. The handle can persist the
//! store to a file on demand, every N changes, and when the last clone is
//! dropped.
//!
//! ```
//! use hsts::SharedHstsStore;
//! use hsts::{HstsStore, Transport};
//! use url::Url;
//!
//! let store = SharedHstsStore::new(HstsStore::new());
//! let worker = store.clone();
//! std::thread::spawn(move || {
//!     let url = Url::parse("https://example.com/").unwrap();
//!     worker.note(&url, ["max-age=600"], Transport::Secure);
//! })
//! .join()
//! .unwrap();
//! let url = Url::parse("http://example.com/a").unwrap();
//! assert_eq!(store.upgrade(&url).url(&url).as_str(), "https://example.com/a");
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_utils::sync::{ShardedLock, ShardedLockReadGuard, ShardedLockWriteGuard};

use chrono::{DateTime, Utc};
use url::Url;

use crate::context::RequestContext;
use crate::host::HostError;
use crate::in_context::{self, Gate};
use crate::persist::{self, PersistError};
use crate::upgrade::{Upgrade, UrlText};
use crate::{HstsStore, Match, Outcome, StoreConfig, Transport};

/// When a shared store with a file behind it saves on its own, besides
/// [`SharedHstsStore::save`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// Save after every this many changes (`Noted`, `Updated`, `Removed`;
    /// a dampened re-note, `Unchanged`, is not a change).
    /// `None` or `Some(0)`: never automatically. The save runs on the thread
    /// that made the change, so in an async program prefer `None` and call
    /// [`SharedHstsStore::save`] from a blocking task.
    pub every_changes: Option<u64>,
    /// Save when the last clone of the handle is dropped. An error there
    /// cannot be reported; call [`SharedHstsStore::save`] to see it.
    pub on_drop: bool,
}

#[derive(Debug)]
struct Persistence {
    path: PathBuf,
    options: SaveOptions,
}

#[derive(Debug)]
struct Inner {
    store: ShardedLock<HstsStore>,
    persistence: Option<Persistence>,
    changes: AtomicU64,
    /// The error of the last automatic save, if it failed.
    last_save_error: Mutex<Option<PersistError>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(p) = &self.persistence {
            if p.options.on_drop {
                let store = self.store.read().unwrap_or_else(|e| e.into_inner());
                let _ = persist::save(&store, &p.path, store.now());
            }
        }
    }
}

/// A shared, thread-safe HSTS store: cheap to clone (one `Arc`), `Send`
/// and `Sync`. Clones share one store.
///
/// Upgrades and lookups take a read lock and run side by side; the lock is
/// sharded per thread, so readers on different cores do not even share a
/// cache line. Noting takes the write lock for one store operation. A lock poisoned by a panic in
/// another thread is recovered, never propagated: every change to the store
/// is a single insert or remove, so a panic cannot leave it half-changed.
#[derive(Debug, Clone)]
pub struct SharedHstsStore {
    inner: Arc<Inner>,
}

impl From<HstsStore> for SharedHstsStore {
    fn from(store: HstsStore) -> Self {
        SharedHstsStore::new(store)
    }
}

impl SharedHstsStore {
    /// Shares `store`, with no file behind it.
    pub fn new(store: HstsStore) -> Self {
        SharedHstsStore::build(store, None)
    }

    /// Shares `store` and saves it to `path` on demand and as `options` say.
    /// The file is not read now; each save merges with what it holds.
    pub fn with_file(store: HstsStore, path: impl AsRef<Path>, options: SaveOptions) -> Self {
        let path = path.as_ref();
        SharedHstsStore::build(
            store,
            Some(Persistence {
                path: path.to_owned(),
                options,
            }),
        )
    }

    /// Loads the store file at `path` (a missing file is an empty store)
    /// and keeps it as the place [`SharedHstsStore::save`] writes to. A file
    /// that cannot be read is an error, and is left untouched.
    ///
    /// ```no_run
    /// use hsts::{SaveOptions, SharedHstsStore};
    /// use hsts::StoreConfig;
    ///
    /// let options = SaveOptions { every_changes: Some(16), on_drop: true };
    /// let store = SharedHstsStore::open("hsts.bin", StoreConfig::default(), options)?;
    /// # Ok::<(), hsts::persist::PersistError>(())
    /// ```
    pub fn open(
        path: impl AsRef<Path>,
        config: StoreConfig,
        options: SaveOptions,
    ) -> Result<Self, PersistError> {
        let path = path.as_ref();
        let store = persist::load(path, config)?;
        Ok(SharedHstsStore::with_file(store, path, options))
    }

    fn build(store: HstsStore, persistence: Option<Persistence>) -> Self {
        SharedHstsStore {
            inner: Arc::new(Inner {
                store: ShardedLock::new(store),
                persistence,
                changes: AtomicU64::new(0),
                last_save_error: Mutex::new(None),
            }),
        }
    }

    /// Runs `f` with shared access to the store.
    pub fn read<R>(&self, f: impl FnOnce(&HstsStore) -> R) -> R {
        f(&self.read_guard())
    }

    /// Runs `f` with exclusive access to the store. Changes made here do
    /// not count towards [`SaveOptions::every_changes`].
    pub fn write<R>(&self, f: impl FnOnce(&mut HstsStore) -> R) -> R {
        f(&mut self.write_guard())
    }

    fn read_guard(&self) -> ShardedLockReadGuard<'_, HstsStore> {
        self.inner.store.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_guard(&self) -> ShardedLockWriteGuard<'_, HstsStore> {
        self.inner.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current time by the store's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.read_guard().now()
    }

    /// The URL to request instead of `url`, if its host is a known HSTS
    /// host now; see [`HstsStore::upgrade_at`].
    pub fn upgrade(&self, url: &Url) -> Upgrade {
        self.read_guard().upgrade(url)
    }

    /// The URL to request instead of `url` at `now`.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        self.read_guard().upgrade_at(url, now)
    }

    /// The text of the URL to send for `url` at `now`, without building a
    /// new [`Url`]; see [`HstsStore::upgrade_text_at`].
    pub fn upgrade_text_at<'u>(&self, url: &'u Url, now: DateTime<Utc>) -> UrlText<'u> {
        self.read_guard().upgrade_text_at(url, now)
    }

    /// The URL to send for `url` now, upgraded or `url` itself; see
    /// [`HstsStore::upgrade_url`].
    pub fn upgrade_url(&self, url: &Url) -> Url {
        self.read_guard().upgrade_url(url)
    }

    /// [`SharedHstsStore::upgrade_url`] at `now`.
    pub fn upgrade_url_at(&self, url: &Url, now: DateTime<Utc>) -> Url {
        self.read_guard().upgrade_url_at(url, now)
    }

    /// The entry that makes `host` a known HSTS host now, if any.
    pub fn lookup(&self, host: &str) -> Result<Option<Match>, HostError> {
        self.read_guard().lookup(host)
    }

    /// The entry that makes `host` a known HSTS host at `now`, if any.
    pub fn lookup_at(&self, host: &str, now: DateTime<Utc>) -> Result<Option<Match>, HostError> {
        self.read_guard().lookup_at(host, now)
    }

    /// Notes the STS fields of a response from `url` now; see
    /// [`HstsStore::note_at`]. A change may trigger an automatic save.
    pub fn note<I, S>(&self, url: &Url, fields: I, transport: Transport) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let now = self.now();
        self.note_at(url, fields, transport, now)
    }

    /// Notes the STS fields of a response from `url` at `now`.
    pub fn note_at<I, S>(
        &self,
        url: &Url,
        fields: I,
        transport: Transport,
        now: DateTime<Utc>,
    ) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        // The context-free form is a top-level navigation to `url`; the
        // view parses and checks before it takes the write lock.
        self.in_context(&RequestContext::navigation())
            .note_at(url, fields, transport, now)
    }

    /// The shared store as seen from `ctx`: see [`HstsStore::in_context`].
    ///
    /// ```
    /// use hsts::{AcceptFrom, HstsStore, Outcome, RequestContext, SharedHstsStore, StoreConfig, Transport};
    /// use url::Url;
    ///
    /// let config = StoreConfig { accept_from: AcceptFrom::TopLevel, ..StoreConfig::default() };
    /// let store = SharedHstsStore::new(HstsStore::with_config(config));
    /// let page = Url::parse("https://shop.example/").unwrap();
    /// let ctx = RequestContext::subresource_of(&page).unwrap();
    /// let now = store.now();
    /// let api = Url::parse("https://api.shop.example/cart").unwrap();
    /// let out = store.in_context(&ctx).note_at(&api, ["max-age=600"], Transport::Secure, now);
    /// assert!(matches!(out, Outcome::Ignored(_))); // neither the top-level host nor its site
    /// assert_eq!(store.changes(), 0);
    /// ```
    pub fn in_context<'a>(&'a self, ctx: &'a RequestContext) -> SharedInContext<'a> {
        SharedInContext { shared: self, ctx }
    }

    /// Counts a change and saves when it is the Nth. Runs after the write
    /// lock is released.
    fn count(&self, outcome: &Outcome) {
        if !matches!(
            outcome,
            Outcome::Noted | Outcome::Updated | Outcome::Removed
        ) {
            return;
        }
        let n = self.inner.changes.fetch_add(1, Ordering::Relaxed) + 1;
        let every = self
            .inner
            .persistence
            .as_ref()
            .and_then(|p| p.options.every_changes)
            .filter(|e| *e > 0);
        if let Some(every) = every {
            if n.is_multiple_of(every) {
                let result = self.save().err();
                *self
                    .inner
                    .last_save_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = result;
            }
        }
    }

    /// Saves the store to its file now, merging with what other processes
    /// wrote (see [`persist::save`]). Without a file this does nothing.
    /// Lookups go on meanwhile; noting waits until the file is written.
    pub fn save(&self) -> Result<(), PersistError> {
        let now = self.now();
        self.save_at(now)
    }

    /// [`SharedHstsStore::save`] as of `now`: entries expired at `now` are
    /// not written.
    pub fn save_at(&self, now: DateTime<Utc>) -> Result<(), PersistError> {
        let Some(p) = &self.inner.persistence else {
            return Ok(());
        };
        let store = self.read_guard();
        persist::save(&store, &p.path, now)
    }

    /// The file behind this store, if any.
    pub fn path(&self) -> Option<&Path> {
        self.inner.persistence.as_ref().map(|p| p.path.as_path())
    }

    /// The error of the last automatic save (every N changes), if it
    /// failed, as the [`PersistError`] that [`SharedHstsStore::save`] would
    /// have returned. The error is handed over once: the next call returns
    /// `None` until another automatic save fails (a later successful one
    /// clears it too).
    pub fn last_save_error(&self) -> Option<PersistError> {
        self.inner
            .last_save_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// How many changes were noted through this handle and its clones.
    pub fn changes(&self) -> u64 {
        self.inner.changes.load(Ordering::Relaxed)
    }
}

/// A shared store seen from one browsing context: see
/// [`SharedHstsStore::in_context`].
#[derive(Debug, Clone, Copy)]
pub struct SharedInContext<'a> {
    shared: &'a SharedHstsStore,
    ctx: &'a RequestContext,
}

impl SharedInContext<'_> {
    /// [`SharedHstsStore::note_at`] in this context (see
    /// [`InContext::note_at`](crate::InContext::note_at)). The header is
    /// parsed and the first-party rule checked before the write lock is taken.
    pub fn note_at<I, S>(
        &self,
        url: &Url,
        fields: I,
        transport: Transport,
        now: DateTime<Utc>,
    ) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let gate = Gate::of(self.shared.read_guard().config());
        let outcome = match gate.prepare(self.ctx, url, fields, transport) {
            Ok((host, header)) => {
                let top = self.ctx.partition_top();
                self.shared.write_guard().apply_in(top, &host, &header, now)
            }
            Err(reason) => Outcome::Ignored(reason),
        };
        self.shared.count(&outcome);
        outcome
    }

    /// [`SharedHstsStore::upgrade_at`] in this context, under the read lock.
    pub fn upgrade_at(&self, url: &Url, now: DateTime<Utc>) -> Upgrade {
        in_context::upgrade_in(&self.shared.read_guard(), self.ctx, url, now)
    }

    /// [`SharedHstsStore::upgrade_text_at`] in this context, under the
    /// read lock.
    pub fn upgrade_text_at<'u>(&self, url: &'u Url, now: DateTime<Utc>) -> UrlText<'u> {
        in_context::upgrade_text_in(&self.shared.read_guard(), self.ctx, url, now)
    }

    /// [`SharedHstsStore::lookup_at`] in this context, under the read lock.
    pub fn lookup_at(&self, host: &str, now: DateTime<Utc>) -> Result<Option<Match>, HostError> {
        in_context::lookup_in(&self.shared.read_guard(), self.ctx, host, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PreloadSource;

    fn config() -> StoreConfig {
        StoreConfig {
            preload: PreloadSource::Off,
            ..StoreConfig::default()
        }
    }

    #[test]
    fn saves_every_n_changes_and_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.bin");
        let shared = SharedHstsStore::open(
            &path,
            config(),
            SaveOptions {
                every_changes: Some(2),
                on_drop: true,
            },
        )
        .unwrap();
        let url = |h: &str| Url::parse(&format!("https://{h}/")).unwrap();
        shared.note(&url("a.example"), ["max-age=600"], Transport::Secure);
        assert!(!path.exists());
        shared.note(&url("b.example"), ["max-age=600"], Transport::Secure);
        assert_eq!(persist::load(&path, config()).unwrap().len(), 2);
        shared.note(&url("c.example"), ["max-age=600"], Transport::Secure);
        // Ignored observations are not changes.
        shared.note(&url("c.example"), ["nonsense"], Transport::Secure);
        assert_eq!(shared.changes(), 3);
        drop(shared);
        assert_eq!(persist::load(&path, config()).unwrap().len(), 3);
    }

    #[test]
    fn unreadable_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.bin");
        std::fs::write(&path, b"junk").unwrap();
        assert!(SharedHstsStore::open(
            &path,
            config(),
            SaveOptions {
                every_changes: None,
                on_drop: true
            }
        )
        .is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"junk");
    }

    #[test]
    fn is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<SharedHstsStore>();
    }

    #[test]
    fn a_poisoned_lock_does_not_panic_the_caller() {
        let shared = SharedHstsStore::new(HstsStore::with_config(config()));
        let url = Url::parse("https://a.example/").unwrap();
        let s2 = shared.clone();
        let panicked = std::thread::spawn(move || {
            s2.write(|_| panic!("poison the lock"));
        })
        .join();
        assert!(panicked.is_err());
        assert!(shared.inner.store.is_poisoned());
        assert_eq!(
            shared.note(&url, ["max-age=600"], Transport::Secure),
            Outcome::Noted
        );
        let plain = Url::parse("http://a.example/").unwrap();
        assert_eq!(
            shared.upgrade(&plain).url(&plain).as_str(),
            "https://a.example/"
        );
    }

    #[test]
    fn many_threads_note_and_upgrade_at_once() {
        let shared = SharedHstsStore::new(HstsStore::with_config(config()));
        let now = shared.now();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let shared = shared.clone();
                scope.spawn(move || {
                    for i in 0..50 {
                        let url = Url::parse(&format!("https://h{t}-{i}.example/")).unwrap();
                        shared.note_at(&url, ["max-age=600"], Transport::Secure, now);
                        let plain = Url::parse(&format!("http://h{t}-{i}.example/")).unwrap();
                        assert!(matches!(
                            shared.upgrade_at(&plain, now),
                            Upgrade::Upgraded(_)
                        ));
                    }
                });
            }
        });
        assert_eq!(shared.read(HstsStore::len), 200);
        assert_eq!(shared.changes(), 200);
    }

    #[test]
    fn with_file_saves_on_demand_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.bin");
        let shared = SharedHstsStore::with_file(
            HstsStore::with_config(config()),
            &path,
            SaveOptions::default(),
        );
        assert_eq!(shared.path(), Some(path.as_path()));
        let url = Url::parse("https://a.example/").unwrap();
        shared.note(&url, ["max-age=600"], Transport::Secure);
        drop(shared.clone());
        assert!(!path.exists());
        shared.save().unwrap();
        assert_eq!(persist::load(&path, config()).unwrap().len(), 1);
        assert!(shared.last_save_error().is_none());
    }
}
