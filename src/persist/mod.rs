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

mod curl;

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use bincode::{BorrowDecode, Encode};
use chrono::{DateTime, Duration, Utc};
use hashbrown::{HashMap, HashSet};
use serde::{Deserialize, Serialize};

use crate::host::CanonicalHost;
use crate::{Entry, EntryRef, HstsStore, StoreConfig};

pub use curl::{export_curl, import_curl};

/// The label at the start of every store file.
pub const MAGIC: [u8; 8] = *b"HSTSSTOR";
/// The newest format version this build reads and the one it writes.
pub const VERSION: u16 = 1;
/// Header: magic (8), version (2), reserved (2), body length (8), CRC-32 (4).
pub const HEADER_LEN: usize = 24;
/// The largest store file we read: 1 GiB.
pub const MAX_FILE_LEN: u64 = 1 << 30;
/// How long a removal is remembered for merging with other writers.
pub const TOMBSTONE_TTL_DAYS: i64 = 30;
/// The largest encoded record (a 253-octet host plus fixed fields).
const MAX_RECORD_LEN: usize = 512;

/// A store file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// bincode 2 behind our header: the default on-disk form.
    Binary,
    /// JSON, for people and other tools.
    Json,
    /// curl's HSTS cache file, as documented for `CURLOPT_HSTS`.
    Curl,
}

/// Why a store file could not be read or written. Each says what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// The operating system refused.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file is shorter than its header says.
    #[error("truncated: {len} bytes, expected {expected}")]
    Truncated {
        /// Bytes present.
        len: u64,
        /// Bytes the header calls for.
        expected: u64,
    },
    /// The file does not start with our label: not a store file.
    #[error("not an hsts store file (bad magic label)")]
    BadMagic,
    /// Written by a newer (or unknown) version of this format.
    #[error(
        "store format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The newest this build reads.
        supported: u16,
    },
    /// The body does not match its checksum: corrupt.
    #[error("checksum mismatch: header says {expected:08x}, body has {actual:08x}")]
    ChecksumMismatch {
        /// CRC-32 in the header.
        expected: u32,
        /// CRC-32 of the body.
        actual: u32,
    },
    /// The file is larger than we are willing to read.
    #[error("file of {0} bytes is larger than the {MAX_FILE_LEN}-byte limit")]
    TooLarge(u64),
    /// The body could not be decoded.
    #[error("corrupt body: {0}")]
    Decode(String),
    /// An entry in the file is not acceptable (an IP literal, a bad name, ...).
    #[error("invalid entry {host:?}: {reason}")]
    InvalidEntry {
        /// The host as found.
        host: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A line of a curl or JSON file is wrong.
    #[error("line {line}: {msg}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> PersistError + 'a {
    move |source| PersistError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// One entry as stored: times in unix seconds. Decoding borrows the name
/// from the file's bytes.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
struct Record<'a> {
    host: &'a str,
    include_subdomains: bool,
    observed: i64,
    expires: i64,
}

/// One removal as stored.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
struct Tombstone<'a> {
    host: &'a str,
    removed: i64,
}

fn secs_to_time(s: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(s, 0)
}

fn bincode_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_RECORD_LEN>()
}

/// An entry of a store file: name, includeSubDomains, observed, expires.
type FileEntry<'a> = (Cow<'a, str>, bool, DateTime<Utc>, DateTime<Utc>);

/// The checked contents of a store file, not yet in a store: canonical
/// names borrowed from the file where they already were canonical.
#[derive(Debug, Default)]
struct Contents<'a> {
    entries: Vec<FileEntry<'a>>,
    tombstones: Vec<(Cow<'a, str>, DateTime<Utc>)>,
}

