//! Placing the coded names: records bucket by bucket, TLD by TLD; the TLD
//! records and their slots; and the bucket offsets.

use super::bits::BitWriter;
use super::huffman::{LengthCode, NameCode};
use super::names::ByTld;
use super::report::{fit_u32, too_large};
use crate::preload::code::{fingerprint, name_hash, read_bits, reduce, tld_hash, FINGERPRINT_BITS};
use crate::preload::error::PreloadError;
use crate::preload::format::{
    predicted, MAX_COUNT_WIDTH, MAX_TLD_PROBE, SUPER_SHIFT, TLD_INCLUDE_SUBDOMAINS, TLD_IS_ENTRY,
};

/// Buckets are sized for this many names each on average.
const NAMES_PER_BUCKET: usize = 4;
/// The most TLD slots we try before giving up.
const MAX_SLOTS: usize = 1 << 24;

/// A name (without its TLD) coded with the name code.
pub(super) struct Coded {
    bytes: Vec<u8>,
    pub(super) bits: u64,
    pub(super) isd: bool,
    /// The hash of the name's bytes: its bucket and fingerprint.
    hash: u64,
}

/// Every name coded once, TLD by TLD in the order of `by_tld`.
pub(super) fn code_names(by_tld: &ByTld, code: &NameCode) -> Vec<Vec<Coded>> {
    by_tld
        .values()
        .map(|t| {
            t.names
                .iter()
                .map(|(name, &isd)| {
                    let (bytes, bits) = code.encode(name);
                    let hash = name_hash(name.as_bytes());
                    Coded {
                        bytes,
                        bits,
                        isd,
                        hash,
                    }
                })
                .collect()
        })
        .collect()
}

/// The header's limits: the most labels in a record's name, and the most
/// bits in a record's name.
pub(super) fn limits(by_tld: &ByTld, coded: &[Vec<Coded>]) -> Result<(u8, u16), PreloadError> {
    let max_labels = by_tld
        .values()
        .flat_map(|t| t.names.keys())
        .map(|n| n.split('.').count())
        .max()
        .unwrap_or(0);
    let max_bits = coded.iter().flatten().map(|c| c.bits).max().unwrap_or(0);
    let labels = u8::try_from(max_labels)
        .map_err(|_| too_large("labels in a name", max_labels, u64::from(u8::MAX)))?;
    let bits = u16::try_from(max_bits)
        .map_err(|_| too_large("bits in a coded name", max_bits, u64::from(u16::MAX)))?;
    Ok((labels, bits))
}

/// The record stream, the TLD area, and where each bucket starts.
pub(super) struct Records<'a> {
    /// The record stream.
    pub(super) stream: BitWriter,
    /// TLD records, back to back.
    pub(super) tld_area: Vec<u8>,
    /// Each TLD and the offset of its record in the TLD area.
    pub(super) placed: Vec<(&'a str, u32)>,
    /// The bit offset of every bucket's start, then the stream's end.
    pub(super) boundaries: Vec<u64>,
    /// Names in the table, TLDs included.
    pub(super) entry_count: usize,
    /// Bits of a bucket's record count.
    pub(super) count_width: u8,
}

/// Writes the records bucket by bucket, TLD by TLD, and each TLD's record.
pub(super) fn write_records<'a>(
    by_tld: &'a ByTld,
    coded: &[Vec<Coded>],
    len_code: &LengthCode,
) -> Result<Records<'a>, PreloadError> {
    let mut filled = Vec::with_capacity(by_tld.len());
    for names in coded {
        let bucket_count = fit_u32("buckets of a TLD", names.len().div_ceil(NAMES_PER_BUCKET))?;
        filled.push(fill_buckets(names, bucket_count));
    }
    let most = filled.iter().flatten().map(Vec::len).max().unwrap_or(0);
    let count_width = (usize::BITS - most.leading_zeros()).max(1);
    if count_width > u32::from(MAX_COUNT_WIDTH) {
        return Err(too_large(
            "records in one bucket",
            most,
            (1 << MAX_COUNT_WIDTH) - 1,
        ));
    }
    let mut r = Records {
        stream: BitWriter::default(),
        tld_area: Vec::new(),
        placed: Vec::with_capacity(by_tld.len()),
        boundaries: Vec::new(),
        entry_count: 0,
        count_width: count_width as u8,
    };
    for ((tld, t), buckets) in by_tld.iter().zip(filled) {
        let record_at = fit_u32("TLD area (bytes)", r.tld_area.len())?;
        r.placed.push((tld, record_at));
        let first_bucket = fit_u32("buckets", r.boundaries.len())?;
        let bucket_count = buckets.len() as u32;
        for mut bucket in buckets {
            r.boundaries.push(r.stream.bits);
            r.entry_count += bucket.len();
            // By fingerprint, so that a probe stops at the first one above
            // the query's.
            bucket.sort_by(|a, b| {
                (fingerprint(a.hash), a.bits, &a.bytes).cmp(&(
                    fingerprint(b.hash),
                    b.bits,
                    &b.bytes,
                ))
            });
            write_bucket(&mut r.stream, len_code, count_width, &bucket);
        }
        r.entry_count += usize::from(t.own.is_some());
        push_tld_record(&mut r.tld_area, tld, t.own, first_bucket, bucket_count);
    }
    r.boundaries.push(r.stream.bits);
    Ok(r)
}

