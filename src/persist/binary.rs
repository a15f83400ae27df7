//! The binary store file: bincode 2 records behind a fixed header, and the
//! bounded decoding of untrusted files.
//!
//! Layout: magic (8), version (2), reserved (2), body length (8), CRC-32 of
//! the body (4); then the body: the count of entries and each entry, the
//! count of removals and each removal. Counts come first so that decoding
//! can bound every allocation by the bytes actually present.

use std::borrow::Cow;

use bincode::{BorrowDecode, Encode};
use chrono::{DateTime, Duration, Utc};

use super::error::{EntryProblem, PersistError};
use super::newest::Newest;
use crate::bounds::DecodeKeep;
use crate::wire;
use crate::{CanonicalHost, HstsStore, StoreConfig};

/// The label at the start of every store file.
pub const MAGIC: [u8; 8] = *b"HSTSSTOR";
/// The newest format version this build reads and the one it writes.
pub const VERSION: u16 = 1;
/// Header: magic (8), version (2), reserved (2), body length (8), CRC-32 (4).
pub const HEADER_LEN: usize = 24;
/// How long a removal is remembered for merging with other writers.
pub const TOMBSTONE_TTL_DAYS: i64 = 30;
/// The largest encoded record (a 253-octet host plus fixed fields).
const MAX_RECORD_LEN: usize = 512;

/// One entry as stored: times in unix seconds. Decoding borrows the name
/// from the file's bytes.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    host: &'a str,
    include_subdomains: bool,
    observed: i64,
    expires: i64,
}

/// One removal as stored.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct Tombstone<'a> {
    host: &'a str,
    removed: i64,
}

/// An entry of a store file, checked: a canonical name (borrowed from the
/// file where it already was canonical) and representable times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry<'a> {
    pub(crate) host: Cow<'a, str>,
    pub(crate) include_subdomains: bool,
    pub(crate) observed: DateTime<Utc>,
    pub(crate) expires: DateTime<Utc>,
}

/// A removal of a store file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileTombstone<'a> {
    pub(crate) host: Cow<'a, str>,
    pub(crate) removed: DateTime<Utc>,
}

impl<'a> FileEntry<'a> {
    /// The record that stores this entry.
    pub(crate) fn record(&'a self) -> Record<'a> {
        Record {
            host: &self.host,
            include_subdomains: self.include_subdomains,
            observed: self.observed.timestamp(),
            expires: self.expires.timestamp(),
        }
    }
}

impl<'a> Tombstone<'a> {
    /// The stored form of the removal of `host` at `removed`.
    pub(crate) fn new(host: &'a str, removed: DateTime<Utc>) -> Tombstone<'a> {
        Tombstone {
            host,
            removed: removed.timestamp(),
        }
    }
}

/// The checked contents of a store file, not yet in a store.
#[derive(Debug, Default)]
pub(crate) struct Contents<'a> {
    pub(crate) entries: Vec<FileEntry<'a>>,
    pub(crate) tombstones: Vec<FileTombstone<'a>>,
}

/// Encodes the live entries of `store` (at `now`) and its removals of the
/// last [`TOMBSTONE_TTL_DAYS`] days as a store file.
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
        .map(|(host, t)| Tombstone::new(host, t));
    encode_parts(
        store.iter().filter(|e| e.is_live_at(now)).count(),
        live,
        tombs,
        store.len() * 32,
    )
}

/// Writes the header and body: the count of entries and each entry, then
/// the count of removals and each removal. `count` is the number of
/// `entries`; `size_hint` the expected size of the body.
pub(crate) fn encode_parts<'a>(
    count: usize,
    entries: impl Iterator<Item = Record<'a>>,
    tombstones: impl Iterator<Item = Tombstone<'a>>,
    size_hint: usize,
) -> Vec<u8> {
    let cfg = bincode::config::standard();
    let mut out = Vec::with_capacity(HEADER_LEN + 16 + size_hint);
    out.resize(HEADER_LEN, 0);
    // Writing to a Vec cannot fail.
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
    write_header(&mut out);
    out
}