/// Encodes the live entries (at `now`) and recent removals as a store file.
pub fn encode(store: &HstsStore, now: DateTime<Utc>) -> Vec<u8> {
    let live = store.iter().filter(|e| e.is_live_at(now)).map(|e| Record {
        host: e.host,
        include_subdomains: e.include_subdomains,
        observed: e.observed.timestamp(),
        expires: e.expires.timestamp(),
    });
    let keep_after = now - Duration::days(TOMBSTONE_TTL_DAYS);
    let tombs = store
        .tombstones()
        .filter(|(_, t)| *t >= keep_after)
        .map(|(host, t)| Tombstone {
            host,
            removed: t.timestamp(),
        });
    encode_parts(
        store.iter().filter(|e| e.is_live_at(now)).count(),
        live,
        tombs,
        store.len() * 32,
    )
}

/// Writes the header and body: the count of entries and each entry, then
/// the count of removals and each removal. Counts come first so that
/// decoding can bound every allocation by the bytes actually present.
fn encode_parts<'a>(
    count: usize,
    entries: impl Iterator<Item = Record<'a>>,
    tombstones: impl Iterator<Item = Tombstone<'a>>,
    size_hint: usize,
) -> Vec<u8> {
    let cfg = bincode::config::standard();
    let mut out = Vec::with_capacity(HEADER_LEN + 16 + size_hint);
    out.resize(HEADER_LEN, 0);
    let _ = bincode::encode_into_std_write(count as u64, &mut out, cfg);
    let mut written = 0usize;
    for r in entries {
        let _ = bincode::encode_into_std_write(r, &mut out, cfg);
        written += 1;
    }
    debug_assert_eq!(written, count);
    let tombs: Vec<Tombstone<'a>> = tombstones.collect();
    let _ = bincode::encode_into_std_write(tombs.len() as u64, &mut out, cfg);
    for t in tombs {
        let _ = bincode::encode_into_std_write(t, &mut out, cfg);
    }
    let body_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    out[..8].copy_from_slice(&MAGIC);
    out[8..10].copy_from_slice(&VERSION.to_le_bytes());
    out[10..12].copy_from_slice(&0u16.to_le_bytes());
    out[12..20].copy_from_slice(&body_len.to_le_bytes());
    out[20..24].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the header and checksum and returns the body.
fn body_of(bytes: &[u8]) -> Result<&[u8], PersistError> {
    let len = bytes.len() as u64;
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            return Err(PersistError::Truncated {
                len,
                expected: HEADER_LEN as u64,
            });
        }
        return Err(PersistError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(PersistError::Truncated {
            len,
            expected: HEADER_LEN as u64,
        });
    }
    let le16 = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let version = le16(8);
    if version != VERSION {
        return Err(PersistError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    if le16(10) != 0 {
        return Err(PersistError::Decode(
            "reserved header bytes are not zero".into(),
        ));
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[12..20]);
    let body_len = u64::from_le_bytes(n);
    let mut c = [0u8; 4];
    c.copy_from_slice(&bytes[20..24]);
    let expected_crc = u32::from_le_bytes(c);
    let expected = body_len.saturating_add(HEADER_LEN as u64);
    if expected > len {
        return Err(PersistError::Truncated { len, expected });
    }
    if expected < len {
        return Err(PersistError::Decode(format!(
            "{} bytes of trailing data",
            len - expected
        )));
    }
    let body = &bytes[HEADER_LEN..];
    let actual = crc32fast::hash(body);
    if actual != expected_crc {
        return Err(PersistError::ChecksumMismatch {
            expected: expected_crc,
            actual,
        });
    }
    Ok(body)
}

/// A name from a file in canonical form: borrowed when it already is
/// canonical (the usual case), else canonicalised. IP literals and invalid
/// names are errors.
fn canonical_name(host: &str) -> Result<Cow<'_, str>, PersistError> {
    match CanonicalHost::new(host) {
        Ok(h) if h.as_str() == host => Ok(Cow::Borrowed(host)),
        Ok(h) => Ok(Cow::Owned(h.into_string())),
        Err(e) => Err(PersistError::InvalidEntry {
            host: host.to_owned(),
            reason: e.to_string(),
        }),
    }
}

/// The `keep` most recent of a stream of items, by time: a plain vector
/// while no more than `keep` are expected, else a min-heap of `keep` that
/// drops the oldest. Memory is bounded by `keep`, whatever the file claims.
enum Newest<T> {
    All(Vec<(DateTime<Utc>, T)>),
    Heap {
        keep: usize,
        seq: u64,
        heap: BinaryHeap<Reverse<Timed<T>>>,
    },
}

/// An item ordered by its time, then by arrival; the item itself does not
/// take part in the ordering.
struct Timed<T> {
    at: DateTime<Utc>,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Timed<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<T> Eq for Timed<T> {}
impl<T> PartialOrd for Timed<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Timed<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Newest<T> {
    fn new(expected: u64, keep: usize) -> Newest<T> {
        if expected <= keep as u64 {
            Newest::All(Vec::with_capacity(expected as usize))
        } else {
            Newest::Heap {
                keep,
                seq: 0,
                heap: BinaryHeap::with_capacity(keep + 1),
            }
        }
    }

    fn push(&mut self, at: DateTime<Utc>, item: T) {
        match self {
            Newest::All(v) => v.push((at, item)),
            Newest::Heap { keep, seq, heap } => {
                *seq += 1;
                heap.push(Reverse(Timed {
                    at,
                    seq: *seq,
                    item,
                }));
                if heap.len() > *keep {
                    heap.pop();
                }
            }
        }
    }

    fn into_vec(self) -> Vec<(DateTime<Utc>, T)> {
        match self {
            Newest::All(v) => v,
            Newest::Heap { heap, .. } => {
                heap.into_iter().map(|Reverse(t)| (t.at, t.item)).collect()
            }
        }
    }
}

/// Checks and decodes a store file without building a store. Of the
/// entries, only the `keep` most recently observed are kept (a store of
/// that capacity could hold no more), and of the removals the `2 * keep`
/// newest, so memory is bounded by `keep` and not by what the file claims.
/// Never panics.
fn decode_contents(bytes: &[u8], keep: usize) -> Result<Contents<'_>, PersistError> {
    let body = body_of(bytes)?;
    let mut rest = body;
    let count = take_count(&mut rest)?;
    let mut entries = Newest::new(count, keep);
    for _ in 0..count {
        let r: Record<'_> = take(&mut rest)?;
        let bad = |what: &str| PersistError::InvalidEntry {
            host: r.host.to_owned(),
            reason: format!("{what} out of range"),
        };
        let observed = secs_to_time(r.observed).ok_or_else(|| bad("observed time"))?;
        let expires = secs_to_time(r.expires).ok_or_else(|| bad("expiry time"))?;
        if expires < observed {
            return Err(bad("expiry before observation"));
        }
        entries.push(
            observed,
            (canonical_name(r.host)?, r.include_subdomains, expires),
        );
    }
    let count = take_count(&mut rest)?;
    let mut tombstones = Newest::new(count, keep.saturating_mul(2));
    for _ in 0..count {
        let t: Tombstone<'_> = take(&mut rest)?;
        let at = secs_to_time(t.removed)
            .ok_or_else(|| PersistError::Decode(format!("time {} out of range", t.removed)))?;
        tombstones.push(at, canonical_name(t.host)?);
    }
    if !rest.is_empty() {
        return Err(PersistError::Decode(format!(
            "{} bytes left over after the last record",
            rest.len()
        )));
    }
    Ok(Contents {
        entries: entries
            .into_vec()
            .into_iter()
            .map(|(observed, (host, isd, expires))| (host, isd, observed, expires))
            .collect(),
        tombstones: tombstones
            .into_vec()
            .into_iter()
            .map(|(at, host)| (host, at))
            .collect(),
    })
}

/// Puts decoded contents into a new store. Entries go in in observation
/// order, so that the store's eviction order is the observation order.
fn build_store(mut contents: Contents<'_>, config: StoreConfig) -> HstsStore {
    contents.entries.sort_by_key(|e| e.2);
    let mut store = HstsStore::with_config(config);
    let name_bytes = contents.entries.iter().map(|e| e.0.len()).sum();
    store.reserve(contents.entries.len(), name_bytes);
    for (host, isd, observed, expires) in &contents.entries {
        store.insert_trusted(host, *isd, *observed, *expires);
    }
    for (host, at) in &contents.tombstones {
        store.insert_trusted_tombstone(host, *at);
    }
    store
}

/// Decodes a store file into a store with the given settings. Bounded: no
/// allocation exceeds what the bytes present can justify. Never panics.
pub fn decode(bytes: &[u8], config: StoreConfig) -> Result<HstsStore, PersistError> {
    let keep = config.capacity_in_force();
    Ok(build_store(decode_contents(bytes, keep)?, config))
}

/// Reads a record count, bounded by the bytes left (each record takes at
/// least 4 bytes).
fn take_count(rest: &mut &[u8]) -> Result<u64, PersistError> {
    let n: u64 = take(rest)?;
    if n > rest.len() as u64 / 4 {
        return Err(PersistError::Decode(format!(
            "count {n} exceeds the {} bytes left",
            rest.len()
        )));
    }
    Ok(n)
}

fn take<'a, T: BorrowDecode<'a, ()>>(rest: &mut &'a [u8]) -> Result<T, PersistError> {
    let (v, used) = bincode::borrow_decode_from_slice(rest, bincode_config())
        .map_err(|e| PersistError::Decode(e.to_string()))?;
    *rest = &rest[used..];
    Ok(v)
}

/// Reads a store file. A missing file is an empty store; anything else that
/// cannot be read or decoded is an error, and the file is left untouched.
pub fn load(path: &Path, config: StoreConfig) -> Result<HstsStore, PersistError> {
    match read_limited(path)? {
        None => Ok(HstsStore::with_config(config)),
        Some(bytes) => decode(&bytes, config),
    }
}

fn read_limited(path: &Path) -> Result<Option<Vec<u8>>, PersistError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("open", path)(e)),
    };
    let len = f.metadata().map_err(io_err("stat", path))?.len();
    if len > MAX_FILE_LEN {
        return Err(PersistError::TooLarge(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    Read::by_ref(&mut f)
        .take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err("read", path))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(PersistError::TooLarge(bytes.len() as u64));
    }
    Ok(Some(bytes))
}

