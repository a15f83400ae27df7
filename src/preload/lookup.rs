//! Looking a host up in place, without decoding the table.
//!
//! One pass over the host (without its TLD) checks its labels and hashes
//! each label suffix that a record could hold, as raw bytes, eight at a
//! time from the right ([`SuffixHasher`]). A suffix's bucket comes from the
//! high bits of its hash. A bucket starts with the fingerprints of its
//! records (the low bits of their hashes, ascending, at a fixed width), so a
//! probe reads them until it reaches the query's, and only a record with
//! that fingerprint is decoded and compared in full: the query suffix is
//! coded with the name code and compared bit for bit. Answers are exact: the code is prefix-free in every context, so
//! equal bits mean equal names.
//!
//! Every bucket a host needs is located, and its first bytes read, before
//! any is walked, so that their cache misses overlap instead of following
//! one another.

use super::code::{
    fingerprint, read_bits, record_head, reduce, CodeTable, SuffixHasher, DOT, FINGERPRINT_BITS,
    LEN_TABLE_LEN, NO_SYMBOL, SYMBOL_OF,
};
use super::format::{
    bucket_range_in, find_tld, BucketHead, Layout, Tld, MAX_HOST_LEN, TLD_INCLUDE_SUBDOMAINS,
    TLD_IS_ENTRY,
};

/// A listed name that matched: the suffix of the host from byte `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Where the matching suffix starts in the host (0: the host itself).
    pub(crate) start: usize,
    /// Whether that name has include_subdomains.
    pub(crate) include_subdomains: bool,
}

/// Label suffixes probed by the fast path: tables whose names (without
/// TLD) have fewer labels than this; others take the general path, sized
/// for the most labels a host can have.
const SMALL: usize = 8;
const LARGE: usize = MAX_HOST_LEN / 2 + 1;

/// See [`super::PreloadList::lookup`].
pub(crate) fn lookup(b: &[u8], l: &Layout, codes: &CodeTable, host: &str) -> Option<Hit> {
    if l.max_labels < SMALL {
        lookup_in::<SMALL>(b, l, codes, host)
    } else {
        lookup_in::<LARGE>(b, l, codes, host)
    }
}

