//! Keeping the learned store on disk, and exchanging it with curl.
//!
//! The default file format is bincode 2 behind a fixed header (see
//! DESIGN.md, "Persistence"): a magic label, a format version, the body's
//! length and a CRC-32 of the body. The body of version 2 also keeps the
//! writer's capacity and per-site quota and each entry's days of use (what
//! the eviction policy ranks by); version 1 files are still read. The
//! layout is in the `binary` module's documentation. Saving is atomic (temporary file in the
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
//!   [`ImportReport`]: how many entries it read, added, updated, found
//!   expired, skipped (each with its [`SkipReason`]) and how many entries
//!   the capacity or the per-site quota evicted.
//! - [`write_atomic`] replaces a file's contents atomically.
//! - Every failure is a [`PersistError`]; the causes for one entry or one
//!   line are [`EntryProblem`] and [`CurlProblem`].
//!
//! Inside, each job has its module: `binary` (the header, records, bounded
//! decoding), `newest` (keeping the newest records of an oversized file),
//! `merge` (merging with another writer's file), `file` (lock, bounded
//! read, atomic write), `json`, `curl`, and `error`. None imports this
//! module except `error` (for [`ImportReport`], which
//! [`PersistError::NothingImported`] carries), and no two import each
//! other: `merge` and `json` use `binary`, `binary` uses `newest`, all but
//! `newest` use `error`, and `newest` uses nothing here.
//!
//! One validity rule decides which entries are acceptable (a canonical
//! domain name, not an IP literal; times representable in whole seconds;
//! no expiry before the observation): `encode`, `decode`, every import and
//! [`HstsStore::insert_entry`] apply it, so whatever [`save`] writes,
//! [`load`] reads.

mod binary;
mod curl;
mod error;
mod file;
pub(crate) mod merge;
mod newest;
mod report;

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

    pub(crate) fn import(_: &[u8]) -> Result<Vec<(Entry, Option<String>)>, PersistError> {
        Err(PersistError::JsonDisabled)
    }
}

use std::path::Path;

use chrono::{DateTime, Utc};

use hashbrown::HashMap;

use crate::{Entry, EntryRef, HstsStore, StoreConfig};

pub use crate::entry::EntryProblem;
pub use binary::{decode, encode, HEADER_LEN, MAGIC, TOMBSTONE_TTL_DAYS, VERSION};
pub use curl::{export_curl, import_curl};
pub use error::{PersistError, MAX_FILE_LEN};
pub use file::{read_file, write_atomic, LockOptions};
pub use report::{CurlProblem, ImportReport, SkipReason};

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

/// Saves `store` to `path`: under the file's lock, merges with what is on
/// disk (so concurrent writers lose nothing), drops expired entries, and
/// writes atomically. A file that cannot be read is not overwritten.
///
/// Waits at most [`LockOptions::DEFAULT_TIMEOUT`] for the lock; see
/// [`save_with`] for the details and the errors.
pub fn save(
    store: &HstsStore,
    path: impl AsRef<Path>,
    now: DateTime<Utc>,
) -> Result<(), PersistError> {
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
    path: impl AsRef<Path>,
    now: DateTime<Utc>,
    opts: &LockOptions,
) -> Result<(), PersistError> {
    let path = path.as_ref();
    let (target, _) = file::resolve(path)?;
    let _guard = file::lock(&target, opts)?;
    file::sweep_temps(&target);
    // Resolved again under the lock: another writer may have created it.
    let (target, meta) = file::resolve(&target)?;
    let bytes = match file::read_limited(&target)? {
        // A 0-byte file (`touch hsts.bin`) is an empty store.
        None => encode(store, now),
        Some(disk) if disk.is_empty() => encode(store, now),
        Some(disk) => merge::merge_encode(
            binary::decode_contents(&disk, store.config().limits().decode_keep())?,
            store,
            now,
        )?,
    };
    file::write_resolved(&target, meta.as_ref(), &bytes)
}

