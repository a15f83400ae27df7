//! The shared handle: do reads run side by side? Lookups from 1 and 2
//! threads at once; the time per lookup should not double with 2.
//!
//! cargo bench --bench shared -- --warm-up-time 1 --measurement-time 3

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hsts::shared::SharedHstsStore;
use hsts::{HstsStore, Transport};
use url::Url;

fn shared(c: &mut Criterion) {
    let store = SharedHstsStore::new(HstsStore::new());
    for i in 0..1000 {
        let url = Url::parse(&format!("https://h{i}.example/")).unwrap();
        store.note(&url, ["max-age=600; includeSubDomains"], Transport::Secure);
    }
    let urls: Vec<Url> = (0..1000)
        .map(|i| Url::parse(&format!("http://www.h{i}.example/path")).unwrap())
        .collect();
    let mut g = c.benchmark_group("shared_upgrade");
    for threads in [1usize, 2] {
        // Each iteration is one upgrade on every thread at once; the time is
        // wall-clock per iteration, so equal times mean no serialisation.
        g.bench_with_input(
            BenchmarkId::new("threads", threads),
            &threads,
            |b, &threads| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    std::thread::scope(|s| {
                        for t in 0..threads {
                            let (store, urls) = (&store, &urls);
                            s.spawn(move || {
                                for i in 0..iters as usize {
                                    black_box(
                                        store
                                            .upgrade(&urls[(i + t * 7) % urls.len()])
                                            .is_upgraded(),
                                    );
                                }
                            });
                        }
                    });
                    start.elapsed().max(Duration::from_nanos(1))
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, shared);
criterion_main!(benches);
