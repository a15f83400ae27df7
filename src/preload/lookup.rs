//! Looking a host up in place, without decoding the table.
//!
//! One right-to-left pass over the host, eight bytes at a time, finds its
//! dots and checks its labels; the TLD (after the last dot) is found in
//! the list's [`TldIndex`]. Each label suffix that a record could hold is
//! hashed as raw bytes, eight at a time from the right ([`SuffixHasher`]).
//! A suffix's bucket comes from the high bits of its hash. A bucket starts
//! with the fingerprints of its records (the low bits of their hashes,
//! ascending, at a fixed width), so a probe reads them until it reaches
//! the query's, and only a record with that fingerprint is decoded and
//! compared in full: the query suffix is coded with the name code and
//! compared bit for bit. Answers are exact: the code is prefix-free in
//! every context, so equal bits mean equal names.

use super::code::{
    fingerprint, partial_word, read_bits, record_head, reduce, word_ending_at, CodeTable,
    StepTable, SuffixHasher, DOT, FINGERPRINT_BITS, LEN_TABLE_LEN, SYMBOL_OF,
};
use super::format::{
    bucket_range_in, BucketHead, Layout, MAX_HOST_LEN, TLD_INCLUDE_SUBDOMAINS, TLD_IS_ENTRY,
};
use super::tld_index::{key_of, TldIndex, TldInfo, MAX_SHORT};
use crate::swar::{at_least_low, eq_bytes};

/// A listed name that matched: the suffix of the host from byte `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Where the matching suffix starts in the host (0: the host itself).
    pub(crate) start: usize,
    /// Whether that name has include_subdomains.
    pub(crate) include_subdomains: bool,
}

/// What a lookup reads besides the table's bytes: its layout and what was
/// unpacked from it at load.
pub(crate) struct Parts<'a> {
    pub(crate) layout: &'a Layout,
    pub(crate) codes: &'a CodeTable,
    pub(crate) steps: &'a StepTable,
    pub(crate) tlds: &'a TldIndex,
}

/// Label suffixes probed by the fast path: tables whose names (without
/// TLD) have fewer labels than this; others take the general path, sized
/// for the most labels a host can have.
const SMALL: usize = 8;
const LARGE: usize = MAX_HOST_LEN / 2 + 1;

/// The longest label (RFC 1035).
const MAX_LABEL: usize = 63;

/// See [`super::PreloadList::lookup`]. `dots`, when given, is where the
/// dots of `host` are (bit i for byte i): the host is then known to be
/// canonical and at most 64 bytes long, and is not scanned again.
pub(crate) fn lookup(b: &[u8], p: &Parts<'_>, host: &str, dots: Option<u64>) -> Option<Hit> {
    if p.layout.max_labels < SMALL {
        lookup_in::<SMALL>(b, p, host, dots)
    } else {
        lookup_in::<LARGE>(b, p, host, dots)
    }
}

