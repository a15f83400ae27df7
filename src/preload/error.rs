//! Why a compiled list (or a JSON list being compiled) was refused.

use crate::wire::WireError;

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
    Corrupt(Corruption),
    /// The JSON list could not be parsed.
    #[cfg(feature = "compile")]
    #[error("invalid JSON list: {0}")]
    Json(#[source] serde_json::Error),
    /// The gzip-compressed JSON list could not be decompressed.
    #[cfg(feature = "compile")]
    #[error("invalid gzip JSON list: {0}")]
    Gzip(#[source] std::io::Error),
    /// Too large to compile or load: `what` would be `len`, over `limit`.
    #[error("too large: {what} is {len}, the limit is {limit}")]
    TooLarge {
        /// What is too large (and its unit).
        what: &'static str,
        /// Its size (at least; reading stops past the limit).
        len: u64,
        /// The largest size the format or this build allows.
        limit: u64,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The path is not a regular file (a FIFO, a device, a directory).
    #[error("{path} is {kind}, not a regular file")]
    NotARegularFile {
        /// The path.
        path: std::path::PathBuf,
        /// What it is.
        kind: &'static str,
    },
}

/// What the structural checks found wrong in a table (see
/// [`PreloadError::Corrupt`]). Offsets of TLD records are bytes into the TLD
/// area; offsets of records are bits into the record stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Corruption {
    /// The reserved header byte 11 is not zero.
    #[error("reserved header bytes are not zero")]
    ReservedBytes,
    /// The header's date is outside the calendar.
    #[error("date {days} (days since 1970-01-01) out of range")]
    Date {
        /// Days since 1970-01-01, as stored.
        days: i32,
    },
    /// The TLD slot count is not a power of two.
    #[error("TLD slot count {0} is not a power of two")]
    SlotCount(u32),
    /// The bucket offset width is not in 1..=32.
    #[error("bucket offset width {0} is not in 1..=32")]
    OffsetWidth(u8),
    /// The width of a bucket's record count is not in 1..=16.
    #[error("bucket count width {0} is not in 1..=16")]
    CountWidth(u8),
    /// A name code is longer than the format allows, or wider than its length.
    #[error("name code of context {context} is out of range")]
    NameCodeRange {
        /// The context (symbol to the right).
        context: usize,
    },
    /// A name code is not prefix-free, so equal bits need not mean equal names.
    #[error("name code of context {context} is not prefix-free")]
    NameCodeNotPrefixFree {
        /// The context (symbol to the right).
        context: usize,
    },
    /// Bucket offsets are not monotone within the record stream.
    #[error("bucket offset {index} out of order")]
    BucketOffset {
        /// The bucket.
        index: usize,
    },
    /// The last bucket offset is not the end of the record stream.
    #[error("bucket offsets do not cover the record stream")]
    BucketCoverage,
    /// A TLD record is wrong (see [`TldFault`]).
    #[error("TLD record at {at} {fault}")]
    Tld {
        /// Byte offset within the TLD area.
        at: usize,
        /// What is wrong with it.
        fault: TldFault,
    },
    /// A bucket is wrong (see [`BucketFault`]).
    #[error("bucket {bucket} {fault}")]
    Bucket {
        /// The bucket.
        bucket: usize,
        /// What is wrong with it.
        fault: BucketFault,
    },
    /// A record is wrong (see [`RecordFault`]).
    #[error("record at bit {bit} {fault}")]
    Record {
        /// Bit offset of the record's name in the record stream.
        bit: u64,
        /// What is wrong with it.
        fault: RecordFault,
    },
    /// Buckets past the last TLD's range.
    #[error("buckets not owned by any TLD")]
    UnownedBuckets,
    /// A count in the header disagrees with the table.
    #[error("{found} {what}, header says {header}")]
    Count {
        /// What was counted.
        what: &'static str,
        /// The count in the table.
        found: u64,
        /// The count in the header.
        header: u64,
    },
    /// TLD slots in use do not match the TLD records.
    #[error("{used} TLD slots in use for {tlds} TLDs")]
    SlotsInUse {
        /// Slots in use.
        used: usize,
        /// TLD records.
        tlds: usize,
    },
}

/// What is wrong with a TLD record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TldFault {
    /// The record runs past the TLD area.
    #[error("is cut short")]
    CutShort,
    /// The TLD is empty, too long, or holds a byte outside `[a-z0-9-]`.
    #[error("has an invalid name")]
    InvalidName,
    /// Unknown flags, or include_subdomains on a TLD that is not an entry.
    #[error("has invalid flags")]
    InvalidFlags,
    /// A lookup of this TLD through the slots does not find this record.
    #[error("is not reachable from its slot")]
    Unreachable,
    /// Its first bucket is not where the previous TLD's buckets end.
    #[error("has buckets out of order")]
    BucketsOutOfOrder,
    /// Its buckets run past the bucket index.
    #[error("has buckets past the index")]
    BucketsPastIndex,
}

