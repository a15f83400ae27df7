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

/// Chromium's file as published has `//` comment lines (its licence header
/// and notes between sections), which JSON does not allow. A line whose
/// first non-blank characters are `//` cannot be inside a JSON string
/// (strings never span lines), so each such line is blanked: the line
/// numbers of parse errors stay those of the file.
fn without_comment_lines(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let is_comment = |line: &[u8]| {
        let start = line
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r'))
            .unwrap_or(line.len());
        line[start..].starts_with(b"//")
    };
    if !json.split(|&b| b == b'\n').any(is_comment) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len());
    for (i, line) in json.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if !is_comment(line) {
            out.extend_from_slice(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The `force-https` entries as `(name, include_subdomains)` (false when
/// absent), and the number of entries of another mode. `//` comment lines,
/// as in Chromium's file, are ignored.
pub(super) fn force_https_entries(
    json: &[u8],
) -> Result<(Vec<(String, bool)>, usize), PreloadError> {
    let json = without_comment_lines(json);
    let list: JsonList = serde_json::from_slice(&json).map_err(PreloadError::Json)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_are_ignored() {
        let text = b"// Copyright\n  // note\n{\"entries\": [\n  // a section\n  {\"name\": \"a.example\", \"mode\": \"force-https\"}\n]}\n";
        let (names, other) = force_https_entries(text).unwrap();
        assert_eq!(names, [("a.example".to_owned(), false)]);
        assert_eq!(other, 0);
        // A "//" inside a string is not a comment.
        let text =
            b"{\"entries\": [{\"name\": \"b.example\", \"mode\": \"force-https\", \"x\": \"//\"}]}";
        assert_eq!(force_https_entries(text).unwrap().0.len(), 1);
    }
}