/// Probes the host's label suffixes longest first (a congruent match, then
/// each superdomain, nearest first), then the TLD itself.
fn lookup_in<const N: usize>(
    b: &[u8],
    p: &Parts<'_>,
    host: &str,
    dots: Option<u64>,
) -> Option<Hit> {
    let l = p.layout;
    let hb = host.as_bytes();
    // Filled in place: returned by value, the arrays would be copied.
    let mut q = Suffixes::<N>::new();
    let (tld_start, tld_key) = match dots {
        Some(dots) => q.walk_dots(hb, dots, l.max_labels)?,
        None => q.scan(hb, l.max_labels)?,
    };
    let tld = p.tlds.find(b, l, &hb[tld_start..], tld_key)?;
    if tld.bucket_count > 0 && q.count > 0 {
        let v = View::new(b, l, p.codes, p.steps)?;
        // The TLD's dot ends the rest of the name.
        let rest = &hb[..tld_start - 1];
        for i in (0..q.count).rev() {
            let start = q.starts[i];
            let Some(range) = v.bucket_range(l, &tld, q.hashes[i]) else {
                continue;
            };
            if let Some(isd) = v.probe(l, range, fingerprint(q.hashes[i]), &rest[start..]) {
                if start == 0 || isd {
                    return Some(Hit {
                        start,
                        include_subdomains: isd,
                    });
                }
            }
        }
    }
    // No record matched: the TLD itself, if it is listed.
    let isd = tld.flags & TLD_INCLUDE_SUBDOMAINS != 0;
    (tld.flags & TLD_IS_ENTRY != 0 && (tld_start == 0 || isd)).then_some(Hit {
        start: tld_start,
        include_subdomains: isd,
    })
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

    /// One right-to-left pass over `host`, a word at a time: checks every
    /// label (1..=63 bytes), notes where the TLD starts and where each
    /// suffix of the rest of at most `max_labels` labels starts, then
    /// hashes those suffixes. Returns where the TLD starts, and its
    /// [`short_key`](super::tld_index::short_key) when it has one, taken
    /// from the last word read. `None` for a host no table can list:
    /// empty, too long, or with an empty or over-long label.
    #[inline(always)]
    fn scan(&mut self, host: &[u8], max_labels: usize) -> Option<(usize, Option<u64>)> {
        let n = host.len();
        if n == 0 || n > MAX_HOST_LEN {
            return None;
        }
        let limit = max_labels.min(N);
        let mut tld_start = None;
        // Where the label being read ends.
        let mut label_end = n;
        let mut base = n;
        // The host's last word (up to eight bytes) and where it starts.
        let mut last = (0, n);
        while base > 0 {
            let (word, from) = match base.checked_sub(8) {
                Some(from) => (word_ending_at(host, base), from),
                // The first bytes of the host; zero bytes are not dots.
                None => (partial_word(host, 0, base), 0),
            };
            if base == n {
                last = (word, from);
            }
            let mut dots = eq_bytes(word, b'.');
            while dots != 0 {
                let top = 63 - dots.leading_zeros() as usize;
                dots ^= 1 << top;
                let dot = from + top / 8;
                let len = label_end - dot - 1;
                if len == 0 || len > MAX_LABEL {
                    return None;
                }
                if tld_start.is_none() {
                    tld_start = Some(dot + 1);
                } else if self.count < limit {
                    self.starts[self.count] = dot + 1;
                    self.count += 1;
                }
                label_end = dot;
            }
            base = from;
        }
        if label_end == 0 || label_end > MAX_LABEL {
            return None;
        }
        Some(self.finish(host, tld_start.unwrap_or(0), last, limit))
    }

    /// [`Suffixes::scan`] for a canonical host of at most 64 bytes whose
    /// dots are the set bits of `dots` (bit i for byte i): its labels are
    /// known to be fine, so only the dots are walked, without reading the
    /// host.
    #[inline(always)]
    fn walk_dots(
        &mut self,
        host: &[u8],
        dots: u64,
        max_labels: usize,
    ) -> Option<(usize, Option<u64>)> {
        let n = host.len();
        if n == 0 || n > 64 || (n < 64 && dots >> n != 0) {
            return None;
        }
        let limit = max_labels.min(N);
        // The highest dot starts the TLD; the others, from the top, each
        // start one more suffix.
        let tld_start = 64 - dots.leading_zeros() as usize;
        let mut rest = dots & !(1u64 << tld_start.saturating_sub(1));
        while rest != 0 && self.count < limit {
            let top = 63 - rest.leading_zeros() as usize;
            rest ^= 1 << top;
            self.starts[self.count] = top + 1;
            self.count += 1;
        }
        let last = match n.checked_sub(8) {
            Some(from) => (word_ending_at(host, n), from),
            None => (partial_word(host, 0, n), 0),
        };
        Some(self.finish(host, tld_start, last, limit))
    }

    /// What [`Suffixes::scan`] and [`Suffixes::walk_dots`] share once the
    /// dots are found: the TLD's key from `last` (the host's last word and
    /// where it starts), the whole name below the TLD as the last suffix,
    /// and every suffix's hash.
    #[inline(always)]
    fn finish(
        &mut self,
        host: &[u8],
        tld_start: usize,
        last: (u64, usize),
        limit: usize,
    ) -> (usize, Option<u64>) {
        // A short TLD lies in the last word, above its start.
        let tld_len = host.len() - tld_start;
        let key = if tld_len <= MAX_SHORT {
            key_of(last.0 >> (8 * (tld_start - last.1)), tld_len)
        } else {
            None
        };
        if tld_start == 0 {
            return (0, key);
        }
        if self.count < limit {
            self.starts[self.count] = 0;
            self.count += 1;
        }
        let mut hasher = SuffixHasher::new(host, tld_start - 1);
        for (hash, &start) in self.hashes.iter_mut().zip(&self.starts[..self.count]) {
            *hash = hasher.hash_from(start);
        }
        (tld_start, key)
    }
}

/// The sections a lookup reads, sliced once per lookup.
struct View<'a> {
    codes: &'a CodeTable,
    steps: &'a StepTable,
    len_table: &'a [u8],
    supers: &'a [u8],
    offsets: &'a [u8],
    records: &'a [u8],
}

