//! Fuzzes the `Strict-Transport-Security` parser: any bytes, or a header
//! assembled from directive fragments. It must never panic, an error must
//! point into the input, and a parsed value must print back (Display) to a
//! header that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "shared/header_parse.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
