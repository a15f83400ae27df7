//! The binary layout of a compiled preload table, and reading it in place.
//!
//! ```text
//! header (80 bytes, little-endian)
//!   0  magic "HSTSPRLD"      8  version u16      10 reserved u16 (0)
//!   12 date: days since 1970-01-01, i32           16 entry count u32
//!   20 TLD count u32         24 TLD slot count u32 (a power of two)
//!   28 bucket count u32      32 TLD area length u32
//!   36 blob length u32       40 CRC-32 of the body
//!   44 SHA-256 of the JSON source (32)            76 CRC-32 of bytes 0..76
//! body
//!   TLD slots     slot count × u32: offset of a TLD record, or u32::MAX
//!   TLD area      records: len u8, the TLD, flags u8, first bucket u32, bucket count u32
//!   bucket index  (bucket count + 1) × u32: offsets into the blob
//!   blob          names without their TLD, bucket by bucket:
//!                 u8 (bit 7 include_subdomains, bits 0-6 n), then n × u16 symbols
//! ```
//!
//! A name without its TLD is packed three characters to a `u16`
//! (`s0·39² + s1·39 + s2`) over the alphabet pad, `a-z`, `0-9`, `-`, `.`.
//! Names are hashed into their TLD's buckets; a lookup packs the query the
//! same way and compares bytes, so answers are exact.

use chrono::NaiveDate;

use super::{PreloadError, PreloadMatch};

/// The label at the start of every compiled table.
pub const MAGIC: [u8; 8] = *b"HSTSPRLD";
/// The format version this build reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// The size of the fixed header.
pub const HEADER_LEN: usize = 80;
/// The largest table we load: 64 MiB.
pub(crate) const MAX_TABLE_LEN: usize = 64 << 20;
/// The longest name-without-TLD, in packed symbols (3 characters each).
pub(crate) const MAX_PACKED: usize = 85;
/// Flags of a TLD record.
pub(crate) const TLD_IS_ENTRY: u8 = 1;
pub(crate) const TLD_INCLUDE_SUBDOMAINS: u8 = 2;
const EMPTY_SLOT: u32 = u32::MAX;

/// The decoded fixed header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub date: NaiveDate,
    pub entry_count: u32,
    pub tld_count: u32,
    pub slot_count: u32,
    pub bucket_count: u32,
    pub tld_area_len: u32,
    pub blob_len: u32,
    pub body_crc: u32,
    pub source_sha256: [u8; 32],
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

