//! The dynamic store at scale: save and load of 10k, 100k and 1M entries,
//! lookups at 1M entries, and bytes per entry in memory and on disk.
//!
//! cargo bench --bench store -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hsts::internal::StoreInternals;
use hsts::persist;
use hsts::{CanonicalHost, Entry, HstsStore, PreloadSource, StoreConfig};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

fn config() -> StoreConfig {
    StoreConfig {
        preload: PreloadSource::Off,
        capacity: 2_000_000,
        per_site_quota: 2_000_000,
        ..StoreConfig::default()
    }
}

fn host(i: usize) -> String {
    format!("www{}.site{}.example", i % 7, i)
}

fn build(n: usize) -> HstsStore {
    let mut s = HstsStore::with_config(config());
    for i in 0..n {
        s.insert_entry(Entry {
            host: host(i),
            include_subdomains: i % 3 == 0,
            observed: t0(),
            expires: t0() + Duration::days(365),
        })
        .unwrap();
    }
    s
}

/// Resident memory in bytes, from /proc/self/statm.
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn store_benches(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("hsts-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Parse the built-in Public Suffix List first, so that its few MB are
    // not counted against the first store measured.
    let _ = hsts::SuffixList::builtin().site("warm.example");
    let mut g = c.benchmark_group("store_file");
    g.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let before = rss();
        let store = build(n);
        let after = rss();
        let names: usize = store.iter().map(|e| e.host.len()).sum();
        let bytes = persist::encode(&store, t0());
        if let (Some(b), Some(a)) = (before, after) {
            eprintln!(
                "{n} entries: resident memory {:.1} B/entry beyond the name ({:.1} B/entry in all, names average {:.1} B); heap held by the store {:.1} B/entry beyond the name; on disk {:.1} B/entry",
                (a.saturating_sub(b) as f64 - names as f64) / n as f64,
                a.saturating_sub(b) as f64 / n as f64,
                names as f64 / n as f64,
                (store.heap_bytes() as f64 - names as f64) / n as f64,
                bytes.len() as f64 / n as f64
            );
        }
        let path = dir.join(format!("store-{n}.bin"));
        // A first save: no file yet, so nothing to merge with.
        g.bench_with_input(BenchmarkId::new("save_new_file", n), &store, |b, s| {
            b.iter(|| {
                let _ = std::fs::remove_file(&path);
                persist::save(s, &path, t0()).unwrap()
            })
        });
        // The usual save: the file holds what this process loaded, and every
        // record of it is merged with the store under the lock.
        g.bench_with_input(BenchmarkId::new("save_merging", n), &store, |b, s| {
            b.iter(|| persist::save(s, &path, t0()).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("load", n), &path, |b, p| {
            b.iter(|| black_box(persist::load(p, config()).unwrap().len()))
        });
        let before = rss();
        let loaded = persist::load(&path, config()).unwrap();
        let after = rss();
        if let (Some(b), Some(a)) = (before, after) {
            eprintln!(
                "{n} entries loaded from the file: resident memory {:.1} B/entry beyond the name; heap held by the store {:.1} B/entry beyond the name",
                (a.saturating_sub(b) as f64 - names as f64) / n as f64,
                (loaded.heap_bytes() as f64 - names as f64) / n as f64,
            );
        }
        drop(loaded);
    }
    g.finish();

    let store = build(1_000_000);
    let probes: Vec<CanonicalHost> = (0..1000)
        .map(|i| CanonicalHost::new(&host(i * 997)).unwrap())
        .collect();
    let misses: Vec<CanonicalHost> = (0..1000)
        .map(|i| CanonicalHost::new(&format!("a.b.miss{i}.example")).unwrap())
        .collect();
    let now = t0();
    let mut g = c.benchmark_group("store_lookup_1m");
    let mut i = 0;
    g.bench_function("hit_canonical", |b| {
        b.iter(|| {
            i = (i + 1) % probes.len();
            black_box(store.lookup_canonical_at(&probes[i], now).is_some())
        })
    });
    let mut j = 0;
    g.bench_function("miss_4_labels_canonical", |b| {
        b.iter(|| {
            j = (j + 1) % misses.len();
            black_box(store.lookup_canonical_at(&misses[j], now).is_some())
        })
    });
    let strs: Vec<String> = probes.iter().map(|h| h.to_string()).collect();
    let mut k = 0;
    g.bench_function("hit_from_str_with_canonicalisation", |b| {
        b.iter(|| {
            k = (k + 1) % strs.len();
            black_box(store.lookup_at(&strs[k], now).unwrap().is_some())
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, store_benches);
criterion_main!(benches);