impl<'a> View<'a> {
    fn new(
        b: &'a [u8],
        l: &Layout,
        codes: &'a CodeTable,
        steps: &'a StepTable,
    ) -> Option<View<'a>> {
        Some(View {
            codes,
            steps,
            len_table: b.get(l.len_table..l.len_table + LEN_TABLE_LEN)?,
            supers: b.get(l.supers..l.offsets)?,
            offsets: b.get(l.offsets..l.offsets + l.offsets_len)?,
            records: b.get(l.records..l.records + l.records_len)?,
        })
    }

    /// The bit range of the bucket of TLD `tld` that a name with this hash
    /// would be in.
    #[inline(always)]
    fn bucket_range(&self, l: &Layout, tld: &TldInfo, hash: u64) -> Option<(u64, u64)> {
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
            p = match self.steps.end_of(rec, p) {
                Some(end) => end,
                None => record_head(self.len_table, rec, p)?.end(),
            };
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
            let s = usize::from(SYMBOL_OF[usize::from(c)]);
            // 0 for a pair that never occurs, or a byte outside the
            // alphabet (NO_SYMBOL).
            let e = self.codes.get(ctx, s);
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
            ctx = s;
        }
        done + u64::from(pending) == bits
            && read_bits(rec, at + done, pending) == acc & ((1u64 << pending) - 1)
    }
}

/// The index of the first fingerprint of the bucket equal to `fp`, if any:
/// they are ascending, and compared eight at a time without a branch per
/// fingerprint (where the query's falls among them is unpredictable).
#[inline(always)]
fn first_at_or_above(rec: &[u8], head: &BucketHead, fp: u8) -> Option<u64> {
    const FP: u64 = FINGERPRINT_BITS as u64;
    const _: () = assert!(
        FINGERPRINT_BITS == 7,
        "the lanes below hold 7-bit fingerprints"
    );
    let mut i = 0;
    while i < head.count {
        let k = (head.count - i).min(8);
        // The k fingerprints in the top of 56 bits, first one highest; the
        // missing ones after them all ones (127), so they are never below.
        let fields = read_bits(rec, head.fingerprints_at + i * FP, (k * FP) as u32)
            << (56 - k * FP)
            | ((1 << (56 - k * FP)) - 1);
        let lanes = spread_sevens(fields);
        // The high bit of each lane at or above `fp`: ascending, so these
        // are the last lanes, and the first of them is the first field
        // (lane 7 holds field 0) not below `fp`.
        let at_or_above = at_least_low(lanes, fp);
        let j = u64::from(at_or_above.leading_zeros() / 8);
        if j < k {
            let f = (lanes >> (8 * (7 - j))) & 0x7f;
            return (f == u64::from(fp)).then_some(i + j);
        }
        i += k;
    }
    None
}