/// The names of one TLD in their home buckets.
fn fill_buckets(names: &[Coded], bucket_count: u32) -> Vec<Vec<&Coded>> {
    let mut buckets: Vec<Vec<&Coded>> = vec![Vec::new(); bucket_count as usize];
    for c in names {
        let b = reduce(c.hash, bucket_count);
        buckets[b as usize].push(c);
    }
    buckets
}

/// A bucket: nothing when empty; else its record count, the records'
/// fingerprints, then the records.
fn write_bucket(w: &mut BitWriter, len_code: &LengthCode, count_width: u32, bucket: &[&Coded]) {
    if bucket.is_empty() {
        return;
    }
    w.put(bucket.len() as u64, count_width);
    for c in bucket {
        w.put(u64::from(fingerprint(c.hash)), FINGERPRINT_BITS);
    }
    for c in bucket {
        write_record(w, len_code, c);
    }
}

/// A record: its length-code symbol, then the name's bits.
fn write_record(w: &mut BitWriter, len_code: &LengthCode, c: &Coded) {
    len_code.put(w, c.bits, c.isd);
    let mut at = 0;
    while at < c.bits {
        let k = (c.bits - at).min(32) as u32;
        w.put(read_bits(&c.bytes, at, k), k);
        at += u64::from(k);
    }
}

/// A TLD record: len u8, the TLD, flags u8, first bucket u32, bucket count u32.
fn push_tld_record(area: &mut Vec<u8>, tld: &str, own: Option<bool>, first: u32, count: u32) {
    area.push(tld.len() as u8);
    area.extend_from_slice(tld.as_bytes());
    area.push(match own {
        Some(true) => TLD_IS_ENTRY | TLD_INCLUDE_SUBDOMAINS,
        Some(false) => TLD_IS_ENTRY,
        None => 0,
    });
    area.extend_from_slice(&first.to_le_bytes());
    area.extend_from_slice(&count.to_le_bytes());
}

/// TLD slots: open addressing with every TLD within `MAX_TLD_PROBE` slots
/// of its home, so that a lookup's probe is bounded.
pub(super) fn tld_slots(placed: &[(&str, u32)]) -> Result<Vec<u32>, PreloadError> {
    let tld_count = placed.len();
    let mut slot_count = (tld_count + tld_count / 4 + 1).next_power_of_two();
    loop {
        let mut slots = vec![u32::MAX; slot_count];
        let fits = placed.iter().all(|&(tld, at)| {
            let mut s = (tld_hash(tld.as_bytes()) as usize) & (slot_count - 1);
            let mut distance = 0;
            while slots[s] != u32::MAX {
                s = (s + 1) & (slot_count - 1);
                distance += 1;
            }
            slots[s] = at;
            distance < MAX_TLD_PROBE
        });
        if fits {
            return Ok(slots);
        }
        slot_count *= 2;
        if slot_count > MAX_SLOTS {
            return Err(too_large("TLD slots", slot_count, MAX_SLOTS as u64));
        }
    }
}

/// The bucket offsets: a u32 per superblock, then the fixed-width distance
/// of every boundary from a linear prediction inside its superblock.
pub(super) struct Offsets {
    /// The bit offset of every 32nd bucket.
    pub(super) supers: Vec<u32>,
    /// Mean bucket bits × 256.
    pub(super) slope: u32,
    /// Added to every distance, so that none is negative.
    pub(super) bias: u32,
    /// Bits per distance (1..=32).
    pub(super) width: u32,
    /// The distances.
    pub(super) bytes: Vec<u8>,
}

/// Codes `boundaries` (every bucket's start, then the stream's end).
pub(super) fn bucket_offsets(boundaries: &[u64]) -> Result<Offsets, PreloadError> {
    let bucket_count = boundaries.len() - 1;
    let total = boundaries[bucket_count];
    let supers: Vec<u32> = boundaries
        .iter()
        .step_by(1 << SUPER_SHIFT)
        .map(|&b| b as u32)
        .collect();
    let slope = if bucket_count == 0 {
        0
    } else {
        u32::try_from((total << 8) / bucket_count as u64).unwrap_or(u32::MAX)
    };
    let deviation = |i: usize, b: u64| -> i64 {
        b as i64 - i64::from(supers[i >> SUPER_SHIFT]) - predicted(i, u64::from(slope)) as i64
    };
    let (lo, hi) = boundaries
        .iter()
        .enumerate()
        .map(|(i, &b)| deviation(i, b))
        .fold((0i64, 0i64), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let bias = u32::try_from(-lo)
        .map_err(|_| too_large("bucket offset bias", -lo, u64::from(u32::MAX)))?;
    let span = (hi - lo) as u64;
    let width = (64 - span.leading_zeros()).max(1);
    if width > 32 {
        return Err(too_large("bucket offset width (bits)", width, 32));
    }
    let mut w = BitWriter::default();
    for (i, &b) in boundaries.iter().enumerate() {
        w.put((deviation(i, b) - lo) as u64, width);
    }
    Ok(Offsets {
        supers,
        slope,
        bias,
        width,
        bytes: w.finish(),
    })
}
