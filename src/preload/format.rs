//! The binary layout of a compiled preload table, and reading it in place.
//!
//! ```text
//! header (92 bytes, little-endian)
//!   0  magic "HSTSPRLD"      8  version u16 (2)     10 reserved u16 (0)
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
//!   records       bit stream, bucket by bucket; each record is a length-code
//!                 symbol (bits << 1 | include_subdomains, or an escape followed
//!                 by 13 raw bits of length and the flag) then the name's bits
//! ```
//!
//! A record holds a name without its TLD, read from right to left, each
//! character coded with the Huffman code of its context (the character to
//! its right; the start context is `.`). Because the name is coded from the
//! right, the code of every label suffix is a prefix of the code of the whole
//! name: a lookup encodes the query once and compares bits at each label
//! boundary, without decoding the table. Answers are exact: the full name is
//! compared, and a prefix-free code makes equal bits mean equal names.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::{PreloadError, PreloadMatch};

/// The label at the start of every compiled table.
pub const MAGIC: [u8; 8] = *b"HSTSPRLD";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 2;
/// The size of the fixed header.
pub const HEADER_LEN: usize = 92;
/// Bytes of the header covered by its checksum.
const HEADER_CRC_AT: usize = HEADER_LEN - 4;
/// The largest table we load: 64 MiB.
pub(crate) const MAX_TABLE_LEN: usize = 64 << 20;
/// The longest host name (DNS limit).
pub(crate) const MAX_HOST_LEN: usize = 253;
/// The name alphabet: `a-z`, `0-9`, `-`, `.`.
pub(crate) const SYMBOLS: usize = 38;
/// The symbol of `.`, also the context at the start of a name.
pub(crate) const DOT: usize = 37;
/// The longest name code.
pub(crate) const MAX_NAME_CODE: u32 = 16;
/// Bytes of the name code table.
pub(crate) const NAME_CODE_LEN: usize = SYMBOLS * SYMBOLS * 3;
/// Bits peeked to decode a length code (its longest code).
pub(crate) const LEN_PEEK: u32 = 10;
/// Bytes of the length code's decode table.
pub(crate) const LEN_TABLE_LEN: usize = (1 << LEN_PEEK) * 2;
/// The length-code symbol that escapes to a raw length.
pub(crate) const ESC: u16 = 0xfff;
/// Raw bits after an escape: 13 of length, 1 flag.
pub(crate) const ESC_BITS: u32 = 14;
/// Buckets per superblock, as a shift.
pub(crate) const SUPER_SHIFT: u32 = 5;
/// Flags of a TLD record.
pub(crate) const TLD_IS_ENTRY: u8 = 1;
pub(crate) const TLD_INCLUDE_SUBDOMAINS: u8 = 2;
const EMPTY_SLOT: u32 = u32::MAX;
/// A TLD sits at most this many slots after its home slot.
pub(crate) const MAX_TLD_PROBE: usize = 32;

/// The decoded fixed header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub date: NaiveDate,
    pub entry_count: u32,
    pub tld_count: u32,
    pub slot_count: u32,
    pub tld_area_len: u32,
    pub bucket_count: u32,
    pub record_bits: u32,
    pub offset_width: u8,
    pub max_labels: u8,
    pub max_record_bits: u16,
    pub slope: u32,
    pub bias: u32,
    pub body_crc: u32,
    pub source_sha256: [u8; 32],
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

