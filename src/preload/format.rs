//! The binary layout of a compiled preload table: its constants, the
//! header, where each section starts, and reading TLD records and bucket
//! boundaries in place.
//!
//! ```text
//! header (92 bytes, little-endian)
//!   0  magic "HSTSPRLD"      8  version u16 (3)
//!   10 count width u8 (1..=16: bits of a bucket's record count)   11 reserved u8 (0)
//!   12 date: days since 1970-01-01, i32            16 entry count u32
//!   20 TLD count u32         24 TLD slot count u32 (a power of two)
//!   28 TLD area length u32   32 bucket count u32    36 record stream bits u32
//!   40 offset width u8 (1..=32)   41 most labels in a record u8
//!   42 most bits in a record's name u16
//!   44 offset slope u32 (mean bucket bits × 256)    48 offset bias u32
//!   52 CRC-32 of the body    56 SHA-256 of the JSON source (32)
//!   88 CRC-32 of bytes 0..88
//! body
//!   name code     38 contexts × 38 symbols × (length u8, code u16): the
//!                 Huffman code of a character given the character to its right
//!   length code   1024 × u16 decode table: (symbol << 4) | code length
//!   TLD slots     slot count × u32: offset of a TLD record, or u32::MAX
//!   TLD area      records: len u8, the TLD, flags u8, first bucket u32, bucket count u32
//!   superblocks   (bucket count / 32 + 1) × u32: bit offset of every 32nd bucket
//!   offsets       (bucket count + 1) × width bits: bucket start minus its
//!                 superblock's start and minus slope × position, plus bias
//!   records       bit stream, bucket by bucket; a bucket is its record count
//!                 (count width bits), the fingerprint of each record (7 bits,
//!                 ascending), then the records in the same order; a record
//!                 is a length-code symbol (bits << 1 | include_subdomains, or
//!                 an escape followed by 13 raw bits of length and the flag)
//!                 then the name's bits
//! ```
//!
//! A record holds a name without its TLD, read from right to left, each
//! character coded with the Huffman code of its context (the character to
//! its right; the start context is `.`). A name's bucket (among its TLD's)
//! and its fingerprint come from one hash of its bytes (`code::name_hash`):
//! a lookup hashes the query's label suffixes as they are, reads a bucket's
//! fingerprints, and codes the query only to compare it with the record
//! whose fingerprint matches. Answers are exact: the full name is compared,
//! and a prefix-free code makes equal bits mean equal names.

use chrono::NaiveDate;

use super::code::{read_bits, tld_hash, FINGERPRINT_BITS, LEN_TABLE_LEN, NAME_CODE_LEN};
use super::error::{Corruption, PreloadError};
use crate::wire::{self, u32_at};

/// The label at the start of every compiled table.
pub const MAGIC: [u8; 8] = *b"HSTSPRLD";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 3;
/// The size of the fixed header.
pub const HEADER_LEN: usize = 92;
/// Where the version is.
const VERSION_AT: usize = 8;
/// The reserved bytes, which must be zero.
const RESERVED: std::ops::Range<usize> = 11..12;
/// Where the count width is.
const COUNT_WIDTH_AT: usize = 10;
/// The widest record count of a bucket, in bits.
pub(crate) const MAX_COUNT_WIDTH: u8 = 16;
/// Bytes of the header covered by its checksum.
const HEADER_CRC_AT: usize = HEADER_LEN - 4;
/// The largest table we load: 64 MiB.
pub(crate) const MAX_TABLE_LEN: usize = 64 << 20;
/// The longest host name (DNS limit).
pub(crate) const MAX_HOST_LEN: usize = 253;
/// Buckets per superblock, as a shift.
pub(crate) const SUPER_SHIFT: u32 = 5;
/// Flag of a TLD record: the TLD itself is listed.
pub(crate) const TLD_IS_ENTRY: u8 = 1;
/// Flag of a TLD record: the TLD is listed with include_subdomains.
pub(crate) const TLD_INCLUDE_SUBDOMAINS: u8 = 2;
/// A TLD slot that holds no record.
pub(crate) const EMPTY_SLOT: u32 = u32::MAX;
/// A TLD sits at most this many slots after its home slot.
pub(crate) const MAX_TLD_PROBE: usize = 32;