/// Fills in the header of `out`, whose body follows [`HEADER_LEN`] bytes
/// of room.
fn write_header(out: &mut [u8]) {
    let body_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    out[..8].copy_from_slice(&MAGIC);
    out[8..10].copy_from_slice(&VERSION.to_le_bytes());
    out[10..12].copy_from_slice(&0u16.to_le_bytes());
    out[12..20].copy_from_slice(&body_len.to_le_bytes());
    out[20..24].copy_from_slice(&crc.to_le_bytes());
}

/// Checks the header, length and checksum and returns the body.
fn body_of(bytes: &[u8]) -> Result<&[u8], PersistError> {
    wire::check_label(bytes, &MAGIC, HEADER_LEN)?;
    wire::check_version(bytes, 8, VERSION)?;
    wire::check_reserved(bytes, 10..12)?;
    // Both are present: check_label saw the whole header.
    let body_len = wire::u64_at(bytes, 12).unwrap_or(u64::MAX);
    let crc = wire::u32_at(bytes, 20).unwrap_or(0);
    wire::check_length(bytes.len(), HEADER_LEN, body_len)?;
    let body = &bytes[HEADER_LEN..];
    wire::check_crc("body", body, crc)?;
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
            reason: EntryProblem::Host(e),
        }),
    }
}

/// The instant of a stored time of `host`'s `field`.
fn time_of(host: &str, field: &'static str, secs: i64) -> Result<DateTime<Utc>, PersistError> {
    DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(|| PersistError::TimeOutOfRange {
        host: host.to_owned(),
        field,
        secs,
    })
}

/// Checks and decodes a store file without building a store. Of the
/// entries and removals, only as many as [`DecodeKeep`] says are kept (the
/// newest; a store of that capacity could hold no more), so memory is
/// bounded by the capacity and not by what the file claims.
/// Never panics.
pub(crate) fn decode_contents(
    bytes: &[u8],
    keep: DecodeKeep,
) -> Result<Contents<'_>, PersistError> {
    let mut rest = body_of(bytes)?;
    let entries = decode_entries(&mut rest, keep.entries)?;
    let tombstones = decode_tombstones(&mut rest, keep.removals)?;
    if !rest.is_empty() {
        return Err(PersistError::LeftoverBytes(rest.len()));
    }
    Ok(Contents {
        entries,
        tombstones,
    })
}

/// Decodes the count of entries and the `keep` newest entries.
fn decode_entries<'a>(
    rest: &mut &'a [u8],
    keep: usize,
) -> Result<Vec<FileEntry<'a>>, PersistError> {
    let count = take_count(rest)?;
    let mut newest = Newest::new(count, keep);
    for _ in 0..count {
        let r: Record<'a> = take(rest)?;
        let observed = time_of(r.host, "observed", r.observed)?;
        let expires = time_of(r.host, "expiry", r.expires)?;
        if expires < observed {
            return Err(PersistError::InvalidEntry {
                host: r.host.to_owned(),
                reason: EntryProblem::ExpiresBeforeObserved,
            });
        }
        let host = canonical_name(r.host)?;
        newest.push(observed, (host, r.include_subdomains, expires));
    }
    let entries = newest.into_vec().into_iter();
    Ok(entries
        .map(
            |(observed, (host, include_subdomains, expires))| FileEntry {
                host,
                include_subdomains,
                observed,
                expires,
            },
        )
        .collect())
}

/// Decodes the count of removals and the `keep` newest removals.
fn decode_tombstones<'a>(
    rest: &mut &'a [u8],
    keep: usize,
) -> Result<Vec<FileTombstone<'a>>, PersistError> {
    let count = take_count(rest)?;
    let mut newest = Newest::new(count, keep);
    for _ in 0..count {
        let t: Tombstone<'a> = take(rest)?;
        let removed = time_of(t.host, "removal", t.removed)?;
        newest.push(removed, canonical_name(t.host)?);
    }
    let tombstones = newest.into_vec().into_iter();
    Ok(tombstones
        .map(|(removed, host)| FileTombstone { host, removed })
        .collect())
}

/// Reads a record count, bounded by the bytes left (each record takes at
/// least 4 bytes).
fn take_count(rest: &mut &[u8]) -> Result<u64, PersistError> {
    let count: u64 = take(rest)?;
    if count > rest.len() as u64 / 4 {
        return Err(PersistError::CountTooLarge {
            count,
            left: rest.len(),
        });
    }
    Ok(count)
}