impl Header {
    /// Checks the label, version and header checksum.
    pub(crate) fn parse(b: &[u8]) -> Result<Header, PreloadError> {
        if b.len() < MAGIC.len() || b[..MAGIC.len()] != MAGIC {
            return Err(if !b.is_empty() && MAGIC.starts_with(b) {
                PreloadError::Truncated {
                    len: b.len(),
                    needed: HEADER_LEN,
                }
            } else {
                PreloadError::BadMagic
            });
        }
        if b.len() < HEADER_LEN {
            return Err(PreloadError::Truncated {
                len: b.len(),
                needed: HEADER_LEN,
            });
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != FORMAT_VERSION {
            return Err(PreloadError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let crc = u32_at(b, HEADER_CRC_AT).unwrap_or(0);
        if crc32fast::hash(&b[..HEADER_CRC_AT]) != crc {
            return Err(PreloadError::HeaderChecksum);
        }
        if b[10..12] != [0, 0] {
            return Err(PreloadError::Corrupt(
                "reserved header bytes are not zero".into(),
            ));
        }
        let r = |at| u32_at(b, at).unwrap_or(0);
        let days = r(12) as i32;
        let date = epoch()
            .checked_add_signed(chrono::Duration::days(i64::from(days)))
            .ok_or_else(|| PreloadError::Corrupt(format!("date {days} out of range")))?;
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
            max_labels: b[41],
            max_record_bits: u16::from_le_bytes([b[42], b[43]]),
            slope: r(44),
            bias: r(48),
            body_crc: r(52),
            source_sha256,
        })
    }

    /// Writes the header, computing its checksum.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
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
    name_codes: usize,
    len_table: usize,
    slots: usize,
    slot_count: usize,
    tlds: usize,
    tlds_len: usize,
    supers: usize,
    offsets: usize,
    offsets_len: usize,
    width: u32,
    bucket_count: usize,
    records: usize,
    records_len: usize,
    record_bits: u64,
    max_labels: usize,
    max_record_bits: u64,
    slope: u64,
    bias: u64,
}

/// The number of superblock entries for `buckets` buckets.
pub(crate) fn super_count(buckets: u64) -> u64 {
    (buckets >> SUPER_SHIFT) + 1
}

impl Layout {
    pub(crate) fn new(h: &Header, len: usize) -> Result<Layout, PreloadError> {
        if !h.slot_count.is_power_of_two() {
            return Err(PreloadError::Corrupt(format!(
                "TLD slot count {} is not a power of two",
                h.slot_count
            )));
        }
        if !(1..=32).contains(&h.offset_width) {
            return Err(PreloadError::Corrupt(format!(
                "bucket offset width {} is not in 1..=32",
                h.offset_width
            )));
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
        let have = len as u64;
        if end > have {
            return Err(PreloadError::Truncated {
                len,
                needed: usize::try_from(end).unwrap_or(usize::MAX),
            });
        }
        if end < have {
            return Err(PreloadError::TrailingData(len - end as usize));
        }
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

/// Maps a hash into `0..n` without division.
pub(crate) fn reduce(h: u64, n: u32) -> u32 {
    (((h >> 32) * u64::from(n)) >> 32) as u32
}

/// The symbol of a name character, or `None` outside the alphabet.
#[inline]
pub(crate) fn symbol(c: u8) -> Option<usize> {
    match SYMBOL_OF[usize::from(c)] {
        NO_SYMBOL => None,
        s => Some(usize::from(s)),
    }
}

const NO_SYMBOL: u8 = 0xff;
/// Byte → symbol, `NO_SYMBOL` outside the alphabet.
static SYMBOL_OF: [u8; 256] = {
    let mut t = [NO_SYMBOL; 256];
    let mut i = 0;
    while i < 26 {
        t[b'a' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = 26 + i as u8;
        i += 1;
    }
    t[b'-' as usize] = 36;
    t[b'.' as usize] = DOT as u8;
    t
};

/// The character of a symbol.
pub(crate) fn character(s: usize) -> u8 {
    const ALPHABET: &[u8; SYMBOLS] = b"abcdefghijklmnopqrstuvwxyz0123456789-.";
    ALPHABET.get(s).copied().unwrap_or(b'?')
}

/// The seed of the name hash.
pub(crate) const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Finishes a name hash.
#[inline]
pub(crate) fn finish(h: u64) -> u64 {
    let h = (h ^ (h >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

/// The hash of a coded name: `n` bits at bit `pos` of `buf`, 56 at a time.
#[inline]
pub(crate) fn bits_hash(buf: &[u8], pos: u64, n: u64) -> u64 {
    let mut h = HASH_SEED ^ n;
    let mut i = 0;
    while i < n {
        let k = (n - i).min(56) as u32;
        h = (h ^ read_bits(buf, pos + i, k)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 32;
        i += u64::from(k);
    }
    finish(h)
}

/// FNV-1a over bytes, for the TLD slots.
#[inline]
pub(crate) fn tld_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = HASH_SEED;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// Reads `n` (at most 57) bits at bit `pos` of `buf`, most significant
/// first; bits past the end read as zero.
#[inline]
pub(crate) fn read_bits(buf: &[u8], pos: u64, n: u32) -> u64 {
    if n == 0 {
        return 0;
    }
    let byte = usize::try_from(pos >> 3).unwrap_or(usize::MAX);
    let shift = (pos & 7) as u32;
    let mut w = [0u8; 8];
    match buf.get(byte..byte.saturating_add(8)) {
        Some(s) => w.copy_from_slice(s),
        None => {
            if let Some(s) = buf.get(byte..) {
                w[..s.len()].copy_from_slice(s);
            }
        }
    }
    (u64::from_be_bytes(w) << shift) >> (64 - n)
}

/// Whether `n` bits of `a` at `pa` equal the first `n` bits of `b`.
#[inline]
fn bits_equal(a: &[u8], pa: u64, b: &[u8], n: u64) -> bool {
    let mut i = 0;
    while i < n {
        let k = (n - i).min(56) as u32;
        if read_bits(a, pa + i, k) != read_bits(b, i, k) {
            return false;
        }
        i += u64::from(k);
    }
    true
}

/// The Huffman code of `sym` after `ctx`: (code, length); length 0 when the
/// pair never occurs.
#[inline]
pub(crate) fn name_code(codes: &[u8], ctx: usize, sym: usize) -> (u64, u32) {
    match codes.get((ctx * SYMBOLS + sym) * 3..(ctx * SYMBOLS + sym) * 3 + 3) {
        Some(e) => (u64::from(u16::from_le_bytes([e[1], e[2]])), u32::from(e[0])),
        None => (0, 0),
    }
}

/// Reads the record header at bit `p`: (name bits, include_subdomains,
/// position of the name bits). `None` on a corrupt code.
#[inline]
fn record_head(len_table: &[u8], rec: &[u8], p: u64) -> Option<(u64, bool, u64)> {
    let peek = read_bits(rec, p, LEN_PEEK) as usize;
    let e = len_table.get(peek * 2..peek * 2 + 2)?;
    let e = u16::from_le_bytes([e[0], e[1]]);
    let cl = u32::from(e & 15);
    if cl == 0 || cl > LEN_PEEK {
        return None;
    }
    let p = p + u64::from(cl);
    let sym = e >> 4;
    if sym == ESC {
        let v = read_bits(rec, p, ESC_BITS);
        Some((v >> 1, v & 1 == 1, p + u64::from(ESC_BITS)))
    } else {
        Some((u64::from(sym >> 1), sym & 1 == 1, p))
    }
}

/// A TLD record, read in place.
struct Tld<'a> {
    name: &'a [u8],
    flags: u8,
    first_bucket: u32,
    bucket_count: u32,
    /// Offset of the byte after the record, within the TLD area.
    end: usize,
}

#[inline]
fn tld_at(area: &[u8], at: usize) -> Option<Tld<'_>> {
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

#[inline]
fn find_tld<'a>(b: &'a [u8], l: &Layout, tld: &[u8]) -> Option<Tld<'a>> {
    let area = b.get(l.tlds..l.tlds + l.tlds_len)?;
    let mask = l.slot_count.wrapping_sub(1);
    let mut slot = (tld_hash(tld) as usize) & mask;
    for _ in 0..l.slot_count.min(MAX_TLD_PROBE) {
        let off = u32_at(b, l.slots + slot * 4)?;
        if off == EMPTY_SLOT {
            return None;
        }
        let rec = tld_at(area, off as usize)?;
        // A short byte loop: TLDs are a few bytes, cheaper than memcmp.
        if rec.name.len() == tld.len() && rec.name.iter().zip(tld).all(|(a, b)| a == b) {
            return Some(rec);
        }
        slot = (slot + 1) & mask;
    }
    None
}

/// The bit offset where bucket `i` starts (`i == bucket count`: the end).
#[inline]
fn boundary(b: &[u8], l: &Layout, i: usize) -> Option<u64> {
    let base = u64::from(u32_at(b, l.supers + (i >> SUPER_SHIFT) * 4)?);
    let offsets = b.get(l.offsets..l.offsets + l.offsets_len)?;
    let rel = read_bits(offsets, i as u64 * u64::from(l.width), l.width);
    (base + predicted(i, l.slope) + rel).checked_sub(l.bias)
}

/// The predicted distance of bucket `i` from its superblock's start.
#[inline]
pub(crate) fn predicted(i: usize, slope: u64) -> u64 {
    ((i & ((1 << SUPER_SHIFT) - 1)) as u64 * slope) >> 8
}

/// The sections a probe reads, sliced once per lookup.
struct View<'a> {
    len_table: &'a [u8],
    supers: &'a [u8],
    offsets: &'a [u8],
    records: &'a [u8],
}

impl<'a> View<'a> {
    fn new(b: &'a [u8], l: &Layout) -> Option<View<'a>> {
        Some(View {
            len_table: b.get(l.len_table..l.len_table + LEN_TABLE_LEN)?,
            supers: b.get(l.supers..l.offsets)?,
            offsets: b.get(l.offsets..l.offsets + l.offsets_len)?,
            records: b.get(l.records..l.records + l.records_len)?,
        })
    }
}

/// The bit range of bucket `i` within the record stream.
#[inline]
fn bucket_range(b: &[u8], l: &Layout, i: usize) -> Option<(u64, u64)> {
    if i >= l.bucket_count {
        return None;
    }
    let start = boundary(b, l, i)?;
    let end = boundary(b, l, i + 1)?;
    (start <= end && end <= l.record_bits).then_some((start, end))
}

/// Query buffer of the fast path: names of at most 448 bits, 15 labels.
const SMALL_BYTES: usize = 64;
const SMALL_LABELS: usize = 16;
/// Query buffer for any table: 253 characters of at most 16 bits, and up
/// to 127 labels.
const LARGE_BYTES: usize = MAX_HOST_LEN * 2 + 16;
const LARGE_LABELS: usize = 128;

/// Probes one suffix: `Some(isd)` if its bucket holds a record with exactly
/// the query's first `bits` bits.
#[inline]
fn probe(v: &View<'_>, l: &Layout, tld: &Tld<'_>, query: &[u8], bits: u64) -> Option<bool> {
    if bits == 0 || tld.bucket_count == 0 {
        return None;
    }
    let h = bits_hash(query, 0, bits);
    let bucket = tld.first_bucket as usize + reduce(h, tld.bucket_count) as usize;
    if bucket >= l.bucket_count {
        return None;
    }
    let at = |i: usize| -> Option<u64> {
        let base = u64::from(u32_at(v.supers, (i >> SUPER_SHIFT) * 4)?);
        let rel = read_bits(v.offsets, i as u64 * u64::from(l.width), l.width);
        (base + predicted(i, l.slope) + rel).checked_sub(l.bias)
    };
    let (mut p, end) = (at(bucket)?, at(bucket + 1)?);
    if end > l.record_bits {
        return None;
    }
    let rec = v.records;
    while p < end {
        let (n, isd, at) = record_head(v.len_table, rec, p)?;
        if n == bits && bits_equal(rec, at, query, bits) {
            return Some(isd);
        }
        if n > bits {
            // Records are sorted by length: none further on is as short.
            return None;
        }
        p = at + n;
    }
    None
}

/// See [`super::PreloadList::lookup`].
pub(crate) fn lookup<'h>(b: &[u8], l: &Layout, host: &'h str) -> Option<PreloadMatch<'h>> {
    if l.max_record_bits <= ((SMALL_BYTES - 8) * 8) as u64 && l.max_labels < SMALL_LABELS {
        lookup_in::<SMALL_BYTES, SMALL_LABELS>(b, l, host)
    } else {
        lookup_in::<LARGE_BYTES, LARGE_LABELS>(b, l, host)
    }
}

/// One right-to-left pass encodes the host's name (without TLD) and notes
/// the bit length at each label boundary; then each label suffix that a
/// record could hold costs one bucket probe, longest first.
fn lookup_in<'h, const BYTES: usize, const LABELS: usize>(
    b: &[u8],
    l: &Layout,
    host: &'h str,
) -> Option<PreloadMatch<'h>> {
    let hb = host.as_bytes();
    if hb.is_empty() || hb.len() > MAX_HOST_LEN {
        return None;
    }
    let (rest_len, tld_name) = match hb.iter().rposition(|&c| c == b'.') {
        Some(0) => return None,
        Some(dot) => (dot, &hb[dot + 1..]),
        None => (0, hb),
    };
    if tld_name.is_empty() || tld_name.len() > 63 {
        return None;
    }
    let tld = find_tld(b, l, tld_name)?;
    if rest_len > 0 {
        let v = View::new(b, l)?;
        // One byte more than the table, so that every entry reads as a u32
        // (the length code's table follows).
        let codes = b.get(l.name_codes..l.name_codes + NAME_CODE_LEN + 1)?;
        let rest = &hb[..rest_len];
        let limit = l.max_labels.min(LABELS - 1);
        let mut query = [0u8; BYTES];
        // Label suffixes, shortest first: (bits, start byte).
        let mut suffixes = [(0u16, 0u8); LABELS];
        let mut count = 0;
        let (mut acc, mut pending, mut bits, mut nbytes) = (0u64, 0u32, 0u64, 0usize);
        let mut base = DOT * SYMBOLS * 3;
        // While false, the pass only checks the rest of the host.
        let mut encoding = tld.bucket_count > 0;
        let mut whole = encoding;
        let mut label_len = 0;
        let mut i = rest.len();
        while i > 0 {
            i -= 1;
            let c = rest[i];
            let s = SYMBOL_OF[usize::from(c)];
            if c == b'.' {
                if label_len == 0 {
                    return None; // an empty label
                }
                label_len = 0;
                if encoding {
                    if count >= limit || bits > l.max_record_bits {
                        // No record has more labels or bits: longer
                        // suffixes cannot match.
                        encoding = false;
                        whole = false;
                    } else {
                        suffixes[count] = (bits as u16, (i + 1) as u8);
                        count += 1;
                    }
                }
            } else {
                label_len += 1;
                if label_len > 63 {
                    return None;
                }
            }
            if s == NO_SYMBOL {
                // A byte no listed name has (canonical hosts may hold `_`
                // and other URL code points): this label and the suffixes
                // that contain it cannot match, its superdomains still can.
                encoding = false;
                whole = false;
            }
            if !encoding {
                continue;
            }
            let at = base + usize::from(s) * 3;
            let e = match codes.get(at..at + 4) {
                Some(e) => u32::from_le_bytes([e[0], e[1], e[2], e[3]]),
                None => 0,
            };
            let len = e & 0xff;
            if len.wrapping_sub(1) >= MAX_NAME_CODE {
                // A pair of characters that no listed name has.
                encoding = false;
                whole = false;
                continue;
            }
            let code = u64::from(e >> 8) & 0xffff;
            acc = (acc << len) | (code & ((1 << len) - 1));
            pending += len;
            bits += u64::from(len);
            if pending >= 32 {
                pending -= 32;
                if let Some(q) = query.get_mut(nbytes..nbytes + 4) {
                    q.copy_from_slice(&((acc >> pending) as u32).to_be_bytes());
                }
                nbytes += 4;
            }
            base = usize::from(s) * SYMBOLS * 3;
        }
        if label_len == 0 {
            return None; // the host starts with a dot
        }
        if pending > 0 {
            // The last partial word, left-aligned.
            if let Some(q) = query.get_mut(nbytes..nbytes + 4) {
                q.copy_from_slice(&(((acc << (32 - pending)) & 0xffff_ffff) as u32).to_be_bytes());
            }
        }
        if whole && count < limit && bits <= l.max_record_bits {
            suffixes[count] = (bits as u16, 0);
            count += 1;
        }
        // Longest suffix first: the host itself (a congruent match), then
        // each superdomain, nearest first.
        for &(bits, start) in suffixes[..count].iter().rev() {
            if let Some(isd) = probe(&v, l, &tld, &query, u64::from(bits)) {
                if start == 0 || isd {
                    return Some(PreloadMatch {
                        name: host.get(usize::from(start)..)?,
                        include_subdomains: isd,
                    });
                }
            }
        }
    }
    let isd = tld.flags & TLD_INCLUDE_SUBDOMAINS != 0;
    (tld.flags & TLD_IS_ENTRY != 0 && (rest_len == 0 || isd)).then(|| PreloadMatch {
        name: &host[host.len() - tld_name.len()..],
        include_subdomains: isd,
    })
}

/// Walks every TLD record in area order.
fn tlds<'a>(b: &'a [u8], l: &Layout) -> impl Iterator<Item = Tld<'a>> + 'a {
    let area = b.get(l.tlds..l.tlds + l.tlds_len).unwrap_or(&[]);
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= area.len() {
            return None;
        }
        let rec = tld_at(area, at)?;
        at = rec.end;
        Some(rec)
    })
}

