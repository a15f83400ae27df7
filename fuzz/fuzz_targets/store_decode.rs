//! Untrusted store files: decode never panics, and what decodes re-encodes
//! to a file that decodes to the same entries (see `shared/store_decode.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "shared/store_decode.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
