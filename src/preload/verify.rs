//! The full check of a table: body checksum, then every structure a lookup
//! relies on, so that afterwards each lookup answers exactly what the table
//! holds and iteration lists exactly the names that lookups find.

use std::collections::HashSet;

use super::code::{
    fingerprint, name_code, name_hash, reduce, symbol, MAX_NAME_CODE, NAME_CODE_LEN, SYMBOLS,
};
use super::error::{BucketFault, Corruption, PreloadError, RecordFault, TldFault};
use super::format::{
    boundary, bucket_range, find_tld, tld_at, BucketHead, Header, Layout, Tld, EMPTY_SLOT,
    HEADER_LEN, MAX_HOST_LEN, TLD_INCLUDE_SUBDOMAINS, TLD_IS_ENTRY,
};
use super::iter::{bucket_records, Decoder};
use crate::wire::{self, u32_at};

/// See [`super::PreloadList::verify`].
pub(crate) fn verify(b: &[u8], h: &Header, l: &Layout) -> Result<(), PreloadError> {
    wire::check_crc("body", &b[HEADER_LEN..], h.body_crc)?;
    let codes = &b[l.name_codes..l.name_codes + NAME_CODE_LEN];
    check_name_code(codes)?;
    check_bucket_offsets(b, l)?;
    let counts = check_tlds(b, l, &Decoder::new(codes))?;
    check_counts(b, h, l, counts)?;
    Ok(())
}

/// The name code: lengths in range and prefix-free in every context, so
/// equal bits mean equal names.
fn check_name_code(codes: &[u8]) -> Result<(), Corruption> {
    for context in 0..SYMBOLS {
        let used: Vec<(u64, u32)> = (0..SYMBOLS)
            .map(|s| name_code(codes, context, s))
            .filter(|&(_, len)| len != 0)
            .collect();
        for &(code, len) in &used {
            if len > MAX_NAME_CODE || code >> len != 0 {
                return Err(Corruption::NameCodeRange { context });
            }
        }
        for (i, &(ci, li)) in used.iter().enumerate() {
            for &(cj, lj) in &used[i + 1..] {
                let (short, long, ls, ll) = if li <= lj {
                    (ci, cj, li, lj)
                } else {
                    (cj, ci, lj, li)
                };
                if long >> (ll - ls) == short {
                    return Err(Corruption::NameCodeNotPrefixFree { context });
                }
            }
        }
    }
    Ok(())
}

/// Bucket boundaries: monotone from 0 to the end of the record stream.
fn check_bucket_offsets(b: &[u8], l: &Layout) -> Result<(), Corruption> {
    let mut prev = 0u64;
    for index in 0..=l.bucket_count {
        let at = boundary(b, l, index).unwrap_or(u64::MAX);
        if at < prev || at > l.record_bits || (index == 0 && at != 0) {
            return Err(Corruption::BucketOffset { index });
        }
        prev = at;
    }
    if prev != l.record_bits {
        return Err(Corruption::BucketCoverage);
    }
    Ok(())
}

/// What the walk over the TLD records counted.
struct Counts {
    tlds: u32,
    entries: u64,
}

/// TLD records: parse back to back, each reachable through its slot, with
/// bucket ranges that tile the buckets in order; then every record.
fn check_tlds(b: &[u8], l: &Layout, decoder: &Decoder) -> Result<Counts, Corruption> {
    let mut counts = Counts {
        tlds: 0,
        entries: 0,
    };
    let mut next_bucket = 0usize;
    let mut at = 0usize;
    let area = &b[l.tlds..l.tlds + l.tlds_len];
    while at < area.len() {
        let t = check_tld(b, l, area, at, next_bucket)
            .map_err(|fault| Corruption::Tld { at, fault })?;
        next_bucket += t.bucket_count as usize;
        if t.flags & TLD_IS_ENTRY != 0 {
            counts.entries += 1;
        }
        for bucket in t.first_bucket as usize..next_bucket {
            counts.entries += check_bucket(b, l, decoder, &t, bucket)?;
        }
        counts.tlds += 1;
        at = t.end;
    }
    if next_bucket != l.bucket_count {
        return Err(Corruption::UnownedBuckets);
    }
    Ok(counts)
}

