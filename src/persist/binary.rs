//! The binary store file: bincode 2 records behind a fixed header, and the
//! bounded decoding of untrusted files.
//!
//! Header (both versions): magic (8), version (2, little-endian), reserved
//! (2, zero), body length (8), CRC-32 of the body (4).
//!
//! Body of version 3, the one this build writes, every integer in bincode
//! 2's standard (variable-length) encoding:
//!
//! 1. the writer's limits: `capacity: u64`, `per_site_quota: u64` (as
//!    applied: capacity within `1..=MAX_CAPACITY`, quota at least 1);
//! 2. the keys: `hashed: bool`, `salt: [u8; 16]` (zero when not hashed).
//!    In a hashed file every host is `H(host).H(site)` and every partition
//!    `H(site)`, 32 hex digits each (see `keys.rs`); anything else is
//!    refused, so a hashed file never puts a name in memory;
//! 3. the count of entries, then each entry: `host: str`, `partition: str`
//!    (empty outside partitions), `include_subdomains: bool`,
//!    `observed: i64`, `expires: i64` (unix seconds), `days_used: u16`,
//!    `last_used_day: u16` (days since 1970-01-01: what the eviction policy
//!    ranks entries by);
//! 4. the count of removals, then each removal: `host: str`,
//!    `partition: str`, `removed: i64`.
//!
//! Version 2 has no keys section and no partitions; version 1 also has no
//! limits and no usage in its entries. Both are still read (plain names,
//! no partitions; a version 1 entry counts as used on one day, its
//! observation's).
//!
//! Counts come first so that decoding can bound every allocation by the
//! bytes actually present. On load the limits in force are the larger of
//! the configured ones and the file's, so a store written with a larger
//! explicit capacity is not cut down by a later load with the default; the
//! file's capacity is itself capped at [`MAX_CAPACITY`](crate::MAX_CAPACITY),
//! and decoding keeps no more than those limits allow
//! ([`Limits::decode_keep`]), so memory stays bounded whatever the file
//! claims.
//!
//! Every entry written and read passes the one validity rule
//! (`entry::check_record`): what `encode` writes, `decode` reads.

use std::borrow::Cow;

use bincode::{BorrowDecode, Encode};
use chrono::{DateTime, Duration, Utc};

use super::error::PersistError;
use super::newest::Newest;
use crate::bounds::{self, DecodeKeep, Limits};
use crate::entry::check_record;
use crate::keys::{Keys, Salt, SALT_LEN};
use crate::table::Usage;
use crate::wire;
use crate::EntryProblem;
use crate::{HstsStore, StoreConfig};

/// The label at the start of every store file.
pub const MAGIC: [u8; 8] = *b"HSTSSTOR";
/// The newest format version this build reads and the one it writes.
/// Version 1 files (no limits, no usage) are read too.
pub const VERSION: u16 = 3;
/// The oldest format version this build reads.
const OLDEST_VERSION: u16 = 1;
/// Header: magic (8), version (2), reserved (2), body length (8), CRC-32 (4).
pub const HEADER_LEN: usize = 24;
/// How long a removal is remembered for merging with other writers.
pub const TOMBSTONE_TTL_DAYS: i64 = 30;
/// The largest encoded record (a 253-octet host plus fixed fields).
const MAX_RECORD_LEN: usize = 512;

/// One entry as stored: times in unix seconds, usage in days. Decoding
/// borrows the name from the file's bytes.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    host: &'a str,
    partition: &'a str,
    include_subdomains: bool,
    observed: i64,
    expires: i64,
    days_used: u16,
    last_used_day: u16,
}

/// One entry as version 2 stored it: no partition.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct RecordV2<'a> {
    host: &'a str,
    include_subdomains: bool,
    observed: i64,
    expires: i64,
    days_used: u16,
    last_used_day: u16,
}

/// One entry as version 1 stored it: no usage.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct RecordV1<'a> {
    host: &'a str,
    include_subdomains: bool,
    observed: i64,
    expires: i64,
}

/// The writer's limits, at the start of a version 2 body.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
struct FileLimits {
    capacity: u64,
    per_site_quota: u64,
}