impl Header {
    /// Checks the label, version and header checksum.
    pub fn parse(b: &[u8]) -> Result<Header, PreloadError> {
        if b.len() < MAGIC.len() || b[..MAGIC.len()] != MAGIC {
            return Err(if !b.is_empty() && MAGIC.starts_with(b) {
                PreloadError::Truncated {
                    len: b.len(),
                    needed: HEADER_LEN,
                }
            } else {
                PreloadError::BadMagic
            });
        }
        if b.len() < HEADER_LEN {
            return Err(PreloadError::Truncated {
                len: b.len(),
                needed: HEADER_LEN,
            });
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != FORMAT_VERSION {
            return Err(PreloadError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let crc = u32_at(b, 76).unwrap_or(0);
        if crc32fast::hash(&b[..76]) != crc {
            return Err(PreloadError::HeaderChecksum);
        }
        if u16::from_le_bytes([b[10], b[11]]) != 0 {
            return Err(PreloadError::Corrupt(
                "reserved header bytes are not zero".into(),
            ));
        }
        let r = |at| u32_at(b, at).unwrap_or(0);
        let days = r(12) as i32;
        let date = epoch()
            .checked_add_signed(chrono::Duration::days(i64::from(days)))
            .ok_or_else(|| PreloadError::Corrupt(format!("date {days} out of range")))?;
        let mut source_sha256 = [0u8; 32];
        source_sha256.copy_from_slice(&b[44..76]);
        Ok(Header {
            date,
            entry_count: r(16),
            tld_count: r(20),
            slot_count: r(24),
            bucket_count: r(28),
            tld_area_len: r(32),
            blob_len: r(36),
            body_crc: r(40),
            source_sha256,
        })
    }

    /// Writes the header, computing its checksum.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        let days = (self.date - epoch()).num_days() as i32;
        out.extend_from_slice(&days.to_le_bytes());
        for v in [
            self.entry_count,
            self.tld_count,
            self.slot_count,
            self.bucket_count,
            self.tld_area_len,
            self.blob_len,
            self.body_crc,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.source_sha256);
        let crc = crc32fast::hash(&out[start..start + 76]);
        out.extend_from_slice(&crc.to_le_bytes());
    }
}

/// Where each section starts, checked against the table's length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    slots: usize,
    slot_count: usize,
    tlds: usize,
    tlds_len: usize,
    index: usize,
    bucket_count: usize,
    blob: usize,
    blob_len: usize,
}

impl Layout {
    pub fn new(h: &Header, len: usize) -> Result<Layout, PreloadError> {
        if !h.slot_count.is_power_of_two() {
            return Err(PreloadError::Corrupt(format!(
                "TLD slot count {} is not a power of two",
                h.slot_count
            )));
        }
        let slots = HEADER_LEN;
        let slot_count = h.slot_count as usize;
        let tlds = slots + slot_count * 4;
        let index = tlds + h.tld_area_len as usize;
        let bucket_count = h.bucket_count as usize;
        let blob = index + (bucket_count + 1) * 4;
        let end = blob + h.blob_len as usize;
        if end > len {
            return Err(PreloadError::Truncated { len, needed: end });
        }
        if end < len {
            return Err(PreloadError::TrailingData(len - end));
        }
        Ok(Layout {
            slots,
            slot_count,
            tlds,
            tlds_len: h.tld_area_len as usize,
            index,
            bucket_count,
            blob,
            blob_len: h.blob_len as usize,
        })
    }
}

/// Maps a hash into `0..n` without division.
pub(crate) fn reduce(h: u64, n: u32) -> u32 {
    (((h >> 32) * u64::from(n)) >> 32) as u32
}

/// The symbol of a name character, or `None` outside the alphabet.
fn symbol(c: u8) -> Option<u16> {
    match c {
        b'a'..=b'z' => Some(u16::from(c - b'a') + 1),
        b'0'..=b'9' => Some(u16::from(c - b'0') + 27),
        b'-' => Some(37),
        b'.' => Some(38),
        _ => None,
    }
}

/// The character of a symbol (`0` is padding).
fn character(s: u16) -> Option<u8> {
    match s {
        1..=26 => Some(b'a' + (s - 1) as u8),
        27..=36 => Some(b'0' + (s - 27) as u8),
        37 => Some(b'-'),
        38 => Some(b'.'),
        _ => None,
    }
}

/// 39⁰, 39¹, 39², 39³.
const POW39: [u16; 4] = [1, 39, 39 * 39, 39 * 39 * 39];

/// Packs a name (without TLD) into groups of three symbols, aligned on the
/// right and listed from the right: group 0 holds the last three characters,
/// and the leftmost group is padded at its front. With this layout the
/// groups of every label suffix are the first groups of the whole name,
/// except that the suffix's last group keeps only its own characters
/// (`group % 39^r`), so one pass serves every suffix.
/// Returns the number of groups, or `None` for a character outside the
/// alphabet or a name too long for the format.
pub(crate) fn pack(name: &[u8], out: &mut [u16; MAX_PACKED]) -> Option<usize> {
    let n = name.len().div_ceil(3);
    if n > MAX_PACKED || name.is_empty() {
        return None;
    }
    out[..n].fill(0);
    for (d, &c) in name.iter().rev().enumerate() {
        out[d / 3] += symbol(c)? * POW39[d % 3];
    }
    Some(n)
}

/// Hashes packed groups; the same function at compile and lookup time.
/// `prefix` is the state after all but the last group.
pub(crate) fn hash_groups(groups: &[u16]) -> u64 {
    match groups.split_last() {
        Some((&last, init)) => finish(prefix_state(HASH_SEED, init), last),
        None => finish(HASH_SEED, 0),
    }
}

const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;

fn prefix_state(mut h: u64, groups: &[u16]) -> u64 {
    for &g in groups {
        h = mix(h, g);
    }
    h
}

fn mix(h: u64, g: u16) -> u64 {
    (h ^ u64::from(g)).wrapping_mul(0x0000_0100_0000_01b3)
}

fn finish(h: u64, last: u16) -> u64 {
    let h = mix(h, last);
    (h ^ (h >> 31)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Unpacks groups (in stored order) into characters; `None` if they are
/// not a valid packing.
fn unpack(packed: &[u8], out: &mut String) -> Option<()> {
    let n = packed.len() / 2;
    let mut chars = Vec::with_capacity(n * 3);
    for i in 0..n {
        let v = u16::from_le_bytes([packed[2 * i], packed[2 * i + 1]]);
        if v >= POW39[3] {
            return None;
        }
        let last = i + 1 == n;
        for (k, pow) in POW39[..3].iter().enumerate() {
            let s = (v / pow) % 39;
            match character(s) {
                Some(c) => chars.push(c),
                // Padding only at the front of the leftmost group.
                None if s == 0 && last && k > 0 && v / pow == 0 => break,
                None => return None,
            }
        }
    }
    chars.reverse();
    out.push_str(std::str::from_utf8(&chars).ok()?);
    Some(())
}

/// FNV-1a over bytes, for the TLD slots.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = HASH_SEED;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// A TLD record, read in place.
struct Tld<'a> {
    name: &'a [u8],
    flags: u8,
    first_bucket: u32,
    bucket_count: u32,
    /// Offset of the byte after the record, within the TLD area.
    end: usize,
}

fn tld_at(area: &[u8], at: usize) -> Option<Tld<'_>> {
    let len = *area.get(at)? as usize;
    let name = area.get(at + 1..at + 1 + len)?;
    let p = at + 1 + len;
    Some(Tld {
        name,
        flags: *area.get(p)?,
        first_bucket: u32_at(area, p + 1)?,
        bucket_count: u32_at(area, p + 5)?,
        end: p + 9,
    })
}

fn find_tld<'a>(b: &'a [u8], l: &Layout, tld: &[u8]) -> Option<Tld<'a>> {
    let area = b.get(l.tlds..l.tlds + l.tlds_len)?;
    let mask = l.slot_count - 1;
    let mut slot = (hash(tld) as usize) & mask;
    for _ in 0..l.slot_count {
        let off = u32_at(b, l.slots + slot * 4)?;
        if off == EMPTY_SLOT {
            return None;
        }
        let rec = tld_at(area, off as usize)?;
        if rec.name == tld {
            return Some(rec);
        }
        slot = (slot + 1) & mask;
    }
    None
}