/// The decoded fixed header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) date: NaiveDate,
    pub(crate) entry_count: u32,
    pub(crate) tld_count: u32,
    pub(crate) slot_count: u32,
    pub(crate) tld_area_len: u32,
    pub(crate) bucket_count: u32,
    pub(crate) record_bits: u32,
    pub(crate) offset_width: u8,
    pub(crate) count_width: u8,
    pub(crate) max_labels: u8,
    pub(crate) max_record_bits: u16,
    pub(crate) slope: u32,
    pub(crate) bias: u32,
    pub(crate) body_crc: u32,
    pub(crate) source_sha256: [u8; 32],
}

/// Day 0 of the header's date.
fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

impl Header {
    /// Checks the label, version, header checksum and reserved bytes, then
    /// decodes the fields.
    pub(crate) fn parse(b: &[u8]) -> Result<Header, PreloadError> {
        wire::check_label(b, &MAGIC, HEADER_LEN)?;
        wire::check_version(b, VERSION_AT, FORMAT_VERSION)?;
        let crc = u32_at(b, HEADER_CRC_AT).unwrap_or(0);
        wire::check_crc("header", &b[..HEADER_CRC_AT], crc)?;
        wire::check_reserved(b, RESERVED)?;
        let r = |at| u32_at(b, at).unwrap_or(0);
        let days = r(12) as i32;
        let date = epoch()
            .checked_add_signed(chrono::Duration::days(i64::from(days)))
            .ok_or(Corruption::Date { days })?;
        let mut source_sha256 = [0u8; 32];
        source_sha256.copy_from_slice(&b[56..88]);
        Ok(Header {
            date,
            entry_count: r(16),
            tld_count: r(20),
            slot_count: r(24),
            tld_area_len: r(28),
            bucket_count: r(32),
            record_bits: r(36),
            offset_width: b[40],
            count_width: b[COUNT_WIDTH_AT],
            max_labels: b[41],
            max_record_bits: u16::from_le_bytes([b[42], b[43]]),
            slope: r(44),
            bias: r(48),
            body_crc: r(52),
            source_sha256,
        })
    }

    /// Writes the header, computing its checksum.
    #[cfg(feature = "compile")]
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&[self.count_width, 0]);
        let days = (self.date - epoch()).num_days() as i32;
        out.extend_from_slice(&days.to_le_bytes());
        for v in [
            self.entry_count,
            self.tld_count,
            self.slot_count,
            self.tld_area_len,
            self.bucket_count,
            self.record_bits,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&[self.offset_width, self.max_labels]);
        out.extend_from_slice(&self.max_record_bits.to_le_bytes());
        for v in [self.slope, self.bias, self.body_crc] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.source_sha256);
        let crc = crc32fast::hash(&out[start..start + HEADER_CRC_AT]);
        out.extend_from_slice(&crc.to_le_bytes());
    }
}

/// Where each section starts, checked against the table's length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    pub(crate) name_codes: usize,
    pub(crate) len_table: usize,
    pub(crate) slots: usize,
    pub(crate) slot_count: usize,
    pub(crate) tlds: usize,
    pub(crate) tlds_len: usize,
    pub(crate) supers: usize,
    pub(crate) offsets: usize,
    pub(crate) offsets_len: usize,
    pub(crate) width: u32,
    pub(crate) count_width: u32,
    pub(crate) bucket_count: usize,
    pub(crate) records: usize,
    pub(crate) records_len: usize,
    pub(crate) record_bits: u64,
    pub(crate) max_labels: usize,
    pub(crate) max_record_bits: u64,
    pub(crate) slope: u64,
    pub(crate) bias: u64,
}

/// The number of superblock entries for `buckets` buckets.
pub(crate) fn super_count(buckets: u64) -> u64 {
    (buckets >> SUPER_SHIFT) + 1
}

