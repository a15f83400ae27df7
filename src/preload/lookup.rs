//! Looking a host up in place, without decoding the table.
//!
//! Because names are coded from the right, the code of every label suffix
//! is a prefix of the code of the whole name: a lookup encodes the query
//! once and compares bits at each label boundary. Answers are exact: the
//! full name is compared, and a prefix-free code makes equal bits mean
//! equal names.

use super::code::{
    bits_equal, bits_hash, read_bits, record_head, reduce, DOT, LEN_TABLE_LEN, MAX_NAME_CODE,
    NAME_CODE_LEN, NO_SYMBOL, SYMBOLS, SYMBOL_OF,
};
use super::format::{
    find_tld, predicted, Layout, Tld, MAX_HOST_LEN, SUPER_SHIFT, TLD_INCLUDE_SUBDOMAINS,
    TLD_IS_ENTRY,
};
use crate::wire::u32_at;

/// A listed name that matched: the suffix of the host from byte `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Where the matching suffix starts in the host (0: the host itself).
    pub(crate) start: usize,
    /// Whether that name has include_subdomains.
    pub(crate) include_subdomains: bool,
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

/// Query buffer of the fast path: names of at most 448 bits, 15 labels.
const SMALL_BYTES: usize = 64;
const SMALL_LABELS: usize = 16;
/// Query buffer for any table: 253 characters of at most 16 bits, and up
/// to 127 labels.
const LARGE_BYTES: usize = MAX_HOST_LEN * 2 + 16;
const LARGE_LABELS: usize = 128;

/// See [`super::PreloadList::lookup`].
pub(crate) fn lookup(b: &[u8], l: &Layout, host: &str) -> Option<Hit> {
    if l.max_record_bits <= ((SMALL_BYTES - 8) * 8) as u64 && l.max_labels < SMALL_LABELS {
        lookup_in::<SMALL_BYTES, SMALL_LABELS>(b, l, host)
    } else {
        lookup_in::<LARGE_BYTES, LARGE_LABELS>(b, l, host)
    }
}

/// One right-to-left pass encodes the host's name (without TLD) and notes
/// the bit length at each label boundary; then each label suffix that a
/// record could hold costs one bucket probe, longest first.
fn lookup_in<const BYTES: usize, const LABELS: usize>(
    b: &[u8],
    l: &Layout,
    host: &str,
) -> Option<Hit> {
    let hb = host.as_bytes();
    let (rest_len, tld_name) = split_tld(hb)?;
    let tld = find_tld(b, l, tld_name)?;
    if rest_len > 0 {
        let v = View::new(b, l)?;
        // One byte more than the table, so that every entry reads as a u32
        // (the length code's table follows).
        let codes = b.get(l.name_codes..l.name_codes + NAME_CODE_LEN + 1)?;
        let q = Query::<BYTES, LABELS>::encode(codes, l, &hb[..rest_len], tld.bucket_count > 0)?;
        // Longest suffix first: the host itself (a congruent match), then
        // each superdomain, nearest first.
        for &(bits, start) in q.suffixes[..q.count].iter().rev() {
            if let Some(isd) = probe(&v, l, &tld, &q.enc.bytes, u64::from(bits)) {
                if start == 0 || isd {
                    return Some(Hit {
                        start: usize::from(start),
                        include_subdomains: isd,
                    });
                }
            }
        }
    }
    // No record matched: the TLD itself, if it is listed.
    let isd = tld.flags & TLD_INCLUDE_SUBDOMAINS != 0;
    (tld.flags & TLD_IS_ENTRY != 0 && (rest_len == 0 || isd)).then(|| Hit {
        start: hb.len() - tld_name.len(),
        include_subdomains: isd,
    })
}

/// Splits a host into the length of the part before its TLD (0 when there
/// is none) and the TLD; `None` for a host no table can list.
#[inline]
fn split_tld(hb: &[u8]) -> Option<(usize, &[u8])> {
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
    Some((rest_len, tld_name))
}

/// The query's bits as they are produced: each character's name code,
/// packed into big-endian 32-bit words.
struct Encoder<const BYTES: usize> {
    bytes: [u8; BYTES],
    acc: u64,
    pending: u32,
    bits: u64,
    nbytes: usize,
    /// Offset of the current context's row in the name code table.
    base: usize,
}

