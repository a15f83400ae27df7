//! The table's two Huffman codes: the name code (one code per context, the
//! character to the right) and the length code of record headers, both
//! canonical and length-limited so that decoding can peek a fixed number of
//! bits.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::bits::BitWriter;
use crate::preload::code::{
    symbol, DOT, ESC, ESC_BITS, LEN_PEEK, LEN_TABLE_LEN, MAX_NAME_CODE, SYMBOLS,
};

/// The name code: (code, length) of each symbol in each context.
pub(super) struct NameCode {
    codes: Vec<Vec<(u64, u32)>>,
}

impl NameCode {
    /// One Huffman code per context (the character to the right), from
    /// the frequencies in `names` (names without their TLD).
    pub(super) fn build<'a>(names: impl Iterator<Item = &'a str>) -> NameCode {
        let mut freq = vec![[0u64; SYMBOLS]; SYMBOLS];
        for name in names {
            let mut ctx = DOT;
            for s in name.bytes().rev().filter_map(symbol) {
                freq[ctx][s] += 1;
                ctx = s;
            }
        }
        let codes = freq
            .iter()
            .map(|f| canonical_codes(&limited_lengths(f, MAX_NAME_CODE)))
            .collect();
        NameCode { codes }
    }

    /// `name` coded from right to left: (bytes, bits).
    pub(super) fn encode(&self, name: &str) -> (Vec<u8>, u64) {
        let mut w = BitWriter::default();
        let mut ctx = DOT;
        for s in name.bytes().rev().filter_map(symbol) {
            let (code, len) = self.codes[ctx][s];
            w.put(code, len);
            ctx = s;
        }
        let bits = w.bits;
        (w.finish(), bits)
    }

    /// The table's name code section: per context, per symbol, (length
    /// u8, code u16).
    pub(super) fn table(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for ctx in &self.codes {
            for &(code, len) in ctx {
                out.push(len as u8);
                out.extend_from_slice(&(code as u16).to_le_bytes());
            }
        }
        out
    }
}

/// The length code: (name bits << 1 | isd), rare values escaped.
pub(super) struct LengthCode {
    codes: BTreeMap<u16, (u64, u32)>,
}

impl LengthCode {
    /// The symbol of a record header.
    fn symbol(bits: u64, isd: bool) -> u16 {
        let v = (bits << 1) | u64::from(isd);
        if v < u64::from(ESC) {
            v as u16
        } else {
            ESC
        }
    }

    /// The code for records of these (name bits, include_subdomains).
    pub(super) fn build(records: impl Iterator<Item = (u64, bool)>) -> LengthCode {
        let mut freq: BTreeMap<u16, u64> = BTreeMap::new();
        for (bits, isd) in records {
            *freq.entry(Self::symbol(bits, isd)).or_default() += 1;
        }
        LengthCode {
            codes: length_code(&freq),
        }
    }

    /// The table's decode table: for every `LEN_PEEK` bits,
    /// `(symbol << 4) | code length`.
    pub(super) fn table(&self) -> Vec<u8> {
        let mut table = vec![0u8; LEN_TABLE_LEN];
        for (&sym, &(code, len)) in self.codes.iter().filter(|(_, &(_, len))| len > 0) {
            let shift = LEN_PEEK - len;
            for i in (code << shift)..((code + 1) << shift) {
                let e = (sym << 4) | len as u16;
                table[i as usize * 2..i as usize * 2 + 2].copy_from_slice(&e.to_le_bytes());
            }
        }
        table
    }

    /// Writes a record header: the symbol's code, or the escape's and the
    /// raw length and flag.
    pub(super) fn put(&self, w: &mut BitWriter, bits: u64, isd: bool) {
        let sym = Self::symbol(bits, isd);
        let (code, len, escaped) = match self.codes.get(&sym) {
            Some(&(code, len)) if sym != ESC => (code, len, false),
            _ => {
                let (code, len) = self.codes.get(&ESC).copied().unwrap_or((0, 0));
                (code, len, true)
            }
        };
        w.put(code, len);
        if escaped {
            w.put((bits << 1) | u64::from(isd), ESC_BITS);
        }
    }
}