/// Eight 7-bit fields (the low 56 bits, field 0 highest) spread into the
/// eight bytes of a word (field 0 in the top byte), high bits clear.
#[inline(always)]
fn spread_sevens(x: u64) -> u64 {
    let x = (x & 0x0000_0000_0fff_ffff) | (x & 0x00ff_ffff_f000_0000) << 4;
    let x = (x & 0x0000_3fff_0000_3fff) | (x & 0x0fff_c000_0fff_c000) << 2;
    (x & 0x007f_007f_007f_007f) | (x & 0x3f80_3f80_3f80_3f80) << 1
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

    /// The TLD key taken from the scan's last word is the TLD's own, for
    /// hosts shorter and longer than a word and TLDs of every length.
    #[test]
    fn the_scan_keys_the_tld_it_found() {
        use super::super::tld_index::short_key;
        for tld in ["a", "dev", "com", "abcdefg", "abcdefgh", "photography"] {
            for rest in ["", "x", "ab.c", "example", "a.b.c.d.e.f.g.h.example"] {
                let host = if rest.is_empty() {
                    tld.to_owned()
                } else {
                    format!("{rest}.{tld}")
                };
                let mut q = Suffixes::<SMALL>::new();
                let (start, key) = q.scan(host.as_bytes(), 3).unwrap();
                assert_eq!(&host[start..], tld);
                assert_eq!(key, short_key(tld.as_bytes()), "{host}");
            }
        }
    }

    /// The dots a canonical name's check found give the suffixes, hashes
    /// and TLD key that the scan finds, for every listed name, a child of
    /// each, and names of one to eight labels up to 64 bytes; and the
    /// lookup answers the same.
    #[test]
    fn suffixes_from_dots_agree_with_the_scan() {
        let list = PreloadList::builtin();
        let mut names: Vec<String> = list.iter().map(|(n, _)| n).collect();
        let children: Vec<String> = names.iter().map(|n| format!("a-b.{n}")).collect();
        names.extend(children);
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..20_000 {
            crate::xorshift(&mut seed);
            let labels = 1 + (seed % 8) as usize;
            let name: Vec<String> = (0..labels)
                .map(|i| "xyz".repeat(1 + (seed >> (8 * i)) as usize % 5))
                .collect();
            names.push(name.join("."));
        }
        let (b, l) = (list.as_bytes(), &list.layout);
        let mut checked = 0;
        for name in names.iter().filter(|n| n.len() <= 64) {
            let dots = name
                .bytes()
                .enumerate()
                .filter(|&(_, c)| c == b'.')
                .fold(0u64, |m, (i, _)| m | 1 << i);
            for limit in [1, 3, l.max_labels] {
                let (mut a, mut z) = (Suffixes::<SMALL>::new(), Suffixes::<SMALL>::new());
                let scanned = a.scan(name.as_bytes(), limit);
                assert_eq!(scanned, z.walk_dots(name.as_bytes(), dots, limit), "{name}");
                assert_eq!(a.starts[..a.count], z.starts[..z.count], "{name}");
                assert_eq!(a.hashes[..a.count], z.hashes[..z.count], "{name}");
            }
            let parts = Parts {
                layout: l,
                codes: &list.codes,
                steps: &list.steps,
                tlds: &list.tlds,
            };
            assert_eq!(
                lookup(b, &parts, name, Some(dots)),
                lookup(b, &parts, name, None),
                "{name}"
            );
            checked += 1;
        }
        assert!(checked > 180_000, "{checked}");
    }

    /// A mask that does not fit the name finds nothing, and panics nowhere.
    #[test]
    fn dots_beyond_the_name_are_refused() {
        let mut q = Suffixes::<SMALL>::new();
        assert_eq!(q.walk_dots(b"a.b", 1 << 3, 3), None);
        assert_eq!(q.walk_dots(b"", 0, 3), None);
        assert_eq!(q.walk_dots(&[b'a'; 65], 0, 3), None);
    }

    /// For every value of the peeked bits, the unpacked step ends a record
    /// where its decoded header says it ends, and leaves escapes and bad
    /// codes to the header.
    #[test]
    fn steps_agree_with_record_heads() {
        let list = PreloadList::builtin();
        let (b, l) = (list.as_bytes(), &list.layout);
        let len_table = &b[l.len_table..l.len_table + LEN_TABLE_LEN];
        let (mut stepped, mut left) = (0, 0);
        for peek in 0u64..1 << 10 {
            let bytes = (peek << 54).to_be_bytes();
            let head = record_head(len_table, &bytes, 0);
            match list.steps.end_of(&bytes, 0) {
                Some(end) => {
                    assert_eq!(head.map(|h| h.end()), Some(end), "{peek:010b}");
                    stepped += 1;
                }
                None => left += 1,
            }
        }
        assert!(stepped > 900 && left > 0, "{stepped} {left}");
    }

    /// The bits `prefix`, then each fingerprint in 7 bits, then `fill`
    /// bits to a whole byte and at least 64 bits, as bytes.
    fn packed_fingerprints(prefix: &str, fps: &[u8], fill: char) -> Vec<u8> {
        let mut bits = prefix.to_owned();
        for f in fps {
            bits.push_str(&format!("{f:07b}"));
        }
        while !bits.len().is_multiple_of(8) || bits.len() < 64 {
            bits.push(fill);
        }
        bits.as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect()
    }

    /// Buckets of 1 to 16 ascending fingerprints (repeats, 0 and 127
    /// included) at every bit offset: the lanes find what a walk finds.
    #[test]
    fn fingerprint_lanes_agree_with_a_walk() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            crate::xorshift(&mut seed);
            seed
        };
        for round in 0..4000u64 {
            let count = 1 + round % 16;
            let mut fps: Vec<u8> = (0..count).map(|_| (next() % 128) as u8).collect();
            if round % 5 == 0 {
                fps.iter_mut().for_each(|f| *f = 127 - *f % 3);
            }
            fps.sort_unstable();
            let offset = next() % 8;
            let rec = packed_fingerprints(&"0".repeat(offset as usize), &fps, '1');
            let head = BucketHead {
                count,
                fingerprints_at: offset,
                records_at: offset + count * 7,
            };
            for fp in 0..128u8 {
                let walk = fps.iter().position(|&f| f >= fp);
                let want = walk.filter(|&i| fps[i] == fp).map(|i| i as u64);
                assert_eq!(first_at_or_above(&rec, &head, fp), want, "{fps:?} {fp}");
            }
        }
    }

    #[test]
    fn fingerprints_are_read_eight_at_a_time_across_words() {
        // A bucket head of 20 ascending fingerprints, 7 bits each, after a
        // 5-bit count (as `BucketHead::read` places them).
        let fps: Vec<u8> = (0..20).map(|i| i * 6 + 1).collect();
        let rec = packed_fingerprints("10100", &fps, '0');
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