/// Decodes names with the table's name code (for iteration and checks).
struct Decoder {
    /// (context, code length, code) → symbol.
    map: HashMap<(u8, u8, u16), u8>,
}

impl Decoder {
    fn new(codes: &[u8]) -> Decoder {
        let mut map = HashMap::new();
        for ctx in 0..SYMBOLS {
            for sym in 0..SYMBOLS {
                let (code, len) = name_code(codes, ctx, sym);
                if (1..=MAX_NAME_CODE).contains(&len) {
                    map.entry((ctx as u8, len as u8, code as u16))
                        .or_insert(sym as u8);
                }
            }
        }
        Decoder { map }
    }

    /// Decodes `n` bits at `p` into a name (without TLD); `None` if they do
    /// not end exactly on a symbol or hold no valid code.
    fn decode(&self, rec: &[u8], p: u64, n: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut ctx = DOT;
        let mut at = 0u64;
        while at < n {
            let mut found = None;
            for len in 1..=MAX_NAME_CODE {
                if at + u64::from(len) > n {
                    break;
                }
                let code = read_bits(rec, p + at, len) as u16;
                if let Some(&s) = self.map.get(&(ctx as u8, len as u8, code)) {
                    found = Some((s, len));
                    break;
                }
            }
            let (s, len) = found?;
            out.push(character(usize::from(s)));
            if out.len() > MAX_HOST_LEN {
                return None;
            }
            ctx = usize::from(s);
            at += u64::from(len);
        }
        out.reverse();
        Some(out)
    }
}