fn bucket_range(b: &[u8], l: &Layout, bucket: usize) -> Option<(usize, usize)> {
    let start = u32_at(b, l.index + bucket * 4)? as usize;
    let end = u32_at(b, l.index + bucket * 4 + 4)? as usize;
    (start <= end && end <= l.blob_len).then_some((l.blob + start, l.blob + end))
}

/// The query's name-without-TLD, packed once for all its label suffixes.
struct Query {
    /// Groups as stored (little-endian u16s, group 0 first).
    bytes: [u8; MAX_PACKED * 2],
    /// Hash state after groups `0..k`, for each `k`.
    states: [u64; MAX_PACKED + 1],
    groups: [u16; MAX_PACKED],
}

/// Probes the suffix of `len` characters: `Some(isd)` if listed.
fn probe(b: &[u8], l: &Layout, tld: &Tld<'_>, q: &Query, len: usize) -> Option<bool> {
    if tld.bucket_count == 0 || len == 0 {
        return None;
    }
    let n = len.div_ceil(3);
    if n > MAX_PACKED {
        return None;
    }
    let last = q.groups[n - 1] % POW39[len - 3 * (n - 1)];
    let h = finish(q.states[n - 1], last);
    let bucket = tld.first_bucket as usize + reduce(h, tld.bucket_count) as usize;
    if bucket >= l.bucket_count {
        return None;
    }
    let (mut p, end) = bucket_range(b, l, bucket)?;
    let head = &q.bytes[..2 * (n - 1)];
    let last = last.to_le_bytes();
    while p < end {
        let hdr = *b.get(p)?;
        let k = usize::from(hdr & 0x7f);
        if k == n {
            let stored = b.get(p + 1..p + 1 + 2 * k)?;
            if &stored[..2 * (n - 1)] == head && stored[2 * (n - 1)..] == last {
                return Some(hdr & 0x80 != 0);
            }
        }
        p += 1 + 2 * k;
    }
    None
}