/// Huffman code lengths for `freq` (0 for unused symbols; a lone symbol
/// gets length 1). Ties break by symbol, so the result is deterministic.
fn huffman_lengths(freq: &[u64]) -> Vec<u32> {
    let mut lengths = vec![0u32; freq.len()];
    let used: Vec<usize> = (0..freq.len()).filter(|&i| freq[i] > 0).collect();
    if used.len() == 1 {
        lengths[used[0]] = 1;
    }
    if used.len() < 2 {
        return lengths;
    }
    // Nodes 0..used.len() are leaves; parents are appended.
    let mut parent: Vec<usize> = vec![usize::MAX; used.len()];
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = used
        .iter()
        .enumerate()
        .map(|(node, &sym)| Reverse((freq[sym], node)))
        .collect();
    while heap.len() > 1 {
        let (Some(Reverse((fa, a))), Some(Reverse((fb, b)))) = (heap.pop(), heap.pop()) else {
            break;
        };
        let node = parent.len();
        parent.push(usize::MAX);
        parent[a] = node;
        parent[b] = node;
        heap.push(Reverse((fa + fb, node)));
    }
    for (leaf, &sym) in used.iter().enumerate() {
        let mut depth = 0;
        let mut n = leaf;
        while parent[n] != usize::MAX {
            n = parent[n];
            depth += 1;
        }
        lengths[sym] = depth;
    }
    lengths
}

/// Huffman code lengths of at most `limit` bits: frequencies are flattened
/// until the tree is shallow enough.
fn limited_lengths(freq: &[u64], limit: u32) -> Vec<u32> {
    let mut f = freq.to_vec();
    loop {
        let lengths = huffman_lengths(&f);
        if lengths.iter().all(|&l| l <= limit) {
            return lengths;
        }
        for x in f.iter_mut().filter(|x| **x > 0) {
            *x = (*x >> 1).max(1);
        }
    }
}

/// The canonical code for `lengths`: (code, length) per symbol.
fn canonical_codes(lengths: &[u32]) -> Vec<(u64, u32)> {
    let mut order: Vec<usize> = (0..lengths.len()).filter(|&i| lengths[i] > 0).collect();
    order.sort_by_key(|&i| (lengths[i], i));
    let mut codes = vec![(0u64, 0u32); lengths.len()];
    let mut code = 0u64;
    let mut prev = 0u32;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 {
            code += 1;
        }
        code <<= lengths[i] - prev;
        prev = lengths[i];
        codes[i] = (code, lengths[i]);
    }
    codes
}

/// A length code of at most `LEN_PEEK` bits: the rarest symbols are folded
/// into the escape until the tree fits.
fn length_code(freq: &BTreeMap<u16, u64>) -> BTreeMap<u16, (u64, u32)> {
    let mut kept: Vec<(u16, u64)> = freq.iter().map(|(&s, &f)| (s, f)).collect();
    kept.sort_by_key(|&(s, f)| (Reverse(f), s));
    let mut escaped: u64 = kept
        .iter()
        .filter(|&&(s, _)| s == ESC)
        .map(|&(_, f)| f)
        .sum();
    kept.retain(|&(s, _)| s != ESC);
    loop {
        let mut syms: Vec<(u16, u64)> = kept.clone();
        if escaped > 0 {
            syms.push((ESC, escaped));
        }
        let f: Vec<u64> = syms.iter().map(|&(_, f)| f).collect();
        let lengths = huffman_lengths(&f);
        if lengths.iter().all(|&l| l <= LEN_PEEK) {
            let codes = canonical_codes(&lengths);
            let mut out: BTreeMap<u16, (u64, u32)> =
                syms.iter().zip(codes).map(|(&(s, _), c)| (s, c)).collect();
            // Every symbol must have a code, even unused ones never written.
            out.entry(ESC).or_insert((0, 0));
            return out;
        }
        // Terminates: with nothing kept, the lone escape fits.
        if let Some((_, f)) = kept.pop() {
            escaped += f;
        }
    }
}