/// Walks the records of one bucket: (bit offset of the name, name bits, isd).
fn bucket_records<'a>(
    b: &'a [u8],
    l: &Layout,
    bucket: usize,
) -> impl Iterator<Item = Option<(u64, u64, bool)>> + 'a {
    let (mut p, end) = bucket_range(b, l, bucket).unwrap_or((0, 0));
    let rec = b.get(l.records..l.records + l.records_len).unwrap_or(&[]);
    let len_table = b
        .get(l.len_table..l.len_table + LEN_TABLE_LEN)
        .unwrap_or(&[]);
    let mut done = false;
    std::iter::from_fn(move || {
        if done || p >= end {
            return None;
        }
        match record_head(len_table, rec, p) {
            Some((n, isd, at)) if n > 0 && at + n <= end => {
                p = at + n;
                Some(Some((at, n, isd)))
            }
            _ => {
                done = true;
                Some(None)
            }
        }
    })
}

/// See [`super::PreloadList::iter`]. On a corrupt (unverified) table the
/// walk stops early or yields names with `?` in them; it never panics.
pub(crate) fn iter<'a>(b: &'a [u8], l: &Layout) -> impl Iterator<Item = (String, bool)> + 'a {
    let l = *l;
    let codes = b
        .get(l.name_codes..l.name_codes + NAME_CODE_LEN)
        .unwrap_or(&[]);
    let decoder = std::rc::Rc::new(Decoder::new(codes));
    let rec = b.get(l.records..l.records + l.records_len).unwrap_or(&[]);
    tlds(b, &l).flat_map(move |tld| {
        let tld_name = String::from_utf8_lossy(tld.name).into_owned();
        let own = (tld.flags & TLD_IS_ENTRY != 0)
            .then(|| (tld_name.clone(), tld.flags & TLD_INCLUDE_SUBDOMAINS != 0));
        let first = (tld.first_bucket as usize).min(l.bucket_count);
        let last = first
            .saturating_add(tld.bucket_count as usize)
            .min(l.bucket_count);
        let decoder = decoder.clone();
        own.into_iter().chain((first..last).flat_map(move |bucket| {
            let tld_name = tld_name.clone();
            let decoder = decoder.clone();
            bucket_records(b, &l, bucket)
                .map_while(|r| r)
                .map(move |(at, n, isd)| {
                    let mut name = match decoder.decode(rec, at, n) {
                        Some(v) => String::from_utf8_lossy(&v).into_owned(),
                        None => "?".to_owned(),
                    };
                    name.push('.');
                    name.push_str(&tld_name);
                    (name, isd)
                })
        }))
    })
}

