//! Compiling Chromium's JSON preload list into the binary table.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::format::{self, Header, HEADER_LEN, MAX_PACKED, TLD_INCLUDE_SUBDOMAINS, TLD_IS_ENTRY};
use super::PreloadError;
use crate::host::{self, Host};

/// The largest JSON list we read (after decompression): 256 MiB.
const MAX_JSON_LEN: u64 = 256 << 20;
/// Buckets are sized for this many names each on average.
const NAMES_PER_BUCKET: usize = 4;

/// What a compilation did: the entries taken and the ones left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileReport {
    entries: usize,
    not_force_https: usize,
    skipped: Vec<(String, String)>,
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

    /// Names that were left out, with the reason (an IP literal such as
    /// `1.0.0.1` can never match, since IP hosts are never HSTS hosts).
    pub fn skipped_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.skipped.iter().map(|(n, r)| (n.as_str(), r.as_str()))
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
                report
                    .skipped
                    .push((name, "IP literal: IP hosts are never HSTS hosts".into()));
                continue;
            }
            Err(e) => {
                report.skipped.push((name, format!("invalid name: {e}")));
                continue;
            }
        };
        let mut buf = [0u16; MAX_PACKED];
        let (rest, tld) = match canonical.rsplit_once('.') {
            Some((rest, tld)) => (Some(rest), tld),
            None => (None, canonical.as_str()),
        };
        let packable = tld.len() <= 255
            && tld.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && rest.is_none_or(|r| format::pack(r.as_bytes(), &mut buf).is_some());
        if !packable {
            report
                .skipped
                .push((name, "character outside [a-z0-9-.]".into()));
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

    let tld_count = by_tld.len();
    let slot_count = (tld_count * 2).next_power_of_two().max(1);
    let mut slots = vec![u32::MAX; slot_count];
    let mut tld_area = Vec::new();
    let mut index: Vec<u32> = vec![0];
    let mut blob = Vec::new();
    let mut entry_count = 0usize;
    for (tld, (own, names)) in &by_tld {
        let record_at =
            u32::try_from(tld_area.len()).map_err(|_| PreloadError::TooLarge("TLD area".into()))?;
        let mut s = (format::hash(tld.as_bytes()) as usize) & (slot_count - 1);
        while slots[s] != u32::MAX {
            s = (s + 1) & (slot_count - 1);
        }
        slots[s] = record_at;
        let first_bucket = index.len() - 1;
        let bucket_count = names.len().div_ceil(NAMES_PER_BUCKET);
        let mut buckets: Vec<Vec<([u16; MAX_PACKED], usize, bool)>> =
            vec![Vec::new(); bucket_count];
        for (name, &isd) in names {
            let mut groups = [0u16; MAX_PACKED];
            let n = format::pack(name.as_bytes(), &mut groups).unwrap_or(0);
            let b = format::reduce(format::hash_groups(&groups[..n]), bucket_count as u32) as usize;
            buckets[b].push((groups, n, isd));
        }
        for bucket in buckets {
            for (groups, n, isd) in bucket {
                blob.push((n as u8) | if isd { 0x80 } else { 0 });
                for g in &groups[..n] {
                    blob.extend_from_slice(&g.to_le_bytes());
                }
            }
            let end = u32::try_from(blob.len())
                .map_err(|_| PreloadError::TooLarge("name blob over 4 GiB".into()))?;
            index.push(end);
        }
        entry_count += names.len() + usize::from(own.is_some());
        tld_area.push(tld.len() as u8);
        tld_area.extend_from_slice(tld.as_bytes());
        tld_area.push(match own {
            Some(true) => TLD_IS_ENTRY | TLD_INCLUDE_SUBDOMAINS,
            Some(false) => TLD_IS_ENTRY,
            None => 0,
        });
        tld_area.extend_from_slice(&(first_bucket as u32).to_le_bytes());
        tld_area.extend_from_slice(&(bucket_count as u32).to_le_bytes());
    }
    report.entries = entry_count;

    let mut body =
        Vec::with_capacity(slot_count * 4 + tld_area.len() + index.len() * 4 + blob.len());
    for s in &slots {
        body.extend_from_slice(&s.to_le_bytes());
    }
    body.extend_from_slice(&tld_area);
    for off in &index {
        body.extend_from_slice(&off.to_le_bytes());
    }
    body.extend_from_slice(&blob);
    let too_large = |what: &str| PreloadError::TooLarge(what.to_owned());
    let header = Header {
        date,
        entry_count: u32::try_from(entry_count).map_err(|_| too_large("entry count"))?,
        tld_count: tld_count as u32,
        slot_count: slot_count as u32,
        bucket_count: (index.len() - 1) as u32,
        tld_area_len: u32::try_from(tld_area.len()).map_err(|_| too_large("TLD area"))?,
        blob_len: u32::try_from(blob.len()).map_err(|_| too_large("name blob"))?,
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
