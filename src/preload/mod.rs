//! The compiled HSTS preload list.
//!
//! Chromium's list (`data/transport_security_state_static.json.gz`) is
//! compiled offline into a compact binary table, `data/preload.bin`, which
//! is built into the crate with `include_bytes!`. Nothing is parsed at
//! start-up: [`PreloadList::builtin`] checks a small header, and every lookup
//! reads the bytes in place. The same format loads at run time from bytes or
//! a file, so a newer list can replace the built-in one.
//!
//! # Overview of types
//!
//! * [`PreloadList`] is a compiled table: the built-in one
//!   ([`PreloadList::builtin`]), or one loaded at run time. Loading
//!   ([`PreloadList::from_bytes`], [`PreloadList::from_file`],
//!   [`PreloadList::from_static`]) checks the whole table; the `_unchecked`
//!   constructors check only the header, for tables already known good.
//! * [`PreloadMatch`] is the answer of [`PreloadList::lookup`]: the listed
//!   name that matched and its include_subdomains flag.
//! * [`PreloadError`] says why a table (or a JSON list being compiled) was
//!   refused; [`Corruption`], [`TldFault`], [`BucketFault`] and
//!   [`RecordFault`] say what a structural check found wrong.
//! * With the `compile` feature, `compile_json` and `compile_entries` turn
//!   Chromium's JSON list, or plain `(name, include_subdomains)` pairs, into
//!   a table, and `CompileReport` (with a `SkipReason` per name left out)
//!   says what they took.
//! * [`MAGIC`], [`FORMAT_VERSION`] and [`HEADER_LEN`] describe the binary
//!   format.
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
//! Inside the module, `code` holds the name and length codes, hashes and
//! bit reading; `format` the header and section layout; `lookup`, `iter`
//! and `verify` read the table in place; `compile` writes it.

mod code;
#[cfg(feature = "compile")]
mod compile;
mod error;
mod format;
mod iter;
mod lookup;
mod tld_index;
mod verify;

use std::borrow::Cow;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};

#[cfg(feature = "compile")]
pub use compile::{compile_entries, compile_json, CompileReport, SkipReason};
pub use error::{BucketFault, Corruption, PreloadError, RecordFault, TldFault};
pub use format::{FORMAT_VERSION, HEADER_LEN, MAGIC};

use crate::host::CanonicalName;
use crate::wire::{self, ReadError};
use code::{CodeTable, StepTable};
use format::{Header, Layout};
use tld_index::TldIndex;

