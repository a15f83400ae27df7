//! Tests on the eight bytes of a word at once (SIMD within a register),
//! shared by the name scan (`host`), the preload lookup's dot scan and the
//! length check of `url`'s domains (`upgrade`), and (through
//! [`crate::internal::swar`]) the CLI's check of what it echoes. Each test
//! leaves its answer in the high bit of each byte; [`pack_high`] gathers
//! those bits into one bit per byte.

/// 0x01 in every byte.
pub const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `low` (a word with its high bits clear)
/// that equals `c` (below 0x80). The XOR leaves zero in a matching byte,
/// and adding 0x7f carries into the high bit of every other one, never
/// into the next byte.
#[inline(always)]
pub fn eq_low(low: u64, c: u8) -> u64 {
    !(low ^ (ONES * u64::from(c))).wrapping_add(ONES * 0x7f) & HIGH
}

/// The high bit of each byte of `low` (high bits clear) that is at least
/// `c` (at most 0x80): adding `0x80 - c` carries into the high bit exactly
/// then, and never into the next byte.
#[inline(always)]
pub fn at_least_low(low: u64, c: u8) -> u64 {
    low.wrapping_add(ONES * u64::from(0x80 - c)) & HIGH
}

/// The high bit of each byte of `w`, any byte, that equals `c` (below
/// 0x80).
#[inline(always)]
pub fn eq_bytes(w: u64, c: u8) -> u64 {
    eq_low(w & !HIGH, c) & !w
}

/// One bit per byte of `m` (whose bits are only the bytes' high bits):
/// bit i set if byte i's high bit is. The multiply moves every high bit
/// into the top byte, each to its own place, with no carries.
#[inline(always)]
pub(crate) fn pack_high(m: u64) -> u64 {
    (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bit i set if byte i of `b` (at most 64 bytes) is `c` (below 0x80).
#[inline]
pub(crate) fn mask_of(b: &[u8], c: u8) -> u64 {
    let n = b.len();
    debug_assert!(n <= 64);
    let at = |i: usize| pack_high(eq_bytes(word_at(b, i), c)) << i;
    if n < 8 {
        // Padded with zeros, which are not `c` once masked.
        let mut w = [0; 8];
        w[..n].copy_from_slice(b);
        return pack_high(eq_bytes(u64::from_le_bytes(w), c)) & ((1 << n) - 1);
    }
    let mut mask = 0;
    let mut i = 0;
    while i + 8 < n {
        mask |= at(i);
        i += 8;
    }
    // The last eight bytes, which may overlap the word before.
    mask | at(n - 8)
}

/// The little-endian word of the eight bytes of `b` from `i`.
#[inline(always)]
fn word_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_agree_with_byte_by_byte_ones() {
        let text = b"a.b..c.defghijklmn.o.pq.rstuvwxyz.0123456789.-_.xn--.example..com.";
        for from in 0..text.len() {
            for to in from..text.len().min(from + 64) + 1 {
                let b = &text[from..to];
                let want = (0..b.len())
                    .filter(|&i| b[i] == b'.')
                    .fold(0u64, |m, i| m | 1 << i);
                assert_eq!(mask_of(b, b'.'), want, "{from}..{to}");
            }
        }
        assert_eq!(pack_high(HIGH), 0xff);
        assert_eq!(pack_high(0x80 << 8), 0b10);
    }

    #[test]
    fn byte_tests_agree_with_byte_by_byte_ones() {
        for c in [b'.', b'-', b'_', 0, 0x7f] {
            for b in 0..=255u8 {
                // The byte among others, in every position.
                for at in 0..8 {
                    let w =
                        u64::from_le_bytes([b'.', 0x80, 0xff, b'-', 0, b'a', 0x2e | 0x80, b'_'])
                            & !(0xff << (8 * at))
                            | u64::from(b) << (8 * at);
                    let got = eq_bytes(w, c);
                    for (i, &x) in w.to_le_bytes().iter().enumerate() {
                        assert_eq!(got >> (8 * i + 7) & 1 == 1, x == c, "{c} {b} {at} {i}");
                        let low = w & !HIGH;
                        let lx = (low >> (8 * i)) as u8;
                        assert_eq!(eq_low(low, c) >> (8 * i + 7) & 1 == 1, lx == c);
                        let ge = at_least_low(low, c.min(0x80)) >> (8 * i + 7) & 1 == 1;
                        assert_eq!(ge, lx >= c.min(0x80));
                    }
                }
            }
        }
    }
}