impl Layout {
    /// Places the sections the header describes, and checks that they
    /// fill exactly `len` bytes.
    pub(crate) fn new(h: &Header, len: usize) -> Result<Layout, PreloadError> {
        if !h.slot_count.is_power_of_two() {
            return Err(Corruption::SlotCount(h.slot_count).into());
        }
        if !(1..=32).contains(&h.offset_width) {
            return Err(Corruption::OffsetWidth(h.offset_width).into());
        }
        if !(1..=MAX_COUNT_WIDTH).contains(&h.count_width) {
            return Err(Corruption::CountWidth(h.count_width).into());
        }
        // All in u64: the header's u32 fields cannot overflow it.
        let name_codes = HEADER_LEN as u64;
        let len_table = name_codes + NAME_CODE_LEN as u64;
        let slots = len_table + LEN_TABLE_LEN as u64;
        let tlds = slots + u64::from(h.slot_count) * 4;
        let supers = tlds + u64::from(h.tld_area_len);
        let buckets = u64::from(h.bucket_count);
        let offsets = supers + super_count(buckets) * 4;
        let offsets_len = ((buckets + 1) * u64::from(h.offset_width)).div_ceil(8);
        let records = offsets + offsets_len;
        let records_len = u64::from(h.record_bits).div_ceil(8);
        let end = records + records_len;
        wire::check_length(len, HEADER_LEN, end - HEADER_LEN as u64)?;
        // Everything is now known to be at most `len`, so fits usize.
        Ok(Layout {
            name_codes: name_codes as usize,
            len_table: len_table as usize,
            slots: slots as usize,
            slot_count: h.slot_count as usize,
            tlds: tlds as usize,
            tlds_len: h.tld_area_len as usize,
            supers: supers as usize,
            offsets: offsets as usize,
            offsets_len: offsets_len as usize,
            width: u32::from(h.offset_width),
            count_width: u32::from(h.count_width),
            bucket_count: h.bucket_count as usize,
            records: records as usize,
            records_len: records_len as usize,
            record_bits: u64::from(h.record_bits),
            max_labels: usize::from(h.max_labels),
            max_record_bits: u64::from(h.max_record_bits),
            slope: u64::from(h.slope),
            bias: u64::from(h.bias),
        })
    }
}

// Reading the sections in place.

/// A TLD record, read in place.
pub(crate) struct Tld<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) flags: u8,
    pub(crate) first_bucket: u32,
    pub(crate) bucket_count: u32,
    /// Offset of the byte after the record, within the TLD area.
    pub(crate) end: usize,
}

/// The TLD record at byte `at` of the TLD area.
#[inline]
pub(crate) fn tld_at(area: &[u8], at: usize) -> Option<Tld<'_>> {
    let len = *area.get(at)? as usize;
    let name = area.get(at + 1..at + 1 + len)?;
    let p = at + 1 + len;
    Some(Tld {
        name,
        flags: *area.get(p)?,
        first_bucket: u32_at(area, p + 1)?,
        bucket_count: u32_at(area, p + 5)?,
        end: p + 9,
    })
}

/// The record of `tld`, found through the TLD slots.
#[inline]
pub(crate) fn find_tld<'a>(b: &'a [u8], l: &Layout, tld: &[u8]) -> Option<Tld<'a>> {
    let area = b.get(l.tlds..l.tlds + l.tlds_len)?;
    let mask = l.slot_count.wrapping_sub(1);
    let mut slot = (tld_hash(tld) as usize) & mask;
    for _ in 0..l.slot_count.min(MAX_TLD_PROBE) {
        let off = u32_at(b, l.slots + slot * 4)?;
        if off == EMPTY_SLOT {
            return None;
        }
        // The name first; the rest of the record only once it matches. A
        // short byte loop: TLDs are a few bytes, cheaper than memcmp.
        let at = off as usize;
        let len = usize::from(*area.get(at)?);
        let same = len == tld.len()
            && area
                .get(at + 1..at + 1 + len)
                .is_some_and(|name| name.iter().zip(tld).all(|(a, b)| a == b));
        if same {
            return tld_at(area, at);
        }
        slot = (slot + 1) & mask;
    }
    None
}