/// The table built into the crate.
static BUILTIN_BYTES: &[u8] = include_bytes!("../../data/preload.bin");

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
    /// The name code, unpacked once for lookups.
    codes: CodeTable,
    /// The length code, unpacked once for walking records.
    steps: StepTable,
    /// The short TLDs, indexed once for lookups.
    tlds: TldIndex,
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
            // against a fresh compilation of data/*.json.gz, and verified.
            PreloadList::from_static_unchecked(BUILTIN_BYTES)
                .expect("the built-in preload table is valid")
        })
    }

    /// The built-in table's bytes, as compiled into the crate.
    ///
    /// ```
    /// use hsts::preload::PreloadList;
    ///
    /// let list = PreloadList::from_static(PreloadList::builtin_bytes()).unwrap();
    /// assert_eq!(list.len(), PreloadList::builtin().len());
    /// ```
    pub fn builtin_bytes() -> &'static [u8] {
        BUILTIN_BYTES
    }

    /// A list over static bytes, after the full check of
    /// [`PreloadList::verify`].
    pub fn from_static(bytes: &'static [u8]) -> Result<PreloadList, PreloadError> {
        Self::checked(Cow::Borrowed(bytes))
    }

    /// A list over static bytes, after only the cheap header check. Lookups
    /// and iteration never panic, but on a corrupt body they may answer
    /// wrongly; use it for tables already known good.
    pub fn from_static_unchecked(bytes: &'static [u8]) -> Result<PreloadList, PreloadError> {
        Self::unchecked(Cow::Borrowed(bytes))
    }

    /// A list over owned bytes, after the full check of
    /// [`PreloadList::verify`] (header, body checksum, every record).
    ///
    /// ```
    /// use hsts::preload::{PreloadError, PreloadList};
    ///
    /// assert!(matches!(PreloadList::from_bytes(b"nonsense".to_vec()), Err(PreloadError::BadMagic)));
    /// let mut bytes = PreloadList::builtin().as_bytes().to_vec();
    /// let last = bytes.len() - 1;
    /// bytes[last] ^= 0x10; // one bit of the record stream
    /// assert!(matches!(PreloadList::from_bytes(bytes), Err(PreloadError::BodyChecksum { .. })));
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<PreloadList, PreloadError> {
        Self::checked(Cow::Owned(bytes))
    }

    /// A list over owned bytes, after only the cheap header check. Lookups
    /// and iteration never panic, but on a corrupt body they may answer
    /// wrongly; call [`PreloadList::verify`] before trusting it.
    pub fn from_bytes_unchecked(bytes: Vec<u8>) -> Result<PreloadList, PreloadError> {
        Self::unchecked(Cow::Owned(bytes))
    }

    /// Reads a compiled list from a file (at most 64 MiB) and checks it
    /// whole. See [`PreloadList::from_bytes`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<PreloadList, PreloadError> {
        let path = path.as_ref();
        let io = |source| PreloadError::Io {
            path: path.to_owned(),
            source,
        };
        let bytes = match wire::read_bounded(path, format::MAX_TABLE_LEN as u64) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(io(std::io::ErrorKind::NotFound.into())),
            Err(ReadError::Io { source, .. }) => return Err(io(source)),
            Err(ReadError::TooLarge(e)) => return Err(e.into()),
            Err(ReadError::NotRegular(kind)) => {
                return Err(PreloadError::NotARegularFile {
                    path: path.to_owned(),
                    kind,
                })
            }
        };
        Self::from_bytes(bytes)
    }

    /// The header check, then the full check.
    fn checked(bytes: Cow<'static, [u8]>) -> Result<PreloadList, PreloadError> {
        let list = Self::unchecked(bytes)?;
        list.verify()?;
        Ok(list)
    }

    /// The header check, and the sections placed within the bytes.
    fn unchecked(bytes: Cow<'static, [u8]>) -> Result<PreloadList, PreloadError> {
        let header = Header::parse(&bytes)?;
        let layout = Layout::new(&header, bytes.len())?;
        let codes = CodeTable::new(&bytes[layout.name_codes..layout.len_table]);
        let len_table = layout.len_table..layout.len_table + code::LEN_TABLE_LEN;
        let steps = StepTable::new(bytes.get(len_table).unwrap_or(&[]));
        let tlds = TldIndex::new(&bytes, &layout);
        Ok(PreloadList {
            bytes,
            header,
            layout,
            codes,
            steps,
            tlds,
        })
    }

    /// Checks the body checksum and every record, so that afterwards each
    /// lookup answers exactly what the table holds, and [`PreloadList::iter`]
    /// lists exactly the names that lookups find. The checked constructors
    /// have already done this; it is for lists made with an `_unchecked` one.
    ///
    /// ```
    /// use hsts::preload::{PreloadError, PreloadList};
    ///
    /// let mut bytes = PreloadList::builtin().as_bytes().to_vec();
    /// let last = bytes.len() - 1;
    /// bytes[last] ^= 0x10; // one bit of the record stream
    /// let list = PreloadList::from_bytes_unchecked(bytes).unwrap(); // the header is intact
    /// assert!(matches!(list.verify(), Err(PreloadError::BodyChecksum { .. })));
    /// ```
    pub fn verify(&self) -> Result<(), PreloadError> {
        verify::verify(&self.bytes, &self.header, &self.layout)
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
        self.lookup_dotted(host, None)
    }

    /// [`PreloadList::lookup`] for a canonical name whose dots are known
    /// (see [`CanonicalName`](crate::host::CanonicalName)).
    pub(crate) fn lookup_name<'h>(&self, name: CanonicalName<'h>) -> Option<PreloadMatch<'h>> {
        self.lookup_dotted(name.as_str(), name.dots())
    }

    /// [`PreloadList::lookup`], with the dots of `host` when known.
    fn lookup_dotted<'h>(&self, host: &'h str, dots: Option<u64>) -> Option<PreloadMatch<'h>> {
        let parts = lookup::Parts {
            layout: &self.layout,
            codes: &self.codes,
            steps: &self.steps,
            tlds: &self.tlds,
        };
        let hit = lookup::lookup(&self.bytes, &parts, host, dots)?;
        Some(PreloadMatch {
            name: host.get(hit.start..)?,
            include_subdomains: hit.include_subdomains,
        })
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
        iter::iter(&self.bytes, &self.layout)
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
