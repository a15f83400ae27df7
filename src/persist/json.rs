//! The JSON form of the store ([`Format::Json`](super::Format::Json)), for
//! people and other tools. Only with the `json` feature.
//!
//! Export writes the document below. Import reads it, a bare array of
//! entries, or one entry object per line (what `hsts list --json` prints):
//! one shape of entry throughout. An entry may carry `"partition"` (the
//! top-level site of a partitioned store); a partitioned entry is skipped
//! on import with [`SkipReason::Partitioned`](super::SkipReason::Partitioned),
//! as in a binary import. An expiry past year 9999 (a saturated max-age,
//! curl's `"unlimited"`) is written as `9999-12-31T23:59:59Z`, the largest
//! instant RFC 3339 can write: every timestamp is a string that RFC 3339
//! parsers accept, and no number in the document exceeds 2^53.
//!
//! ```json
//! {
//!   "format": "hsts-store",
//!   "version": 1,
//!   "entries": [
//!     { "host": "example.com", "include_subdomains": true,
//!       "observed": "2026-11-01T00:00:00Z", "expires": "2027-11-01T00:00:00Z" }
//!   ]
//! }
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{PersistError, MAX_FILE_LEN};
use crate::{Entry, EntryRef};

/// The value of the `format` field.
const FORMAT_NAME: &str = "hsts-store";

/// The version of the JSON document, independent of the binary file's:
/// the document carries neither limits nor usage, so it stays at 1.
const VERSION: u16 = 1;

/// The JSON document.
#[derive(Debug, Serialize, Deserialize)]
struct JsonFile {
    format: String,
    version: u16,
    entries: Vec<JsonEntry>,
}

/// One entry of the document.
#[derive(Debug, Serialize, Deserialize)]
struct JsonEntry {
    host: String,
    include_subdomains: bool,
    observed: DateTime<Utc>,
    #[serde(serialize_with = "capped")]
    expires: DateTime<Utc>,
    /// The top-level site of a partitioned entry (`hsts list --json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partition: Option<String>,
}

/// The largest instant RFC 3339 can write: 9999-12-31T23:59:59Z.
fn rfc3339_max() -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Writes an expiry, capped at [`rfc3339_max`].
fn capped<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    (*t).min(rfc3339_max()).serialize(s)
}

/// An entry read from JSON, with its partition if it has one.
pub(crate) type JsonRead = (Entry, Option<String>);

/// Writes `entries`, in their order, as a JSON document ending in a newline.
pub(crate) fn export(entries: Vec<EntryRef<'_>>) -> Result<Vec<u8>, PersistError> {
    let doc = JsonFile {
        format: FORMAT_NAME.into(),
        version: VERSION,
        entries: entries
            .into_iter()
            .map(|e| JsonEntry {
                host: e.host.to_owned(),
                include_subdomains: e.include_subdomains,
                observed: e.observed,
                expires: e.expires,
                partition: None,
            })
            .collect(),
    };
    let mut s = serde_json::to_vec_pretty(&doc).map_err(PersistError::Encode)?;
    s.push(b'\n');
    Ok(s)
}

fn json_err(source: serde_json::Error) -> PersistError {
    PersistError::Json {
        line: source.line(),
        source,
    }
}

/// Reads JSON entries, not yet checked (the import puts each through the
/// validity rule, `entry::check_record`): the document, a bare array of
/// entries, or a sequence of entry objects (one per line).
pub(crate) fn import(bytes: &[u8]) -> Result<Vec<JsonRead>, PersistError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(PersistError::TooLarge(bytes.len() as u64));
    }
    let mut values = Vec::new();
    for v in serde_json::Deserializer::from_slice(bytes).into_iter::<serde_json::Value>() {
        values.push(v.map_err(json_err)?);
    }
    let is_doc = |v: &serde_json::Value| {
        v.as_object()
            .is_some_and(|m| m.contains_key("format") || m.contains_key("entries"))
    };
    let entries: Vec<JsonEntry> = match values.as_slice() {
        [v] if is_doc(v) => return document(bytes),
        [serde_json::Value::Array(_)] => {
            serde_json::from_value(values.pop().unwrap_or_default()).map_err(json_err)?
        }
        _ => values
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
            .map_err(json_err)?,
    };
    Ok(entries.into_iter().map(from_json).collect())
}

fn from_json(e: JsonEntry) -> JsonRead {
    let entry = Entry {
        host: e.host,
        include_subdomains: e.include_subdomains,
        observed: e.observed,
        expires: e.expires,
    };
    (entry, e.partition)
}

/// The document form, with its format name and version checked.
fn document(bytes: &[u8]) -> Result<Vec<JsonRead>, PersistError> {
    let doc: JsonFile = serde_json::from_slice(bytes).map_err(json_err)?;
    if doc.format != FORMAT_NAME {
        return Err(PersistError::NotOurJson { found: doc.format });
    }
    if doc.version != VERSION {
        return Err(PersistError::UnsupportedVersion {
            found: doc.version,
            supported: VERSION,
        });
    }
    Ok(doc.entries.into_iter().map(from_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors() {
        assert!(matches!(
            import(br#"{"format": "other", "version": 1, "entries": []}"#),
            Err(PersistError::NotOurJson { found }) if found == "other"
        ));
        assert!(matches!(
            import(br#"{"format": "hsts-store", "version": 2, "entries": []}"#),
            Err(PersistError::UnsupportedVersion { found: 2, .. })
        ));
        assert!(matches!(
            import(b"{\n\"format\": "),
            Err(PersistError::Json { line: 2, .. })
        ));
        assert_eq!(import(&export(Vec::new()).unwrap()).unwrap(), []);
    }
}