impl<const BYTES: usize> Encoder<BYTES> {
    #[inline(always)]
    fn new() -> Self {
        Encoder {
            bytes: [0u8; BYTES],
            acc: 0,
            pending: 0,
            bits: 0,
            nbytes: 0,
            base: DOT * SYMBOLS * 3,
        }
    }

    /// Appends the code of symbol `s` in the current context; false (and
    /// nothing appended) when no listed name has that pair of characters.
    #[inline(always)]
    fn push(&mut self, codes: &[u8], s: u8) -> bool {
        let at = self.base + usize::from(s) * 3;
        let e = match codes.get(at..at + 4) {
            Some(e) => u32::from_le_bytes([e[0], e[1], e[2], e[3]]),
            None => 0,
        };
        let len = e & 0xff;
        if len.wrapping_sub(1) >= MAX_NAME_CODE {
            return false;
        }
        let code = u64::from(e >> 8) & 0xffff;
        self.acc = (self.acc << len) | (code & ((1 << len) - 1));
        self.pending += len;
        self.bits += u64::from(len);
        if self.pending >= 32 {
            self.pending -= 32;
            if let Some(q) = self.bytes.get_mut(self.nbytes..self.nbytes + 4) {
                q.copy_from_slice(&((self.acc >> self.pending) as u32).to_be_bytes());
            }
            self.nbytes += 4;
        }
        self.base = usize::from(s) * SYMBOLS * 3;
        true
    }

    /// Writes the last partial word, left-aligned.
    #[inline(always)]
    fn flush(&mut self) {
        if self.pending > 0 {
            let word = ((self.acc << (32 - self.pending)) & 0xffff_ffff) as u32;
            if let Some(q) = self.bytes.get_mut(self.nbytes..self.nbytes + 4) {
                q.copy_from_slice(&word.to_be_bytes());
            }
        }
    }
}

/// An encoded query and the label suffixes a record could hold.
struct Query<const BYTES: usize, const LABELS: usize> {
    enc: Encoder<BYTES>,
    /// Label suffixes, shortest first: (bits, start byte).
    suffixes: [(u16, u8); LABELS],
    count: usize,
}

impl<const BYTES: usize, const LABELS: usize> Query<BYTES, LABELS> {
    /// Encodes `rest` (the host without its TLD) from right to left, noting
    /// each label suffix that a record could hold. `None` for a malformed
    /// host (an empty label, or one over 63 bytes). With `encoding` false
    /// (a TLD without buckets) the pass only checks the host.
    #[inline(always)]
    fn encode(codes: &[u8], l: &Layout, rest: &[u8], mut encoding: bool) -> Option<Self> {
        let limit = l.max_labels.min(LABELS - 1);
        let mut q = Query {
            enc: Encoder::new(),
            suffixes: [(0u16, 0u8); LABELS],
            count: 0,
        };
        // Whether the whole of `rest` is still a candidate.
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
                    if q.count >= limit || q.enc.bits > l.max_record_bits {
                        // No record has more labels or bits: longer
                        // suffixes cannot match.
                        encoding = false;
                        whole = false;
                    } else {
                        q.suffixes[q.count] = (q.enc.bits as u16, (i + 1) as u8);
                        q.count += 1;
                    }
                }
            } else {
                label_len += 1;
                if label_len > 63 {
                    return None;
                }
            }
            // A byte no listed name has (canonical hosts may hold `_` and
            // other URL code points), or a pair of characters that no listed
            // name has: this label and the suffixes that contain it cannot
            // match, its superdomains still can.
            if encoding && (s == NO_SYMBOL || !q.enc.push(codes, s)) {
                encoding = false;
                whole = false;
            }
        }
        if label_len == 0 {
            return None; // the host starts with a dot
        }
        q.enc.flush();
        if whole && q.count < limit && q.enc.bits <= l.max_record_bits {
            q.suffixes[q.count] = (q.enc.bits as u16, 0);
            q.count += 1;
        }
        Some(q)
    }
}

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