/// Decodes one value at the front of `rest` and moves past it.
fn take<'a, T: BorrowDecode<'a, ()>>(rest: &mut &'a [u8]) -> Result<T, PersistError> {
    let cfg = bincode::config::standard().with_limit::<MAX_RECORD_LEN>();
    let (v, used) = bincode::borrow_decode_from_slice(rest, cfg).map_err(PersistError::Decode)?;
    *rest = &rest[used..];
    Ok(v)
}

/// Puts decoded contents into a new store. Entries go in in observation
/// order, so that the store's eviction order is the observation order.
pub(crate) fn build_store(mut contents: Contents<'_>, config: StoreConfig) -> HstsStore {
    contents.entries.sort_by_key(|e| e.observed);
    let mut store = HstsStore::with_config(config);
    let name_bytes = contents.entries.iter().map(|e| e.host.len()).sum();
    store.reserve(contents.entries.len(), name_bytes);
    for e in &contents.entries {
        store.insert_trusted(&e.host, e.include_subdomains, e.observed, e.expires);
    }
    for t in &contents.tombstones {
        store.insert_trusted_tombstone(&t.host, t.removed);
    }
    store
}

/// Decodes a store file into a store with the given settings. Bounded: no
/// allocation exceeds what the bytes present can justify. Never panics.
pub fn decode(bytes: &[u8], config: StoreConfig) -> Result<HstsStore, PersistError> {
    let keep = config.limits().decode_keep();
    Ok(build_store(decode_contents(bytes, keep)?, config))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bounds::Limits;
    use crate::{Entry, Transport};
    use chrono::TimeZone;
    use url::Url;

    pub(crate) fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    pub(crate) fn sample() -> HstsStore {
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
            big.insert_trusted_tombstone(&format!("gone{i}.example"), t(i));
        }
        let bytes = encode(&big, t(0));
        let contents = decode_contents(&bytes, Limits::new(10, 64).decode_keep()).unwrap();
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

    /// A file with a correct header around `body`.
    fn file_of(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0; HEADER_LEN];
        out.extend_from_slice(body);
        write_header(&mut out);
        out
    }

    /// The body of a file of one entry and no removals.
    fn body_with(r: Record<'_>) -> Vec<u8> {
        encode_parts(1, std::iter::once(r), std::iter::empty(), 0)[HEADER_LEN..].to_vec()
    }

    #[test]
    fn every_failure_has_its_own_name() {
        let decode = |b: &[u8]| decode(b, StoreConfig::default());
        let good = encode(&sample(), t(0));
        let mut b = good.clone();
        b[10] = 1;
        assert!(matches!(decode(&b), Err(PersistError::ReservedBytes)));
        let mut b = good.clone();
        b.push(0);
        assert!(matches!(decode(&b), Err(PersistError::TrailingData(1))));
        let mut body = good[HEADER_LEN..].to_vec();
        body.push(0);
        assert!(matches!(
            decode(&file_of(&body)),
            Err(PersistError::LeftoverBytes(1))
        ));
        assert!(matches!(
            decode(&file_of(&[0xfc, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])),
            Err(PersistError::CountTooLarge { count, left: 4 }) if count == u32::MAX as u64
        ));
        let r = Record {
            host: "a.example",
            include_subdomains: false,
            observed: 0,
            expires: i64::MAX,
        };
        assert!(matches!(
            decode(&file_of(&body_with(r))),
            Err(PersistError::TimeOutOfRange {
                field: "expiry",
                secs: i64::MAX,
                ..
            })
        ));
        let before = Record { expires: -1, ..r };
        assert!(matches!(
            decode(&file_of(&body_with(before))),
            Err(PersistError::InvalidEntry {
                reason: EntryProblem::ExpiresBeforeObserved,
                ..
            })
        ));
        let ip = Record {
            host: "1.2.3.4",
            expires: 1,
            ..r
        };
        assert!(matches!(
            decode(&file_of(&body_with(ip))),
            Err(PersistError::InvalidEntry {
                reason: EntryProblem::Host(_),
                ..
            })
        ));
        let mut not_utf8 = body_with(Record {
            host: "ab",
            expires: 1,
            ..r
        });
        not_utf8[2] = 0xff;
        assert!(matches!(
            decode(&file_of(&not_utf8)),
            Err(PersistError::Decode(_))
        ));
    }
}
