//! Writing bits, most significant first.

/// Writes bits most significant first.
#[derive(Default)]
pub(super) struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
    /// Bits written so far.
    pub(super) bits: u64,
}

impl BitWriter {
    /// Appends the low `n` (at most 32) bits of `v`.
    pub(super) fn put(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        self.acc = (self.acc << n) | (v & ((1 << n) - 1));
        self.pending += n;
        self.bits += u64::from(n);
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
    }

    /// The bytes written, the last one padded with zero bits.
    pub(super) fn finish(mut self) -> Vec<u8> {
        if self.pending > 0 {
            self.bytes.push((self.acc << (8 - self.pending)) as u8);
        }
        self.bytes
    }
}