/// What is wrong with a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BucketFault {
    /// A record's header is corrupt, or the record runs past the bucket.
    #[error("has a record that overruns it")]
    Overrun,
    /// Bits are left between its last record and the next bucket.
    #[error("has bits after its last record")]
    Slack,
    /// Records are not sorted by fingerprint.
    #[error("is not sorted by fingerprint")]
    Unsorted,
}

/// What is wrong with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordFault {
    /// Its bits do not decode to a sequence of valid labels.
    #[error("is not a valid name")]
    InvalidName,
    /// With its TLD, the name is over 253 bytes.
    #[error("is too long")]
    TooLong,
    /// More labels or bits than the header's maximum.
    #[error("is over the header's limits")]
    OverLimits,
    /// Its hash places it in another bucket.
    #[error("is in the wrong bucket")]
    WrongBucket,
    /// Its fingerprint is not the one of its name.
    #[error("has the wrong fingerprint")]
    WrongFingerprint,
    /// The same name twice in one bucket.
    #[error("repeats a name")]
    Repeated,
}

impl From<Corruption> for PreloadError {
    fn from(c: Corruption) -> Self {
        PreloadError::Corrupt(c)
    }
}

/// Sizes from the wire checks, which are at most the table's length.
fn size(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl From<WireError> for PreloadError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Truncated { len, needed } => PreloadError::Truncated {
                len: size(len),
                needed: size(needed),
            },
            WireError::BadMagic => PreloadError::BadMagic,
            WireError::UnsupportedVersion { found, supported } => {
                PreloadError::UnsupportedVersion { found, supported }
            }
            WireError::ReservedNotZero => PreloadError::Corrupt(Corruption::ReservedBytes),
            WireError::Checksum { part: "header", .. } => PreloadError::HeaderChecksum,
            WireError::Checksum {
                expected, actual, ..
            } => PreloadError::BodyChecksum { expected, actual },
            WireError::TrailingData(n) => PreloadError::TrailingData(size(n)),
            WireError::TooLarge { len, limit } => PreloadError::TooLarge {
                what: "compiled table (bytes)",
                len,
                limit,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_failures_map_onto_one_variant_each() {
        let e = |w| PreloadError::from(w);
        assert!(matches!(
            e(WireError::Truncated { len: 3, needed: 92 }),
            PreloadError::Truncated { len: 3, needed: 92 }
        ));
        assert!(matches!(e(WireError::BadMagic), PreloadError::BadMagic));
        assert!(matches!(
            e(WireError::UnsupportedVersion {
                found: 3,
                supported: 2
            }),
            PreloadError::UnsupportedVersion {
                found: 3,
                supported: 2
            }
        ));
        assert!(matches!(
            e(WireError::ReservedNotZero),
            PreloadError::Corrupt(Corruption::ReservedBytes)
        ));
        let crc = |part| WireError::Checksum {
            part,
            expected: 1,
            actual: 2,
        };
        assert!(matches!(e(crc("header")), PreloadError::HeaderChecksum));
        assert!(matches!(
            e(crc("body")),
            PreloadError::BodyChecksum {
                expected: 1,
                actual: 2
            }
        ));
        assert!(matches!(
            e(WireError::TrailingData(4)),
            PreloadError::TrailingData(4)
        ));
        assert!(matches!(
            e(WireError::TooLarge { len: 9, limit: 8 }),
            PreloadError::TooLarge {
                len: 9,
                limit: 8,
                ..
            }
        ));
    }

    #[test]
    fn messages_say_what_was_wrong() {
        let c = Corruption::Record {
            bit: 12,
            fault: RecordFault::WrongBucket,
        };
        assert_eq!(
            PreloadError::from(c).to_string(),
            "corrupt table: record at bit 12 is in the wrong bucket"
        );
        let c = Corruption::Count {
            what: "entries",
            found: 3,
            header: 4,
        };
        assert_eq!(c.to_string(), "3 entries, header says 4");
    }
}