/// Probes the host's label suffixes longest first (a congruent match, then
/// each superdomain, nearest first), then the TLD itself.
fn lookup_in<const N: usize>(b: &[u8], l: &Layout, codes: &CodeTable, host: &str) -> Option<Hit> {
    let hb = host.as_bytes();
    let (rest_len, tld_name) = split_tld(hb)?;
    let tld = find_tld(b, l, tld_name)?;
    if rest_len > 0 {
        let rest = &hb[..rest_len];
        // Filled in place: returned by value, the arrays would be copied.
        let mut q = Suffixes::<N>::new();
        if !q.fill(hb, rest_len, l.max_labels) {
            return None;
        }
        if tld.bucket_count > 0 && q.count > 0 {
            let v = View::new(b, l, codes)?;
            let mut ranges = [(0u64, 0u64); N];
            let mut touched = 0u64;
            for (range, &hash) in ranges.iter_mut().zip(&q.hashes[..q.count]) {
                *range = v.bucket_range(l, &tld, hash).unwrap_or((0, 0));
                // Read now, used later: the loads of all buckets are in
                // flight together.
                touched ^= read_bits(v.records, range.0, 8);
            }
            std::hint::black_box(touched);
            for i in (0..q.count).rev() {
                let start = q.starts[i];
                let found = v.probe(l, ranges[i], fingerprint(q.hashes[i]), &rest[start..]);
                if let Some(isd) = found {
                    if start == 0 || isd {
                        return Some(Hit {
                            start,
                            include_subdomains: isd,
                        });
                    }
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

/// The label suffixes of a host (without its TLD) that a record could
/// hold, shortest first, with their hashes.
struct Suffixes<const N: usize> {
    starts: [usize; N],
    hashes: [u64; N],
    count: usize,
}

impl<const N: usize> Suffixes<N> {
    #[inline(always)]
    fn new() -> Self {
        Suffixes {
            starts: [0; N],
            hashes: [0; N],
            count: 0,
        }
    }

    /// One right-to-left pass over `rest` (the first `rest_len` bytes of
    /// `host`): checks every label and hashes
    /// the suffixes of at most `max_labels` labels. False for a malformed
    /// host (an empty label, or one over 63 bytes).
    #[inline(always)]
    fn fill(&mut self, host: &[u8], rest_len: usize, max_labels: usize) -> bool {
        let limit = max_labels.min(N);
        let q = self;
        let rest = &host[..rest_len.min(host.len())];
        let mut hasher = SuffixHasher::new(host, rest.len());
        let mut label_len = 0usize;
        for (i, &c) in rest.iter().enumerate().rev() {
            if c != b'.' {
                label_len += 1;
                continue;
            }
            if label_len == 0 || label_len > 63 {
                return false;
            }
            label_len = 0;
            if q.count < limit {
                q.starts[q.count] = i + 1;
                q.hashes[q.count] = hasher.hash_from(i + 1);
                q.count += 1;
            }
        }
        if label_len == 0 || label_len > 63 {
            return false;
        }
        if q.count < limit {
            q.starts[q.count] = 0;
            q.hashes[q.count] = hasher.hash_from(0);
            q.count += 1;
        }
        true
    }
}

/// The sections a lookup reads, sliced once per lookup.
struct View<'a> {
    codes: &'a CodeTable,
    len_table: &'a [u8],
    supers: &'a [u8],
    offsets: &'a [u8],
    records: &'a [u8],
}

impl<'a> View<'a> {
    fn new(b: &'a [u8], l: &Layout, codes: &'a CodeTable) -> Option<View<'a>> {
        Some(View {
            codes,
            len_table: b.get(l.len_table..l.len_table + LEN_TABLE_LEN)?,
            supers: b.get(l.supers..l.offsets)?,
            offsets: b.get(l.offsets..l.offsets + l.offsets_len)?,
            records: b.get(l.records..l.records + l.records_len)?,
        })
    }

    /// The bit range of the bucket of TLD `tld` that a name with this hash
    /// would be in.
    #[inline(always)]
    fn bucket_range(&self, l: &Layout, tld: &Tld<'_>, hash: u64) -> Option<(u64, u64)> {
        let bucket = tld.first_bucket as usize + reduce(hash, tld.bucket_count) as usize;
        bucket_range_in(self.supers, self.offsets, l, bucket)
    }

    /// `Some(isd)` if the bucket at `range` holds `name`, whose hash has
    /// fingerprint `fp`. The fingerprints are read first, and a record is
    /// decoded only when its fingerprint is the query's.
    #[inline(always)]
    fn probe(&self, l: &Layout, range: (u64, u64), fp: u8, name: &[u8]) -> Option<bool> {
        let (start, end) = range;
        if start >= end {
            return None;
        }
        let rec = self.records;
        let head = BucketHead::read(rec, l, start);
        let mut i = first_at_or_above(rec, &head, fp)?;
        let mut p = head.records_at;
        for _ in 0..i {
            p = record_head(self.len_table, rec, p)?.end();
        }
        while i < head.count && p < end && head.fingerprint(rec, i) == fp {
            let r = record_head(self.len_table, rec, p)?;
            if self.holds(r.name_at, r.bits, name) {
                return Some(r.isd);
            }
            p = r.end();
            i += 1;
        }
        None
    }

    /// Whether the `bits` bits at `at` are the code of `name`: the name is
    /// coded from right to left and compared 32 bits at a time.
    fn holds(&self, at: u64, bits: u64, name: &[u8]) -> bool {
        let rec = self.records;
        let (mut acc, mut pending, mut done) = (0u64, 0u32, 0u64);
        let mut ctx = DOT;
        for &c in name.iter().rev() {
            let s = SYMBOL_OF[usize::from(c)];
            if s == NO_SYMBOL {
                return false;
            }
            let e = self.codes.get(ctx, usize::from(s));
            let len = e >> 16;
            if len == 0 {
                return false;
            }
            acc = (acc << len) | u64::from(e & 0xffff);
            pending += len;
            if pending >= 32 {
                pending -= 32;
                if done + 32 > bits
                    || read_bits(rec, at + done, 32) != (acc >> pending) & 0xffff_ffff
                {
                    return false;
                }
                done += 32;
            }
            ctx = usize::from(s);
        }
        done + u64::from(pending) == bits
            && read_bits(rec, at + done, pending) == acc & ((1u64 << pending) - 1)
    }
}

/// The index of the first fingerprint of the bucket equal to `fp`, if any:
/// they are ascending, and read up to eight at a time.
#[inline(always)]
fn first_at_or_above(rec: &[u8], head: &BucketHead, fp: u8) -> Option<u64> {
    const FP: u64 = FINGERPRINT_BITS as u64;
    let mut i = 0;
    while i < head.count {
        let k = (head.count - i).min(8);
        let word = read_bits(rec, head.fingerprints_at + i * FP, (k * FP) as u32);
        for j in 0..k {
            let f = ((word >> (FP * (k - 1 - j))) & ((1 << FP) - 1)) as u8;
            if f >= fp {
                return (f == fp).then_some(i + j);
            }
        }
        i += k;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::iter::{bucket_records, Decoder};
    use super::super::PreloadList;
    use super::*;

    /// Buckets where two records share a fingerprint: the probe must walk
    /// past the first to find the second.
    #[test]
    fn records_that_share_a_fingerprint_are_each_found() {
        let list = PreloadList::builtin();
        let (b, l) = (list.as_bytes(), &list.layout);
        let decoder = Decoder::new(&b[l.name_codes..l.len_table]);
        let rec = &b[l.records..l.records + l.records_len];
        let mut shared = 0;
        for tld in super::super::iter::tlds(b, l) {
            let tld_name = std::str::from_utf8(tld.name).unwrap();
            let first = tld.first_bucket as usize;
            for bucket in first..first + tld.bucket_count as usize {
                let heads: Vec<_> = bucket_records(b, l, bucket).map(Option::unwrap).collect();
                for pair in heads.windows(2).filter(|p| p[0].0 == p[1].0) {
                    for (_, r) in pair {
                        let name = decoder.decode(rec, r.name_at, r.bits).unwrap();
                        let host = format!("{}.{tld_name}", String::from_utf8(name).unwrap());
                        let m = list
                            .lookup(&host)
                            .expect("a record after an equal fingerprint");
                        assert_eq!((m.name, m.include_subdomains), (host.as_str(), r.isd));
                    }
                    shared += 1;
                }
            }
        }
        // About one bucket in twenty has such a pair with 7-bit fingerprints.
        assert!(shared > 100, "{shared} pairs");
    }

    #[test]
    fn fingerprints_are_read_eight_at_a_time_across_words() {
        // A bucket head of 20 ascending fingerprints, 7 bits each, after a
        // 5-bit count (as `BucketHead::read` places them).
        let fps: Vec<u8> = (0..20).map(|i| i * 6 + 1).collect();
        let mut bits = String::from("10100");
        for f in &fps {
            bits.push_str(&format!("{f:07b}"));
        }
        while bits.len() % 8 != 0 {
            bits.push('0');
        }
        let rec: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect();
        let head = BucketHead {
            count: 20,
            fingerprints_at: 5,
            records_at: 5 + 20 * 7,
        };
        for (i, &f) in fps.iter().enumerate() {
            assert_eq!(head.fingerprint(&rec, i as u64), f);
            assert_eq!(first_at_or_above(&rec, &head, f), Some(i as u64));
            assert_eq!(first_at_or_above(&rec, &head, f + 1), None);
        }
        assert_eq!(first_at_or_above(&rec, &head, 0), None);
        assert_eq!(first_at_or_above(&rec, &head, 127), None);
    }
}
