//! Writing the table: the body's sections in order, then the header that
//! describes them.

use chrono::NaiveDate;

use super::buckets::{Offsets, Records};
use super::huffman::{LengthCode, NameCode};
use super::report::{fit_u32, too_large};
use crate::preload::error::PreloadError;
use crate::preload::format::{Header, HEADER_LEN, MAX_TABLE_LEN};

/// Everything the table holds, from the compiler's stages.
pub(super) struct Sections<'a> {
    pub(super) name_code: &'a NameCode,
    pub(super) len_code: &'a LengthCode,
    pub(super) slots: Vec<u32>,
    pub(super) records: Records<'a>,
    pub(super) offsets: Offsets,
    /// The most labels in a record's name.
    pub(super) max_labels: u8,
    /// The most bits in a record's name.
    pub(super) max_record_bits: u16,
}

/// The table: header, then name code, length code, TLD slots, TLD area,
/// superblocks, offsets and records (see the layout in `format`).
pub(super) fn table(
    s: Sections<'_>,
    date: NaiveDate,
    source_sha256: [u8; 32],
) -> Result<Vec<u8>, PreloadError> {
    let records = s.records;
    let record_bits = fit_u32("record stream (bits)", records.stream.bits)?;
    let mut body = s.name_code.table();
    body.extend_from_slice(&s.len_code.table());
    for slot in &s.slots {
        body.extend_from_slice(&slot.to_le_bytes());
    }
    body.extend_from_slice(&records.tld_area);
    for sup in &s.offsets.supers {
        body.extend_from_slice(&sup.to_le_bytes());
    }
    body.extend_from_slice(&s.offsets.bytes);
    body.extend_from_slice(&records.stream.finish());
    let header = Header {
        date,
        entry_count: fit_u32("entries", records.entry_count)?,
        tld_count: records.placed.len() as u32,
        slot_count: s.slots.len() as u32,
        tld_area_len: fit_u32("TLD area (bytes)", records.tld_area.len())?,
        bucket_count: fit_u32("buckets", records.boundaries.len() - 1)?,
        record_bits,
        offset_width: s.offsets.width as u8,
        count_width: records.count_width,
        max_labels: s.max_labels,
        max_record_bits: s.max_record_bits,
        slope: s.offsets.slope,
        bias: s.offsets.bias,
        body_crc: crc32fast::hash(&body),
        source_sha256,
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    header.write(&mut out);
    out.extend_from_slice(&body);
    if out.len() > MAX_TABLE_LEN {
        return Err(too_large(
            "compiled table (bytes)",
            out.len(),
            MAX_TABLE_LEN as u64,
        ));
    }
    Ok(out)
}
