//! Untrusted curl HSTS cache files: import never panics, never takes an IP
//! literal, and what it takes exports and re-imports unchanged.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    if let Ok((entries, _skipped)) = hsts::persist::import_curl(data, now) {
        for e in &entries {
            assert!(matches!(hsts::host::canonicalize(&e.host), Ok(hsts::Host::Domain(_))));
        }
        let text = hsts::persist::export_curl(entries.iter().map(hsts::Entry::as_ref));
        let (again, skipped) = hsts::persist::import_curl(text.as_bytes(), now).expect("our export imports");
        assert!(skipped.is_empty());
        assert_eq!(again.len(), entries.len());
    }
});