impl FileLimits {
    fn of(l: Limits) -> FileLimits {
        FileLimits {
            capacity: l.capacity as u64,
            per_site_quota: l.per_site_quota as u64,
        }
    }

    /// As applied: both within `1..=MAX_CAPACITY`, whatever the file says.
    fn limits(self) -> Limits {
        let clamp = |v: u64| {
            usize::try_from(v)
                .unwrap_or(usize::MAX)
                .min(bounds::MAX_CAPACITY)
        };
        Limits::new(clamp(self.capacity), clamp(self.per_site_quota))
    }
}

/// One removal as stored.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct Tombstone<'a> {
    host: &'a str,
    partition: &'a str,
    removed: i64,
}

/// One removal as versions 1 and 2 stored it: no partition.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct TombstoneV2<'a> {
    host: &'a str,
    removed: i64,
}

/// How the entries are keyed, at the start of a version 3 body after the
/// limits.
#[derive(Debug, Clone, Copy, Encode, BorrowDecode, PartialEq, Eq)]
struct FileKeys {
    hashed: bool,
    salt: [u8; SALT_LEN],
}

impl FileKeys {
    fn of(k: Keys) -> FileKeys {
        FileKeys {
            hashed: k.is_hashed(),
            salt: k.salt().map_or([0; SALT_LEN], |s| s.0),
        }
    }

    fn keys(self) -> Keys {
        if self.hashed {
            Keys::Hashed(Salt(self.salt))
        } else {
            Keys::Plain
        }
    }
}

/// An entry of a store file, checked: a canonical name (borrowed from the
/// file where it already was canonical) and representable times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileEntry<'a> {
    pub(crate) host: Cow<'a, str>,
    /// Empty outside partitions.
    pub(crate) partition: Cow<'a, str>,
    pub(crate) include_subdomains: bool,
    pub(crate) observed: DateTime<Utc>,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) usage: Usage,
}

/// A removal of a store file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileTombstone<'a> {
    pub(crate) host: Cow<'a, str>,
    pub(crate) partition: Cow<'a, str>,
    pub(crate) removed: DateTime<Utc>,
}

impl<'a> FileEntry<'a> {
    /// The record that stores this entry.
    pub(crate) fn record(&'a self) -> Record<'a> {
        Record {
            host: &self.host,
            partition: &self.partition,
            include_subdomains: self.include_subdomains,
            observed: self.observed.timestamp(),
            expires: self.expires.timestamp(),
            days_used: self.usage.days,
            last_used_day: self.usage.last_day,
        }
    }
}

impl<'a> Tombstone<'a> {
    /// The stored form of the removal of `host` from partition `partition`
    /// at `removed`.
    pub(crate) fn new(host: &'a str, partition: &'a str, removed: DateTime<Utc>) -> Tombstone<'a> {
        Tombstone {
            host,
            partition,
            removed: removed.timestamp(),
        }
    }
}

/// The checked contents of a store file, not yet in a store.
#[derive(Debug, Default)]
pub(crate) struct Contents<'a> {
    pub(crate) entries: Vec<FileEntry<'a>>,
    pub(crate) tombstones: Vec<FileTombstone<'a>>,
    /// The writer's limits (version 2), as applied.
    pub(crate) limits: Option<Limits>,
    /// How the file keys its entries (plain before version 3).
    pub(crate) keys: Keys,
    /// Entries of the file left out to stay within the limits (the least
    /// recently observed).
    pub(crate) entries_dropped: u64,
}

/// `config` with its capacity and quota raised to the file's `limits`:
/// the settings a store loaded from that file works under.
pub(crate) fn config_in_force(mut config: StoreConfig, limits: Option<Limits>) -> StoreConfig {
    if let Some(l) = limits {
        config.capacity = config.capacity.max(l.capacity);
        config.per_site_quota = config.per_site_quota.max(l.per_site_quota);
    }
    config
}

/// The record of a live entry, if it passes the validity rule (every entry
/// a store accepted does).
fn record_of<'a>(e: crate::EntryRef<'a>, usage: Usage) -> Option<Record<'a>> {
    check_record(e.host, e.observed, e.expires).ok()?;
    Some(Record {
        host: e.host,
        partition: e.partition.unwrap_or(""),
        include_subdomains: e.include_subdomains,
        observed: e.observed.timestamp(),
        expires: e.expires.timestamp(),
        days_used: usage.days,
        last_used_day: usage.last_day,
    })
}

