//! The dynamic store at scale: save and load of 10k, 100k and 1M entries,
//! lookups at 1M entries, and bytes per entry in memory and on disk; and at
//! 100k entries, lookups in a plain store, a partitioned one (entries over
//! 1,000 partitions, looked up as subresources of a page) and one with
//! hashed hosts, with the heap each holds per entry.
//!
//! cargo bench --bench store -- --warm-up-time 1 --measurement-time 3
//! cargo bench --bench store -- --warm-up-time 1 --measurement-time 3 store_lookup_100k

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hsts::internal::StoreInternals;
use hsts::persist;
use hsts::{
    CanonicalHost, Entry, HstsStore, PreloadSource, RequestContext, StoreConfig, Transport,
};
use url::Url;

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
    fill(HstsStore::with_config(config()), n)
}

/// `store` with the entries of `build(n)` inserted.
fn fill(mut s: HstsStore, n: usize) -> HstsStore {
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

/// Partitions of the partitioned store.
const PARTITIONS: usize = 1_000;

/// The top-level page whose partition holds entry `i` of the partitioned
/// store.
fn page(i: usize) -> Url {
    Url::parse(&format!("https://www.page{}.example/", i % PARTITIONS)).unwrap()
}

/// The entries of `build(n)`, each noted as a subresource of `page(i)` in
/// a partitioned store: spread over 1,000 partitions.
fn build_partitioned(n: usize) -> HstsStore {
    let mut s = HstsStore::with_config(StoreConfig {
        partition: true,
        ..config()
    });
    for i in 0..n {
        let ctx = RequestContext::subresource_of(&page(i)).unwrap();
        let url = Url::parse(&format!("https://{}/", host(i))).unwrap();
        let value = if i % 3 == 0 {
            "max-age=31536000; includeSubDomains"
        } else {
            "max-age=31536000"
        };
        s.in_context(&ctx)
            .note_at(&url, [value], Transport::Secure, t0());
    }
    assert_eq!(s.partition_count(), PARTITIONS.min(n));
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

/// Lookups at 100k entries from a host string (canonicalised each time):
/// a plain store, a partitioned one and a hashed one, each hitting an
/// entry and missing (a name of four labels, none of them stored). The
/// plain and hashed stores are asked context-free (a navigation); in the
/// partitioned store a lookup is a subresource of a page whose partition
/// holds the entry, and `miss_other_partition` asks for a stored host from
/// the page of another partition.
fn lookup_100k_benches(c: &mut Criterion) {
    const N: usize = 100_000;
    let _ = hsts::SuffixList::builtin().site("warm.example");
    let now = t0();
    let hits: Vec<usize> = (0..1000).map(|i| (i * 97) % N).collect();
    let hit_names: Vec<String> = hits.iter().map(|&i| host(i)).collect();
    let miss_names: Vec<String> = (0..1000).map(|i| format!("a.b.miss{i}.example")).collect();
    let own_page: Vec<RequestContext> = hits
        .iter()
        .map(|&i| RequestContext::subresource_of(&page(i)).unwrap())
        .collect();
    let other_page: Vec<RequestContext> = hits
        .iter()
        .map(|&i| RequestContext::subresource_of(&page(i + 1)).unwrap())
        .collect();

    let plain = build(N);
    let mut partitioned = build_partitioned(N);
    let hashed = fill(HstsStore::hashed(config()).unwrap(), N);
    for (what, s) in [
        ("plain", &plain),
        ("partitioned over 1,000 partitions", &partitioned),
        ("hashed", &hashed),
    ] {
        let keys: usize = s.iter().map(|e| e.host.len()).sum();
        let names: usize = (0..N).map(|i| host(i).len()).sum();
        eprintln!(
            "{N} entries, {what}: heap held by the store {:.1} B/entry beyond the name ({:.1} B/entry in all; names average {:.1} B, keys {:.1} B)",
            (s.heap_bytes() as f64 - names as f64) / N as f64,
            s.heap_bytes() as f64 / N as f64,
            names as f64 / N as f64,
            keys as f64 / N as f64,
        );
    }
    for (i, name) in hit_names.iter().enumerate() {
        assert!(plain.lookup_at(name, now).unwrap().is_some());
        assert!(hashed.lookup_at(name, now).unwrap().is_some());
        let p = partitioned.in_context(&own_page[i]);
        assert!(p.lookup_at(name, now).unwrap().is_some());
        let p = partitioned.in_context(&other_page[i]);
        assert!(p.lookup_at(name, now).unwrap().is_none());
        assert!(plain.lookup_at(&miss_names[i], now).unwrap().is_none());
    }

    let mut g = c.benchmark_group("store_lookup_100k");
    for (what, names) in [("hit", &hit_names), ("miss_4_labels", &miss_names)] {
        let mut i = 0;
        g.bench_function(format!("plain_{what}"), |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                black_box(plain.lookup_at(&names[i], now).unwrap().is_some())
            })
        });
        let mut i = 0;
        g.bench_function(format!("partitioned_{what}"), |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                let s = partitioned.in_context(&own_page[i]);
                black_box(s.lookup_at(&names[i], now).unwrap().is_some())
            })
        });
        let mut i = 0;
        g.bench_function(format!("hashed_{what}"), |b| {
            b.iter(|| {
                i = (i + 1) % names.len();
                black_box(hashed.lookup_at(&names[i], now).unwrap().is_some())
            })
        });
    }
    let mut i = 0;
    g.bench_function("partitioned_miss_other_partition", |b| {
        b.iter(|| {
            i = (i + 1) % hit_names.len();
            let s = partitioned.in_context(&other_page[i]);
            black_box(s.lookup_at(&hit_names[i], now).unwrap().is_some())
        })
    });
    g.finish();
}

criterion_group!(benches, lookup_100k_benches, store_benches);
criterion_main!(benches);