/// An exclusive advisory lock on `FILE.lock`, released on drop.
struct LockGuard {
    _file: File,
}

fn lock(path: &Path) -> Result<LockGuard, PersistError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err("create lock file", &lock_path))?;
    file.lock().map_err(io_err("lock", &lock_path))?;
    Ok(LockGuard { _file: file })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("write", &tmp)(e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("rename", path)(e));
    }
    // The rename is durable once the directory is synced. Some platforms
    // cannot open a directory for this; the data itself is already synced.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Merges `ours` with what a store file holds, and encodes the result at
/// `now`: per host the newest observation wins (ours on a tie), and a
/// removal wins over any entry observed before it. Works on the file's
/// records directly, looking each up in `ours`' own index, so no map of the
/// whole file is built. Only when the union outgrows the capacity is it put
/// through a store, whose eviction policy then decides what stays.
fn merge_encode(disk: Contents<'_>, ours: &HstsStore, now: DateTime<Utc>) -> Vec<u8> {
    let mut disk_tombs: HashMap<&str, DateTime<Utc>> =
        HashMap::with_capacity(disk.tombstones.len());
    for (h, at) in &disk.tombstones {
        let t = disk_tombs.entry(&**h).or_insert(*at);
        *t = (*t).max(*at);
    }
    let removed_on_disk_after =
        |host: &str, at: DateTime<Utc>| disk_tombs.get(host).is_some_and(|t| *t > at);
    let removed_by_us_after =
        |host: &str, at: DateTime<Utc>| ours.tombstone_of(host).is_some_and(|t| t >= at);
    let mut out: Vec<(&str, bool, DateTime<Utc>, DateTime<Utc>)> =
        Vec::with_capacity(disk.entries.len() + ours.len());
    // Our entries that an entry on disk beats.
    let mut beaten: HashSet<&str> = HashSet::new();
    for (h, isd, observed, expires) in &disk.entries {
        if let Some(o) = ours.get_str(h) {
            if o.observed >= *observed && !removed_on_disk_after(h, o.observed) {
                continue; // ours is written below
            }
            beaten.insert(&**h);
        }
        if !removed_by_us_after(h, *observed) {
            out.push((&**h, *isd, *observed, *expires));
        }
    }
    for o in ours.iter() {
        if !beaten.contains(o.host)
            && !removed_on_disk_after(o.host, o.observed)
            && !removed_by_us_after(o.host, o.observed)
        {
            out.push((o.host, o.include_subdomains, o.observed, o.expires));
        }
    }
    out.retain(|e| now <= e.3);
    let mut tombs = disk_tombs.clone();
    for (h, at) in ours.tombstones() {
        let t = tombs.entry(h).or_insert(at);
        *t = (*t).max(at);
    }
    if out.len() > ours.config().capacity_in_force() {
        let contents = Contents {
            entries: out
                .into_iter()
                .map(|(h, isd, observed, expires)| (Cow::Borrowed(h), isd, observed, expires))
                .collect(),
            tombstones: tombs
                .into_iter()
                .map(|(h, at)| (Cow::Borrowed(h), at))
                .collect(),
        };
        return encode(&build_store(contents, ours.config().clone()), now);
    }
    let keep_after = now - Duration::days(TOMBSTONE_TTL_DAYS);
    let records = out
        .iter()
        .map(|&(host, include_subdomains, observed, expires)| Record {
            host,
            include_subdomains,
            observed: observed.timestamp(),
            expires: expires.timestamp(),
        });
    let tombs = tombs
        .iter()
        .filter(|(_, t)| **t >= keep_after)
        .map(|(h, t)| Tombstone {
            host: h,
            removed: t.timestamp(),
        });
    encode_parts(out.len(), records, tombs, out.len() * 32)
}