/// See [`super::PreloadList::lookup`]. One right-to-left pass packs and
/// hashes the host; then each label suffix costs one bucket probe.
pub(crate) fn lookup<'h>(b: &[u8], l: &Layout, host: &'h str) -> Option<PreloadMatch<'h>> {
    let hb = host.as_bytes();
    if hb.is_empty() || hb.len() > 253 {
        return None;
    }
    let (rest_len, tld_name) = match hb.iter().rposition(|&c| c == b'.') {
        Some(dot) => (dot, &hb[dot + 1..]),
        None => (0, hb),
    };
    let tld = find_tld(b, l, tld_name)?;
    if rest_len > 0 && tld.bucket_count > 0 {
        let rest = &hb[..rest_len];
        let mut q = Query {
            bytes: [0; MAX_PACKED * 2],
            states: [HASH_SEED; MAX_PACKED + 1],
            groups: [0; MAX_PACKED],
        };
        // Characters from the right; `valid` is how many are in the alphabet.
        let mut valid = 0;
        for (d, &c) in rest.iter().rev().enumerate() {
            let Some(s) = symbol(c) else { break };
            if d / 3 >= MAX_PACKED {
                break;
            }
            q.groups[d / 3] += s * POW39[d % 3];
            valid = d + 1;
        }
        let ngroups = valid.div_ceil(3);
        for k in 0..ngroups {
            q.bytes[2 * k..2 * k + 2].copy_from_slice(&q.groups[k].to_le_bytes());
            q.states[k + 1] = mix(q.states[k], q.groups[k]);
        }
        // Label starts, longest suffix first: the host itself (a congruent
        // match), then each superdomain, nearest first.
        let mut start = 0;
        loop {
            let len = rest_len - start;
            if len <= valid {
                if let Some(isd) = probe(b, l, &tld, &q, len) {
                    if start == 0 || isd {
                        return Some(PreloadMatch {
                            name: &host[start..],
                            include_subdomains: isd,
                        });
                    }
                }
            }
            match rest[start..].iter().position(|&c| c == b'.') {
                Some(i) => start += i + 1,
                None => break,
            }
        }
    }
    let isd = tld.flags & TLD_INCLUDE_SUBDOMAINS != 0;
    (tld.flags & TLD_IS_ENTRY != 0 && (rest_len == 0 || isd)).then_some(PreloadMatch {
        name: &host[host.len() - tld_name.len()..],
        include_subdomains: isd,
    })
}

/// Walks every TLD record in area order.
fn tlds<'a>(b: &'a [u8], l: &Layout) -> impl Iterator<Item = Tld<'a>> + 'a {
    let area = b.get(l.tlds..l.tlds + l.tlds_len).unwrap_or(&[]);
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= area.len() {
            return None;
        }
        let rec = tld_at(area, at)?;
        at = rec.end;
        Some(rec)
    })
}

/// Walks the entries of one bucket: `(packed name, isd)`.
fn bucket_entries<'a>(
    b: &'a [u8],
    l: &Layout,
    bucket: usize,
) -> impl Iterator<Item = (&'a [u8], bool)> + 'a {
    let (mut p, end) = bucket_range(b, l, bucket).unwrap_or((0, 0));
    std::iter::from_fn(move || {
        if p >= end {
            return None;
        }
        let hdr = *b.get(p)?;
        let n = usize::from(hdr & 0x7f) * 2;
        let packed = b.get(p + 1..p + 1 + n)?;
        p += 1 + n;
        Some((packed, hdr & 0x80 != 0))
    })
}

/// See [`super::PreloadList::iter`].
pub(crate) fn iter<'a>(b: &'a [u8], l: &Layout) -> impl Iterator<Item = (String, bool)> + 'a {
    let l = *l;
    tlds(b, &l).flat_map(move |tld| {
        let tld_name = String::from_utf8_lossy(tld.name).into_owned();
        let own = (tld.flags & TLD_IS_ENTRY != 0)
            .then(|| (tld_name.clone(), tld.flags & TLD_INCLUDE_SUBDOMAINS != 0));
        let first = tld.first_bucket as usize;
        let last = first
            .saturating_add(tld.bucket_count as usize)
            .min(l.bucket_count);
        own.into_iter().chain((first..last).flat_map(move |bucket| {
            let tld_name = tld_name.clone();
            bucket_entries(b, &l, bucket).map(move |(packed, isd)| {
                let mut name = String::with_capacity(packed.len() * 3 / 2 + tld_name.len() + 1);
                if unpack(packed, &mut name).is_none() {
                    name.push('?');
                }
                name.push('.');
                name.push_str(&tld_name);
                (name, isd)
            })
        }))
    })
}

