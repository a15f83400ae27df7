//! Compiling Chromium's JSON preload list into the binary table.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::Read;

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::format::{
    self, bits_hash, predicted, read_bits, reduce, symbol, Header, DOT, ESC, ESC_BITS, HEADER_LEN,
    LEN_PEEK, MAX_NAME_CODE, SUPER_SHIFT, SYMBOLS, TLD_INCLUDE_SUBDOMAINS, TLD_IS_ENTRY,
};
use super::PreloadError;
use crate::host::{self, Host};

/// The largest JSON list we read (after decompression): 256 MiB.
const MAX_JSON_LEN: u64 = 256 << 20;
/// Buckets are sized for this many names each on average.
const NAMES_PER_BUCKET: usize = 4;

/// Why a name of the source list was left out of the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// An IP literal such as `1.0.0.1`: IP hosts are never HSTS hosts
    /// (RFC 6797 §8.1.1, §8.3), so the entry could never match.
    #[error("IP literal: IP hosts are never HSTS hosts")]
    IpLiteral,
    /// Not a valid host name.
    #[error("invalid name: {0}")]
    InvalidName(String),
    /// A character the table cannot hold (outside `[a-z0-9-.]` after
    /// canonicalisation, such as `_`).
    #[error("character outside [a-z0-9-.]")]
    UnsupportedCharacter,
}

/// What a compilation did: the entries taken and the ones left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileReport {
    entries: usize,
    not_force_https: usize,
    skipped: Vec<(String, SkipReason)>,
}

impl CompileReport {
    /// The number of names in the table.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Entries whose mode is not `force-https` (not imported).
    pub fn not_force_https(&self) -> usize {
        self.not_force_https
    }

    /// Names that were left out, with the reason, in source order.
    pub fn skipped_names(&self) -> impl Iterator<Item = (&str, &SkipReason)> {
        self.skipped.iter().map(|(n, r)| (n.as_str(), r))
    }
}

#[derive(Deserialize)]
struct JsonList {
    entries: Vec<JsonEntry>,
}

#[derive(Deserialize)]
struct JsonEntry {
    name: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    include_subdomains: Option<bool>,
}

/// Compiles Chromium's `transport_security_state_static.json` (plain, or
/// gzip-compressed) into a table dated `date`. Only `force-https` entries
/// are taken; `include_subdomains` is false when absent.
///
/// ```
/// use chrono::NaiveDate;
/// use hsts::preload::{compile_json, PreloadList};
///
/// let json = br#"{"entries":[
///   {"name":"example.com","policy":"custom","mode":"force-https","include_subdomains":true},
///   {"name":"1.0.0.1","policy":"custom","mode":"force-https"}]}"#;
/// let (bytes, report) = compile_json(json, NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()).unwrap();
/// assert_eq!(report.entries(), 1);
/// assert_eq!(report.skipped_names().count(), 1); // the IP literal
/// let list = PreloadList::from_bytes(bytes).unwrap();
/// list.verify().unwrap();
/// assert!(list.contains("www.example.com"));
/// ```
pub fn compile_json(
    input: &[u8],
    date: NaiveDate,
) -> Result<(Vec<u8>, CompileReport), PreloadError> {
    let json = if input.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(input)
            .take(MAX_JSON_LEN + 1)
            .read_to_end(&mut out)
            .map_err(|e| PreloadError::Json(format!("gzip: {e}")))?;
        if out.len() as u64 > MAX_JSON_LEN {
            return Err(PreloadError::TooLarge(
                "the JSON list is over 256 MiB".into(),
            ));
        }
        out
    } else {
        input.to_vec()
    };
    let sha: [u8; 32] = Sha256::digest(&json).into();
    let list: JsonList =
        serde_json::from_slice(&json).map_err(|e| PreloadError::Json(e.to_string()))?;
    let mut not_force = 0;
    let names = list.entries.into_iter().filter_map(|e| {
        if e.mode.as_deref() != Some("force-https") {
            not_force += 1;
            return None;
        }
        Some((e.name, e.include_subdomains.unwrap_or(false)))
    });
    let (bytes, mut report) = compile_entries(names, date, sha)?;
    report.not_force_https = not_force;
    Ok((bytes, report))
}

