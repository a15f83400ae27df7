//! The JSON form of the store ([`Format::Json`](super::Format::Json)), for
//! people and other tools. Only with the `json` feature.
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
    expires: DateTime<Utc>,
}

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
            })
            .collect(),
    };
    let mut s = serde_json::to_vec_pretty(&doc).map_err(PersistError::Encode)?;
    s.push(b'\n');
    Ok(s)
}

/// Reads a JSON document: its entries, not yet checked (the import puts
/// each through the validity rule, `entry::check_record`).
pub(crate) fn import(bytes: &[u8]) -> Result<Vec<Entry>, PersistError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(PersistError::TooLarge(bytes.len() as u64));
    }
    let doc: JsonFile = serde_json::from_slice(bytes).map_err(|source| PersistError::Json {
        line: source.line(),
        source,
    })?;
    if doc.format != FORMAT_NAME {
        return Err(PersistError::NotOurJson { found: doc.format });
    }
    if doc.version != VERSION {
        return Err(PersistError::UnsupportedVersion {
            found: doc.version,
            supported: VERSION,
        });
    }
    Ok(doc
        .entries
        .into_iter()
        .map(|e| Entry {
            host: e.host,
            include_subdomains: e.include_subdomains,
            observed: e.observed,
            expires: e.expires,
        })
        .collect())
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
