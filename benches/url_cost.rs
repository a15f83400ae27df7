//! Issue #13: what `hsts rewrite -` cannot go below. `url` parses and
//! serialises every URL (no hand-written URL parser), so the goal for
//! `rewrite` is this cost plus 1.5× the limit program's lookup. Over the
//! 100k hosts of ../shared/bench's workload as `http://HOST/` lines (or
//! generated hosts when the workload is absent), per URL:
//! - `parse_serialise`: `Url::parse` and writing `as_str()` out;
//! - `parse_upgrade_text_serialise`: the same plus the store's upgrade (the
//!   built-in preload list, an empty dynamic store) written as the text of
//!   the URL to send (`upgrade_text_at`), as `rewrite` does;
//! - `parse_upgrade_serialise`: the upgrade as a new `Url`
//!   (`upgrade_at`), as a client that sends the request builds it.
//!
//! `cargo bench --bench url_cost -- --warm-up-time 1 --measurement-time 3`

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hsts::{HstsStore, Upgrade};
use url::Url;

fn urls() -> Vec<String> {
    let from_workload = std::env::var_os("HOME").and_then(|home| {
        let path = std::path::Path::new(&home).join(".cache/hsts-bench/workload/hosts.txt");
        std::fs::read_to_string(path).ok()
    });
    let hosts: Vec<String> = match from_workload {
        Some(text) => text.lines().map(str::to_owned).collect(),
        None => {
            eprintln!("no workload file: generated hosts");
            (0..100_000)
                .map(|i| format!("h{i}.site{}.example", i % 977))
                .collect()
        }
    };
    hosts.iter().map(|h| format!("http://{h}/")).collect()
}

fn bench(c: &mut Criterion) {
    let urls = urls();
    let store = HstsStore::new();
    let now = chrono::Utc::now();
    let mut g = c.benchmark_group("url_cost_100k");
    g.throughput(Throughput::Elements(urls.len() as u64));
    g.sample_size(10);
    let mut sink = Vec::with_capacity(64 << 20);
    g.bench_function("parse_serialise", |b| {
        b.iter(|| {
            sink.clear();
            for u in &urls {
                if let Ok(url) = Url::parse(u) {
                    let _ = sink.write_all(url.as_str().as_bytes());
                    sink.push(b'\n');
                }
            }
            sink.len()
        })
    });
    g.bench_function("parse_upgrade_text_serialise", |b| {
        b.iter(|| {
            sink.clear();
            for u in &urls {
                if let Ok(url) = Url::parse(u) {
                    let _ = store.upgrade_text_at(&url, now).write_to(&mut sink);
                    sink.push(b'\n');
                }
            }
            sink.len()
        })
    });
    g.bench_function("parse_upgrade_serialise", |b| {
        b.iter(|| {
            sink.clear();
            for u in &urls {
                if let Ok(url) = Url::parse(u) {
                    match store.upgrade_at(&url, now) {
                        Upgrade::Upgraded(up) => sink.write_all(up.as_str().as_bytes()),
                        _ => sink.write_all(url.as_str().as_bytes()),
                    }
                    .ok();
                    sink.push(b'\n');
                }
            }
            sink.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
