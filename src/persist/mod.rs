//! Keeping the learned store on disk, and exchanging it with curl.
//!
//! The default file format is bincode 2 behind a fixed header (see
//! DESIGN.md, "Persistence"): a magic label, a format version, the body's
//! length and a CRC-32 of the body. Saving is atomic (temporary file in the
//! same directory, fsync, rename, fsync of the directory) and happens under
//! an advisory lock, merging with what other processes wrote meanwhile.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use hsts::persist;
//! use hsts::{HstsStore, StoreConfig, Transport};
//! use url::Url;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("hsts.bin");
//! let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
//!
//! let mut store = HstsStore::new();
//! store.note_at(&Url::parse("https://example.com/").unwrap(), ["max-age=600"], Transport::Secure, now);
//! persist::save(&store, &path, now).unwrap();
//!
//! let loaded = persist::load(&path, StoreConfig::default()).unwrap();
//! assert!(loaded.is_known_at("example.com", now).unwrap());
//! ```
//!
//! # Overview of types
//!
//! - [`save`], [`load`] and [`update`] keep a store in a file; [`encode`]
//!   and [`decode`] do the same with bytes in memory. [`save_with`] and
//!   [`update_with`] take [`LockOptions`] (how long to wait for the lock).
//! - [`export`] and [`import`] exchange entries in a [`Format`]: the binary
//!   store file, JSON (feature `json`) or curl's HSTS cache file
//!   ([`export_curl`], [`import_curl`]). An import says what it did in an
//!   [`ImportReport`], listing what it left out and why ([`SkipReason`]).
//! - [`write_atomic`] replaces a file's contents atomically.
//! - Every failure is a [`PersistError`]; the causes for one entry or one
//!   line are [`EntryProblem`] and [`CurlProblem`].
//!
//! Inside, each job has its module: `binary` (the header, records, bounded
//! decoding), `newest` (keeping the newest records of an oversized file),
//! `merge` (merging with another writer's file), `file` (lock, bounded
//! read, atomic write), `json`, `curl`, and `error`. None imports this
//! module, and no two import each other: `merge` and `json` use `binary`,
//! `binary` uses `newest`, all but `newest` use `error`, and `error` and
//! `newest` use nothing here.

mod binary;
mod curl;
mod error;
mod file;
mod merge;
mod newest;

#[cfg(feature = "json")]
mod json;

/// Without the `json` feature, JSON export and import are refused.
#[cfg(not(feature = "json"))]
mod json {
    use super::error::PersistError;
    use crate::{Entry, EntryRef};

    pub(crate) fn export(_: Vec<EntryRef<'_>>) -> Result<Vec<u8>, PersistError> {
        Err(PersistError::JsonDisabled)
    }

    pub(crate) fn import(_: &[u8]) -> Result<Vec<Entry>, PersistError> {
        Err(PersistError::JsonDisabled)
    }
}

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::{EntryRef, HstsStore, StoreConfig};

pub use binary::{decode, encode, HEADER_LEN, MAGIC, TOMBSTONE_TTL_DAYS, VERSION};
pub use curl::{export_curl, import_curl};
pub use error::{CurlProblem, EntryProblem, PersistError, SkipReason, MAX_FILE_LEN};
pub use file::{write_atomic, LockOptions};

/// A store file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// bincode 2 behind our header: the default on-disk form.
    Binary,
    /// JSON, for people and other tools. Needs the `json` feature; without
    /// it, export and import fail with [`PersistError::JsonDisabled`].
    Json,
    /// curl's HSTS cache file, as documented for `CURLOPT_HSTS`.
    Curl,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries added or replaced.
    pub imported: usize,
    /// Lines (or entries) left out: `(line, why)`. The line is 1-based in
    /// a curl file; for an entry the store refused, it is the entry's
    /// 1-based position among the entries read.
    pub skipped: Vec<(usize, SkipReason)>,
}

/// Saves `store` to `path`: under the file's lock, merges with what is on
/// disk (so concurrent writers lose nothing), drops expired entries, and
/// writes atomically. A file that cannot be read is not overwritten.
///
/// Waits at most [`LockOptions::DEFAULT_TIMEOUT`] for the lock; see
/// [`save_with`] for the details and the errors.
pub fn save(store: &HstsStore, path: &Path, now: DateTime<Utc>) -> Result<(), PersistError> {
    save_with(store, path, now, &LockOptions::default())
}

