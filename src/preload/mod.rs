//! The compiled HSTS preload list.
//!
//! Chromium's list (`data/transport_security_state_static.json.gz`) is
//! compiled offline into a compact binary table, `data/preload.bin`, which
//! is built into the crate with `include_bytes!`. Nothing is parsed at
//! start-up: [`PreloadList::builtin`] checks a small header, and every lookup
//! reads the bytes in place. The same format loads at run time from bytes or
//! a file, so a newer list can replace the built-in one.
//!
//! ```
//! use hsts::preload::PreloadList;
//!
//! let list = PreloadList::builtin();
//! let m = list.lookup("x.www.figma.com").unwrap(); // through figma.com's includeSubDomains
//! assert_eq!((m.name, m.include_subdomains), ("figma.com", true));
//! assert!(list.lookup("google.com").is_none()); // only mail.google.com etc. are listed
//! assert!(list.lookup("anything.dev").is_some()); // the whole dev TLD is preloaded
//! ```
//!
//! The format and its measured size and speed are described in DESIGN.md.

mod compile;
mod format;

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};

pub use compile::{compile_entries, compile_json, CompileReport, SkipReason};
pub use format::{FORMAT_VERSION, HEADER_LEN, MAGIC};

use format::{Header, Layout};

/// The table built into the crate.
static BUILTIN_BYTES: &[u8] = include_bytes!("../../data/preload.bin");

/// Why a compiled list (or a JSON list being compiled) was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreloadError {
    /// Fewer bytes than the header, or than the header's sections need.
    #[error("truncated: {len} bytes, need {needed}")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// Extra bytes after the last section.
    #[error("{0} bytes of trailing data")]
    TrailingData(usize),
    /// The bytes do not start with the table's label.
    #[error("not a compiled preload list (bad magic label)")]
    BadMagic,
    /// A format version this build does not read.
    #[error("preload format version {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// The header's checksum does not match.
    #[error("header checksum mismatch")]
    HeaderChecksum,
    /// The body's checksum does not match: the table is corrupt.
    #[error("body checksum mismatch: header says {expected:08x}, body has {actual:08x}")]
    BodyChecksum {
        /// CRC-32 in the header.
        expected: u32,
        /// CRC-32 of the body.
        actual: u32,
    },
    /// A structural check failed (offsets, records, counts).
    #[error("corrupt table: {0}")]
    Corrupt(String),
    /// The JSON list could not be read.
    #[error("invalid JSON list: {0}")]
    Json(String),
    /// Too large to compile or load.
    #[error("too large: {0}")]
    TooLarge(String),
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A preload entry that matched a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreloadMatch<'a> {
    /// The listed name that matched: the queried host itself, or the
    /// suffix of it that is a listed superdomain.
    pub name: &'a str,
    /// Whether that listed name has include_subdomains.
    pub include_subdomains: bool,
}

/// A compiled preload list: the built-in one, or one loaded at run time.
#[derive(Clone)]
pub struct PreloadList {
    bytes: Cow<'static, [u8]>,
    header: Header,
    layout: Layout,
}

impl std::fmt::Debug for PreloadList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreloadList")
            .field("date", &self.date())
            .field("entries", &self.len())
            .field("bytes", &self.byte_size())
            .finish()
    }
}