/// Encodes the live entries of `store` (at `now`) with their usage, its
/// removals of the last [`TOMBSTONE_TTL_DAYS`] days, and its limits, as a
/// store file.
pub fn encode(store: &HstsStore, now: DateTime<Utc>) -> Vec<u8> {
    let live: Vec<Record<'_>> = store
        .iter_with_usage()
        .filter(|(e, _)| e.is_live_at(now))
        .filter_map(|(e, u)| record_of(e, u))
        .collect();
    let keep_after = now - Duration::days(TOMBSTONE_TTL_DAYS);
    let tombs = store
        .tombstones()
        .filter(|(_, _, t)| *t >= keep_after)
        .map(|(part, host, t)| Tombstone::new(host, part, t));
    encode_parts(
        store.config().limits(),
        store.keys(),
        live.len(),
        live.into_iter(),
        tombs,
        store.len() * 32,
    )
}

/// Writes the header and body: the writer's `limits`, the count of entries
/// and each entry, then the count of removals and each removal. `count` is
/// the number of `entries`; `size_hint` the expected size of the body.
pub(crate) fn encode_parts<'a>(
    limits: Limits,
    keys: Keys,
    count: usize,
    entries: impl Iterator<Item = Record<'a>>,
    tombstones: impl Iterator<Item = Tombstone<'a>>,
    size_hint: usize,
) -> Vec<u8> {
    let cfg = bincode::config::standard();
    let mut out = Vec::with_capacity(HEADER_LEN + 16 + size_hint);
    out.resize(HEADER_LEN, 0);
    // Writing to a Vec cannot fail.
    let _ = bincode::encode_into_std_write(FileLimits::of(limits), &mut out, cfg);
    let _ = bincode::encode_into_std_write(FileKeys::of(keys), &mut out, cfg);
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
    write_header_of(out, VERSION);
}

/// [`write_header`] for a body of `version`.
fn write_header_of(out: &mut [u8], version: u16) {
    let body_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32fast::hash(&out[HEADER_LEN..]);
    out[..8].copy_from_slice(&MAGIC);
    out[8..10].copy_from_slice(&version.to_le_bytes());
    out[10..12].copy_from_slice(&0u16.to_le_bytes());
    out[12..20].copy_from_slice(&body_len.to_le_bytes());
    out[20..24].copy_from_slice(&crc.to_le_bytes());
}

/// Checks the header, length and checksum and returns the format version
/// and the body.
fn body_of(bytes: &[u8]) -> Result<(u16, &[u8]), PersistError> {
    wire::check_label(bytes, &MAGIC, HEADER_LEN)?;
    // Present: check_label saw the whole header.
    let version = wire::u16_at(bytes, 8).unwrap_or(0);
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(PersistError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    wire::check_reserved(bytes, 10..12)?;
    // Both are present: check_label saw the whole header.
    let body_len = wire::u64_at(bytes, 12).unwrap_or(u64::MAX);
    let crc = wire::u32_at(bytes, 20).unwrap_or(0);
    wire::check_length(bytes.len(), HEADER_LEN, body_len)?;
    let body = &bytes[HEADER_LEN..];
    wire::check_crc("body", body, crc)?;
    Ok((version, body))
}

/// A name from a file in canonical form: borrowed when it already is
/// canonical (the usual case), else canonicalised. IP literals and invalid
/// names are errors.
fn canonical_name(host: &str) -> Result<Cow<'_, str>, PersistError> {
    match crate::CanonicalHost::new(host) {
        Ok(h) if h.as_str() == host => Ok(Cow::Borrowed(host)),
        Ok(h) => Ok(Cow::Owned(h.into_string())),
        Err(e) => Err(PersistError::InvalidEntry {
            host: host.to_owned(),
            reason: EntryProblem::Host(e),
        }),
    }
}

