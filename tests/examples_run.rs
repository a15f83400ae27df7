//! The examples make real requests: each one's `run` is called twice
//! against its own loopback server, with one store file in a temporary
//! directory. The first run sends the first `http://` request in plain
//! text, notes the https response and upgrades the next one; the second
//! run finds the host in the file and sends nothing in plain text.
//!
//! Each example brings its own copy of `examples/common/mod.rs`, as it
//! does when built alone.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "../examples/reqwest_client.rs"]
mod reqwest_client;
#[allow(dead_code)]
#[path = "../examples/tower_client.rs"]
mod tower_client;
#[allow(dead_code)]
#[path = "../examples/ureq_client.rs"]
mod ureq_client;

use std::path::Path;

fn twice(run: impl Fn(&Path) -> (bool, (usize, usize), bool)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.bin");
    // First run: unknown, one plain request, then https and upgraded.
    assert_eq!(run(&path), (false, (1, 2), true));
    assert!(path.exists(), "the store is in the file");
    // Second run: known from the file, nothing in plain text.
    assert_eq!(run(&path), (true, (0, 3), true));
}

#[test]
fn reqwest_example_runs_twice_with_one_store_file() {
    twice(|p| {
        let s = reqwest_client::run(p).unwrap();
        (s.known_at_start, s.counts, s.known_at_end)
    });
}

#[test]
fn ureq_example_runs_twice_with_one_store_file() {
    twice(|p| {
        let s = ureq_client::run(p).unwrap();
        (s.known_at_start, s.counts, s.known_at_end)
    });
}

#[test]
fn tower_example_runs_twice_with_one_store_file() {
    twice(|p| {
        let s = tower_client::run(p).unwrap();
        (s.known_at_start, s.counts, s.known_at_end)
    });
}
