//! What can go wrong when reading, writing, importing or exporting a store
//! file, each failure under one name: [`PersistError`]. Problems with one
//! entry or one line are in `report.rs` and `crate::entry`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::report::{CurlProblem, ImportReport};
use crate::wire::WireError;
use crate::EntryProblem;

/// The largest file we read, store or import: 1 GiB.
pub const MAX_FILE_LEN: u64 = 1 << 30;

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
        /// The version in the file (or JSON document).
        found: u16,
        /// The newest this build reads.
        supported: u16,
    },
    /// The reserved bytes of the header are not zero.
    #[error("corrupt header: reserved header bytes are not zero")]
    ReservedBytes,
    /// The body does not match its checksum: corrupt.
    #[error("checksum mismatch: header says {expected:08x}, body has {actual:08x}")]
    ChecksumMismatch {
        /// CRC-32 in the header.
        expected: u32,
        /// CRC-32 of the body.
        actual: u32,
    },
    /// The file is longer than its header says.
    #[error("corrupt file: {0} bytes of trailing data")]
    TrailingData(u64),
    /// The file is larger than we are willing to read.
    #[error("file of {0} bytes is larger than the {MAX_FILE_LEN}-byte limit")]
    TooLarge(u64),
    /// A record of the body could not be decoded.
    #[error("corrupt body: {0}")]
    Decode(#[source] bincode::error::DecodeError),
    /// A record count is larger than the bytes left could hold.
    #[error("corrupt body: count {count} exceeds the {left} bytes left")]
    CountTooLarge {
        /// The count in the file.
        count: u64,
        /// Bytes left in the body after it.
        left: usize,
    },
    /// The body holds bytes after its last record.
    #[error("corrupt body: {0} bytes left over after the last record")]
    LeftoverBytes(usize),
    /// A time in the file is not representable.
    #[error("{host:?}: {field} time {secs} out of range")]
    TimeOutOfRange {
        /// The host of the entry or removal.
        host: String,
        /// Which time: "observed", "expiry" or "removal".
        field: &'static str,
        /// The time found, in unix seconds.
        secs: i64,
    },
    /// An entry in the file is not acceptable (an IP literal, a bad name, ...).
    #[error("invalid entry {host:?}: {reason}")]
    InvalidEntry {
        /// The host as found.
        host: String,
        /// What is wrong with it.
        reason: EntryProblem,
    },
    /// A JSON document that is not an hsts store: its `format` field is
    /// not ours.
    #[error("not an hsts store JSON document (format {found:?}, expected \"hsts-store\")")]
    NotOurJson {
        /// The `format` field found.
        found: String,
    },
    /// A JSON document could not be parsed.
    #[cfg(feature = "json")]
    #[error("line {line}: {source}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// What serde_json found wrong.
        source: serde_json::Error,
    },
    /// The store could not be serialised.
    #[cfg(feature = "json")]
    #[error("cannot serialise the store: {0}")]
    Encode(#[source] serde_json::Error),
    /// JSON export or import in a build without the `json` feature.
    #[error("the JSON format needs the `json` feature of hsts, which this build lacks")]
    JsonDisabled,
    /// A line of a curl file makes the whole file unreadable.
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: CurlProblem,
    },
    /// The path exists but is not a regular file (a directory, a FIFO, a
    /// device, a socket): refused at once, without reading or writing it.
    #[error("{path}: {kind}, not a regular file")]
    NotARegularFile {
        /// The file concerned (after following symbolic links).
        path: PathBuf,
        /// What it is instead, e.g. "a FIFO".
        kind: &'static str,
    },
    /// Another process held the store's lock for longer than the timeout
    /// (see [`LockOptions`](super::LockOptions)).
    #[error("lock {path}: still held by another process after {waited:?}")]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// A symbolic link in a sticky world-writable directory (such as
    /// `/tmp`) that belongs neither to us nor to the directory's owner: not
    /// followed, as Linux's `fs.protected_symlinks` would not.
    #[error("{path}: symbolic link owned by user {owner} in a shared directory; not followed")]
    UntrustedSymlink {
        /// The link.
        path: PathBuf,
        /// The user id owning it.
        owner: u32,
    },
    /// An import of a file that held entries imported none of them: all
    /// were expired or refused. The report says which and why; the store
    /// is unchanged.
    #[error(
        "nothing imported: {} entries read, {} expired, {} skipped",
        .0.read,
        .0.expired,
        .0.skipped.len()
    )]
    NothingImported(Box<ImportReport>),
    /// A file with hashed hosts holds a host or partition that is not a
    /// hashed key: refused, so that a hashed store never holds a name.
    #[error("entry {host:?} of a file with hashed hosts is not a hashed key")]
    NotHashed {
        /// The key as found.
        host: String,
    },
    /// A partition key in the file is neither a site nor an IP address in
    /// canonical form.
    #[error("invalid partition {partition:?}")]
    InvalidPartition {
        /// The partition key as found.
        partition: String,
    },
    /// The store and the file it is saved to do not key hosts alike: one
    /// hashes host names and the other does not, or both do with different
    /// salts (another store's file). Merging would mix keys that can never
    /// match; the file is left as it is.
    #[error(
        "the store file {} and this store key hosts differently ({}); save to another file",
        if *.file_hashed { "hashes host names" } else { "keeps host names" },
        if *.file_hashed && *.store_hashed { "different salts" } else if *.store_hashed { "this store hashes them" } else { "this store does not hash them" }
    )]
    KeysMismatch {
        /// Whether the file hashes host names.
        file_hashed: bool,
        /// Whether the store does.
        store_hashed: bool,
    },
    /// Exporting a store with hashed hosts to curl or JSON: those formats
    /// need the names, which the store does not have.
    #[error("this store keeps hashed hosts, not names: it cannot be exported to {format}")]
    HashedExport {
        /// The format asked for.
        format: &'static str,
    },
    /// Exporting a partitioned store to curl or JSON, which have no
    /// partitions: the export would join what the partitions keep apart.
    #[error("{entries} entries are in partitions, which {format} cannot represent; clear them or export the binary form")]
    PartitionedExport {
        /// The format asked for.
        format: &'static str,
        /// How many entries are in a partition.
        entries: usize,
    },
    /// Importing a store file with hashed hosts: its entries are hashes,
    /// not names, and cannot be added to another store.
    #[error("the file keeps hashed hosts, not names: it cannot be imported")]
    HashedImport,
}

impl From<WireError> for PersistError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Truncated { len, needed } => PersistError::Truncated {
                len,
                expected: needed,
            },
            WireError::BadMagic => PersistError::BadMagic,
            WireError::UnsupportedVersion { found, supported } => {
                PersistError::UnsupportedVersion { found, supported }
            }
            WireError::ReservedNotZero => PersistError::ReservedBytes,
            WireError::Checksum {
                expected, actual, ..
            } => PersistError::ChecksumMismatch { expected, actual },
            WireError::TrailingData(n) => PersistError::TrailingData(n),
            WireError::TooLarge { len, .. } => PersistError::TooLarge(len),
        }
    }
}

/// The [`PersistError::Io`] of `op` on `path`.
pub(crate) fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> PersistError + 'a {
    move |source| PersistError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}