/// An entry of a file, put through the validity rule: its name in
/// canonical form (borrowed when it already was) and its times.
fn checked_entry<'a>(
    host: &'a str,
    include_subdomains: bool,
    observed: i64,
    expires: i64,
    usage: Option<Usage>,
) -> Result<FileEntry<'a>, PersistError> {
    let observed = time_of(host, "observed", observed)?;
    let expires = time_of(host, "expiry", expires)?;
    let canonical =
        check_record(host, observed, expires).map_err(|reason| PersistError::InvalidEntry {
            host: host.to_owned(),
            reason,
        })?;
    let host = if canonical.as_str() == host {
        Cow::Borrowed(host)
    } else {
        Cow::Owned(canonical.into_string())
    };
    let usage = match usage {
        Some(u) => Usage {
            days: u.days.max(1),
            last_day: u.last_day,
        },
        None => Usage::first(observed),
    };
    Ok(FileEntry {
        host,
        partition: Cow::Borrowed(""),
        include_subdomains,
        observed,
        expires,
        usage,
    })
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
    let (version, mut rest) = body_of(bytes)?;
    let mut keep = keep;
    let mut limits = None;
    if version >= 2 {
        let l = take::<FileLimits>(&mut rest)?.limits();
        let file_keep = l.decode_keep();
        keep.entries = keep.entries.max(file_keep.entries);
        keep.removals = keep.removals.max(file_keep.removals);
        limits = Some(l);
    }
    let keys = if version >= 3 {
        take::<FileKeys>(&mut rest)?.keys()
    } else {
        Keys::Plain
    };
    let (entries, entries_dropped) = decode_entries(&mut rest, keep.entries, version, keys)?;
    let tombstones = decode_tombstones(&mut rest, keep.removals, version, keys)?;
    if !rest.is_empty() {
        return Err(PersistError::LeftoverBytes(rest.len()));
    }
    Ok(Contents {
        entries,
        tombstones,
        limits,
        keys,
        entries_dropped,
    })
}

/// Decodes the count of entries and the `keep` newest entries of a body
/// of `version`; also says how many were left out.
fn decode_entries<'a>(
    rest: &mut &'a [u8],
    keep: usize,
    version: u16,
    keys: Keys,
) -> Result<(Vec<FileEntry<'a>>, u64), PersistError> {
    let min_len = match version {
        1 => MIN_ENTRY_V1,
        2 => MIN_ENTRY_V2,
        _ => MIN_ENTRY_V3,
    };
    let count = take_count(rest, min_len)?;
    let mut newest = Newest::new(count, keep);
    for _ in 0..count {
        let e = if version >= 3 {
            let r: Record<'a> = take(rest)?;
            let usage = Usage {
                days: r.days_used,
                last_day: r.last_used_day,
            };
            let mut e = checked_entry(
                r.host,
                r.include_subdomains,
                r.observed,
                r.expires,
                Some(usage),
            )?;
            check_keys(keys, &e.host, r.partition)?;
            e.partition = checked_partition(r.partition)?;
            e
        } else if version == 2 {
            let r: RecordV2<'a> = take(rest)?;
            let usage = Usage {
                days: r.days_used,
                last_day: r.last_used_day,
            };
            checked_entry(
                r.host,
                r.include_subdomains,
                r.observed,
                r.expires,
                Some(usage),
            )?
        } else {
            let r: RecordV1<'a> = take(rest)?;
            checked_entry(r.host, r.include_subdomains, r.observed, r.expires, None)?
        };
        newest.push(e.observed, e);
    }
    let entries: Vec<FileEntry<'a>> = newest.into_vec().into_iter().map(|(_, e)| e).collect();
    let dropped = count - entries.len() as u64;
    Ok((entries, dropped))
}

/// Decodes the count of removals and the `keep` newest removals.
fn decode_tombstones<'a>(
    rest: &mut &'a [u8],
    keep: usize,
    version: u16,
    keys: Keys,
) -> Result<Vec<FileTombstone<'a>>, PersistError> {
    let min_len = if version >= 3 {
        MIN_REMOVAL_V3
    } else {
        MIN_REMOVAL
    };
    let count = take_count(rest, min_len)?;
    let mut newest = Newest::new(count, keep);
    for _ in 0..count {
        let t: Tombstone<'a> = if version >= 3 {
            take(rest)?
        } else {
            let t: TombstoneV2<'a> = take(rest)?;
            Tombstone {
                host: t.host,
                partition: "",
                removed: t.removed,
            }
        };
        let removed = time_of(t.host, "removal", t.removed)?;
        let host = canonical_name(t.host)?;
        check_keys(keys, &host, t.partition)?;
        let partition = checked_partition(t.partition)?;
        newest.push(removed, (host, partition));
    }
    let tombstones = newest.into_vec().into_iter();
    Ok(tombstones
        .map(|(removed, (host, partition))| FileTombstone {
            host,
            partition,
            removed,
        })
        .collect())
}

