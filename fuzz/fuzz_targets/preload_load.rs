//! Untrusted compiled preload tables: load, verify, look up, iterate.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    table: Vec<u8>,
    /// Start from a real header so the fuzzer reaches the body checks.
    patch_real_header: bool,
    hosts: Vec<String>,
}

fuzz_target!(|input: Input| {
    let mut bytes = input.table;
    if input.patch_real_header {
        let real = hsts::preload::PreloadList::builtin().as_bytes();
        let n = hsts::preload::HEADER_LEN.min(real.len());
        let mut b = real[..n].to_vec();
        b.extend_from_slice(&bytes);
        bytes = b;
    }
    if let Ok(list) = hsts::preload::PreloadList::from_bytes(bytes) {
        let verified = list.verify().is_ok();
        for h in &input.hosts {
            if let Some(m) = list.lookup(h) {
                assert!(h.ends_with(m.name));
            }
        }
        let names: Vec<_> = list.iter().take(10_000).collect();
        if verified {
            // A verified table finds every name it lists.
            for (name, isd) in names {
                let m = list.lookup(&name).expect("a listed name is found");
                assert_eq!((m.name, m.include_subdomains), (name.as_str(), isd));
            }
        }
    }
});
