//! Replays the inputs kept under `tests/data/fuzz-regressions/<target>/`
//! through the same checks the fuzz targets in `fuzz/fuzz_targets/` run.
//!
//! Each file is the raw libFuzzer input; the checks decode it with
//! `arbitrary` exactly as the fuzz target does. A crash found by
//! `cargo fuzz run TARGET` is kept by copying `fuzz/artifacts/TARGET/crash-*`
//! into the target's directory here.

use std::path::{Path, PathBuf};

#[path = "../fuzz/fuzz_targets/shared/header_parse.rs"]
mod header_parse;

#[path = "../fuzz/fuzz_targets/shared/host_canon.rs"]
mod host_canon;

#[path = "../fuzz/fuzz_targets/shared/store_decode.rs"]
mod store_decode;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-regressions")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .filter(|(p, _)| p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    out.sort();
    out
}

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let all = inputs(target);
    for (path, bytes) in &all {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(outcome.is_ok(), "{target}: {} fails again", path.display());
    }
    all.len()
}

#[test]
fn header_parse_regressions() {
    let n = replay("header_parse", header_parse::run);
    println!("header_parse: {n} kept input(s) replayed");
}

#[test]
fn host_canon_regressions() {
    let n = replay("host_canon", host_canon::run);
    println!("host_canon: {n} kept input(s) replayed");
}

#[test]
fn store_decode_regressions() {
    let n = replay("store_decode", store_decode::run);
    println!("store_decode: {n} kept input(s) replayed");
}

/// The checks themselves run on a few fixed inputs (empty, all-zero,
/// all-0xff, and every byte), so this file is exercised even while the
/// regression directories are empty.
#[test]
fn checks_run_on_fixed_inputs() {
    let every_byte: Vec<u8> = (0..=255).collect();
    for data in [&[][..], &[0; 64], &[0xff; 64], &every_byte] {
        header_parse::run(data);
        host_canon::run(data);
        store_decode::run(data);
    }
}