impl PreloadList {
    /// The list compiled into the crate (Chromium's, as of its date). The
    /// first call checks the header; later calls are free.
    pub fn builtin() -> &'static PreloadList {
        static LIST: OnceLock<PreloadList> = OnceLock::new();
        LIST.get_or_init(|| {
            // The built-in table is checked by the test suite, byte for byte,
            // against a fresh compilation of data/*.json.gz.
            PreloadList::from_static(BUILTIN_BYTES).expect("the built-in preload table is valid")
        })
    }

    /// A list over static bytes, after the cheap header check.
    pub fn from_static(bytes: &'static [u8]) -> Result<PreloadList, PreloadError> {
        Self::new(Cow::Borrowed(bytes))
    }

    /// A list over owned bytes, after the cheap header check. Call
    /// [`PreloadList::verify`] for the full check of untrusted bytes;
    /// lookups on an unverified list never panic, but may answer wrongly.
    ///
    /// ```
    /// use hsts::preload::{PreloadError, PreloadList};
    ///
    /// assert!(matches!(PreloadList::from_bytes(b"nonsense".to_vec()), Err(PreloadError::BadMagic)));
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PreloadList, PreloadError> {
        Self::new(Cow::Owned(bytes))
    }

    /// Reads a compiled list from a file (at most 64 MiB) and checks its
    /// header. See [`PreloadList::from_bytes`].
    pub fn from_file(path: &Path) -> Result<PreloadList, PreloadError> {
        use std::io::Read;
        let io = |source| PreloadError::Io {
            path: path.to_owned(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        f.take(format::MAX_TABLE_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > format::MAX_TABLE_LEN {
            return Err(PreloadError::TooLarge(format!(
                "{} is over 64 MiB",
                path.display()
            )));
        }
        Self::from_bytes(bytes)
    }

    fn new(bytes: Cow<'static, [u8]>) -> Result<PreloadList, PreloadError> {
        let header = Header::parse(&bytes)?;
        let layout = Layout::new(&header, bytes.len())?;
        Ok(PreloadList {
            bytes,
            header,
            layout,
        })
    }

    /// Checks the body checksum and every record, so that afterwards each
    /// lookup answers exactly what the table holds, and [`PreloadList::iter`]
    /// lists exactly the names that lookups find.
    ///
    /// ```
    /// use hsts::preload::{PreloadError, PreloadList};
    ///
    /// let mut bytes = PreloadList::builtin().as_bytes().to_vec();
    /// let last = bytes.len() - 1;
    /// bytes[last] ^= 0x10; // one bit of the record stream
    /// let list = PreloadList::from_bytes(bytes).unwrap(); // the header is intact
    /// assert!(matches!(list.verify(), Err(PreloadError::BodyChecksum { .. })));
    /// ```
    pub fn verify(&self) -> Result<(), PreloadError> {
        format::verify(&self.bytes, &self.header, &self.layout)
    }

    /// Looks up an already canonical host (lower-case ASCII, A-labels, no
    /// trailing dot). Returns the congruent entry if the host is listed,
    /// otherwise the nearest listed superdomain with include_subdomains (a
    /// nearer listed superdomain without it does not stop the walk).
    ///
    /// Any `&str` is safe: a malformed host (an empty label, a trailing dot,
    /// a label over 63 or a name over 253 bytes) finds nothing, and a byte
    /// that no listed name holds rules out only the labels containing it.
    /// The cost is one pass over the host and at most one bucket probe per
    /// label, whatever the size of the list.
    ///
    /// ```
    /// use hsts::preload::PreloadList;
    ///
    /// let list = PreloadList::builtin();
    /// // search.yahoo.com is listed without includeSubDomains, and a child
    /// // of it is listed separately.
    /// let m = list.lookup("search.yahoo.com").unwrap();
    /// assert_eq!((m.name, m.include_subdomains), ("search.yahoo.com", false));
    /// assert!(list.lookup("at.search.yahoo.com").is_some());
    /// assert!(list.lookup("other.search.yahoo.com").is_none());
    /// assert!(list.lookup("GitHub.com").is_none()); // canonicalise first
    /// ```
    pub fn lookup<'h>(&self, host: &'h str) -> Option<PreloadMatch<'h>> {
        format::lookup(&self.bytes, &self.layout, host)
    }

    /// Whether the (canonical) host must use https according to this list.
    pub fn contains(&self, host: &str) -> bool {
        self.lookup(host).is_some()
    }

    /// Every listed name with its include_subdomains flag, TLD by TLD.
    ///
    /// ```
    /// use hsts::preload::PreloadList;
    ///
    /// let list = PreloadList::builtin();
    /// assert_eq!(list.iter().count(), list.len());
    /// assert!(list.iter().any(|(name, isd)| name == "mail.google.com" && isd));
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (String, bool)> + '_ {
        format::iter(&self.bytes, &self.layout)
    }

    /// The date of the list this table was compiled from.
    pub fn date(&self) -> NaiveDate {
        self.header.date
    }

    /// How old the list is at `now`.
    pub fn age_at(&self, now: DateTime<Utc>) -> chrono::Duration {
        now.date_naive() - self.header.date
    }

    /// Whether the list is older than `max_age` at `now`.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use hsts::preload::PreloadList;
    ///
    /// let list = PreloadList::builtin(); // dated 2026-06-01
    /// let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    /// assert_eq!(list.age_at(now), Duration::days(153));
    /// assert!(list.is_stale_at(now, Duration::weeks(18)));
    /// assert!(!list.is_stale_at(now, Duration::days(365)));
    /// ```
    pub fn is_stale_at(&self, now: DateTime<Utc>, max_age: chrono::Duration) -> bool {
        self.age_at(now) > max_age
    }

    /// The number of listed names.
    pub fn len(&self) -> usize {
        self.header.entry_count as usize
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.header.entry_count == 0
    }

    /// The size of the compiled table in bytes.
    pub fn byte_size(&self) -> usize {
        self.bytes.len()
    }

    /// The CRC-32 of the table's body, as recorded in its header.
    pub fn checksum(&self) -> u32 {
        self.header.body_crc
    }

    /// The checksum as 8 hex digits.
    pub fn checksum_hex(&self) -> String {
        format!("{:08x}", self.header.body_crc)
    }

    /// The SHA-256 of the JSON source the table was compiled from.
    pub fn source_sha256(&self) -> [u8; 32] {
        self.header.source_sha256
    }

    /// The source SHA-256 as 64 hex digits.
    pub fn source_sha256_hex(&self) -> String {
        self.header
            .source_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The table's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}