/// The bit offset where bucket `i` starts (`i == bucket count`: the end).
#[inline]
pub(crate) fn boundary(b: &[u8], l: &Layout, i: usize) -> Option<u64> {
    let supers = b.get(l.supers..l.offsets)?;
    let offsets = b.get(l.offsets..l.offsets + l.offsets_len)?;
    boundary_in(supers, offsets, l, i)
}

/// [`boundary`], given the superblock and offset sections already sliced.
#[inline(always)]
fn boundary_in(supers: &[u8], offsets: &[u8], l: &Layout, i: usize) -> Option<u64> {
    let base = u64::from(u32_at(supers, (i >> SUPER_SHIFT) * 4)?);
    let rel = read_bits(offsets, i as u64 * u64::from(l.width), l.width);
    boundary_of(l, i, base, rel)
}

/// Where bucket `i` starts, given its superblock's base and its
/// correction.
#[inline(always)]
fn boundary_of(l: &Layout, i: usize, base: u64, rel: u64) -> Option<u64> {
    (base + predicted(i, l.slope) + rel).checked_sub(l.bias)
}

/// The predicted distance of bucket `i` from its superblock's start.
#[inline]
pub(crate) fn predicted(i: usize, slope: u64) -> u64 {
    ((i & ((1 << SUPER_SHIFT) - 1)) as u64 * slope) >> 8
}

/// The bit range of bucket `i` within the record stream.
#[inline]
pub(crate) fn bucket_range(b: &[u8], l: &Layout, i: usize) -> Option<(u64, u64)> {
    let supers = b.get(l.supers..l.offsets)?;
    let offsets = b.get(l.offsets..l.offsets + l.offsets_len)?;
    bucket_range_in(supers, offsets, l, i)
}

/// [`bucket_range`], given the superblock and offset sections already
/// sliced (a lookup slices them once for all its probes).
#[inline(always)]
pub(crate) fn bucket_range_in(
    supers: &[u8],
    offsets: &[u8],
    l: &Layout,
    i: usize,
) -> Option<(u64, u64)> {
    if i >= l.bucket_count {
        return None;
    }
    let (start, end) = if (i + 1) & ((1 << SUPER_SHIFT) - 1) != 0 && l.width <= 28 {
        // Both ends in one superblock: one base, and both corrections in
        // one read.
        let base = u64::from(u32_at(supers, (i >> SUPER_SHIFT) * 4)?);
        let both = read_bits(offsets, i as u64 * u64::from(l.width), 2 * l.width);
        (
            boundary_of(l, i, base, both >> l.width)?,
            boundary_of(l, i + 1, base, both & ((1 << l.width) - 1))?,
        )
    } else {
        (
            boundary_in(supers, offsets, l, i)?,
            boundary_in(supers, offsets, l, i + 1)?,
        )
    };
    (start <= end && end <= l.record_bits).then_some((start, end))
}

/// The start of a non-empty bucket, read in place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BucketHead {
    /// How many records it holds.
    pub(crate) count: u64,
    /// Where its fingerprints start.
    pub(crate) fingerprints_at: u64,
    /// Where its first record starts.
    pub(crate) records_at: u64,
}

impl BucketHead {
    /// Reads the head of the bucket that starts at bit `start` of the
    /// record stream `rec`.
    #[inline(always)]
    pub(crate) fn read(rec: &[u8], l: &Layout, start: u64) -> BucketHead {
        let count = read_bits(rec, start, l.count_width);
        let fingerprints_at = start + u64::from(l.count_width);
        BucketHead {
            count,
            fingerprints_at,
            records_at: fingerprints_at + count * u64::from(FINGERPRINT_BITS),
        }
    }

    /// The fingerprint of record `i`.
    #[inline(always)]
    pub(crate) fn fingerprint(&self, rec: &[u8], i: u64) -> u8 {
        read_bits(
            rec,
            self.fingerprints_at + i * u64::from(FINGERPRINT_BITS),
            FINGERPRINT_BITS,
        ) as u8
    }
}
