//! Fuzzes host canonicalisation and the store queries that use it.
//!
//! For any string: `canonicalize` never panics; a domain it returns is
//! canonical (re-canonicalising gives the same result, at most 253 octets,
//! labels of 1 to 63 octets, lower-case ASCII, no trailing dot); an IP
//! literal prints back to the same IP; and `HstsStore::lookup_at` and
//! `upgrade_at` never panic and agree with `canonicalize`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "shared/host_canon.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::run(data));
