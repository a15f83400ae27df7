//! The shared handle: do reads run side by side? Upgrades from 1 and 2
//! threads at once through `SharedHstsStore` (a sharded lock), against the same
//! store with no lock at all (what the machine allows) and behind a `Mutex`
//! (what serialised reads look like). Each iteration is one upgrade on every
//! thread at once and is timed by the wall clock: equal times for 1 and 2
//! threads mean no serialisation; double means the threads took turns.
//!
//! cargo bench --bench shared -- --warm-up-time 1 --measurement-time 4

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hsts::SharedHstsStore;
use hsts::{HstsStore, Transport};
use url::Url;

/// One way to upgrade a URL, shared by the threads.
type Upgrader<'a> = &'a (dyn Fn(&Url) -> bool + Sync);

/// Times `iters` calls of `upgrade` on each of `threads` threads at once.
fn run(threads: usize, iters: u64, urls: &[Url], upgrade: Upgrader) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                for i in 0..iters as usize {
                    black_box(upgrade(&urls[(i + t * 7) % urls.len()]));
                }
            });
        }
    });
    start.elapsed().max(Duration::from_nanos(1))
}

fn shared(c: &mut Criterion) {
    let store = SharedHstsStore::new(HstsStore::new());
    for i in 0..1000 {
        let url = Url::parse(&format!("https://h{i}.example/")).unwrap();
        store.note(&url, ["max-age=600; includeSubDomains"], Transport::Secure);
    }
    let urls: Vec<Url> = (0..1000)
        .map(|i| Url::parse(&format!("http://www.h{i}.example/path")).unwrap())
        .collect();
    let bare = store.read(HstsStore::clone);
    let locked = Mutex::new(bare.clone());

    let variants: [(&str, Upgrader); 3] = [
        ("shared_upgrade", &|u| store.upgrade(u).is_upgraded()),
        ("no_lock_upgrade", &|u| bare.upgrade(u).is_upgraded()),
        ("mutex_upgrade", &|u| {
            locked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .upgrade(u)
                .is_upgraded()
        }),
    ];
    for (name, upgrade) in variants {
        let mut g = c.benchmark_group(name);
        for threads in [1usize, 2] {
            g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &n| {
                b.iter_custom(|iters| run(n, iters, &urls, upgrade))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, shared);
criterion_main!(benches);