/// Compiles `(name, include_subdomains)` pairs into a table. Names are
/// canonicalised; IP literals, invalid names and names with characters the
/// table cannot hold (such as `_`) are skipped and reported; a repeated
/// name keeps its last flag.
///
/// ```
/// use chrono::NaiveDate;
/// use hsts::preload::{compile_entries, PreloadList};
///
/// let date = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
/// let entries = [("a.example".to_owned(), false), ("b.example".to_owned(), true)];
/// let (bytes, report) = compile_entries(entries, date, [0; 32]).unwrap();
/// assert_eq!(report.entries(), 2);
/// let list = PreloadList::from_bytes(bytes).unwrap();
/// assert!(list.contains("x.b.example") && !list.contains("x.a.example"));
/// ```
pub fn compile_entries(
    entries: impl IntoIterator<Item = (String, bool)>,
    date: NaiveDate,
    source_sha256: [u8; 32],
) -> Result<(Vec<u8>, CompileReport), PreloadError> {
    let mut report = CompileReport::default();
    // TLD → (its own flag if listed, name-without-TLD → isd)
    let mut by_tld: BTreeMap<String, (Option<bool>, BTreeMap<String, bool>)> = BTreeMap::new();
    for (name, isd) in entries {
        let canonical = match host::canonicalize(&name) {
            Ok(Host::Domain(d)) => d.into_string(),
            Ok(Host::Ip(_)) => {
                report.skipped.push((name, SkipReason::IpLiteral));
                continue;
            }
            Err(e) => {
                report
                    .skipped
                    .push((name, SkipReason::InvalidName(e.to_string())));
                continue;
            }
        };
        if canonical.len() > format::MAX_HOST_LEN || canonical.bytes().any(|c| symbol(c).is_none())
        {
            report
                .skipped
                .push((name, SkipReason::UnsupportedCharacter));
            continue;
        }
        let (rest, tld) = match canonical.rsplit_once('.') {
            Some((rest, tld)) => (Some(rest), tld),
            None => (None, canonical.as_str()),
        };
        if tld.is_empty()
            || tld.len() > 63
            || rest.is_some_and(|r| r.split('.').any(|l| l.is_empty() || l.len() > 63))
        {
            report.skipped.push((
                name,
                SkipReason::InvalidName("empty or overlong label".into()),
            ));
            continue;
        }
        let slot = by_tld.entry(tld.to_owned()).or_default();
        match rest {
            None => slot.0 = Some(isd),
            Some(r) => {
                slot.1.insert(r.to_owned(), isd);
            }
        }
    }
    let too_large = |what: &str| PreloadError::TooLarge(what.to_owned());

    // The name code: one Huffman code per context (the character to the right).
    let mut freq = vec![[0u64; SYMBOLS]; SYMBOLS];
    for (_, names) in by_tld.values() {
        for name in names.keys() {
            let mut ctx = DOT;
            for s in name.bytes().rev().filter_map(symbol) {
                freq[ctx][s] += 1;
                ctx = s;
            }
        }
    }
    let name_codes: Vec<Vec<(u64, u32)>> = freq
        .iter()
        .map(|f| canonical_codes(&limited_lengths(f, MAX_NAME_CODE)))
        .collect();
    // Every name coded once: (bytes, bits, labels).
    let encode = |name: &str| -> (Vec<u8>, u64) {
        let mut w = BitWriter::default();
        let mut ctx = DOT;
        for s in name.bytes().rev().filter_map(symbol) {
            let (code, len) = name_codes[ctx][s];
            w.put(code, len);
            ctx = s;
        }
        let bits = w.bits;
        (w.finish(), bits)
    };
    let coded: Vec<Vec<(Vec<u8>, u64, bool)>> = by_tld
        .values()
        .map(|(_, names)| {
            names
                .iter()
                .map(|(name, &isd)| {
                    let (bytes, bits) = encode(name);
                    (bytes, bits, isd)
                })
                .collect()
        })
        .collect();
    let max_labels = by_tld
        .values()
        .flat_map(|(_, names)| names.keys())
        .map(|n| n.split('.').count())
        .max()
        .unwrap_or(0);
    let max_record_bits = coded.iter().flatten().map(|c| c.1).max().unwrap_or(0);
    let max_labels = u8::try_from(max_labels).map_err(|_| too_large("over 255 labels"))?;
    let max_record_bits =
        u16::try_from(max_record_bits).map_err(|_| too_large("a name over 65535 bits"))?;

    // The length code: (name bits << 1 | isd), rare values escaped.
    let len_symbol = |bits: u64, isd: bool| -> u16 {
        let v = (bits << 1) | u64::from(isd);
        if v < u64::from(ESC) {
            v as u16
        } else {
            ESC
        }
    };
    let mut len_freq: BTreeMap<u16, u64> = BTreeMap::new();
    for &(_, bits, isd) in coded.iter().flatten() {
        *len_freq.entry(len_symbol(bits, isd)).or_default() += 1;
    }
    let len_code = length_code(&len_freq);
    let mut len_table = vec![0u8; format::LEN_TABLE_LEN];
    for (&sym, &(code, len)) in len_code.iter().filter(|(_, &(_, len))| len > 0) {
        let shift = LEN_PEEK - len;
        for i in (code << shift)..((code + 1) << shift) {
            let e = (sym << 4) | len as u16;
            len_table[i as usize * 2..i as usize * 2 + 2].copy_from_slice(&e.to_le_bytes());
        }
    }

    // Records, bucket by bucket, TLD by TLD.
    let tld_count = by_tld.len();
    let mut placed: Vec<(&str, u32)> = Vec::with_capacity(tld_count);
    let mut tld_area = Vec::new();
    let mut boundaries: Vec<u64> = Vec::new();
    let mut w = BitWriter::default();
    let mut entry_count = 0usize;
    for ((tld, (own, _)), names) in by_tld.iter().zip(&coded) {
        let record_at =
            u32::try_from(tld_area.len()).map_err(|_| too_large("TLD area over 4 GiB"))?;
        placed.push((tld, record_at));
        let first_bucket = boundaries.len();
        let bucket_count = names.len().div_ceil(NAMES_PER_BUCKET);
        let bucket_count_u32 =
            u32::try_from(bucket_count).map_err(|_| too_large("too many names"))?;
        let mut buckets: Vec<Vec<&(Vec<u8>, u64, bool)>> = vec![Vec::new(); bucket_count];
        for c in names {
            let b = reduce(bits_hash(&c.0, 0, c.1), bucket_count_u32);
            buckets[b as usize].push(c);
        }
        for mut bucket in buckets {
            // Shortest first, so that a probe stops at the first record
            // longer than the query.
            bucket.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            boundaries.push(w.bits);
            for &(ref bytes, bits, isd) in bucket {
                let sym = len_symbol(bits, isd);
                let (code, len, escaped) = match len_code.get(&sym) {
                    Some(&(code, len)) if sym != ESC => (code, len, false),
                    _ => {
                        let (code, len) = len_code.get(&ESC).copied().unwrap_or((0, 0));
                        (code, len, true)
                    }
                };
                w.put(code, len);
                if escaped {
                    w.put((bits << 1) | u64::from(isd), ESC_BITS);
                }
                let mut at = 0;
                while at < bits {
                    let k = (bits - at).min(32) as u32;
                    w.put(read_bits(bytes, at, k), k);
                    at += u64::from(k);
                }
            }
        }
        entry_count += names.len() + usize::from(own.is_some());
        tld_area.push(tld.len() as u8);
        tld_area.extend_from_slice(tld.as_bytes());
        tld_area.push(match own {
            Some(true) => TLD_IS_ENTRY | TLD_INCLUDE_SUBDOMAINS,
            Some(false) => TLD_IS_ENTRY,
            None => 0,
        });
        let first = u32::try_from(first_bucket).map_err(|_| too_large("too many buckets"))?;
        tld_area.extend_from_slice(&first.to_le_bytes());
        tld_area.extend_from_slice(&bucket_count_u32.to_le_bytes());
    }
    report.entries = entry_count;

    // TLD slots: open addressing with every TLD within MAX_TLD_PROBE slots
    // of its home, so that a lookup's probe is bounded.
    let mut slot_count = (tld_count + tld_count / 4 + 1).next_power_of_two();
    let slots = loop {
        let mut slots = vec![u32::MAX; slot_count];
        let fits = placed.iter().all(|&(tld, at)| {
            let mut s = (format::tld_hash(tld.as_bytes()) as usize) & (slot_count - 1);
            let mut distance = 0;
            while slots[s] != u32::MAX {
                s = (s + 1) & (slot_count - 1);
                distance += 1;
            }
            slots[s] = at;
            distance < format::MAX_TLD_PROBE
        });
        if fits {
            break slots;
        }
        slot_count *= 2;
        if slot_count > 1 << 24 {
            return Err(too_large("TLD slot table"));
        }
    };
    let bucket_count = boundaries.len();
    boundaries.push(w.bits);
    let record_bits = u32::try_from(w.bits).map_err(|_| too_large("record stream over 512 MiB"))?;

    // Bucket offsets: a u32 per superblock, then the fixed-width distance
    // from a linear prediction inside the superblock.
    let supers: Vec<u32> = boundaries
        .iter()
        .step_by(1 << SUPER_SHIFT)
        .map(|&b| b as u32)
        .collect();
    let slope = if bucket_count == 0 {
        0
    } else {
        u32::try_from((w.bits << 8) / bucket_count as u64).unwrap_or(u32::MAX)
    };
    let deviation = |i: usize, b: u64| -> i64 {
        b as i64 - i64::from(supers[i >> SUPER_SHIFT]) - predicted(i, u64::from(slope)) as i64
    };
    let (lo, hi) = boundaries
        .iter()
        .enumerate()
        .map(|(i, &b)| deviation(i, b))
        .fold((0i64, 0i64), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let bias = u32::try_from(-lo).map_err(|_| too_large("bucket offsets"))?;
    let span = (hi - lo) as u64;
    let width = (64 - span.leading_zeros()).max(1);
    if width > 32 {
        return Err(too_large("bucket offsets"));
    }
    let mut offsets = BitWriter::default();
    for (i, &b) in boundaries.iter().enumerate() {
        offsets.put((deviation(i, b) - lo) as u64, width);
    }

    let mut body = Vec::new();
    for ctx in &name_codes {
        for &(code, len) in ctx {
            body.push(len as u8);
            body.extend_from_slice(&(code as u16).to_le_bytes());
        }
    }
    body.extend_from_slice(&len_table);
    for s in &slots {
        body.extend_from_slice(&s.to_le_bytes());
    }
    body.extend_from_slice(&tld_area);
    for s in &supers {
        body.extend_from_slice(&s.to_le_bytes());
    }
    body.extend_from_slice(&offsets.finish());
    body.extend_from_slice(&w.finish());
    let header = Header {
        date,
        entry_count: u32::try_from(entry_count).map_err(|_| too_large("entry count"))?,
        tld_count: tld_count as u32,
        slot_count: slot_count as u32,
        tld_area_len: u32::try_from(tld_area.len()).map_err(|_| too_large("TLD area"))?,
        bucket_count: u32::try_from(bucket_count).map_err(|_| too_large("bucket count"))?,
        record_bits,
        offset_width: width as u8,
        max_labels,
        max_record_bits,
        slope,
        bias,
        body_crc: crc32fast::hash(&body),
        source_sha256,
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    header.write(&mut out);
    out.extend_from_slice(&body);
    if out.len() > format::MAX_TABLE_LEN {
        return Err(too_large("table over 64 MiB"));
    }
    Ok((out, report))
}

/// Writes bits most significant first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    pending: u32,
    bits: u64,
}

impl BitWriter {
    /// Appends the low `n` (at most 32) bits of `v`.
    fn put(&mut self, v: u64, n: u32) {
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

    fn finish(mut self) -> Vec<u8> {
        if self.pending > 0 {
            self.bytes.push((self.acc << (8 - self.pending)) as u8);
        }
        self.bytes
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