/// Reads a store file. A missing file is an empty store, and so is an empty
/// (0-byte) one; anything else that
/// cannot be read or decoded is an error, and the file is left untouched.
/// A FIFO, a device or a directory is refused at once
/// ([`PersistError::NotARegularFile`]), without blocking or reading it.
pub fn load(path: impl AsRef<Path>, config: StoreConfig) -> Result<HstsStore, PersistError> {
    let path = path.as_ref();
    match file::read_limited(path)? {
        None => Ok(HstsStore::with_config(config)),
        // A 0-byte file (`touch hsts.bin`) is an empty store.
        Some(bytes) if bytes.is_empty() => Ok(HstsStore::with_config(config)),
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
    path: impl AsRef<Path>,
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
    path: impl AsRef<Path>,
    config: StoreConfig,
    now: DateTime<Utc>,
    opts: &LockOptions,
    f: impl FnOnce(&mut HstsStore) -> R,
) -> Result<R, PersistError> {
    let path = path.as_ref();
    let (target, _) = file::resolve(path)?;
    let _guard = file::lock(&target, opts)?;
    file::sweep_temps(&target);
    let (target, meta) = file::resolve(&target)?;
    let mut store = load(&target, config)?;
    let r = f(&mut store);
    file::write_resolved(&target, meta.as_ref(), &encode(&store, now))?;
    Ok(r)
}

impl HstsStore {
    /// Reads the store file at `path` with `config`: [`load`] as a method.
    /// A missing or empty (0-byte) file is an empty store.
    ///
    /// ```
    /// use hsts::{HstsStore, StoreConfig, Transport};
    /// use hsts::url::Url;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("hsts.bin");
    /// let mut store = HstsStore::load(&path, StoreConfig::default()).unwrap();
    /// store.note(&Url::parse("https://example.com/").unwrap(), ["max-age=600"], Transport::Secure);
    /// store.save(&path).unwrap();
    /// let again = HstsStore::load(&path, StoreConfig::default()).unwrap();
    /// assert!(again.lookup("example.com").unwrap().is_some());
    /// ```
    pub fn load(path: impl AsRef<Path>, config: StoreConfig) -> Result<HstsStore, PersistError> {
        load(path, config)
    }

    /// Saves the store to `path` as of its clock's now: [`save`] as a
    /// method (under the file's lock, merged with what the file holds).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), PersistError> {
        save(self, path, self.now())
    }
}