/// Whether `name` (without TLD) is a valid sequence of labels.
fn valid_labels(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .split(|&c| c == b'.')
            .all(|label| !label.is_empty() && label.len() <= 63)
}

/// The full check: body checksum, then every structure a lookup relies on.
pub(crate) fn verify(b: &[u8], h: &Header, l: &Layout) -> Result<(), PreloadError> {
    let corrupt = |m: String| Err(PreloadError::Corrupt(m));
    let actual = crc32fast::hash(&b[HEADER_LEN..]);
    if actual != h.body_crc {
        return Err(PreloadError::BodyChecksum {
            expected: h.body_crc,
            actual,
        });
    }
    // The name code: lengths in range and prefix-free in every context, so
    // equal bits mean equal names.
    let codes = &b[l.name_codes..l.name_codes + NAME_CODE_LEN];
    for ctx in 0..SYMBOLS {
        let used: Vec<(u64, u32)> = (0..SYMBOLS)
            .map(|s| name_code(codes, ctx, s))
            .filter(|&(_, len)| len != 0)
            .collect();
        for &(code, len) in &used {
            if len > MAX_NAME_CODE || code >> len != 0 {
                return corrupt(format!("name code of context {ctx} is out of range"));
            }
        }
        for (i, &(ci, li)) in used.iter().enumerate() {
            for &(cj, lj) in &used[i + 1..] {
                let (short, long, ls, ll) = if li <= lj {
                    (ci, cj, li, lj)
                } else {
                    (cj, ci, lj, li)
                };
                if long >> (ll - ls) == short {
                    return corrupt(format!("name code of context {ctx} is not prefix-free"));
                }
            }
        }
    }
    // Bucket boundaries: monotone from 0 to the end of the record stream.
    let mut prev = 0u64;
    for i in 0..=l.bucket_count {
        let at = boundary(b, l, i).unwrap_or(u64::MAX);
        if at < prev || at > l.record_bits || (i == 0 && at != 0) {
            return corrupt(format!("bucket offset {i} out of order"));
        }
        prev = at;
    }
    if prev != l.record_bits {
        return corrupt("bucket offsets do not cover the record stream".into());
    }
    // TLD records: parse back to back, each reachable through its slot, with
    // bucket ranges that tile the buckets in order; then every record.
    let decoder = Decoder::new(codes);
    let rec = &b[l.records..l.records + l.records_len];
    let mut tld_count = 0u32;
    let mut entries = 0u64;
    let mut next_bucket = 0usize;
    let mut at = 0usize;
    let area = &b[l.tlds..l.tlds + l.tlds_len];
    while at < area.len() {
        let Some(t) = tld_at(area, at) else {
            return corrupt(format!("TLD record at {at} is cut short"));
        };
        if t.name.is_empty()
            || t.name.len() > 63
            || t.name.iter().any(|&c| symbol(c).is_none() || c == b'.')
        {
            return corrupt(format!("TLD record at {at} has an invalid name"));
        }
        if t.flags & !(TLD_IS_ENTRY | TLD_INCLUDE_SUBDOMAINS) != 0
            || (t.flags & TLD_INCLUDE_SUBDOMAINS != 0 && t.flags & TLD_IS_ENTRY == 0)
        {
            return corrupt(format!("TLD record at {at} has invalid flags"));
        }
        match find_tld(b, l, t.name) {
            Some(found) if found.end == t.end => {}
            _ => return corrupt(format!("TLD record at {at} is not reachable from its slot")),
        }
        if t.first_bucket as usize != next_bucket {
            return corrupt(format!("TLD record at {at} has buckets out of order"));
        }
        next_bucket += t.bucket_count as usize;
        if next_bucket > l.bucket_count {
            return corrupt(format!("TLD record at {at} has buckets past the index"));
        }
        if t.flags & TLD_IS_ENTRY != 0 {
            entries += 1;
        }
        for bucket in t.first_bucket as usize..next_bucket {
            // A set, not a list: a hostile table may put many records in
            // one bucket, and the check must stay near-linear.
            let mut seen: HashSet<Vec<u8>> = HashSet::new();
            let mut shortest = 0;
            for r in bucket_records(b, l, bucket) {
                let Some((p, n, _)) = r else {
                    return corrupt(format!("bucket {bucket} has a record that overruns it"));
                };
                if n < shortest {
                    return corrupt(format!("bucket {bucket} is not sorted by length"));
                }
                shortest = n;
                let name = match decoder.decode(rec, p, n) {
                    Some(name) if valid_labels(&name) => name,
                    _ => return corrupt(format!("record at bit {p} is not a valid name")),
                };
                if name.len() + 1 + t.name.len() > MAX_HOST_LEN {
                    return corrupt(format!("record at bit {p} is too long"));
                }
                let labels = name.iter().filter(|&&c| c == b'.').count() + 1;
                if labels > l.max_labels || n > l.max_record_bits {
                    return corrupt(format!("record at bit {p} is over the header's limits"));
                }
                let home = reduce(bits_hash(rec, p, n), t.bucket_count);
                if t.first_bucket as usize + home as usize != bucket {
                    return corrupt(format!("record at bit {p} is in the wrong bucket"));
                }
                if !seen.insert(name) {
                    return corrupt(format!("record at bit {p} repeats a name"));
                }
                entries += 1;
            }
        }
        tld_count += 1;
        at = t.end;
    }
    if next_bucket != l.bucket_count {
        return corrupt("buckets not owned by any TLD".into());
    }
    if tld_count != h.tld_count {
        return corrupt(format!(
            "{tld_count} TLD records, header says {}",
            h.tld_count
        ));
    }
    let used_slots = (0..l.slot_count)
        .filter(|s| u32_at(b, l.slots + s * 4) != Some(EMPTY_SLOT))
        .count();
    if used_slots != tld_count as usize {
        return corrupt(format!(
            "{used_slots} TLD slots in use for {tld_count} TLDs"
        ));
    }
    if entries != u64::from(h.entry_count) {
        return corrupt(format!("{entries} entries, header says {}", h.entry_count));
    }
    Ok(())
}
