//! The table's codes: the name alphabet and its per-context Huffman code,
//! the length code of record headers, the hashes that place names in
//! buckets and TLDs in slots, and reading bits.
//!
//! A name is coded from right to left, each character with the Huffman
//! code of its context (the character to its right; the start context is
//! `.`), so that the code of every label suffix is a prefix of the code of
//! the whole name.

/// The name alphabet: `a-z`, `0-9`, `-`, `.`.
pub(crate) const SYMBOLS: usize = 38;
/// The symbol of `.`, also the context at the start of a name.
pub(crate) const DOT: usize = 37;
/// The longest name code.
pub(crate) const MAX_NAME_CODE: u32 = 16;
/// Bytes of the name code table: 38 contexts × 38 symbols × (length u8,
/// code u16).
pub(crate) const NAME_CODE_LEN: usize = SYMBOLS * SYMBOLS * 3;
/// Bits peeked to decode a length code (its longest code).
pub(crate) const LEN_PEEK: u32 = 10;
/// Bytes of the length code's decode table: 1024 × u16, each
/// `(symbol << 4) | code length`.
pub(crate) const LEN_TABLE_LEN: usize = (1 << LEN_PEEK) * 2;
/// The length-code symbol that escapes to a raw length.
pub(crate) const ESC: u16 = 0xfff;
/// Raw bits after an escape: 13 of length, 1 flag.
pub(crate) const ESC_BITS: u32 = 14;

/// Marks a byte outside the alphabet in [`SYMBOL_OF`].
pub(crate) const NO_SYMBOL: u8 = 0xff;
/// Byte → symbol, `NO_SYMBOL` outside the alphabet.
pub(crate) static SYMBOL_OF: [u8; 256] = {
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

/// The symbol of a name character, or `None` outside the alphabet.
#[inline]
pub(crate) fn symbol(c: u8) -> Option<usize> {
    match SYMBOL_OF[usize::from(c)] {
        NO_SYMBOL => None,
        s => Some(usize::from(s)),
    }
}

/// The character of a symbol.
pub(crate) fn character(s: usize) -> u8 {
    const ALPHABET: &[u8; SYMBOLS] = b"abcdefghijklmnopqrstuvwxyz0123456789-.";
    ALPHABET.get(s).copied().unwrap_or(b'?')
}

/// Maps a hash into `0..n` without division.
#[inline]
pub(crate) fn reduce(h: u64, n: u32) -> u32 {
    (((h >> 32) * u64::from(n)) >> 32) as u32
}

/// The seed of the name hash.
const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;
/// The multiplier that folds each 8-byte word into the state.
const WORD_K: u64 = 0x9e37_79b9_7f4a_7c15;
/// The multiplier of the last step, which adds the partial word and the
/// length.
const FINAL_K: u64 = 0xd6e8_feb8_6659_fd93;
/// Bits of a record's fingerprint: the low bits of its name hash.
pub(crate) const FINGERPRINT_BITS: u32 = 7;

/// Multiplies into 128 bits and folds the halves together.
#[inline(always)]
fn fold(a: u64, k: u64) -> u64 {
    let p = u128::from(a) * u128::from(k);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The little-endian word of the 8 bytes that end at `end` (callers keep
/// `end >= 8`; otherwise 0).
#[inline(always)]
pub(crate) fn word_ending_at(bytes: &[u8], end: usize) -> u64 {
    match end.checked_sub(8).and_then(|s| bytes.get(s..end)) {
        Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        None => 0,
    }
}

/// The little-endian word of the `r` (< 8) bytes from `start` (zero past
/// them, and zero for bytes outside `bytes`): one 8-byte load when the
/// slice goes on that far, otherwise two overlapping loads of 4 or three
/// single bytes (a copy of a variable length would call memcpy).
#[inline(always)]
pub(crate) fn partial_word(bytes: &[u8], start: usize, r: usize) -> u64 {
    let mask = (1u64 << (8 * r)) - 1;
    if let Some(s) = bytes.get(start..start + 8) {
        return u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]) & mask;
    }
    let Some(s) = bytes.get(start..start + r) else {
        return 0;
    };
    let r = s.len();
    if r >= 4 {
        let lo = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let hi = u32::from_le_bytes([s[r - 4], s[r - 3], s[r - 2], s[r - 1]]);
        u64::from(lo) | u64::from(hi) << (8 * (r - 4))
    } else if r > 0 {
        // Byte 0, byte r/2 and byte r-1 cover 1, 2 or 3 bytes.
        u64::from(s[0])
            | u64::from(s[r / 2]) << (8 * (r / 2))
            | u64::from(s[r - 1]) << (8 * (r - 1))
    } else {
        0
    }
}

/// The name hash over raw bytes, computed for every suffix of one name:
/// whole 8-byte words are folded in from the right, so the suffixes of a
/// host share the work of their common tail and each costs one more fold.
/// A lookup hashes the query's label suffixes as they are, without coding
/// them; the compiler and the full check hash whole names the same way.
pub(crate) struct SuffixHasher<'a> {
    /// The name, and possibly bytes after it (read, never hashed).
    bytes: &'a [u8],
    /// Where the name ends in `bytes`.
    end: usize,
    state: u64,
    /// Whole words folded into `state`, counted from the right.
    words: usize,
}