/// [`save`], waiting at most `opts.timeout` for the lock.
///
/// - A symbolic link at `path` is followed (once, to the end of its chain)
///   and the file it leads to is locked (`TARGET.lock`) and written; the
///   link stays a link.
/// - Anything there that is not a regular file is refused with
///   [`PersistError::NotARegularFile`] before the lock file is created.
/// - The lock file is created with mode 0600 and is never followed if it is
///   a link; a lock held for longer than the timeout is
///   [`PersistError::LockTimeout`].
/// - Under the lock, temporary files a crashed writer left beside the file
///   are removed. The new file keeps the old file's permission bits; a new
///   file is 0600 (see [`write_atomic`]).
pub fn save_with(
    store: &HstsStore,
    path: &Path,
    now: DateTime<Utc>,
    opts: &LockOptions,
) -> Result<(), PersistError> {
    let (target, _) = file::resolve(path)?;
    let _guard = file::lock(&target, opts)?;
    file::sweep_temps(&target);
    // Resolved again under the lock: another writer may have created it.
    let (target, meta) = file::resolve(&target)?;
    let bytes = match file::read_limited(&target)? {
        None => encode(store, now),
        Some(disk) => merge::merge_encode(
            binary::decode_contents(&disk, store.config().limits().decode_keep())?,
            store,
            now,
        ),
    };
    file::write_resolved(&target, meta.as_ref(), &bytes)
}

/// Reads a store file. A missing file is an empty store; anything else that
/// cannot be read or decoded is an error, and the file is left untouched.
/// A FIFO, a device or a directory is refused at once
/// ([`PersistError::NotARegularFile`]), without blocking or reading it.
pub fn load(path: &Path, config: StoreConfig) -> Result<HstsStore, PersistError> {
    match file::read_limited(path)? {
        None => Ok(HstsStore::with_config(config)),
        Some(bytes) => decode(&bytes, config),
    }
}

/// Loads the store under its lock, lets `f` change it, and saves it: the
/// read-modify-write cycle of one short-lived writer. A file that cannot be
/// read is an error and is left as it is.
///
/// Waits at most [`LockOptions::DEFAULT_TIMEOUT`] for the lock; see
/// [`update_with`].
pub fn update<R>(
    path: &Path,
    config: StoreConfig,
    now: DateTime<Utc>,
    f: impl FnOnce(&mut HstsStore) -> R,
) -> Result<R, PersistError> {
    update_with(path, config, now, &LockOptions::default(), f)
}

/// [`update`], waiting at most `opts.timeout` for the lock. Links, special
/// files, the lock file, leftover temporary files and permissions are
/// handled as by [`save_with`].
pub fn update_with<R>(
    path: &Path,
    config: StoreConfig,
    now: DateTime<Utc>,
    opts: &LockOptions,
    f: impl FnOnce(&mut HstsStore) -> R,
) -> Result<R, PersistError> {
    let (target, _) = file::resolve(path)?;
    let _guard = file::lock(&target, opts)?;
    file::sweep_temps(&target);
    let (target, meta) = file::resolve(&target)?;
    let mut store = load(&target, config)?;
    let r = f(&mut store);
    file::write_resolved(&target, meta.as_ref(), &encode(&store, now))?;
    Ok(r)
}

/// Writes the live entries of `store` in `format`, sorted by host.
pub fn export(
    store: &HstsStore,
    format: Format,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, PersistError> {
    let mut live: Vec<EntryRef<'_>> = store.iter().filter(|e| e.is_live_at(now)).collect();
    live.sort_by(|a, b| a.host.cmp(b.host));
    match format {
        Format::Binary => Ok(encode(store, now)),
        Format::Curl => Ok(export_curl(live).into_bytes()),
        Format::Json => json::export(live),
    }
}

/// Adds the entries of a file in `format` to `store`. Entries that are not
/// acceptable (IP literals, bad names, bad dates) are skipped and reported;
/// a file that is not of the format at all is an error and changes nothing.
pub fn import(
    bytes: &[u8],
    format: Format,
    store: &mut HstsStore,
    now: DateTime<Utc>,
) -> Result<ImportReport, PersistError> {
    let (entries, mut skipped) = match format {
        Format::Curl => {
            let (entries, skipped) = import_curl(bytes, now)?;
            let skipped = skipped.into_iter();
            let skipped = skipped.map(|(line, p)| (line, SkipReason::Curl(p)));
            (entries, skipped.collect())
        }
        Format::Binary => {
            let decoded = decode(bytes, store.config().clone())?;
            (decoded.iter().map(|e| e.to_entry()).collect(), Vec::new())
        }
        Format::Json => (json::import(bytes)?, Vec::new()),
    };
    let mut imported = 0;
    for (i, e) in entries.into_iter().enumerate() {
        let host = e.host.clone();
        match store.insert_entry(e) {
            Ok(_) => imported += 1,
            Err(source) => skipped.push((i + 1, SkipReason::Refused { host, source })),
        }
    }
    Ok(ImportReport { imported, skipped })
}