/// The full check: body checksum, then every structure a lookup relies on.
pub(crate) fn verify(b: &[u8], h: &Header, l: &Layout) -> Result<(), PreloadError> {
    let corrupt = |m: String| Err(PreloadError::Corrupt(m));
    let actual = crc32fast::hash(&b[HEADER_LEN..]);
    if actual != h.body_crc {
        return Err(PreloadError::BodyChecksum {
            expected: h.body_crc,
            actual,
        });
    }
    // Bucket index: monotone, ending at the blob's length.
    let mut prev = 0u32;
    for i in 0..=l.bucket_count {
        let off = u32_at(b, l.index + i * 4).unwrap_or(u32::MAX);
        if off < prev || off as usize > l.blob_len {
            return corrupt(format!("bucket offset {i} out of order"));
        }
        prev = off;
    }
    if u32_at(b, l.index).unwrap_or(1) != 0 || prev as usize != l.blob_len {
        return corrupt("bucket index does not cover the blob".into());
    }
    // TLD records: parse back to back, each reachable through its slot, with
    // bucket ranges that tile the index in order.
    let mut tld_count = 0u32;
    let mut entries = 0u64;
    let mut next_bucket = 0usize;
    let mut at = 0usize;
    let area = &b[l.tlds..l.tlds + l.tlds_len];
    while at < area.len() {
        let Some(rec) = tld_at(area, at) else {
            return corrupt(format!("TLD record at {at} is cut short"));
        };
        if rec.name.is_empty() || rec.name.iter().any(|&c| symbol(c).is_none() || c == b'.') {
            return corrupt(format!("TLD record at {at} has an invalid name"));
        }
        if rec.flags & !(TLD_IS_ENTRY | TLD_INCLUDE_SUBDOMAINS) != 0
            || (rec.flags & TLD_INCLUDE_SUBDOMAINS != 0 && rec.flags & TLD_IS_ENTRY == 0)
        {
            return corrupt(format!("TLD record at {at} has invalid flags"));
        }
        match find_tld(b, l, rec.name) {
            Some(found) if found.end == rec.end => {}
            _ => return corrupt(format!("TLD record at {at} is not reachable from its slot")),
        }
        if rec.first_bucket as usize != next_bucket {
            return corrupt(format!("TLD record at {at} has buckets out of order"));
        }
        next_bucket += rec.bucket_count as usize;
        if next_bucket > l.bucket_count {
            return corrupt(format!("TLD record at {at} has buckets past the index"));
        }
        if rec.flags & TLD_IS_ENTRY != 0 {
            entries += 1;
        }
        for bucket in rec.first_bucket as usize..next_bucket {
            let (mut p, end) = bucket_range(b, l, bucket).unwrap_or((0, 0));
            while p < end {
                let hdr = b[p];
                let n = usize::from(hdr & 0x7f) * 2;
                if n == 0 || p + 1 + n > end {
                    return corrupt(format!(
                        "entry at blob offset {} overruns its bucket",
                        p - l.blob
                    ));
                }
                let packed = &b[p + 1..p + 1 + n];
                let mut name = String::new();
                if unpack(packed, &mut name).is_none()
                    || name.starts_with('.')
                    || name.ends_with('.')
                    || name.contains("..")
                {
                    return corrupt(format!(
                        "entry at blob offset {} is not a valid name",
                        p - l.blob
                    ));
                }
                let groups: Vec<u16> = packed
                    .chunks(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                let home = rec.first_bucket as usize
                    + reduce(hash_groups(&groups), rec.bucket_count) as usize;
                if home != bucket {
                    return corrupt(format!("entry {name} is in the wrong bucket"));
                }
                entries += 1;
                p += 1 + n;
            }
        }
        tld_count += 1;
        at = rec.end;
    }
    if next_bucket != l.bucket_count {
        return corrupt("buckets not owned by any TLD".into());
    }
    if tld_count != h.tld_count {
        return corrupt(format!(
            "{tld_count} TLD records, header says {}",
            h.tld_count
        ));
    }
    let used_slots = (0..l.slot_count)
        .filter(|s| u32_at(b, l.slots + s * 4) != Some(EMPTY_SLOT))
        .count();
    if used_slots != tld_count as usize {
        return corrupt(format!(
            "{used_slots} TLD slots in use for {tld_count} TLDs"
        ));
    }
    if entries != u64::from(h.entry_count) {
        return corrupt(format!("{entries} entries, header says {}", h.entry_count));
    }
    Ok(())
}