impl<'a> SuffixHasher<'a> {
    /// A hasher over the suffixes of the name `bytes[..end]`; the bytes
    /// after it (a lookup passes the whole host, TLD included) let the last
    /// partial word be read in one load.
    #[inline(always)]
    pub(crate) fn new(bytes: &'a [u8], end: usize) -> Self {
        SuffixHasher {
            bytes,
            end: end.min(bytes.len()),
            state: HASH_SEED,
            words: 0,
        }
    }

    /// The hash of `bytes[start..end]`. Cheapest when called with `start`
    /// decreasing; any order gives the same hashes.
    #[inline(always)]
    pub(crate) fn hash_from(&mut self, start: usize) -> u64 {
        let n = self.end;
        let len = n.saturating_sub(start);
        if self.words * 8 > len {
            self.state = HASH_SEED;
            self.words = 0;
        }
        while (self.words + 1) * 8 <= len {
            self.state = fold(
                self.state ^ word_ending_at(self.bytes, n - self.words * 8),
                WORD_K,
            );
            self.words += 1;
        }
        let part = match len - self.words * 8 {
            0 => 0,
            r => partial_word(self.bytes, n - self.words * 8 - r, r),
        };
        fold(self.state ^ part ^ ((len as u64) << 56), FINAL_K)
    }
}

/// The hash of a whole name (without its TLD): its bucket is
/// `reduce(hash, bucket count)` and its fingerprint [`fingerprint`].
pub(crate) fn name_hash(name: &[u8]) -> u64 {
    SuffixHasher::new(name, name.len()).hash_from(0)
}

/// A record's fingerprint: the low bits of its name hash, which the bucket
/// (chosen by the high bits) leaves independent.
#[inline(always)]
pub(crate) fn fingerprint(hash: u64) -> u8 {
    (hash & ((1 << FINGERPRINT_BITS) - 1)) as u8
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
    let byte = usize::try_from(pos >> 3).unwrap_or(usize::MAX);
    let shift = (pos & 7) as u32;
    let w = match buf.get(byte..byte.saturating_add(8)) {
        Some(s) => u64::from_be_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        // Near the end, a byte at a time (a copy of a variable length
        // would call memcpy on every read).
        None => {
            let tail = buf.get(byte..).unwrap_or(&[]);
            let w = tail.iter().fold(0u64, |w, &c| (w << 8) | u64::from(c));
            // Nothing left: a shift of 64, which reads as zero.
            w.checked_shl(8 * (8 - tail.len() as u32)).unwrap_or(0)
        }
    };
    // Two shifts, so that `n == 0` reads zero without a branch.
    ((w << shift) >> 1) >> (63 - n.min(57))
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

/// Rows and columns of [`CodeTable`]: one per symbol, and a last one of
/// zeros that every byte outside the alphabet falls into.
const PADDED: usize = SYMBOLS + 1;

/// The name code unpacked for lookups: `(length << 16) | code` for each
/// (context, symbol) pair, 0 for a pair that never occurs (or whose entry
/// is out of range: such an entry then matches nothing).
#[derive(Clone)]
pub(crate) struct CodeTable(Box<[u32; PADDED * PADDED]>);

impl CodeTable {
    /// Unpacks the name code table of a compiled table.
    pub(crate) fn new(codes: &[u8]) -> CodeTable {
        let mut t = Box::new([0u32; PADDED * PADDED]);
        for ctx in 0..SYMBOLS {
            for sym in 0..SYMBOLS {
                let (code, len) = name_code(codes, ctx, sym);
                if (1..=MAX_NAME_CODE).contains(&len) && code >> len == 0 {
                    t[ctx * PADDED + sym] = (len << 16) | code as u32;
                }
            }
        }
        CodeTable(t)
    }

    /// `(length << 16) | code` of `sym` after `ctx`; 0 if none, and for
    /// either outside the alphabet (such as [`NO_SYMBOL`]). The index is
    /// in bounds by construction, so there is no check to branch on.
    #[inline(always)]
    pub(crate) fn get(&self, ctx: usize, sym: usize) -> u32 {
        self.0[ctx.min(SYMBOLS) * PADDED + sym.min(SYMBOLS)]
    }
}

/// The length code unpacked for walking records: for each value of the
/// next [`LEN_PEEK`] bits, how far the record they start goes, or 0 when
/// they start an escape or no code at all (then [`record_head`] decides).
#[derive(Clone)]
pub(crate) struct StepTable(Box<[u16; 1 << LEN_PEEK]>);

impl StepTable {
    /// Unpacks the length code's decode table of a compiled table.
    pub(crate) fn new(len_table: &[u8]) -> StepTable {
        let mut t = Box::new([0u16; 1 << LEN_PEEK]);
        for (peek, step) in t.iter_mut().enumerate() {
            match len_entry(len_table, peek) {
                // The length is at most 2^11 − 1 bits, the code at most 10.
                Some((cl, sym)) if sym != ESC => *step = cl as u16 + (sym >> 1),
                _ => {}
            }
        }
        StepTable(t)
    }

    /// Where the record at bit `p` ends, if its length is not escaped.
    #[inline(always)]
    pub(crate) fn end_of(&self, rec: &[u8], p: u64) -> Option<u64> {
        let peek = read_bits(rec, p, LEN_PEEK) as usize;
        match self.0[peek & ((1 << LEN_PEEK) - 1)] {
            0 => None,
            step => Some(p + u64::from(step)),
        }
    }
}

/// A record's header, read in place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordHead {
    /// Bits of the coded name.
    pub(crate) bits: u64,
    /// Whether the name has include_subdomains.
    pub(crate) isd: bool,
    /// Where the name's bits start.
    pub(crate) name_at: u64,
}

