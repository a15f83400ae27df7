//! Tests on the eight bytes of a word at once (SIMD within a register),
//! shared by the name scan (`host`), the preload lookup's dot scan and the
//! length check of `url`'s domains (`upgrade`), and (through
//! [`crate::internal::swar`]) the CLI's check of what it echoes. Each test
//! leaves its answer in the high bit of each byte.

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

#[cfg(test)]
mod tests {
    use super::*;

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
