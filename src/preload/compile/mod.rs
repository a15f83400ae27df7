//! Compiling Chromium's JSON preload list into the binary table, in named
//! stages: read the JSON (`json`), canonicalise and group the names by TLD
//! (`names`), build the two Huffman codes (`huffman`), place the records in
//! buckets and the TLDs in slots (`buckets`), and write the table
//! (`write`).

mod bits;
mod buckets;
mod huffman;
mod json;
mod names;
mod report;
mod write;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

pub use report::{CompileReport, SkipReason};

use super::error::PreloadError;
use huffman::{LengthCode, NameCode};

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
    let json = json::json_text(input)?;
    let sha: [u8; 32] = Sha256::digest(&json).into();
    let (names, not_force_https) = json::force_https_entries(&json)?;
    let (bytes, mut report) = compile_entries(names, date, sha)?;
    report.not_force_https = not_force_https;
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
    let by_tld = names::group_by_tld(entries, &mut report);
    let all_names = by_tld.values().flat_map(|t| t.names.keys());
    let name_code = NameCode::build(all_names.map(String::as_str));
    let coded = buckets::code_names(&by_tld, &name_code);
    let (max_labels, max_record_bits) = buckets::limits(&by_tld, &coded)?;
    let len_code = LengthCode::build(coded.iter().flatten().map(|c| (c.bits, c.isd)));
    let records = buckets::write_records(&by_tld, &coded, &len_code)?;
    let slots = buckets::tld_slots(&records.placed)?;
    let offsets = buckets::bucket_offsets(&records.boundaries)?;
    report.entries = records.entry_count;
    let sections = write::Sections {
        name_code: &name_code,
        len_code: &len_code,
        slots,
        records,
        offsets,
        max_labels,
        max_record_bits,
    };
    let table = write::table(sections, date, source_sha256)?;
    Ok((table, report))
}