impl RecordHead {
    /// Where the next record starts.
    #[inline(always)]
    pub(crate) fn end(&self) -> u64 {
        self.name_at + self.bits
    }
}

/// The length code's entry for the peeked bits `peek`: the code's length
/// (1..=[`LEN_PEEK`]) and its symbol; `None` when no code starts so.
#[inline(always)]
fn len_entry(len_table: &[u8], peek: usize) -> Option<(u32, u16)> {
    let e = len_table.get(peek * 2..peek * 2 + 2)?;
    let e = u16::from_le_bytes([e[0], e[1]]);
    let cl = u32::from(e & 15);
    (cl != 0 && cl <= LEN_PEEK).then_some((cl, e >> 4))
}

/// Reads the record header at bit `p`: a length-code symbol (`bits << 1 |
/// include_subdomains`, or an escape followed by 13 raw bits of length and
/// the flag). `None` on a corrupt code.
#[inline(always)]
pub(crate) fn record_head(len_table: &[u8], rec: &[u8], p: u64) -> Option<RecordHead> {
    let (cl, sym) = len_entry(len_table, read_bits(rec, p, LEN_PEEK) as usize)?;
    let mut p = p + u64::from(cl);
    let (bits, isd) = if sym == ESC {
        let v = read_bits(rec, p, ESC_BITS);
        p += u64::from(ESC_BITS);
        (v >> 1, v & 1 == 1)
    } else {
        (u64::from(sym >> 1), sym & 1 == 1)
    };
    Some(RecordHead {
        bits,
        isd,
        name_at: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip() {
        for s in 0..SYMBOLS {
            assert_eq!(symbol(character(s)), Some(s));
        }
        assert_eq!(symbol(b'_'), None);
        assert_eq!(symbol(b'A'), None);
        assert_eq!(symbol(b'.'), Some(DOT));
    }

    /// Every start and length, in slices shorter and longer than a word:
    /// the loads agree with reading byte by byte (zero past the slice).
    #[test]
    fn partial_words_read_the_bytes_they_cover() {
        for len in 0..20usize {
            let bytes: Vec<u8> = (0..len).map(|i| 0x41 + i as u8 * 7).collect();
            for start in 0..=len + 2 {
                for r in 0..8 {
                    let want = (0..r).rev().fold(0u64, |w, i| {
                        let c = if start + r <= len {
                            bytes[start + i]
                        } else {
                            0
                        };
                        (w << 8) | u64::from(c)
                    });
                    assert_eq!(partial_word(&bytes, start, r), want, "{len} {start} {r}");
                }
            }
        }
    }

    #[test]
    fn bits_read_past_the_end_as_zero() {
        let b = [0b1010_0000, 0xff];
        assert_eq!(read_bits(&b, 0, 3), 0b101);
        assert_eq!(read_bits(&b, 8, 8), 0xff);
        assert_eq!(read_bits(&b, 12, 8), 0xf0);
        assert_eq!(read_bits(&b, 100, 8), 0);
    }

    #[test]
    fn suffix_hashes_agree_with_whole_names_in_any_order() {
        let name = b"a.much-longer-label.with.several.labels-of-every-length.x";
        let starts: Vec<usize> = (0..name.len()).collect();
        let mut h = SuffixHasher::new(name, name.len());
        for &s in starts.iter().rev() {
            assert_eq!(h.hash_from(s), name_hash(&name[s..]), "from the right, {s}");
        }
        let mut h = SuffixHasher::new(name, name.len());
        for &s in &starts {
            assert_eq!(h.hash_from(s), name_hash(&name[s..]), "from the left, {s}");
        }
        // Bytes after the name are read but never hashed.
        let host = b"a.much-longer-label.with.several.labels-of-every-length.x.example";
        let mut h = SuffixHasher::new(host, name.len());
        for &s in starts.iter().rev() {
            assert_eq!(
                h.hash_from(s),
                name_hash(&name[s..]),
                "followed by a TLD, {s}"
            );
        }
        // Lengths and contents both count: no two suffixes collide here.
        let all: std::collections::HashSet<u64> =
            starts.iter().map(|&s| name_hash(&name[s..])).collect();
        assert_eq!(all.len(), starts.len());
        assert_ne!(name_hash(b"ab"), name_hash(b"\0ab"));
    }
}