/// The TLD record at byte `at` of the TLD area, whose buckets must start at
/// `next_bucket`.
fn check_tld<'a>(
    b: &'a [u8],
    l: &Layout,
    area: &'a [u8],
    at: usize,
    next_bucket: usize,
) -> Result<Tld<'a>, TldFault> {
    let t = tld_at(area, at).ok_or(TldFault::CutShort)?;
    if t.name.is_empty()
        || t.name.len() > 63
        || t.name.iter().any(|&c| symbol(c).is_none() || c == b'.')
    {
        return Err(TldFault::InvalidName);
    }
    if t.flags & !(TLD_IS_ENTRY | TLD_INCLUDE_SUBDOMAINS) != 0
        || (t.flags & TLD_INCLUDE_SUBDOMAINS != 0 && t.flags & TLD_IS_ENTRY == 0)
    {
        return Err(TldFault::InvalidFlags);
    }
    match find_tld(b, l, t.name) {
        Some(found) if found.end == t.end => {}
        _ => return Err(TldFault::Unreachable),
    }
    if t.first_bucket as usize != next_bucket {
        return Err(TldFault::BucketsOutOfOrder);
    }
    if next_bucket.saturating_add(t.bucket_count as usize) > l.bucket_count {
        return Err(TldFault::BucketsPastIndex);
    }
    Ok(t)
}

/// The records of one bucket of TLD `t`: sorted by fingerprint, each a
/// valid, distinct name within the header's limits, in its home bucket and
/// with its own fingerprint. Returns the number of records.
fn check_bucket(
    b: &[u8],
    l: &Layout,
    decoder: &Decoder,
    t: &Tld<'_>,
    bucket: usize,
) -> Result<u64, Corruption> {
    let rec = &b[l.records..l.records + l.records_len];
    // A set, not a list: a hostile table may put many records in one
    // bucket, and the check must stay near-linear.
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let bucket_fault = |fault| Corruption::Bucket { bucket, fault };
    let (start, end) = bucket_range(b, l, bucket).ok_or(bucket_fault(BucketFault::Overrun))?;
    if start < end && BucketHead::read(rec, l, start).records_at > end {
        return Err(bucket_fault(BucketFault::Overrun));
    }
    // Where the records written so far end: the bucket's end, once all are
    // read (an empty bucket has an empty range).
    let mut last_end = start;
    let mut lowest = 0;
    for r in bucket_records(b, l, bucket) {
        let Some((fp, r)) = r else {
            return Err(bucket_fault(BucketFault::Overrun));
        };
        if fp < lowest {
            return Err(bucket_fault(BucketFault::Unsorted));
        }
        lowest = fp;
        last_end = r.end();
        let (bit, n) = (r.name_at, r.bits);
        let fault = |fault| Corruption::Record { bit, fault };
        let name = match decoder.decode(rec, bit, n) {
            Some(name) if valid_labels(&name) => name,
            _ => return Err(fault(RecordFault::InvalidName)),
        };
        if name.len() + 1 + t.name.len() > MAX_HOST_LEN {
            return Err(fault(RecordFault::TooLong));
        }
        let labels = name.iter().filter(|&&c| c == b'.').count() + 1;
        if labels > l.max_labels || n > l.max_record_bits {
            return Err(fault(RecordFault::OverLimits));
        }
        let hash = name_hash(&name);
        if t.first_bucket as usize + reduce(hash, t.bucket_count) as usize != bucket {
            return Err(fault(RecordFault::WrongBucket));
        }
        if fingerprint(hash) != fp {
            return Err(fault(RecordFault::WrongFingerprint));
        }
        if !seen.insert(name) {
            return Err(fault(RecordFault::Repeated));
        }
    }
    if last_end != end {
        return Err(bucket_fault(BucketFault::Slack));
    }
    Ok(seen.len() as u64)
}

/// Whether `name` (without TLD) is a valid sequence of labels.
fn valid_labels(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .split(|&c| c == b'.')
            .all(|label| !label.is_empty() && label.len() <= 63)
}

/// The header's counts against what the walk found, and the TLD slots in
/// use against the TLD records.
fn check_counts(b: &[u8], h: &Header, l: &Layout, counts: Counts) -> Result<(), Corruption> {
    if counts.tlds != h.tld_count {
        return Err(Corruption::Count {
            what: "TLD records",
            found: u64::from(counts.tlds),
            header: u64::from(h.tld_count),
        });
    }
    let used = (0..l.slot_count)
        .filter(|s| u32_at(b, l.slots + s * 4) != Some(EMPTY_SLOT))
        .count();
    if used != counts.tlds as usize {
        return Err(Corruption::SlotsInUse {
            used,
            tlds: counts.tlds as usize,
        });
    }
    if counts.entries != u64::from(h.entry_count) {
        return Err(Corruption::Count {
            what: "entries",
            found: counts.entries,
            header: u64::from(h.entry_count),
        });
    }
    Ok(())
}
