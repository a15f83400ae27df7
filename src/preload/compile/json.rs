//! Reading Chromium's JSON list (plain or gzip-compressed).

use std::io::Read;

use serde::Deserialize;

use super::report::too_large;
use crate::preload::error::PreloadError;

/// The largest JSON list we read (after decompression): 256 MiB.
const MAX_JSON_LEN: u64 = 256 << 20;

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

/// The JSON text: `input` itself, or decompressed when it is gzip (at most
/// 256 MiB).
pub(super) fn json_text(input: &[u8]) -> Result<Vec<u8>, PreloadError> {
    if !input.starts_with(&[0x1f, 0x8b]) {
        return Ok(input.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(input)
        .take(MAX_JSON_LEN + 1)
        .read_to_end(&mut out)
        .map_err(PreloadError::Gzip)?;
    if out.len() as u64 > MAX_JSON_LEN {
        return Err(too_large(
            "decompressed JSON list (bytes)",
            out.len(),
            MAX_JSON_LEN,
        ));
    }
    Ok(out)
}

/// The `force-https` entries as `(name, include_subdomains)` (false when
/// absent), and the number of entries of another mode.
pub(super) fn force_https_entries(
    json: &[u8],
) -> Result<(Vec<(String, bool)>, usize), PreloadError> {
    let list: JsonList = serde_json::from_slice(json).map_err(PreloadError::Json)?;
    let mut not_force = 0;
    let names = list
        .entries
        .into_iter()
        .filter_map(|e| {
            if e.mode.as_deref() != Some("force-https") {
                not_force += 1;
                return None;
            }
            Some((e.name, e.include_subdomains.unwrap_or(false)))
        })
        .collect();
    Ok((names, not_force))
}