/// In a hashed file, a host and a partition that are not hashed keys are
/// refused: a hashed file must not put names in memory.
fn check_keys(keys: Keys, host: &str, partition: &str) -> Result<(), PersistError> {
    if keys.is_host_key(host) && keys.is_partition_key(partition) {
        Ok(())
    } else {
        Err(PersistError::NotHashed {
            host: host.to_owned(),
        })
    }
}

/// A partition key from a file: empty, a canonical domain name (a site, or
/// a hash of one), or an IP address in its canonical form (a page at an
/// IP address is its own site).
fn checked_partition(p: &str) -> Result<Cow<'_, str>, PersistError> {
    if p.is_empty() {
        return Ok(Cow::Borrowed(p));
    }
    let ok = match crate::host::canonicalize(p) {
        Ok(crate::Host::Domain(d)) => d.as_str() == p,
        Ok(crate::Host::Ip(ip)) => ip.to_string() == p,
        Err(_) => false,
    };
    if ok {
        Ok(Cow::Borrowed(p))
    } else {
        Err(PersistError::InvalidPartition {
            partition: p.to_owned(),
        })
    }
}

/// The fewest bytes a record takes in bincode's variable-length encoding:
/// a name of at least one byte behind its one-byte length, then one byte
/// for each further field. An entry of version 1 has a flag and two times;
/// version 2 adds two day counts; a removal has one time.
const MIN_ENTRY_V1: u64 = 2 + 1 + 1 + 1;
const MIN_ENTRY_V2: u64 = MIN_ENTRY_V1 + 1 + 1;
/// Version 3 adds a partition key, at least its one-byte length.
const MIN_ENTRY_V3: u64 = MIN_ENTRY_V2 + 1;
const MIN_REMOVAL: u64 = 2 + 1;
const MIN_REMOVAL_V3: u64 = MIN_REMOVAL + 1;

