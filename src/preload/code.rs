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

/// Finishes a name hash.
#[inline]
fn finish(h: u64) -> u64 {
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
pub(crate) fn bits_equal(a: &[u8], pa: u64, b: &[u8], n: u64) -> bool {
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
/// position of the name bits). A record header is a length-code symbol
/// (`bits << 1 | include_subdomains`, or an escape followed by 13 raw bits
/// of length and the flag). `None` on a corrupt code.
#[inline]
pub(crate) fn record_head(len_table: &[u8], rec: &[u8], p: u64) -> Option<(u64, bool, u64)> {
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

    #[test]
    fn bits_read_past_the_end_as_zero() {
        let b = [0b1010_0000, 0xff];
        assert_eq!(read_bits(&b, 0, 3), 0b101);
        assert_eq!(read_bits(&b, 8, 8), 0xff);
        assert_eq!(read_bits(&b, 12, 8), 0xf0);
        assert_eq!(read_bits(&b, 100, 8), 0);
        assert!(bits_equal(&b, 8, &[0xf0], 4));
        assert!(!bits_equal(&b, 0, &[0xf0], 4));
    }
}