/// Writes the live entries of `store` in `format`, sorted by host.
pub fn export(
    store: &HstsStore,
    format: Format,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, PersistError> {
    let name = match format {
        Format::Binary => return Ok(encode(store, now)),
        Format::Curl => "curl's format",
        Format::Json => "JSON",
    };
    if store.is_hashed() {
        return Err(PersistError::HashedExport { format: name });
    }
    let mut live: Vec<EntryRef<'_>> = store.iter().filter(|e| e.is_live_at(now)).collect();
    let entries = live.iter().filter(|e| e.partition.is_some()).count();
    if entries > 0 {
        return Err(PersistError::PartitionedExport {
            format: name,
            entries,
        });
    }
    live.sort_by(|a, b| a.host.cmp(b.host));
    match format {
        Format::Binary => Ok(encode(store, now)),
        Format::Curl => Ok(export_curl(live).into_bytes()),
        Format::Json => json::export(live),
    }
}

/// Adds the entries of a file in `format` to `store`, oldest observation
/// first, so that where the capacity or a site's quota is reached, the
/// most recently observed entries are the ones kept. Entries that break
/// the validity rule (IP literals, bad names, an expiry before the
/// observation, bad dates) are skipped with their reason, entries already
/// expired at `now` are counted as expired, and of several entries for one
/// host only the most recently observed is taken. Nothing is left out
/// silently: see [`ImportReport`].
///
/// A file that is not of the format at all is an error and changes
/// nothing; so is a file that held entries of which none could be
/// imported ([`PersistError::NothingImported`], carrying the report).
pub fn import(
    bytes: &[u8],
    format: Format,
    store: &mut HstsStore,
    now: DateTime<Utc>,
) -> Result<ImportReport, PersistError> {
    let mut report = ImportReport::default();
    let read = read_entries(bytes, format, store, &mut report, now)?;
    let todo = newest_per_host(read, &mut report, now);
    report.skipped.sort_by_key(|(pos, _)| *pos);
    insert_all(store, todo, &mut report);
    if report.read > 0 && report.imported() == 0 {
        return Err(PersistError::NothingImported(Box::new(report)));
    }
    Ok(report)
}

/// The entries of a file, each with its position (curl: the line),
/// counting what was read, expired or skipped on the way.
fn read_entries(
    bytes: &[u8],
    format: Format,
    store: &HstsStore,
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> Result<Vec<(usize, Entry)>, PersistError> {
    let numbered = |v: Vec<Entry>| v.into_iter().enumerate().map(|(i, e)| (i + 1, e)).collect();
    Ok(match format {
        Format::Curl => {
            let (entries, skipped) = import_curl(bytes, now)?;
            report.read = entries.len() + skipped.len();
            for (line, p) in skipped {
                match p {
                    CurlProblem::Expired(_) => report.expired += 1,
                    p => report.skipped.push((line, SkipReason::Curl(p))),
                }
            }
            numbered(entries)
        }
        Format::Binary => {
            let contents = binary::decode_contents(bytes, store.config().limits().decode_keep())?;
            if contents.keys.is_hashed() {
                return Err(PersistError::HashedImport);
            }
            let dropped = usize::try_from(contents.entries_dropped).unwrap_or(usize::MAX);
            report.read = contents.entries.len().saturating_add(dropped);
            report.evicted = dropped;
            let mut entries = Vec::with_capacity(contents.entries.len());
            for (i, e) in contents.entries.into_iter().enumerate() {
                if !e.partition.is_empty() {
                    let reason = SkipReason::Partitioned {
                        host: e.host.into_owned(),
                        partition: e.partition.into_owned(),
                    };
                    report.skipped.push((i + 1, reason));
                    continue;
                }
                entries.push((
                    i + 1,
                    Entry {
                        host: e.host.into_owned(),
                        include_subdomains: e.include_subdomains,
                        observed: e.observed,
                        expires: e.expires,
                    },
                ));
            }
            entries
        }
        Format::Json => {
            let read = json::import(bytes)?;
            report.read = read.len();
            let mut entries = Vec::with_capacity(read.len());
            for (i, (e, partition)) in read.into_iter().enumerate() {
                match partition {
                    // A partitioned entry (from `hsts list --json`) cannot
                    // be imported: skipped with its reason, as in binary.
                    Some(partition) => report.skipped.push((
                        i + 1,
                        SkipReason::Partitioned {
                            host: e.host,
                            partition,
                        },
                    )),
                    None => entries.push((i + 1, e)),
                }
            }
            entries
        }
    })
}

/// The validity rule, then expiry, then one entry per host: the most
/// recently observed (the later one in the file on a tie). Returned oldest
/// observation first (file order on a tie), so that at a quota the newest
/// are kept.
fn newest_per_host(
    read: Vec<(usize, Entry)>,
    report: &mut ImportReport,
    now: DateTime<Utc>,
) -> Vec<(usize, Entry)> {
    let mut newest: HashMap<String, (usize, Entry)> = HashMap::with_capacity(read.len());
    for (pos, e) in read {
        let host = match crate::entry::check_record(&e.host, e.observed, e.expires) {
            Ok(h) => h.into_string(),
            Err(problem) => {
                let host = e.host;
                report
                    .skipped
                    .push((pos, SkipReason::Invalid { host, problem }));
                continue;
            }
        };
        if !e.is_live_at(now) {
            report.expired += 1;
            continue;
        }
        let e = Entry { host, ..e };
        match newest.get_mut(&e.host) {
            Some(kept) if kept.1.observed.timestamp() > e.observed.timestamp() => {
                let host = e.host.clone();
                report.skipped.push((pos, SkipReason::Duplicate { host }));
            }
            Some(kept) => {
                let host = e.host.clone();
                report
                    .skipped
                    .push((kept.0, SkipReason::Duplicate { host }));
                *kept = (pos, e);
            }
            None => {
                newest.insert(e.host.clone(), (pos, e));
            }
        }
    }
    let mut todo: Vec<(usize, Entry)> = newest.into_values().collect();
    todo.sort_by_key(|(pos, e)| (e.observed.timestamp(), *pos));
    todo
}

/// Inserts checked entries, counting what was added, updated, and what the
/// capacity or a site's quota evicted meanwhile (entries of the store or
/// just imported).
fn insert_all(store: &mut HstsStore, todo: Vec<(usize, Entry)>, report: &mut ImportReport) {
    let evictions = store.evictions();
    let was_there: Vec<bool> = todo
        .iter()
        .map(|(_, e)| store.get_named(&e.host).is_some())
        .collect();
    let hosts: Vec<String> = todo.iter().map(|(_, e)| e.host.clone()).collect();
    for (pos, e) in todo {
        let host = e.host.clone();
        if let Err(problem) = store.insert_entry(e) {
            // Not reached: the entry passed the same rule before.
            report
                .skipped
                .push((pos, SkipReason::Invalid { host, problem }));
        }
    }
    for (host, was) in hosts.iter().zip(&was_there) {
        match (store.get_named(host).is_some(), *was) {
            (true, true) => report.updated += 1,
            (true, false) => report.added += 1,
            (false, _) => {}
        }
    }
    let evicted = store.evictions().since(evictions).total();
    report.evicted += usize::try_from(evicted).unwrap_or(usize::MAX);
}