/// Reads a record count, bounded by the bytes left: each record takes at
/// least `min_len` bytes, so no count can claim more than the bytes hold.
fn take_count(rest: &mut &[u8], min_len: u64) -> Result<u64, PersistError> {
    let count: u64 = take(rest)?;
    if count > rest.len() as u64 / min_len {
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
/// The store works under the larger of `config`'s limits and the file's.
pub(crate) fn build_store(mut contents: Contents<'_>, config: StoreConfig) -> HstsStore {
    contents.entries.sort_by_key(|e| e.observed);
    let mut store = HstsStore::with_keys(config_in_force(config, contents.limits), contents.keys);
    let name_bytes = contents.entries.iter().map(|e| e.host.len()).sum();
    store.reserve(contents.entries.len(), name_bytes);
    for e in &contents.entries {
        store.insert_trusted(
            &e.partition,
            &e.host,
            e.include_subdomains,
            e.observed,
            e.expires,
            e.usage,
        );
    }
    for t in &contents.tombstones {
        store.insert_trusted_tombstone(&t.partition, &t.host, t.removed);
    }
    store.count_dropped_on_load(contents.entries_dropped);
    store
}

/// Decodes a store file into a store with the given settings, its capacity
/// and quota raised to the file's (DESIGN.md, "File format"). Bounded:
/// no allocation exceeds what the bytes present can justify, nor what
/// [`MAX_CAPACITY`](crate::MAX_CAPACITY) allows. Never panics.
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
            big.insert_trusted_tombstone("", &format!("gone{i}.example"), t(i));
        }
        // The file says it was written with a capacity of 10 (as a file
        // written with capacity 1000 would raise the limits to 1000).
        let bytes = with_limits(&encode(&big, t(0)), Limits::new(10, 64));
        let contents = decode_contents(&bytes, Limits::new(10, 64).decode_keep()).unwrap();
        assert_eq!(contents.entries.len(), 10);
        assert_eq!(contents.entries_dropped, 990);
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
        assert!(small.tombstone_of("", "gone999.example").is_some());
        assert!(small.tombstone_of("", "gone0.example").is_none());
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
                supported: 3
            })
        ));
    }

    /// The same file, saying it was written under `limits`.
    pub(crate) fn with_limits(bytes: &[u8], limits: Limits) -> Vec<u8> {
        let all = Limits::new(bounds::MAX_CAPACITY, bounds::MAX_CAPACITY).decode_keep();
        let c = decode_contents(bytes, all).unwrap();
        let records = c.entries.iter().map(FileEntry::record);
        let tombs = c
            .tombstones
            .iter()
            .map(|t| Tombstone::new(&t.host, &t.partition, t.removed));
        encode_parts(limits, c.keys, c.entries.len(), records, tombs, 0)
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
        encode_parts(
            Limits::new(100, 64),
            Keys::Plain,
            1,
            std::iter::once(r),
            std::iter::empty(),
            0,
        )[HEADER_LEN..]
            .to_vec()
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
            decode(&file_of(&[
                100, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0xff, 0xff,
                0xff, 0xff, 0, 0, 0, 0
            ])),
            Err(PersistError::CountTooLarge { count, left: 4 }) if count == u32::MAX as u64
        ));
        let r = Record {
            host: "a.example",
            partition: "",
            include_subdomains: false,
            observed: 0,
            expires: i64::MAX,
            days_used: 1,
            last_used_day: 0,
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
        // Limits (2 bytes), keys (17), count (1), length of the name (1),
        // the name.
        not_utf8[21] = 0xff;
        assert!(matches!(
            decode(&file_of(&not_utf8)),
            Err(PersistError::Decode(_))
        ));
    }

    #[test]
    fn usage_and_limits_round_trip_and_version_1_still_loads() {
        let mut s = HstsStore::with_config(StoreConfig {
            capacity: 150_000,
            per_site_quota: 200,
            ..StoreConfig::default()
        });
        s.insert_trusted(
            "",
            "a.example",
            false,
            t(0),
            t(100),
            Usage {
                days: 9,
                last_day: 20_000,
            },
        );
        let bytes = encode(&s, t(0));
        let back = decode(&bytes, StoreConfig::default()).unwrap();
        assert_eq!(
            back.usage_of("a.example"),
            Some(Usage {
                days: 9,
                last_day: 20_000
            })
        );
        assert_eq!(back.config().capacity, 150_000);
        assert_eq!(back.config().per_site_quota, 200);
        // A larger configured limit stays.
        let bigger = StoreConfig {
            capacity: 200_000,
            ..StoreConfig::default()
        };
        assert_eq!(decode(&bytes, bigger).unwrap().config().capacity, 200_000);
        // A file claiming more than MAX_CAPACITY counts as MAX_CAPACITY.
        let body = [
            &[0xfd][..],
            &u64::MAX.to_le_bytes(),
            &[0xfd],
            &u64::MAX.to_le_bytes(),
            &[0; 17],
            &[0, 0],
        ]
        .concat();
        let huge = decode(&file_of(&body), StoreConfig::default()).unwrap();
        assert_eq!(huge.config().capacity, bounds::MAX_CAPACITY);
        // Version 1: no limits, no usage.
        let cfg = bincode::config::standard();
        let mut v1 = vec![0; HEADER_LEN];
        let _ = bincode::encode_into_std_write(1u64, &mut v1, cfg);
        let r = RecordV1 {
            host: "Old.Example",
            include_subdomains: true,
            observed: t(0).timestamp(),
            expires: t(10).timestamp(),
        };
        let _ = bincode::encode_into_std_write(r, &mut v1, cfg);
        let _ = bincode::encode_into_std_write(0u64, &mut v1, cfg);
        write_header_of(&mut v1, 1);
        let old = decode(&v1, StoreConfig::default()).unwrap();
        assert!(old.get_str("old.example").unwrap().include_subdomains);
        assert_eq!(old.usage_of("old.example"), Some(Usage::first(t(0))));
        assert_eq!(old.config().capacity, 100_000);
    }
}
