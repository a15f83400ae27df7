//! A cheap-to-clone, thread-safe handle around a store, for HTTP clients.
//!
//! Lookups and upgrades take a read lock, so they run side by side on every
//! thread; noting takes the write lock briefly. The handle can persist the
//! store to a file on demand, every N changes, and when the last clone is
//! dropped.
//!
//! ```
//! use hsts::shared::SharedHstsStore;
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
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use url::Url;

use crate::host::HostError;
use crate::persist::{self, PersistError};
use crate::store::{HstsStore, Match, Outcome, StoreConfig, Transport};
use crate::upgrade::Upgrade;

/// Where and when a shared store is saved.
#[derive(Debug, Clone)]
struct Persistence {
    path: PathBuf,
    save_every: Option<u64>,
    save_on_drop: bool,
}

#[derive(Debug)]
struct Inner {
    store: RwLock<HstsStore>,
    persistence: Option<Persistence>,
    changes: AtomicU64,
    /// The error of the last automatic save, if it failed.
    last_save_error: Mutex<Option<String>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(p) = &self.persistence {
            if p.save_on_drop {
                let store = self.store.read().unwrap_or_else(|e| e.into_inner());
                let _ = persist::save(&store, &p.path, store.now());
            }
        }
    }
}

/// A shared, thread-safe HSTS store. Clones share one store.
#[derive(Debug, Clone)]
pub struct SharedHstsStore {
    inner: Arc<Inner>,
}

impl SharedHstsStore {
    /// Shares `store`, with no file behind it.
    pub fn new(store: HstsStore) -> Self {
        SharedHstsStore {
            inner: Arc::new(Inner {
                store: RwLock::new(store),
                persistence: None,
                changes: AtomicU64::new(0),
                last_save_error: Mutex::new(None),
            }),
        }
    }

    /// Loads the store file at `path` (a missing file is an empty store)
    /// and keeps it as the place [`SharedHstsStore::save`] writes to.
    /// `save_every` saves after that many changes; `save_on_drop` saves when
    /// the last clone goes. A file that cannot be read is an error.
    pub fn open(
        path: &Path,
        config: StoreConfig,
        save_every: Option<u64>,
        save_on_drop: bool,
    ) -> Result<Self, PersistError> {
        let store = persist::load(path, config)?;
        Ok(SharedHstsStore {
            inner: Arc::new(Inner {
                store: RwLock::new(store),
                persistence: Some(Persistence {
                    path: path.to_owned(),
                    save_every: save_every.filter(|n| *n > 0),
                    save_on_drop,
                }),
                changes: AtomicU64::new(0),
                last_save_error: Mutex::new(None),
            }),
        })
    }

    /// Runs `f` with shared access to the store.
    pub fn read<R>(&self, f: impl FnOnce(&HstsStore) -> R) -> R {
        f(&self.read_guard())
    }

    /// Runs `f` with exclusive access to the store.
    pub fn write<R>(&self, f: impl FnOnce(&mut HstsStore) -> R) -> R {
        f(&mut self.write_guard())
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, HstsStore> {
        // A panic in another thread while it held the lock cannot leave the
        // store half-changed (every change is one map operation), so a
        // poisoned lock is recovered rather than propagated.
        self.inner.store.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, HstsStore> {
        self.inner.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The URL to request instead of `url`, if its host is a known HSTS host.
    pub fn upgrade(&self, url: &Url) -> Upgrade {
        self.read_guard().upgrade(url)
    }

    /// The entry that makes `host` a known HSTS host, if any.
    pub fn lookup(&self, host: &str) -> Result<Option<Match>, HostError> {
        self.read_guard().lookup(host)
    }

    /// Notes the STS fields of a response from `url`; see [`HstsStore::note`].
    /// Counts changes towards the automatic save.
    pub fn note<I, S>(&self, url: &Url, fields: I, transport: Transport) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let outcome = self.write_guard().note(url, fields, transport);
        if matches!(
            outcome,
            Outcome::Noted | Outcome::Updated | Outcome::Removed
        ) {
            self.changed();
        }
        outcome
    }

    fn changed(&self) {
        let n = self.inner.changes.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(every) = self.inner.persistence.as_ref().and_then(|p| p.save_every) {
            if n % every == 0 {
                let result = self.save().err().map(|e| e.to_string());
                *self
                    .inner
                    .last_save_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = result;
            }
        }
    }

    /// Saves the store to its file now (merging with what other processes
    /// wrote). Without a file this does nothing.
    pub fn save(&self) -> Result<(), PersistError> {
        let Some(p) = &self.inner.persistence else {
            return Ok(());
        };
        let store = self.read_guard();
        persist::save(&store, &p.path, store.now())
    }

    /// The error of the last automatic save, if it failed.
    pub fn last_save_error(&self) -> Option<String> {
        self.inner
            .last_save_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many changes were noted through this handle.
    pub fn changes(&self) -> u64 {
        self.inner.changes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PreloadSource;

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
        let shared = SharedHstsStore::open(&path, config(), Some(2), true).unwrap();
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
        assert!(SharedHstsStore::open(&path, config(), None, true).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"junk");
    }

    #[test]
    fn is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<SharedHstsStore>();
    }
}
