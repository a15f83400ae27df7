//! Untrusted store files: decode never panics, and what decodes re-encodes
//! to a file that decodes to the same entries.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = hsts::StoreConfig {
        preload: hsts::PreloadSource::Off,
        ..Default::default()
    };
    if let Ok(store) = hsts::persist::decode(data, config.clone()) {
        let now = Utc.timestamp_opt(0, 0).unwrap();
        let again = hsts::persist::decode(&hsts::persist::encode(&store, now), config.clone()).expect("re-encoded store decodes");
        assert!(store.len() <= config.capacity);
        for e in store.iter() {
            assert_eq!(store.get_str(e.host), Some(e));
        }
        let mut a: Vec<_> = store.iter().filter(|e| e.is_live_at(now)).collect();
        let mut b: Vec<_> = again.iter().collect();
        a.sort_by(|x, y| x.host.cmp(&y.host));
        b.sort_by(|x, y| x.host.cmp(&y.host));
        assert_eq!(a, b);
    }
});