/// Saves `store` to `path`: under the file's lock, merges with what is on
/// disk (so concurrent writers lose nothing), drops expired entries, and
/// writes atomically. A file that cannot be read is not overwritten.
pub fn save(store: &HstsStore, path: &Path, now: DateTime<Utc>) -> Result<(), PersistError> {
    let _guard = lock(path)?;
    let bytes = match read_limited(path)? {
        None => encode(store, now),
        Some(disk) => merge_encode(
            decode_contents(&disk, store.config().capacity_in_force())?,
            store,
            now,
        ),
    };
    write_atomic(path, &bytes)
}

/// Loads the store under its lock, lets `f` change it, and saves it: the
/// read-modify-write cycle of one short-lived writer. A file that cannot be
/// read is an error and is left as it is.
pub fn update<R>(
    path: &Path,
    config: StoreConfig,
    now: DateTime<Utc>,
    f: impl FnOnce(&mut HstsStore) -> R,
) -> Result<R, PersistError> {
    let _guard = lock(path)?;
    let mut store = load(path, config)?;
    let r = f(&mut store);
    write_atomic(path, &encode(&store, now))?;
    Ok(r)
}

/// The JSON document of [`Format::Json`].
#[derive(Debug, Serialize, Deserialize)]
struct JsonFile {
    format: String,
    version: u16,
    entries: Vec<JsonEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JsonEntry {
    host: String,
    include_subdomains: bool,
    observed: DateTime<Utc>,
    expires: DateTime<Utc>,
}

const JSON_FORMAT_NAME: &str = "hsts-store";

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries added or replaced.
    pub imported: usize,
    /// Lines (or entries) left out, with the reason: `(line, reason)`.
    pub skipped: Vec<(usize, String)>,
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
        Format::Json => {
            let doc = JsonFile {
                format: JSON_FORMAT_NAME.into(),
                version: VERSION,
                entries: live
                    .into_iter()
                    .map(|e| JsonEntry {
                        host: e.host.to_owned(),
                        include_subdomains: e.include_subdomains,
                        observed: e.observed,
                        expires: e.expires,
                    })
                    .collect(),
            };
            let mut s =
                serde_json::to_vec_pretty(&doc).map_err(|e| PersistError::Decode(e.to_string()))?;
            s.push(b'\n');
            Ok(s)
        }
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
        Format::Curl => import_curl(bytes, now)?,
        Format::Binary => (
            decode(bytes, store.config().clone())?
                .iter()
                .map(|e| e.to_entry())
                .collect(),
            Vec::new(),
        ),
        Format::Json => {
            if bytes.len() as u64 > MAX_FILE_LEN {
                return Err(PersistError::TooLarge(bytes.len() as u64));
            }
            let doc: JsonFile = serde_json::from_slice(bytes).map_err(|e| PersistError::Line {
                line: e.line(),
                msg: e.to_string(),
            })?;
            if doc.format != JSON_FORMAT_NAME {
                return Err(PersistError::BadMagic);
            }
            if doc.version != VERSION {
                return Err(PersistError::UnsupportedVersion {
                    found: doc.version,
                    supported: VERSION,
                });
            }
            let entries = doc
                .entries
                .into_iter()
                .map(|e| Entry {
                    host: e.host,
                    include_subdomains: e.include_subdomains,
                    observed: e.observed,
                    expires: e.expires,
                })
                .collect();
            (entries, Vec::new())
        }
    };
    let mut imported = 0;
    for (i, e) in entries.into_iter().enumerate() {
        let host = e.host.clone();
        match store.insert_entry(e) {
            Ok(_) => imported += 1,
            Err(err) => skipped.push((i + 1, format!("{host}: {err}"))),
        }
    }
    Ok(ImportReport { imported, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal::StoreInternals;
    use crate::Transport;
    use chrono::TimeZone;
    use url::Url;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    fn sample() -> HstsStore {
        let mut s = HstsStore::new();
        for (h, v) in [
            ("a.example", "max-age=100"),
            ("b.example", "max-age=1000; includeSubDomains"),
            ("c.example", "max-age=1"),
        ] {
            s.note_at(
                &Url::parse(&format!("https://{h}/")).unwrap(),
                [v],
                Transport::Secure,
                t(0),
            );
        }
        s
    }

    #[test]
    fn round_trip_drops_expired() {
        let bytes = encode(&sample(), t(50));
        let back = decode(&bytes, StoreConfig::default()).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back.is_known_at("x.b.example", t(60)).unwrap());
    }

    #[test]
    fn every_truncation_and_flip_fails_cleanly() {
        let bytes = encode(&sample(), t(0));
        for n in 0..bytes.len() {
            assert!(
                decode(&bytes[..n], StoreConfig::default()).is_err(),
                "truncated at {n}"
            );
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            // Either a clean error or (never, with a CRC) a valid store; no panic.
            assert!(decode(&b, StoreConfig::default()).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn a_file_larger_than_the_capacity_keeps_the_newest_within_bounded_memory() {
        let mut big = HstsStore::with_config(StoreConfig {
            capacity: 1000,
            ..StoreConfig::default()
        });
        for i in 0..1000i64 {
            // Observation times out of file order.
            let at = (i * 7919) % 1000;
            big.insert_entry(Entry {
                host: format!("h{at}.s{at}.example"),
                include_subdomains: false,
                observed: t(at),
                expires: t(5000),
            })
            .unwrap();
            big.insert_tombstone(
                &CanonicalHost::new(&format!("gone{i}.example")).unwrap(),
                t(i),
            );
        }
        let bytes = encode(&big, t(0));
        let contents = decode_contents(&bytes, 10).unwrap();
        assert_eq!(contents.entries.len(), 10);
        assert_eq!(contents.tombstones.len(), 20);
        let small = decode(
            &bytes,
            StoreConfig {
                capacity: 10,
                ..StoreConfig::default()
            },
        )
        .unwrap();
        let mut hosts: Vec<&str> = small.iter().map(|e| e.host).collect();
        hosts.sort();
        let want: Vec<String> = (990..1000).map(|i| format!("h{i}.s{i}.example")).collect();
        assert_eq!(hosts, want);
        assert!(small.tombstone_of("gone999.example").is_some());
        assert!(small.tombstone_of("gone0.example").is_none());
    }

    #[test]
    fn a_merge_past_the_capacity_goes_through_the_eviction_policy() {
        let small = StoreConfig {
            capacity: 5,
            ..StoreConfig::default()
        };
        let entry = |i: i64| Entry {
            host: format!("h{i}.s{i}.example"),
            include_subdomains: false,
            observed: t(i),
            expires: t(1000),
        };
        let mut disk = HstsStore::with_config(small.clone());
        let mut ours = HstsStore::with_config(small.clone());
        for i in 0..5 {
            disk.insert_entry(entry(i)).unwrap();
            ours.insert_entry(entry(10 + i)).unwrap();
        }
        let merged = merge_encode(
            decode_contents(&encode(&disk, t(0)), 5).unwrap(),
            &ours,
            t(20),
        );
        let back = decode(&merged, StoreConfig::default()).unwrap();
        let mut hosts: Vec<&str> = back.iter().map(|e| e.host).collect();
        hosts.sort();
        // The five least recently observed (the disk's) were evicted.
        let want: Vec<String> = (10..15).map(|i| entry(i).host).collect();
        assert_eq!(hosts, want);
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(
            decode(b"", StoreConfig::default()),
            Err(PersistError::BadMagic)
        ));
        assert!(matches!(
            decode(b"not a store file at all", StoreConfig::default()),
            Err(PersistError::BadMagic)
        ));
        let mut b = encode(&sample(), t(0));
        b[8] = 9;
        assert!(matches!(
            decode(&b, StoreConfig::default()),
            Err(PersistError::UnsupportedVersion {
                found: 9,
                supported: 1
            })
        ));
    }

    #[test]
    fn merge_newest_wins_and_removal_wins() {
        let disk = sample();
        let mut ours = HstsStore::new();
        ours.note_at(
            &Url::parse("https://a.example/").unwrap(),
            ["max-age=5"],
            Transport::Secure,
            t(10),
        );
        ours.note_at(
            &Url::parse("https://d.example/").unwrap(),
            ["max-age=5"],
            Transport::Secure,
            t(10),
        );
        // An older observation of b.example loses to the disk's.
        ours.insert_entry(Entry {
            host: "b.example".into(),
            include_subdomains: false,
            observed: t(-10),
            expires: t(1000),
        })
        .unwrap();
        // A removal of c.example after the disk observed it wins.
        ours.insert_entry(Entry {
            host: "c.example".into(),
            include_subdomains: false,
            observed: t(0),
            expires: t(9),
        })
        .unwrap();
        ours.remove_at("c.example", t(1)).unwrap();
        let on_disk = encode(&disk, t(0));
        let merged = merge_encode(decode_contents(&on_disk, 100).unwrap(), &ours, t(0));
        let disk = decode(&merged, StoreConfig::default()).unwrap();
        let a = disk.get_str("a.example").unwrap();
        assert_eq!(a.observed, t(10));
        assert!(disk.get_str("b.example").unwrap().include_subdomains);
        assert!(disk.get_str("c.example").is_none());
        assert!(disk.get_str("d.example").is_some());
    }
}
