//! The checks of the `store_decode` fuzz target, shared with
//! `tests/fuzz_regressions.rs`: decoding an untrusted store file never
//! panics, and what decodes re-encodes to a file that decodes to the same
//! live entries. Each input is tried as it is (header checks) and with its
//! header rewritten to match the body's length and CRC-32, so that
//! mutations reach the record decoder instead of stopping at the checksum.

use chrono::{TimeZone, Utc};
use hsts::internal::StoreInternals;

fn check(data: &[u8]) {
    let config = hsts::StoreConfig {
        preload: hsts::PreloadSource::Off,
        capacity: 64,
        per_site_quota: 8,
        ..Default::default()
    };
    if let Ok(store) = hsts::persist::decode(data, config.clone()) {
        let now = Utc.timestamp_opt(0, 0).unwrap();
        // The limits in force are the larger of the configured ones and
        // the file's (format version 2 and later), the file's capped at MAX_CAPACITY.
        let capacity = store.config().capacity_in_force();
        assert!(capacity >= config.capacity && capacity <= hsts::MAX_CAPACITY);
        assert!(store.len() <= capacity);
        assert!(store.tombstones().count() <= 2 * capacity);
        for e in store.iter() {
            assert_eq!(store.get_in(e.partition.unwrap_or(""), e.host), Some(e));
        }
        let again = hsts::persist::decode(&hsts::persist::encode(&store, now), config.clone())
            .expect("re-encoded store decodes");
        let mut a: Vec<_> = store.iter().filter(|e| e.is_live_at(now)).collect();
        let mut b: Vec<_> = again.iter().collect();
        a.sort_by(|x, y| (x.host, x.partition).cmp(&(y.host, y.partition)));
        b.sort_by(|x, y| (x.host, x.partition).cmp(&(y.host, y.partition)));
        assert_eq!(a, b);
    }
}

/// Runs the checks on `data` as it is and behind a corrected header.
pub fn run(data: &[u8]) {
    check(data);
    let header = hsts::persist::HEADER_LEN;
    if data.len() >= header {
        let body = &data[header..];
        let mut fixed = Vec::with_capacity(data.len());
        fixed.extend_from_slice(&hsts::persist::MAGIC);
        fixed.extend_from_slice(&hsts::persist::VERSION.to_le_bytes());
        fixed.extend_from_slice(&[0, 0]);
        fixed.extend_from_slice(&(body.len() as u64).to_le_bytes());
        fixed.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        fixed.extend_from_slice(body);
        check(&fixed);
    }
}
